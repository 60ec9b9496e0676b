"""`okenv exec`: the environment, exit codes, signals, no process left behind, nesting."""

from __future__ import annotations

import signal
import subprocess

import pytest

from tests.e2e.conftest import ADMIN, OKENV, Sandbox


@pytest.fixture(params=["login", "cached"])
def box(request: pytest.FixtureRequest, sandbox: Sandbox) -> Sandbox:
    """Each exec test runs once on a login and once on the cached (typer-free) path."""
    if request.param == "cached":
        assert sandbox.run("login", "admin").returncode == 0
    return sandbox


@pytest.mark.parametrize("code", [0, 7, 255])
def test_exit_code_is_the_commands(box: Sandbox, code: int) -> None:
    result = box.run("exec", "admin", "--", "sh", "-c", f"exit {code}")
    assert result.returncode == code, result.stderr


def test_environment_of_the_command(box: Sandbox) -> None:
    env = {"AWS_PROFILE": "stale", "AWS_SECURITY_TOKEN": "stale", "KEEP_ME": "yes"}
    result = box.run("exec", "admin", "--", "env", env=env)
    assert result.returncode == 0, result.stderr
    seen = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
    assert seen["OKENV_PROFILE"] == "admin"
    assert seen["OKENV_ROLE_ARN"] == ADMIN
    assert seen["AWS_ACCESS_KEY_ID"].startswith("ASIA")
    assert seen["KEEP_ME"] == "yes"
    assert "AWS_PROFILE" not in seen and "AWS_SECURITY_TOKEN" not in seen
    # okenv's login secrets (set in this sandbox's environment) stay with okenv.
    assert "OKENV_PASSWORD" not in seen and "OKENV_TOTP_SECRET" not in seen


def test_arguments_pass_unchanged(box: Sandbox) -> None:
    args = ["--force", "-x", "a b", "$(x)", "--", ""]
    result = box.run(
        "exec", "admin", "--", "python3", "-c", "import sys; print(sys.argv[1:])", *args
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == repr(args)


def test_missing_command_is_127(box: Sandbox) -> None:
    result = box.run("exec", "admin", "--", "no-such-command-okenv")
    assert result.returncode == 127
    assert (
        result.stderr.strip().splitlines()[0] == "okenv: command not found: no-such-command-okenv"
    )
    assert result.stdout == ""


def test_no_python_process_left_behind(box: Sandbox) -> None:
    """The command replaces okenv: same pid, and signals reach it directly."""
    proc = subprocess.Popen(
        [OKENV, "exec", "admin", "--", "sh", "-c", "echo $$; exec sleep 60"],
        env=box.env,
        stdout=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    assert int(proc.stdout.readline()) == proc.pid
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == -signal.SIGTERM


def test_refuses_to_nest_for_another_profile(box: Sandbox) -> None:
    nested = box.run("exec", "admin", "--", "true", env={"OKENV_PROFILE": "readonly"})
    assert nested.returncode == 2
    assert "readonly" in nested.stderr and "--force" in nested.stderr
    same = box.run("exec", "admin", "--", "true", env={"OKENV_PROFILE": "admin"})
    assert same.returncode == 0, same.stderr
    forced = box.run("exec", "admin", "--force", "--", "true", env={"OKENV_PROFILE": "readonly"})
    assert forced.returncode == 0, forced.stderr
