"""okenv.supervise: the command runs as okenv's child, gets every signal once, and okenv
exits with its code while the credential server closes behind it.

Real processes: the supervisor runs in a subprocess (or a pty, for terminal signals) and its
child is a small Python program that reports what it received on stdout.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pexpect
import pytest

from okenv.credentials import Credentials
from okenv.errors import CommandNotFoundError
from okenv.supervise import _forward, exit_code, run_with_server, supervise

ADMIN = "arn:aws:iam::123456789012:role/Admin"
PY = sys.executable

# A child that reports its pid and parent, then each signal it gets; USR1 makes it exit.
REPORTER = textwrap.dedent(
    """
    import os, signal, sys
    counts = {}
    def report(number, frame):
        counts[number] = counts.get(number, 0) + 1
        print(f"got {signal.Signals(number).name} {counts[number]}", flush=True)
        if number in (signal.SIGTERM, signal.SIGHUP):
            sys.exit(100 + number)
    def done(number, frame):
        print("ints=%d" % counts.get(signal.SIGINT, 0), flush=True)
        sys.exit(0)
    for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGUSR2):
        signal.signal(number, report)
    signal.signal(signal.SIGUSR1, done)
    print(f"ready {os.getpid()} {os.getppid()}", flush=True)
    if sys.argv[1:] == ["poke"]:
        os.kill(os.getppid(), signal.SIGINT)
        print("poked", flush=True)
    while True:
        signal.pause()
    """
)
SUPERVISOR = (
    "import os, sys; from okenv.supervise import supervise; "
    "sys.exit(supervise(sys.executable, [sys.executable, '-c', *sys.argv[1:]], os.environ))"
)


def creds() -> Credentials:
    return Credentials(
        "ASIAFIRST0000000000A",
        "secret",
        "token",
        datetime.now(UTC) + timedelta(hours=1),
        ADMIN,
        region="eu-west-1",
    )


def never(interactive: bool) -> Credentials:
    raise AssertionError("no renewal expected")


def code_of(source: str) -> int:
    return supervise(PY, [PY, "-c", source], os.environ)


@pytest.mark.parametrize("code", [0, 7, 255])
def test_exit_code_is_the_commands(code: int) -> None:
    assert code_of(f"import sys; sys.exit({code})") == code


@pytest.mark.parametrize("number", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT])
def test_killed_by_a_signal_is_128_plus_n(number: int) -> None:
    assert code_of(f"import os; os.kill(os.getpid(), {int(number)})") == 128 + number


def test_exit_code_of_a_wait_status() -> None:
    assert exit_code(7 << 8) == 7
    assert exit_code(int(signal.SIGKILL)) == 137


def test_no_signal_is_left_blocked_or_pending() -> None:
    before = signal.pthread_sigmask(signal.SIG_BLOCK, set())
    assert code_of("import os, signal; os.kill(os.getppid(), signal.SIGUSR2)") == 0
    assert signal.pthread_sigmask(signal.SIG_BLOCK, set()) == before
    assert not signal.sigpending()


def start_supervisor(*args: str) -> tuple[subprocess.Popen[str], int]:
    process = subprocess.Popen(
        [PY, "-c", SUPERVISOR, REPORTER, *args], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    ready, child, parent = process.stdout.readline().split()
    assert ready == "ready"
    assert int(parent) == process.pid  # a child, not an exec
    assert int(child) != process.pid
    return process, int(child)


@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGHUP])
def test_signals_are_forwarded(number: int) -> None:
    process, _ = start_supervisor()
    process.send_signal(number)
    out, _ = process.communicate(timeout=30)
    assert out == f"got {signal.Signals(number).name} 1\n"
    assert process.returncode == 100 + number


def test_sigint_from_kill_is_forwarded_once() -> None:
    process, _ = start_supervisor()
    assert process.stdout is not None
    process.send_signal(signal.SIGINT)
    assert process.stdout.readline() == "got SIGINT 1\n"
    process.send_signal(signal.SIGUSR1)
    out, _ = process.communicate(timeout=30)
    assert out == "ints=1\n"
    assert process.returncode == 0


def test_ctrl_c_on_the_terminal_reaches_the_command() -> None:
    shell = pexpect.spawn(PY, ["-c", SUPERVISOR, REPORTER], timeout=30, encoding="utf-8")
    try:
        shell.expect(r"ready \d+ \d+")
        shell.sendintr()
        shell.expect("got SIGINT 1")
        os.kill(shell.pid, signal.SIGUSR1)
        shell.expect("ints=1")
        shell.expect(pexpect.EOF)
    finally:
        shell.close()
    assert shell.exitstatus == 0


@pytest.mark.parametrize(
    ("number", "from_kernel", "own_group", "forwarded"),
    [
        # The terminal signals its whole foreground group: the command has it already (and
        # to terraform a second Ctrl-C means "stop now, whatever the state").
        (signal.SIGINT, True, False, False),
        (signal.SIGQUIT, True, False, False),
        (signal.SIGWINCH, True, False, False),
        (signal.SIGTSTP, True, False, False),
        (signal.SIGINT, True, True, True),  # a command in a group of its own missed it
        (signal.SIGINT, False, False, True),  # kill(okenv) from another process
        (signal.SIGTERM, True, False, True),
        (signal.SIGHUP, False, False, True),
    ],
)
def test_which_signals_are_passed_on(
    number: int, from_kernel: bool, own_group: bool, forwarded: bool
) -> None:
    child = subprocess.Popen([PY, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE,
                             start_new_session=own_group)  # fmt: skip
    try:
        assert _forward(number, child.pid, from_kernel) is forwarded
    finally:
        child.communicate(b"", timeout=30)


def test_a_signal_from_the_command_itself_is_not_sent_back() -> None:
    process, _ = start_supervisor("poke")  # the command sends okenv a SIGINT
    assert process.stdout is not None
    assert process.stdout.readline() == "poked\n"
    process.send_signal(signal.SIGUSR1)  # handled after that SIGINT (see above)
    out, _ = process.communicate(timeout=30)
    assert out == "ints=0\n"


# -- run_with_server ------------------------------------------------------------------------


def test_the_command_gets_the_endpoint_and_no_static_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "AKIASTALE",
        "AWS_SECRET_ACCESS_KEY": "stale",
        "AWS_SESSION_TOKEN": "stale",
        "AWS_PROFILE": "other",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/x",
        "OKENV_PASSWORD": "hunter2",
        "OKENV_TOTP_SECRET": "JBSWY3DPEHPK3PXP",
    }.items():
        monkeypatch.setenv(name, value)
    dump = tmp_path / "env.json"
    source = f"import json, os; open({str(dump)!r}, 'w').write(json.dumps(dict(os.environ)))"
    assert run_with_server([PY, "-c", source], os.environ, creds(), never, profile="prod") == 0
    env = json.loads(dump.read_text())
    uri = env["AWS_CONTAINER_CREDENTIALS_FULL_URI"]
    assert urlsplit(uri).hostname == "127.0.0.1"
    assert len(env["AWS_CONTAINER_AUTHORIZATION_TOKEN"]) >= 43
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_EC2_METADATA_SERVICE_ENDPOINT",
        "OKENV_PASSWORD",
        "OKENV_TOTP_SECRET",
    ):
        assert name not in env, name
    assert env["OKENV_PROFILE"] == "prod"
    assert env["AWS_REGION"] == "eu-west-1"
    # The server closed with the command.
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", urlsplit(uri).port or 0), timeout=5).close()


def test_imds_mode_gets_the_metadata_endpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    dump = tmp_path / "env.json"
    source = f"import json, os; open({str(dump)!r}, 'w').write(json.dumps(dict(os.environ)))"
    code = run_with_server([PY, "-c", source], os.environ, creds(), never, profile="p", imds=True)
    assert code == 0
    env = json.loads(dump.read_text())
    endpoint = env["AWS_EC2_METADATA_SERVICE_ENDPOINT"]
    assert endpoint.startswith("http://127.0.0.1:")
    assert "AWS_EC2_METADATA_DISABLED" not in env
    assert "AWS_CONTAINER_CREDENTIALS_FULL_URI" not in env
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", urlsplit(endpoint).port or 0), timeout=5).close()


def test_exit_code_through_the_server() -> None:
    assert (
        run_with_server([PY, "-c", "raise SystemExit(7)"], os.environ, creds(), never, profile="p")
        == 7
    )


def test_command_not_found_before_anything_starts() -> None:
    with pytest.raises(CommandNotFoundError):
        run_with_server(["no-such-command-okenv"], os.environ, creds(), never, profile="p")


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("{py} -c '{probe}'", "False"),  # stdin is the terminal: the command may be reading it
        ("{py} -c '{probe}' < /dev/null", "True"),  # foreground, stdin elsewhere
        ("{py} -c '{probe}' < /dev/null &\nwait", "False"),  # a background job
    ],
)
def test_may_prompt_only_in_the_foreground_with_stdin_elsewhere(
    command: str, expected: str
) -> None:
    probe = 'from okenv.supervise import may_prompt; print("RESULT=%s" % may_prompt())'
    line = command.format(py=PY, probe=probe)
    shell = pexpect.spawn("bash", ["--norc", "--noprofile", "-i"], timeout=30, encoding="utf-8")
    try:
        shell.sendline("set -m; PS1='$ '")
        shell.sendline(line)
        shell.expect(r"RESULT=(True|False)")
        assert shell.match.group(1) == expected
        shell.sendline("exit")
        shell.expect(pexpect.EOF)
    finally:
        shell.close()


def test_may_prompt_without_a_terminal() -> None:
    probe = "from okenv.supervise import may_prompt; print(may_prompt())"
    out = subprocess.run(
        [PY, "-c", probe], stdin=subprocess.DEVNULL, capture_output=True, text=True,
        start_new_session=True, timeout=30,
    )  # fmt: skip
    assert out.stdout == "False\n"
