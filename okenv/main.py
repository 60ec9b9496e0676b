"""The entry point (``okenv``, ``python -m okenv``) and the one error funnel.

argv becomes a command's input — through :mod:`okenv.fast` for the everyday forms, else
through :mod:`okenv.cli` (typer) — and the command's ``run`` turns it into an exit code.
:func:`guarded` turns every exception into one message on stderr and the exit code of SPEC.md.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:
    from okenv.commands import Input
    from okenv.errors import OkenvError


def report(exc: OkenvError) -> None:
    from okenv.report import notify

    notify(exc.message)
    if exc.hint:
        notify(exc.hint)


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
        from okenv.report import notify

        notify(f"internal error ({type(exc).__name__})")
        notify("run again with --debug and report it")
        return 1


def dispatch(given: Input) -> int:
    """Run the command whose input ``given`` is (its ``run`` lives beside its input).

    The modules imported so far live as long as the process: they are frozen out of the
    cycle collector (:func:`main` kept it off while they loaded, where a full collection
    cost a cached call ~2 ms), and it is on again for the command itself."""
    import gc

    gc.freeze()
    gc.enable()
    run: Callable[[Input], int] = sys.modules[type(given).__module__].run
    return run(given)


def _fast(args: Sequence[str]) -> int | None:
    """Run an everyday form (okenv.fast), or None when typer must read ``args``."""
    from okenv.fast import match

    given = match(args)
    return None if given is None else dispatch(given)


def _typer(args: Sequence[str]) -> int:
    from okenv.cli import parse

    given = parse(args)
    if isinstance(given, int):  # typer answered itself: --help, --version, a usage error
        return given
    return dispatch(given)


def main(argv: Sequence[str] | None = None) -> NoReturn:
    import gc

    gc.disable()  # until dispatch: no cycle collection while the modules load
    try:
        args = list(sys.argv[1:] if argv is None else argv)
        code = guarded(lambda: _fast(args))
        if code is None:
            code = guarded(lambda: _typer(args), debug="--debug" in args)
    finally:
        gc.enable()  # whatever happened (main may run inside another program: a test)
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        code = code or 1
    sys.exit(code)
