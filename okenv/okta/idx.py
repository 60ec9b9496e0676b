"""Okta Identity Engine (IDX): the hosted sign-in page's own protocol, driven headlessly.

okenv starts from the AWS app's sign-in page (its ``stateToken``), ``introspect``\\s, then
answers the forms it knows, filling each from what it declares (:mod:`okenv.okta.idx_forms`),
until ``success``, whose link leads (through the ``idx`` session cookie) back to the app and
its SAML form. MFA goes through the engine both protocols share (:mod:`okenv.okta.mfa`);
this module only maps IDX's wire format to it. Okta's messages reach the user verbatim
(made safe to show); a form okenv does not know ends the sign-in with a message naming it.

Answered: ``identify``, ``challenge-authenticator`` (:mod:`okenv.okta.idx_answers`),
``challenge-poll``, ``authenticator-verification-data``, ``select-authenticator-authenticate``,
``keep-me-signed-in``, ``skip`` (beside an enrollment, a promotion, a profile update or a
password-expiry warning), ``device-challenge-poll`` (cancelled, as the widget does) and
``success`` / ``success-redirect``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from okenv.errors import AuthenticationError, AuthorizationError, BrowserRequired, OktaError
from okenv.okta.http import OktaHttp, OktaRefusal, refusal_code
from okenv.okta.idx_answers import ANSWERERS, Answer, answer_code, answer_password
from okenv.okta.idx_forms import (
    ERROR,
    PASSWORD,
    WARNING,
    Json,
    Message,
    authenticator_methods,
    choice_field,
    current_authenticator,
    current_method,
    describe,
    device_of,
    error_messages,
    fill_form,
    messages,
    method_options,
    remediations,
)
from okenv.okta.mfa import (
    Method,
    MfaContext,
    PushState,
    can_answer,
    choose_method,
    matches,
    shown,
    wait_for_push,
)
from okenv.okta.pages import state_token

MAX_STEPS = 30
ENROLL_FORMS = frozenset(
    {
        "select-authenticator-enroll",
        "enroll-authenticator",
        "enroll-poll",
        "enroll-profile",
        "enroll-authenticator-promotion",
    }
)
SKIPPABLE = ENROLL_FORMS | {
    "reenroll-authenticator-warning",
    "profile-update",
    "enroll-profile-update",
}

ACCESS_DENIED_KEYS = {"security.access_denied", "errors.E0000006"}
# factor setting → the IDX methodType it asks for in authenticator-verification-data
_METHOD_FOR = {"sms": "sms", "call": "voice", "email": "email", "push": "push"}


# -- the conversation -----------------------------------------------------------------------


class _Flow:
    def __init__(
        self, http: OktaHttp, ctx: MfaContext, username: str, password: Callable[[], str]
    ) -> None:
        self.http = http
        self.ctx = ctx
        self.username = username
        self.password = password
        self.password_sent = False
        self.identified = False
        self.seen: dict[str, int] = {}
        self.refused: set[str] = set()
        """Labels of methods okenv could not answer (not offered again)."""

    def post(self, form: Json, values: Json) -> Answer:
        href = form.get("href")
        if not isinstance(href, str) or not href:
            raise OktaError(f"Okta's {form.get('name')!r} step has no address")
        return self.http.post_ion(href, fill_form(form, values))

    def once(self, name: str, limit: int = 1) -> None:
        self.seen[name] = self.seen.get(name, 0) + 1
        if self.seen[name] > limit:
            raise OktaError(f"Okta asked for the {name!r} step again; okenv gives up")

    def run(self, data: Json) -> Any:
        for _ in range(MAX_STEPS):
            forms = remediations(data)
            found = messages(data)
            success = data.get("success")
            link = success.get("href") if isinstance(success, dict) else None
            if not link and forms.get("success-redirect"):
                link = forms["success-redirect"].get("href")
            self._check_messages(found, forms, bool(link))
            if link:
                return self.http.open_page(str(link))
            if not forms:
                text = " ".join(m.text for m in found)
                if text:
                    raise AuthenticationError(
                        f"Okta: {text}",
                        hint=f"finish the sign-in in a browser at {self.http.org_url}",
                    )
                raise OktaError("Okta's Identity Engine answered without a next step")
            data = self._step(forms, data)[1]
        raise OktaError("the Okta sign-in did not finish")

    def _check_messages(self, found: list[Message], forms: dict[str, Json], success: bool) -> None:
        """ERROR ends the sign-in (beside ``success``: access denied); a WARNING beside a
        fresh ``identify`` is an unknown user; other messages are shown and the flow goes on."""
        errors = [m for m in found if m.cls == ERROR]
        if errors:
            text = " ".join(m.text for m in errors)
            keys = {m.key for m in errors}
            if success or keys & ACCESS_DENIED_KEYS:
                raise AuthorizationError(
                    f"Okta: {text}", hint="ask your Okta admin for access to the AWS app"
                )
            if "idx.session.expired" in keys:
                raise AuthenticationError(
                    f"Okta: {text}", hint="the sign-in expired; run okenv again"
                )
            raise OktaRefusal(f"Okta: {text}", code=refusal_code(keys))
        for message in found:
            if message.cls == WARNING and "identify" in forms and self.identified:
                raise AuthenticationError(
                    f"Okta: {message.text}", hint="check the username (OKENV_USERNAME / username)"
                )
            self.ctx.prompter.info(f"Okta: {message.text}")

    def _step(self, forms: dict[str, Json], data: Json) -> Answer:
        if "device-challenge-poll" in forms:
            return self._cancel_probe(data)
        if "challenge-poll" in forms:
            return self._poll(forms["challenge-poll"], data)
        if "identify" in forms:
            return self._identify(forms["identify"])
        if "challenge-authenticator" in forms:
            return self._challenge(forms, data)
        if "authenticator-verification-data" in forms:
            return self._verification_data(forms, data)
        if "select-authenticator-authenticate" in forms:
            return self.select(forms["select-authenticator-authenticate"], data)
        if "keep-me-signed-in" in forms:
            return self._keep_signed_in(forms["keep-me-signed-in"])
        if "skip" in forms and SKIPPABLE & forms.keys():
            return self._skip(forms)
        org = self.http.org_url
        if "reenroll-authenticator" in forms:
            raise AuthenticationError(
                "your Okta password has expired", hint=f"change it in a browser at {org}"
            )
        if ENROLL_FORMS & forms.keys():
            raise AuthenticationError(
                "Okta wants you to enroll an authenticator first",
                hint=f"enroll one in a browser at {org}, then run okenv again",
            )
        raise OktaError(
            "Okta asked for a sign-in step okenv does not know: " + ", ".join(map(shown, forms)),
            hint=f"finish the sign-in once in a browser at {org}, or report this step",
        )

    def _identify(self, form: Json) -> Answer:
        self.once("identify")
        self.identified = True
        values: Json = {"identifier": self.username}
        if "credentials" in {f.get("name") for f in form.get("value") or [] if isinstance(f, dict)}:
            values["credentials"] = {"passcode": self.password()}
            self.password_sent = True
        return self.post(form, values)

    def _cancel_probe(self, data: Json) -> Answer:
        """FastPass: Okta probes for Okta Verify on this device; cancel, as the widget does."""
        self.once("device-challenge-poll")
        challenge = (data.get("authenticatorChallenge") or {}).get("value") or {}
        cancel = challenge.get("cancel") if isinstance(challenge, dict) else None
        if not isinstance(cancel, dict):
            raise OktaError("Okta's device probe (FastPass) offers no way to cancel it")
        return self.post(cancel, {})

    def _challenge(self, forms: dict[str, Json], data: Json) -> Answer:
        method = current_method(data)
        key = str(current_authenticator(data).get("key") or "")
        answerer = ANSWERERS.get(key)
        if answerer is None and method.kind == PASSWORD:
            answerer = answer_password
        if answerer is None and method.supported:
            answerer = answer_code
        if answerer is not None and (method.kind == PASSWORD or can_answer(method, self.ctx)):
            return answerer(self, forms["challenge-authenticator"], data, method)
        return self._choose_another(forms, data, method)

    def _choose_another(self, forms: dict[str, Json], data: Json, method: Method) -> Answer:
        """The current challenge cannot be answered here: pick another authenticator."""
        select = forms.get("select-authenticator-authenticate")
        if select is None:
            raise BrowserRequired(
                f"okenv cannot answer Okta's {method.label} challenge",
                hint="choose another authenticator with --factor, or enroll one okenv supports",
            )
        self.refused.add(method.label)
        self.ctx.prompter.info(f"cannot answer the {method.label} challenge; choosing another")
        return self.select(select, data)

    def _verification_data(self, forms: dict[str, Json], data: Json) -> Answer:
        """Okta asks how to challenge: a ``methodType`` among this form's own options, by the
        ``factor`` setting, else the only one, else a menu."""
        self.once("authenticator-verification-data", limit=3)
        form = forms["authenticator-verification-data"]
        method = current_method(data)
        if not can_answer(method, self.ctx) and "select-authenticator-authenticate" in forms:
            return self._choose_another(forms, data, method)
        field, offered = method_options(form)
        wanted = _METHOD_FOR.get(self.ctx.preference)
        if wanted in offered:
            chosen = wanted
        elif len(offered) == 1:
            chosen = offered[0]
        elif offered:
            labels = [describe(current_authenticator(data), t).label for t in offered]
            chosen = offered[self.ctx.prompter.choose("How should Okta challenge you?", labels)]
        else:
            return self.post(form, {})
        return self.post(form, {field: {"methodType": chosen}})

    def select(self, form: Json, data: Json) -> Answer:
        self.once("select-authenticator-authenticate", limit=3)
        choices = authenticator_methods(form, data)
        field = choice_field(form)
        if not self.password_sent:
            for method, value in choices:
                if method.kind == PASSWORD:
                    return self.post(form, {field: value})
        offered = [
            (replace(m, supported=False) if m.label in self.refused else m, v)
            for m, v in choices
            if m.kind != PASSWORD
        ]
        preference = self.ctx.preference
        if self.refused and not any(m.supported and matches(m, preference) for m, _ in offered):
            self.ctx.preference = "auto"  # what was asked for is what failed: any other
        chosen = choose_method([m for m, _ in offered], self.ctx)
        value = next(v for m, v in offered if m is chosen)
        return self.post(form, {field: value})

    def _keep_signed_in(self, form: Json) -> Answer:
        self.once("keep-me-signed-in")
        setting = self.ctx.keep_signed_in
        return self.post(form, {} if setting is None else {"keepMeSignedIn": setting})

    def _skip(self, forms: dict[str, Json]) -> Answer:
        self.once("skip", limit=3)
        if "reenroll-authenticator-warning" in forms:
            self.ctx.prompter.info("your Okta password expires soon; change it in a browser")
        else:
            step = sorted(SKIPPABLE & forms.keys())[0]
            self.ctx.prompter.info(f"skipped Okta's optional {step!r} step")
        return self.post(forms["skip"], {})

    def _poll(self, form: Json, data: Json) -> Answer:
        """Okta Verify push: poll until the answer changes (see ``mfa.wait_for_push``)."""
        state: dict[str, Any] = {"form": form, "cancel": data.get("cancel")}

        def look(answer: Answer) -> PushState[Answer]:
            doc = answer[1]
            forms = remediations(doc)
            if doc.get("success") or error_messages(doc) or "challenge-poll" not in forms:
                return PushState(done=answer)
            state["form"] = forms["challenge-poll"]
            if isinstance(doc.get("cancel"), dict):
                state["cancel"] = doc["cancel"]
            context = current_authenticator(doc).get("contextualData") or {}
            refresh = state["form"].get("refresh")
            return PushState(
                number=context.get("correctAnswer") if isinstance(context, dict) else None,
                refresh=refresh / 1000 if isinstance(refresh, int | float) else None,
            )

        def cancel() -> None:
            if isinstance(state["cancel"], dict):
                self.post(state["cancel"], {})

        device = device_of(current_authenticator(data)) or "your phone"
        return wait_for_push(
            self.ctx,
            device,
            lambda: look((200, data)),
            lambda: look(self.post(state["form"], {})),
            cancel,
        )


def sign_in(
    http: OktaHttp, page: Any, *, username: str, password: Callable[[], str], ctx: MfaContext
) -> Any:
    """From the app's sign-in page to the page behind IDX's ``success`` link (the soup)."""
    token = state_token(page)
    if not token:
        raise OktaError(
            "Okta's sign-in page holds no stateToken to start the Identity Engine sign-in",
            hint='check app_url, or set engine = "classic" if the org allows the Classic API',
        )
    _code, data = http.post_ion("/idp/idx/introspect", {"stateToken": token})
    return _Flow(http, ctx, username, password).run(data)


__all__ = [
    "ANSWERERS",
    "authenticator_methods",
    "describe",
    "error_messages",
    "fill_form",
    "remediations",
    "sign_in",
]
