"""okenv's private store: one directory of small JSON documents and lock files, ours alone.

Its users are thin: the credential cache (:mod:`okenv.cache`), the Okta session store
(:mod:`okenv.okta.session`), what okenv remembers about AWS (:mod:`okenv.memory`) and the
lock around the AWS credentials file. This module owns what they share:

- **directory safety**: created 0700 whatever the umask (missing parents too); used only
  while it is a directory of ours that nobody else can write to, and the same for the
  directory it lives in (``inside``), or whoever can write there could swap it;
- **documents**: ``<name>.json``, written atomically 0600 (:func:`okenv.files.write_private`),
  read only from a private regular file of ours, never through a symlink, at most
  :data:`MAX_DOCUMENT_SIZE` bytes, without blocking;
- **locks**: ``flock`` on ``<name>.lock``, which the kernel drops when its holder dies.

The store never makes okenv fail: a directory that cannot be used is warned about once and
okenv carries on without it. Standard library only (the cached path reads the cache), with
``fcntl`` imported when a lock is taken.
"""

from __future__ import annotations

import json
import os
import stat
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from okenv import report
from okenv.errors import AuthenticationError
from okenv.files import read_regular, write_private

__all__ = ["MAX_DOCUMENT_SIZE", "PrivateStore", "make_private_dirs"]

MAX_DOCUMENT_SIZE = 64 * 1024  # a document is ~1-2 KiB; anything much bigger is not ours
_WARNED: set[str] = set()  # warnings already given by this process


def _getuid() -> int | None:
    getuid = getattr(os, "getuid", None)
    return None if getuid is None else int(getuid())


def make_private_dirs(directory: Path) -> None:
    """Create ``directory`` and its missing parents, each 0700 whatever the umask (mkdir's
    mode is filtered through it, so each is chmod-ed too). Directories that exist are left
    as they are. Raises ``OSError``."""
    missing: list[Path] = []
    current = Path(directory)
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
        os.chmod(path, 0o700)


class _NotPrivate(OSError):
    """A document readable by others, or owned by someone else."""


def _check_private(info: os.stat_result) -> None:
    uid = _getuid()
    if uid is not None and (info.st_uid != uid or info.st_mode & 0o077):
        raise _NotPrivate


class PrivateStore:
    """Documents and locks in ``directory`` (which lives in ``inside``, if given)."""

    def __init__(
        self,
        directory: Path,
        *,
        inside: Path | None = None,
    ) -> None:
        self.directory = Path(directory)
        self._warned: set[str] = set()
        self._inside = None if inside is None else Path(inside)

    def path(self, name: str, suffix: str = ".json") -> Path:
        if not name or "/" in name or "\\" in name or name.startswith("."):
            raise ValueError(f"invalid cache key: {name!r}")
        return self.directory / f"{name}{suffix}"

    # -- warnings ---------------------------------------------------------------------------

    def _warn_once(self, topic: str, message: str) -> None:
        # Once per topic for this store, and once per process for the same text: the Okta
        # session store (a store in a subdirectory) hits the same unusable parent.
        if topic not in self._warned and message not in _WARNED:
            self._warned.add(topic)
            _WARNED.add(message)
            report.warn(message)

    def _cannot_write(self, where: Path | str, reason: str) -> None:
        self._warn_once(
            "write", f"cannot write the cache at {where}: {reason}; continuing without it"
        )

    def _cannot_write_because(self, exc: OSError, where: Path | str | None = None) -> None:
        self._cannot_write(where or self._inside or self.directory, str(exc.strerror or exc))

    # -- directory safety -------------------------------------------------------------------

    def is_safe(self) -> bool:
        """The directory exists, is ours, and nobody else can write into it (warns if not);
        the same holds for the directory it lives in, if any."""
        if self._inside is not None and not self._is_safe(self._inside):
            return False
        return self._is_safe(self.directory)

    def _is_safe(self, directory: Path) -> bool:
        try:
            info = os.stat(directory)
        except OSError:
            return False
        if not stat.S_ISDIR(info.st_mode):
            self._cannot_write(directory, "not a directory")
            return False
        uid = _getuid()
        if uid is not None and info.st_uid != uid:
            self._warn_once(
                "unsafe-dir", f"ignoring the cache at {directory}: it belongs to another user"
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

    def ensure(self) -> bool:
        """Create the directory (and missing parents) 0700; False, with a warning, if unusable."""
        inside = self._inside
        if inside is not None and os.path.lexists(inside) and not self._is_safe(inside):
            return False  # nothing is created inside an unsafe directory
        try:
            make_private_dirs(self.directory)
        except OSError as exc:
            self._cannot_write_because(exc, exc.filename or self.directory)
            return False
        return self.is_safe()

    # -- documents --------------------------------------------------------------------------

    def read_file(self, path: Path) -> dict[str, Any] | None:
        """The JSON object at ``path`` if it is a private regular file of ours, else None."""
        try:
            data = read_regular(path, MAX_DOCUMENT_SIZE, follow=False, check=_check_private)
        except _NotPrivate:
            self._warn_once(
                f"unsafe-file:{path}",
                f"ignoring the cache file {path}: it is readable by other users or not "
                f"yours (delete it, or fix with: chmod 600 {path})",
            )
            return None
        except OSError:
            return None  # missing, a symlink, not a regular file, too large, unreadable
        try:
            document = json.loads(data)
        except ValueError:  # also UnicodeDecodeError and JSONDecodeError
            return None
        return document if isinstance(document, dict) else None

    def read(self, name: str) -> dict[str, Any] | None:
        """The document ``name``, else None (also when the directory is not safe)."""
        path = self.path(name)
        if not os.path.lexists(path) or not self.is_safe():
            return None
        return self.read_file(path)

    def write(self, name: str, document: dict[str, Any]) -> None:
        """Write ``document`` as ``name`` atomically (0600); on failure warn once, carry on."""
        path = self.path(name)
        if not self.ensure():
            return
        try:
            write_private(path, (json.dumps(document, indent=1) + "\n").encode())
        except OSError as exc:
            self._cannot_write_because(exc)

    def unlink(self, path: Path) -> bool:
        """Delete ``path``; True if it was there (a failure is warned about)."""
        try:
            os.unlink(path)
        except FileNotFoundError:
            return False
        except OSError as exc:
            report.warn(f"cannot remove {path}: {exc.strerror or exc}")
            return False
        return True

    def remove(self, name: str) -> bool:
        """Delete the document ``name``; True if there was one."""
        return self.unlink(self.path(name))

    def files(self) -> list[Path]:
        """Every document file, sorted."""
        try:
            names = os.listdir(self.directory)
        except OSError:
            return []
        return sorted(
            self.directory / name
            for name in names
            if name.endswith(".json") and not name.startswith(".")
        )

    def names(self, prefix: str = "") -> list[str]:
        """Names of the documents that start with ``prefix``."""
        return [p.stem for p in self.files() if p.stem.startswith(prefix)]

    def sweep_temporaries(self) -> None:
        """Temporary files left by a writer killed between create and rename."""
        try:
            names = os.listdir(self.directory)
        except OSError:
            return
        for name in names:
            if name.startswith(".") and name.endswith(".tmp"):
                with suppress(OSError):
                    os.unlink(self.directory / name)

    # -- locks ------------------------------------------------------------------------------

    @contextmanager
    def lock(self, name: str, timeout: float = 120.0) -> Iterator[None]:
        """Hold an exclusive inter-process lock ``name`` (e.g. while logging in).

        ``flock`` on ``<name>.lock``, polled with a short back-off: the kernel drops the lock
        when its holder dies, even by SIGKILL, so a crashed okenv never blocks the next one.
        Without a usable directory, or without ``fcntl`` (Windows), this is a no-op.
        """
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows
            yield
            return
        path = self.path(name, ".lock")
        if not self.ensure():
            yield
            return
        flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | os.O_CLOEXEC
        try:
            fd = os.open(path, flags, 0o600)
        except OSError as exc:
            self._cannot_write_because(exc)
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
