from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from okenv.errors import CommandNotExecutableError, CommandNotFoundError, UsageError
from okenv.run import build_environment, check_nesting, exec_command, resolve_command

ROOT = Path(__file__).resolve().parents[2]

# Calls exec_command(argv, env) with env from $TEST_ENV, mapping okenv errors like the CLI.
RUNNER = """
import json, os, sys
from okenv.errors import OkenvError
from okenv.run import exec_command
env = json.loads(os.environ["TEST_ENV"])
print("pid", os.getpid())  # buffered on a pipe: exec_command must flush it
try:
    exec_command(sys.argv[1:], env)
except OkenvError as exc:
    sys.stderr.write(f"okenv: {exc.message}\\n")
    sys.exit(exc.exit_code)
"""


def run(argv: list[str], env: dict[str, str], cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", RUNNER, *argv],
        env={**os.environ, "PYTHONPATH": str(ROOT), "TEST_ENV": json.dumps(env)},
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=60,
    )


def base_env() -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", os.defpath), "OKENV_TEST": "1"}


# -- pure functions ------------------------------------------------------------------------


def test_build_environment() -> None:
    base = {"PATH": "/bin", "AWS_PROFILE": "old", "AWS_REGION": "us-east-1", "KEEP": "x"}
    changes: dict[str, str | None] = {
        "AWS_PROFILE": None,
        "AWS_SECURITY_TOKEN": None,  # absent: fine
        "AWS_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "AKIA",
    }
    result = build_environment(base, changes)
    assert result == {
        "PATH": "/bin",
        "AWS_REGION": "eu-west-1",
        "KEEP": "x",
        "AWS_ACCESS_KEY_ID": "AKIA",
    }
    assert base["AWS_PROFILE"] == "old"  # the input is not modified


def test_check_nesting() -> None:
    check_nesting({}, "prod", force=False)
    check_nesting({"OKENV_PROFILE": ""}, "prod", force=False)
    check_nesting({"OKENV_PROFILE": "prod"}, "prod", force=False)
    check_nesting({"OKENV_PROFILE": "dev"}, "prod", force=True)
    with pytest.raises(UsageError) as caught:
        check_nesting({"OKENV_PROFILE": "dev"}, "prod", force=False)
    assert caught.value.message == "already inside an okenv session for profile dev"
    assert caught.value.hint is not None and "okenv unset" in caught.value.hint
    assert "exit that shell" not in caught.value.hint
    assert caught.value.exit_code == 2


def test_empty_command_is_a_usage_error() -> None:
    with pytest.raises(UsageError):
        exec_command([], {"PATH": "/bin"})


def test_resolve_command(tmp_path: Path) -> None:
    tool = tmp_path / "tool"
    tool.write_text("#!/bin/sh\n")
    tool.chmod(0o755)
    plain = tmp_path / "plain"
    plain.write_text("")
    plain.chmod(0o644)
    (tmp_path / "folder").mkdir()
    env = {"PATH": f"/nonexistent:{tmp_path}"}
    assert resolve_command("tool", env) == str(tool)
    assert resolve_command(str(tool), {}) == str(tool)
    with pytest.raises(CommandNotFoundError, match="command not found: nope"):
        resolve_command("nope", env)
    with pytest.raises(CommandNotFoundError):
        resolve_command("tool", {"PATH": "/nonexistent"})
    with pytest.raises(CommandNotFoundError):
        resolve_command("", env)
    with pytest.raises(CommandNotFoundError):
        resolve_command("folder", env)
    with pytest.raises(CommandNotExecutableError) as caught:
        resolve_command("plain", env)
    assert caught.value.exit_code == 126
    with pytest.raises(CommandNotExecutableError):
        resolve_command(str(plain), env)
    with pytest.raises(CommandNotExecutableError, match="directory"):
        resolve_command(str(tmp_path / "folder"), env)


# -- really exec'ing -----------------------------------------------------------------------


@pytest.mark.parametrize("code", [0, 7])
def test_exit_code_passes_through(code: int) -> None:
    result = run([sys.executable, "-c", f"import sys; sys.exit({code})"], base_env())
    assert result.returncode == code, result.stderr
    assert result.stderr == ""


def test_the_command_sees_exactly_the_environment() -> None:
    env = {
        **base_env(),
        "AWS_ACCESS_KEY_ID": "AKIA",
        "WITH SPACE": "a b",
        "QUOTES": "'\"$(x)`",
        "EMPTY": "",
        "NEWLINE": "a\nb",
    }
    result = run(["env", "-0"], env)  # `env` found on the environment's PATH
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("pid ")
    dump = result.stdout.split("\n", 1)[1]
    seen = dict(item.split("=", 1) for item in dump.split("\0") if item)
    assert seen == env


def test_no_python_process_is_left_behind() -> None:
    result = run(["sh", "-c", "echo child $$"], base_env())
    assert result.returncode == 0, result.stderr
    lines = result.stdout.split()
    assert lines[0] == "pid" and lines[2] == "child"
    assert lines[1] == lines[3]  # the same process: exec, not a child


def test_the_command_gets_default_signal_dispositions() -> None:
    # Python ignores SIGPIPE; an exec'd command must not inherit that.
    result = run(["grep", "^SigIgn", "/proc/self/status"], base_env())
    assert result.returncode == 0, result.stderr
    ignored = int(result.stdout.split()[-1], 16)
    assert not ignored & (1 << (signal.SIGPIPE - 1))
    assert not ignored & (1 << (signal.SIGXFSZ - 1))


def test_argv_is_passed_verbatim() -> None:
    args = ["", "a b", "--flag", "$HOME", "*", "ü"]
    script = "import json, sys; print(json.dumps(sys.argv[1:]))"
    result = run([sys.executable, "-c", script, *args], base_env())
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1]) == args


def test_missing_command_exits_127() -> None:
    result = run(["okenv-no-such-command", "x"], base_env())
    assert result.returncode == 127
    assert result.stderr == "okenv: command not found: okenv-no-such-command\n"


def test_command_not_on_the_environments_path_exits_127() -> None:
    result = run(["env"], {"PATH": "/nonexistent"})
    assert result.returncode == 127
    assert "command not found: env" in result.stderr


def test_not_executable_exits_126(tmp_path: Path) -> None:
    script = tmp_path / "script"
    script.write_text("#!/bin/sh\necho hi\n")
    script.chmod(0o644)
    for argv, env in (
        (["script"], {"PATH": str(tmp_path)}),
        ([str(script)], base_env()),
        (["./script"], base_env()),
    ):
        result = run(argv, env, cwd=tmp_path)
        assert result.returncode == 126, (argv, result.stderr)
        assert "cannot run" in result.stderr and "permission denied" in result.stderr


def test_relative_path_and_bad_interpreter(tmp_path: Path) -> None:
    good = tmp_path / "good"
    good.write_text("#!/bin/sh\nexit 3\n")
    good.chmod(0o755)
    assert run(["./good"], base_env(), cwd=tmp_path).returncode == 3
    broken = tmp_path / "broken"
    broken.write_text("#!/nonexistent/interpreter\n")
    broken.chmod(0o755)
    result = run(["./broken"], base_env(), cwd=tmp_path)
    assert result.returncode == 127
    assert "cannot run ./broken" in result.stderr
