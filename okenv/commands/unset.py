"""``okenv unset``: shell code that removes everything okenv sets."""

from __future__ import annotations

import sys
from typing import NamedTuple


class UnsetInput(NamedTuple):
    shell: str | None = None


def run(given: UnsetInput) -> int:
    from okenv.commands.common import shell
    from okenv.env import unset_env
    from okenv.shells import render

    sys.stdout.write(render(shell(given.shell), unset_env()))
    return 0
