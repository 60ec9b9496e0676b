"""The Okta password (and a TOTP seed) in the OS keyring, for profiles with ``keyring = true``.

Through the ``keyring`` library (macOS Keychain, Windows Credential Locker, Secret Service
on Linux), imported only here and only on the login, configure and logout paths — never on
the cached path. One entry per org and user and kind: service ``okenv:password:<org>`` or
``okenv:totp:<org>``, the Okta username as the account. A keyring that cannot be used is a
warning, never a failed login: the password is asked for instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

PASSWORD = "password"  # noqa: S105 (the kind of entry)
TOTP = "totp"
MAX_SECRET = 1024  # characters: a password or seed longer than this is not one


def _service(org: str, kind: str) -> str:
    return f"okenv:{kind}:{org.rstrip('/').lower()}"


def _keyring() -> Any:
    import keyring

    return keyring


def get(org: str, username: str, kind: str, warn: Callable[[str], None]) -> str | None:
    """The stored secret, or None (none stored, or no usable keyring: warned)."""
    try:
        from keyring.errors import KeyringError

        value = _keyring().get_password(_service(org, kind), username)
    except KeyringError as exc:
        warn(f"the OS keyring cannot be read ({type(exc).__name__}); asking instead")
        return None
    if not isinstance(value, str) or not value or len(value) > MAX_SECRET:
        return None
    return value


def put(org: str, username: str, kind: str, secret: str, warn: Callable[[str], None]) -> bool:
    """Store ``secret``; False (warned) when the keyring refuses."""
    from keyring.errors import KeyringError

    try:
        _keyring().set_password(_service(org, kind), username, secret)
    except KeyringError as exc:
        warn(f"the OS keyring did not store the {kind} ({type(exc).__name__})")
        return False
    return True


def forget(org: str, username: str, kinds: tuple[str, ...] = (PASSWORD, TOTP)) -> int:
    """Remove the entries of ``kinds``; how many there were."""
    from keyring.errors import KeyringError, PasswordDeleteError

    removed = 0
    for kind in kinds:
        try:
            _keyring().delete_password(_service(org, kind), username)
        except PasswordDeleteError:
            continue  # none stored
        except KeyringError:
            continue
        removed += 1
    return removed
