"""Every way a security key can fail, as one :class:`SecurityKeyError` each (message + hint)."""

from __future__ import annotations

from okenv.errors import SecurityKeyError

OTHER_FACTOR_HINT = "or pick another enrolled factor with --factor"


def error(message: str, hint: str) -> SecurityKeyError:
    return SecurityKeyError(message, hint=hint)


def not_installed() -> SecurityKeyError:
    return error(
        "security keys need python-fido2, which is not installed",
        f"pip install 'okenv[fido2]', {OTHER_FACTOR_HINT}",
    )


def no_key() -> SecurityKeyError:
    return error(
        "no security key found",
        f"plug in a security key registered with Okta and run okenv again, {OTHER_FACTOR_HINT}",
    )


def not_registered(several: bool) -> SecurityKeyError:
    what = "none of the security keys plugged in is" if several else "this security key is not"
    return error(
        f"{what} registered for your Okta account",
        f"use a key you registered with Okta, {OTHER_FACTOR_HINT}",
    )


def timed_out(seconds: float) -> SecurityKeyError:
    return error(
        f"the security key was not touched within {seconds:g} s",
        f"run okenv again and touch the key when it blinks, {OTHER_FACTOR_HINT}",
    )


def pin_blocked() -> SecurityKeyError:
    return error(
        "the security key's PIN is blocked (too many wrong PINs)",
        f"reset the key with its maker's tool (this erases its credentials), {OTHER_FACTOR_HINT}",
    )


def pin_auth_blocked() -> SecurityKeyError:
    return error(
        "too many wrong PINs in a row on the security key",
        "unplug the key, plug it in again and run okenv again",
    )


def wrong_pin() -> SecurityKeyError:
    return error(
        "wrong security key PIN", f"run okenv again with the key's PIN, {OTHER_FACTOR_HINT}"
    )


def no_pin_set() -> SecurityKeyError:
    return error(
        "Okta requires user verification but the security key has no PIN set",
        f"set a PIN with the key maker's tool, {OTHER_FACTOR_HINT}",
    )


def unusable_answer() -> SecurityKeyError:
    return error(
        "the security key answered with an assertion okenv cannot use",
        f"try again, {OTHER_FACTOR_HINT}",
    )
