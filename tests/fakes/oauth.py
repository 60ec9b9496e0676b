"""The fake org's OAuth 2.0 authorization server: device authorization and web-SSO exchange.

What a real Okta org does for an OIDC *native* app with the grant types Device
Authorization and Token Exchange (Okta developer docs: "Configure Device Authorization
Grant Flow", "Configure Native SSO"; RFC 8628, RFC 8693; the web-SSO token of
okta-aws-cli and gimme-aws-creds on Identity Engine):

* ``POST /oauth2/v1/device/authorize`` (``client_id``, ``scope``) → ``device_code``,
  ``user_code``, ``verification_uri`` (``/activate``), ``verification_uri_complete``,
  ``expires_in``, ``interval``.
* ``POST /oauth2/v1/token`` with the device-code grant: ``authorization_pending`` until the
  user answers, ``slow_down`` when polled faster than the interval (which then grows by
  5 s), ``access_denied``, ``expired_token``; then the tokens (``device_secret`` with the
  ``device_sso`` scope, ``refresh_token`` with ``offline_access``).
* ``POST /oauth2/v1/token`` with the token-exchange grant (device secret + ID token →
  ``web_sso_token`` for ``audience=urn:okta:apps:<app id>``): the app's "Allowed Web SSO
  Client" must be this client and the user assigned to the app; the ID token must have
  been issued to this client with this device secret (``device_sso`` gives one only
  together with ``offline_access``).
  Without ``device_sso`` the actor is the access token instead (okta-aws-cli's way), good
  for that token's hour.
* ``GET /login/token/sso?token=…`` → the SAML auto-submit form of the token's own app (a
  token is for one app and one use).
* ``POST /oauth2/v1/revoke`` (``token``, ``client_id``, optional ``token_type_hint``): a
  revoked device secret exchanges nothing more.

Every body is form-encoded and checked like Okta checks it: a missing or unknown parameter
is ``invalid_request`` in OAuth's error shape (``{"error", "error_description"}``). The
error codes are Okta's; the descriptions are modelled on its style, not copied from a
sample (none is published for most of them).

The user's browser is the test: ``approve(user_code)`` / ``deny(user_code)`` (or a POST to
the test-only ``/__test__/activate``). Mount it on a :class:`tests.fakes.okta.FakeOkta`::

    with FakeOkta() as okta:
        oauth = FakeAuthorizationServer(okta)      # adds the routes to the org
        ...
        oauth.approve(oauth.pending()[0].user_code)

Time is the org's clock (``okta.now()``; ``okta.advance()`` moves it), so a unit test whose
client "sleeps" by advancing the org's clock sees exactly the intervals it kept.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import string
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import parse_qs

from tests.fakes.http import Request, Response, empty_response, html_response, json_response
from tests.fakes.okta import _ERROR_PAGE, FakeOkta, FakeUser, okta_attr_escape

__all__ = [
    "DEFAULT_CLIENT_ID",
    "DEVICE_CODE_GRANT",
    "TOKEN_EXCHANGE_GRANT",
    "WEB_SSO_TOKEN_TYPE",
    "DeviceTransaction",
    "FakeAuthorizationServer",
    "FakeClient",
]

DEFAULT_CLIENT_ID = "0oadev1c3auth0r1z3d7"
DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"
DEVICE_SECRET_TYPE = "urn:x-oath:params:oauth:token-type:device-secret"
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"
ID_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:id_token"
WEB_SSO_TOKEN_TYPE = "urn:okta:oauth:token-type:web_sso_token"
ORG_SCOPES = frozenset(
    {"openid", "profile", "email", "offline_access", "device_sso"}
    | {"okta.apps.sso", "okta.apps.read", "okta.users.read.self"}
)
SLOW_DOWN_STEP = 5
FORM_TYPE = "application/x-www-form-urlencoded"
_USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"  # Okta's user codes: consonants, no vowels


def _rand(n: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(n))


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def oauth_error(error: str, description: str, status: int = 400) -> Response:
    """OAuth's error shape, as Okta sends it."""
    response = json_response({"error": error, "error_description": description}, status)
    response.headers.append(("Cache-Control", "no-store"))
    if status == 401:
        response.headers.append(("WWW-Authenticate", f'Bearer error="{error}"'))
    return response


@dataclass
class FakeClient:
    """An OIDC app of the org."""

    client_id: str = DEFAULT_CLIENT_ID
    grant_types: frozenset[str] = frozenset({DEVICE_CODE_GRANT, TOKEN_EXCHANGE_GRANT})
    scopes: frozenset[str] = ORG_SCOPES
    """The scopes granted to the app (okta.* ones on its "Okta API Scopes" tab)."""
    application_type: str = "native"


@dataclass
class DeviceTransaction:
    device_code: str
    user_code: str
    client_id: str
    scopes: tuple[str, ...]
    expires_at: float
    interval: int
    state: str = "pending"  # pending | approved | denied | redeemed
    user: FakeUser | None = None
    last_poll: float | None = None
    polls: int = 0
    slow_downs: int = 0
    poll_times: list[float] = field(default_factory=list)


@dataclass
class DeviceGrant:
    """What an approval left at the org: its access token, its device secret (with the
    ``device_sso`` scope) and the ID token minted with them."""

    access_token: str
    device_secret: str | None
    client_id: str
    user: FakeUser
    sid: str
    scopes: tuple[str, ...]
    access_expires_at: float
    revoked: bool = False


@dataclass
class WebSsoToken:
    app_id: str
    user: FakeUser
    expires_at: float
    used: bool = False


class FakeAuthorizationServer:
    """The org authorization server (``/oauth2/v1``), mounted on a :class:`FakeOkta`.

    Knobs (attributes, read per request): ``expires_in``, ``interval``, ``clients``,
    ``apps`` (app id → roles for its assertion; ``None`` = the org's ``roles``),
    ``assignments`` (username → app ids; a user missing here is assigned to every app),
    ``web_sso_lifetime``, ``slow_down_next``.
    """

    def __init__(
        self,
        okta: FakeOkta,
        *,
        clients: Sequence[FakeClient] | None = None,
        apps: Mapping[str, Sequence[tuple[str, str]] | None] | None = None,
        expires_in: int = 600,
        interval: int = 5,
        web_sso_lifetime: float = 300,
    ) -> None:
        self.okta = okta
        self.clients: dict[str, FakeClient] = {
            c.client_id: c for c in (clients if clients is not None else [FakeClient()])
        }
        self.apps: dict[str, Sequence[tuple[str, str]] | None] = (
            dict(apps) if apps is not None else {okta.app_instance: None}
        )
        self.assignments: dict[str, set[str]] = {}
        self.web_sso_clients: dict[str, str] = {}
        """App id → its "Allowed Web SSO Client" (Sign On tab); unset = the default client."""
        self.expires_in = expires_in
        self.interval = interval
        self.web_sso_lifetime = web_sso_lifetime
        self.slow_down_next = 0
        """Answer ``slow_down`` to this many pending polls however far apart (Okta under
        load); the interval grows by 5 s each time, as it does for a client polling too fast."""
        self._lock = threading.RLock()
        self.transactions: dict[str, DeviceTransaction] = {}
        self.grants: dict[str, DeviceGrant] = {}
        """Device secrets and access tokens handed out → their grant."""
        self.id_tokens: dict[str, DeviceGrant] = {}
        self.access_tokens: set[str] = set()
        self.refresh_tokens: set[str] = set()
        self.web_sso_tokens: dict[str, WebSsoToken] = {}
        self.revoked: list[str] = []
        self.exchanges: list[tuple[str, str]] = []
        """(client_id, audience) of every successful token exchange."""
        r = okta.add_route
        r("POST", r"/oauth2/v1/device/authorize", self._authorize)
        r("POST", r"/oauth2/v1/token", self._token)
        r("POST", r"/oauth2/v1/revoke", self._revoke)
        r("GET", r"/login/token/sso", self._token_sso)
        r("GET", r"/activate", self._activate_page)
        r("POST", r"/__test__/activate", self._test_activate)

    # ------------------------------------------------------------------ the user's side

    def pending(self) -> list[DeviceTransaction]:
        with self._lock:
            return [t for t in self.transactions.values() if t.state == "pending"]

    def transaction(self, user_code: str) -> DeviceTransaction:
        wanted = user_code.replace("-", "").upper()
        with self._lock:
            for tx in self.transactions.values():
                if tx.user_code.replace("-", "") == wanted:
                    return tx
        raise KeyError(user_code)

    def approve(self, user_code: str, username: str | None = None) -> None:
        """The user signs in at ``verification_uri`` (any factor) and allows the device."""
        tx = self.transaction(user_code)
        user = self.okta.user(username) if username else self.okta.users[0]
        with self._lock:
            tx.state, tx.user = "approved", user

    def deny(self, user_code: str) -> None:
        with self._lock:
            self.transaction(user_code).state = "denied"

    def assign(self, username: str, *app_ids: str) -> None:
        self.assignments[username.lower()] = set(app_ids)

    def is_assigned(self, user: FakeUser, app_id: str) -> bool:
        if app_id not in self.apps:
            return False
        assigned = self.assignments.get(user.username.lower())
        return assigned is None or app_id in assigned

    def _test_activate(self, request: Request) -> Response:
        form = _form(request)
        if isinstance(form, Response):
            return form
        try:
            if form.get("decision") == "deny":
                self.deny(form.get("user_code", ""))
            else:
                self.approve(form.get("user_code", ""), form.get("username"))
        except KeyError:
            return oauth_error("invalid_request", "Unknown user code.", 404)
        return empty_response(204)

    def _activate_page(self, request: Request) -> Response:
        code = okta_attr_escape(request.query.get("user_code", ""))
        return html_response(
            "<!DOCTYPE html><html><head><title>Activate your device</title></head>"
            f'<body><div id="okta-sign-in"><form><input name="userCode" value="{code}"/>'
            "</form></div></body></html>"
        )

    # ------------------------------------------------------------------ endpoints

    def _client(self, form: Mapping[str, str]) -> FakeClient | Response:
        client = self.clients.get(form.get("client_id", ""))
        if client is None:
            return oauth_error(
                "invalid_client", "Invalid value for 'client_id' parameter.", status=401
            )
        return client

    def _authorize(self, request: Request) -> Response:
        form = _form(request, required=("client_id", "scope"))
        if isinstance(form, Response):
            return form
        client = self._client(form)
        if isinstance(client, Response):
            return client
        if DEVICE_CODE_GRANT not in client.grant_types:
            return _unauthorized_client(client)
        scopes = tuple(form["scope"].split())
        if not scopes or any(s not in client.scopes for s in scopes):
            return oauth_error(
                "invalid_scope",
                "One or more scopes are not configured for the authorization server resource.",
            )
        if "openid" not in scopes:
            return oauth_error("invalid_scope", "The 'openid' scope is required.")
        if "device_sso" in scopes and TOKEN_EXCHANGE_GRANT not in client.grant_types:
            return oauth_error(
                "invalid_scope",
                "The 'device_sso' scope requires the token exchange grant type for the client.",
            )
        letters = _rand(8, _USER_CODE_ALPHABET)
        tx = DeviceTransaction(
            device_code=_rand(8, "0123456789abcdef")
            + "-"
            + _rand(4, "0123456789abcdef")
            + "-"
            + _rand(20, "0123456789abcdef"),
            user_code=letters,
            client_id=client.client_id,
            scopes=scopes,
            expires_at=self.okta.now() + self.expires_in,
            interval=self.interval,
        )
        with self._lock:
            self.transactions[tx.device_code] = tx
        base = self.okta.url
        return json_response(
            {
                "device_code": tx.device_code,
                "user_code": tx.user_code,
                "verification_uri": f"{base}/activate",
                "verification_uri_complete": f"{base}/activate?user_code={tx.user_code}",
                "expires_in": self.expires_in,
                "interval": tx.interval,
            }
        )

    def _token(self, request: Request) -> Response:
        form = _form(request)
        if isinstance(form, Response):
            return form
        grant = form.get("grant_type")
        if grant == DEVICE_CODE_GRANT:
            return self._poll(request)
        if grant == TOKEN_EXCHANGE_GRANT:
            return self._exchange(request)
        if not grant:
            return oauth_error(
                "invalid_request", "The request is missing a required parameter: 'grant_type'."
            )
        return oauth_error(
            "unsupported_grant_type", f"The authorization grant type is not supported: {grant}."
        )

    def _poll(self, request: Request) -> Response:
        form = _form(request, required=("grant_type", "device_code", "client_id"))
        if isinstance(form, Response):
            return form
        client = self._client(form)
        if isinstance(client, Response):
            return client
        now = self.okta.now()
        with self._lock:
            tx = self.transactions.get(form["device_code"])
            if tx is None or tx.client_id != client.client_id or tx.state == "redeemed":
                return oauth_error("invalid_grant", "The device code is invalid or has expired.")
            tx.polls += 1
            tx.poll_times.append(now)
            too_fast = tx.last_poll is not None and now - tx.last_poll < tx.interval
            if self.slow_down_next > 0 and tx.state == "pending":
                self.slow_down_next -= 1
                too_fast = True
            tx.last_poll = now
            if now >= tx.expires_at:
                return oauth_error("expired_token", "The device code has expired.")
            if tx.state == "denied":
                return oauth_error(
                    "access_denied",
                    "The resource owner or authorization server denied the request.",
                )
            if too_fast:
                tx.slow_downs += 1
                tx.interval += SLOW_DOWN_STEP
                return oauth_error(
                    "slow_down",
                    "The client is polling too frequently. Please slow down and try again.",
                )
            if tx.state == "pending" or tx.user is None:
                return oauth_error(
                    "authorization_pending",
                    "The device authorization is pending. Please try again later.",
                )
            tx.state = "redeemed"
            return json_response(self._issue(client, tx.user, tx.scopes))

    def _issue(
        self, client: FakeClient, user: FakeUser, scopes: tuple[str, ...]
    ) -> dict[str, object]:
        access_token = self._jwt({"sub": user.user_id, "cid": client.client_id})
        body: dict[str, object] = {
            "token_type": "Bearer",
            "expires_in": 3600,
            "access_token": access_token,
            "scope": " ".join(scopes),
        }
        self.access_tokens.add(access_token)
        sid = "102" + _rand(22)
        secret = None
        if "device_sso" in scopes and "offline_access" in scopes:  # both, or no secret
            secret = _b64url(secrets.token_bytes(32)) + "="
            body["device_secret"] = secret
        grant = DeviceGrant(
            access_token, secret, client.client_id, user, sid, scopes, self.okta.now() + 3600
        )
        self.grants[access_token] = grant
        if secret is not None:
            self.grants[secret] = grant
        if "offline_access" in scopes:
            body["refresh_token"] = _rand(43)
            self.refresh_tokens.add(str(body["refresh_token"]))
        claims: dict[str, object] = {
            "sub": user.user_id,
            "name": f"{user.first_name} {user.last_name}",
            "preferred_username": user.username,
            "aud": client.client_id,
            "sid": sid,
            "amr": ["pwd", "mfa", "okta_verify"],
        }
        if secret is not None:
            claims["ds_hash"] = _b64url(hashlib.sha256(secret.encode()).digest()[:16])
        id_token = self._jwt(claims)
        body["id_token"] = id_token
        self.id_tokens[id_token] = grant
        return body

    def _jwt(self, claims: Mapping[str, object]) -> str:
        now = int(self.okta.now())
        header = {"kid": "fake-" + _rand(8), "alg": "RS256"}
        payload = {
            "ver": 1,
            "jti": "ID." + _rand(40),
            "iss": self.okta.url,
            "iat": now,
            "exp": now + 3600,
            "auth_time": now,
            **claims,
        }
        parts = [json.dumps(header).encode(), json.dumps(payload).encode(), secrets.token_bytes(64)]
        return ".".join(_b64url(p) for p in parts)

    def _exchange(self, request: Request) -> Response:
        names = (
            "client_id",
            "grant_type",
            "actor_token",
            "actor_token_type",
            "subject_token",
            "subject_token_type",
            "requested_token_type",
            "audience",
            "scope",
        )
        form = _form(request, required=names)
        if isinstance(form, Response):
            return form
        client = self._client(form)
        if isinstance(client, Response):
            return client
        if TOKEN_EXCHANGE_GRANT not in client.grant_types:
            return _unauthorized_client(client)
        actor_type = form["actor_token_type"]
        if actor_type not in (DEVICE_SECRET_TYPE, ACCESS_TOKEN_TYPE):
            return oauth_error("invalid_request", "The 'actor_token_type' is not supported.")
        for name, wanted in (
            ("subject_token_type", ID_TOKEN_TYPE),
            ("requested_token_type", WEB_SSO_TOKEN_TYPE),
        ):
            if form[name] != wanted:
                return oauth_error("invalid_request", f"The '{name}' is not supported.")
        if form["scope"] != "okta.apps.sso":
            return oauth_error(
                "invalid_scope", "The requested scope is invalid for a web SSO token."
            )
        with self._lock:
            grant = self.grants.get(form["actor_token"])
            if actor_type == DEVICE_SECRET_TYPE:
                usable = grant is not None and grant.device_secret == form["actor_token"]
            else:  # an access token, without device_sso: valid for its own hour only
                usable = grant is not None and grant.access_token == form["actor_token"]
                usable = usable and self.okta.now() < grant.access_expires_at
            if grant is None or grant.revoked or not usable:
                return oauth_error("invalid_grant", "The 'actor_token' is invalid or expired.")
            # An expired ID token is accepted while its device secret is valid (Okta docs).
            if self.id_tokens.get(form["subject_token"]) is not grant:
                return oauth_error("invalid_grant", "The 'subject_token' is invalid.")
            if grant.client_id != client.client_id:
                return oauth_error(
                    "invalid_grant", "The 'subject_token' was not issued to this client."
                )
            audience = form["audience"]
            app_id = audience.removeprefix("urn:okta:apps:")
            if not audience.startswith("urn:okta:apps:") or app_id not in self.apps:
                return oauth_error("invalid_target", "The 'audience' is invalid.")
            if self.web_sso_clients.get(app_id, DEFAULT_CLIENT_ID) != client.client_id:
                return oauth_error(
                    "invalid_target",
                    "The client is not the allowed web SSO client of the requested audience.",
                )
            if not self.is_assigned(grant.user, app_id):
                return oauth_error(
                    "access_denied", "User is not assigned to the client application."
                )
            token = _rand(40)
            self.web_sso_tokens[token] = WebSsoToken(
                app_id, grant.user, self.okta.now() + self.web_sso_lifetime
            )
            self.exchanges.append((client.client_id, audience))
        return json_response(
            {
                "issued_token_type": WEB_SSO_TOKEN_TYPE,
                "token_type": "N_A",
                "expires_in": int(self.web_sso_lifetime),
                "access_token": token,
            }
        )

    def _token_sso(self, request: Request) -> Response:
        if set(request.query) != {"token"}:
            return html_response(_ERROR_PAGE, 400)
        with self._lock:
            found = self.web_sso_tokens.get(request.query["token"])
            if found is None or found.used or self.okta.now() >= found.expires_at:
                return html_response(_ERROR_PAGE, 403)
            found.used = True
        return self.okta.app_page(found.user, self.apps.get(found.app_id))

    def _revoke(self, request: Request) -> Response:
        form = _form(request, required=("token", "client_id"), optional=("token_type_hint",))
        if isinstance(form, Response):
            return form
        client = self._client(form)
        if isinstance(client, Response):
            return client
        hint = form.get("token_type_hint")
        if hint is not None and hint not in (
            "access_token",
            "id_token",
            "refresh_token",
            "device_secret",
        ):
            return oauth_error("invalid_request", "The 'token_type_hint' is invalid.")
        token = form["token"]
        with self._lock:
            grant = self.grants.get(token)
            if grant is not None and grant.client_id == client.client_id:
                if token == grant.device_secret:  # ends the grant: every token minted with it
                    grant.revoked = True
                else:
                    grant.access_expires_at = 0
            self.refresh_tokens.discard(token)
            self.access_tokens.discard(token)
            self.revoked.append(token)
        return Response(200)  # RFC 7009: 200 whether or not the token was known


def _unauthorized_client(client: FakeClient) -> Response:
    configured = ", ".join(sorted(g.rsplit(":", 1)[-1] for g in client.grant_types))
    return oauth_error(
        "unauthorized_client",
        "The client is not authorized to use the provided grant type. "
        f"Configured grant types: [{configured}].",
    )


def _form(
    request: Request, required: Sequence[str] = (), optional: Sequence[str] = ()
) -> dict[str, str] | Response:
    """The form body, one value per name; Okta's error for a wrong content type, a missing,
    repeated or (when ``required`` names the form) unknown parameter."""
    ctype = (request.header("Content-Type") or "").split(";")[0].strip().lower()
    if ctype != FORM_TYPE:
        return oauth_error(
            "invalid_request", "The request must use the application/x-www-form-urlencoded type."
        )
    try:
        parsed = parse_qs(request.body.decode("ascii"), keep_blank_values=True, strict_parsing=True)
    except (UnicodeDecodeError, ValueError):
        if not request.body:
            parsed = {}
        else:
            return oauth_error("invalid_request", "The request body is malformed.")
    for name, values in parsed.items():
        if len(values) != 1:
            return oauth_error("invalid_request", f"The '{name}' parameter is repeated.")
    form = {name: values[0] for name, values in parsed.items()}
    if not required:
        return form
    for name in required:
        if not form.get(name):
            return oauth_error(
                "invalid_request", f"The request is missing a required parameter: '{name}'."
            )
    unknown = sorted(set(form) - set(required) - set(optional))
    if unknown:
        return oauth_error("invalid_request", f"The '{unknown[0]}' parameter is not supported.")
    return form
