"""Files okenv reads and writes itself: regular files read without blocking and with a size
cap, and private files written atomically (the old file stays whole until the new one is
complete)."""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path


class NotRegularFile(OSError):
    """The path names a directory, a FIFO, a device or a socket: okenv reads none of them."""


class TooLarge(OSError):
    """The file is larger than the cap given to :func:`read_regular`."""


def read_regular(
    path: Path,
    limit: int,
    *,
    follow: bool = True,
    check: Callable[[os.stat_result], None] | None = None,
) -> bytes:
    """The bytes of the regular file at ``path``, at most ``limit`` of them.

    Opened with ``O_NONBLOCK`` (a FIFO or a tty cannot make the open or the read wait) and
    checked with ``fstat`` on the descriptor itself before a byte is read: anything but a
    regular file raises :class:`NotRegularFile`, a file over ``limit`` :class:`TooLarge`.
    ``follow=False`` refuses a symlink (``O_NOFOLLOW``); ``check`` may look at the stat
    result and raise. Other failures are the ``OSError`` of the open or read."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    if not follow:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags | getattr(os, "O_BINARY", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotRegularFile(f"{path} is not a regular file")
        if info.st_size > limit:
            raise TooLarge(f"{path} is larger than {limit} bytes")
        if check is not None:
            check(info)
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, limit + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:  # it grew after the fstat
            raise TooLarge(f"{path} is larger than {limit} bytes")
        return b"".join(chunks)
    finally:
        os.close(fd)


def write_private(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data``, mode 0600: a new temp file beside it (never following
    a link), written, fsynced, renamed over ``path``, and the directory fsynced. On any
    failure (a full disk, Ctrl-C) the temp file is removed and ``path`` is untouched."""
    flags = (
        os.O_WRONLY
        | os.O_CREAT
        | os.O_EXCL
        | getattr(os, "O_NOFOLLOW", 0)
        | getattr(os, "O_CLOEXEC", 0)
        | getattr(os, "O_BINARY", 0)
    )
    for attempt in range(100):
        temp = path.with_name(f".{path.stem}.{os.getpid()}.{time.monotonic_ns()}.{attempt}.tmp")
        try:
            fd = os.open(temp, flags, 0o600)
            break
        except FileExistsError:
            continue
    else:  # pragma: no cover - 100 collisions in a row
        raise FileExistsError(f"cannot create a temporary file next to {path}")
    try:
        try:
            if hasattr(os, "fchmod"):
                os.fchmod(fd, 0o600)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp, path)
    except BaseException:
        with suppress(OSError):
            os.unlink(temp)
        raise
    _fsync_directory(path.parent)


def _fsync_directory(directory: Path) -> None:
    """Make the rename durable (best effort: not every platform can fsync a directory)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
