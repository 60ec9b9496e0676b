"""``okenv exec PROFILE -- COMMAND…``: become COMMAND with the credentials in its environment.

``--server [--imds]``: run COMMAND as okenv's child with a loopback endpoint that renews
the credentials (:mod:`okenv.supervise`, :mod:`okenv.server`) instead of static variables.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, NamedTuple

from okenv.commands import common
from okenv.commands.common import LoginOptions

if TYPE_CHECKING:
    from okenv.config import Profile
    from okenv.credentials import Credentials


class ExecInput(NamedTuple):
    profile: str
    command: tuple[str, ...]
    force: bool = False
    login: LoginOptions = LoginOptions()
    server: bool = False
    imds: bool = False  # with server: IMDSv2 instead of ECS container credentials


def run(given: ExecInput) -> int:
    from okenv import run as runner
    from okenv.env import credentials_env

    # The profile first: a name that is no profile says so, inside a session or not.
    resolved = common.profile(given.profile, given.login)
    runner.check_nesting(os.environ, resolved.name, given.force)
    creds, _ = common.credentials(resolved, given.login, force=given.force)
    if given.server:
        return _serve(given, resolved, creds)
    environment = runner.build_environment(os.environ, credentials_env(resolved.name, creds))
    runner.exec_command(given.command, environment)


def _serve(given: ExecInput, resolved: Profile, creds: Credentials) -> int:
    from okenv.supervise import run_with_server

    def renew(interactive: bool) -> Credentials:
        """The cache, else a login; one that may prompt only when ``interactive``."""
        quiet = given.login._replace(no_input=given.login.no_input or not interactive)
        return common.credentials(resolved, quiet, force=False)[0]

    return run_with_server(
        given.command, os.environ, creds, renew, profile=resolved.name, imds=given.imds
    )
