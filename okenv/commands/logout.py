"""``okenv logout [PROFILE]``: forget cached credentials and end Okta sessions."""

from __future__ import annotations

from typing import NamedTuple

from okenv import report
from okenv.commands import common
from okenv.errors import OkenvError
from okenv.report import notify


class LogoutInput(NamedTuple):
    profile: str | None = None
    debug: bool = False
    forget_password: bool = False


def run(given: LogoutInput) -> int:
    """At Okta first, then here; a name that is no profile only has cached credentials."""
    from okenv.okta import device
    from okenv.okta.session import default_store, logout

    report.configure(debug=given.debug)
    count = common.cache().remove(given.profile)
    org = username = None
    if given.profile is not None:
        try:
            resolved = common.profile(given.profile)
        except OkenvError:
            resolved = None  # not a configured profile: no Okta session of its own
        if resolved is not None:
            org, username = resolved.org_url, resolved.username
    ended = revoked = 0
    if given.profile is None or org is not None:
        ended = logout(default_store(), org=org, username=username)
        revoked = device.logout(device.default_store(), org=org)
    approvals = f" and {revoked} browser approval(s)" if revoked else ""
    forgotten = _forget_passwords(given.profile) if given.forget_password else None
    keyring = "" if forgotten is None else f" and {forgotten} keyring entry(ies)"
    notify(
        f"forgot {count} cached credential set(s) and {ended} Okta session(s){approvals}{keyring}"
    )
    return 0


def _forget_passwords(name: str | None) -> int:
    """Remove the keyring entries (password, TOTP seed) of the profile, or of every profile."""
    from okenv.config import profile_names, read_config
    from okenv.paths import config_path
    from okenv.secretstore import forget

    names = [name] if name is not None else profile_names(read_config(config_path()))
    accounts: set[tuple[str, str]] = set()
    for each in names:
        try:
            resolved = common.profile(each)
        except OkenvError:
            continue
        if resolved.username:
            accounts.add((resolved.org_url, resolved.username))
    return sum(forget(org, username) for org, username in sorted(accounts))
