"""What the commands that log in share: their options, the profile, the cache, the shell.

Light on purpose (it is on the cached path): a login, a prompt or the account memory is
imported only when a command needs one.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, NamedTuple

from okenv import report
from okenv.cache import CredentialCache
from okenv.config import Profile, parse_duration, resolve_profile
from okenv.credentials import Credentials
from okenv.paths import cache_dir, config_path
from okenv.provider import credentials as provider_credentials

if TYPE_CHECKING:
    from okenv.memory import AwsMemory
    from okenv.prompt import Prompter


class LoginOptions(NamedTuple):
    """The flags that shape a login: ``--role --duration --region --username --factor
    --no-input --debug --open`` (None/False: not given)."""

    role: str | None = None
    duration: str | None = None
    region: str | None = None
    username: str | None = None
    factor: str | None = None
    no_input: bool = False
    debug: bool = False
    open_browser: bool = False

    def overrides(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "duration": parse_duration(self.duration) if self.duration else None,
            "region": self.region,
            "username": self.username,
            "factor": self.factor.lower() if self.factor else None,
            "open_browser": True if self.open_browser else None,
        }


def profile(name: str, options: LoginOptions | None = None) -> Profile:
    """The configured profile ``name`` with the flags' overrides. Each command that logs in
    starts here with its flags, so this is also where their ``--debug`` is switched on."""
    if options is not None:
        report.configure(debug=options.debug)
    overrides = (options or LoginOptions()).overrides()
    return resolve_profile(name, path=config_path(), environ=os.environ, overrides=overrides)


def cache() -> CredentialCache:
    return CredentialCache(cache_dir())


def memory() -> AwsMemory:
    from okenv.memory import AwsMemory

    return AwsMemory(cache())


def prompter(no_input: bool) -> Prompter:
    from okenv.prompt import make_prompter

    return make_prompter(no_input)


def credentials(
    resolved: Profile, options: LoginOptions, *, force: bool, announce: bool = True
) -> tuple[Credentials, bool]:
    """Cached credentials, or a login (imported only then: the hit path stays light). A
    login ends with :func:`summary` on stderr when that is a terminal (a person is
    watching; a script's log stays as it was) unless ``announce`` is False."""
    creds, cached = provider_credentials(resolved, cache(), force=force, no_input=options.no_input)
    if announce and not cached:
        from okenv.prompt import stderr_is_tty

        if stderr_is_tty():
            report.notify(summary(resolved.name, creds))
    return creds, cached


def summary(name: str, creds: Credentials, *, cached: bool = False) -> str:
    """``prod-admin: Admin in prod-main, valid until 14:05 (59m)``: the role's name, its
    account's alias when okenv knows it (else the id), the local expiry time."""
    parts = creds.role_arn.split(":", 5)  # arn:PARTITION:iam::ACCOUNT:role/PATH/NAME
    account = parts[4] if len(parts) == 6 else ""
    role = parts[-1].rsplit("/", 1)[-1]
    known = memory().aliases([account]) if account else None
    where = (known or {}).get(account) or account or "?"
    left = lifetime(creds.remaining())
    return (
        f"{name}: {role} in {where}, valid until {local_time(creds.expiration.timestamp())} "
        f"({left}{'; cached' if cached else ''})"
    )


def local_time(moment: float, now: float | None = None) -> str:
    """``14:05`` today, else ``2026-12-03 14:05`` (local time, ISO order)."""
    import time

    when = time.localtime(moment)
    today = time.localtime(time.time() if now is None else now)
    if when[:3] == today[:3]:
        return time.strftime("%H:%M", when)
    return time.strftime("%Y-%m-%d %H:%M", when)


def shell(name: str | None) -> str:
    """The shell named (``--shell``), else the one okenv runs under."""
    from okenv.shells import detect_shell, normalize_shell

    return normalize_shell(name) if name else detect_shell()


def lifetime(seconds: float) -> str:
    if seconds <= 0:
        return "expired"
    minutes = int(seconds // 60)
    return f"{minutes // 60}h{minutes % 60:02d}m" if minutes >= 60 else f"{minutes}m"
