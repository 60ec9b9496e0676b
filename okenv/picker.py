"""The filtering picker: type to filter, arrow keys to move, Enter to pick.

Runs on the terminal's own file descriptor in cbreak mode (no echo, no line editing; Ctrl-C
still interrupts), and the terminal's mode is restored however it ends (Enter, Ctrl-C,
end of input, an error). Only for terminals that can move the cursor; okenv.prompt keeps
the numbered menu for the others. Every option is shown through okenv.text.printable.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from okenv.errors import Interrupted, NoInputError
from okenv.suggest import fuzzy_filter
from okenv.text import printable

VISIBLE = 10  # option lines shown at once
_UP = ("\x1b[A", "\x1bOA", "\x10")  # arrow up (both modes), Ctrl-P
_DOWN = ("\x1b[B", "\x1bOB", "\x0e")  # arrow down, Ctrl-N
_ERASE = ("\x7f", "\x08")
_ENTER = ("\r", "\n")
_ESCAPES = _UP + _DOWN + ("\x1b[C", "\x1b[D", "\x1bOC", "\x1bOD")


def search_texts(options: Sequence[str]) -> list[str]:
    """Each option as one line that stands alone: a label indented under the previous one
    (okenv.assume.menu's grouping) takes that one's leading words (the account)."""
    texts: list[str] = []
    head = ""
    for option in options:
        if option[:1].isspace() and texts:
            texts.append(f"{head}  {option.strip()}")
            continue
        parts = option.split("  ", 1)
        head = parts[0].strip()
        texts.append(" ".join(option.split()))
    return [" ".join(text.split()) for text in texts]


def keys(chunk: str) -> Iterator[str]:
    """The keys in what one read returned: escape sequences whole, other characters one
    by one."""
    at = 0
    while at < len(chunk):
        for sequence in _ESCAPES:
            if chunk.startswith(sequence, at):
                yield sequence
                at += len(sequence)
                break
        else:
            yield chunk[at]
            at += 1


class Picker:
    """The state: the query, the matches and the highlighted one (pure; no I/O)."""

    def __init__(self, options: Sequence[str]) -> None:
        self.options = search_texts(options)
        self.query = ""
        self.matches = list(range(len(self.options)))
        self.selected = 0

    def press(self, key: str) -> int | None:
        """Apply one key; the option's index when it picks one."""
        if key in _ENTER:
            return self.matches[self.selected] if self.matches else None
        if key in _UP:
            self.selected = max(0, self.selected - 1)
        elif key in _DOWN:
            self.selected = min(len(self.matches) - 1, self.selected + 1) if self.matches else 0
        elif key in _ERASE:
            self._filter(self.query[:-1])
        elif key == "\x15":  # Ctrl-U: clear the query
            self._filter("")
        elif key.isprintable() and len(key) == 1:
            self._filter(self.query + key)
        return None

    def _filter(self, query: str) -> None:
        self.query = query
        self.matches = fuzzy_filter(query, self.options)
        self.selected = 0

    def lines(self, title: str) -> list[str]:
        """What the terminal shows: the title with the query, then the visible matches."""
        count = f"{len(self.matches)}/{len(self.options)}"
        out = [f"{printable(title)} {printable(self.query)}▏  ({count}; type to filter)"]
        first = max(0, min(self.selected - VISIBLE // 2, len(self.matches) - VISIBLE))
        for row, index in enumerate(self.matches[first : first + VISIBLE], first):
            mark = ">" if row == self.selected else " "
            out.append(f"{mark} {printable(self.options[index])}")
        if not self.matches:
            out.append("  (nothing matches; Backspace to widen)")
        return out


@contextmanager
def cbreak(fd: int) -> Iterator[None]:
    """No echo and no line editing on ``fd`` while the block runs; the saved mode comes
    back on every way out."""
    import termios

    saved = termios.tcgetattr(fd)
    mode = list(saved)
    mode[3] &= ~(termios.ECHO | termios.ICANON)
    mode[6] = list(mode[6])
    mode[6][termios.VMIN] = 1
    mode[6][termios.VTIME] = 0
    termios.tcsetattr(fd, termios.TCSANOW, mode)
    try:
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSANOW, saved)


def pick(read_fd: int, write: Callable[[str], None], title: str, options: Sequence[str]) -> int:
    """The index the user picks from ``options`` on the terminal (``read_fd``/``write``)."""
    state = Picker(options)
    drawn = 0

    try:
        width = max(20, os.get_terminal_size(read_fd).columns - 1)
    except OSError:
        width = 79

    def draw() -> None:
        nonlocal drawn
        lines = [line[:width] for line in state.lines(title)]  # a wrapped line breaks the redraw
        up = f"\x1b[{drawn - 1}A" if drawn > 1 else ""
        write(f"{up}\r\x1b[J" + "\n".join(lines))
        drawn = len(lines)

    def clear() -> None:
        write((f"\x1b[{drawn - 1}A" if drawn > 1 else "") + "\r\x1b[J")

    try:
        with cbreak(read_fd):
            write("\x1b[?25l")
            draw()
            while True:
                chunk = os.read(read_fd, 64)
                if not chunk or chunk == b"\x04":
                    raise NoInputError("no choice (end of input)", hint="pick one with Enter")
                for key in keys(chunk.decode("utf-8", "replace")):
                    picked = state.press(key)
                    if picked is not None:
                        clear()
                        write(f"{printable(title)} {state.options[picked]}\n")
                        return picked
                draw()
    except KeyboardInterrupt:
        clear()
        raise Interrupted("interrupted") from None
    finally:
        write("\x1b[?25h")
