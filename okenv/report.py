"""okenv's one voice on stderr for what is not an answer (stdout is for answers only).

Every line goes out as ``okenv: <message>``: the prefix is added here (:func:`prefixed`) and
nowhere else — :mod:`okenv.prompt` uses it for the lines it shows on the terminal — and the
message is passed through :func:`okenv.text.printable` on its way, so nothing Okta or AWS
said can steer the terminal.

Nothing threads a ``trace`` or ``warn`` callable through the code: a module calls
:func:`notify`, :func:`warn` or :func:`trace`, and the entry point says once whether
``--debug`` lines are wanted (:func:`configure`). :data:`REPORTER` is the one instance the
module functions use; a test captures its lines with :func:`captured`. Standard library
only, and light (the cached path imports it).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

PREFIX = "okenv: "


def prefixed(message: str) -> str:
    """``okenv: <message>``, made printable (the one place the prefix is added)."""
    from okenv.text import printable

    return PREFIX + printable(message)


def _stderr(text: str) -> None:
    sys.stderr.write(text)


class Reporter:
    """Writes okenv's stderr lines (``write`` is the sink: stderr unless a test says so);
    ``debug`` says whether :meth:`trace` lines are written."""

    def __init__(self, write: Callable[[str], None] = _stderr, *, debug: bool = False) -> None:
        self.write = write
        self.debug = debug

    def line(self, message: str) -> None:
        self.write(prefixed(message) + "\n")

    def notify(self, message: str) -> None:
        """What happened, for the person at the terminal."""
        self.line(message)

    def warn(self, message: str) -> None:
        """Something is wrong but okenv carries on."""
        self.line(f"warning: {message}")

    def trace(self, message: str) -> None:
        """A ``--debug`` line (its callers redact secrets); nothing without ``--debug``."""
        if self.debug:
            self.line(f"debug: {message}")


REPORTER = Reporter()


def configure(*, debug: bool) -> None:
    """Whether this run writes ``--debug`` lines (the entry point says so once)."""
    REPORTER.debug = debug


def tracing() -> bool:
    """Whether ``--debug`` lines are written (to skip building an expensive one)."""
    return REPORTER.debug


def notify(message: str) -> None:
    REPORTER.notify(message)


def warn(message: str) -> None:
    REPORTER.warn(message)


def trace(message: str) -> None:
    REPORTER.trace(message)


@contextmanager
def captured(*, debug: bool = True) -> Iterator[list[str]]:
    """Collect the lines written while the block runs (without their ``okenv: `` prefix and
    newline), for tests; ``debug`` as :func:`configure` says."""
    global REPORTER
    lines: list[str] = []
    saved = REPORTER
    REPORTER = Reporter(
        lambda text: lines.append(text.removeprefix(PREFIX).rstrip("\n")), debug=debug
    )
    try:
        yield lines
    finally:
        REPORTER = saved
