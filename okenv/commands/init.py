"""``okenv init SHELL``: the shell integration (okenv use/unset, prompt segment) for an rc file.

The script itself is :mod:`okenv.integration`'s; this module only names the shell.
"""

from __future__ import annotations

import sys
from typing import NamedTuple


class InitInput(NamedTuple):
    shell: str


def run(given: InitInput) -> int:
    from okenv.integration import init_script, own_command
    from okenv.shells import normalize_shell

    sys.stdout.write(init_script(normalize_shell(given.shell), own_command()))
    return 0
