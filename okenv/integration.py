"""Shell integration: the ``okenv init`` scripts and the shipped completion scripts.

Both are files shipped with okenv (``shell/`` and ``completions/`` in the repository,
``okenv/shell/`` and ``okenv/completions/`` in a wheel); nothing here walks the command
tree. ``tools/completions.py`` writes ``completions/`` from it (``make completions``);
pressing TAB runs no Python except ``okenv __complete-profiles PREFIX`` where a profile
name is wanted.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

from okenv.errors import UsageError
from okenv.shells import SHELLS, quote

PLACEHOLDER = "__OKENV_COMMAND__"
"""Stands in the scripts in ``shell/`` for the quoted words of the command that printed them."""

EXTENSIONS: dict[str, str] = {"bash": "bash", "zsh": "zsh", "fish": "fish", "powershell": "ps1"}
COMPLETION_FILES: dict[str, str] = {
    "bash": "okenv.bash",
    "zsh": "_okenv",
    "fish": "okenv.fish",
    "powershell": "okenv.ps1",
}
"""The committed file in ``completions/`` for each shell."""


def _check_shell(shell: str) -> None:
    if shell not in SHELLS:
        raise UsageError(
            f"no shell integration for {shell!r}",
            hint="okenv init and okenv completions support bash, zsh, fish and powershell; "
            'in a POSIX sh use eval "$(okenv env PROFILE --shell posix)"',
        )


# -- okenv init ----------------------------------------------------------------------------


def own_command(argv0: str | None = None, executable: str | None = None) -> list[str]:
    """The words that run this very okenv: the installed ``okenv`` script by absolute path,
    else ``python -m okenv`` with this interpreter (e.g. under ``python -m okenv``)."""
    arg = sys.argv[0] if argv0 is None else argv0
    python = sys.executable if executable is None else executable
    if arg:
        path = Path(arg)
        name = path.name.lower().removesuffix(".exe")
        if name == "okenv":
            for candidate in (path, path.with_name(path.name + ".exe")):
                if candidate.is_file():
                    return [os.path.abspath(candidate)]
    return [python, "-m", "okenv"]


def _shipped(folder: str, name: str) -> str:
    """``okenv/FOLDER/NAME`` in a wheel (force-included), ``<repo>/FOLDER/NAME`` in a source
    tree."""
    here = Path(__file__).resolve().parent
    for candidate in (here / folder / name, here.parent / folder / name):
        if candidate.is_file():
            return candidate.read_text(encoding="utf-8")
    raise UsageError(f"{folder}/{name} is missing from this installation", hint="reinstall okenv")


def init_script(shell: str, command: Sequence[str]) -> str:
    """The integration script for *shell*, calling *command* (quoted for that shell)."""
    _check_shell(shell)
    template = _shipped("shell", f"okenv.{EXTENSIONS[shell]}")
    words = " ".join(quote(shell, word) for word in command)
    return template.replace(PLACEHOLDER, words)


def completion_script(shell: str) -> str:
    """The completion script for *shell*, as shipped (``make completions`` writes them)."""
    _check_shell(shell)
    return _shipped("completions", COMPLETION_FILES[shell])


# -- profile names -------------------------------------------------------------------------


def profile_candidates(prefix: str = "") -> list[str]:
    """Profile names from the config file that start with *prefix*; [] if it is unreadable."""
    from okenv.config import profile_candidates as candidates
    from okenv.paths import config_path

    return candidates(config_path(), prefix)
