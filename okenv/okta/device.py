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

The device secret and ID token are kept (:mod:`okenv.okta.grants`: private files, per org,
user and client id) so that other AWS apps of the org are exchanged without a second approval,
until Okta refuses them or :data:`KEEP_FOR` passes; ``okenv logout`` revokes them.
Every value Okta returns is checked where it enters (:mod:`okenv.okta.device_forms`); no
token is ever traced.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from contextlib import nullcontext
from typing import Any

from okenv import report
from okenv.errors import (
    AuthenticationError,
    Interrupted,
    NoInputError,
    OkenvError,
    OktaError,
)
from okenv.okta.device_forms import (
    BASIC_SCOPES,
    DEVICE_CODE_GRANT,
    DEVICE_SECRET_TYPE,
    EXCHANGE_SCOPE,
    ID_TOKEN_TYPE,
    SCOPES,
    TOKEN,
    TOKEN_EXCHANGE_GRANT,
    WEB_SSO_TOKEN_TYPE,
    DeviceAuthorization,
    KeptGrant,
    app_id_of,
    parse_authorization,
    parse_grant,
    shown,
    string,
)
from okenv.okta.grants import FileGrantStore, GrantStore, default_store
from okenv.okta.http import OktaHttp
from okenv.okta.pages import has_saml_form
from okenv.prompt import Prompter, status

__all__ = ["GrantStore", "OAuthError", "OpenUrl", "default_store", "logout", "sign_in"]

SLOW_DOWN_STEP = 5  # seconds added to the interval per slow_down (RFC 8628 §3.5)

Sleep = Callable[[float], None]
Clock = Callable[[], float]
OpenUrl = Callable[[str], bool]  # True when a browser was started


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


def post_form(http: OktaHttp, path: str, form: Mapping[str, str]) -> dict[str, Any]:
    """POST a form to the org's OAuth endpoint (deadline, size cap and redirects as
    :class:`OktaHttp` keeps them); the JSON object of a 2xx answer (none counts as ``{}``),
    else :class:`OAuthError` with Okta's words, or :class:`RateLimited`."""
    status_code, data = http.post_form(path, form)
    error = data.get("error") if data is not None else None
    if isinstance(error, str):
        report.trace(f"POST {path}: {shown(error, 40)}")
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


def authorize(http: OktaHttp, client_id: str) -> DeviceAuthorization:
    """Start a device authorization. An app that does not grant ``offline_access`` and
    ``device_sso`` (okta-aws-cli's setup) is asked again for the basic scopes."""
    path = "/oauth2/v1/device/authorize"
    try:
        try:
            data = post_form(http, path, {"client_id": client_id, "scope": SCOPES})
        except OAuthError as exc:
            if exc.error != "invalid_scope":
                raise
            report.trace("the OIDC app does not grant device_sso; asking for the basic scopes")
            data = post_form(http, path, {"client_id": client_id, "scope": BASIC_SCOPES})
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
                    return post_form(http, "/oauth2/v1/token", form)
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


def exchange(http: OktaHttp, grant: KeptGrant, app_id: str) -> str:
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
    )
    if data.get("issued_token_type") != WEB_SSO_TOKEN_TYPE:
        raise OktaError("Okta's token exchange did not issue a web SSO token")
    return string(data, "access_token", 4096, pattern=TOKEN)


def open_sso(http: OktaHttp, web_sso_token: str) -> Any:
    """``/login/token/sso?token=…``: the AWS app's SAML form page (BeautifulSoup)."""
    page = http.open_page("/login/token/sso", params={"token": web_sso_token})
    if not has_saml_form(page):
        raise OktaError(
            "Okta did not answer the web SSO token with the AWS app's SAML form",
            hint="check that app_url is the AWS app's embed link and that you are assigned to it",
        )
    return page


def revoke(http: OktaHttp, grant: KeptGrant) -> None:
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
    prompter.plain("")
    prompter.info("approve this sign-in in a browser (this machine's or your phone's):")
    lines = ["", f"    open   {auth.verification_uri}", f"    code   {auth.user_code}", ""]
    target = auth.verification_uri_complete
    if target is not None and qr:
        lines += ["  or scan (the code is filled in):", ""]
        lines += ["  " + line for line in qr_lines(target)]
        lines.append("")
    for line in lines:  # one by one: a prompter shows each message as one line
        prompter.plain(line)
    if opened:
        prompter.info("opened it in this machine's browser")
    prompter.info(f"the code is valid for {minutes} minute{'s' if minutes != 1 else ''}")


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
) -> Any:
    """The AWS app's SAML form page for ``app_url``, through a kept approval when there is
    one that Okta still accepts, else through a new device authorization."""
    app_id = app_id_of(app_url)
    lock = store.lock(http.org_url, client_id) if store is not None else nullcontext()
    with lock:
        token = _kept_token(http, client_id, app_id, username, store)
        if token is None:
            grant = _approve(http, client_id, username, prompter, open_url, sleep, clock)
            if store is not None:
                store.save(grant)
                report.trace(f"kept the device approval of {grant.username}")
            try:
                token = exchange(http, grant, app_id)
            except OAuthError as exc:
                raise _exchange_error(exc, app_id) from None
    return open_sso(http, token)


def _kept_token(
    http: OktaHttp,
    client_id: str,
    app_id: str,
    username: str | None,
    store: GrantStore | None,
) -> str | None:
    """A web SSO token from the kept approval, or None when there is none Okta accepts."""
    kept = store.load(http.org_url, client_id, username) if store is not None else None
    if kept is None or store is None:
        return None
    try:
        token = exchange(http, kept, app_id)
    except OAuthError as exc:
        if exc.error != "invalid_grant":
            raise _exchange_error(exc, app_id) from None
        report.trace("Okta no longer accepts the kept device approval; forgetting it")
        store.forget(kept)
        return None
    report.trace(f"exchanged the kept device approval of {kept.username}")
    return token


def _approve(
    http: OktaHttp,
    client_id: str,
    username: str | None,
    prompter: Prompter,
    open_url: OpenUrl | None,
    sleep: Sleep,
    clock: Clock,
) -> KeptGrant:
    """A new device authorization, shown, polled until approved, and checked."""
    if not prompter.interactive:
        raise NoInputError(
            "signing in needs an approval in a browser, and there is no terminal to show "
            "the code on",
            hint="run `okenv login PROFILE` in a terminal first; other profiles of the org "
            "then work without one while the approval lasts",
        )
    auth = authorize(http, client_id)
    opened = False
    if open_url is not None:
        opened = open_url(auth.verification_uri_complete or auth.verification_uri)
        if not opened:
            prompter.info("could not start a browser here; open the URL yourself")
    show(prompter, auth, opened=opened)
    data = wait_for_approval(http, client_id, auth, prompter=prompter, sleep=sleep, clock=clock)
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
) -> int:
    """Revoke the kept approvals (all, or those of ``org``) at Okta and forget them;
    how many were forgotten. An Okta that cannot be reached is warned about."""
    forgotten = 0
    for grant in store.grants():
        if org is not None and grant.org.rstrip("/").lower() != org.rstrip("/").lower():
            continue
        if grant.usable(time.time()):
            try:
                revoke(OktaHttp(grant.org, timeout=timeout), grant)
            except OkenvError as exc:
                report.warn(f"could not revoke the device approval at {grant.org}: {exc.message}")
        if store.forget(grant):
            forgotten += 1
    return forgotten
