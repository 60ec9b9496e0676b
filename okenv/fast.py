"""The entry point, and the cached path served without typer.

``okenv PROFILE``, ``okenv env PROFILE [--shell S]``, ``okenv exec PROFILE -- CMD…``,
``okenv credential-process PROFILE`` and profile-name completion run inside prompts, rc
files and every SDK call, so when the cache can answer them they are answered here, with
the standard library and okenv's light modules only. Anything else — another flag, a cache
miss, a warning to print, an error to report — goes to :mod:`okenv.cli`, which does the
same work the long way and owns every message and exit code.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import NoReturn

# The commands cli.py knows; a first word that is none of these is a profile (`okenv PROFILE`).
COMMANDS = frozenset(
    {
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
        "completions",
        "__complete-profiles",
    }
)


def _parse(args: Sequence[str]) -> tuple[str, str, str | None, list[str]] | None:
    """(command, profile, shell, argv) for the forms served here, else None."""
    if not args or args[0].startswith("-"):
        return None
    command, rest = (args[0], list(args[1:])) if args[0] in COMMANDS else ("env", list(args))
    if command == "exec":
        if len(rest) >= 3 and rest[1] == "--" and not rest[0].startswith("-"):
            return "exec", rest[0], None, rest[2:]
        return None
    if command == "credential-process" and len(rest) == 1 and not rest[0].startswith("-"):
        return command, rest[0], None, []
    if command == "env":
        shell = None
        if (
            "--shell" in rest
        ):  # `--shell S` before or after the profile (`okenv use` sends it first)
            at = rest.index("--shell")
            if at + 1 >= len(rest):
                return None
            shell = rest[at + 1]
            rest = rest[:at] + rest[at + 2 :]
        if len(rest) == 1 and not rest[0].startswith("-"):
            return command, rest[0], shell, []
    return None


def _serve(args: Sequence[str]) -> int | None:
    """Serve ``args`` from the cache and return the exit code, or None to take the long way."""
    if args[:1] == ["__complete-profiles"] and len(args) <= 2:
        from okenv.integration import profile_candidates

        names = profile_candidates(args[1] if len(args) == 2 else "")
        sys.stdout.write("".join(name + "\n" for name in names))
        return 0
    parsed = _parse(args)
    if parsed is None:
        return None
    command, name, shell_name, argv = parsed

    from okenv.cache import CredentialCache
    from okenv.config import resolve_profile
    from okenv.errors import OkenvError
    from okenv.paths import cache_dir, config_path
    from okenv.provider import cache_key

    warnings: list[str] = []
    try:
        profile = resolve_profile(
            name, path=config_path(), environ=os.environ, warn=warnings.append
        )
        if command == "exec":
            from okenv.run import check_nesting

            check_nesting(os.environ, profile.name, False)
        creds = CredentialCache(cache_dir(), warn=warnings.append).load(cache_key(profile))
    except OkenvError:
        return None  # cli.py reports it
    if creds is None or warnings:
        return None  # a login is needed, or there is something to say: the long way

    if command == "credential-process":
        sys.stdout.write(creds.process_json() + "\n")
        return 0

    from okenv.env import credentials_env

    changes = credentials_env(profile.name, creds)
    if command == "exec":
        from okenv.run import build_environment, exec_command

        try:
            exec_command(argv, build_environment(os.environ, changes))
        except OkenvError:
            return None  # e.g. command not found: cli.py reports it
    from okenv.shells import detect_shell, normalize_shell, render

    try:
        shell = normalize_shell(shell_name) if shell_name else detect_shell()
    except OkenvError:
        return None
    sys.stdout.write(render(shell, changes))
    return 0


def main(argv: Sequence[str] | None = None) -> NoReturn:
    args = list(sys.argv[1:] if argv is None else argv)
    code = _serve(args)
    if code is None:
        from okenv.cli import main as cli_main

        cli_main(args)
    sys.stdout.flush()
    sys.exit(code)
