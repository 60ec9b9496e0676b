"""Caching as a wrapper around a credential source (the aws-vault way).

The cache hit path imports nothing heavy: a login is a callable handed in by the caller.
"""

from __future__ import annotations

from collections.abc import Callable

from okenv.cache import CredentialCache
from okenv.config import Profile
from okenv.credentials import Credentials


def cache_key(profile: Profile) -> str:
    return CredentialCache.key(profile.name, profile.fingerprint())


def cached_credentials(
    profile: Profile,
    *,
    cache: CredentialCache,
    fetch: Callable[[], Credentials],
    force: bool = False,
) -> tuple[Credentials, bool]:
    """Credentials for ``profile`` and whether they came from the cache.

    Concurrent callers for the same profile serialise on a file lock, and whoever waited
    finds the winner's credentials in the cache instead of logging in again.
    """
    key = cache_key(profile)
    if not force:
        hit = cache.load(key)
        if hit is not None:
            return hit, True
    with cache.lock(key):
        if not force:
            hit = cache.load(key)
            if hit is not None:
                return hit, True
        creds = fetch()
        cache.store(key, profile.name, creds)
        return creds, False
