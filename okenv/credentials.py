"""The credentials okenv hands out: a plain dataclass with a JSON form for the cache."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


def rfc3339(moment: datetime) -> str:
    """``2026-11-25T13:41:23Z``: UTC, second precision, as botocore and starship read it."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_rfc3339(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


@dataclass(frozen=True)
class Credentials:
    access_key_id: str
    secret_access_key: str
    session_token: str
    expiration: datetime  # timezone-aware, UTC
    role_arn: str
    region: str | None = None

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
        return cls(expiration=parse_rfc3339(str(data["expiration"])), region=region, **values)
