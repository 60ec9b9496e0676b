"""The credential cache: one small JSON file per (profile, role), private to the user.

This module is on the cached fast path (``eval $(okenv prod)`` must be instant), so it uses
the standard library only and imports what a cache miss needs (``fcntl``) lazily.

Layout: ``<dir>/<key>.json`` holds ``{"version": 1, "profile": ..., "credentials": ...}``;
``<dir>/<key>.lock`` is the inter-process lock taken while logging in. The directory is
0700, files are 0600, writes are atomic (temporary file, fsync, rename). A cache that is
unsafe (writable or readable by others, owned by someone else) is refused with a warning,
and one that cannot be written is skipped with a warning: the cache never makes okenv fail.
"""

from __future__ import annotations

import json
import os
import re
import stat
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from okenv.credentials import Credentials
from okenv.digest import sha256_hex
from okenv.errors import AuthenticationError
from okenv.files import write_private

MIN_REMAINING = 300  # seconds: cached credentials are reused only while more than 5 minutes remain
VERSION = 1
MAX_FILE_SIZE = 64 * 1024  # a cache file is ~1-2 KiB; anything much bigger is not ours
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
_KEY_FILE = re.compile(r"^(?P<profile>.*)-(?P<digest>[0-9a-f]{12})$")
_WARNED: set[str] = set()  # warnings already given by this process


def _sanitize(profile: str) -> str:
    """A readable, filename-safe rendering of a profile name (not unique by itself)."""
    return _UNSAFE_NAME.sub("_", profile).lstrip(".")[:64] or "_"


def _default_warn(message: str) -> None:
    sys.stderr.write(f"okenv: warning: {message}\n")


def _getuid() -> int | None:
    getuid = getattr(os, "getuid", None)
    return None if getuid is None else int(getuid())


class CredentialCache:
    def __init__(
        self,
        directory: Path,
        warn: Callable[[str], None] | None = None,
        *,
        inside: Path | None = None,
    ) -> None:
        self.directory = Path(directory)
        self._warn = warn or _default_warn
        self._warned: set[str] = set()
        # The cache dir this one lives in (e.g. okenv's, for <cache>/okta): it must be safe
        # too, or whoever can write there could swap this directory.
        self._inside = None if inside is None else Path(inside)

    # -- naming -----------------------------------------------------------------------------

    @staticmethod
    def key(profile: str, role: str | None) -> str:
        """``<sanitized profile>-<12 hex digits>``, unique per (profile, role).

        The digest covers the exact profile name as well as the role, so two profile names
        that sanitize alike (``a/b`` and ``a_b``) still get different files.
        """
        digest = sha256_hex(f"{profile}\0{role or ''}".encode())[:12]
        return f"{_sanitize(profile)}-{digest}"

    def _path(self, key: str, suffix: str) -> Path:
        if not key or "/" in key or "\\" in key or key.startswith("."):
            raise ValueError(f"invalid cache key: {key!r}")
        return self.directory / f"{key}{suffix}"

    # -- warnings and safety checks ---------------------------------------------------------

    def _warn_once(self, topic: str, message: str) -> None:
        # Once per topic for this cache, and once per process for the same text: the Okta
        # session store (a cache in a subdirectory) hits the same unusable parent.
        if topic not in self._warned and message not in _WARNED:
            self._warned.add(topic)
            _WARNED.add(message)
            self._warn(message)

    def _directory_is_safe(self) -> bool:
        """The directory exists, is ours, and nobody else can write into it (warns if not);
        the same holds for the cache dir it lives in, if any."""
        if self._inside is not None and not self._is_safe(self._inside):
            return False
        return self._is_safe(self.directory)

    def _is_safe(self, directory: Path) -> bool:
        try:
            info = os.stat(directory)
        except OSError:
            return False
        if not stat.S_ISDIR(info.st_mode):
            self._warn_once(
                "write",
                f"cannot write the cache at {directory}: not a directory; continuing without it",
            )
            return False
        uid = _getuid()
        if uid is not None and info.st_uid != uid:
            self._warn_once(
                "unsafe-dir",
                f"ignoring the cache at {directory}: it belongs to another user",
            )
            return False
        if uid is not None and info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            self._warn_once(
                "unsafe-dir",
                f"ignoring the cache at {directory}: it is writable by other users "
                f"(fix with: chmod 700 {directory})",
            )
            return False
        return True

    def _ensure_directory(self) -> bool:
        """Create the directory (and missing parents) 0700; False, with a warning, if unusable."""
        inside = self._inside
        if inside is not None and os.path.lexists(inside) and not self._is_safe(inside):
            return False  # nothing is created inside an unsafe cache dir
        try:
            missing: list[Path] = []
            current = self.directory
            while not os.path.lexists(current):
                missing.append(current)
                if current.parent == current:
                    break
                current = current.parent
            for path in reversed(missing):
                try:
                    os.mkdir(path, 0o700)
                except FileExistsError:
                    continue  # a concurrent okenv made it first
                os.chmod(path, 0o700)  # mkdir's mode is filtered through the umask
        except OSError as exc:
            self._warn_once(
                "write",
                f"cannot write the cache at {exc.filename or self.directory}: "
                f"{exc.strerror or exc}; continuing without it",
            )
            return False
        return self._directory_is_safe()

    def _read(self, path: Path, *, quiet_missing: bool = True) -> dict[str, Any] | None:
        """The parsed document at ``path`` if it is a private regular file of ours, else None."""
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        try:
            fd = os.open(path, flags)
        except OSError:
            return None  # missing, a symlink, unreadable: not a usable entry
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_FILE_SIZE:
                return None
            uid = _getuid()
            if uid is not None and (info.st_uid != uid or info.st_mode & 0o077):
                self._warn_once(
                    f"unsafe-file:{path}",
                    f"ignoring the cache file {path}: it is readable by other users or not "
                    f"yours (delete it, or fix with: chmod 600 {path})",
                )
                return None
            data = os.read(fd, MAX_FILE_SIZE + 1)
        except OSError:
            return None
        finally:
            os.close(fd)
        try:
            document = json.loads(data)
        except ValueError:  # also UnicodeDecodeError and JSONDecodeError
            return None
        return document if isinstance(document, dict) else None

    @staticmethod
    def _parse(document: dict[str, Any]) -> tuple[str, Credentials] | None:
        if document.get("version") != VERSION:
            return None
        profile = document.get("profile")
        payload = document.get("credentials")
        if not isinstance(profile, str) or not isinstance(payload, dict):
            return None
        try:
            return profile, Credentials.from_dict(payload)
        except (KeyError, TypeError, ValueError, OverflowError):
            return None

    # -- the API ----------------------------------------------------------------------------

    def load(self, key: str, min_remaining: float = MIN_REMAINING) -> Credentials | None:
        """Cached credentials with more than ``min_remaining`` seconds left, else None.

        Never raises for anything found on disk: a missing, corrupt, truncated, foreign or
        about-to-expire entry is a miss, and the next :meth:`store` overwrites it.
        """
        path = self._path(key, ".json")
        if not os.path.lexists(path) or not self._directory_is_safe():
            return None
        document = self._read(path)
        parsed = None if document is None else self._parse(document)
        if parsed is None:
            return None
        creds = parsed[1]
        return creds if creds.remaining() > min_remaining else None

    def store(self, key: str, profile: str, creds: Credentials) -> None:
        """Write the entry atomically (0600); on any failure warn once and carry on."""
        path = self._path(key, ".json")
        if not self._ensure_directory():
            return
        document = {"version": VERSION, "profile": profile, "credentials": creds.to_dict()}
        data = (json.dumps(document, indent=1) + "\n").encode()
        try:
            write_private(path, data)
        except OSError as exc:
            self._warn_once(
                "write",
                f"cannot write the cache at {self._inside or self.directory}: "
                f"{exc.strerror or exc}; continuing without it",
            )

    # -- generic private JSON documents (Okta sessions, engine detection) -------------------

    def load_document(self, key: str) -> dict[str, Any] | None:
        """The JSON object stored under ``key`` by :meth:`store_document`, else None.

        The same checks as for credentials apply: private regular file, safe directory.
        """
        path = self._path(key, ".json")
        if not os.path.lexists(path) or not self._directory_is_safe():
            return None
        return self._read(path)

    def store_document(self, key: str, document: dict[str, Any]) -> None:
        """Write ``document`` under ``key`` atomically (0600); on failure warn once, carry on."""
        path = self._path(key, ".json")
        if not self._ensure_directory():
            return
        try:
            write_private(path, (json.dumps(document, indent=1) + "\n").encode())
        except OSError as exc:
            self._warn_once(
                "write",
                f"cannot write the cache at {self._inside or self.directory}: "
                f"{exc.strerror or exc}; continuing without it",
            )

    def remove_document(self, key: str) -> bool:
        """Delete the document under ``key``; True if there was one."""
        try:
            os.unlink(self._path(key, ".json"))
        except FileNotFoundError:
            return False
        except OSError as exc:
            self._warn(f"cannot remove {self._path(key, '.json')}: {exc.strerror or exc}")
            return False
        return True

    def document_keys(self, prefix: str) -> list[str]:
        """Keys of the stored documents whose key starts with ``prefix``."""
        return [p.stem for p in self._files() if p.stem.startswith(prefix)]

    def _files(self) -> list[Path]:
        try:
            names = os.listdir(self.directory)
        except OSError:
            return []
        return sorted(
            self.directory / name
            for name in names
            if name.endswith(".json") and not name.startswith(".")
        )

    def remove(self, profile: str | None = None) -> int:
        """Forget one profile's entries (every role) or, without a profile, all of them."""
        removed = 0
        wanted = None if profile is None else _sanitize(profile)
        for path in self._files():
            if profile is not None:
                match = _KEY_FILE.match(path.stem)
                if match is None or match["profile"] != wanted:
                    continue
                document = self._read(path)
                owner = None if document is None else document.get("profile")
                # A readable entry names its profile exactly; an unreadable one under this
                # profile's prefix is garbage either way.
                if isinstance(owner, str) and owner != profile:
                    continue
            try:
                os.unlink(path)
            except FileNotFoundError:
                continue
            except OSError as exc:
                self._warn(f"cannot remove {path}: {exc.strerror or exc}")
                continue
            removed += 1
        if profile is None:
            self._remove_stray_temporaries()
        return removed

    def _remove_stray_temporaries(self) -> None:
        """Temporary files left by a writer killed between create and rename."""
        try:
            names = os.listdir(self.directory)
        except OSError:
            return
        for name in names:
            if name.startswith(".") and name.endswith(".tmp"):
                with suppress(OSError):
                    os.unlink(self.directory / name)

    def entries(self) -> list[tuple[str, Credentials]]:
        """(profile, credentials) of every readable entry, expired ones included."""
        if not self._directory_is_safe():
            return []
        found: list[tuple[str, Credentials]] = []
        for path in self._files():
            document = self._read(path)
            parsed = None if document is None else self._parse(document)
            if parsed is not None:
                found.append(parsed)
        found.sort(key=lambda item: (item[0], item[1].role_arn))
        return found

    @contextmanager
    def lock(self, key: str, timeout: float = 120.0) -> Iterator[None]:
        """Hold an exclusive inter-process lock for ``key`` (e.g. while logging in).

        ``flock`` on ``<key>.lock``, polled with a short back-off: the kernel drops the lock
        when its holder dies, even by SIGKILL, so a crashed okenv never blocks the next one.
        Without a usable cache directory, or without ``fcntl`` (Windows), this is a no-op.
        """
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows
            yield
            return
        path = self._path(key, ".lock")
        if not self._ensure_directory():
            yield
            return
        flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | os.O_CLOEXEC
        try:
            fd = os.open(path, flags, 0o600)
        except OSError as exc:
            self._warn_once(
                "write",
                f"cannot write the cache at {self._inside or self.directory}: "
                f"{exc.strerror or exc}; continuing without it",
            )
            yield
            return
        try:
            deadline = time.monotonic() + timeout
            delay = 0.005
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    pass
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AuthenticationError(
                        f"timed out after {timeout:g}s waiting for another okenv process "
                        "that is logging in with the same profile",
                        hint=f"finish or stop the other okenv process (lock: {path})",
                    )
                time.sleep(min(delay, remaining))
                delay = min(delay * 2, 0.1)
            yield
        finally:
            os.close(fd)  # closing the descriptor releases the lock
