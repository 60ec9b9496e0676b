"""Text from outside, made safe to show a person: one sanitiser for every terminal line.

Okta's ``errorSummary``, Identity Engine messages, factor and device labels, the security
question, role names and profile names reach the terminal through :class:`okenv.errors.
OkenvError` and :mod:`okenv.prompt`, which both pass them through :func:`printable`. A
control character could otherwise set the window title (OSC), clear the screen, move the
cursor over an earlier line, or reorder what is shown (bidi overrides).

Pure and standard-library only: it is on the cached path (every error message).
"""

from __future__ import annotations

__all__ = ["printable"]


def _escape(code: int) -> str:
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


# C0 except tab, DEL, C1, and the bidi embeddings/overrides/isolates U+202A-202E, U+2066-2069.
_UNSAFE = [*range(0x00, 0x09), *range(0x0A, 0x20), *range(0x7F, 0xA0)]
_UNSAFE += [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]
_TABLE = {code: _escape(code) for code in _UNSAFE}


def printable(text: str) -> str:
    """``text`` with every control character written as ``\\xNN`` (``\\uNNNN`` for the
    bidi controls); tabs and everything else printable stay. Idempotent."""
    return text.translate(_TABLE)
