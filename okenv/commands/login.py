"""``okenv login PROFILE``: fill the cache; optionally write AWS credentials-file profiles."""

from __future__ import annotations

import os
from typing import NamedTuple

from okenv.commands import common
from okenv.commands.common import LoginOptions
from okenv.config import Profile
from okenv.report import notify, warn


class LoginInput(NamedTuple):
    profile: str
    force: bool = False
    aws_profile: str | None = None
    all_roles: bool = False
    login: LoginOptions = LoginOptions()


def run(given: LoginInput) -> int:
    """Log in and say on stderr until when the credentials are valid."""
    resolved = common.profile(given.profile, given.login)
    if given.all_roles or given.aws_profile or resolved.aws_profile:
        from okenv.awsfiles import check_credentials_file, credentials_file_path

        check_credentials_file(credentials_file_path(os.environ))  # before any sign-in
    if given.all_roles:
        _login_all(resolved, given.login)
        return 0
    creds, cached = common.credentials(resolved, given.login, force=given.force, announce=False)
    notify(common.summary(resolved.name, creds, cached=cached))
    section = given.aws_profile or resolved.aws_profile
    if section:
        from okenv.awsfiles import credentials_section

        _write_aws_profiles({section: credentials_section(creds)})
    return 0


def _write_aws_profiles(sections: dict[str, dict[str, str]]) -> None:
    """Write sections into the AWS credentials file under okenv's lock; report on stderr."""
    from okenv.awsfiles import credentials_file_path, profile_name, write_credentials_file

    for name in sections:
        profile_name(name)
    with common.cache().lock("aws-credentials-file"):
        path = write_credentials_file(credentials_file_path(os.environ), sections)
    names = ", ".join(sections)
    notify(f"wrote AWS profile(s) {names} to {path}")


def _login_all(profile: Profile, options: LoginOptions) -> None:
    """``okenv login PROFILE --all``: one AWS profile per granted role (alias-RoleName)."""
    from okenv.awsfiles import credentials_section
    from okenv.login import Secrets, login_all

    if profile.assume_role:
        warn("--all writes the roles the login grants; assume_role is not applied")
    from okenv.provider import no_core_dumps

    with no_core_dumps():  # secrets in memory: no core file may hold them
        granted = login_all(
            profile,
            Secrets.from_environment(),
            common.prompter(options.no_input),
            memory=common.memory(),
        )
    sections: dict[str, dict[str, str]] = {}
    for item in granted:
        base = f"{item.alias or item.role.account_id}-{item.role.name}"
        name = base if base not in sections else f"{item.role.account_id}-{item.role.name}"
        sections[name] = credentials_section(item.credentials)
    _write_aws_profiles(sections)
