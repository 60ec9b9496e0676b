"""The fake STS with a test knob: every credential it issues lives ``lifetime`` seconds.

Real STS sessions last 15 minutes at least; a test of renewal cannot wait that long. This
subclass of :class:`tests.fakes.sts.FakeSts` keeps every check of the parent (the issued keys
are still refused once expired: ``ExpiredToken``) and only shortens what it hands out:

    with ShortLivedSts(lifetime=6) as sts:
        ...
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tests.fakes.sts import FakeSts, IssuedCredentials

__all__ = ["ShortLivedSts"]


class ShortLivedSts(FakeSts):
    def __init__(self, *, lifetime: int, **options: Any) -> None:
        super().__init__(**options)
        self.lifetime = lifetime
        self._marker: tuple[int, Path] | None = None

    def mark_when_seen(self, keys: int, path: Path) -> None:
        """Create ``path`` once GetCallerIdentity has been signed with ``keys`` distinct keys:
        a child that cannot see which key signed its call waits for this file instead."""
        self._marker = (keys, path)

    def _issue(self, role_arn: str, session_name: str, seconds: int) -> IssuedCredentials:
        return super()._issue(role_arn, session_name, min(seconds, self.lifetime))

    def _get_caller_identity(self, params: Mapping[str, str], headers: Mapping[str, str]) -> str:
        answer = super()._get_caller_identity(params, headers)
        if self._marker is not None and len(set(self.caller_keys())) >= self._marker[0]:
            self._marker[1].touch()
        return answer

    def caller_keys(self) -> list[str]:
        """The access key id of every GetCallerIdentity call, in order."""
        with self._lock:
            pairs = list(zip(self.calls, self.headers, strict=True))
        keys = []
        for (action, _), headers in pairs:
            if action == "GetCallerIdentity":
                keys.append(headers.get("authorization", "").split("Credential=")[-1][:20])
        return keys
