"""Okta's OAuth device authorization and web-SSO token exchange: sign-in approved in a browser.

For orgs whose policies need what a CLI cannot answer (Okta FastPass, device assurance,
no password flows from non-browser clients). The admin's OIDC *native* app (grant types
Device Authorization, Token Exchange and Refresh Token) is ``oidc_client_id``:

1. ``POST /oauth2/v1/device/authorize`` (``client_id``, ``scope``) → a user code and the
   URL to approve it at, shown on the terminal with a QR code of the complete URL.
2. Poll ``POST /oauth2/v1/token`` (device-code grant) at Okta's ``interval`` until the
   user approves in any browser with whatever factor the org demands (``slow_down`` adds
   5 s; ``access_denied`` and ``expired_token`` end it; so does the ``expires_in`` deadline).
3. Exchange the device secret and ID token for a web-SSO token for the AWS app
   (``audience=urn:okta:apps:<app id from the app link>``).
4. ``GET /login/token/sso?token=…`` → the app's SAML form, as a session cookie would give.

The device secret and ID token are kept (:class:`GrantStore`: private files, per org, user
and client id) so that other AWS apps of the org are exchanged without a second approval,
until Okta refuses them or :data:`KEEP_FOR` passes; ``okenv logout`` revokes them.
Every value Okta returns is checked here, where it enters; no token is ever traced.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from okenv.config import OKTA_ID
from okenv.digest import sha256_hex
from okenv.errors import (
    AuthenticationError,
    ConfigError,
    Interrupted,
    NoInputError,
    OkenvError,
    OktaError,
)
from okenv.okta.http import OktaHttp
from okenv.okta.pages import has_saml_form
from okenv.prompt import Prompter, status
from okenv.store import PrivateStore
from okenv.text import printable
from okenv.urls import is_loopback, split

SCOPES = "openid okta.apps.sso offline_access device_sso"
BASIC_SCOPES = "openid okta.apps.sso"  # an app without device_sso: one approval per hour
EXCHANGE_SCOPE = "okta.apps.sso"
DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"  # noqa: S105 (a grant type, not a secret)
DEVICE_SECRET_TYPE = "urn:x-oath:params:oauth:token-type:device-secret"  # noqa: S105
ID_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:id_token"  # noqa: S105
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"  # noqa: S105
WEB_SSO_TOKEN_TYPE = "urn:okta:oauth:token-type:web_sso_token"  # noqa: S105

SLOW_DOWN_STEP = 5  # seconds added to the interval per slow_down (RFC 8628 §3.5)
DEFAULT_INTERVAL = 5  # seconds, when Okta names none (RFC 8628 §3.2)
MAX_INTERVAL = 300
MAX_EXPIRES_IN = 3600  # seconds: Okta's device codes live 10 minutes by default
KEEP_FOR = 12 * 3600.0  # seconds a device secret is kept at most (Okta may end it sooner)
EXPIRY_MARGIN = 60.0  # seconds: an access token about to expire is not worth exchanging
_USER_CODE = re.compile(r"[0-9A-Za-z][0-9A-Za-z-]{2,31}")
_TOKEN = re.compile(r"[\x21-\x7e]+")  # printable ASCII, no space

Trace = Callable[[str], None]
Sleep = Callable[[float], None]
Clock = Callable[[], float]
OpenUrl = Callable[[str], bool]  # True when a browser was started


# -- values from outside ------------------------------------------------------------------


def shown(text: str, limit: int = 300) -> str:
    """A server string as it may be shown to a person: control characters escaped, bounded."""
    return printable(text[:limit]).strip()


def app_id_of(app_url: str) -> str:
    """The ``0oa…`` app instance id in the AWS app's embed link (``/home/amazon_aws/<id>/272``)."""
    parts = [p for p in urlsplit(app_url).path.split("/") if p]
    if len(parts) >= 3 and parts[0] == "home" and OKTA_ID.fullmatch(parts[2]):
        return parts[2]
    raise ConfigError(
        f"cannot find the Okta app id in app_url {app_url!r}",
        hint='engine = "device" needs the AWS app\'s embed link: /home/amazon_aws/0oa…/272',
    )


def _string(data: Mapping[str, Any], name: str, limit: int, *, pattern: re.Pattern[str]) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not 0 < len(value) <= limit or not pattern.fullmatch(value):
        raise OktaError(f"Okta's answer has no usable {name}")
    return value


def _integer(data: Mapping[str, Any], name: str, low: int, high: int, default: int | None) -> int:
    value = data.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise OktaError(f"Okta's answer has an unusable {name} ({shown(repr(value), 40)})")
    return value


def _org_url(data: Mapping[str, Any], name: str, org_url: str) -> str:
    """A URL Okta returned, accepted only on the org's own origin (https, or loopback http)."""
    value = _string(data, name, 2048, pattern=_TOKEN)
    try:
        parts = split(value, f"Okta's {name}")  # read as the HTTP client reads it
    except ConfigError:
        parts = None
    org = urlsplit(org_url)
    secure = parts is not None and (
        parts.scheme == "https" or (parts.scheme == "http" and is_loopback(parts.hostname or ""))
    )
    if (
        parts is None
        or not secure
        or (parts.scheme, parts.netloc.lower())
        != (
            org.scheme,
            org.netloc.lower(),
        )
    ):
        raise OktaError(f"Okta's {name} is not on {org_url}; refusing to show or open it")
    return value


@dataclass(frozen=True)
class DeviceAuthorization:
    device_code: str
    user_code: str
    verification_uri: str
    verification_uri_complete: str | None
    expires_in: int
    interval: int

    def __repr__(self) -> str:  # the device code is a bearer secret while it lasts
        return f"DeviceAuthorization(user_code={self.user_code!r}, expires_in={self.expires_in})"


def parse_authorization(data: Mapping[str, Any], org_url: str) -> DeviceAuthorization:
    complete = None
    if data.get("verification_uri_complete") is not None:
        complete = _org_url(data, "verification_uri_complete", org_url)
    return DeviceAuthorization(
        device_code=_string(data, "device_code", 1024, pattern=_TOKEN),
        user_code=_string(data, "user_code", 32, pattern=_USER_CODE),
        verification_uri=_org_url(data, "verification_uri", org_url),
        verification_uri_complete=complete,
        expires_in=_integer(data, "expires_in", 1, MAX_EXPIRES_IN, None),
        interval=_integer(data, "interval", 1, MAX_INTERVAL, DEFAULT_INTERVAL),
    )


def id_token_claims(token: str) -> dict[str, Any]:
    """The payload of an ID token (a JWT), read but not verified: okenv got it over TLS
    from the org and only hands it back to the same org; Okta verifies it."""
    pieces = token.split(".")
    if len(pieces) != 3:
        raise OktaError("Okta's id_token is not a JWT")
    payload = pieces[1] + "=" * (-len(pieces[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload.encode("ascii")))
    except (ValueError, binascii.Error, UnicodeEncodeError):
        raise OktaError("Okta's id_token cannot be read") from None
    if not isinstance(claims, dict):
        raise OktaError("Okta's id_token cannot be read")
    return claims


@dataclass(frozen=True)
class KeptGrant:
    """An approval that can be exchanged again: the actor token (the device secret, or for
    an app without ``device_sso`` the access token) and the ID token minted with it."""

    org: str
    client_id: str
    username: str
    actor_token: str
    id_token: str
    expires_at: float
    actor_token_type: str = DEVICE_SECRET_TYPE

    def __repr__(self) -> str:  # never the tokens
        return f"KeptGrant(org={self.org!r}, client_id={self.client_id!r}, user={self.username!r})"

    def usable(self, now: float) -> bool:
        return self.expires_at > now


def parse_grant(data: Mapping[str, Any], org_url: str, client_id: str, now: float) -> KeptGrant:
    """The device-code grant's tokens, checked: an ID token of this org for this client,
    and the device secret that the ``device_sso`` scope gives (kept :data:`KEEP_FOR` at
    most) or, without it, the access token (kept for its own lifetime)."""
    access_token = _string(data, "access_token", 16384, pattern=_TOKEN)
    id_token = _string(data, "id_token", 16384, pattern=_TOKEN)
    if "device_secret" in data:
        actor = _string(data, "device_secret", 1024, pattern=_TOKEN)
        actor_type, expires_at = DEVICE_SECRET_TYPE, now + KEEP_FOR
    else:
        lifetime = _integer(data, "expires_in", 1, 86400, 3600)
        actor, actor_type = access_token, ACCESS_TOKEN_TYPE
        expires_at = now + min(lifetime - EXPIRY_MARGIN, KEEP_FOR)
    claims = id_token_claims(id_token)
    issuer = claims.get("iss")
    if not isinstance(issuer, str) or issuer.rstrip("/").lower() != org_url.rstrip("/").lower():
        raise OktaError("Okta's id_token was issued by another org; refusing it")
    audience = claims.get("aud")
    if audience != client_id and not (isinstance(audience, list) and client_id in audience):
        raise OktaError("Okta's id_token is not for this OIDC app; refusing it")
    username = claims.get("preferred_username") or claims.get("sub")
    if (
        not isinstance(username, str)
        or not 0 < len(username) <= 256
        or printable(username) != username
    ):
        raise OktaError("Okta's id_token names no usable user")
    return KeptGrant(org_url, client_id, username, actor, id_token, expires_at, actor_type)


# -- keeping approvals ----------------------------------------------------------------------


class GrantStore(Protocol):
    """Where approvals are kept between runs (private: they are bearer secrets)."""

    def load(self, org: str, client_id: str, username: str | None) -> KeptGrant | None:
        """The usable grant of ``username`` (None: of whoever approved last) or None."""

    def save(self, grant: KeptGrant) -> None: ...

    def forget(self, grant: KeptGrant) -> bool: ...

    def grants(self) -> list[KeptGrant]:
        """Every readable kept grant, expired ones included."""

    def lock(self, org: str, client_id: str) -> AbstractContextManager[None]:
        """Held while an approval is asked for and kept (one per org and client at a time)."""


GRANT_PREFIX = "device-"
GRANT_VERSION = 1


class FileGrantStore:
    """:class:`GrantStore` on okenv's private store (0600 documents in a 0700 directory,
    written atomically), one document per org, client id and user."""

    def __init__(self, files: PrivateStore | Path) -> None:
        self._files = files if isinstance(files, PrivateStore) else PrivateStore(files)

    @staticmethod
    def _prefix(org: str, client_id: str) -> str:
        return GRANT_PREFIX + sha256_hex(f"{org.rstrip('/').lower()}\0{client_id}".encode())[:12]

    def _key(self, org: str, client_id: str, username: str) -> str:
        user = sha256_hex(username.lower().encode())[:12]
        return f"{self._prefix(org, client_id)}-{user}"

    def load(
        self, org: str, client_id: str, username: str | None, now: float | None = None
    ) -> KeptGrant | None:
        moment = time.time() if now is None else now
        if username is not None:
            keys = [self._key(org, client_id, username)]
        else:
            keys = self._files.names(self._prefix(org, client_id))
        found = [g for g in (self._read(k) for k in keys) if g is not None]
        found = [
            g
            for g in found
            if g.org.rstrip("/").lower() == org.rstrip("/").lower()
            and g.client_id == client_id
            and (username is None or g.username.lower() == username.lower())
        ]
        for grant in found:
            if not grant.usable(moment):
                self.forget(grant)
        usable = [g for g in found if g.usable(moment)]
        return max(usable, key=lambda g: g.expires_at) if usable else None

    def save(self, grant: KeptGrant) -> None:
        self._files.write(
            self._key(grant.org, grant.client_id, grant.username),
            {
                "version": GRANT_VERSION,
                "org": grant.org,
                "client_id": grant.client_id,
                "username": grant.username,
                "actor_token": grant.actor_token,
                "actor_token_type": grant.actor_token_type,
                "id_token": grant.id_token,
                "expires_at": grant.expires_at,
            },
        )

    def forget(self, grant: KeptGrant) -> bool:
        return self._files.remove(self._key(grant.org, grant.client_id, grant.username))

    def grants(self) -> list[KeptGrant]:
        return [
            g for g in (self._read(k) for k in self._files.names(GRANT_PREFIX)) if g is not None
        ]

    @contextmanager
    def lock(self, org: str, client_id: str, timeout: float = 900.0) -> Iterator[None]:
        """One approval per org and client at a time: a second okenv waits for the first
        one's approval and then exchanges it instead of asking again."""
        with self._files.lock(self._prefix(org, client_id), timeout=timeout):
            yield

    def _read(self, key: str) -> KeptGrant | None:
        document = self._files.read(key)
        if document is None or document.get("version") != GRANT_VERSION:
            return None
        try:
            grant = KeptGrant(
                org=str(document["org"]),
                client_id=str(document["client_id"]),
                username=str(document["username"]),
                actor_token=str(document["actor_token"]),
                id_token=str(document["id_token"]),
                expires_at=float(document["expires_at"]),
                actor_token_type=str(document["actor_token_type"]),
            )
        except (KeyError, TypeError, ValueError):
            return None
        usable = grant.actor_token_type in (DEVICE_SECRET_TYPE, ACCESS_TOKEN_TYPE)
        return grant if usable and grant.actor_token and grant.id_token else None


def default_store(
    environ: Mapping[str, str] | None = None, warn: Callable[[str], None] | None = None
) -> FileGrantStore:
    """The store in okenv's cache dir (``<cache dir>/okta``, beside the Okta sessions)."""
    from okenv.paths import cache_dir

    root = cache_dir(environ)
    return FileGrantStore(PrivateStore(root / "okta", warn, inside=root))


# -- HTTP ----------------------------------------------------------------------------------


class OAuthError(OktaError):
    """Okta's OAuth error answer: ``error`` and ``error_description``."""

    def __init__(self, error: str, description: str, status: int) -> None:
        text = f"{error}: {description}" if description else error
        super().__init__(f"Okta refused the request ({text})")
        self.error = error
        self.description = description
        self.status = status


class RateLimited(OktaError):
    """HTTP 429 without an OAuth error body (while polling: one more ``slow_down``)."""


def post_form(
    http: OktaHttp, path: str, form: Mapping[str, str], trace: Trace | None = None
) -> dict[str, Any]:
    """POST a form to the org's OAuth endpoint (deadline, size cap and redirects as
    :class:`OktaHttp` keeps them); the JSON object of a 2xx answer (none counts as ``{}``),
    else :class:`OAuthError` with Okta's words, or :class:`RateLimited`."""
    status_code, data = http.post_form(path, form)
    error = data.get("error") if data is not None else None
    if trace is not None and isinstance(error, str):
        trace(f"POST {path}: {shown(error, 40)}")
    if 200 <= status_code < 300:
        return data or {}
    if data is not None and isinstance(error, str):
        description = data.get("error_description")
        words = shown(description) if isinstance(description, str) else ""
        raise OAuthError(shown(error, 60), words, status_code)
    if status_code == 429:
        raise RateLimited("Okta's rate limit was hit", hint="wait a minute before trying again")
    raise OktaError(f"Okta answered HTTP {status_code} to {path}")


# -- the steps -------------------------------------------------------------------------------


def authorize(http: OktaHttp, client_id: str, trace: Trace | None = None) -> DeviceAuthorization:
    """Start a device authorization. An app that does not grant ``offline_access`` and
    ``device_sso`` (okta-aws-cli's setup) is asked again for the basic scopes."""
    path = "/oauth2/v1/device/authorize"
    try:
        try:
            data = post_form(http, path, {"client_id": client_id, "scope": SCOPES}, trace)
        except OAuthError as exc:
            if exc.error != "invalid_scope":
                raise
            if trace is not None:
                trace("the OIDC app does not grant device_sso; asking for the basic scopes")
            data = post_form(http, path, {"client_id": client_id, "scope": BASIC_SCOPES}, trace)
    except OAuthError as exc:
        raise _setup_error(exc, client_id) from None
    return parse_authorization(data, http.org_url)


def _setup_error(exc: OAuthError, client_id: str) -> OkenvError:
    if exc.error in ("invalid_client", "unauthorized_client", "invalid_scope"):
        return OktaError(
            f"Okta refused device authorization for the OIDC app {client_id} "
            f"({exc.error}: {exc.description})",
            hint="the app must be a native OIDC app with the grant types Device Authorization, "
            "Token Exchange and Refresh Token, assigned to you; see README, "
            '"Orgs that require a browser"',
        )
    return exc


def wait_for_approval(
    http: OktaHttp,
    client_id: str,
    auth: DeviceAuthorization,
    *,
    prompter: Prompter,
    sleep: Sleep = time.sleep,
    clock: Clock = time.monotonic,
    trace: Trace | None = None,
) -> dict[str, Any]:
    """Poll the token endpoint at Okta's interval until the user answers; the token answer.

    ``authorization_pending`` waits one interval more, ``slow_down`` five seconds more for
    this and every later poll; ``access_denied`` and ``expired_token`` (or the
    ``expires_in`` deadline) end it with Okta's words (exit 3); Ctrl-C ends it (130).
    """
    deadline = clock() + auth.expires_in
    interval = float(auth.interval)
    form = {
        "grant_type": DEVICE_CODE_GRANT,
        "device_code": auth.device_code,
        "client_id": client_id,
    }
    try:
        with status(prompter, f"waiting for the approval of code {auth.user_code}…"):
            while True:
                if clock() + interval > deadline:
                    raise AuthenticationError(
                        f"the code {auth.user_code} expired before it was approved",
                        hint="run okenv again for a new code",
                    )
                sleep(interval)
                try:
                    return post_form(http, "/oauth2/v1/token", form, trace)
                except OAuthError as exc:
                    if exc.error == "authorization_pending":
                        continue
                    if exc.error == "slow_down":
                        interval += SLOW_DOWN_STEP
                        continue
                    raise _poll_error(exc, auth) from None
                except RateLimited:
                    interval += SLOW_DOWN_STEP
    except KeyboardInterrupt:
        raise Interrupted("interrupted; the code was not approved") from None


def _poll_error(exc: OAuthError, auth: DeviceAuthorization) -> OkenvError:
    words = f" (Okta: {exc.description})" if exc.description else ""
    if exc.error == "access_denied":
        return AuthenticationError(
            f"the sign-in with code {auth.user_code} was denied{words}",
            hint="approve it in the browser, or ask your Okta admin whether you may use the app",
        )
    if exc.error in ("expired_token", "invalid_grant"):
        return AuthenticationError(
            f"the code {auth.user_code} expired before it was approved{words}",
            hint="run okenv again for a new code",
        )
    return exc


def exchange(http: OktaHttp, grant: KeptGrant, app_id: str, trace: Trace | None = None) -> str:
    """A web-SSO token for the AWS app ``app_id`` from a kept approval."""
    data = post_form(
        http,
        "/oauth2/v1/token",
        {
            "client_id": grant.client_id,
            "grant_type": TOKEN_EXCHANGE_GRANT,
            "actor_token": grant.actor_token,
            "actor_token_type": grant.actor_token_type,
            "subject_token": grant.id_token,
            "subject_token_type": ID_TOKEN_TYPE,
            "requested_token_type": WEB_SSO_TOKEN_TYPE,
            "audience": f"urn:okta:apps:{app_id}",
            "scope": EXCHANGE_SCOPE,
        },
        trace,
    )
    if data.get("issued_token_type") != WEB_SSO_TOKEN_TYPE:
        raise OktaError("Okta's token exchange did not issue a web SSO token")
    return _string(data, "access_token", 4096, pattern=_TOKEN)


def open_sso(http: OktaHttp, web_sso_token: str) -> Any:
    """``/login/token/sso?token=…``: the AWS app's SAML form page (BeautifulSoup)."""
    page = http.open_page("/login/token/sso", params={"token": web_sso_token})
    if not has_saml_form(page):
        raise OktaError(
            "Okta did not answer the web SSO token with the AWS app's SAML form",
            hint="check that app_url is the AWS app's embed link and that you are assigned to it",
        )
    return page


def revoke(http: OktaHttp, grant: KeptGrant, trace: Trace | None = None) -> None:
    """End the approval at Okta (the device secret and what was minted with it)."""
    post_form(
        http,
        "/oauth2/v1/revoke",
        {
            "client_id": grant.client_id,
            "token": grant.actor_token,
            "token_type_hint": (
                "device_secret" if grant.actor_token_type == DEVICE_SECRET_TYPE else "access_token"
            ),
        },
        trace,
    )


# -- the terminal ---------------------------------------------------------------------------


def qr_lines(text: str) -> list[str]:
    """A QR code of ``text`` in half blocks, two modules per character row. Light modules
    are drawn (a terminal's background is usually dark), with a two-module quiet zone."""
    import segno

    rows = [list(row) for row in segno.make(text, error="l", micro=False).matrix_iter(border=2)]
    if len(rows) % 2:
        rows.append([0] * len(rows[0]))
    glyphs = {(False, False): "█", (False, True): "▀", (True, False): "▄", (True, True): " "}
    return [
        "".join(glyphs[bool(top), bool(bottom)] for top, bottom in zip(upper, lower, strict=True))
        for upper, lower in zip(rows[::2], rows[1::2], strict=True)
    ]


def show(
    prompter: Prompter, auth: DeviceAuthorization, *, qr: bool = True, opened: bool = False
) -> None:
    """The URL and the user code, prominently, and a QR code of the complete URL."""
    minutes = max(1, auth.expires_in // 60)
    lines = [
        "",
        "okenv: approve this sign-in in a browser (this machine's or your phone's):",
        "",
        f"    open   {auth.verification_uri}",
        f"    code   {auth.user_code}",
        "",
    ]
    target = auth.verification_uri_complete
    if target is not None and qr:
        lines += ["  or scan (the code is filled in):", ""]
        lines += ["  " + line for line in qr_lines(target)]
        lines.append("")
    if opened:
        lines.append("okenv: opened it in this machine's browser")
    lines.append(f"okenv: the code is valid for {minutes} minute{'s' if minutes != 1 else ''}")
    for line in lines:  # one by one: a prompter shows each message as one line
        prompter.info(line)


# -- the whole sign-in ----------------------------------------------------------------------


def sign_in(
    http: OktaHttp,
    *,
    client_id: str,
    app_url: str,
    username: str | None,
    prompter: Prompter,
    store: GrantStore | None,
    open_url: OpenUrl | None = None,
    sleep: Sleep = time.sleep,
    clock: Clock = time.monotonic,
    trace: Trace | None = None,
) -> Any:
    """The AWS app's SAML form page for ``app_url``, through a kept approval when there is
    one that Okta still accepts, else through a new device authorization."""
    app_id = app_id_of(app_url)
    lock = store.lock(http.org_url, client_id) if store is not None else nullcontext()
    with lock:
        token = _kept_token(http, client_id, app_id, username, store, trace)
        if token is None:
            grant = _approve(http, client_id, username, prompter, open_url, sleep, clock, trace)
            if store is not None:
                store.save(grant)
                if trace is not None:
                    trace(f"kept the device approval of {grant.username}")
            try:
                token = exchange(http, grant, app_id, trace)
            except OAuthError as exc:
                raise _exchange_error(exc, app_id) from None
    return open_sso(http, token)


def _kept_token(
    http: OktaHttp,
    client_id: str,
    app_id: str,
    username: str | None,
    store: GrantStore | None,
    trace: Trace | None,
) -> str | None:
    """A web SSO token from the kept approval, or None when there is none Okta accepts."""
    kept = store.load(http.org_url, client_id, username) if store is not None else None
    if kept is None or store is None:
        return None
    try:
        token = exchange(http, kept, app_id, trace)
    except OAuthError as exc:
        if exc.error != "invalid_grant":
            raise _exchange_error(exc, app_id) from None
        if trace is not None:
            trace("Okta no longer accepts the kept device approval; forgetting it")
        store.forget(kept)
        return None
    if trace is not None:
        trace(f"exchanged the kept device approval of {kept.username}")
    return token


def _approve(
    http: OktaHttp,
    client_id: str,
    username: str | None,
    prompter: Prompter,
    open_url: OpenUrl | None,
    sleep: Sleep,
    clock: Clock,
    trace: Trace | None,
) -> KeptGrant:
    """A new device authorization, shown, polled until approved, and checked."""
    if not prompter.interactive:
        raise NoInputError(
            "signing in needs an approval in a browser, and there is no terminal to show "
            "the code on",
            hint="run `okenv login PROFILE` in a terminal first; other profiles of the org "
            "then work without one while the approval lasts",
        )
    auth = authorize(http, client_id, trace)
    opened = False
    if open_url is not None:
        opened = open_url(auth.verification_uri_complete or auth.verification_uri)
        if not opened:
            prompter.info("okenv: could not start a browser here; open the URL yourself")
    show(prompter, auth, opened=opened)
    data = wait_for_approval(
        http, client_id, auth, prompter=prompter, sleep=sleep, clock=clock, trace=trace
    )
    grant = parse_grant(data, http.org_url, client_id, time.time())
    if username is not None and grant.username.lower() != username.lower():
        raise AuthenticationError(
            f"the code was approved by {grant.username}, not by {username}",
            hint="approve it signed in as the profile's user, or change username in the config",
        )
    return grant


def _exchange_error(exc: OAuthError, app_id: str) -> OkenvError:
    words = f"{exc.error}: {exc.description}" if exc.description else exc.error
    if exc.error in ("access_denied", "invalid_target"):
        return OktaError(
            f"Okta will not sign you in to the AWS app {app_id} ({words})",
            hint="check that app_url is the AWS app's embed link and that you are assigned to "
            "it; the app's Sign On settings must name oidc_client_id as Allowed Web SSO Client",
        )
    if exc.error in ("unauthorized_client", "invalid_client", "invalid_scope"):
        return OktaError(
            f"Okta refused the web SSO token exchange ({words})",
            hint="the OIDC app needs the Token Exchange grant type and the okta.apps.sso "
            "scope granted; ask your Okta admin",
        )
    return OktaError(f"Okta refused the web SSO token exchange ({words})")


def logout(
    store: FileGrantStore,
    *,
    org: str | None = None,
    timeout: float = 10.0,
    warn: Callable[[str], None] | None = None,
    trace: Trace | None = None,
) -> int:
    """Revoke the kept approvals (all, or those of ``org``) at Okta and forget them;
    how many were forgotten. An Okta that cannot be reached is warned about."""
    forgotten = 0
    for grant in store.grants():
        if org is not None and grant.org.rstrip("/").lower() != org.rstrip("/").lower():
            continue
        if grant.usable(time.time()):
            try:
                revoke(OktaHttp(grant.org, timeout=timeout, trace=trace), grant, trace)
            except OkenvError as exc:
                if warn is not None:
                    warn(f"could not revoke the device approval at {grant.org}: {exc.message}")
        if store.forget(grant):
            forgotten += 1
    return forgotten
