"""The command layer end to end: the typer-free and the typer front end run the same
command, so the same mistake gets the same answer whichever of them reads the line."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Sandbox


@pytest.mark.parametrize(
    "flags",
    [[], ["--no-input"], ["--force"]],
    ids=["fast", "typer", "typer-forced"],
)
def test_exec_unknown_profile_inside_a_session(sandbox: Sandbox, flags: list[str]) -> None:
    """With OKENV_PROFILE=a, a name that is no profile is "unknown profile" — not "already
    inside an okenv session" — with or without a flag that sends the line through typer."""
    result = sandbox.run("exec", *flags, "nope", "--", "true", env={"OKENV_PROFILE": "a"})
    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines()[0] == "okenv: unknown profile 'nope'"
    assert "already inside" not in result.stderr
    assert sandbox.okta.requests == []


@pytest.mark.parametrize("flags", [[], ["--force"]], ids=["fast", "typer"])
def test_env_same_error_either_way(sandbox: Sandbox, flags: list[str]) -> None:
    """A bad shell name and a bad profile together: both front ends name the profile."""
    result = sandbox.run("env", "nope", "--shell", "tcsh", *flags)
    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines()[0] == "okenv: unknown profile 'nope'"


@pytest.mark.parametrize(
    ("args", "module"),
    [
        (["env", "admin", "--shell", "bash"], "env"),
        (["admin", "--shell", "bash"], "env"),
        (["exec", "admin", "--", "true"], "exec"),
        (["credential-process", "admin"], "credential_process"),
    ],
)
def test_cached_path_loads_one_command(sandbox: Sandbox, args: list[str], module: str) -> None:
    """On a cache hit the entry point loads the one command it runs, never okenv.cli."""
    assert sandbox.run("login", "admin").returncode == 0
    imported = sandbox.imports(*args)
    layer = {name for name in imported if name.startswith(("okenv.commands", "okenv.cli"))}
    assert layer == {"okenv.commands", "okenv.commands.common", f"okenv.commands.{module}"}
