"""``okenv __complete-profiles [PREFIX]`` (hidden): profile names for the shell completions."""

from __future__ import annotations

import sys
from typing import NamedTuple


class CompleteProfilesInput(NamedTuple):
    prefix: str = ""


def run(given: CompleteProfilesInput) -> int:
    from okenv.config import profile_candidates
    from okenv.paths import config_path

    names = profile_candidates(config_path(), given.prefix)
    sys.stdout.write("".join(name + "\n" for name in names))
    return 0
