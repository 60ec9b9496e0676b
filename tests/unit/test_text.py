"""Server text shown to a person: one sanitiser (okenv.text), applied where text reaches the
terminal — every OkenvError and every prompter line — so no caller can forget it."""

from __future__ import annotations

import os
import pickle
import threading

import pytest

from okenv.errors import OktaError
from okenv.prompt import NoInputPrompter, TerminalPrompter, status
from okenv.text import printable

# What a hostile Okta put in errorSummary, a factor label or a role name during the review:
# a window title (OSC), a screen clear, a cursor move, a fake line, a bidi override, C1 CSI.
HOSTILE = "\x1b]0;pwned\x07\x1b[2J\x1b[1A\rokenv: logged in\n\u202eevil\u2066\x9b31m\x7f\x00"
CONTROLS = {chr(c) for c in [*range(0x09), *range(0x0A, 0x20), *range(0x7F, 0xA0)]}
CONTROLS |= {chr(c) for c in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]}


def no_controls(text: str) -> bool:
    return not CONTROLS & set(text)


def test_printable_escapes_every_control_character_and_keeps_the_rest() -> None:
    assert no_controls(printable("".join(sorted(CONTROLS))))
    assert printable("\x1b]0;t\x07") == "\\x1b]0;t\\x07"
    assert printable("\u202eabc") == "\\u202eabc"
    kept = "tab\there, é, 日本, emoji 🙂, quotes '\"`$"
    assert printable(kept) == kept
    assert printable(printable(HOSTILE)) == printable(HOSTILE)  # idempotent


def test_errors_are_printable_whoever_raises_them() -> None:
    error = OktaError(f"Okta answered HTTP 400: {HOSTILE}", hint=HOSTILE)
    assert no_controls(error.message) and no_controls(str(error))
    assert error.hint is not None and no_controls(error.hint)
    assert "\\x1b]0;pwned\\x07" in error.message
    again = pickle.loads(pickle.dumps(error))  # the worker sends errors over a pipe
    assert (again.message, again.hint) == (error.message, error.hint)


def test_terminal_lines_carry_no_server_control_characters() -> None:
    answers_r, answers_w = os.pipe()
    shown_r, shown_w = os.pipe()
    shown: list[bytes] = []

    def collect() -> None:
        while chunk := os.read(shown_r, 65536):
            shown.append(chunk)

    reader = threading.Thread(target=collect, daemon=True)
    reader.start()
    prompter = TerminalPrompter(answers_r, shown_w)
    os.write(answers_w, b"2\n")  # a terminal delivers one line per read
    try:
        assert prompter.choose(f"Choose {HOSTILE}:", [f"dev/{HOSTILE}", "prod/Admin"]) == 1
        os.write(answers_w, b"blue\n")
        assert prompter.ask(f"Security question: {HOSTILE}") == "blue"
        prompter.info(f"Okta: {HOSTILE}")
        with status(prompter, f"waiting {HOSTILE}") as line:
            line.update(f"still {HOSTILE}")
            line.note(f"tap {HOSTILE}")
    finally:
        os.close(shown_w)
        reader.join(10)
        for fd in (shown_r, answers_r, answers_w):
            os.close(fd)
    text = b"".join(shown).decode()
    # The spinner's own sequences are the only escapes: clear line, hide/show the cursor.
    ours = text.replace("\r\x1b[2K", "").replace("\x1b[?25l", "").replace("\x1b[?25h", "")
    assert no_controls(ours.replace("\n", "")), repr(ours)
    assert "\\x1b]0;pwned\\x07" in text
    for where in ("Choose ", "dev/", "Security question: ", "Okta: ", "waiting ", "still ", "tap "):
        assert f"{where}\\x1b]0;pwned" in text, (where, text)


def test_no_input_lines_are_printable(capsys: pytest.CaptureFixture[str]) -> None:
    NoInputPrompter().info(HOSTILE)
    with status(NoInputPrompter(), f"waiting {HOSTILE}") as line:
        line.update(f"still {HOSTILE}")
    err = capsys.readouterr().err
    assert no_controls(err.replace("\n", "")) and err.count("\n") == 3, repr(err)
