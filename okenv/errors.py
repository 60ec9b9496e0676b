"""One exception tree for everything okenv reports to a user.

    OkenvError                      (exit 1)
    ├── UsageError                  (exit 2)  bad flag, unknown profile
    │   └── ConfigError             (exit 2)  bad TOML, missing key, bad value
    ├── AuthenticationError         (exit 3)  password, MFA, lockout, no terminal to ask on
    │   ├── NoInputError            (exit 3)  a prompt was needed under --no-input / no tty
    │   ├── BrowserRequired         (exit 3)  a step only a browser can answer (FastPass…)
    │   └── SecurityKeyError        (exit 3)  no key, key not registered, PIN blocked, no touch
    ├── AuthorizationError          (exit 4)  role not granted, STS AccessDenied
    │   └── RoleNotFoundError       (exit 4)
    ├── ServiceError                (exit 5)  Okta or AWS failed or answered the unexpected
    │   ├── OktaError               (exit 5)
    │   ├── SamlError               (exit 5)
    │   ├── StsError                (exit 5)
    │   │   └── DurationTooLongError (exit 5)  DurationSeconds over the role's MaxSessionDuration
    │   └── NetworkError            (exit 5)  refused, timeout, TLS, DNS
    ├── CommandNotExecutableError   (exit 126) `okenv exec` found the command but cannot run it
    ├── CommandNotFoundError        (exit 127) `okenv exec` could not find the command
    └── Interrupted                 (exit 130) Ctrl-C

Each error carries a one-line ``message`` (what happened) and an optional ``hint`` (what to
do about it). Only the error funnel in :mod:`okenv.main` turns them into stderr lines
(through :mod:`okenv.report`) and exit codes. Both are
passed through :func:`okenv.text.printable` here, once: a message may quote Okta or AWS,
and no caller can forget to strip a control character from it.
"""

from __future__ import annotations

from okenv.text import printable


class OkenvError(Exception):
    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        message = printable(message)
        super().__init__(message)
        self.message = message
        self.hint = None if hint is None else printable(hint)

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[type[OkenvError], tuple[str, str | None]]:
        # Pickle with the hint (okenv.worker sends errors from its child process).
        return (type(self), (self.message, self.hint))


class UsageError(OkenvError):
    exit_code = 2


class ConfigError(UsageError):
    pass


class AuthenticationError(OkenvError):
    exit_code = 3


class NoInputError(AuthenticationError):
    pass


class BrowserRequired(AuthenticationError):
    """The org asks for a sign-in step only a browser can answer (FastPass, a factor okenv
    cannot use): with an ``oidc_client_id``, ``engine = "auto"`` goes on with the device flow."""


class SecurityKeyError(AuthenticationError):
    """No security key could answer; another enrolled factor may be picked instead."""


class AuthorizationError(OkenvError):
    exit_code = 4


class RoleNotFoundError(AuthorizationError):
    pass


class ServiceError(OkenvError):
    exit_code = 5


class OktaError(ServiceError):
    pass


class SamlError(ServiceError):
    pass


class StsError(ServiceError):
    pass


class DurationTooLongError(StsError):
    """STS refused the requested DurationSeconds: it exceeds the role's MaxSessionDuration."""


class NetworkError(ServiceError):
    pass


class CommandNotExecutableError(OkenvError):
    exit_code = 126


class CommandNotFoundError(OkenvError):
    exit_code = 127


class Interrupted(OkenvError):
    exit_code = 130
