"""Bounds on what a server can make okenv do: an overall deadline per request, a size cap
per body.

A socket timeout bounds each read, so a server sending a byte a second holds a client
forever. :func:`deadline` bounds the whole request, connect to last byte, with a real-time
interval timer (``SIGALRM``, main thread only — okenv's requests all run there, the STS
worker's included; elsewhere the socket timeouts still apply). :func:`read_capped` streams
a requests body and stops at a cap instead of holding whatever arrives in memory.

Standard library only at import time (okenv.console and okenv.aliases import it lazily,
okenv.okta.http and okenv.sts at the top).
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from okenv.errors import ServiceError

__all__ = [
    "MAX_JSON",
    "MAX_PAGE",
    "MAX_STS",
    "BodyTooLargeError",
    "Expired",
    "bounded_request",
    "deadline",
    "read_capped",
    "too_large",
]

MIB = 1024 * 1024
MAX_JSON = 4 * MIB  # an Okta API answer
MAX_PAGE = 8 * MIB  # an HTML page (the Okta app link, the AWS role-selection page)
MAX_STS = 1 * MIB  # an STS answer (a real one is about 2 KiB)


class Expired(Exception):
    """The deadline passed before the request finished (the caller names the server)."""


class BodyTooLargeError(ServiceError):
    """A server sent more than okenv reads."""


class _Alarm(BaseException):
    """Raised by the timer; a BaseException so no library's ``except Exception`` keeps it."""


def _usable() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Raise :class:`Expired` when the block has run ``seconds`` (wall clock).

    A timer already running (an outer caller's) is restored, minus the time spent here.
    """
    if not _usable():
        yield
        return
    token = object()
    armed = [True]

    def fire(_signum: int, _frame: Any) -> None:
        if armed[0]:
            armed[0] = False
            raise _Alarm(token)

    started = time.monotonic()
    previous_handler = signal.signal(signal.SIGALRM, fire)
    previous_delay, _ = signal.setitimer(signal.ITIMER_REAL, max(seconds, 0.001))
    try:
        yield
    except _Alarm as alarm:
        if alarm.args[0] is not token:
            raise
        raise Expired(f"no complete answer within {seconds:g} s") from None
    finally:
        armed[0] = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous_handler)
        if previous_delay:
            left = previous_delay - (time.monotonic() - started)
            signal.setitimer(signal.ITIMER_REAL, max(left, 0.001))


def too_large(what: str, cap: int) -> BodyTooLargeError:
    return BodyTooLargeError(
        f"{what} sent more than {cap // MIB} MiB; okenv stopped reading",
        hint="this is not what the server should answer: check the URL, a proxy in between, "
        "or try again later",
    )


def read_capped(response: Any, cap: int, what: str) -> bytes:
    """The body of a streamed requests ``response``, at most ``cap`` bytes (decoded), else
    :class:`BodyTooLargeError`. The body is kept on the response (``.content``/``.text``)."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > cap:
        response.close()
        raise too_large(what, cap)
    chunks: list[bytes] = []
    total = 0
    for chunk in response.iter_content(64 * 1024):
        total += len(chunk)
        if total > cap:
            response.close()
            raise too_large(what, cap)
        chunks.append(chunk)
    body = b"".join(chunks)
    response._content = body  # requests' own cache of the body: .text and .json read it
    response._content_consumed = True
    return body


def bounded_request(
    method: str,
    url: str,
    *,
    timeout: float,
    cap: int,
    what: str,
    session: Any = None,
    **kwargs: Any,
) -> Any:
    """One requests call (no redirects followed, TLS verified) whose whole exchange ends
    within ``timeout`` and whose body is at most ``cap`` bytes; the response is closed and
    its body in ``.content``. ``session``: a ``requests.Session`` whose kept-alive
    connection to use (default: a connection of its own). Raises :class:`Expired`,
    :class:`BodyTooLargeError` or requests' own exceptions."""
    import requests

    from okenv import __version__
    from okenv.tls import verify

    headers = {"User-Agent": f"okenv/{__version__}", **kwargs.pop("headers", {})}
    with deadline(timeout):
        response = (requests if session is None else session).request(
            method,
            url,
            timeout=timeout,
            verify=verify(),
            allow_redirects=False,
            stream=True,
            headers=headers,
            **kwargs,
        )
        with response:
            read_capped(response, cap, what)
    return response
