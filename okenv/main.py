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


def dispatch(given: Input) -> int:
    """Run the command whose input ``given`` is (its ``run`` lives beside its input)."""
    run: Callable[[Input], int] = sys.modules[type(given).__module__].run
    return run(given)


def _run(given: Input | None, args: Sequence[str]) -> int:
    if given is None:
        from okenv.cli import parse

        parsed = parse(args)
        if isinstance(parsed, int):  # typer answered itself: --help, --version, a usage error
            return parsed
        given = parsed
    return dispatch(given)


def main(argv: Sequence[str] | None = None) -> NoReturn:
    from okenv.fast import match

    args = list(sys.argv[1:] if argv is None else argv)
    given = match(args)
    code = guarded(lambda: _run(given, args), debug=given is None and "--debug" in args)
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        code = code or 1
    sys.exit(code)
