"""The one MFA engine both Okta protocols share: choosing a method, entering codes (with
the retry rule and waiting out a replayed seed code), sent codes with one resend, security
questions, waiting for a push (with its number challenge).

A :class:`Method` is one way to pass MFA (a Classic factor, or an Identity Engine
authenticator with one of its method types), described in the user's terms (``kind``:
``totp``, ``hotp``, ``hardware``, ``push``, ``sms``, ``call``, ``email``, ``question``).
:mod:`okenv.okta.classic` and :mod:`okenv.okta.idx` only map their wire format to these
functions. No I/O here except through the injected prompter and callables.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Generic, TypeVar

from okenv.errors import AuthenticationError, BrowserRequired, Interrupted, OkenvError
from okenv.prompt import Prompter, status
from okenv.text import printable

SUPPORTED_KINDS = (
    "totp",
    "hotp",
    "hardware",
    "push",
    "sms",
    "call",
    "email",
    "question",
    "webauthn",
)
SENT_CODE_KINDS = ("sms", "call", "email")
PASSCODE_TRIES = 3
POLL_INTERVAL = 2.0  # seconds between push polls (Classic: Okta gives no hint)
PUSH_TIMEOUT = 300.0  # seconds to wait for a push answer (Okta's own window is 5 minutes)
REFRESH_RANGE = (1.0, 10.0)  # seconds: bounds for the poll interval a server asks for
TOTP_STEP = 30  # seconds per TOTP code (RFC 6238 default; Okta and Google use it)

WRONG = "wrong"
REPLAYED = "replayed"

T = TypeVar("T")


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


@dataclass(frozen=True)
class Waits:
    """How long to wait and how (tests inject the sleep and the clocks)."""

    poll_interval: float = POLL_INTERVAL
    push_timeout: float = PUSH_TIMEOUT
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    wall: Callable[[], float] = time.time
    """Wall-clock time, for the TOTP step (codes follow it, not the monotonic clock)."""


@dataclass
class MfaContext:
    """How to talk to the user, what may answer for them, how long to wait."""

    prompter: Prompter
    preference: str = "auto"
    totp_secret: str | None = None
    security_answer: str | None = None
    waits: Waits = field(default_factory=Waits)
    keep_signed_in: bool | None = None
    """IDX ``keep-me-signed-in``: None = the form's own default."""


@dataclass(frozen=True)
class Refused:
    """Okta refused a code or answer: ``kind`` :data:`WRONG` or :data:`REPLAYED` (from Okta's
    error code, never its text), ``message`` to show, ``error`` to raise when giving up."""

    kind: str
    message: str
    error: AuthenticationError


@dataclass(frozen=True)
class PushState(Generic[T]):
    """One look at a push: ``done`` ends the wait with that answer; else the number to tap
    (if any) and the poll interval the server asked for (seconds, if any)."""

    done: T | None = None
    number: object | None = None
    refresh: float | None = None


def matches(method: Method, preference: str) -> bool:
    """``factor`` setting → does ``method`` fit it (``totp``, ``google-totp``, ``push``, …)."""
    if preference.endswith("-totp"):
        return method.is_totp and method.provider.lower() == preference[: -len("-totp")]
    if preference == "totp":
        return method.kind in ("totp", "hotp")
    return method.kind == preference


def distinct(methods: Sequence[Method]) -> list[Method]:
    """``methods`` with identical labels told apart (``#2``, ``#3``…) for menus."""
    seen: dict[str, int] = {}
    named = []
    for method in methods:
        seen[method.label] = seen.get(method.label, 0) + 1
        count = seen[method.label]
        named.append(replace(method, label=f"{method.label} #{count}") if count > 1 else method)
    return named


def choose_method(methods: Sequence[Method], ctx: MfaContext) -> Method:
    """The configured method, else ``auto``: TOTP with a seed, else push, else the only one or
    a menu. Unsupported methods are named, never offered. Returns one of ``methods``."""
    named = distinct(methods)
    chosen = _choose(named, ctx)
    return methods[next(i for i, m in enumerate(named) if m is chosen)]


def _choose(methods: Sequence[Method], ctx: MfaContext) -> Method:
    usable = [m for m in methods if can_answer(m, ctx)]
    unusable = [m for m in methods if not can_answer(m, ctx)]
    if not usable:
        offered = ", ".join(m.label for m in methods) or "none"
        raise BrowserRequired(
            f"none of your Okta MFA methods can be used by okenv (enrolled: {offered})",
            hint="enroll Okta Verify (push or code), Google Authenticator, SMS or email in Okta, "
            'or sign in through a browser (engine = "device", README)',
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
        for kind in ("push", "webauthn"):  # then a security key
            found = [m for m in usable if m.kind == kind]
            if found:
                return found[0]
    if unusable and ctx.prompter.interactive:
        ctx.prompter.info(
            "not offered (okenv cannot use them): " + ", ".join(m.label for m in unusable)
        )
    return usable[ctx.prompter.choose("Choose an MFA factor:", [m.label for m in usable])]


def totp_code(secret: str, at: float | None = None) -> str:
    """The code for a base32 seed now (or at epoch ``at``); Okta and Google issue 80-bit
    seeds: accept them."""
    import pyotp

    class _TOTP(pyotp.TOTP):
        min_secret_length_bits = 0  # pyotp ≥ 2.10 refuses seeds shorter than 112 bits

    totp = _TOTP("".join(secret.split()).upper())
    return str(totp.now() if at is None else totp.at(at))


def uses_seed(method: Method, ctx: MfaContext) -> bool:
    return bool(ctx.totp_secret) and method.is_totp


def seed_code(ctx: MfaContext) -> str:
    try:
        return totp_code(ctx.totp_secret or "", ctx.waits.wall())
    except Exception:  # binascii.Error and friends: not base32
        raise AuthenticationError(
            "OKENV_TOTP_SECRET is not a valid base32 TOTP seed",
            hint="use the seed shown when the authenticator was enrolled",
        ) from None


CODE_DIGITS = range(6, 9)
"""How many digits a TOTP/HOTP code or a code Okta sends has (6; 8 for some tokens)."""


def code_problem(code: str) -> str | None:
    """Why ``code`` cannot be a one-time code (checked here, before it uses up one of
    Okta's tries), else None."""
    if not code.isascii() or not code.isdigit():
        return "a code is digits only"
    if len(code) not in CODE_DIGITS:
        return f"a code has {CODE_DIGITS.start} to {CODE_DIGITS.stop - 1} digits, not {len(code)}"
    return None


def ask_code(ctx: MfaContext, label: str, *, empty_ok: bool = False) -> str:
    """A one-time code typed at ``label`` (spaces dropped), asked again at once while it is
    not one: a typo costs no try at Okta. ``empty_ok``: an empty answer is returned."""
    for _ in range(PASSCODE_TRIES * 2):
        code = "".join(ctx.prompter.ask(label).split())
        problem = None if empty_ok and not code else code_problem(code)
        if problem is None:
            return code
        ctx.prompter.info(f"{problem}; try again")
    raise AuthenticationError("no valid code entered", hint="type the code the app shows")


def passcode(method: Method, ctx: MfaContext) -> str:
    """A code for a passcode method: computed from OKENV_TOTP_SECRET, else asked (a TOTP or
    HOTP code is checked here first; a hardware token's passcode may be anything)."""
    if uses_seed(method, ctx):
        return seed_code(ctx)
    label = f"MFA code ({method.label}): "
    if method.kind in ("totp", "hotp"):
        return ask_code(ctx, label)
    return ctx.prompter.ask(label).strip()


def security_answer(question: str, ctx: MfaContext) -> str:
    """The answer to Okta's security question: OKENV_SECURITY_ANSWER, else asked (hidden)."""
    if ctx.security_answer:
        return ctx.security_answer
    return ctx.prompter.ask(f"Security question: {question} ", secret=True).strip()


def can_answer(method: Method, ctx: MfaContext) -> bool:
    """Whether okenv can answer ``method`` here (a question needs a terminal or an answer)."""
    if not method.supported:
        return False
    return method.kind != "question" or bool(ctx.security_answer) or ctx.prompter.interactive


def passcode_tries(method: Method, ctx: MfaContext) -> int:
    """How many codes to try: one when nobody types them, else a few."""
    if uses_seed(method, ctx) or not ctx.prompter.interactive:
        return 1
    if method.kind == "question" and ctx.security_answer:
        return 1
    return PASSCODE_TRIES


def ask_sent_code(ctx: MfaContext, label: str, resend: Callable[[], None] | None) -> str:
    """The code Okta sent (SMS, call, email); an empty answer has it sent again, once."""
    resent = False
    while True:
        offer = "" if resent or resend is None else " (empty to send a new one)"
        code = ask_code(ctx, f"Code from the {label}{offer}: ", empty_ok=True)
        if code or resent or resend is None:
            return code
        resend()
        resent = True
        ctx.prompter.info(f"Okta sent a new code ({label})")


def wait_for_next_code(ctx: MfaContext) -> None:
    """Sleep into the next TOTP step (Okta refuses a code twice), saying so on stderr."""
    waits = ctx.waits
    seconds = TOTP_STEP - (waits.wall() % TOTP_STEP) + 0.5
    with status(ctx.prompter, f"waiting {math.ceil(seconds)} s for the next code…"):
        waits.sleep(seconds)


def enter_code(
    method: Method,
    ctx: MfaContext,
    get_code: Callable[[], str],
    submit: Callable[[str], T | Refused],
) -> T:
    """Send codes until Okta takes one, by one rule for both engines: a typed code that was
    refused (wrong or already used) is asked again while tries remain; a code from the seed
    that was already used is replaced, once, by the next step's code; anything else ends
    the sign-in with Okta's refusal."""
    tries = passcode_tries(method, ctx)
    attempt = 0
    waited = False
    while True:
        attempt += 1
        answer = submit(get_code())
        if not isinstance(answer, Refused):
            return answer
        if answer.kind == REPLAYED and uses_seed(method, ctx) and not waited:
            waited = True
            attempt -= 1
            wait_for_next_code(ctx)
            continue
        if attempt < tries:
            ctx.prompter.info(f"{answer.message} ({tries - attempt} left)")
            continue
        error = answer.error
        if uses_seed(method, ctx) and answer.kind == WRONG:
            error.hint = "check OKENV_TOTP_SECRET and this machine's clock"
        raise error


def poll_interval(refresh: float | None, waits: Waits) -> float:
    """Seconds until the next poll: the server's ``refresh`` clamped to
    :data:`REFRESH_RANGE` (a hostile value neither hammers nor stalls), else the setting.
    A shorter ``poll_interval`` setting (local, trusted) lowers the floor."""
    if refresh is None or not math.isfinite(refresh) or refresh <= 0:
        return waits.poll_interval
    low, high = REFRESH_RANGE
    return min(max(refresh, min(low, waits.poll_interval)), high)


def wait_for_push(
    ctx: MfaContext,
    device: str,
    first: Callable[[], PushState[T]],
    poll: Callable[[], PushState[T]],
    cancel: Callable[[], None],
) -> T:
    """Send the push (``first``), then ``poll`` until it is answered, within the push
    deadline; show the number challenge when Okta sends one. Timeout and Ctrl-C ``cancel``
    the transaction at Okta (best effort) before okenv gives up."""
    waits = ctx.waits
    deadline = waits.clock() + waits.push_timeout
    shown: object | None = None

    def stop() -> None:
        with contextlib.suppress(OkenvError, KeyboardInterrupt):
            cancel()

    try:
        state = first()
        with status(ctx.prompter, f"Approve the push on {device}…") as line:
            while state.done is None:
                if state.number is not None and state.number != shown:
                    shown = state.number
                    line.note(number_challenge_message(state.number, device))
                left = deadline - waits.clock()
                if left <= 0:
                    stop()
                    raise push_timeout_error(waits.push_timeout)
                waits.sleep(min(poll_interval(state.refresh, waits), left))
                state = poll()
            return state.done
    except KeyboardInterrupt:
        stop()
        raise Interrupted("interrupted; the Okta sign-in was cancelled") from None


def shown(text: object) -> str:
    """A server string made safe to show (:func:`okenv.text.printable`, the one sanitiser)."""
    return printable(str(text))


def number_challenge_message(number: object, device: str) -> str:
    """The number to tap in Okta Verify, made hard to miss."""
    return f"▶▶  In Okta Verify on {shown(device)}, tap  {shown(number)}  ◀◀"


def push_timeout_error(seconds: float) -> AuthenticationError:
    return AuthenticationError(
        f"the Okta Verify push was not answered within {seconds:g} s",
        hint="run okenv again and approve the push, or choose another factor with --factor",
    )
