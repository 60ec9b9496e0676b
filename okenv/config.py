"""The config file (TOML), the ``OKENV_*`` environment and flags → one frozen :class:`Profile`.

Precedence: flags > environment > ``[profiles.NAME]`` > ``[defaults]`` > built-in defaults.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from okenv.digest import sha256_hex
from okenv.errors import ConfigError, UsageError
from okenv.urls import check_url, redact_userinfo

FACTORS = ("auto", "totp", "push", "sms", "call", "email", "hardware", "question", "webauthn")
FACTOR_ALIASES = {"security-key": "webauthn"}
ENGINES = ("auto", "classic", "idx", "device")
# Patterns, not compiled ones: the cached path rarely needs them (``re`` caches them on use).
OKTA_ID = r"0oa[0-9A-Za-z]{17}"  # an Okta app or OIDC client id
MIN_DURATION = 900
MAX_DURATION = 43200
CHAINED_MAX = 3600  # AWS: a role assumed by role chaining lasts at most 1 hour
DEFAULT_DURATION = 3600
MAX_CONFIG_SIZE = 1024 * 1024  # bytes: a config is a few KiB

# key → expected TOML type(s); anything else in a profile draws a warning, not a failure.
KNOWN_KEYS: dict[str, tuple[type, ...]] = {
    "app_url": (str,),
    "username": (str,),
    "factor": (str,),
    "duration": (str, int),
    "region": (str,),
    "role": (str,),
    "assume_role": (str,),
    "assume_role_session_name": (str,),
    "external_id": (str,),
    "aws_profile": (str,),
    "engine": (str,),
    "timeout": (int, float),
    "okta_keep_signed_in": (bool,),
    "oidc_client_id": (str,),
    "open_browser": (bool,),
    "keyring": (bool,),
}

_DURATION = r"(?:(?P<h>\d+)h)?(?:(?P<m>\d+)m)?(?:(?P<s>\d+)s)?"


class Profile(NamedTuple):
    """One profile, resolved. A NamedTuple, not a dataclass: ``dataclasses`` imports
    ``inspect`` (~5 ms), a quarter of a cached call; ``typing`` comes with tomllib anyway."""

    name: str
    app_url: str
    username: str | None = None
    factor: str = "auto"
    duration: int = DEFAULT_DURATION
    region: str | None = None
    role: str | None = None
    assume_role: str | None = None
    assume_role_session_name: str | None = None
    external_id: str | None = None
    aws_profile: str | None = None  # section of the AWS credentials file `okenv login` fills
    engine: str = "auto"
    timeout: float = 20.0  # seconds for each network step
    okta_keep_signed_in: bool | None = None  # IDX keep-me-signed-in; None = Okta's default
    oidc_client_id: str | None = None  # the OIDC app for engine = "device" (and auto's fallback)
    open_browser: bool = False  # device sign-in: open the approval URL here (--open)
    keyring: bool = False  # the password (and a TOTP seed) from the OS keyring

    @property
    def org_url(self) -> str:
        """The Okta org: scheme and host (and port) of ``app_url``."""
        parts = urlsplit(self.app_url)
        return f"{parts.scheme}://{parts.netloc}"

    def fingerprint(self) -> str:
        """Changes whenever a setting that shapes the credentials changes (cache key part)."""
        material = "\0".join(
            str(v)
            for v in (
                self.app_url,
                self.username,
                self.role,
                self.region,
                self.assume_role,
                self.external_id,
            )
        )
        return sha256_hex(material.encode())[:16]


def _factor(merged: Mapping[str, Any]) -> str:
    factor = str(merged.get("factor", "auto")).lower()
    factor = FACTOR_ALIASES.get(factor, factor)
    if factor not in FACTORS and not factor.endswith("-totp"):
        from okenv.suggest import with_suggestion

        raise ConfigError(
            f"unknown factor {factor!r}",
            hint=with_suggestion(f"choose one of {', '.join(FACTORS)}", factor, FACTORS),
        )
    return factor


def is_okta_id(text: str) -> bool:
    """Whether ``text`` is an Okta app or OIDC client id (``0oa`` and 17 letters or digits)."""
    return re.fullmatch(OKTA_ID, text) is not None


def _engine(merged: Mapping[str, Any], name: str) -> tuple[str, str | None]:
    """``engine``, and ``oidc_client_id``: an Okta client id, which ``device`` requires."""
    engine = str(merged.get("engine", "auto")).lower()
    if engine not in ENGINES:
        raise ConfigError(f"unknown engine {engine!r}", hint=f"choose one of {', '.join(ENGINES)}")
    client_id = merged.get("oidc_client_id") or None
    if client_id is not None and not is_okta_id(client_id):
        raise ConfigError(
            f"oidc_client_id must be an Okta client id (0oa and 17 letters or digits), "
            f"not {client_id!r}",
            hint="copy it from the OIDC app's General tab in the Okta admin console",
        )
    if engine == "device" and client_id is None:
        raise ConfigError(
            f'engine = "device" needs oidc_client_id (profile {name!r})',
            hint="the client id of the OIDC app your Okta admin set up; see README, "
            '"Orgs that require a browser"',
        )
    return engine, client_id


def parse_duration(value: str | int) -> int:
    """``"15m"``, ``"1h"``, ``"1h30m"``, ``"3600"`` or ``3600`` → seconds within 15m..12h."""
    if isinstance(value, bool):
        raise ConfigError(f"invalid duration: {value!r}")
    if isinstance(value, int):
        seconds = value
    else:
        text = value.strip().lower()
        if text.isdigit():
            seconds = int(text)
        else:
            match = re.fullmatch(_DURATION, text)
            if not text or not match:
                raise ConfigError(
                    f"invalid duration: {value!r}", hint="use e.g. 15m, 1h, 12h or seconds"
                )
            seconds = int(match["h"] or 0) * 3600 + int(match["m"] or 0) * 60 + int(match["s"] or 0)
    if not MIN_DURATION <= seconds <= MAX_DURATION:
        raise ConfigError(
            f"duration {value!r} is out of range", hint="AWS accepts 15m (900) to 12h (43200)"
        )
    return seconds


def check_org_url(url: str, what: str = "app_url") -> None:
    """https only, except on a loopback host (local testing); no userinfo, no backslash."""
    if not url.strip().lower().startswith(("https://", "http://")):
        raise ConfigError(
            f"{what} is not a URL: {redact_userinfo(url)!r}",
            hint="copy the AWS app's embed link from the Okta dashboard",
        )
    check_url(url, what)


def read_config(path: Path) -> dict[str, Any]:
    """Parse the TOML file; a missing file is an empty config.

    Only a regular file of at most :data:`MAX_CONFIG_SIZE` is read, without blocking: an
    ``OKENV_CONFIG`` naming a FIFO or a device is an error, never a hang (completion reads
    the config on every TAB)."""
    from okenv.files import NotRegularFile, TooLarge, read_regular

    try:
        raw = read_regular(path, MAX_CONFIG_SIZE)
    except FileNotFoundError:
        return {}
    except NotRegularFile:
        raise ConfigError(
            f"cannot read config file {path}: it is not a regular file",
            hint="point OKENV_CONFIG at a TOML file",
        ) from None
    except TooLarge:
        raise ConfigError(
            f"cannot read config file {path}: it is larger than {MAX_CONFIG_SIZE // 1024} KiB"
        ) from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"config file {path} is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        # tomllib puts "(at line N, column M)" in its message.
        raise ConfigError(f"invalid TOML in {path}: {exc}") from None
    for table in ("defaults", "profiles"):
        if table in data and not isinstance(data[table], dict):
            raise ConfigError(f"{path}: [{table}] must be a table")
    for name, body in data.get("profiles", {}).items():
        if not isinstance(body, dict):
            raise ConfigError(f"{path}: profiles.{name} must be a table")
    return data


def profile_names(data: Mapping[str, Any]) -> list[str]:
    return sorted(data.get("profiles", {}))


def profile_candidates(path: Path, prefix: str = "") -> list[str]:
    """Profile names that start with ``prefix`` (for completion); [] when unreadable."""
    try:
        data = read_config(path)
    except ConfigError:
        return []
    return [name for name in profile_names(data) if name.startswith(prefix) and "\n" not in name]


def _check_table(path: Path, where: str, table: Mapping[str, Any]) -> None:
    for key, value in table.items():
        types = KNOWN_KEYS.get(key)
        if types is None:
            from okenv.suggest import did_you_mean

            near = did_you_mean(key, KNOWN_KEYS)
            from okenv import report

            report.warn(
                f"{path}: unknown key {key!r} in [{where}] (ignored)"
                + (f"; {near}" if near else "")
            )
        elif not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            names = {str: "string", int: "integer", float: "number", bool: "boolean"}
            kind = " or ".join(names[t] for t in types)
            raise ConfigError(f"{path}: {key} in [{where}] must be a {kind}")


def unknown_profile(name: str, data: Mapping[str, Any], path: Path) -> UsageError:
    """The error for a name that is no profile in ``data`` (read from ``path``): the nearest
    profile names, or the nearest command when the word is a mistyped command; on a first
    run (no config file at all) a pointer at ``okenv configure``."""
    from okenv.commands import NAMES
    from okenv.suggest import did_you_mean, with_suggestion

    names = profile_names(data)
    command = did_you_mean(name, NAMES)
    if command and not did_you_mean(name, names):
        return UsageError(f"unknown command {name!r}; {command}", hint="okenv --help lists them")
    if not data and not path.exists():
        return UsageError(f"no config file yet ({path}): run `okenv configure` to set up okenv")
    known = ", ".join(names) or "none"
    return UsageError(
        f"unknown profile {name!r}",
        hint=with_suggestion(f"profiles in {path}: {known}", name, names),
    )


def _timeout(seconds: float) -> float:
    if not 0 < seconds <= 600:
        raise ConfigError(f"timeout {seconds:g} is out of range", hint="use 1 to 600 seconds")
    return seconds


def resolve_profile(
    name: str,
    *,
    path: Path,
    environ: Mapping[str, str],
    overrides: Mapping[str, Any] | None = None,
) -> Profile:
    """Build the profile ``name`` from file, environment and flag ``overrides``."""
    data = read_config(path)
    profiles: dict[str, Any] = data.get("profiles", {})
    if name not in profiles:
        raise unknown_profile(name, data, path)
    defaults = data.get("defaults", {})
    _check_table(path, "defaults", defaults)
    _check_table(path, f"profiles.{name}", profiles[name])
    merged: dict[str, Any] = {k: v for k, v in defaults.items() if k in KNOWN_KEYS}
    merged.update({k: v for k, v in profiles[name].items() if k in KNOWN_KEYS})
    if environ.get("OKENV_USERNAME"):
        merged["username"] = environ["OKENV_USERNAME"]
    merged.update({k: v for k, v in (overrides or {}).items() if v is not None})

    app_url = merged.get("app_url")
    if not app_url:
        raise ConfigError(
            f"profile {name!r} has no app_url",
            hint=f"set app_url (the AWS app's embed link) in [profiles.{name}] or [defaults]",
        )
    check_org_url(app_url)
    factor = _factor(merged)
    engine, client_id = _engine(merged, name)
    timeout = _timeout(float(merged.get("timeout", 20.0)))
    return Profile(
        name=name,
        timeout=timeout,
        app_url=app_url,
        username=merged.get("username") or None,
        factor=factor,
        duration=parse_duration(merged.get("duration", DEFAULT_DURATION)),
        region=merged.get("region") or None,
        role=merged.get("role") or None,
        assume_role=merged.get("assume_role") or None,
        assume_role_session_name=merged.get("assume_role_session_name") or None,
        external_id=merged.get("external_id") or None,
        aws_profile=merged.get("aws_profile") or None,
        engine=engine,
        okta_keep_signed_in=merged.get("okta_keep_signed_in"),
        oidc_client_id=client_id,
        open_browser=bool(merged.get("open_browser", False)),
        keyring=bool(merged.get("keyring", False)),
    )
