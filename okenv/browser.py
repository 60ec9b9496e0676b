"""Open a secret URL in the user's browser without showing it to other local users.

A browser started with the URL on its command line publishes it in ``/proc/PID/cmdline``
for as long as it runs; the AWS console sign-in URL (and, later, an OAuth device URL) is a
credential. :func:`open_url` writes a tiny page that redirects to the URL into a 0600 file
in a fresh 0700 directory, opens that file instead, and removes both once the browser has
read the page (or after :data:`READ_WAIT` seconds). The browser never inherits okenv's own
secrets (``OKENV_PASSWORD``, ``OKENV_TOTP_SECRET``), as with ``okenv exec``.
"""

from __future__ import annotations

import html
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from okenv.run import LOGIN_SECRETS

__all__ = ["READ_WAIT", "open_url", "redirect_page"]

READ_WAIT = 20.0  # seconds to wait for the browser to read the page before removing it
_POLL = 0.05


def redirect_page(url: str) -> str:
    """An HTML page that sends the browser on to ``url`` at once (and sends no referrer)."""
    attribute = html.escape(url, quote=True)
    script = json.dumps(url).replace("<", "\\u003c").replace(">", "\\u003e")
    return (
        '<!doctype html><html><head><meta charset="utf-8">'
        '<meta name="referrer" content="no-referrer">'
        f'<meta http-equiv="refresh" content="0;url={attribute}">'
        f"<title>okenv</title><script>location.replace({script})</script></head>"
        f'<body><a href="{attribute}" rel="noreferrer">Continue</a></body></html>\n'
    )


def _private_dir() -> Path:
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    base = runtime if runtime and os.path.isdir(runtime) else None
    return Path(tempfile.mkdtemp(prefix="okenv-browser-", dir=base))  # mode 0700


def _was_read(path: Path, written_atime: float) -> bool:
    try:
        return os.stat(path).st_atime > written_atime
    except OSError:
        return True  # gone: nothing left to protect


def open_url(
    url: str, *, opener: Callable[[str], bool] | None = None, wait: float = READ_WAIT
) -> bool:
    """Open ``url`` in the browser through a private redirect page; False when no browser
    could be started. ``opener`` (default: :func:`webbrowser.open`) gets a ``file://`` URL."""
    if opener is None:
        import webbrowser

        opener = webbrowser.open
    for name in LOGIN_SECRETS:  # the browser (and anything it starts) never sees them
        os.environ.pop(name, None)
    directory = _private_dir()
    try:
        page = directory / "open.html"
        fd = os.open(page, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(redirect_page(url))
        # An access time before the write: the browser's first read moves it (relatime).
        written = os.stat(page).st_mtime - 60
        os.utime(page, (written, os.stat(page).st_mtime))
        if not opener(page.as_uri()):
            return False
        end = time.monotonic() + wait
        while not _was_read(page, written) and time.monotonic() < end:
            time.sleep(_POLL)
        return True
    finally:
        shutil.rmtree(directory, ignore_errors=True)
