"""``okenv exec --server``: run the command as okenv's child while the credential server runs.

Plain ``okenv exec`` *becomes* the command; with ``--server`` okenv must outlive nothing and
be outlived by nothing, so it stays as the command's parent:

- the command runs in okenv's process group with okenv's terminal, in the environment of
  :func:`okenv.run.build_environment` (no login secrets) with the server's variables and no
  static keys;
- every signal okenv is sent (HUP, INT, QUIT, TERM, USR1, USR2, WINCH, CONT, ALRM, TSTP,
  INFO) is passed on, except those the terminal sent to the whole foreground process group
  (Ctrl-C, Ctrl-\\, Ctrl-Z, a resize): the command has them already, and a second Ctrl-C
  means "stop now" to many tools. On Linux ``sigtimedwait`` tells the two apart exactly;
  elsewhere a terminal signal is taken to come from the terminal while okenv's group is in
  the foreground with the command in it. Ctrl-Z stops okenv too, so the shell sees the job
  stop;
- okenv exits with the command's exit code, or 128+N when a signal N killed it, after the
  server has closed its port.
"""

from __future__ import annotations

import errno
import os
import signal
import sys
from collections.abc import Mapping, Sequence
from contextlib import suppress

from okenv.credentials import Credentials
from okenv.errors import CommandNotExecutableError, CommandNotFoundError, UsageError
from okenv.run import build_environment, resolve_command
from okenv.server import MARGIN, RETRY_INTERVAL, CredentialServer, Renew

__all__ = ["FORWARDED", "may_prompt", "run_with_server", "supervise"]

FORWARDED = frozenset(
    getattr(signal, name)
    for name in (
        "SIGHUP", "SIGINT", "SIGQUIT", "SIGTERM", "SIGUSR1", "SIGUSR2", "SIGWINCH",
        "SIGCONT", "SIGALRM", "SIGTSTP", "SIGINFO",
    )
    if hasattr(signal, name)
)  # fmt: skip
# What a terminal sends to its foreground process group (the command is in okenv's).
_FROM_TERMINAL = frozenset(
    getattr(signal, name) for name in ("SIGINT", "SIGQUIT", "SIGTSTP", "SIGWINCH", "SIGINFO")
    if hasattr(signal, name)
)  # fmt: skip
_POLL = 1.0  # seconds: look at the child even if a SIGCHLD went astray


def run_with_server(
    argv: Sequence[str],
    environ: Mapping[str, str],
    creds: Credentials,
    renew: Renew,
    *,
    profile: str,
    imds: bool = False,
    margin: float = MARGIN,
    retry_interval: float = RETRY_INTERVAL,
) -> int:
    """Serve ``creds`` (renewed through ``renew``) while ``argv`` runs; its exit code."""
    if not argv:
        raise UsageError(
            "no command to run", hint="usage: okenv exec --server PROFILE -- COMMAND [ARG...]"
        )
    path = resolve_command(argv[0], environ)
    server = CredentialServer(
        creds,
        renew,
        profile=profile,
        imds=imds,
        margin=margin,
        retry_interval=retry_interval,
        may_prompt=may_prompt,
    )
    server.start()
    try:
        return supervise(path, argv, build_environment(environ, server.child_changes()))
    finally:
        server.stop()


def may_prompt() -> bool:
    """okenv may ask on the terminal: its process group is the terminal's foreground one,
    and the command's standard input is not a terminal (it could be reading it)."""
    return _in_foreground() and not os.isatty(0)


def exit_code(status: int) -> int:
    """A shell's ``$?`` for a ``waitpid`` status: the code, or 128+N for signal N."""
    code = os.waitstatus_to_exitcode(status)
    return 128 - code if code < 0 else code


def supervise(path: str, argv: Sequence[str], env: Mapping[str, str]) -> int:
    """Run ``path`` with ``argv`` and ``env`` as a child, pass signals on, return its code."""
    if os.name == "nt":  # pragma: no cover - no signals to forward; Ctrl-C reaches the child
        import subprocess

        signal.signal(signal.SIGINT, signal.SIG_IGN)
        return subprocess.call([path, *argv[1:]], env=dict(env))
    waited = set(FORWARDED) | {signal.SIGCHLD}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, waited)
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    try:
        try:
            pid = os.posix_spawn(
                path,
                list(argv),
                dict(env),
                setsigmask=set(),
                # Python ignores these; the command gets the defaults a shell would give it.
                setsigdef={s for s in (signal.SIGPIPE, getattr(signal, "SIGXFSZ", 0)) if s},
            )
        except OSError as exc:
            reason = exc.strerror or str(exc)
            if exc.errno == errno.ENOENT:  # ENOENT: e.g. a script whose interpreter does not exist
                raise CommandNotFoundError(f"cannot run {argv[0]}: {reason}") from None
            raise CommandNotExecutableError(f"cannot run {argv[0]}: {reason}") from None
        return _wait(pid, waited)
    finally:
        while pending := signal.sigpending() & waited:  # nothing left to surprise the caller
            signal.sigwait(pending)
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _wait(pid: int, waited: set[int]) -> int:
    while True:
        signo, sender, from_kernel = _next_signal(waited)
        if signo in (signal.SIGCHLD, None):
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return exit_code(status)
            continue
        if sender != pid and _forward(signo, pid, from_kernel):
            with suppress(ProcessLookupError):  # it is exiting; its SIGCHLD is on the way
                os.kill(pid, signo)
        if signo == signal.SIGTSTP:
            os.kill(os.getpid(), signal.SIGSTOP)  # stop with the command, as a job does


def _next_signal(waited: set[int]) -> tuple[int | None, int | None, bool | None]:
    """(signal, sender pid, sent by the kernel) — None for what the platform cannot tell."""
    if hasattr(signal, "sigtimedwait"):
        info = signal.sigtimedwait(waited, _POLL)
        if info is None:
            return None, None, None
        # si_code <= 0: kill(), sigqueue(), tkill() from a process; > 0: the kernel (a tty).
        return info.si_signo, info.si_pid, info.si_code > 0
    return signal.sigwait(waited), None, None  # pragma: no cover - macOS


def _forward(signo: int, pid: int, from_kernel: bool | None) -> bool:
    """Whether the command needs ``signo`` from okenv (it has not had it already)."""
    if signo not in _FROM_TERMINAL or from_kernel is False:
        return True
    try:
        shares_group = os.getpgid(pid) == os.getpgrp()
    except OSError:
        return False
    if from_kernel:
        return not shares_group
    return not (shares_group and _in_foreground())


def _in_foreground() -> bool:
    """okenv's process group is its terminal's foreground one."""
    try:
        fd = os.open("/dev/tty", os.O_RDWR | getattr(os, "O_NOCTTY", 0))
    except OSError:
        return False
    try:
        return os.tcgetpgrp(fd) == os.getpgrp()
    except OSError:
        return False
    finally:
        os.close(fd)
