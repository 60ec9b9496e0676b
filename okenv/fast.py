"""The entry point: the everyday forms without typer, everything else through okenv.cli.

``okenv PROFILE``, ``okenv env PROFILE [--shell S]``, ``okenv exec PROFILE -- CMD…``,
``okenv credential-process PROFILE`` and profile-name completion run inside prompts, rc
files and every SDK call. This module serves them with the standard library and okenv's
light modules (typer alone costs more than the whole cached path); a login, when the cache
cannot answer, imports what it needs when it needs it. Any other form — another flag,
another command — goes to :mod:`okenv.cli`. Both report errors through :func:`guarded`:
one message on stderr and the exit code of SPEC.md.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:
    from okenv.errors import OkenvError

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
    """Run the forms served here and return the exit code, or None for cli.py's forms."""
    if args[:1] == ["__complete-profiles"] and len(args) <= 2:
        from okenv.config import profile_candidates
        from okenv.paths import config_path

        names = profile_candidates(config_path(), args[1] if len(args) == 2 else "")
        sys.stdout.write("".join(name + "\n" for name in names))
        return 0
    parsed = _parse(args)
    if parsed is None:
        return None
    command, name, shell_name, argv = parsed

    from okenv.cache import CredentialCache
    from okenv.config import resolve_profile
    from okenv.paths import cache_dir, config_path
    from okenv.provider import credentials, warn

    if command == "credential-process":
        guard_credential_process()
    profile = resolve_profile(name, path=config_path(), environ=os.environ, warn=warn)
    if command == "exec":
        from okenv.run import check_nesting

        check_nesting(os.environ, profile.name, False)
    shell = None
    if command == "env":
        from okenv.shells import detect_shell, normalize_shell

        shell = normalize_shell(shell_name) if shell_name else detect_shell()
    creds, _ = credentials(profile, CredentialCache(cache_dir(), warn=warn))

    if command == "credential-process":
        sys.stdout.write(creds.process_json() + "\n")
        return 0
    from okenv.env import credentials_env

    changes = credentials_env(profile.name, creds)
    if command == "exec":
        from okenv.run import build_environment, exec_command

        exec_command(argv, build_environment(os.environ, changes))
    from okenv.shells import render

    assert shell is not None
    sys.stdout.write(render(shell, changes))
    return 0


_GUARD = "OKENV_IN_CREDENTIAL_PROCESS"


def guard_credential_process() -> None:
    """Stop a credential_process loop: okenv started, through an SDK, by okenv itself."""
    from okenv.errors import UsageError

    if os.environ.get(_GUARD):
        raise UsageError(
            "okenv credential-process was started by okenv credential-process (a loop)",
            hint="an AWS profile okenv's own calls use must not have okenv as credential_process",
        )
    os.environ[_GUARD] = "1"  # inherited by anything this process starts


def report(exc: OkenvError) -> None:
    sys.stderr.write(f"okenv: {exc.message}\n")
    if exc.hint:
        sys.stderr.write(f"okenv: {exc.hint}\n")


def guarded(action: Callable[[], int | None], *, debug: bool = False) -> int | None:
    """Run ``action``; turn every exception into its message on stderr and an exit code."""
    from okenv.errors import Interrupted, OkenvError

    try:
        return action()
    except OkenvError as exc:
        report(exc)
        return exc.exit_code
    except KeyboardInterrupt:
        report(Interrupted("interrupted"))
        return Interrupted.exit_code
    except BrokenPipeError:
        return 1
    except Exception as exc:
        if debug:
            import traceback

            traceback.print_exc()  # frames only: local variables are never printed
        # The type only: an exception's text could carry a secret.
        sys.stderr.write(f"okenv: internal error ({type(exc).__name__})\n")
        sys.stderr.write("okenv: run again with --debug and report it\n")
        return 1


def main(argv: Sequence[str] | None = None) -> NoReturn:
    args = list(sys.argv[1:] if argv is None else argv)
    code = guarded(lambda: _serve(args))
    if code is None:
        from okenv.cli import main as cli_main

        cli_main(args)
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        code = code or 1
    sys.exit(code)
