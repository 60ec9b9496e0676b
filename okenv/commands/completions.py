"""``okenv completions SHELL`` (hidden): print the shipped completion script for SHELL.

The scripts are :mod:`okenv.integration`'s package data (``make completions`` writes them
from the typer declarations, with tools/completions.py); this module only names the shell.
"""

from __future__ import annotations

import sys
from typing import NamedTuple


class CompletionsInput(NamedTuple):
    shell: str


def run(given: CompletionsInput) -> int:
    from okenv.integration import completion_script
    from okenv.shells import normalize_shell

    sys.stdout.write(completion_script(normalize_shell(given.shell)))
    return 0
