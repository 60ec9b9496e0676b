"""The credential cache: one small JSON file per (profile, settings), private to the user.

This module is on the cached fast path (``eval $(okenv prod)`` must be instant), so it uses
the standard library only.

Layout: ``<dir>/<key>.json`` holds ``{"version": 1, "profile": ..., "credentials": ...}``;
``<dir>/<key>.lock`` is the inter-process lock taken while logging in. Where those files
live and how they are kept private (0700 directory, 0600 files, atomic writes, refusing a
directory or file others could touch, warning once and carrying on when the cache cannot
be used) is :class:`okenv.store.PrivateStore`'s business: the cache never makes okenv fail.
"""

from __future__ import annotations

import re
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from okenv.credentials import Credentials
from okenv.digest import sha256_hex
from okenv.store import PrivateStore

MIN_REMAINING = 300  # seconds: cached credentials are reused only while more than 5 minutes remain
VERSION = 1
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
# A pattern, not a compiled one: only ``remove`` (logout) uses it, and ``re`` caches it then.
_KEY_FILE = r"(?P<profile>.*)-(?P<digest>[0-9a-f]{12})"


def _sanitize(profile: str) -> str:
    """A readable, filename-safe rendering of a profile name (not unique by itself)."""
    return _UNSAFE_NAME.sub("_", profile).lstrip(".")[:64] or "_"


def _parse(document: dict[str, Any] | None) -> tuple[str, Credentials] | None:
    if document is None or document.get("version") != VERSION:
        return None
    profile = document.get("profile")
    payload = document.get("credentials")
    if not isinstance(profile, str) or not isinstance(payload, dict):
        return None
    try:
        return profile, Credentials.from_dict(payload)
    except (KeyError, TypeError, ValueError, OverflowError):
        return None


class CredentialCache:
    """Credentials by key, in a :class:`PrivateStore` (``files``, which other documents of
    okenv's cache directory, such as :mod:`okenv.memory`'s, share)."""

    def __init__(self, directory: Path) -> None:
        self.files = PrivateStore(directory)
        self.directory = self.files.directory

    @staticmethod
    def key(profile: str, fingerprint: str | None) -> str:
        """``<sanitized profile>-<12 hex digits>``, unique per (profile, fingerprint of the
        settings that shape its credentials, :meth:`okenv.config.Profile.fingerprint`).

        The digest covers the exact profile name as well, so two profile names that sanitize
        alike (``a/b`` and ``a_b``) still get different files.
        """
        digest = sha256_hex(f"{profile}\0{fingerprint or ''}".encode())[:12]
        return f"{_sanitize(profile)}-{digest}"

    def load(self, key: str, min_remaining: float = MIN_REMAINING) -> Credentials | None:
        """Cached credentials with more than ``min_remaining`` seconds left, else None.

        Never raises for anything found on disk: a missing, corrupt, truncated, foreign or
        about-to-expire entry is a miss, and the next :meth:`store` overwrites it.
        """
        parsed = _parse(self.files.read(key))
        if parsed is None:
            return None
        creds = parsed[1]
        return creds if creds.remaining() > min_remaining else None

    def store(self, key: str, profile: str, creds: Credentials) -> None:
        """Write the entry atomically (0600); on any failure warn once and carry on."""
        document = {"version": VERSION, "profile": profile, "credentials": creds.to_dict()}
        self.files.write(key, document)

    def remove(self, profile: str | None = None) -> int:
        """Forget one profile's entries (every role) or, without a profile, every document
        (and stray temporary files)."""
        removed = 0
        wanted = None if profile is None else _sanitize(profile)
        for path in self.files.files():
            if profile is not None:
                match = re.fullmatch(_KEY_FILE, path.stem)
                if match is None or match["profile"] != wanted:
                    continue
                document = self.files.read_file(path)
                owner = None if document is None else document.get("profile")
                # A readable entry names its profile exactly; an unreadable one under this
                # profile's prefix is garbage either way.
                if isinstance(owner, str) and owner != profile:
                    continue
            removed += self.files.unlink(path)
        if profile is None:
            self.files.sweep_temporaries()
        return removed

    def entries(self) -> list[tuple[str, Credentials]]:
        """(profile, credentials) of every readable entry, expired ones included."""
        if not self.files.is_safe():
            return []
        found = [
            parsed
            for path in self.files.files()
            if (parsed := _parse(self.files.read_file(path))) is not None
        ]
        found.sort(key=lambda item: (item[0], item[1].role_arn))
        return found

    def lock(self, key: str, timeout: float = 120.0) -> AbstractContextManager[None]:
        """The inter-process lock for ``key`` (see :meth:`PrivateStore.lock`)."""
        return self.files.lock(key, timeout)
