"""Okta's Classic Authentication API (``/api/v1/authn``): primary auth, statuses, every MFA
factor a CLI can drive, to a finished transaction.

Only plain arguments come in (an :class:`OktaHttp`, credentials, an :class:`MfaContext` with
the prompter); the final ``SUCCESS`` transaction comes out. The caller turns it into the app
page: its ``sessionToken``, or the ``_links.next`` named ``original`` after an app-level
step-up (:func:`original_link`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from okenv.errors import AuthenticationError, OktaError
from okenv.okta.http import OktaHttp, OktaRefusal
from okenv.okta.mfa import (
    REPLAYED,
    SENT_CODE_KINDS,
    WRONG,
    Method,
    MfaContext,
    PushState,
    Refused,
    ask_sent_code,
    choose_method,
    enter_code,
    passcode,
    security_answer,
    shown,
    wait_for_push,
)

__all__ = ["Factor", "drive", "original_link", "parse_factors", "start"]

Credentials = Callable[[], tuple[str, str]]
Tx = dict[str, Any]

MAX_STEPS = 12  # each turn moves the transaction on; Okta never needs this many

_KINDS = {
    "token:software:totp": "totp",
    "token:hotp": "hotp",
    "token:hardware": "hardware",
    "token": "hardware",
    "push": "push",
    "sms": "sms",
    "call": "call",
    "email": "email",
    "question": "question",
    "webauthn": "webauthn",
}

_LABELS = {
    ("token:software:totp", "GOOGLE"): "Google Authenticator",
    ("token:software:totp", "OKTA"): "Okta Verify (code)",
    ("token:hardware", "YUBICO"): "YubiKey",
    ("token", "RSA"): "RSA SecurID",
    ("token", "SYMANTEC"): "Symantec VIP",
    ("token:hotp", ""): "HOTP token",
    ("push", "OKTA"): "Okta Verify (push)",
    ("webauthn", "FIDO"): "Security key or biometric (webauthn)",
    ("u2f", "FIDO"): "Security key (u2f)",
    ("web", "DUO"): "Duo Security (web)",
    ("question", "OKTA"): "Security question",
}
_TYPE_LABELS = {
    "sms": "SMS",
    "call": "Voice call",
    "email": "Email",
    "token:hotp": "HOTP token",
    "webauthn": "Security key or biometric (webauthn)",
    "u2f": "Security key (u2f)",
    "web": "Web factor (web)",
}


@dataclass(frozen=True)
class Factor:
    id: str
    factor_type: str
    provider: str
    verify_url: str
    device: str | None
    question: str | None = None
    """A security question's text (``profile.questionText``)."""

    @property
    def label(self) -> str:
        name = _LABELS.get((self.factor_type, self.provider)) or _TYPE_LABELS.get(self.factor_type)
        if name is None:
            name = f"{self.factor_type} ({self.provider.title()})"
        return shown(f"{name} — {self.device}" if self.device else name)

    @property
    def kind(self) -> str:
        return _KINDS.get(self.factor_type, self.factor_type)

    @property
    def is_totp(self) -> bool:
        return self.factor_type == "token:software:totp"

    @property
    def supported(self) -> bool:
        return self.factor_type in _KINDS

    def method(self) -> Method:
        return Method(self.kind, self.provider, self.label, self.supported, self)


def parse_factors(transaction: dict[str, Any]) -> list[Factor]:
    """The factors of an ``MFA_REQUIRED`` transaction (``factors``, or ``factor`` in newer
    docs); entries that lack what okenv needs are skipped."""
    embedded = _obj(transaction.get("_embedded"))
    raw = embedded.get("factors") or embedded.get("factor") or []
    if isinstance(raw, dict):
        raw = [raw]
    if not isinstance(raw, list):
        raw = []
    factors = []
    for item in raw:
        try:
            profile = item.get("profile") or {}
            device = (
                profile.get("name")
                or profile.get("phoneNumber")
                or profile.get("email")
                or profile.get("deviceType")
                or None
            )
            question = profile.get("questionText") or profile.get("question")
            factors.append(
                Factor(
                    id=str(item["id"]),
                    factor_type=str(item["factorType"]),
                    provider=str(item.get("provider", "")),
                    verify_url=str(item["_links"]["verify"]["href"]),
                    device=str(device) if device else None,
                    question=str(question) if question else None,
                )
            )
        except (KeyError, TypeError, AttributeError):
            continue
    return factors


# -- the transaction -------------------------------------------------------------------------


def _obj(value: object) -> dict[str, Any]:
    """``value`` if it is a JSON object, else an empty one (Okta bodies of the wrong shape)."""
    return value if isinstance(value, dict) else {}


def _link(tx: dict[str, Any], name: str) -> str:
    link = _obj(tx.get("_links")).get(name) or {}
    if isinstance(link, list):
        link = link[0] if link else {}
    return str(link.get("href", "")) if isinstance(link, dict) else ""


def original_link(tx: dict[str, Any]) -> str | None:
    """After an app-level step-up: the link back to the app (``_links.next`` ``original``)."""
    link = _obj(tx.get("_links")).get("next")
    if isinstance(link, dict) and link.get("name") == "original" and link.get("href"):
        return str(link["href"])
    return None


def start(
    http: OktaHttp, *, username: str | None = None, password: str | None = None, **extra: str
) -> dict[str, Any]:
    """``POST /api/v1/authn`` with credentials and/or a ``stateToken``."""
    body: dict[str, Any] = dict(extra)
    if username is not None:
        body["username"] = username
    if password is not None:
        body["password"] = password
    return http.post_json("/api/v1/authn", body)


def drive(
    http: OktaHttp, tx: dict[str, Any], ctx: MfaContext, credentials: Credentials
) -> dict[str, Any]:
    """Move the transaction through its statuses until ``SUCCESS``; return that answer."""
    for _ in range(MAX_STEPS):
        status_ = tx.get("status")
        if status_ == "SUCCESS":
            if not tx.get("sessionToken") and not original_link(tx):
                raise OktaError("Okta reported SUCCESS without a sessionToken")
            return tx
        if status_ == "MFA_REQUIRED":
            tx = _verify_mfa(http, tx, ctx)
        elif status_ == "PASSWORD_WARN" and _link(tx, "skip"):
            ctx.prompter.info("your Okta password expires soon; change it in a browser")
            tx = http.post_json(_link(tx, "skip"), {"stateToken": tx.get("stateToken")})
        elif status_ == "UNAUTHENTICATED" and tx.get("stateToken"):
            # Step-up: this transaction (e.g. from the app's sign-in page) wants credentials.
            username, password = credentials()
            tx = http.post_json(
                _link(tx, "next") or "/api/v1/authn",
                {"username": username, "password": password, "stateToken": tx["stateToken"]},
            )
        else:
            raise _status_error(http, str(status_))
    raise OktaError("the Okta sign-in did not finish")


# -- factors ---------------------------------------------------------------------------------


def _verify_mfa(http: OktaHttp, tx: Tx, ctx: MfaContext) -> Tx:
    factors = parse_factors(tx)
    chosen = choose_method([f.method() for f in factors], ctx)
    factor: Factor = chosen.ref
    state_token = tx.get("stateToken")
    if chosen.kind == "push":
        return _verify_push(http, tx, factor, ctx)
    if chosen.kind == "webauthn":
        return _verify_security_key(http, tx, factors, factor, ctx)
    verify_url = factor.verify_url
    resend_url = ""
    if chosen.kind in SENT_CODE_KINDS:
        challenge = http.post_json(factor.verify_url, {"stateToken": state_token})
        if challenge.get("status") == "SUCCESS":
            return challenge
        verify_url = _link(challenge, "next") or factor.verify_url
        resend_url = _link(challenge, "resend")
        where = f" to {shown(factor.device)}" if factor.device else ""
        ctx.prompter.info(f"Okta sent a code {_SENT_BY[factor.kind]}{where}")

    def resend() -> None:
        http.post_json(resend_url, {"stateToken": state_token})

    def get_code() -> str:
        if chosen.kind == "question":
            return security_answer(shown(factor.question or "(Okta sent no question text)"), ctx)
        if chosen.kind in SENT_CODE_KINDS:
            return ask_sent_code(ctx, chosen.label, resend if resend_url else None)
        return passcode(chosen, ctx)

    field = "answer" if chosen.kind == "question" else "passCode"
    what = "answer" if chosen.kind == "question" else "MFA code"

    def submit(code: str) -> Tx | Refused:
        try:
            return http.post_json(verify_url, {"stateToken": state_token, field: code})
        except OktaRefusal as exc:
            kind = _REFUSALS.get(exc.code)
            if kind is None:
                raise
            said = "was already used" if kind == REPLAYED else "was not accepted"
            return Refused(kind, f"the {what} {said}; try again", exc)

    return enter_code(chosen, ctx, get_code, submit)


# Okta's error codes for a refused code or answer (the text varies by locale; the code not).
_REFUSALS = {"E0000068": WRONG, "E0000082": REPLAYED}
_SENT_BY = {"sms": "by SMS", "call": "by a voice call", "email": "by email"}


def _verify_security_key(
    http: OktaHttp, tx: dict[str, Any], factors: Sequence[Factor], first: Factor, ctx: MfaContext
) -> dict[str, Any]:
    """Security keys: Okta lists one factor per credential and binds each challenge to one.

    The first ceremony allows every enrolled credential, so whichever registered key is
    plugged in answers; an assertion is posted only to its own factor (a key that answered
    for another factor's credential is asked again with that factor's challenge). A key
    Okta refuses sends okenv on to the next enrolled key.
    """
    from okenv.okta import securitykey
    from okenv.webauthn.ceremony import get_assertion

    state_token = tx.get("stateToken")
    credentials = securitykey.classic_credentials(tx)
    urls = {f.id: f.verify_url for f in factors if f.id in credentials}
    if first.id not in urls:
        raise OktaError("Okta listed a security key factor without its credential id")
    pending = [first.id, *(fid for fid in urls if fid != first.id)]
    allowed = list(credentials.values())
    while pending:
        target = pending.pop(0)
        challenge = http.post_json(urls[target], {"stateToken": state_token})
        if challenge.get("status") == "SUCCESS":
            return challenge
        request = securitykey.classic_request(http.org_url, challenge, allowed)
        assertion = get_assertion(request, ctx.prompter)
        owner = next(fid for fid, cid in credentials.items() if cid == assertion.credential_id)
        if owner != target:
            ctx.prompter.info("Okta wants that key's own challenge: touch it once more")
            pending = [owner, *(fid for fid in pending if fid != owner)]
            allowed = [credentials[owner]]
            continue
        answer = securitykey.classic_answer(state_token, assertion)
        try:
            return http.post_json(_link(challenge, "next") or urls[target], answer)
        except OktaRefusal as exc:
            if exc.code != "E0000068":
                raise
            if not pending:
                raise
            ctx.prompter.info("Okta refused that security key; trying the next one")
            allowed = [credentials[fid] for fid in pending]
    raise AssertionError("unreachable")  # pragma: no cover


def _correct_answer(tx: Tx) -> object | None:
    factor = _obj(_obj(tx.get("_embedded")).get("factor"))
    challenge = _obj(factor.get("_embedded")).get("challenge") or {}
    return challenge.get("correctAnswer") if isinstance(challenge, dict) else None


def _verify_push(http: OktaHttp, tx: Tx, factor: Factor, ctx: MfaContext) -> Tx:
    """Send the push, then poll ``_links.next`` until approved, rejected or timed out
    (:func:`okenv.okta.mfa.wait_for_push`); giving up cancels at ``_links.cancel``."""
    state_token = tx.get("stateToken")
    links = {"cancel": _link(tx, "cancel"), "next": ""}

    def look(answer: Tx) -> PushState[Tx]:
        if answer.get("status") == "SUCCESS":
            return PushState(done=answer)
        links["cancel"] = _link(answer, "cancel") or links["cancel"]
        result = answer.get("factorResult")
        if result == "REJECTED":
            raise AuthenticationError(
                "the Okta Verify push was rejected",
                hint="if that was not you, tell your Okta admin",
            )
        if result == "TIMEOUT":
            raise AuthenticationError(
                "the Okta Verify push timed out before it was answered",
                hint="run okenv again and approve the push",
            )
        links["next"] = _link(answer, "next")
        if result != "WAITING" or not links["next"]:
            raise OktaError(f"Okta answered the push with factorResult {result!r}")
        return PushState(number=_correct_answer(answer))

    def cancel() -> None:
        if links["cancel"] and state_token:
            http.post_json(links["cancel"], {"stateToken": state_token})

    return wait_for_push(
        ctx,
        factor.device or "your phone",
        lambda: look(http.post_json(factor.verify_url, {"stateToken": state_token})),
        lambda: look(http.post_json(links["next"], {"stateToken": state_token})),
        cancel,
    )


def _status_error(http: OktaHttp, status_: str) -> Exception:
    org = http.org_url
    if status_ == "LOCKED_OUT":
        return AuthenticationError(
            "the Okta account is locked out", hint=f"unlock it at {org} or ask your Okta admin"
        )
    if status_ == "PASSWORD_EXPIRED":
        return AuthenticationError(
            "your Okta password has expired", hint=f"change it in a browser at {org}"
        )
    if status_ in ("MFA_ENROLL", "MFA_ENROLL_ACTIVATE"):
        return AuthenticationError(
            "Okta wants you to enroll an MFA factor first",
            hint=f"enroll one in a browser at {org}, then run okenv again",
        )
    if status_ == "UNAUTHENTICATED":
        return OktaError("Okta asked to sign in again in the middle of the sign-in")
    if status_ == "MFA_CHALLENGE":
        return OktaError("Okta left an MFA challenge unfinished")
    return OktaError(f"Okta answered with an unexpected sign-in status {status_!r}")
