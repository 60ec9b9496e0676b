"""The typer-free entry: which argument forms it serves itself."""

from __future__ import annotations

import pytest

from okenv.fast import _parse


@pytest.mark.parametrize(
    ("args", "parsed"),
    [
        (["prod"], ("env", "prod", None, [])),
        (["env", "prod"], ("env", "prod", None, [])),
        (["env", "prod", "--shell", "fish"], ("env", "prod", "fish", [])),
        (["env", "--shell", "bash", "prod"], ("env", "prod", "bash", [])),
        (["prod", "--shell", "zsh"], ("env", "prod", "zsh", [])),
        (["credential-process", "prod"], ("credential-process", "prod", None, [])),
        (["exec", "prod", "--", "aws", "s3", "ls"], ("exec", "prod", None, ["aws", "s3", "ls"])),
    ],
)
def test_served_forms(args: list[str], parsed: tuple[object, ...]) -> None:
    assert _parse(args) == parsed


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["--version"],
        ["env"],
        ["env", "prod", "--force"],
        ["env", "prod", "--shell"],
        ["env", "--debug", "prod"],
        ["exec", "prod", "true"],
        ["exec", "--force", "prod", "--", "true"],
        ["credential-process", "prod", "--no-input"],
        ["login", "prod"],
        ["status"],
        ["init", "bash"],
    ],
)
def test_everything_else_takes_the_long_way(args: list[str]) -> None:
    assert _parse(args) is None
