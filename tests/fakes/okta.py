"""A fake Okta org (Classic authn API + the AWS app's embed link) on 127.0.0.1.

Shapes follow /work/shared/reference/PROTOCOL.md sections A-C. Typical use::

    with FakeOkta() as okta:
        okta.fail(r"/api/v1/authn", 429, times=1)       # next primary auth is rate limited
        okta.embed_mode = "error-page"                   # knobs may change at any time
        ... run okenv against okta.app_url ...
        assert okta.count(path_prefix="/api/v1/authn") == 2

Extension points for later scenarios (push/SMS/IDX):

* ``FakeFactor`` carries per-factor behaviour (``secret``/``passcode`` for code factors,
  ``push_results``/``push_correct_answer`` for Okta Verify push); ``FakeOkta.factor_handlers``
  maps a ``factorType`` to the function that answers its verify calls, so a new factor
  type is one new entry.
* Every endpoint is an ordinary route; ``okta.route(method, regex)`` adds or overrides one
  (the newest route wins), e.g. ``/idp/idx/...`` for an Identity Engine flow.
* ``issue_session_token()`` / ``create_session()`` let a test start from a signed-in state.
* ``advance(seconds)`` moves the org's clock (token and session expiry) without sleeping.
  TOTP codes are always checked against real time, like the client computes them.
"""

from __future__ import annotations

import hashlib
import secrets
import string
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import pyotp

from tests.fakes.http import (
    FakeHTTPServer,
    Request,
    Response,
    empty_response,
    html_response,
    json_response,
    redirect,
)
from tests.fakes.okta_idx import QUESTION, IdxOrg, IdxState, iso, rand

__all__ = [
    "DEFAULT_APP_INSTANCE",
    "DEFAULT_PASSWORD",
    "DEFAULT_ROLES",
    "DEFAULT_TOTP_SECRET",
    "DEFAULT_USERNAME",
    "EmbedMode",
    "FakeFactor",
    "FakeOkta",
    "FakeUser",
    "LenientTOTP",
    "js_escape",
    "okta_attr_escape",
    "okta_error",
    "totp_now",
]

DEFAULT_USERNAME = "alice@example.com"
DEFAULT_PASSWORD = "correct horse battery staple"
DEFAULT_TOTP_SECRET = "JBSWY3DPEHPK3PXP"
DEFAULT_APP_INSTANCE = "0oa1b2c3d4e5f6g7h8i9"
DEFAULT_ROLES: tuple[tuple[str, str], ...] = (
    ("arn:aws:iam::123456789012:role/Admin", "arn:aws:iam::123456789012:saml-provider/Okta"),
    ("arn:aws:iam::210987654321:role/ReadOnly", "arn:aws:iam::210987654321:saml-provider/Okta"),
)

PASSCODE_FACTOR_TYPES = frozenset(
    {"token:software:totp", "token:hotp", "token:hardware", "token", "question"}
)
SENT_CODE_FACTOR_TYPES = frozenset({"sms", "call", "email"})

EmbedMode = Literal["form", "no-form", "error-page", "signin-page"]

_ALNUM = string.ascii_letters + string.digits
_CHANGE_PASSWORD = "/api/v1/authn/credentials/change_password"


class LenientTOTP(pyotp.TOTP):
    """pyotp >= 2.10 refuses seeds under 112 bits, but Okta (and Google Authenticator)
    hand out 80-bit seeds such as ``JBSWY3DPEHPK3PXP``; accept them like Okta does."""

    min_secret_length_bits = 0


def totp_now(secret: str = DEFAULT_TOTP_SECRET) -> str:
    """The current TOTP code for ``secret`` (what an authenticator app shows now)."""
    return str(LenientTOTP(secret).now())


def okta_attr_escape(value: str) -> str:
    """Escape an HTML attribute value the way Okta's pages do: every character that is
    not an ASCII letter or digit becomes ``&#x..;`` (lowercase hex)."""
    return "".join(c if c.isascii() and c.isalnum() else f"&#x{ord(c):x};" for c in value)


def js_escape(value: str) -> str:
    """Escape a JS string literal the way Okta's pages do (``-`` → ``\\x2D``)."""
    out = []
    for c in value:
        if (c.isascii() and c.isalnum()) or c in ",._":
            out.append(c)
        elif ord(c) < 0x100:
            out.append(f"\\x{ord(c):02X}")
        else:
            out.append(f"\\u{ord(c):04X}")
    return "".join(out)


def okta_error(
    code: str,
    summary: str,
    status: int,
    causes: Sequence[str] = (),
    headers: dict[str, str] | None = None,
) -> Response:
    """An Okta API error answer with the full body."""
    body = {
        "errorCode": code,
        "errorSummary": summary,
        "errorLink": code,
        "errorId": "oae" + rand(22),
        "errorCauses": [{"errorSummary": c} for c in causes],
    }
    return json_response(body, status, headers)


# ------------------------------------------------------------------------------ model


@dataclass
class FakeFactor:
    """An enrolled factor.

    Code factors accept a TOTP code for ``secret`` (base32 seed; ±1 step), or exactly
    ``passcode``. Push factors answer successive verify/poll calls with ``push_results``
    (``WAITING``, ``SUCCESS``, ``REJECTED``, ``TIMEOUT``; the last one repeats).
    ``profile=None`` renders a realistic profile for the type; ``{}`` renders ``{}``."""

    id: str
    factor_type: str = "token:software:totp"
    provider: str = "GOOGLE"
    profile: dict[str, Any] | None = None
    secret: str | None = None
    passcode: str | None = None
    vendor_name: str | None = None
    push_results: list[str] = field(default_factory=lambda: ["WAITING", "SUCCESS"])
    push_correct_answer: int | None = None


@dataclass
class FakeUser:
    username: str
    password: str
    factors: list[FakeFactor] = field(default_factory=list)
    status_after_password: str | None = None
    """E.g. ``MFA_ENROLL``, ``PASSWORD_EXPIRED``, ``PASSWORD_WARN``, ``LOCKED_OUT``."""
    first_name: str = "Alice"
    last_name: str = "Example"
    id: str | None = None

    @property
    def user_id(self) -> str:
        if self.id:
            return self.id
        return "00u" + hashlib.sha256(self.username.encode()).hexdigest()[:17]


def default_user() -> FakeUser:
    return FakeUser(
        username=DEFAULT_USERNAME,
        password=DEFAULT_PASSWORD,
        factors=[
            FakeFactor(
                id="uftq1w2e3r4t5y6u7i8o",
                factor_type="token:software:totp",
                provider="GOOGLE",
                secret=DEFAULT_TOTP_SECRET,
            )
        ],
    )


@dataclass
class Transaction:
    """A Classic authn transaction (keyed by its stateToken)."""

    state_token: str
    user: FakeUser | None
    status: str
    expires_at: float
    factor_state: dict[str, Any] = field(default_factory=dict)
    from_app: bool = False
    """Started from the app's sign-in page: SUCCESS links back (``_links.next`` original)."""
    mfa: bool = False
    """A factor was verified in this transaction."""


@dataclass
class Session:
    id: str
    user: FakeUser
    created_at: float
    expires_at: float
    mfa: bool = True
    """The session was created with MFA (False: ``org_mfa`` was off)."""
    app_verified: bool = False
    """App-level MFA (``app_mfa``) was completed in this session."""
    cookie: str = "sid"


# ------------------------------------------------------------------------------- org


FactorHandler = Callable[["FakeOkta", Transaction, FakeFactor, Request], Response]


class FakeOkta(IdxOrg, FakeHTTPServer):
    """A fake Okta org. Every keyword is also an attribute that tests may change at any
    time (before or after ``start()``); the server reads them per request."""

    def __init__(
        self,
        *,
        users: Sequence[FakeUser] | None = None,
        roles: Sequence[tuple[str, str]] | None = None,
        session_name: str | None = None,
        session_duration: int | None = None,
        destination: str = "https://signin.aws.amazon.com/saml",
        app_instance: str = DEFAULT_APP_INSTANCE,
        pipeline: str = "v1",
        org_id: str = "00o1a2b3c4d5e6f7g8h9",
        embed_mode: EmbedMode = "form",
        saml_response_override: str | None = None,
        relay_state: str = "",
        pair_order: str = "provider,role",
        not_on_or_after: datetime | None = None,
        reject_replayed_codes: bool = False,
        secure_cookies: bool = True,
        state_token_lifetime: float = 300,
        session_token_lifetime: float = 300,
        session_lifetime: float = 7200,
        error_page_status: int = 200,
        org_mfa: bool = True,
        app_mfa: bool = False,
        rate_limit_reset_in: float = 60.0,
        idx_identify_with_password: bool = True,
        idx_extra_remediation: str | None = None,
        idx_poll_refresh_ms: int = 4000,
    ) -> None:
        super().__init__()
        self.users: list[FakeUser] = list(users) if users is not None else [default_user()]
        self.roles: list[tuple[str, str]] = list(roles if roles is not None else DEFAULT_ROLES)
        self.session_name = session_name
        """RoleSessionName in the assertion; None = the signed-in user's username."""
        self.session_duration = session_duration
        self.destination = destination
        self.app_instance = app_instance
        self.pipeline = pipeline
        self.org_id = org_id
        self.embed_mode: EmbedMode = embed_mode
        self.saml_response_override = saml_response_override
        self.relay_state = relay_state
        self.pair_order = pair_order
        self.not_on_or_after = not_on_or_after
        self.reject_replayed_codes = reject_replayed_codes
        self.secure_cookies = secure_cookies
        self.state_token_lifetime = state_token_lifetime
        self.session_token_lifetime = session_token_lifetime
        self.session_lifetime = session_lifetime
        self.error_page_status = error_page_status
        self.org_mfa = org_mfa
        """False: primary auth ends in SUCCESS without MFA (an org policy of password only)."""
        self.app_mfa = app_mfa
        """True: the app link wants MFA in the session (app sign-on policy): a session
        without it gets the sign-in page with a stateToken for the step-up."""
        self.rate_limit_reset_in = rate_limit_reset_in
        """Seconds (real time) from now to the X-Rate-Limit-Reset of a default 429."""
        self.idx_identify_with_password = idx_identify_with_password
        """IDX: the identify form carries the password (else a separate password challenge)."""
        self.idx_extra_remediation = idx_extra_remediation
        """IDX: a remediation of this name comes after the password (unknown to clients)."""
        self.idx_poll_refresh_ms = idx_poll_refresh_ms
        self.aws_app_label = "AWS"
        self.extra_aws_apps: dict[str, tuple[str, list[tuple[str, str]]]] = {}
        """More AWS app instances: instance id → (dashboard label, roles of its assertion)."""
        self.other_apps: list[tuple[str, str]] = [("google", "Google Workspace")]
        """Non-AWS apps on the dashboard: (appName, label)."""
        self.app_links_mode: Literal["ok", "missing"] = "ok"
        """``missing``: /api/v1/users/me/appLinks answers 404 (only home/tabs works)."""
        self.app_links_override: Any = None
        """A body to answer /appLinks with instead (a hostile org)."""
        self.factor_handlers: dict[str, FactorHandler] = {}
        for ftype in PASSCODE_FACTOR_TYPES:
            self.factor_handlers[ftype] = _verify_passcode_factor
        for ftype in SENT_CODE_FACTOR_TYPES:
            self.factor_handlers[ftype] = _verify_sent_code_factor
        self.factor_handlers["push"] = _verify_push_factor

        self._state_lock = threading.RLock()
        self._clock_offset = 0.0
        self.transactions: dict[str, Transaction] = {}
        self.session_tokens: dict[str, tuple[FakeUser, float]] = {}
        """Unused sessionTokens → (user, expiry)."""
        self.used_session_tokens: set[str] = set()
        self.sessions: dict[str, Session] = {}
        self.used_passcodes: set[tuple[str, str]] = set()
        self.signin_state_tokens: list[str] = []
        """stateTokens handed out in sign-in pages."""
        self.mfa_session_tokens: set[str] = set()
        """Unused sessionTokens whose transaction verified a factor."""
        self.stepped_up: dict[str, Session | FakeUser] = {}
        """stateToken of a finished app step-up → what /login/step-up/redirect signs in."""
        self.saml_responses: list[str] = []
        """Every SAMLResponse value put into a form (before escaping)."""

        r = self.add_route
        r("GET", r"/\.well-known/okta-organization", self._well_known)
        r("POST", r"/api/v1/authn", self._authn)
        r("POST", r"/api/v1/authn/factors/(?P<factor_id>[^/]+)/verify", self._verify)
        r("POST", r"/api/v1/authn/skip", self._skip)
        r("POST", r"/api/v1/authn/cancel", self._cancel)
        r("GET", r"/home/amazon_aws/(?P<app>[^/]+)/(?P<num>\d+)", self._embed)
        r("GET", r"/login/sessionCookieRedirect", self._session_cookie_redirect)
        r("POST", r"/api/v1/sessions", self._create_session_api)
        r(("GET", "DELETE"), r"/api/v1/sessions/me", self._sessions_me)
        r("POST", r"/api/v1/sessions/me/lifecycle/refresh", self._refresh_session)
        r("POST", r"/api/v1/authn/factors/(?P<factor_id>[^/]+)/verify/resend", self._verify)
        r("GET", r"/login/step-up/redirect", self._step_up_redirect)
        r("GET", r"/api/v1/users/me/appLinks", self._app_links)
        r("GET", r"/api/v1/users/me/home/tabs", self._home_tabs)
        self._idx_setup()

    # ------------------------------------------------------------------ public helpers

    @property
    def app_url(self) -> str:
        return f"{self.url}/home/amazon_aws/{self.app_instance}/272"

    def now(self) -> float:
        return time.time() + self._clock_offset

    def advance(self, seconds: float) -> None:
        """Move the org's clock forward (expires stateTokens, sessionTokens, sessions)."""
        self._clock_offset += seconds

    def user(self, username: str = DEFAULT_USERNAME) -> FakeUser:
        for u in self.users:
            if u.username.lower() == username.lower():
                return u
        raise KeyError(username)

    def issue_session_token(self, username: str = DEFAULT_USERNAME) -> str:
        token = "20111" + rand(55)
        expires = self.now() + self.session_token_lifetime
        with self._state_lock:
            self.session_tokens[token] = (self.user(username), expires)
        return token

    def create_session(self, username: str = DEFAULT_USERNAME) -> str:
        """Create an Okta session directly; returns its id (the ``sid`` cookie value)."""
        return self._new_session(self.user(username)).id

    def check_code(self, factor: FakeFactor, code: Any) -> str:
        """``ok``, ``wrong`` or ``replayed`` (with ``reject_replayed_codes``), both engines."""
        if not isinstance(code, str) or not code:
            return "wrong"
        if factor.secret is not None:
            ok = LenientTOTP(factor.secret).verify(code, valid_window=1)
        else:
            ok = factor.passcode is not None and secrets.compare_digest(code, factor.passcode)
        if not ok:
            return "wrong"
        if self.reject_replayed_codes:
            key = (factor.id, code)
            with self._state_lock:
                if key in self.used_passcodes:
                    return "replayed"
                self.used_passcodes.add(key)
        return "ok"

    def default_error(self, request: Request, status: int) -> Response:
        if status == 429:
            reset = int(time.time() + self.rate_limit_reset_in)
            return okta_error(
                "E0000047",
                "API call exceeded rate limit due to too many requests.",
                429,
                headers={
                    "X-Rate-Limit-Limit": "10",
                    "X-Rate-Limit-Remaining": "0",
                    "X-Rate-Limit-Reset": str(reset),
                },
            )
        if status in (502, 503, 504):
            title = {502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}
            return html_response(
                f"<html><head><title>{status} {title[status]}</title></head>"
                f"<body><h1>{status} {title[status]}</h1></body></html>",
                status,
            )
        known = {
            400: ("E0000003", "The request body was not well-formed."),
            401: ("E0000004", "Authentication failed"),
            403: ("E0000006", "You do not have permission to perform the requested action"),
            404: ("E0000007", f"Not found: Resource not found: {request.path}"),
            500: ("E0000009", "Internal Server Error"),
        }
        code, summary = known.get(status, ("E0000009", f"HTTP {status}"))
        return okta_error(code, summary, status)

    def not_found(self, request: Request) -> Response:
        if request.path.startswith("/api/"):
            return okta_error("E0000022", "The endpoint does not support the provided method", 404)
        return html_response("<html><body><h1>404 Not Found</h1></body></html>", 404)

    # ------------------------------------------------------------------ state helpers

    def _new_transaction(self, user: FakeUser | None, status: str) -> Transaction:
        # Okta stateTokens contain '-', which pages JS-escape as \x2D.
        token = "00" + rand(20) + "-" + rand(21)
        tx = Transaction(token, user, status, self.now() + self.state_token_lifetime)
        with self._state_lock:
            self.transactions[token] = tx
        return tx

    def _transaction(self, token: Any) -> Transaction | None:
        if not isinstance(token, str):
            return None
        with self._state_lock:
            tx = self.transactions.get(token)
            if tx is None or tx.expires_at <= self.now():
                return None
            return tx

    def _finish(self, tx: Transaction, *, mfa: bool = True) -> Response:
        """End a transaction with SUCCESS and a one-time sessionToken (and, for a step-up
        started from the app's sign-in page, ``_links.next`` named ``original``)."""
        assert tx.user is not None
        with self._state_lock:
            self.transactions.pop(tx.state_token, None)
        token = self.issue_session_token(tx.user.username)
        if mfa:
            with self._state_lock:
                self.mfa_session_tokens.add(token)
        body: dict[str, Any] = {
            "expiresAt": iso(self.now() + self.session_token_lifetime),
            "status": "SUCCESS",
            "sessionToken": token,
            "_embedded": {"user": self._user_json(tx.user)},
        }
        if tx.from_app:
            with self._state_lock:
                self.stepped_up[tx.state_token] = tx.factor_state.get("session") or tx.user
            href = f"/login/step-up/redirect?stateToken={tx.state_token}"
            body["_links"] = {"next": {"name": "original", "href": self.url + href}}
        return json_response(body)

    def _new_session(self, user: FakeUser, *, mfa: bool = True, cookie: str = "sid") -> Session:
        now = self.now()
        session = Session(
            "102" + rand(22), user, now, now + self.session_lifetime, mfa=mfa, cookie=cookie
        )
        with self._state_lock:
            self.sessions[session.id] = session
        return session

    def _session_from(self, request: Request) -> Session | None:
        for name in ("idx", "sid"):
            sid = request.cookies.get(name)
            if not sid:
                continue
            with self._state_lock:
                session = self.sessions.get(sid)
            if session is not None and session.cookie == name and session.expires_at > self.now():
                return session
        return None

    def _redeem_session_token(self, token: str | None) -> FakeUser | None:
        if not token:
            return None
        with self._state_lock:
            entry = self.session_tokens.pop(token, None)
            if entry is None:
                return None
            self.used_session_tokens.add(token)
        user, expires = entry
        return user if expires > self.now() else None

    def _set_sid(self, response: Response, session: Session) -> Response:
        return response.set_cookie(session.cookie, session.id, path="/", secure=self.secure_cookies)

    # ------------------------------------------------------------------ JSON shapes

    def _link(self, path: str, **extra: Any) -> dict[str, Any]:
        return {**extra, "href": self.url + path, "hints": {"allow": ["POST"]}}

    def _user_json(self, user: FakeUser) -> dict[str, Any]:
        return {
            "id": user.user_id,
            "passwordChanged": "2025-01-15T09:30:00.000Z",
            "profile": {
                "login": user.username,
                "firstName": user.first_name,
                "lastName": user.last_name,
                "locale": "en",
                "timeZone": "America/Los_Angeles",
            },
        }

    def _factor_profile(self, user: FakeUser, factor: FakeFactor) -> dict[str, Any]:
        if factor.profile is not None:
            return factor.profile
        if factor.factor_type in ("sms", "call"):
            return {"phoneNumber": "+1 XXX-XXX-4321"}
        if factor.factor_type == "question":
            return {"question": QUESTION[0], "questionText": QUESTION[1]}
        if factor.factor_type == "email":
            return {"email": user.username[0] + "...@" + user.username.partition("@")[2]}
        if factor.factor_type == "push":
            return {
                "credentialId": user.username,
                "deviceType": "SmartPhone_IPhone",
                "name": f"{user.first_name}'s iPhone",
                "platform": "IOS",
                "version": "17.4",
            }
        return {"credentialId": user.username}

    def _factor_json(self, user: FakeUser, factor: FakeFactor) -> dict[str, Any]:
        return {
            "id": factor.id,
            "factorType": factor.factor_type,
            "provider": factor.provider,
            "vendorName": factor.vendor_name or factor.provider,
            "profile": self._factor_profile(user, factor),
            "_links": {
                "verify": self._link(f"/api/v1/authn/factors/{factor.id}/verify"),
            },
        }

    def _tx_body(self, tx: Transaction, **extra: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "stateToken": tx.state_token,
            "expiresAt": iso(tx.expires_at),
            "status": tx.status,
        }
        body.update(extra)
        body.setdefault("_links", {})["cancel"] = self._link("/api/v1/authn/cancel")
        return body

    def _state_response(self, tx: Transaction) -> Response:
        """The answer for a transaction in its current state."""
        user = tx.user
        if user is None:
            return json_response(
                self._tx_body(tx, _links={"next": self._link("/api/v1/authn", name="authn")})
            )
        embedded: dict[str, Any] = {"user": self._user_json(user)}
        status = tx.status
        if status == "MFA_REQUIRED":
            embedded["factors"] = [self._factor_json(user, f) for f in user.factors]
            embedded["policy"] = {
                "allowRememberDevice": True,
                "rememberDeviceLifetimeInMinutes": 0,
                "rememberDeviceByDefault": False,
                "factorsPolicyInfo": {},
            }
            return json_response(self._tx_body(tx, _embedded=embedded))
        if status == "PASSWORD_EXPIRED":
            embedded["policy"] = {"complexity": {"minLength": 12, "excludeUsername": True}}
            links = {"next": self._link(_CHANGE_PASSWORD, name="changePassword")}
            return json_response(self._tx_body(tx, _embedded=embedded, _links=links))
        if status == "PASSWORD_WARN":
            embedded["policy"] = {
                "expiration": {"passwordExpireDays": 4},
                "complexity": {"minLength": 12, "excludeUsername": True},
            }
            links = {
                "next": self._link(_CHANGE_PASSWORD, name="changePassword"),
                "skip": self._link("/api/v1/authn/skip", name="skip"),
            }
            return json_response(self._tx_body(tx, _embedded=embedded, _links=links))
        if status == "MFA_ENROLL":
            embedded["factors"] = [
                {
                    "factorType": "token:software:totp",
                    "provider": "GOOGLE",
                    "vendorName": "GOOGLE",
                    "status": "NOT_SETUP",
                    "enrollment": "REQUIRED",
                    "_links": {"enroll": self._link("/api/v1/authn/factors")},
                }
            ]
            return json_response(self._tx_body(tx, _embedded=embedded))
        return json_response(self._tx_body(tx, _embedded=embedded))

    def _after_password(self, user: FakeUser) -> Response:
        status = user.status_after_password
        if status == "LOCKED_OUT":
            # Okta gives a locked-out user no stateToken, only the unlock link.
            return json_response(
                {
                    "status": "LOCKED_OUT",
                    "_links": {"next": self._link("/api/v1/authn/recovery/unlock", name="unlock")},
                }
            )
        if status is not None:
            return self._state_response(self._new_transaction(user, status))
        return self._after_policy(user)

    def _after_policy(self, user: FakeUser, tx: Transaction | None = None) -> Response:
        if tx is None:
            tx = self._new_transaction(user, "MFA_REQUIRED")
        else:
            tx.user, tx.status = user, "MFA_REQUIRED"
        if not user.factors or not self.org_mfa:
            return self._finish(tx, mfa=False)
        return self._state_response(tx)

    # ------------------------------------------------------------------ endpoints

    def _well_known(self, request: Request) -> Response:
        return json_response(
            {
                "id": self.org_id,
                "pipeline": self.pipeline,
                "_links": {"organization": {"href": self.url}},
            }
        )

    def _bad_json(self, request: Request) -> Response | None:
        if request.json is None or not isinstance(request.json, dict):
            return okta_error("E0000003", "The request body was not well-formed.", 400)
        return None

    def _authn(self, request: Request) -> Response:
        bad = self._bad_json(request)
        if bad is not None:
            return bad
        body = _body(request)
        if "stateToken" in body and "username" not in body:
            tx = self._transaction(body["stateToken"])
            if tx is None:
                return _invalid_token()
            return self._state_response(tx)
        pending = None
        if "stateToken" in body:  # step-up: credentials for the app's transaction
            pending = self._transaction(body["stateToken"])
            if pending is None:
                return _invalid_token()
        username, password = body.get("username"), body.get("password")
        user = None
        if isinstance(username, str):
            try:
                user = self.user(username)
            except KeyError:
                user = None
        if user is None or password != user.password:
            return okta_error("E0000004", "Authentication failed", 401)
        if pending is not None and user.status_after_password is None:
            return self._after_policy(user, pending)
        return self._after_password(user)

    def _verify(self, request: Request) -> Response:
        bad = self._bad_json(request)
        if bad is not None:
            return bad
        tx = self._transaction(_body(request).get("stateToken"))
        if tx is None or tx.user is None:
            return _invalid_token()
        if tx.status not in ("MFA_REQUIRED", "MFA_CHALLENGE"):
            return _not_allowed()
        factor = next((f for f in tx.user.factors if f.id == request.params["factor_id"]), None)
        if factor is None:
            missing = request.params["factor_id"]
            return okta_error(
                "E0000007", f"Not found: Resource not found: {missing} (UserFactor)", 404
            )
        handler = self.factor_handlers.get(factor.factor_type)
        if handler is None:
            return _not_allowed()
        return handler(self, tx, factor, request)

    def _skip(self, request: Request) -> Response:
        bad = self._bad_json(request)
        if bad is not None:
            return bad
        tx = self._transaction(_body(request).get("stateToken"))
        if tx is None or tx.user is None:
            return _invalid_token()
        if tx.status != "PASSWORD_WARN":
            return _not_allowed()
        with self._state_lock:
            self.transactions.pop(tx.state_token, None)
        return self._after_policy(tx.user)

    def _cancel(self, request: Request) -> Response:
        bad = self._bad_json(request)
        if bad is not None:
            return bad
        tx = self._transaction(_body(request).get("stateToken"))
        if tx is None:
            return _invalid_token()
        with self._state_lock:
            self.transactions.pop(tx.state_token, None)
        return json_response({"status": "UNAUTHENTICATED"})

    def _embed(self, request: Request) -> Response:
        roles = self._app_roles(request.params["app"])
        if roles is None:
            return html_response("<html><body><h1>404 Not Found</h1></body></html>", 404)
        if self.embed_mode == "signin-page":
            return self._signin_page()
        new_session = None
        token = request.query.get("sessionToken")
        with self._state_lock:
            mfa = token in self.mfa_session_tokens
            self.mfa_session_tokens.discard(token or "")
        user = self._redeem_session_token(token)
        if user is not None:
            new_session = self._new_session(user, mfa=mfa)
            session: Session | None = new_session
        else:
            session = self._session_from(request)
        if session is None:
            return self._signin_page()
        if self.app_mfa and not session.mfa and not session.app_verified:
            page = self._signin_page(session)
        else:
            page = self.app_page(session.user, roles)
        return self._set_sid(page, new_session) if new_session is not None else page

    def _app_roles(self, instance: str) -> list[tuple[str, str]] | None:
        if instance == self.app_instance:
            return self.roles
        extra = self.extra_aws_apps.get(instance)
        return extra[1] if extra is not None else None

    def _dashboard(self) -> list[dict[str, Any]]:
        """The user's apps as /appLinks lists them (AWS apps first, then the others)."""
        apps = [(self.app_instance, "amazon_aws", self.aws_app_label)]
        apps += [(i, "amazon_aws", label) for i, (label, _) in self.extra_aws_apps.items()]
        apps += [
            ("0oa" + hashlib.sha256(name.encode()).hexdigest()[:17], name, label)
            for name, label in self.other_apps
        ]
        return [
            {
                "id": "00ub" + hashlib.sha256(instance.encode()).hexdigest()[:16],
                "label": label,
                "linkUrl": f"{self.url}/home/{name}/{instance}/{number}",
                "logoUrl": f"{self.url}/assets/img/logos/{name}.png",
                "appName": name,
                "appInstanceId": instance,
                "appAssignmentId": "0ua" + hashlib.sha256(label.encode()).hexdigest()[:17],
                "credentialsSetup": False,
                "hidden": False,
                "sortOrder": index,
            }
            for index, (instance, name, label) in enumerate(apps)
            for number in [272 if name == "amazon_aws" else 50]
        ]

    def _app_links(self, request: Request) -> Response:
        # Strict as Okta: the session cookie (sid or idx) is the only credential accepted.
        if self._session_from(request) is None:
            return okta_error("E0000005", "Invalid session", 403)
        if self.app_links_mode == "missing":
            return self.not_found(request)
        if self.app_links_override is not None:
            return json_response(self.app_links_override)
        return json_response(self._dashboard())

    def _home_tabs(self, request: Request) -> Response:
        if self._session_from(request) is None:
            return okta_error("E0000005", "Invalid session", 403)
        if request.query.get("expand") != "items,items.resource":
            return json_response([{"id": "ht1", "label": "Work", "_embedded": {}}])
        items = [
            {
                "id": "00i" + link["id"][4:],
                "resourceId": link["appInstanceId"],
                "resourceType": "APP",
                "_embedded": {
                    "resource": {
                        "id": link["appInstanceId"],
                        "label": link["label"],
                        "linkUrl": link["linkUrl"],
                        "logoUrl": link["logoUrl"],
                    }
                },
            }
            for link in self._dashboard()
        ]
        return json_response(
            [{"id": "ht1", "label": "Work", "sortOrder": 0, "_embedded": {"items": items}}]
        )

    def app_page(self, user: FakeUser, roles: Sequence[tuple[str, str]] | None = None) -> Response:
        """The AWS app's answer for a signed-in ``user`` (the SAML form, or what
        ``embed_mode`` says); ``roles``: another app's (default: the org's ``roles``)."""
        mode = self.embed_mode
        if mode == "error-page":
            return html_response(_ERROR_PAGE, self.error_page_status)
        if mode == "no-form":
            return html_response(_NO_FORM_PAGE)
        if self.saml_response_override is not None:
            saml = self.saml_response_override
        else:
            from tests.fakes.samlgen import build_saml_response

            saml = build_saml_response(
                roles=self.roles if roles is None else roles,
                session_name=self.session_name or user.username,
                session_duration=self.session_duration,
                destination=self.destination,
                not_on_or_after=self.not_on_or_after,
                pair_order=self.pair_order,
            )
        with self._state_lock:
            self.saml_responses.append(saml)
        return html_response(
            _FORM_PAGE.format(
                action=okta_attr_escape(self.destination),
                saml=okta_attr_escape(saml),
                relay=okta_attr_escape(self.relay_state),
            )
        )

    def _signin_page(self, session: Session | None = None) -> Response:
        """The sign-in page with a stateToken: for the app's step-up when ``session`` needs
        app-level MFA (the transaction starts at MFA_REQUIRED), else a fresh sign-in."""
        if session is not None:
            tx = self._new_transaction(session.user, "MFA_REQUIRED")
            tx.factor_state["session"] = session
        else:
            tx = self._new_transaction(None, "UNAUTHENTICATED")
        tx.from_app = True
        with self._state_lock:
            self.signin_state_tokens.append(tx.state_token)
            self.idx_states[tx.state_token] = IdxState(
                handle=tx.state_token, expires_at=tx.expires_at
            )
        token = js_escape(tx.state_token)
        idx = ""
        if self.pipeline == "idx":
            idx = f'var oktaData = {{"signIn":{{"stateToken":"{token}"}}}};\n'
        return html_response(_SIGNIN_PAGE.format(token=token, base=js_escape(self.url), idx=idx))

    def _session_json(self, session: Session) -> dict[str, Any]:
        return {
            "id": session.id,
            "userId": session.user.user_id,
            "login": session.user.username,
            "createdAt": iso(session.created_at),
            "expiresAt": iso(session.expires_at),
            "status": "ACTIVE",
            "lastPasswordVerification": iso(session.created_at),
            "lastFactorVerification": iso(session.created_at),
            "amr": ["pwd", "otp", "mfa"],
            "idp": {"id": self.org_id, "type": "OKTA"},
            "mfaActive": True,
            "_links": {
                "self": {"href": self.url + "/api/v1/sessions/me"},
                "refresh": self._link("/api/v1/sessions/me/lifecycle/refresh"),
            },
        }

    def _session_cookie_redirect(self, request: Request) -> Response:
        target = request.query.get("redirectUrl") or self.url + "/"
        user = self._redeem_session_token(request.query.get("token"))
        response = redirect(target)
        if user is not None:
            self._set_sid(response, self._new_session(user))
        return response

    def _create_session_api(self, request: Request) -> Response:
        bad = self._bad_json(request)
        if bad is not None:
            return bad
        user = self._redeem_session_token(_body(request).get("sessionToken"))
        if user is None:
            return okta_error("E0000004", "Authentication failed", 401)
        session = self._new_session(user)
        return self._set_sid(json_response(self._session_json(session)), session)

    def _sessions_me(self, request: Request) -> Response:
        session = self._session_from(request)
        if session is None:
            return okta_error("E0000007", "Not found: Resource not found: me (Session)", 404)
        if request.method == "DELETE":
            with self._state_lock:
                self.sessions.pop(session.id, None)
            return empty_response(204)
        return json_response(self._session_json(session))

    def _refresh_session(self, request: Request) -> Response:
        session = self._session_from(request)
        if session is None:
            return okta_error("E0000007", "Not found: Resource not found: me (Session)", 404)
        session.expires_at = self.now() + self.session_lifetime
        return json_response(self._session_json(session))

    def _step_up_redirect(self, request: Request) -> Response:
        with self._state_lock:
            target = self.stepped_up.pop(request.query.get("stateToken", ""), None)
        if target is None:
            return self._signin_page()
        if isinstance(target, Session):
            target.app_verified = True
            session = target
        else:
            session = self._new_session(target, mfa=True)
        return self._set_sid(redirect(self.app_url), session)


def _body(request: Request) -> dict[str, Any]:
    """The JSON object body (handlers call this after ``_bad_json`` accepted it)."""
    return request.json if isinstance(request.json, dict) else {}


def _not_allowed() -> Response:
    return okta_error(
        "E0000079", "This operation is not allowed in the current authentication state.", 403
    )


def _invalid_token() -> Response:
    return okta_error("E0000011", "Invalid token provided", 401)


def _wrong_passcode() -> Response:
    return okta_error(
        "E0000068",
        "Invalid Passcode/Answer",
        403,
        ["Your passcode doesn't match our records. Please try again."],
    )


def _check_code(okta: FakeOkta, factor: FakeFactor, code: Any) -> Response | None:
    """None when ``code`` is right for ``factor``; else Classic's error answer."""
    outcome = okta.check_code(factor, code)
    if outcome == "replayed":
        msg = "Each code can only be used once. Please wait for a new code and try again."
        return okta_error("E0000082", msg, 403, [msg])
    return None if outcome == "ok" else _wrong_passcode()


def _verify_passcode_factor(
    okta: FakeOkta, tx: Transaction, factor: FakeFactor, request: Request
) -> Response:
    body = _body(request)
    name = "answer" if factor.factor_type == "question" else "passCode"
    if set(body) - {"stateToken", name}:
        return okta_error("E0000001", "Api validation failed: " + ", ".join(sorted(body)), 400)
    error = _check_code(okta, factor, body.get(name))
    return error if error is not None else okta._finish(tx)


def _verify_sent_code_factor(
    okta: FakeOkta, tx: Transaction, factor: FakeFactor, request: Request
) -> Response:
    code = _body(request).get("passCode")
    if code is None:  # first call: "send" the code
        tx.status = "MFA_CHALLENGE"
        tx.factor_state[factor.id] = {"sent": tx.factor_state.get(factor.id, {}).get("sent", 0) + 1}
        verify = f"/api/v1/authn/factors/{factor.id}/verify"
        links = {
            "next": okta._link(verify, name="verify"),
            "prev": okta._link("/api/v1/authn/previous", name="prev"),
            "resend": [okta._link(verify + "/resend", name=factor.factor_type)],
        }
        embedded = {
            "user": okta._user_json(tx.user) if tx.user else {},
            "factor": okta._factor_json(tx.user, factor) if tx.user else {},
        }
        return json_response(
            okta._tx_body(tx, factorResult="CHALLENGE", _embedded=embedded, _links=links)
        )
    error = _check_code(okta, factor, code)
    return error if error is not None else okta._finish(tx)


def _verify_push_factor(
    okta: FakeOkta, tx: Transaction, factor: FakeFactor, request: Request
) -> Response:
    state = tx.factor_state.setdefault(factor.id, {"polls": 0})
    results = factor.push_results or ["SUCCESS"]
    result = results[min(state["polls"], len(results) - 1)]
    state["polls"] += 1
    if result == "SUCCESS":
        return okta._finish(tx)
    assert tx.user is not None
    tx.status = "MFA_CHALLENGE"
    factor_json = okta._factor_json(tx.user, factor)
    if result == "WAITING" and factor.push_correct_answer is not None:
        factor_json["_embedded"] = {"challenge": {"correctAnswer": factor.push_correct_answer}}
    verify = f"/api/v1/authn/factors/{factor.id}/verify"
    links: dict[str, Any] = {"next": okta._link(verify, name="poll")}
    if result == "WAITING":
        links["resend"] = [okta._link(verify + "/resend", name="push")]
    return json_response(
        okta._tx_body(
            tx,
            factorResult=result,
            _embedded={"user": okta._user_json(tx.user), "factor": factor_json},
            _links=links,
        )
    )


# ------------------------------------------------------------------------------ pages

_FORM_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="robots" content="none">
<title>Signing in to Amazon Web Services</title>
</head>
<body id="app" class="enduser-app" onload="document.forms[0].submit()">
<noscript><p>JavaScript is disabled. Click Continue to sign in.</p></noscript>
<form id="appForm" action="{action}" method="POST">
    <input name="SAMLResponse" type="hidden" value="{saml}"/>
    <input name="RelayState" type="hidden" value="{relay}"/>
    <noscript><input type="submit" value="Continue"/></noscript>
</form>
</body>
</html>
"""

_NO_FORM_PAGE = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Amazon Web Services</title></head>
<body class="enduser-app">
<div id="app-container"><p>Loading your application&hellip;</p></div>
</body>
</html>
"""

_ERROR_PAGE = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Error</title></head>
<body class="error-page">
<div class="content">
  <div class="error-content">
    <h1>Sorry, you can't access Amazon Web Services because you are not assigned this app in
    Okta.</h1>
    <p>If you're wondering why this is happening, please contact your administrator.</p>
  </div>
</div>
</body>
</html>
"""

_SIGNIN_PAGE = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Example Org - Sign In</title></head>
<body class="auth okta-container">
<div id="okta-sign-in" class="auth-container main-container no-beacon"></div>
<script type="text/javascript">
var baseUrl = '{base}';
var stateToken = '{token}';
{idx}</script>
</body>
</html>
"""
