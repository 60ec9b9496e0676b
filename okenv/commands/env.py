"""``okenv env PROFILE`` (and ``okenv PROFILE``): shell code that sets the credentials."""

from __future__ import annotations

import sys
from typing import NamedTuple

from okenv.commands import common
from okenv.commands.common import LoginOptions


class EnvInput(NamedTuple):
    profile: str
    shell: str | None = None
    force: bool = False
    login: LoginOptions = LoginOptions()


def run(given: EnvInput) -> int:
    from okenv.env import credentials_env
    from okenv.shells import render

    resolved = common.profile(given.profile, given.login)
    shell = common.shell(given.shell)
    creds, _ = common.credentials(resolved, given.login, force=given.force)
    sys.stdout.write(render(shell, credentials_env(resolved.name, creds)))
    return 0
