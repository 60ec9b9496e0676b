"""The credentials okenv hands out: an immutable record with a JSON form for the cache.

A ``NamedTuple`` rather than a dataclass: this module is on the cached path, where
``dataclasses`` would pull in ``inspect`` (and ``ast``, ``dis``, ``tokenize``) for nothing;
``typing`` is imported there anyway (by ``tomllib``).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any, NamedTuple


def rfc3339(moment: datetime) -> str:
    """``2026-11-25T13:41:23Z``: UTC, second precision, as botocore and starship read it."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_rfc3339(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


class Credentials(NamedTuple):
    access_key_id: str
    secret_access_key: str
    session_token: str
    expiration: datetime  # timezone-aware, UTC
    role_arn: str
    region: str | None = None

    def __repr__(self) -> str:
        # Never show the secret or the session token (tracebacks, --debug, logs).
        return (
            f"Credentials(access_key_id={self.access_key_id!r}, "
            f"expiration={rfc3339(self.expiration)!r}, role_arn={self.role_arn!r}, "
            f"region={self.region!r})"
        )

    @property
    def expires_at(self) -> int:
        """Expiry as Unix epoch seconds."""
        return int(self.expiration.timestamp())

    def remaining(self, now: float | None = None) -> float:
        """Seconds of validity left (negative once expired)."""
        return self.expiration.timestamp() - (time.time() if now is None else now)

    def process_json(self) -> str:
        """The AWS ``credential_process`` document (Version 1)."""
        import json

        return json.dumps(
            {
                "Version": 1,
                "AccessKeyId": self.access_key_id,
                "SecretAccessKey": self.secret_access_key,
                "SessionToken": self.session_token,
                "Expiration": rfc3339(self.expiration),
            }
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "access_key_id": self.access_key_id,
            "secret_access_key": self.secret_access_key,
            "session_token": self.session_token,
            "expiration": rfc3339(self.expiration),
            "role_arn": self.role_arn,
            "region": self.region,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Credentials:
        """Inverse of :meth:`to_dict`; raises ``KeyError``/``TypeError``/``ValueError`` on junk."""
        fields = ("access_key_id", "secret_access_key", "session_token", "role_arn")
        values = {name: data[name] for name in fields}
        if not all(isinstance(v, str) and v for v in values.values()):
            raise ValueError("credential fields must be non-empty strings")
        region = data.get("region")
        if region is not None and not isinstance(region, str):
            raise TypeError("region must be a string")
        return cls(
            access_key_id=values["access_key_id"],
            secret_access_key=values["secret_access_key"],
            session_token=values["session_token"],
            expiration=parse_rfc3339(str(data["expiration"])),
            role_arn=values["role_arn"],
            region=region,
        )
