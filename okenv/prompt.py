"""All of okenv's conversation with the user happens here, and never on stdout.

stdout may be captured by ``eval $(okenv prod)`` or by an SDK running ``credential_process``,
so prompts are read from and written to the controlling terminal (``/dev/tty``), which works
even when stdin and stdout are redirected. Without a terminal, or under ``--no-input``, a
prompt is an error that says what was needed.

Every text shown here — labels, menu titles and options, info and status lines — may carry
what Okta or AWS sent (factor labels, the security question, role names, messages), so each
goes through :func:`okenv.text.printable` on its way to the terminal. ``info`` lines and
status notes get the ``okenv: `` prefix here (:func:`okenv.report.prefixed`), so no caller
types it; ``plain`` writes a line as it is (a menu, a banner's indented lines).
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol

from okenv.errors import Interrupted, NoInputError, UsageError
from okenv.report import prefixed
from okenv.text import printable

CHOICE_TRIES = 5
SPINNER_FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
SPINNER_PERIOD = 0.1  # seconds per frame
PICKER_MIN = 6  # from this many options on, the filtering picker (on a capable terminal)
PROGRESS_DELAY = 0.3  # a step shows its spinner once it has taken this long
_CLEAR_LINE = "\r\x1b[2K"
_HIDE_CURSOR = "\x1b[?25l"
_SHOW_CURSOR = "\x1b[?25h"


class Prompter(Protocol):
    interactive: bool

    def ask(self, label: str, *, secret: bool = False) -> str: ...

    def choose(self, title: str, options: Sequence[str]) -> int: ...

    def info(self, message: str) -> None:
        """``okenv: <message>``, a line for the user."""

    def plain(self, message: str) -> None:
        """``message`` as it is (made printable), without the prefix."""

    def status(self, message: str) -> AbstractContextManager[StatusLine]: ...


class StatusLine(Protocol):
    """A status shown while okenv waits (see :func:`status`)."""

    def update(self, message: str) -> None:
        """Replace the status text."""

    def note(self, message: str) -> None:
        """An ``okenv: `` line that stays (above the status), e.g. a number to tap."""


class _PlainStatus:
    """A status for prompters without a spinner: each message once, as a line."""

    def __init__(self, write: Callable[[str], None], message: str) -> None:
        self._out = write
        self._message = message
        self._out(message)

    def update(self, message: str) -> None:
        if message != self._message:
            self._message = message
            self._out(message)

    def note(self, message: str) -> None:
        self._out(message)


@contextmanager
def status(prompter: Prompter, message: str) -> Iterator[StatusLine]:
    """Show ``message`` while the block runs: a spinner on a terminal, else a line on stderr."""
    with prompter.status(message) as line:
        yield line


@contextmanager
def progress(prompter: Prompter, message: str) -> Iterator[None]:
    """``message`` with a spinner once the block has taken :data:`PROGRESS_DELAY` seconds,
    on a terminal only: nothing at all when stderr is not a terminal (a log, a pipe, an SDK)
    or there is no terminal to draw on. Prompts inside the block hide it while they ask."""
    if not isinstance(prompter, TerminalPrompter) or not stderr_is_tty():
        yield
        return
    with prompter.status(message, delay=PROGRESS_DELAY):
        yield


def cursor_terminal(environ: Mapping[str, str]) -> bool:
    """Whether the terminal can move its cursor (``TERM`` set and not ``dumb``)."""
    term = environ.get("TERM", "")
    return bool(term) and term != "dumb"


def stderr_is_tty() -> bool:
    """Whether a person is watching stderr (progress and summaries are for them only)."""
    try:
        return sys.stderr is not None and sys.stderr.isatty()
    except (OSError, ValueError):
        return False


class _Spinner:
    """Animates ``<frame> message`` on one terminal line from a daemon thread.

    ``delay``: nothing is drawn until the step has taken that long (a quick step shows
    nothing); :meth:`pause` clears the line while okenv asks something, and
    :meth:`resume` starts the delay again."""

    def __init__(self, owner: TerminalPrompter, message: str, delay: float = 0.0) -> None:
        self._owner = owner
        self._message = printable(message)
        self._delay = delay
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="okenv-spinner", daemon=True)
        self._frame = 0
        self._paused = False
        self._shown = False
        self._due = time.monotonic() + delay

    def _draw(self) -> None:
        with self._owner._lock:
            if self._paused or time.monotonic() < self._due:
                return
            frame = SPINNER_FRAMES[self._frame % len(SPINNER_FRAMES)]
            self._frame += 1
            prefix = "" if self._shown else _HIDE_CURSOR
            self._shown = True
            self._owner._write(f"{prefix}{_CLEAR_LINE}{frame} {self._message}")

    def _clear(self) -> None:
        if self._shown:
            self._shown = False
            self._owner._write(_CLEAR_LINE + _SHOW_CURSOR)

    def _run(self) -> None:
        while not self._stop.wait(SPINNER_PERIOD):
            try:
                self._draw()
            except OSError:  # the terminal went away
                return

    def start(self) -> None:
        self._draw()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=1)
        with self._owner._lock:
            self._paused = True
            self._clear()

    def pause(self) -> None:
        with self._owner._lock:
            self._paused = True
            self._clear()

    def resume(self) -> None:
        with self._owner._lock:
            self._paused = False
            self._due = time.monotonic() + self._delay

    def update(self, message: str) -> None:
        self._message = printable(message)
        self._draw()

    def note(self, message: str) -> None:
        self.line(prefixed(message.rstrip("\n")))

    def line(self, text: str) -> None:
        """``text`` (printable already) on a line of its own above the spinner."""
        with self._owner._lock:
            shown = self._shown
            self._owner._write((_CLEAR_LINE if shown else "") + text + "\n")
            if shown:
                self._shown = False  # the line it was on has become the note
                self._draw()


def _render_label(label: str) -> str:
    """``"Password"`` → ``"Password: "``; a label that ends in a space is used as is."""
    label = printable(label)
    if not label or label[-1].isspace():
        return label
    return f"{label} " if label.endswith((":", "?")) else f"{label}: "


def _describe(label: str) -> str:
    """``"Okta password for alice: "`` → ``"okta password for alice"``, for error messages."""
    text = label.strip().rstrip(":?").strip() or "an answer"
    return text[0].lower() + text[1:]


class TerminalPrompter:
    """Reads answers from the terminal and writes prompts to it."""

    interactive: bool = True

    def __init__(self, read_fd: int, write_fd: int, *, owns_fd: bool = False) -> None:
        self._read_fd = read_fd
        self._write_fd = write_fd
        self._owns_fd = owns_fd
        self._lock = threading.RLock()  # the spinner thread writes too
        self._spinner: _Spinner | None = None

    @classmethod
    def open(cls) -> TerminalPrompter | None:
        """The controlling terminal, else stdin/stderr when stdin is a terminal, else None."""
        flags = os.O_RDWR | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
        try:
            fd = os.open("/dev/tty", flags)
        except OSError:
            pass
        else:
            if os.isatty(fd):
                return cls(fd, fd, owns_fd=True)
            os.close(fd)
        try:
            if sys.stdin is not None and sys.stdin.isatty():
                return cls(sys.stdin.fileno(), sys.stderr.fileno())
        except (OSError, ValueError):
            pass
        return None

    def close(self) -> None:
        if self._owns_fd and self._read_fd >= 0:
            os.close(self._read_fd)
            self._read_fd = self._write_fd = -1

    # -- low level --------------------------------------------------------------------------

    def _write(self, text: str) -> None:
        data = text.encode("utf-8", "replace")
        with self._lock:
            while data:
                written = os.write(self._write_fd, data)
                data = data[written:]

    def _read_line(self) -> str:
        """One line from the terminal (canonical mode does the editing), without its newline."""
        chunks: list[bytes] = []
        while True:
            chunk = os.read(self._read_fd, 4096)
            if not chunk:  # Ctrl-D on an empty line, or the terminal went away
                if not chunks:
                    raise NoInputError(
                        "no answer (end of input)",
                        hint="answer the prompt, or use --no-input with the values configured",
                    )
                break
            chunks.append(chunk)
            if chunk.endswith(b"\n"):
                break
        line = b"".join(chunks).decode("utf-8", "replace")
        return line.removesuffix("\n").removesuffix("\r")

    # -- the Prompter API -------------------------------------------------------------------

    def ask(self, label: str, *, secret: bool = False) -> str:
        """The answer to ``label``: secrets keep their spaces, other answers are stripped."""
        with self._paused():
            return self._ask(label, secret=secret)

    @contextmanager
    def _paused(self) -> Iterator[None]:
        """No spinner while the user reads and answers; it comes back (after the delay)."""
        spinner = self._spinner
        if spinner is None:
            yield
            return
        spinner.pause()
        try:
            yield
        finally:
            spinner.resume()

    def _ask(self, label: str, *, secret: bool) -> str:
        try:
            if secret:
                # No echo first, then the prompt: nothing typed after the prompt is shown.
                return self._ask_secret(label)
            self._write(_render_label(label))
            return self._read_line().strip()
        except KeyboardInterrupt:
            if not secret:  # a secret prompt has already ended its line
                self._write("\n")
            raise Interrupted("interrupted") from None

    def _ask_secret(self, label: str) -> str:
        try:
            import termios
        except ImportError:  # pragma: no cover - Windows
            import getpass

            return getpass.getpass(_render_label(label), stream=sys.stderr)
        try:
            saved = termios.tcgetattr(self._read_fd)
        except termios.error:  # pragma: no cover - not a terminal after all
            self._write(_render_label(label))
            return self._read_line()
        quiet = list(saved)
        quiet[3] &= ~termios.ECHO
        try:
            termios.tcsetattr(self._read_fd, termios.TCSAFLUSH, quiet)
            self._write(_render_label(label))
            return self._read_line()
        finally:
            termios.tcsetattr(self._read_fd, termios.TCSADRAIN, saved)
            self._write("\n")  # the user's Enter was not echoed

    def choose(self, title: str, options: Sequence[str]) -> int:
        """The 0-based index of the option picked: from a filtering picker when there are
        many options and the terminal can move its cursor, else from a numbered menu."""
        if not options:
            raise UsageError(f"{title.rstrip(':')}: nothing to choose from")
        if len(options) == 1:
            return 0
        with self._paused():
            if len(options) >= PICKER_MIN and cursor_terminal(os.environ):
                from okenv.picker import pick

                return pick(self._read_fd, self._write, title, options)
            return self._numbered(title, options)

    def _numbered(self, title: str, options: Sequence[str]) -> int:
        width = len(str(len(options)))
        lines = [printable(title)]
        lines += [f"  {n:>{width}}) {printable(text)}" for n, text in enumerate(options, 1)]
        self._write("\n".join(lines) + "\n")
        for _ in range(CHOICE_TRIES):
            answer = self.ask(f"Choose [1-{len(options)}]: ")
            if answer.isdigit() and 1 <= int(answer) <= len(options):
                return int(answer) - 1
            self._write(f"Please enter a number from 1 to {len(options)}.\n")
        raise UsageError("no valid choice", hint=f"answer with a number from 1 to {len(options)}")

    def info(self, message: str) -> None:
        """``okenv: <message>`` for the user, on the terminal they answer prompts on."""
        self._line(prefixed(message.rstrip("\n")))

    def plain(self, message: str) -> None:
        self._line(printable(message.rstrip("\n")))

    def _line(self, text: str) -> None:
        if self._spinner is not None:
            self._spinner.line(text)
            return
        self._write(text + "\n")

    @contextmanager
    def status(self, message: str, *, delay: float = 0.0) -> Iterator[StatusLine]:
        """A spinner with ``message`` while the block runs (drawn once the block has taken
        ``delay`` seconds); the line is cleared and the cursor shown again however the block
        ends (Ctrl-C included). A status inside another replaces it until it ends."""
        outer = self._spinner
        if outer is not None:
            outer.pause()
        spinner = _Spinner(self, message, delay)
        spinner.start()
        self._spinner = spinner
        try:
            yield spinner
        finally:
            self._spinner = outer
            spinner.stop()
            if outer is not None:
                outer.resume()


class NoInputPrompter:
    """Never asks: every prompt is an error saying what was needed."""

    interactive: bool = False

    def __init__(self, reason: str = "--no-input was given") -> None:
        self.reason = reason

    def _hint(self) -> str:
        if self.reason.startswith("--no-input"):
            return (
                "configure the value (config file, OKENV_USERNAME, OKENV_PASSWORD, "
                "OKENV_TOTP_SECRET, --role) or run without --no-input"
            )
        return "run `okenv login PROFILE` in a terminal first, or configure the value"

    def ask(self, label: str, *, secret: bool = False) -> str:
        raise NoInputError(f"{_describe(label)} needed but {self.reason}", hint=self._hint())

    def choose(self, title: str, options: Sequence[str]) -> int:
        if len(options) == 1:
            return 0
        raise NoInputError(
            f"a choice is needed ({_describe(title)}) but {self.reason}", hint=self._hint()
        )

    def info(self, message: str) -> None:
        self._line(prefixed(message.rstrip("\n")))

    def plain(self, message: str) -> None:
        self._line(printable(message.rstrip("\n")))

    @staticmethod
    def _line(text: str) -> None:
        sys.stderr.write(text + "\n")
        sys.stderr.flush()

    @contextmanager
    def status(self, message: str) -> Iterator[StatusLine]:
        """No terminal to animate: the message once on stderr."""
        yield _PlainStatus(self.info, message)


def make_prompter(no_input: bool) -> Prompter:
    """The terminal when there is one and input is allowed; else a prompter that refuses."""
    if no_input:
        return NoInputPrompter()
    terminal = TerminalPrompter.open()
    if terminal is None:
        return NoInputPrompter("there is no terminal to ask on")
    return terminal
