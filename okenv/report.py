"""okenv's one voice on stderr for what is not an answer (stdout is for answers only).

Every line goes out as ``okenv: <message>``: the prefix is added here and nowhere else, and
the message is passed through :func:`okenv.text.printable` on its way, so nothing Okta or
AWS said can steer the terminal. :data:`REPORTER` is the one instance the module functions
use; a test swaps it for one with its own ``write``. Standard library only (the cached path
imports it).
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from okenv.text import printable

PREFIX = "okenv: "


def _stderr(text: str) -> None:
    sys.stderr.write(text)


class Reporter:
    """Writes okenv's stderr lines (``write`` is the sink: stderr unless a test says so)."""

    def __init__(self, write: Callable[[str], None] = _stderr) -> None:
        self.write = write

    def line(self, message: str) -> None:
        self.write(f"{PREFIX}{printable(message)}\n")

    def notify(self, message: str) -> None:
        """What happened, for the person at the terminal."""
        self.line(message)

    def warn(self, message: str) -> None:
        """Something is wrong but okenv carries on."""
        self.line(f"warning: {message}")

    def trace(self, message: str) -> None:
        """A ``--debug`` line (the callers pass it only under ``--debug``, redacted)."""
        self.line(f"debug: {message}")


REPORTER = Reporter()


def notify(message: str) -> None:
    REPORTER.notify(message)


def warn(message: str) -> None:
    REPORTER.warn(message)


def trace(message: str) -> None:
    REPORTER.trace(message)
