"""``okenv exec PROFILE -- COMMAND…``: become COMMAND with the credentials in its environment."""

from __future__ import annotations

import os
from typing import NamedTuple

from okenv.commands import common
from okenv.commands.common import LoginOptions


class ExecInput(NamedTuple):
    profile: str
    command: tuple[str, ...]
    force: bool = False
    login: LoginOptions = LoginOptions()


def run(given: ExecInput) -> int:
    from okenv import run as runner
    from okenv.env import credentials_env

    # The profile first: a name that is no profile says so, inside a session or not.
    resolved = common.profile(given.profile, given.login)
    runner.check_nesting(os.environ, resolved.name, given.force)
    creds, _ = common.credentials(resolved, given.login, force=given.force)
    environment = runner.build_environment(os.environ, credentials_env(resolved.name, creds))
    runner.exec_command(given.command, environment)
