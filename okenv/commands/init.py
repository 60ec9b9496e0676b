"""``okenv init SHELL``: the shell integration (okenv use/unset, prompt segment) for an rc file.

Without a shell named, the one okenv runs under (``$(okenv init)`` in an rc file).

The script itself is :mod:`okenv.integration`'s; this module only names the shell.
"""

from __future__ import annotations

import sys
from typing import NamedTuple


class InitInput(NamedTuple):
    shell: str | None = None


def run(given: InitInput) -> int:
    from okenv.commands.common import shell
    from okenv.integration import init_script, own_command

    sys.stdout.write(init_script(shell(given.shell), own_command()))
    return 0
