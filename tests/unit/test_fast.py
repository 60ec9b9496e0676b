"""The typer-free front end (okenv.fast) and typer's (okenv.cli) read argv alike.

Both turn argv into a command's input (okenv.commands); the fast matcher serves only the
everyday forms and returns None for the rest, which typer reads. For every form the fast
matcher serves, typer must build the very same input (same type, same values), and the two
must agree on which words are commands.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.main import get_command

from okenv import cli, commands
from okenv.commands import Input
from okenv.commands.common import LoginOptions
from okenv.commands.complete_profiles import CompleteProfilesInput
from okenv.commands.credential_process import CredentialProcessInput
from okenv.commands.env import EnvInput
from okenv.commands.exec import ExecInput
from okenv.fast import match

SERVED: list[tuple[list[str], Input]] = [
    (["prod"], EnvInput("prod")),
    (["env", "prod"], EnvInput("prod")),
    (["env", "prod", "--shell", "fish"], EnvInput("prod", "fish")),
    (["env", "--shell", "bash", "prod"], EnvInput("prod", "bash")),
    (["prod", "--shell", "zsh"], EnvInput("prod", "zsh")),
    (["env", "prod", "--shell", ""], EnvInput("prod", "")),
    (["credential-process", "prod"], CredentialProcessInput("prod")),
    (["exec", "prod", "--", "aws", "s3", "ls"], ExecInput("prod", ("aws", "s3", "ls"))),
    (["exec", "prod", "--", "env", "--debug"], ExecInput("prod", ("env", "--debug"))),
    (["envy", "--shell", "fish"], EnvInput("envy", "fish")),
]


def _typed(value: Input | int | None) -> tuple[type, object]:
    # NamedTuples compare as plain tuples: compare the type too.
    return type(value), value


@pytest.mark.parametrize(("args", "expected"), SERVED)
def test_served_forms(args: list[str], expected: Input) -> None:
    assert _typed(match(args)) == _typed(expected)


@pytest.mark.parametrize(("args", "expected"), SERVED)
def test_typer_builds_the_same_input(args: list[str], expected: Input) -> None:
    assert _typed(cli.parse(args)) == _typed(expected)


def test_profile_completion_is_served() -> None:
    assert _typed(match(["__complete-profiles"])) == _typed(CompleteProfilesInput(""))
    assert _typed(match(["__complete-profiles", "pr"])) == _typed(CompleteProfilesInput("pr"))
    assert match(["__complete-profiles", "a", "b"]) is None


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["--version"],
        ["env"],
        ["env", "prod", "--force"],
        ["env", "prod", "--shell"],
        ["env", "--debug", "prod"],
        ["env", "prod", "--shell", "bash", "--shell", "zsh"],
        ["exec", "prod", "true"],
        ["exec", "--force", "prod", "--", "true"],
        ["exec", "--no-input", "prod", "--", "true"],
        ["credential-process", "prod", "--no-input"],
        ["login", "prod"],
        ["status"],
        ["init", "bash"],
        ["use", "prod"],
    ],
)
def test_everything_else_takes_the_long_way(args: list[str]) -> None:
    assert match(args) is None


def test_the_long_way_reads_the_flags() -> None:
    """What the fast matcher leaves to typer lands in the same input types, flags set."""
    assert _typed(cli.parse(["exec", "--no-input", "prod", "--", "true"])) == _typed(
        ExecInput("prod", ("true",), login=LoginOptions(no_input=True))
    )
    assert _typed(cli.parse(["prod", "--force", "--factor", "push"])) == _typed(
        EnvInput("prod", None, True, LoginOptions(factor="push"))
    )


def test_one_table_of_command_names() -> None:
    """typer declares exactly the commands of okenv.commands.NAMES; the hidden ones are not
    typer's; and every one of them is a command (not a profile) to both front ends."""
    declared = set(get_command(cli.app).commands)  # type: ignore[attr-defined]
    assert declared == set(commands.NAMES)
    assert not set(commands.HIDDEN) & declared
    for name in commands.NAMES + commands.HIDDEN:
        assert commands.with_default_command([name, "x"])[0] == name
        as_profile = _typed(EnvInput(name, "bash"))
        assert _typed(match([name, "--shell", "bash"])) != as_profile
        assert _typed(cli.parse([name, "--shell", "bash"])) != as_profile
    assert commands.with_default_command(["prod", "x"]) == ["env", "prod", "x"]


# One minimal form of every command typer declares, and the command module it runs.
EVERY_COMMAND = [
    (["env", "p"], "env"),
    (["exec", "p", "--", "x"], "exec"),
    (["login", "p"], "login"),
    (["roles", "p"], "roles"),
    (["status"], "status"),
    (["credential-process", "p"], "credential_process"),
    (["console", "p"], "console"),
    (["unset"], "unset"),
    (["logout"], "logout"),
    (["init", "bash"], "init"),
    (["use", "p"], "use"),
    (["configure"], "configure"),
    (["completions", "bash"], "completions"),
]


def test_every_command_has_an_input_and_a_run() -> None:
    """typer turns each command into the input of its own module, and that module has the
    ``run`` okenv.main dispatches to."""
    assert {args[0] for args, _ in EVERY_COMMAND} == set(commands.NAMES)
    for args, module in EVERY_COMMAND:
        given = cli.parse(args)
        assert isinstance(given, tuple), args
        assert type(given).__module__ == f"okenv.commands.{module}"
        assert callable(sys.modules[type(given).__module__].run)  # type: ignore[attr-defined]


def test_the_matcher_imports_only_what_it_runs() -> None:
    """Matching a fast form imports that one command module (and what it needs); a form
    typer reads, none; typer never."""
    script = (
        "import sys\n"
        "from okenv.fast import match\n"
        "match(sys.argv[1:])\n"
        "mine = ('okenv.commands', 'okenv.cli')\n"
        "print(' '.join(sorted(m for m in sys.modules if m.startswith(mine))))\n"
    )

    def imported(*args: str) -> set[str]:
        result = subprocess.run(
            [sys.executable, "-c", script, *args], capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, result.stderr
        return set(result.stdout.split())

    env = {"okenv.commands", "okenv.commands.common", "okenv.commands.env"}
    assert imported("env", "p") == env
    assert imported("__complete-profiles") == {"okenv.commands", "okenv.commands.complete_profiles"}
    assert imported("login", "p") == {"okenv.commands"}
    assert imported("exec", "--force", "p", "--", "x") == {"okenv.commands"}
