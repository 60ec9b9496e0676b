"""Private files written atomically: the old file stays whole until the new one is complete."""

from __future__ import annotations

import os
import time
from contextlib import suppress
from pathlib import Path


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
