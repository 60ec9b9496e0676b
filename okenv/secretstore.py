"""The Okta password (and a TOTP seed) in the OS keyring, for profiles with ``keyring = true``.

Through the ``keyring`` library (macOS Keychain, Windows Credential Locker, Secret Service
on Linux), imported only here and only on the login, configure and logout paths — never on
the cached path. One entry per org and user and kind: service ``okenv:password:<org>`` or
``okenv:totp:<org>``, the Okta username as the account. A keyring that cannot be used is a
warning, never a failed login: the password is asked for instead; so is one that does not
answer within :data:`DEADLINE`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from okenv import report

PASSWORD = "password"  # noqa: S105 (the kind of entry)
TOTP = "totp"
MAX_SECRET = 1024  # characters: a password or seed longer than this is not one
DEADLINE = 60.0  # seconds for one keyring call (an unlock dialog may be waiting for a person)

T = TypeVar("T")


class KeyringTimeout(Exception):
    """The keyring did not answer within :data:`DEADLINE`."""


def bounded(call: Callable[[], T], deadline: float = DEADLINE) -> T:
    """``call()`` with a deadline: it runs in a daemon thread, left behind if it hangs (a
    D-Bus service that never answers), so okenv goes on without the keyring."""
    outcome: list[tuple[bool, Any]] = []

    def run() -> None:
        try:
            outcome.append((True, call()))
        except BaseException as exc:  # handed to the caller's thread
            outcome.append((False, exc))

    worker = threading.Thread(target=run, name="okenv-keyring", daemon=True)
    worker.start()
    worker.join(deadline)
    if not outcome:
        raise KeyringTimeout
    ok, value = outcome[0]
    if not ok:
        raise value
    result: T = value
    return result


def _service(org: str, kind: str) -> str:
    return f"okenv:{kind}:{org.rstrip('/').lower()}"


def _keyring() -> Any:
    import keyring

    return keyring


def get(org: str, username: str, kind: str) -> str | None:
    """The stored secret, or None (none stored, or no usable keyring: warned)."""
    try:
        from keyring.errors import KeyringError

        value = bounded(lambda: _keyring().get_password(_service(org, kind), username))
    except (KeyringError, KeyringTimeout) as exc:
        report.warn(f"the OS keyring cannot be read ({type(exc).__name__}); asking instead")
        return None
    if not isinstance(value, str) or not value or len(value) > MAX_SECRET:
        return None
    return value


def put(org: str, username: str, kind: str, secret: str) -> bool:
    """Store ``secret``; False (warned) when the keyring refuses."""
    from keyring.errors import KeyringError

    try:
        bounded(lambda: _keyring().set_password(_service(org, kind), username, secret))
    except (KeyringError, KeyringTimeout) as exc:
        report.warn(f"the OS keyring did not store the {kind} ({type(exc).__name__})")
        return False
    return True


def forget(org: str, username: str, kinds: tuple[str, ...] = (PASSWORD, TOTP)) -> int:
    """Remove the entries of ``kinds``; how many there were."""
    from keyring.errors import KeyringError, PasswordDeleteError

    removed = 0
    for kind in kinds:
        try:
            service = _service(org, kind)
            bounded(lambda: _keyring().delete_password(service, username))  # noqa: B023
        except PasswordDeleteError:
            continue  # none stored
        except (KeyringError, KeyringTimeout):
            continue
        removed += 1
    return removed
