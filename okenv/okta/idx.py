"""Okta Identity Engine (IDX): the hosted sign-in page's own protocol, driven headlessly.

IDX is hypermedia: every answer lists the forms (``remediation``) that may come next.
okenv starts from the AWS app's sign-in page (its ``stateToken``), ``introspect``\\s, then
fills the forms it knows — generically: visible fields from the user, hidden values carried,
nested ``form`` fields as objects — until ``success``, whose link leads (through the
``idx`` session cookie) back to the app and its SAML form. Okta's own messages reach the
user verbatim; a form okenv does not know ends the sign-in with a message naming it.

Pure helpers (:func:`fill_form`, :func:`error_messages`, :func:`remediations`,
:func:`authenticator_methods`) do no I/O; :func:`sign_in` talks through an :class:`OktaHttp`.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from typing import Any

from okenv.errors import AuthenticationError, Interrupted, OkenvError, OktaError
from okenv.okta.http import OktaHttp
from okenv.okta.mfa import (
    Method,
    MfaContext,
    choose_method,
    matches,
    number_challenge_message,
    passcode,
    passcode_tries,
    push_timeout_error,
)
from okenv.okta.pages import state_token
from okenv.prompt import status

MAX_STEPS = 30
ENROLL_FORMS = frozenset(
    {"select-authenticator-enroll", "enroll-authenticator", "enroll-poll", "enroll-profile"}
)
PASSWORD = "password"  # noqa: S105  (the method type, not a secret)

Json = dict[str, Any]


# -- pure: reading and filling IDX documents ----------------------------------------------


def remediations(data: Json) -> dict[str, Json]:
    """The forms of an IDX answer by name (first of each name)."""
    forms: dict[str, Json] = {}
    remediation = data.get("remediation") or {}
    values = remediation.get("value") if isinstance(remediation, dict) else None
    for form in values or []:
        if isinstance(form, dict) and isinstance(form.get("name"), str):
            forms.setdefault(form["name"], form)
    return forms


def error_messages(data: Json) -> list[str]:
    """Okta's ERROR messages, top level and on form fields, in order and without repeats."""
    found: list[str] = []

    def take(messages: Any) -> None:
        values = messages.get("value") if isinstance(messages, dict) else None
        for item in values or []:
            if not isinstance(item, dict):
                continue
            text = str(item.get("message") or "").strip()
            if text and item.get("class", "ERROR") == "ERROR" and text not in found:
                found.append(text)

    def walk(fields: Any) -> None:
        for field in fields or []:
            if isinstance(field, dict):
                take(field.get("messages"))
                nested = field.get("form")
                if isinstance(nested, dict):
                    walk(nested.get("value"))

    take(data.get("messages"))
    for form in remediations(data).values():
        walk(form.get("value"))
    return found


def error_keys(data: Json) -> list[str]:
    messages = data.get("messages") or {}
    values = messages.get("value") if isinstance(messages, dict) else None
    return [
        str((item.get("i18n") or {}).get("key", ""))
        for item in values or []
        if isinstance(item, dict)
    ]


def fill_form(form: Json, values: Json) -> Json:
    """The JSON body for ``form``: ``values`` for the fields they name (nested ``form`` fields
    filled recursively from nested dicts), every other field's own ``value`` carried as is
    (``stateHandle``, an authenticator ``id``). A required field with neither is an error."""
    body: Json = {}
    for field in form.get("value") or []:
        if not isinstance(field, dict) or not isinstance(field.get("name"), str):
            continue
        name = field["name"]
        nested = field.get("form")
        if name in values:
            given = values[name]
            if isinstance(given, dict) and isinstance(nested, dict):
                body[name] = fill_form(nested, given)
            else:
                body[name] = given
        elif "value" in field and not isinstance(field["value"], dict):
            body[name] = field["value"]
        elif field.get("required"):
            raise OktaError(
                f"Okta's {form.get('name', 'sign-in')!r} step needs {name!r}, "
                "which okenv cannot fill"
            )
    return body


def _resolve(data: Json, pointer: Any) -> Json:
    """``$.authenticatorEnrollments.value[3]`` → that object of ``data`` (else {})."""
    if isinstance(pointer, list):
        pointer = pointer[0] if pointer else None
    if not isinstance(pointer, str):
        return {}
    match = re.fullmatch(r"\$\.(\w+)(?:\.value\[(\d+)\])?", pointer)
    if not match:
        return {}
    node = data.get(match[1]) or {}
    if match[2] is None:
        value: Any = node.get("value") if isinstance(node, dict) else None
        return value if isinstance(value, dict) else {}
    items = node.get("value") if isinstance(node, dict) else None
    index = int(match[2])
    item: Any = items[index] if isinstance(items, list) and index < len(items) else None
    return item if isinstance(item, dict) else {}


def current_authenticator(data: Json) -> Json:
    for name in ("currentAuthenticatorEnrollment", "currentAuthenticator"):
        node = data.get(name) or {}
        value = node.get("value") if isinstance(node, dict) else None
        if isinstance(value, dict):
            return value
    return {}


def _device(authenticator: Json) -> str | None:
    profile = authenticator.get("profile") or {}
    if not isinstance(profile, dict):
        profile = {}
    for key in ("deviceName", "phoneNumber", "email", "name"):
        if profile.get(key):
            return str(profile[key])
    return None


_APP_NAMES = {"google_otp": "Google Authenticator", "okta_verify": "Okta Verify"}


def describe(authenticator: Json, method_type: str | None, label: str = "") -> Method:
    """One IDX authenticator + method type as a :class:`Method` (``ref`` = method type)."""
    key = str(authenticator.get("key") or "")
    kind_of = str(authenticator.get("type") or "")
    name = (
        _APP_NAMES.get(key)
        or str(authenticator.get("displayName") or "").strip()
        or label
        or key
        or kind_of
    )
    device = _device(authenticator)
    suffix = f" — {device}" if device else ""
    provider = {"google_otp": "GOOGLE", "okta_verify": "OKTA"}.get(key, key.upper())
    mt = method_type or ""
    if mt == PASSWORD or kind_of == PASSWORD:
        return Method(PASSWORD, "OKTA", "Password", False, method_type)
    if mt in ("otp", "totp"):
        kind = "totp" if key in ("google_otp", "okta_verify") else "hardware"
        code = " (code)" if key == "okta_verify" else ""
        return Method(kind, provider, f"{name}{code}{suffix}", True, method_type)
    if mt == "push":
        return Method("push", provider, f"{name} (push){suffix}", True, method_type)
    if mt == "sms" or (not mt and kind_of == "phone"):
        return Method("sms", provider, f"SMS{' to ' + device if device else ''}", True, "sms")
    if mt == "voice":
        return Method("call", provider, f"Voice call{' to ' + device if device else ''}", True, mt)
    if mt == "email" or (not mt and kind_of == "email"):
        return Method("email", provider, f"Email{' to ' + device if device else ''}", True, "email")
    if mt == "webauthn" or (not mt and key == "webauthn"):
        return Method("webauthn", "FIDO", name or "Security key", True, "webauthn")
    raw = mt or key or kind_of or "unknown"
    return Method(raw, provider, f"{name} ({raw})", False, method_type)


def authenticator_methods(form: Json, data: Json) -> list[tuple[Method, Json]]:
    """The choices of a ``select-authenticator-authenticate`` form: (method, the option's
    filled ``authenticator`` object). An authenticator with several method types (Okta
    Verify: push, code, FastPass) gives one choice per type."""
    choices: list[tuple[Method, Json]] = []
    for field in form.get("value") or []:
        if not isinstance(field, dict) or not isinstance(field.get("options"), list):
            continue
        for option in field["options"]:
            option_form = ((option.get("value") or {}).get("form")) if option else None
            if not isinstance(option_form, dict):
                continue
            authenticator = _resolve(data, option.get("relatesTo"))
            label = str(option.get("label") or "")
            method_field = next(
                (
                    f
                    for f in option_form.get("value") or []
                    if isinstance(f, dict) and f.get("name") == "methodType"
                ),
                None,
            )
            if method_field is None:
                types: list[str | None] = [None]
            elif isinstance(method_field.get("options"), list):
                types = [str(o.get("value")) for o in method_field["options"] if o.get("value")]
            else:
                types = [str(method_field.get("value") or "") or None]
            for method_type in types:
                values = {"methodType": method_type} if method_type else {}
                choices.append(
                    (describe(authenticator, method_type, label), fill_form(option_form, values))
                )
    return choices


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
        self.seen: dict[str, int] = {}
        self.code_method: Method | None = None
        self.code_attempts = 0
        self.unanswerable: set[str] = set()
        """Method kinds that cannot answer here (no security key): not chosen again."""

    def post(self, form: Json, values: Json) -> tuple[int, Json]:
        href = form.get("href")
        if not isinstance(href, str) or not href:
            raise OktaError(f"Okta's {form.get('name')!r} step has no address")
        return self.http.post_ion(href, fill_form(form, values))

    def run(self, data: Json) -> Any:
        for _ in range(MAX_STEPS):
            success = data.get("success")
            if isinstance(success, dict) and success.get("href"):
                return self.http.open_page(str(success["href"]))
            forms = remediations(data)
            redirect = forms.get("success-redirect")
            if redirect and redirect.get("href"):
                return self.http.open_page(str(redirect["href"]))
            errors = error_messages(data)
            if errors:
                self._check_retry(errors, forms, data)
            if not forms:
                raise OktaError("Okta's Identity Engine answered without a next step")
            _code, data = self._step(forms, data)
        raise OktaError("the Okta sign-in did not finish")

    def _check_retry(self, errors: list[str], forms: dict[str, Json], data: Json) -> None:
        """After Okta refused something: ask again for a wrong typed code, else stop."""
        text = " ".join(errors)
        method = self.code_method
        if (
            method is not None
            and "challenge-authenticator" in forms
            and self.code_attempts < passcode_tries(method, self.ctx)
        ):
            left = passcode_tries(method, self.ctx) - self.code_attempts
            self.ctx.prompter.info(f"okenv: Okta: {text} ({left} left)")
            return
        if "idx.session.expired" in error_keys(data):
            raise AuthenticationError(f"Okta: {text}", hint="the sign-in expired; run okenv again")
        hint = None
        if method is not None and self.ctx.totp_secret and method.is_totp:
            hint = "check OKENV_TOTP_SECRET and this machine's clock"
        raise AuthenticationError(f"Okta: {text}", hint=hint)

    def _once(self, name: str, limit: int = 1) -> None:
        self.seen[name] = self.seen.get(name, 0) + 1
        if self.seen[name] > limit:
            raise OktaError(f"Okta asked for the {name!r} step again; okenv gives up")

    def _step(self, forms: dict[str, Json], data: Json) -> tuple[int, Json]:
        if "challenge-poll" in forms:
            return self._poll(forms["challenge-poll"], data)
        if "identify" in forms:
            return self._identify(forms["identify"])
        if "challenge-authenticator" in forms:
            return self._answer(forms["challenge-authenticator"], data)
        if "authenticator-verification-data" in forms:
            return self._verification_data(forms["authenticator-verification-data"])
        if "select-authenticator-authenticate" in forms:
            return self._select(forms["select-authenticator-authenticate"], data)
        if "reenroll-authenticator-warning" in forms and "skip" in forms:
            self.ctx.prompter.info("okenv: your Okta password expires soon; change it in a browser")
            self._once("skip")
            return self.post(forms["skip"], {})
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
            "Okta asked for a sign-in step okenv does not know: " + ", ".join(forms),
            hint=f"finish the sign-in once in a browser at {org}, or report this step",
        )

    def _identify(self, form: Json) -> tuple[int, Json]:
        self._once("identify")
        values: Json = {"identifier": self.username}
        if any(isinstance(f, dict) and f.get("name") == "credentials" for f in form["value"]):
            values["credentials"] = {"passcode": self.password()}
            self.password_sent = True
        return self.post(form, values)

    def _answer(self, form: Json, data: Json) -> tuple[int, Json]:
        current = current_authenticator(data)
        kind_of = str(current.get("type") or "")
        if kind_of == PASSWORD:
            self._once("password")
            self.password_sent = True
            self.code_method = None
            return self.post(form, {"credentials": {"passcode": self.password()}})
        method_types = [
            str(m.get("type")) for m in current.get("methods") or [] if isinstance(m, dict)
        ]
        method = describe(current, method_types[0] if method_types else None)
        if not method.supported:
            raise AuthenticationError(
                f"okenv cannot answer Okta's {method.label} challenge",
                hint="choose another authenticator with --factor, or enroll one okenv supports",
            )
        if method.kind == "webauthn":
            return self._security_key(form, data)
        self.code_method = method
        self.code_attempts += 1
        if method.kind in ("sms", "call", "email"):
            code = self._sent_code(method, current)
        else:
            code = passcode(method, self.ctx)
        return self.post(form, {"credentials": {"passcode": code}})

    def _security_key(self, form: Json, data: Json) -> tuple[int, Json]:
        """A security key answers; without one that can, another authenticator is chosen
        where Okta offers one okenv can use (and ``factor`` does not insist on a key)."""
        from okenv.errors import SecurityKeyError
        from okenv.okta import securitykey
        from okenv.webauthn import get_assertion

        self._once("webauthn", limit=2)
        self.code_method = None
        request = securitykey.idx_request(self.http.org_url, data)
        try:
            assertion = get_assertion(request, self.ctx.prompter)
        except SecurityKeyError as exc:
            select = remediations(data).get("select-authenticator-authenticate")
            others = [
                m
                for m, _ in (authenticator_methods(select, data) if select else [])
                if m.supported and m.kind not in (PASSWORD, "webauthn")
            ]
            if select is None or not others or self.ctx.preference == "webauthn":
                raise
            self.ctx.prompter.info(f"okenv: {exc.message}; choosing another authenticator")
            self.unanswerable.add("webauthn")
            return self._select(select, data)
        return self.post(form, {"credentials": securitykey.idx_credentials(assertion)})

    def _sent_code(self, method: Method, current: Json) -> str:
        resend = current.get("resend")
        resent = False
        while True:
            offer = "" if resent or not isinstance(resend, dict) else " (empty to send a new one)"
            code = self.ctx.prompter.ask(f"Code from the {method.label}{offer}: ").strip()
            if code or resent or not isinstance(resend, dict):
                return code
            self.post(resend, {})
            resent = True
            self.ctx.prompter.info(f"okenv: Okta sent a new code ({method.label})")

    def _verification_data(self, form: Json) -> tuple[int, Json]:
        """Phone: pick SMS or voice (``call`` preference → voice)."""
        self._once("authenticator-verification-data")
        voice = self.ctx.preference == "call"
        for field in form.get("value") or []:
            if isinstance(field, dict) and isinstance(field.get("form"), dict):
                return self.post(form, {field["name"]: {"methodType": "voice" if voice else "sms"}})
        return self.post(form, {})

    def _select(self, form: Json, data: Json) -> tuple[int, Json]:
        self._once("select-authenticator-authenticate", limit=3)
        choices = authenticator_methods(form, data)
        field = next(
            f["name"]
            for f in form.get("value") or []
            if isinstance(f, dict) and isinstance(f.get("options"), list)
        )
        if not self.password_sent:
            for method, value in choices:
                if method.kind == PASSWORD:
                    return self.post(form, {field: value})
        offered = [
            (m, v) for m, v in choices if m.kind != PASSWORD and m.kind not in self.unanswerable
        ]
        chosen = choose_method([m for m, _ in offered], self.ctx)
        value = next(v for m, v in offered if m is chosen)
        self.code_attempts = 0
        return self.post(form, {field: value})

    def _poll(self, form: Json, data: Json) -> tuple[int, Json]:
        """Okta Verify push: poll until the answer changes; show the number challenge."""
        ctx = self.ctx
        current = current_authenticator(data)
        device = _device(current) or "your phone"
        cancel = data.get("cancel") if isinstance(data.get("cancel"), dict) else None
        deadline = ctx.clock() + ctx.push_timeout
        shown: object | None = None
        try:
            with status(ctx.prompter, f"Approve the push on {device}…") as line:
                while True:
                    number = (current.get("contextualData") or {}).get("correctAnswer")
                    if number is not None and number != shown:
                        shown = number
                        line.note(number_challenge_message(number, device))
                    if ctx.clock() >= deadline:
                        self._cancel(cancel)
                        raise push_timeout_error(ctx.push_timeout)
                    refresh = form.get("refresh")
                    interval = (
                        float(refresh) / 1000
                        if isinstance(refresh, int | float) and refresh > 0
                        else ctx.poll_interval
                    )
                    ctx.sleep(interval)
                    code, answer = self.post(form, {})
                    forms = remediations(answer)
                    if (
                        answer.get("success")
                        or error_messages(answer)
                        or "challenge-poll" not in forms
                    ):
                        return code, answer
                    form = forms["challenge-poll"]
                    current = current_authenticator(answer) or current
                    if isinstance(answer.get("cancel"), dict):
                        cancel = answer["cancel"]
        except KeyboardInterrupt:
            self._cancel(cancel)
            raise Interrupted("interrupted; the Okta sign-in was cancelled") from None

    def _cancel(self, cancel: Json | None) -> None:
        if cancel is None:
            return
        with contextlib.suppress(OkenvError, KeyboardInterrupt):
            self.post(cancel, {})


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
    "authenticator_methods",
    "describe",
    "error_messages",
    "fill_form",
    "matches",
    "remediations",
    "sign_in",
]
