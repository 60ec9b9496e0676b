"""The everyday forms, read without typer: argv → a command's input, or None.

``okenv PROFILE``, ``okenv env PROFILE [--shell S]``, ``okenv exec PROFILE -- CMD…``,
``okenv credential-process PROFILE`` and profile-name completion run inside prompts, rc
files and every SDK call; typer alone costs more than the whole cached path. This module
only matches those forms (it imports the one command module whose input it builds); any
other form — another flag, another command — is :mod:`okenv.cli`'s, which builds the same
inputs (a test holds the two to that). :mod:`okenv.main` runs what either builds.
"""

from __future__ import annotations

from collections.abc import Sequence

from okenv.commands import Input, with_default_command


def match(args: Sequence[str]) -> Input | None:
    """The input for the forms served without typer, else None."""
    if args[:1] == ["__complete-profiles"]:
        if len(args) > 2:
            return None
        from okenv.commands.complete_profiles import CompleteProfilesInput

        return CompleteProfilesInput(args[1] if len(args) == 2 else "")
    args = with_default_command(args)
    if not args:
        return None
    command, rest = args[0], args[1:]
    if command == "exec":
        if len(rest) >= 3 and rest[1] == "--" and not rest[0].startswith("-"):
            from okenv.commands.exec import ExecInput

            return ExecInput(rest[0], tuple(rest[2:]))
        return None
    if command == "credential-process":
        if len(rest) == 1 and not rest[0].startswith("-"):
            from okenv.commands.credential_process import CredentialProcessInput

            return CredentialProcessInput(rest[0])
        return None
    if command == "env":
        return _env(rest)
    return None


def _env(rest: list[str]) -> Input | None:
    """``env PROFILE`` with ``--shell S`` before or after the profile (`okenv use` sends it
    first)."""
    shell = None
    if "--shell" in rest:
        at = rest.index("--shell")
        if at + 1 >= len(rest):
            return None
        shell = rest[at + 1]
        rest = rest[:at] + rest[at + 2 :]
    if len(rest) == 1 and not rest[0].startswith("-"):
        from okenv.commands.env import EnvInput

        return EnvInput(rest[0], shell)
    return None
