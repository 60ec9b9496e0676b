"""``okenv console PROFILE``: open (or print) an AWS console sign-in URL."""

from __future__ import annotations

import os
import sys
from typing import NamedTuple

from okenv.commands import common
from okenv.commands.common import LoginOptions
from okenv.report import notify, warn


class ConsoleInput(NamedTuple):
    profile: str
    print_url: bool = False
    force: bool = False
    login: LoginOptions = LoginOptions()


def run(given: ConsoleInput) -> int:
    from okenv.console import login_url, signin_token

    resolved = common.profile(given.profile, given.login)
    creds, _ = common.credentials(resolved, given.login, force=given.force)
    token = signin_token(creds, os.environ, timeout=resolved.timeout)
    url = login_url(creds, token, os.environ, creds.region or resolved.region)
    if given.print_url:
        sys.stdout.write(url + "\n")
        return 0
    from okenv.browser import open_url

    if not open_url(url):
        warn("no browser could be opened; use `okenv console --print` and open the URL")
        return 1
    notify(f"opened the AWS console for {creds.role_arn}")
    return 0
