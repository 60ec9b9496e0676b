"""What okenv remembers about AWS between logins (not secrets): account aliases, and the
longest session each role accepted. Kept for a week, as one private document in the cache
directory (``aws-memory.json``, in the credential cache's :class:`okenv.store.PrivateStore`);
``okenv logout`` without a profile forgets it too."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from okenv.cache import CredentialCache

__all__ = ["MEMORY_TTL", "AwsMemory"]

MEMORY_TTL = 7 * 24 * 3600  # seconds: aliases and duration limits are re-learned weekly
STATE_NAME = "aws-memory"
VERSION = 1


class AwsMemory:
    def __init__(self, cache: CredentialCache, *, now: Callable[[], float] = time.time) -> None:
        self._files = cache.files
        self._now = now

    def _load(self) -> dict[str, Any]:
        document = self._files.read(STATE_NAME)
        if not isinstance(document, dict) or document.get("version") != VERSION:
            return {"version": VERSION, "accounts": {}, "max_duration": {}}
        for table in ("accounts", "max_duration"):
            if not isinstance(document.get(table), dict):
                document[table] = {}
        return document

    def _fresh(self, entry: Any) -> bool:
        if not isinstance(entry, dict):
            return False
        seen = entry.get("seen")
        if not isinstance(seen, int | float) or isinstance(seen, bool):
            return False
        return 0 <= self._now() - seen < MEMORY_TTL

    def _update(self, table: str, changes: Mapping[str, dict[str, Any]]) -> None:
        with self._files.lock(STATE_NAME):
            document = self._load()
            current: dict[str, Any] = document[table]
            for key in [k for k, v in current.items() if not self._fresh(v)]:
                del current[key]
            current.update(changes)
            self._files.write(STATE_NAME, document)

    # -- account aliases ---------------------------------------------------------------------

    def aliases(self, account_ids: Iterable[str]) -> dict[str, str | None] | None:
        """Alias (or None: no alias) for every account, or None if any is unknown or stale."""
        accounts = self._load()["accounts"]
        found: dict[str, str | None] = {}
        for account_id in account_ids:
            entry = accounts.get(account_id)
            if not self._fresh(entry):
                return None
            alias = entry.get("alias")
            found[account_id] = alias if isinstance(alias, str) and alias else None
        return found

    def remember_aliases(self, aliases: Mapping[str, str | None]) -> None:
        now = int(self._now())
        entries = {account: {"alias": alias, "seen": now} for account, alias in aliases.items()}
        self._update("accounts", entries)

    # -- accepted session durations ----------------------------------------------------------

    def max_duration(self, role_arn: str) -> int | None:
        """The longest session (seconds) ``role_arn`` accepted lately, when it refused longer."""
        entry = self._load()["max_duration"].get(role_arn)
        if not self._fresh(entry):
            return None
        seconds = entry.get("seconds")
        if isinstance(seconds, int) and not isinstance(seconds, bool) and seconds >= 900:
            return seconds
        return None

    def remember_max_duration(self, role_arn: str, seconds: int) -> None:
        self._update("max_duration", {role_arn: {"seconds": seconds, "seen": int(self._now())}})
