"""Credentials for a profile: the cache, or a login. Caching is a wrapper around the login
(the aws-vault way), and nothing here imports typer, requests or boto3: a login imports them
when it happens, with the AWS half warming up in a forked worker (:mod:`okenv.worker`).
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress

from okenv.cache import CredentialCache
from okenv.config import Profile
from okenv.credentials import Credentials
from okenv.report import trace


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


def credentials(
    profile: Profile,
    cache: CredentialCache,
    *,
    force: bool = False,
    no_input: bool = False,
) -> tuple[Credentials, bool]:
    """The cache's credentials for ``profile``, or a login (prompts on the terminal)."""

    def fetch() -> Credentials:
        with no_core_dumps():
            return _login(profile, cache, no_input=no_input)

    creds, cached = cached_credentials(profile, cache=cache, fetch=fetch, force=force)
    trace(f"{'cache hit' if cached else 'logged in'}: {creds.role_arn}")
    return creds, cached


@contextmanager
def no_core_dumps() -> Iterator[None]:
    """No core file while the block runs (``RLIMIT_CORE`` soft limit 0): a login holds the
    password, the TOTP seed, Okta's tokens and the new AWS keys, and a crash must not write
    them to disk. The STS worker is forked inside the block and inherits it. The limit comes
    back afterwards, since ``okenv exec``'s command inherits it too."""
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_CORE)
        resource.setrlimit(resource.RLIMIT_CORE, (0, hard))
    except (OSError, ValueError):  # pragma: no cover - a platform without the limit
        yield
        return
    try:
        yield
    finally:
        with suppress(OSError, ValueError):
            resource.setrlimit(resource.RLIMIT_CORE, (soft, hard))


def _login(profile: Profile, cache: CredentialCache, *, no_input: bool) -> Credentials:
    from okenv.partitions import default_region
    from okenv.worker import start_sts_worker

    # Before the Okta imports: both halves warm up at once, and STS's connection is open
    # by the time Okta's assertion arrives.
    # The endpoint region is the profile's, else the aws partition's default (an assertion
    # from another partition then uses a client of its own: correct, one connection later).
    worker = start_sts_worker(profile.region or default_region("aws"), profile.timeout)
    gc.disable()  # no cycle collection while ~150 ms of modules load (a short process)
    try:
        from okenv.login import Secrets, login
        from okenv.memory import AwsMemory
        from okenv.prompt import make_prompter

        return login(
            profile,
            Secrets.from_environment(),
            make_prompter(no_input),
            memory=AwsMemory(cache),
            call=worker.call if worker else None,
        )
    finally:
        gc.enable()
        if worker:
            worker.close()
