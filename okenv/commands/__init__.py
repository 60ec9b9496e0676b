"""The command layer (aws-vault's manner): one module per command, each an input (a
NamedTuple of plain values) and ``run(input) -> int``.

Two front ends build those inputs from argv: :mod:`okenv.fast` (the everyday forms, without
typer) and :mod:`okenv.cli` (every form, with typer); :mod:`okenv.main` runs what they build.
This module is the one table of command names both front ends use; it imports no other
okenv module.
"""

from __future__ import annotations

from collections.abc import Sequence

Input = tuple[object, ...]
"""A command's input: a NamedTuple defined beside that command's ``run`` (okenv.main finds the
``run`` by the input's module)."""

NAMES: tuple[str, ...] = (
    "env",
    "exec",
    "login",
    "roles",
    "status",
    "credential-process",
    "console",
    "unset",
    "logout",
    "init",
    "use",
    "configure",
    "completions",
)
"""The commands typer declares (okenv.cli; a test checks they are exactly these)."""

HIDDEN: tuple[str, ...] = ("__complete-profiles",)
"""Commands only okenv.fast serves (what the shell completions call)."""

_ALL = frozenset(NAMES + HIDDEN)


def with_default_command(args: Sequence[str]) -> list[str]:
    """``okenv PROFILE [...]`` is ``okenv env PROFILE [...]``: a first word that is neither a
    flag nor a command is a profile. ``okenv help [COMMAND]`` is ``okenv [COMMAND] --help``."""
    if args[:1] == ["help"]:
        return [*args[1:2], "--help"]
    if args and not args[0].startswith("-") and args[0] not in _ALL:
        return ["env", *args]
    return list(args)
