"""``okenv exec``: run a command with the credentials in its environment.

On POSIX okenv *becomes* the command (``execve``): no Python process stays behind, signals
reach the command directly, and the exit code is the command's own. This module is on the
cached fast path, so it avoids ``shutil`` (~7 ms to import) and looks the command up itself.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from contextlib import suppress
from typing import NoReturn

from okenv.errors import CommandNotExecutableError, CommandNotFoundError, UsageError


def check_nesting(environ: Mapping[str, str], profile: str, force: bool) -> None:
    """Refuse to nest a session for another profile inside an okenv session (unless forced)."""
    current = environ.get("OKENV_PROFILE")
    if current and current != profile and not force:
        raise UsageError(
            f"already inside an okenv session for profile {current}",
            hint='run `okenv unset` (or eval "$(okenv unset)") first, or pass --force',
        )


# okenv's own secrets stay with okenv: the command gets credentials, not the means to make them.
LOGIN_SECRETS = ("OKENV_PASSWORD", "OKENV_TOTP_SECRET", "OKENV_SECURITY_ANSWER")


def build_environment(base: Mapping[str, str], changes: Mapping[str, str | None]) -> dict[str, str]:
    """``base`` without okenv's login secrets and the keys whose change is None, plus the
    new values."""
    environment = {k: v for k, v in base.items() if k not in LOGIN_SECRETS}
    for name, value in changes.items():
        if value is None:
            environment.pop(name, None)
        else:
            environment[name] = value
    return environment


def _is_executable_file(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)


def resolve_command(name: str, env: Mapping[str, str]) -> str:
    """The file that ``name`` runs, searched on ``env``'s PATH like a shell would.

    Raises :class:`CommandNotFoundError` (exit 127) or, for a file that exists but cannot be
    run, :class:`CommandNotExecutableError` (exit 126).
    """
    if not name:
        raise CommandNotFoundError("command not found: ''")
    separators = os.sep + (os.altsep or "")
    if any(sep in name for sep in separators):
        if _is_executable_file(name):
            return name
        if os.path.exists(name):
            raise CommandNotExecutableError(
                f"cannot run {name}: "
                + ("it is a directory" if os.path.isdir(name) else "permission denied"),
                hint=None if os.path.isdir(name) else f"make it executable: chmod +x {name}",
            )
        raise CommandNotFoundError(f"command not found: {name}")
    search_path = env.get("PATH", os.defpath)
    if os.name == "nt":  # pragma: no cover - PATHEXT and friends
        import shutil

        found = shutil.which(name, path=search_path)
        if found is None:
            raise CommandNotFoundError(f"command not found: {name}")
        return found
    not_executable: str | None = None
    for directory in search_path.split(os.pathsep):
        candidate = os.path.join(directory or ".", name)
        if _is_executable_file(candidate):
            return candidate
        if not_executable is None and os.path.isfile(candidate):
            not_executable = candidate
    if not_executable is not None:
        raise CommandNotExecutableError(
            f"cannot run {name}: permission denied ({not_executable})",
            hint=f"make it executable: chmod +x {not_executable}",
        )
    raise CommandNotFoundError(f"command not found: {name}")


def exec_command(argv: Sequence[str], env: Mapping[str, str]) -> NoReturn:
    """Become ``argv`` in ``env`` (POSIX ``execve``); on Windows run it and exit with its code."""
    if not argv:
        raise UsageError("no command to run", hint="usage: okenv exec PROFILE -- COMMAND [ARG...]")
    path = resolve_command(argv[0], env)
    if os.name == "nt":  # pragma: no cover - Windows has no exec
        _run_and_exit(path, argv, env)
    import signal

    # Python ignores SIGPIPE and SIGXFSZ at start-up and ignored signals survive execve:
    # give the command the default dispositions any shell would have given it.
    for name in ("SIGPIPE", "SIGXFSZ"):
        number = getattr(signal, name, None)
        if number is not None:
            signal.signal(number, signal.SIG_DFL)
    for stream in (sys.stdout, sys.stderr):
        with suppress(OSError, ValueError):
            stream.flush()
    try:
        os.execve(path, list(argv), dict(env))  # noqa: S606 - that is the point
    except OSError as exc:
        import errno

        reason = exc.strerror or str(exc)
        if exc.errno == errno.ENOENT:  # e.g. a script whose interpreter does not exist
            raise CommandNotFoundError(f"cannot run {argv[0]}: {reason}") from None
        raise CommandNotExecutableError(f"cannot run {argv[0]}: {reason}") from None


def _run_and_exit(path: str, argv: Sequence[str], env: Mapping[str, str]) -> NoReturn:
    """Windows: run the command as a child; Ctrl-C reaches it through the console."""
    import signal
    import subprocess

    # The console delivers Ctrl-C/Ctrl-Break to the whole process group: let the child decide.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        child = subprocess.Popen([path, *argv[1:]], env=dict(env))
    except OSError as exc:
        raise CommandNotExecutableError(f"cannot run {argv[0]}: {exc.strerror or exc}") from None
    sys.exit(child.wait())
