"""``okenv logout [PROFILE]``: forget cached credentials and end Okta sessions."""

from __future__ import annotations

from typing import NamedTuple

from okenv.commands import common
from okenv.errors import OkenvError
from okenv.report import notify, trace, warn


class LogoutInput(NamedTuple):
    profile: str | None = None
    debug: bool = False


def run(given: LogoutInput) -> int:
    """At Okta first, then here; a name that is no profile only has cached credentials."""
    from okenv.okta import device
    from okenv.okta.session import default_store, logout

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
        ended = logout(
            default_store(warn=warn),
            org=org,
            username=username,
            warn=warn,
            trace=trace if given.debug else None,
        )
        revoked = device.logout(
            device.default_store(warn=warn),
            org=org,
            warn=warn,
            trace=trace if given.debug else None,
        )
    approvals = f" and {revoked} browser approval(s)" if revoked else ""
    notify(f"forgot {count} cached credential set(s) and {ended} Okta session(s){approvals}")
    return 0
