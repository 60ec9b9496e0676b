"""``okenv status [PROFILE]``: remaining lifetime of active or cached credentials."""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any, NamedTuple

from okenv.commands import common


class StatusInput(NamedTuple):
    profile: str | None = None
    as_json: bool = False


def run(given: StatusInput) -> int:
    """Exit 0 when some credentials are valid, else 1."""
    if given.profile is not None:
        _check_profile(given.profile)
    now = time.time()
    rows: list[dict[str, Any]] = []
    active = os.environ.get("OKENV_PROFILE")
    expires = os.environ.get("OKENV_EXPIRES_AT", "")
    if active and expires.isdigit() and given.profile in (None, active):
        rows.append({"profile": active, "source": "environment", "expires_at": int(expires)})
    if not rows:
        for name, creds in common.cache().entries():
            if given.profile in (None, name):
                rows.append({"profile": name, "source": "cache", "expires_at": creds.expires_at})
    for row in rows:
        row["remaining"] = max(0, int(row["expires_at"] - now))
        row["valid"] = row["remaining"] > 0
    if given.as_json:
        sys.stdout.write(json.dumps(rows) + "\n")
    elif not rows:
        sys.stdout.write(f"{given.profile or 'okenv'}: no credentials\n")
    for row in [] if given.as_json else rows:
        left = common.lifetime(row["remaining"])
        sys.stdout.write(f"{row['profile']}: {left} ({row['source']})\n")
    return 0 if any(row["valid"] for row in rows) else 1


def _check_profile(name: str) -> None:
    """A name that is neither configured nor cached is a typo: say so (exit 2)."""
    from okenv.config import profile_names, read_config, unknown_profile
    from okenv.paths import config_path

    path = config_path()
    data = read_config(path)
    if name in profile_names(data) or name == os.environ.get("OKENV_PROFILE"):
        return
    if any(cached == name for cached, _ in common.cache().entries()):
        return
    raise unknown_profile(name, data, path)
