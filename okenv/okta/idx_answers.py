"""Answering IDX's ``challenge-authenticator``: one answerer per authenticator key
(:data:`ANSWERERS`), each mapping its ``credentials`` fields to the MFA engine both protocols
share (:mod:`okenv.okta.mfa`). The conversation that calls them is :mod:`okenv.okta.idx`; it
is seen here only through :class:`Flow`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from okenv.errors import AuthenticationError
from okenv.okta.http import OktaHttp
from okenv.okta.idx_forms import (
    PASSWORD,
    Json,
    authenticator_methods,
    credential_label,
    credential_names,
    current_authenticator,
    messages,
    remediations,
)
from okenv.okta.mfa import (
    REPLAYED,
    WRONG,
    Method,
    MfaContext,
    Refused,
    ask_sent_code,
    can_answer,
    enter_code,
    passcode,
    security_answer,
)

# i18n keys of a refused code or answer (Okta's text varies by locale; its keys do not).
REFUSAL_KEYS = {
    "api.authn.error.PASSCODE_INVALID": WRONG,
    "errors.E0000068": WRONG,
    "errors.E0000082": REPLAYED,
    "api.authn.error.PASSCODE_REPLAYED": REPLAYED,
}

Answer = tuple[int, Json]


class Flow(Protocol):
    """What an answerer needs of the conversation (:class:`okenv.okta.idx._Flow`)."""

    http: OktaHttp
    ctx: MfaContext
    password: Callable[[], str]
    password_sent: bool
    refused: set[str]

    def post(self, form: Json, values: Json) -> Answer: ...
    def once(self, name: str, limit: int = 1) -> None: ...
    def select(self, form: Json, data: Json) -> Answer: ...


def submit_codes(
    flow: Flow, form: Json, method: Method, name: str, get_code: Callable[[], str]
) -> Answer:
    """Post codes into ``credentials.<name>`` by the shared retry rule; a refusal is read
    from the i18n keys of the answer's messages."""
    latest = [form]

    def submit(code: str) -> Answer | Refused:
        answer = flow.post(latest[0], {"credentials": {name: code}})
        doc = answer[1]
        refused = [m for m in messages(doc) if m.key in REFUSAL_KEYS]
        retry = remediations(doc).get("challenge-authenticator")
        if not refused or retry is None:
            return answer
        latest[0] = retry
        text = " ".join(m.text for m in refused)
        return Refused(
            REFUSAL_KEYS[refused[0].key], f"Okta: {text}", AuthenticationError(f"Okta: {text}")
        )

    return enter_code(method, flow.ctx, get_code, submit)


# -- answering challenge-authenticator: authenticator key → answerer ---------------------------

Answerer = Callable[[Flow, Json, Json, Method], Answer]


def answer_password(flow: Flow, form: Json, data: Json, method: Method) -> Answer:
    flow.once("password")
    flow.password_sent = True
    return flow.post(form, {"credentials": {"passcode": flow.password()}})


def answer_code(flow: Flow, form: Json, data: Json, method: Method) -> Answer:
    """A one-time code: Okta Verify's goes in ``credentials.totp``, every other one in
    ``credentials.passcode``; sent codes (SMS, call, email) offer one resend."""
    ctx = flow.ctx
    declared = credential_names(form)
    name = "totp" if "totp" in declared and method.is_totp else "passcode"
    current = current_authenticator(data)
    resend = current.get("resend")
    if method.kind in ("sms", "call", "email"):

        def resend_code() -> None:
            flow.post(resend if isinstance(resend, dict) else {}, {})

        def get_code() -> str:
            return ask_sent_code(
                ctx, method.label, resend_code if isinstance(resend, dict) else None
            )
    else:

        def get_code() -> str:
            return passcode(method, ctx)

    return submit_codes(flow, form, method, name, get_code)


def _answer_question(flow: Flow, form: Json, data: Json, method: Method) -> Answer:
    """A security question: ``credentials.answer``, the ``questionKey`` sent back as given."""
    question = credential_label(form, "questionKey") or "(Okta sent no question text)"

    def get_answer() -> str:
        return security_answer(question, flow.ctx)

    return submit_codes(flow, form, method, "answer", get_answer)


def _answer_security_key(flow: Flow, form: Json, data: Json, method: Method) -> Answer:
    """A security key: ``credentials.clientData``, ``authenticatorData``, ``signatureData``.
    When no key plugged in can answer, another authenticator okenv can use is chosen where
    Okta offers one (and ``factor`` does not insist on a key)."""
    from okenv.errors import SecurityKeyError
    from okenv.okta import securitykey
    from okenv.webauthn.ceremony import get_assertion

    flow.once("webauthn", limit=2)
    request = securitykey.idx_request(flow.http.org_url, data)
    try:
        assertion = get_assertion(request, flow.ctx.prompter)
    except SecurityKeyError as exc:
        select = remediations(data).get("select-authenticator-authenticate")
        others = [
            m
            for m, _ in (authenticator_methods(select, data) if select else [])
            if can_answer(m, flow.ctx)
            and m.kind not in (PASSWORD, "webauthn")
            and m.label not in flow.refused
        ]
        if select is None or not others or flow.ctx.preference == "webauthn":
            raise
        flow.refused.add(method.label)
        flow.ctx.prompter.info(f"{exc.message}; choosing another authenticator")
        return flow.select(select, data)
    return flow.post(form, {"credentials": securitykey.idx_credentials(assertion)})


ANSWERERS: dict[str, Answerer] = {
    "okta_password": answer_password,
    "okta_verify": answer_code,
    "google_otp": answer_code,
    "okta_email": answer_code,
    "phone_number": answer_code,
    "rsa_token": answer_code,
    "symantec_vip": answer_code,
    "yubikey_token": answer_code,
    "custom_otp": answer_code,
    "security_question": _answer_question,
    "webauthn": _answer_security_key,
}
"""How okenv answers each authenticator's ``challenge-authenticator``; an authenticator
missing here (``duo``, …) is not answered: okenv picks another one."""
