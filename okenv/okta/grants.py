"""Device approvals kept between runs: the actor token (device secret) and ID token.

One private document per org, client id and user in okenv's store (``<cache dir>/okta``,
beside the Okta sessions: 0600 files in a 0700 directory, written atomically), so other
AWS apps of the org are exchanged without a second approval while it lasts.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Protocol

from okenv.digest import sha256_hex
from okenv.okta.device_forms import ACCESS_TOKEN_TYPE, DEVICE_SECRET_TYPE, KeptGrant
from okenv.store import PrivateStore


class GrantStore(Protocol):
    """Where approvals are kept between runs (private: they are bearer secrets)."""

    def load(self, org: str, client_id: str, username: str | None) -> KeptGrant | None:
        """The usable grant of ``username`` (None: of whoever approved last) or None."""

    def save(self, grant: KeptGrant) -> None: ...

    def forget(self, grant: KeptGrant) -> bool: ...

    def grants(self) -> list[KeptGrant]:
        """Every readable kept grant, expired ones included."""

    def lock(self, org: str, client_id: str) -> AbstractContextManager[None]:
        """Held while an approval is asked for and kept (one per org and client at a time)."""


GRANT_PREFIX = "device-"
GRANT_VERSION = 1


class FileGrantStore:
    """:class:`GrantStore` on okenv's private store (0600 documents in a 0700 directory,
    written atomically), one document per org, client id and user."""

    def __init__(self, files: PrivateStore | Path) -> None:
        self._files = files if isinstance(files, PrivateStore) else PrivateStore(files)

    @staticmethod
    def _prefix(org: str, client_id: str) -> str:
        return GRANT_PREFIX + sha256_hex(f"{org.rstrip('/').lower()}\0{client_id}".encode())[:12]

    def _key(self, org: str, client_id: str, username: str) -> str:
        user = sha256_hex(username.lower().encode())[:12]
        return f"{self._prefix(org, client_id)}-{user}"

    def load(
        self, org: str, client_id: str, username: str | None, now: float | None = None
    ) -> KeptGrant | None:
        moment = time.time() if now is None else now
        if username is not None:
            keys = [self._key(org, client_id, username)]
        else:
            keys = self._files.names(self._prefix(org, client_id))
        found = [g for g in (self._read(k) for k in keys) if g is not None]
        found = [
            g
            for g in found
            if g.org.rstrip("/").lower() == org.rstrip("/").lower()
            and g.client_id == client_id
            and (username is None or g.username.lower() == username.lower())
        ]
        for grant in found:
            if not grant.usable(moment):
                self.forget(grant)
        usable = [g for g in found if g.usable(moment)]
        return max(usable, key=lambda g: g.expires_at) if usable else None

    def save(self, grant: KeptGrant) -> None:
        self._files.write(
            self._key(grant.org, grant.client_id, grant.username),
            {
                "version": GRANT_VERSION,
                "org": grant.org,
                "client_id": grant.client_id,
                "username": grant.username,
                "actor_token": grant.actor_token,
                "actor_token_type": grant.actor_token_type,
                "id_token": grant.id_token,
                "expires_at": grant.expires_at,
            },
        )

    def forget(self, grant: KeptGrant) -> bool:
        return self._files.remove(self._key(grant.org, grant.client_id, grant.username))

    def grants(self) -> list[KeptGrant]:
        return [
            g for g in (self._read(k) for k in self._files.names(GRANT_PREFIX)) if g is not None
        ]

    @contextmanager
    def lock(self, org: str, client_id: str, timeout: float = 900.0) -> Iterator[None]:
        """One approval per org and client at a time: a second okenv waits for the first
        one's approval and then exchanges it instead of asking again."""
        with self._files.lock(self._prefix(org, client_id), timeout=timeout):
            yield

    def _read(self, key: str) -> KeptGrant | None:
        document = self._files.read(key)
        if document is None or document.get("version") != GRANT_VERSION:
            return None
        try:
            grant = KeptGrant(
                org=str(document["org"]),
                client_id=str(document["client_id"]),
                username=str(document["username"]),
                actor_token=str(document["actor_token"]),
                id_token=str(document["id_token"]),
                expires_at=float(document["expires_at"]),
                actor_token_type=str(document["actor_token_type"]),
            )
        except (KeyError, TypeError, ValueError):
            return None
        usable = grant.actor_token_type in (DEVICE_SECRET_TYPE, ACCESS_TOKEN_TYPE)
        return grant if usable and grant.actor_token and grant.id_token else None


def default_store(environ: Mapping[str, str] | None = None) -> FileGrantStore:
    """The store in okenv's cache dir (``<cache dir>/okta``, beside the Okta sessions)."""
    from okenv.paths import cache_dir

    root = cache_dir(environ)
    return FileGrantStore(PrivateStore(root / "okta", inside=root))
