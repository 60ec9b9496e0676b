"""What both Okta engines share about MFA: choosing a method, codes, waiting for a push.

A :class:`Method` is one way to pass MFA (a Classic factor, or an Identity Engine
authenticator with one of its method types), described in the user's terms (``kind``:
``totp``, ``hotp``, ``hardware``, ``push``, ``sms``, ``call``, ``email``, ``webauthn``). No I/O here
except through the injected prompter.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from okenv.errors import AuthenticationError
from okenv.prompt import Prompter

SUPPORTED_KINDS = ("totp", "hotp", "hardware", "push", "sms", "call", "email", "webauthn")
PASSCODE_KINDS = ("totp", "hotp", "hardware")
SENT_CODE_KINDS = ("sms", "call", "email")
PASSCODE_TRIES = 3
POLL_INTERVAL = 2.0  # seconds between push polls (Classic: Okta gives no hint)
PUSH_TIMEOUT = 300.0  # seconds to wait for a push answer (Okta's own window is 5 minutes)


@dataclass(frozen=True)
class Method:
    kind: str
    """One of :data:`SUPPORTED_KINDS`, or the raw type of an unsupported one."""
    provider: str
    label: str
    supported: bool
    ref: Any = field(default=None, compare=False)
    """The engine's own object (a Classic factor, an IDX option)."""

    @property
    def is_totp(self) -> bool:
        return self.kind == "totp"


@dataclass
class MfaContext:
    """How to talk to the user and how long to wait; everything a test may want to change."""

    prompter: Prompter
    preference: str = "auto"
    totp_secret: str | None = None
    poll_interval: float = POLL_INTERVAL
    push_timeout: float = PUSH_TIMEOUT
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic


def matches(method: Method, preference: str) -> bool:
    """``factor`` setting → does ``method`` fit it (``totp``, ``google-totp``, ``push``, …)."""
    if preference.endswith("-totp"):
        return method.is_totp and method.provider.lower() == preference[: -len("-totp")]
    if preference == "totp":
        return method.kind in ("totp", "hotp")
    return method.kind == preference


def choose_method(methods: Sequence[Method], ctx: MfaContext) -> Method:
    """The configured method, else ``auto``: TOTP with a seed, else push, else a security
    key, else the only one or a menu. Unsupported methods are named, never offered."""
    usable = [m for m in methods if m.supported]
    unusable = [m for m in methods if not m.supported]
    if not usable:
        offered = ", ".join(m.label for m in methods) or "none"
        raise AuthenticationError(
            f"none of your Okta MFA methods can be used by okenv (enrolled: {offered})",
            hint="enroll Okta Verify (push or code), Google Authenticator, SMS or email in Okta",
        )
    preference = ctx.preference
    if preference != "auto":
        wanted = [m for m in usable if matches(m, preference)]
        if not wanted:
            raise AuthenticationError(
                f"no enrolled Okta MFA method matches factor = {preference!r}",
                hint="enrolled: " + ", ".join(m.label for m in methods),
            )
        usable = wanted
    if len(usable) == 1:
        return usable[0]
    if ctx.totp_secret:
        totp = [m for m in usable if m.is_totp]
        if totp:
            return totp[0]
    if preference == "auto":
        for kind in ("push", "webauthn"):
            found = [m for m in usable if m.kind == kind]
            if found:
                return found[0]
    if unusable and ctx.prompter.interactive:
        ctx.prompter.info(
            "okenv: not offered (okenv cannot use them): " + ", ".join(m.label for m in unusable)
        )
    return usable[ctx.prompter.choose("Choose an MFA factor:", [m.label for m in usable])]


def totp_code(secret: str) -> str:
    """The current code for a base32 seed (Okta and Google issue 80-bit seeds: accept them)."""
    import pyotp

    class _TOTP(pyotp.TOTP):
        min_secret_length_bits = 0  # pyotp ≥ 2.10 refuses seeds shorter than 112 bits

    return str(_TOTP("".join(secret.split()).upper()).now())


def uses_seed(method: Method, ctx: MfaContext) -> bool:
    return bool(ctx.totp_secret) and method.is_totp


def passcode(method: Method, ctx: MfaContext) -> str:
    """A code for a passcode method: computed from OKENV_TOTP_SECRET, else asked."""
    if ctx.totp_secret and method.is_totp:
        try:
            return totp_code(ctx.totp_secret)
        except Exception:  # binascii.Error and friends: not base32
            raise AuthenticationError(
                "OKENV_TOTP_SECRET is not a valid base32 TOTP seed",
                hint="use the seed shown when the authenticator was enrolled",
            ) from None
    return ctx.prompter.ask(f"MFA code ({method.label}): ").strip()


def passcode_tries(method: Method, ctx: MfaContext) -> int:
    """How many codes to try: one when nobody types them, else a few."""
    if uses_seed(method, ctx) or not ctx.prompter.interactive:
        return 1
    return PASSCODE_TRIES


def number_challenge_message(number: object, device: str) -> str:
    """The number to tap in Okta Verify, made hard to miss."""
    return f"okenv: ▶▶  In Okta Verify on {device}, tap  {number}  ◀◀"


def push_timeout_error(seconds: float) -> AuthenticationError:
    return AuthenticationError(
        f"the Okta Verify push was not answered within {seconds:g} s",
        hint="run okenv again and approve the push, or choose another factor with --factor",
    )
