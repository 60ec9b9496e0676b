"""The fake org's Identity Engine (IDX): a mixin of :class:`tests.fakes.okta.FakeOkta`.

Each answer is shaped like the matching sample in /work/shared/reference/okta-idx/ (names,
nesting, options, ``relatesTo``, messages with ``class`` and ``i18n.key``,
``currentAuthenticator.contextualData``): our own fixtures, built here, not copies. Every
POST is checked against the form the fake offered at that address (:func:`form_problems`):
undeclared names, missing required fields, values outside ``options``, changed immutable
values are a 400 with Okta's message shape, and are recorded in ``idx_rejections``.

Knobs (attributes of the org, read per request):

* ``idx_identify_with_password`` — identify carries the password (else a password challenge)
* ``idx_extra_remediation`` — an unknown remediation after the password
* ``idx_poll_refresh_ms`` — the push poll form's ``refresh``
* ``idx_verification_data`` — email and phone ask ``authenticator-verification-data`` first
* ``idx_push_auto_challenge`` — False: Okta Verify push asks verification-data (autoChallenge)
* ``idx_optional_enroll`` / ``idx_passkey_promotion`` — an enrollment / promotion with ``skip``
* ``idx_keep_me_signed_in`` — ``keep-me-signed-in`` after the last factor (``idx_kmsi``: posts)
* ``idx_device_probe`` — FastPass ``device-challenge-poll`` at introspect (cancel to go on)
* ``idx_first_challenge`` — the authenticator key Okta challenges first (``webauthn``, ``duo``,
  ``security_question``…), with ``select-authenticator-authenticate`` beside it
* ``idx_access_denied`` — an ERROR ``security.access_denied`` beside ``success``
* ``reject_replayed_codes`` — a code is taken once (shared with Classic: E0000082)

An unknown user is a WARNING ``idx.unknown.user`` beside a fresh identify form (identify
without the password) or an ERROR ``errors.E0000004`` (identify with it), as Okta answers.
"""

from __future__ import annotations

import hashlib
import secrets
import string
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from tests.fakes.http import Request, Response, html_response, json_response, redirect

if TYPE_CHECKING:
    from tests.fakes.okta import FakeFactor, FakeOkta, FakeUser

ION_TYPE = "application/ion+json; okta-version=1.0.0"
ACCEPTS = "application/json; okta-version=1.0.0"
SENT = ("sms", "voice", "email")
QUESTION = ("disliked_food", "What is the food you least liked as a child?")

_ALNUM = string.ascii_letters + string.digits

Json = dict[str, Any]
Msg = tuple[str, str, str]  # (text, i18n key, class)


def rand(n: int) -> str:
    return "".join(secrets.choice(_ALNUM) for _ in range(n))


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


@dataclass
class IdxState:
    """One IDX transaction."""

    handle: str
    expires_at: float
    user: FakeUser | None = None
    password_ok: bool = False
    probe_done: bool = False
    extra_done: bool = False
    first_done: bool = False
    mfa_ok: bool = False
    current: tuple[str, str] | None = None
    """(authenticator id, method type) being challenged."""
    needs_data: bool = False
    """The current authenticator waits for authenticator-verification-data."""
    enroll_done: bool = False
    promotion_done: bool = False
    kmsi_done: bool = False
    polls: int = 0
    sent: int = 0
    offered: list[Json] = field(default_factory=list)
    """Every form of the last answer (remediations, resend, cancel…): what may be posted."""


@dataclass
class IdxAuthenticator:
    id: str
    key: str
    type: str
    display_name: str
    methods: dict[str, FakeFactor | None]
    """method type → the factor behind it (None: enrolled, but the fake cannot verify it)."""
    profile: dict[str, Any] = field(default_factory=dict)


# -- validating a posted body against the form it was posted to ------------------------------


def _option_values(spec: Json) -> list[Any]:
    return [o.get("value") for o in spec.get("options") or [] if isinstance(o, dict)]


def form_problems(fields: Sequence[Json], body: Any, where: str = "") -> list[str]:
    """What is wrong with ``body`` for a form with ``fields`` (empty: nothing)."""
    if not isinstance(body, dict):
        return [f"{where or 'the body'} is not an object"]
    problems: list[str] = []
    by_name = {f["name"]: f for f in fields if isinstance(f, dict) and "name" in f}
    problems += [f"{where}{name!r} is not declared" for name in body if name not in by_name]
    for name, spec in by_name.items():
        path = f"{where}{name}."
        if name not in body:
            if spec.get("required") is True:
                problems.append(f"{where}{name!r} is required")
            continue
        given = body[name]
        value = spec.get("value")
        nested = spec.get("form") or (value.get("form") if isinstance(value, dict) else None)
        options = _option_values(spec)
        if nested is not None:
            problems += form_problems(nested.get("value") or [], given, path)
        elif options and all(isinstance(o, dict) and "form" in o for o in options):
            if all(form_problems(o["form"].get("value") or [], given, path) for o in options):
                problems.append(f"{where}{name!r} matches none of the options")
        elif options and given not in options:
            problems.append(f"{where}{name!r}: {given!r} is not an option")
        elif "value" in spec and spec.get("mutable") is False and given != value:
            problems.append(f"{where}{name!r} is immutable")
        elif spec.get("type") == "boolean" and not isinstance(given, bool):
            problems.append(f"{where}{name!r} must be a boolean")
    return problems


def _forms_in(node: Any) -> Iterator[Json]:
    """Every form anywhere in an answer (remediations, ``resend``, ``cancel``, probe cancel)."""
    if isinstance(node, dict):
        if isinstance(node.get("href"), str) and "rel" in node and "value" in node:
            yield node
        for child in node.values():
            yield from _forms_in(child)
    elif isinstance(node, list):
        for child in node:
            yield from _forms_in(child)


def _webauthn() -> Any:
    from tests.fakes import okta_webauthn  # it builds on the fake org

    return okta_webauthn


def ion(doc: Json, status: int = 200) -> Response:
    response = json_response(doc, status)
    response.headers = [(k, v) for k, v in response.headers if k.lower() != "content-type"]
    response.headers.insert(0, ("Content-Type", ION_TYPE))
    return response


def messages(items: Sequence[Msg]) -> Json:
    return {
        "type": "array",
        "value": [
            {"message": text, "i18n": {"key": key, "params": []}, "class": cls}
            for text, key, cls in items
        ],
    }


def error(text: str, key: str) -> Msg:
    return (text, key, "ERROR")


def expired() -> Response:
    doc = {"version": "1.0.0", "intent": "LOGIN"}
    doc["messages"] = messages([error("The session has expired.", "idx.session.expired")])
    return ion(doc, 401)


class IdxOrg:
    """The IDX endpoints and documents (mixed into FakeOkta, which provides the users,
    sessions, clock and state lock)."""

    def _idx_setup(self: FakeOkta) -> None:
        self.idx_verification_data = False
        self.idx_push_auto_challenge = True
        self.idx_optional_enroll = False
        self.idx_passkey_promotion = False
        self.idx_keep_me_signed_in = False
        self.idx_device_probe = False
        self.idx_first_challenge: str | None = None
        self.webauthn: Any = None
        """The WebAuthn verifier behind ``webauthn`` factors (tests.fakes.okta_webauthn)."""
        self.idx_access_denied = False
        self.idx_kmsi: list[Any] = []
        """The keepMeSignedIn values posted."""
        self.idx_posts: list[tuple[str, Json]] = []
        """(form name, body) of every accepted IDX post."""
        self.idx_rejections: list[str] = []
        """Why each refused IDX post was refused (a test of okenv expects none)."""
        self.idx_rejections_expected = False
        """True: a test of the fake's strictness; the fixture then allows rejections."""
        self.idx_states: dict[str, IdxState] = {}
        self.idx_redirects: dict[str, FakeUser] = {}
        r = self.add_route
        r("POST", r"/idp/idx/introspect", self._idx_introspect)
        for path in (
            "identify",
            "challenge",
            "challenge/answer",
            "challenge/resend",
            "challenge/poll",
            "authenticators/poll",
            "authenticators/poll/cancel",
            "cancel",
            "skip",
            "keep-me-signed-in",
            "credential/enroll",
            "enroll",
        ):
            r("POST", "/idp/idx/" + path, self._idx_post)
        r("GET", r"/login/token/redirect", self._idx_token_redirect)

    # -- shapes -----------------------------------------------------------------------------

    def _idx_form(
        self: FakeOkta, name: str, path: str, state: IdxState, *fields: Json, **extra: Any
    ) -> Json:
        handle = {
            "name": "stateHandle",
            "required": True,
            "value": state.handle,
            "visible": False,
            "mutable": False,
        }
        return {
            "rel": ["create-form"],
            "name": name,
            **extra,
            "href": self.url + path,
            "method": "POST",
            "produces": ION_TYPE,
            "value": [*fields, handle],
            "accepts": ACCEPTS,
        }

    def _idx_aid(self: FakeOkta, user: FakeUser, key: str) -> str:
        return "aut" + hashlib.sha256(f"{user.username}/{key}".encode()).hexdigest()[:17]

    def _idx_authenticators(self: FakeOkta, user: FakeUser) -> list[IdxAuthenticator]:
        """The user's factors as IDX authenticators (Okta Verify groups push and code)."""
        found: list[IdxAuthenticator] = []
        kinds: dict[str, FakeFactor] = {}
        for f in user.factors:
            kinds.setdefault(f"{f.factor_type}/{f.provider}", f)
            kinds.setdefault(f.factor_type, f)

        def add(
            key: str, type_: str, name: str, methods: Json, profile: Json | None = None
        ) -> None:
            found.append(
                IdxAuthenticator(self._idx_aid(user, key), key, type_, name, methods, profile or {})
            )

        if "token:software:totp/GOOGLE" in kinds:
            add(
                "google_otp",
                "app",
                "Google Authenticator",
                {"otp": kinds["token:software:totp/GOOGLE"]},
            )
        push, ov_totp = kinds.get("push/OKTA"), kinds.get("token:software:totp/OKTA")
        if push is not None or ov_totp is not None:
            methods: dict[str, FakeFactor | None] = {}
            if push is not None:
                methods.update(signed_nonce=None, push=push)
            if ov_totp is not None:
                methods["totp"] = ov_totp
            device = (push.profile or {}).get("name") if push and push.profile else None
            add(
                "okta_verify",
                "app",
                "Okta Verify",
                methods,
                {"deviceName": device or f"{user.first_name}'s iPhone"},
            )
        phone = {m: kinds[t] for t, m in (("sms", "sms"), ("call", "voice")) if t in kinds}
        if phone:
            add("phone_number", "phone", "Phone", dict(phone), {"phoneNumber": "+1 XXX-XXX-4321"})
        if "email" in kinds:
            masked = user.username[0] + "***@" + user.username.partition("@")[2]
            add("okta_email", "email", "Email", {"email": kinds["email"]}, {"email": masked})
        hardware = kinds.get("token:hardware") or kinds.get("token")
        if hardware is not None:
            add("yubikey_token", "security_key", "YubiKey", {"otp": hardware})
        if "question" in kinds:
            add(
                "security_question",
                "security_question",
                "Security Question",
                {"security_question": kinds["question"]},
                {"questionKey": QUESTION[0], "question": QUESTION[1]},
            )
        if "webauthn" in kinds or "u2f" in kinds:
            key = kinds.get("webauthn") if self.webauthn is not None else None
            add("webauthn", "security_key", "Security Key or Biometric", {"webauthn": key})
        if "web" in kinds:
            add("duo", "app", "Duo Security", {"duo": None})
        return found

    def _idx_password_json(self: FakeOkta, user: FakeUser) -> Json:
        return {
            "type": "password",
            "key": "okta_password",
            "id": self._idx_aid(user, "password"),
            "displayName": "Password",
            "methods": [{"type": "password"}],
        }

    def _idx_auth_json(self: FakeOkta, auth: IdxAuthenticator, method: str | None = None) -> Json:
        body: Json = {
            "type": auth.type,
            "key": auth.key,
            "id": auth.id,
            "displayName": auth.display_name,
            "methods": [{"type": m} for m in ([method] if method else auth.methods)],
        }
        if auth.profile:
            body["profile"] = dict(auth.profile)
        return body

    def _idx_option(self, auth_id: str, label: str, methods: Sequence[str], index: int) -> Json:
        method: Json = {"name": "methodType", "required": False}
        if len(methods) == 1:
            method.update(value=methods[0], mutable=False)
        else:
            method.update(
                type="string",
                mutable=True,
                visible=False,
                options=[{"value": m, "label": _METHOD_LABELS.get(m, m)} for m in methods],
            )
        id_field = {"name": "id", "required": True, "value": auth_id, "mutable": False}
        return {
            "label": label,
            "value": {"form": {"value": [id_field, method]}},
            "relatesTo": f"$.authenticatorEnrollments.value[{index}]",
        }

    def _idx_select_form(
        self: FakeOkta, state: IdxState, auths: list[IdxAuthenticator], name: str, path: str
    ) -> Json:
        assert state.user is not None
        options = [
            self._idx_option(a.id, a.display_name, list(a.methods), i) for i, a in enumerate(auths)
        ]
        if name == "select-authenticator-authenticate":
            password = self._idx_password_json(state.user)
            options.append(self._idx_option(password["id"], "Password", ["password"], len(auths)))
        field_ = {"name": "authenticator", "type": "object", "options": options}
        if name != "select-authenticator-authenticate":
            field_["required"] = True
        return self._idx_form(name, path, state, field_)

    def _idx_credentials(self, *inner: Json) -> Json:
        return {
            "name": "credentials",
            "type": "object",
            "required": True,
            "form": {"value": list(inner)},
        }

    # -- the document for the state's current step --------------------------------------------

    def _idx_doc(
        self: FakeOkta,
        state: IdxState,
        status: int = 200,
        top: Sequence[Msg] = (),
        on_field: Sequence[Msg] = (),
    ) -> Response:
        doc: Json = {
            "version": "1.0.0",
            "stateHandle": state.handle,
            "expiresAt": iso(state.expires_at),
            "intent": "LOGIN",
        }
        forms: list[Json] = []
        top = list(top)
        user = state.user
        field_messages = {"messages": messages(on_field)} if on_field else {}
        if user is None and self.idx_device_probe and not state.probe_done:
            forms.append(
                self._idx_form(
                    "device-challenge-poll",
                    "/idp/idx/authenticators/poll",
                    state,
                    relatesTo="authenticatorChallenge",
                    refresh=2000,
                )
            )
            doc["authenticatorChallenge"] = {
                "type": "object",
                "value": {
                    "challengeMethod": "LOOPBACK",
                    "challengeRequest": rand(64),
                    "domain": "http://localhost",
                    "ports": ["2000", "6511", "6512", "6513"],
                    "cancel": self._idx_form(
                        "cancel-polling", "/idp/idx/authenticators/poll/cancel", state
                    ),
                },
            }
        elif user is None:
            fields: list[Json] = [{"name": "identifier", "label": "Username", "required": True}]
            if self.idx_identify_with_password:
                fields.append(
                    self._idx_credentials({"name": "passcode", "label": "Password", "secret": True})
                )
            fields.append(
                {"name": "rememberMe", "type": "boolean", "label": "Remember this device"}
            )
            forms.append(self._idx_form("identify", "/idp/idx/identify", state, *fields))
            forms.append(self._idx_form("select-enroll-profile", "/idp/idx/enroll", state))
        elif not state.password_ok:
            forms.append(
                self._idx_form(
                    "challenge-authenticator",
                    "/idp/idx/challenge/answer",
                    state,
                    self._idx_credentials(
                        {"name": "passcode", "label": "Password", "secret": True, **field_messages}
                    ),
                    relatesTo=["$.currentAuthenticatorEnrollment"],
                )
            )
            doc["currentAuthenticatorEnrollment"] = {
                "type": "object",
                "value": self._idx_password_json(user),
            }
        elif self.idx_extra_remediation and not state.extra_done:
            name = self.idx_extra_remediation
            forms.append(self._idx_form(name, f"/idp/idx/{name}", state))
        elif not state.mfa_ok:
            self._idx_mfa(state, user, doc, forms, field_messages)
        elif self.idx_optional_enroll and not state.enroll_done:
            auths = [
                IdxAuthenticator(
                    self._idx_aid(user, "phone-new"),
                    "phone_number",
                    "phone",
                    "Phone",
                    {"sms": None, "voice": None},
                )
            ]
            doc["authenticators"] = {"type": "array", "value": [self._idx_auth_json(auths[0])]}
            doc["authenticatorEnrollments"] = doc["authenticators"]
            forms.append(
                self._idx_select_form(
                    state, auths, "select-authenticator-enroll", "/idp/idx/credential/enroll"
                )
            )
            forms.append(self._idx_form("skip", "/idp/idx/skip", state))
        elif self.idx_passkey_promotion and not state.promotion_done:
            creds = [
                {"name": n, "label": n, "visible": False, "required": True, "hint": "webauthn"}
                for n in ("clientData", "attestation", "transports", "clientExtensions")
            ]
            forms.append(
                self._idx_form(
                    "enroll-authenticator-promotion",
                    "/idp/idx/credential/enroll",
                    state,
                    {"name": "credentials", "form": {"value": creds}},
                    relatesTo=["$.currentAuthenticator"],
                )
            )
            forms.append(self._idx_form("skip", "/idp/idx/skip", state))
            doc["currentAuthenticator"] = {
                "type": "object",
                "value": {
                    "displayName": "Passkeys",
                    "type": "security_key",
                    "key": "webauthn",
                    "id": self._idx_aid(user, "passkey"),
                    "contextualData": {"activationData": {"challenge": rand(20)}},
                },
            }
        elif self.idx_keep_me_signed_in and not state.kmsi_done:
            forms.append(
                self._idx_form(
                    "keep-me-signed-in",
                    "/idp/idx/keep-me-signed-in",
                    state,
                    {
                        "name": "keepMeSignedIn",
                        "type": "boolean",
                        "label": "Stay signed in",
                        "required": True,
                        "value": False,
                        "mutable": True,
                    },
                )
            )
        else:
            short = rand(46)
            with self._state_lock:
                self.idx_redirects[short] = user
            doc["success"] = {
                "name": "success-redirect",
                "href": f"{self.url}/login/token/redirect?stateToken={short}",
            }
            if self.idx_access_denied:
                top.append(
                    error(
                        "You do not have permission to perform the requested action.",
                        "security.access_denied",
                    )
                )
        if forms:
            doc["remediation"] = {"type": "array", "value": forms}
        if top:
            doc["messages"] = messages(top)
        if user is not None:
            doc["user"] = {
                "type": "object",
                "value": {"id": user.user_id, "identifier": user.username},
            }
        doc["cancel"] = self._idx_form("cancel", "/idp/idx/cancel", state)
        state.offered = list(_forms_in(doc))
        return ion(doc, status)

    def _idx_mfa(
        self: FakeOkta,
        state: IdxState,
        user: FakeUser,
        doc: Json,
        forms: list[Json],
        field_messages: Json,
    ) -> None:
        auths = self._idx_authenticators(user)
        doc["authenticatorEnrollments"] = {
            "type": "array",
            "value": [
                *(self._idx_auth_json(a) for a in auths),
                self._idx_password_json(user),
                *(_webauthn().idx_enrollments(self, user) if self.webauthn else ()),
            ],
        }
        if user.status_after_password == "MFA_ENROLL":
            forms.append(
                self._idx_select_form(
                    state, auths, "select-authenticator-enroll", "/idp/idx/credential/enroll"
                )
            )
            return
        select = self._idx_select_form(
            state, auths, "select-authenticator-authenticate", "/idp/idx/challenge"
        )
        if state.current is None and self.idx_first_challenge and not state.first_done:
            state.first_done = True
            first = next((a for a in auths if a.key == self.idx_first_challenge), None)
            if first is not None:
                self._idx_choose(state, first, next(iter(first.methods)))
        usable = [(a, m) for a in auths for m, f in a.methods.items() if f is not None]
        if state.current is None and len(auths) == 1 and len(usable) == 1:
            self._idx_choose(state, usable[0][0], usable[0][1])
        current = next((a for a in auths if state.current and a.id == state.current[0]), None)
        if current is None or state.current is None:
            forms.append(select)
            return
        method = state.current[1]
        info = self._idx_auth_json(current, method)
        where = (
            "currentAuthenticator" if current.type == "app" else "currentAuthenticatorEnrollment"
        )
        pointer = [f"$.{where}"]
        if state.needs_data:
            inner: list[Json] = [
                {"name": "id", "required": True, "value": current.id, "mutable": False},
                {
                    "name": "methodType",
                    "type": "string",
                    "required": True,
                    "options": [
                        {"label": _METHOD_LABELS.get(m, m), "value": m}
                        for m in current.methods
                        if m in (*SENT, "push")
                    ],
                },
            ]
            if method == "push":
                inner.append(
                    {
                        "name": "autoChallenge",
                        "type": "boolean",
                        "required": "false",
                        "value": False,
                        "label": "Send push automatically",
                        "visible": True,
                        "mutable": True,
                    }
                )
            forms.append(
                self._idx_form(
                    "authenticator-verification-data",
                    "/idp/idx/challenge",
                    state,
                    {
                        "name": "authenticator",
                        "label": current.display_name,
                        "form": {"value": inner},
                    },
                    relatesTo=pointer,
                )
            )
        elif method == "push":
            factor = current.methods.get("push")
            if factor is not None and factor.push_correct_answer is not None:
                info["contextualData"] = {"correctAnswer": str(factor.push_correct_answer)}
            forms.append(
                self._idx_form(
                    "challenge-poll",
                    "/idp/idx/authenticators/poll",
                    state,
                    relatesTo=pointer,
                    refresh=self.idx_poll_refresh_ms,
                )
            )
        else:
            forms.append(
                self._idx_form(
                    "challenge-authenticator",
                    "/idp/idx/challenge/answer",
                    state,
                    self._idx_credentials(*self._idx_answer_fields(method, field_messages)),
                    relatesTo=pointer,
                )
            )
            if method in SENT:
                info["resend"] = self._idx_form("resend", "/idp/idx/challenge/resend", state)
            if method == "webauthn" and self.webauthn is not None:
                info["contextualData"] = _webauthn().idx_challenge_data(self, state)
            elif method == "webauthn":
                info["contextualData"] = {
                    "challengeData": {
                        "challenge": rand(20),
                        "userVerification": "preferred",
                    }
                }
        doc[where] = {"type": "object", "value": info}
        forms.append(select)

    def _idx_answer_fields(self, method: str, field_messages: Json) -> list[Json]:
        if method == "totp":
            return [
                {
                    "name": "totp",
                    "label": "Enter code from Okta Verify app",
                    "visible": True,
                    "required": True,
                    **field_messages,
                }
            ]
        if method == "security_question":
            return [
                {
                    "name": "questionKey",
                    "label": QUESTION[1],
                    "required": True,
                    "value": QUESTION[0],
                    "visible": False,
                    "mutable": False,
                },
                {"name": "answer", "label": "answer", "required": True, **field_messages},
            ]
        if method == "webauthn":
            return [
                {"name": n, "required": True, "visible": False}
                for n in ("clientData", "authenticatorData", "signatureData")
            ]
        if method == "duo":
            return [{"name": "signatures", "required": True, "visible": False}]
        return [{"name": "passcode", "label": "Enter code", "required": True, **field_messages}]

    def _idx_choose(self: FakeOkta, state: IdxState, auth: IdxAuthenticator, method: str) -> None:
        state.current, state.polls = (auth.id, method), 0
        state.needs_data = (self.idx_verification_data and method in SENT) or (
            method == "push" and not self.idx_push_auto_challenge
        )
        if method in SENT and not state.needs_data:
            state.sent += 1

    # -- endpoints --------------------------------------------------------------------------

    def _idx_state(self: FakeOkta, handle: Any) -> IdxState | None:
        if not isinstance(handle, str):
            return None
        with self._state_lock:
            state = self.idx_states.get(handle)
        if state is None or state.expires_at <= self.now():
            return None
        return state

    def _idx_introspect(self: FakeOkta, request: Request) -> Response:
        body = request.json if isinstance(request.json, dict) else {}
        state = self._idx_state(body.get("stateToken"))
        return expired() if state is None else self._idx_doc(state)

    def _idx_post(self: FakeOkta, request: Request) -> Response:
        """Every IDX form post: find the form offered at this address, check the body
        against it, then act for that form."""
        body = request.json if isinstance(request.json, dict) else None
        state = self._idx_state((body or {}).get("stateHandle"))
        if state is None:
            return expired()
        url = self.url + request.path
        offered = [f for f in state.offered if f.get("href") == url]
        problems: list[str] = []
        for form in offered:
            found = form_problems(form.get("value") or [], body)
            if not found:
                with self._state_lock:
                    self.idx_posts.append((str(form["name"]), dict(body or {})))
                return self._idx_act(state, str(form["name"]), body or {})
            problems += found
        reason = "; ".join(problems) or f"no form of this step posts to {request.path}"
        with self._state_lock:
            self.idx_rejections.append(reason)
        return ion(
            {
                "version": "1.0.0",
                "messages": messages([error(f"Api validation failed: {reason}", "E0000001")]),
            },
            400,
        )

    def _idx_act(self: FakeOkta, state: IdxState, name: str, body: Json) -> Response:
        if name == "identify":
            return self._idx_identify(state, body)
        if name in ("select-authenticator-authenticate", "authenticator-verification-data"):
            return self._idx_challenge(state, body["authenticator"], name)
        if name == "challenge-authenticator":
            return self._idx_answer(state, body.get("credentials") or {})
        if name == "resend":
            state.sent += 1
            return self._idx_doc(state)
        if name == "challenge-poll":
            return self._idx_poll(state)
        if name == "cancel-polling":
            state.probe_done = True
            return self._idx_doc(state)
        if name == "cancel":
            with self._state_lock:
                self.idx_states.pop(state.handle, None)
            return ion({"version": "1.0.0", "intent": "LOGIN"})
        if name == "skip":
            if self.idx_optional_enroll and not state.enroll_done:
                state.enroll_done = True
            else:
                state.promotion_done = True
            return self._idx_doc(state)
        if name == "keep-me-signed-in":
            with self._state_lock:
                self.idx_kmsi.append(body.get("keepMeSignedIn"))
            state.kmsi_done = True
            return self._idx_doc(state)
        if name == self.idx_extra_remediation:
            state.extra_done = True
            return self._idx_doc(state)
        return self._idx_doc(
            state, 400, [error(f"{name} is not supported here", "api.idx.invalid")]
        )

    def _idx_identify(self: FakeOkta, state: IdxState, body: Json) -> Response:
        try:
            user: FakeUser | None = self.user(str(body.get("identifier", "")))
        except KeyError:
            user = None
        if self.idx_identify_with_password:
            given = (body.get("credentials") or {}).get("passcode")
            if user is None or given != user.password:
                return self._idx_doc(
                    state, 401, [error("Authentication failed", "errors.E0000004")]
                )
            state.user, state.password_ok = user, True
        elif user is None:
            text = f"There is no account with the Username {body.get('identifier')}."
            return self._idx_doc(state, 400, [(text, "idx.unknown.user", "WARNING")])
        else:
            state.user = user
        if not user.factors or not self.org_mfa:
            state.mfa_ok = state.password_ok
        return self._idx_doc(state)

    def _idx_challenge(self: FakeOkta, state: IdxState, chosen: Json, name: str) -> Response:
        if state.user is None:
            return expired()
        if chosen.get("id") == self._idx_aid(state.user, "password"):
            state.password_ok, state.current = False, None
            return self._idx_doc(state)
        auth = next((a for a in self._idx_authenticators(state.user) if a.id == chosen["id"]), None)
        if auth is None:
            return self._idx_doc(state, 400, [error("Invalid authenticator", "api.idx.invalid")])
        method = str(chosen.get("methodType") or next(iter(auth.methods)))
        if name == "authenticator-verification-data":
            state.needs_data = False
            state.current = (auth.id, method)
            if method in SENT:
                state.sent += 1
            return self._idx_doc(state)
        self._idx_choose(state, auth, method)
        return self._idx_doc(state)

    def _idx_factor(self: FakeOkta, state: IdxState) -> FakeFactor | None:
        if state.user is None or state.current is None:
            return None
        for auth in self._idx_authenticators(state.user):
            if auth.id == state.current[0]:
                return auth.methods.get(state.current[1])
        return None

    def _idx_answer(self: FakeOkta, state: IdxState, credentials: Json) -> Response:
        assert state.user is not None
        if not state.password_ok:
            if credentials.get("passcode") != state.user.password:
                return self._idx_doc(
                    state, 401, on_field=[error("Password is incorrect", "incorrectPassword")]
                )
            state.password_ok = True
            state.mfa_ok = not state.user.factors or not self.org_mfa
            return self._idx_doc(state)
        factor = self._idx_factor(state)
        method = state.current[1] if state.current else ""
        if factor is None:
            return self._idx_doc(state, 400, [error("Nothing to answer", "api.idx.invalid")])
        if method == "webauthn":
            refused = _webauthn().idx_verify(self, state, {"credentials": credentials})
            if refused is not None:
                return self._idx_doc(state, *refused)
            state.mfa_ok = True
            return self._idx_doc(state)
        name = {"totp": "totp", "security_question": "answer"}.get(method, "passcode")
        outcome = self.check_code(factor, credentials.get(name))
        if outcome == "replayed":
            text = "Each code can only be used once. Please wait for a new code and try again."
            return self._idx_doc(state, 401, on_field=[error(text, "errors.E0000082")])
        if outcome != "ok":
            return self._idx_doc(
                state,
                401,
                on_field=[error("Invalid code. Try again.", "api.authn.error.PASSCODE_INVALID")],
            )
        state.mfa_ok = True
        return self._idx_doc(state)

    def _idx_poll(self: FakeOkta, state: IdxState) -> Response:
        factor = self._idx_factor(state)
        if factor is None or state.current is None or state.current[1] != "push":
            return self._idx_doc(state, 400, [error("Nothing to poll", "api.idx.invalid")])
        results = factor.push_results or ["SUCCESS"]
        result = results[min(state.polls, len(results) - 1)]
        state.polls += 1
        if result == "SUCCESS":
            state.mfa_ok = True
        elif result in ("REJECTED", "TIMEOUT"):
            state.current = None
            text, key = _PUSH_ENDINGS[result]
            return self._idx_doc(state, 200, [error(text, key)])
        return self._idx_doc(state)

    def _idx_token_redirect(self: FakeOkta, request: Request) -> Response:
        with self._state_lock:
            user = self.idx_redirects.pop(request.query.get("stateToken", ""), None)
        if user is None:
            return html_response("<html><body><h1>403</h1></body></html>", 403)
        session = self._new_session(user, mfa=True, cookie="idx")
        return self._set_sid(redirect(self.app_url), session)


_METHOD_LABELS = {
    "signed_nonce": "Use Okta FastPass",
    "push": "Get a push notification",
    "totp": "Enter a code",
    "sms": "SMS",
    "voice": "Voice call",
    "email": "Email",
    "otp": "Enter a code",
}
_PUSH_ENDINGS = {
    "REJECTED": ("You have chosen to reject this login.", "api.authn.poll.error.push_rejected"),
    "TIMEOUT": ("Your push notification has expired.", "api.authn.poll.error.push_timeout"),
}
