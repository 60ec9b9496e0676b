"""Pure reading and filling of Identity Engine (IDX) documents, and what their
authenticators are in okenv's terms (:func:`describe`). No I/O.

An IDX answer lists the forms (``remediation``) that may come next; each form declares its
fields (nested ``form.value`` for objects, ``options`` for choices, immutable ``value``\\s).
:func:`fill_form` builds a body from what the form declares and nothing else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from okenv.errors import OktaError
from okenv.okta.mfa import Method, shown

Json = dict[str, Any]

ERROR, WARNING, INFO = "ERROR", "WARNING", "INFO"


@dataclass(frozen=True)
class Message:
    text: str
    """Okta's text, made safe to show (or a fallback naming the i18n key)."""
    cls: str
    key: str


def remediations(data: Json) -> dict[str, Json]:
    """The forms of an IDX answer by name (first of each name)."""
    forms: dict[str, Json] = {}
    remediation = data.get("remediation") or {}
    values = remediation.get("value") if isinstance(remediation, dict) else None
    for form in values or []:
        if isinstance(form, dict) and isinstance(form.get("name"), str):
            forms.setdefault(form["name"], form)
    return forms


def _take(messages: Any, found: list[Message]) -> None:
    values = messages.get("value") if isinstance(messages, dict) else None
    for item in values or []:
        if not isinstance(item, dict):
            continue
        i18n = item.get("i18n")
        key = str(i18n.get("key") or "") if isinstance(i18n, dict) else ""
        text = shown(str(item.get("message") or "").strip())
        if not text and not key:
            continue
        if not text:
            text = f"Okta sent message {shown(key)!r} without its text"
        cls = str(item.get("class") or ERROR).upper()
        message = Message(text, cls, key)
        if all(m.text != text for m in found):
            found.append(message)


def messages(data: Json) -> list[Message]:
    """Okta's messages of every class, top level and on form fields, without repeats."""
    found: list[Message] = []

    def walk(fields: Any) -> None:
        for field in fields or []:
            if isinstance(field, dict):
                _take(field.get("messages"), found)
                nested = field.get("form")
                if isinstance(nested, dict):
                    walk(nested.get("value"))

    _take(data.get("messages"), found)
    for form in remediations(data).values():
        walk(form.get("value"))
    return found


def error_messages(data: Json) -> list[str]:
    """The texts of Okta's ERROR messages."""
    return [m.text for m in messages(data) if m.cls == ERROR]


def _fields(form: Json) -> list[Json]:
    return [
        f for f in form.get("value") or [] if isinstance(f, dict) and isinstance(f.get("name"), str)
    ]


def field_names(form: Json) -> set[str]:
    return {f["name"] for f in _fields(form)}


def _nested_form(field: Json) -> Json | None:
    nested = field.get("form")
    if isinstance(nested, dict):
        return nested
    value = field.get("value")
    if isinstance(value, dict) and isinstance(value.get("form"), dict):
        return dict(value["form"])
    return None


def _option_values(field: Json) -> list[Any]:
    options = field.get("options")
    if not isinstance(options, list):
        return []
    return [o.get("value") for o in options if isinstance(o, dict) and "value" in o]


def fill_form(form: Json, values: Json) -> Json:
    """The JSON body for ``form``: ``values`` for the fields they name (nested forms filled
    from nested dicts), every other field's own ``value`` carried as is (``stateHandle``, an
    authenticator ``id``). Refused before anything is sent: a name the form does not
    declare, a value outside its ``options``, a change to an immutable value, a required
    field with no value."""
    step = form.get("name", "sign-in")
    fields = _fields(form)
    declared = {f["name"] for f in fields}
    extra = sorted(set(values) - declared)
    if extra:
        raise OktaError(f"Okta's {step!r} step has no field {extra[0]!r} for okenv to fill")
    body: Json = {}
    for field in fields:
        name = field["name"]
        nested = _nested_form(field)
        from_value = isinstance(field.get("value"), dict) and "form" in field["value"]
        has_value = "value" in field and not from_value
        if name in values:
            given = values[name]
            if isinstance(given, dict) and nested is not None:
                given = fill_form({**nested, "name": step}, given)
            options = _option_values(field)
            if options and not isinstance(given, dict) and given not in options:
                raise OktaError(f"Okta's {step!r} step offers no {given!r} for {name!r}")
            if has_value and field.get("mutable") is False and given != field["value"]:
                raise OktaError(f"Okta's {step!r} step does not let okenv change {name!r}")
            body[name] = given
        elif has_value:
            body[name] = field["value"]
        elif nested is not None and (from_value or field.get("required") is True):
            body[name] = fill_form({**nested, "name": step}, {})
        elif field.get("required") is True:
            raise OktaError(f"Okta's {step!r} step needs {name!r}, which okenv cannot fill")
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


def device_of(authenticator: Json) -> str | None:
    profile = authenticator.get("profile") or {}
    if not isinstance(profile, dict):
        profile = {}
    for key in ("deviceName", "phoneNumber", "email", "name"):
        if profile.get(key):
            return shown(profile[key])
    return None


def method_choices(form: Json) -> list[tuple[Json, str | None]]:
    """A selection form's options as (the option's form, methodType or None): one entry per
    method type the option offers (Okta Verify: push, code, FastPass)."""
    found: list[tuple[Json, str | None]] = []
    for field in _fields(form):
        for option in field.get("options") or []:
            option_form = _nested_form(option) if isinstance(option, dict) else None
            if option_form is None:
                continue
            method = next((f for f in _fields(option_form) if f["name"] == "methodType"), None)
            if method is None:
                found.append((option, None))
            elif _option_values(method):
                found.extend((option, str(v)) for v in _option_values(method) if v)
            else:
                found.append((option, str(method.get("value") or "") or None))
    return found


def choice_field(form: Json) -> str:
    """The name of the field that holds a selection form's options (``authenticator``)."""
    for field in _fields(form):
        if isinstance(field.get("options"), list) or _nested_form(field) is not None:
            return str(field["name"])
    raise OktaError(f"Okta's {form.get('name')!r} step offers nothing to choose")


def credential_names(form: Json) -> set[str]:
    """The names declared inside a challenge form's ``credentials`` object."""
    for field in _fields(form):
        nested = _nested_form(field)
        if field["name"] == "credentials" and nested is not None:
            return field_names(nested)
    return set()


def credential_label(form: Json, name: str) -> str:
    for field in _fields(form):
        nested = _nested_form(field)
        if field["name"] == "credentials" and nested is not None:
            for inner in _fields(nested):
                if inner["name"] == name and inner.get("label"):
                    return shown(inner["label"])
    return ""


def method_options(form: Json) -> tuple[str, list[str]]:
    """``authenticator-verification-data``: the object field's name and the ``methodType``
    values its form offers."""
    for field in _fields(form):
        nested = _nested_form(field)
        if nested is None:
            continue
        for inner in _fields(nested):
            if inner["name"] == "methodType":
                values = _option_values(inner) or [inner.get("value")]
                return str(field["name"]), [str(v) for v in values if v]
        return str(field["name"]), []
    raise OktaError(f"Okta's {form.get('name')!r} step offers nothing to choose")


# -- describing authenticators ---------------------------------------------------------------

PASSWORD = "password"  # noqa: S105  (the method type, not a secret)

_APP_NAMES = {"google_otp": "Google Authenticator", "okta_verify": "Okta Verify"}


def describe(authenticator: Json, method_type: str | None, label: str = "") -> Method:
    """One IDX authenticator + method type as a :class:`Method` (``ref`` = method type)."""
    key = str(authenticator.get("key") or "")
    kind_of = str(authenticator.get("type") or "")
    name = shown(
        _APP_NAMES.get(key)
        or str(authenticator.get("displayName") or "").strip()
        or label
        or key
        or kind_of
    )
    device = device_of(authenticator)
    suffix = f" — {device}" if device else ""
    provider = {"google_otp": "GOOGLE", "okta_verify": "OKTA"}.get(key, key.upper())
    mt = method_type or ""
    if mt == PASSWORD or kind_of == PASSWORD:
        return Method(PASSWORD, "OKTA", "Password", False, method_type)
    if key == "security_question" or mt == "security_question":
        return Method("question", provider, "Security question", True, method_type)
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
    raw = shown(mt or key or kind_of or "unknown")
    return Method(raw, provider, f"{name} ({raw})", False, method_type)


def authenticator_methods(form: Json, data: Json) -> list[tuple[Method, Json]]:
    """The choices of a ``select-authenticator-authenticate`` form: (method, the option's
    filled ``authenticator`` object), one per method type an option offers."""
    choices: list[tuple[Method, Json]] = []
    for option, method_type in method_choices(form):
        authenticator = _resolve(data, option.get("relatesTo"))
        option_form = (option.get("value") or {}).get("form") or {}
        values = {"methodType": method_type} if method_type else {}
        choices.append(
            (
                describe(authenticator, method_type, str(option.get("label") or "")),
                fill_form({**option_form, "name": form.get("name")}, values),
            )
        )
    return choices


def current_method(data: Json) -> Method:
    current = current_authenticator(data)
    types = [str(m.get("type")) for m in current.get("methods") or [] if isinstance(m, dict)]
    return describe(current, types[0] if types else None)
