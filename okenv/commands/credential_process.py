"""``okenv credential-process PROFILE``: the AWS credential_process JSON (Version 1)."""

from __future__ import annotations

import os
import sys
from typing import NamedTuple

from okenv.commands import common
from okenv.commands.common import LoginOptions
from okenv.errors import UsageError

_GUARD = "OKENV_IN_CREDENTIAL_PROCESS"


class CredentialProcessInput(NamedTuple):
    profile: str
    force: bool = False
    login: LoginOptions = LoginOptions()


def guard_credential_process() -> None:
    """Stop a credential_process loop: okenv started, through an SDK, by okenv itself."""
    if os.environ.get(_GUARD):
        raise UsageError(
            "okenv credential-process was started by okenv credential-process (a loop)",
            hint="an AWS profile okenv's own calls use must not have okenv as credential_process",
        )
    os.environ[_GUARD] = "1"  # inherited by anything this process starts


def run(given: CredentialProcessInput) -> int:
    guard_credential_process()
    resolved = common.profile(given.profile, given.login)
    creds, _ = common.credentials(resolved, given.login, force=given.force)
    sys.stdout.write(creds.process_json() + "\n")
    return 0
