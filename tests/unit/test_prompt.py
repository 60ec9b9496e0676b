from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pexpect  # type: ignore[import-untyped]
import pytest

from okenv.errors import NoInputError
from okenv.prompt import NoInputPrompter, TerminalPrompter, _render_label, make_prompter

ROOT = Path(__file__).resolve().parents[2]

# Drives one prompter call chosen by argv[1]; maps okenv errors like the CLI (Ctrl-C → 130).
DRIVER = """
import os, sys, termios
from okenv.errors import OkenvError
from okenv.prompt import make_prompter

def echo_state():
    fd = os.open("/dev/tty", os.O_RDWR)
    state = termios.tcgetattr(fd)
    os.close(fd)
    return "on" if state[3] & termios.ECHO else "off"

prompter = make_prompter(no_input=False)
mode = sys.argv[1]
try:
    if mode == "secret":
        answer = prompter.ask("Okta password for alice: ", secret=True)
    elif mode == "plain":
        answer = prompter.ask("Username")
    elif mode == "menu":
        answer = prompter.choose("Choose an AWS role:", ["dev/Admin", "prod/Admin", "prod/Read"])
    elif mode == "single":
        answer = prompter.choose("Choose an AWS role:", ["dev/Admin"])
    elif mode == "info":
        prompter.info("approve the push")
        answer = "done"
    print(f"GOT[{answer}]", flush=True)
    code = 0
except OkenvError as exc:
    sys.stderr.write(f"ERR {type(exc).__name__} {exc.exit_code} {exc.message}\\n")
    code = exc.exit_code
finally:
    sys.stderr.write(f"ECHO {echo_state()}\\n")
    sys.stderr.flush()
sys.exit(code)
"""


def spawn(mode: str, redirect: str = "") -> pexpect.spawn:
    """The driver in a fresh pty; ``redirect`` is appended as shell redirections."""
    assert "'" not in DRIVER  # it goes between single quotes
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = f"exec {sys.executable} -c '{DRIVER}' {mode} {redirect}"
    child = pexpect.spawn(
        "/bin/sh", ["-c", command], env=env, encoding="utf-8", timeout=20, cwd=str(ROOT)
    )
    return child


def finish(child: pexpect.spawn) -> int:
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus is not None, child.signalstatus
    return int(child.exitstatus)


def test_secret_is_not_echoed_and_echo_comes_back() -> None:
    child = spawn("secret")
    child.expect_exact("Okta password for alice: ")
    child.sendline("  hunter2 with spaces ")
    child.expect_exact("GOT[  hunter2 with spaces ]")
    assert "hunter2" not in child.before
    child.expect_exact("ECHO on")
    assert finish(child) == 0


def test_plain_answer_is_echoed_and_stripped() -> None:
    child = spawn("plain")
    child.expect_exact("Username: ")
    child.sendline("  alice@acme.com ")
    child.expect_exact("GOT[alice@acme.com]")
    assert "alice@acme.com" in child.before  # the terminal echoed it
    assert finish(child) == 0


def test_menu_rejects_junk_then_accepts_a_number() -> None:
    child = spawn("menu")
    child.expect_exact("Choose an AWS role:")
    child.expect_exact("  1) dev/Admin")
    child.expect_exact("  2) prod/Admin")
    child.expect_exact("  3) prod/Read")
    for junk in ("junk", "0", "4", ""):
        child.expect_exact("Choose [1-3]: ")
        child.sendline(junk)
        child.expect_exact("Please enter a number from 1 to 3.")
    child.expect_exact("Choose [1-3]: ")
    child.sendline("2")
    child.expect_exact("GOT[1]")
    assert finish(child) == 0


def test_menu_gives_up_after_five_bad_answers() -> None:
    child = spawn("menu")
    for _ in range(5):
        child.expect_exact("Choose [1-3]: ")
        child.sendline("x")
    child.expect_exact("ERR UsageError 2 no valid choice")
    assert finish(child) == 2


def test_single_option_is_taken_without_asking() -> None:
    child = spawn("single")
    child.expect_exact("GOT[0]")
    assert "Choose" not in child.before
    assert finish(child) == 0


def test_ctrl_c_at_a_secret_prompt_restores_the_terminal() -> None:
    child = spawn("secret")
    child.expect_exact("Okta password for alice: ")
    child.send("half-typed")
    child.sendintr()
    child.expect_exact("ERR Interrupted 130 interrupted")
    child.expect_exact("ECHO on")
    assert finish(child) == 130


def test_ctrl_c_at_a_menu() -> None:
    child = spawn("menu")
    child.expect_exact("Choose [1-3]: ")
    child.sendintr()
    child.expect_exact("ERR Interrupted 130 interrupted")
    assert finish(child) == 130


@pytest.mark.parametrize("mode", ["plain", "secret"])
def test_end_of_input_is_no_input(mode: str) -> None:
    child = spawn(mode)
    child.expect(": ")
    child.sendeof()
    child.expect_exact("ERR NoInputError 3 no answer (end of input)")
    child.expect_exact("ECHO on")
    assert finish(child) == 3


def test_prompts_use_the_terminal_when_stdin_and_stdout_are_redirected(tmp_path: Path) -> None:
    # Like `eval $(okenv prod)` or credential_process: stdout is captured, stdin is not ours.
    out = tmp_path / "stdout"
    child = spawn("secret", f"</dev/null >{out}")
    child.expect_exact("Okta password for alice: ")
    child.sendline("s3cret")
    child.expect_exact("ECHO on")
    assert finish(child) == 0
    assert out.read_text() == "GOT[s3cret]\n"  # only the answer, no prompt


def test_info_goes_to_the_terminal_not_stdout(tmp_path: Path) -> None:
    out = tmp_path / "stdout"
    child = spawn("info", f">{out}")
    child.expect_exact("okenv: approve the push")
    assert finish(child) == 0
    assert out.read_text() == "GOT[done]\n"


# -- without a terminal --------------------------------------------------------------------

PROBE = """
import sys
from okenv.errors import OkenvError
from okenv.prompt import make_prompter
prompter = make_prompter(no_input=False)
print(type(prompter).__name__, prompter.interactive)
try:
    prompter.ask("Okta password for alice: ", secret=True)
except OkenvError as exc:
    print(type(exc).__name__, exc.exit_code, exc.message)
"""


def test_no_controlling_terminal_gives_a_non_interactive_prompter() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        start_new_session=True,  # setsid: no controlling terminal
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "NoInputPrompter False",
        "NoInputError 3 okta password for alice needed but there is no terminal to ask on",
    ]


def test_no_input_prompter_refuses(capsys: pytest.CaptureFixture[str]) -> None:
    prompter = NoInputPrompter()
    assert prompter.interactive is False
    with pytest.raises(NoInputError) as caught:
        prompter.ask("Okta username: ")
    assert caught.value.message == "okta username needed but --no-input was given"
    assert caught.value.hint and "--no-input" in caught.value.hint
    assert caught.value.exit_code == 3
    with pytest.raises(NoInputError, match="a choice is needed"):
        prompter.choose("Choose an AWS role:", ["a", "b"])
    assert prompter.choose("Choose an AWS role:", ["only"]) == 0
    prompter.info("hello")
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "okenv: hello\n"


def test_make_prompter_with_no_input_never_touches_the_terminal() -> None:
    assert isinstance(make_prompter(no_input=True), NoInputPrompter)


def test_terminal_prompter_over_pipes_is_not_offered(monkeypatch: pytest.MonkeyPatch) -> None:
    real_open = os.open

    def no_tty(path: str, *args: int) -> int:
        if path == "/dev/tty":
            raise OSError(6, "No such device or address")
        return real_open(path, *args)

    monkeypatch.setattr(os, "open", no_tty)
    monkeypatch.setattr(sys, "stdin", open(os.devnull))  # noqa: SIM115
    try:
        assert TerminalPrompter.open() is None
        assert isinstance(make_prompter(no_input=False), NoInputPrompter)
    finally:
        sys.stdin.close()


@pytest.mark.parametrize(
    ("label", "rendered"),
    [
        ("Username", "Username: "),
        ("Username:", "Username: "),
        ("Okta username: ", "Okta username: "),
        ("Continue?", "Continue? "),
        ("", ""),
    ],
)
def test_labels(label: str, rendered: str) -> None:
    assert _render_label(label) == rendered
