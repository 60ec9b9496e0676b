"""``okenv use PROFILE``: only the shell integration can change the current shell."""

from __future__ import annotations

from typing import NamedTuple

from okenv.errors import UsageError


class UseInput(NamedTuple):
    profile: str


def run(given: UseInput) -> int:
    raise UsageError(
        "okenv use changes the current shell, so it works only through the shell integration",
        hint='add eval "$(okenv init bash)" (or zsh/fish/powershell) to your shell\'s rc file, '
        f'or run eval "$(okenv env {given.profile})"',
    )
