"""Adding profiles to the config file without disturbing it (for ``okenv configure``).

:func:`add_profiles` is the pure edit, with ``tomlkit`` (imported only here, only by
configure): comments, order, blank lines and every other profile stay byte for byte; new
profiles are appended as ``[profiles.NAME]`` tables; ``[defaults]`` keys are set only where
the file has none. A profile that exists already is left alone. :func:`write_config` writes
atomically (0600). No password is ever a value here: :data:`ALLOWED_KEYS` is the whole set.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from pathlib import Path

from okenv.errors import ConfigError

ALLOWED_KEYS = frozenset({"app_url", "username", "role", "region", "keyring"})

Value = str | bool


def add_profiles(
    text: str,
    profiles: Mapping[str, Mapping[str, Value]],
    defaults: Mapping[str, Value] | None = None,
) -> str:
    """``text`` (a TOML config) with the new ``profiles`` and the missing ``defaults``."""
    import tomlkit
    from tomlkit.exceptions import TOMLKitError

    for values in (*profiles.values(), defaults or {}):
        unknown = set(values) - ALLOWED_KEYS
        if unknown:
            raise ValueError(f"configure does not write {sorted(unknown)}")
    try:
        document = tomlkit.parse(text)
    except TOMLKitError as exc:
        raise ConfigError(f"invalid TOML in the config file: {exc}") from None
    if defaults:
        table = document.get("defaults")
        if table is None:
            table = tomlkit.table()
            document["defaults"] = table
        for key, value in defaults.items():
            if key not in table:
                table[key] = value
    if profiles:
        existing = document.get("profiles")
        if existing is None:
            existing = tomlkit.table(is_super_table=True)
            document["profiles"] = existing
        for name, values in profiles.items():
            if name in existing:
                continue
            table = tomlkit.table()
            for key, value in values.items():
                table[key] = value
            existing[name] = table
    return tomlkit.dumps(document)


def diff(before: str, after: str, path: Path) -> str:
    """A unified diff of the change, for the person to read before it is written (each line
    made printable: the file may hold anything)."""
    lines = difflib.unified_diff(
        before.splitlines(keepends=True),
        after.splitlines(keepends=True),
        fromfile=str(path),
        tofile=str(path),
    )
    from okenv.text import printable

    return "".join(printable(line.rstrip("\r\n")) + "\n" for line in lines)


def write_config(path: Path, text: str) -> None:
    from okenv.files import write_private

    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_private(path, text.encode("utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot write the config file {path}: {exc.strerror or exc}") from None
