"""okenv.limits: the deadline ends a wait that per-read timeouts would not, and leaves any
timer it found as it was; the size cap stops reading at the cap."""

from __future__ import annotations

import signal
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from okenv.limits import BodyTooLargeError, Expired, deadline, read_capped


def test_a_trickle_that_beats_every_read_timeout_is_ended_by_the_deadline() -> None:
    left, right = socket.socketpair()
    left.settimeout(1.0)  # each read gets a byte well within its timeout
    stop = threading.Event()

    def trickle() -> None:
        while not stop.wait(0.05):
            try:
                right.send(b"x")
            except OSError:
                return

    sender = threading.Thread(target=trickle, daemon=True)
    sender.start()
    received = 0
    try:
        with pytest.raises(Expired), deadline(0.5):
            while True:
                received += len(left.recv(1))
    finally:
        stop.set()
        sender.join()
        left.close()
        right.close()
    assert received > 3  # the reads were answered: only the deadline could end this


def test_an_outer_timer_and_handler_are_restored() -> None:
    fired: list[int] = []

    def handler(signum: int, _frame: Any) -> None:
        fired.append(signum)

    previous = signal.signal(signal.SIGALRM, handler)
    try:
        signal.setitimer(signal.ITIMER_REAL, 30.0)
        with deadline(5.0):
            pass
        remaining, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 20.0 < remaining <= 30.0
        assert signal.getsignal(signal.SIGALRM) is handler and fired == []
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_no_timer_is_left_armed() -> None:
    with deadline(5.0):
        time.sleep(0)
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


class _Streamed:
    def __init__(self, chunks: int, declared: str = "") -> None:
        self.headers = {"Content-Length": declared} if declared else {}
        self.chunks = chunks
        self.served = 0
        self.closed = False

    def iter_content(self, size: int) -> Iterator[bytes]:
        for _ in range(self.chunks):
            self.served += 1
            yield b"x" * size

    def close(self) -> None:
        self.closed = True


def test_the_cap_stops_the_stream() -> None:
    body: Any = _Streamed(chunks=10_000)
    with pytest.raises(BodyTooLargeError, match="sent more than 1 MiB"):
        read_capped(body, 1024 * 1024, "the server")
    assert body.served == 17 and body.closed  # 16 chunks of 64 KiB fit, the 17th does not


def test_a_declared_length_over_the_cap_is_refused_unread() -> None:
    body: Any = _Streamed(chunks=1, declared=str(200 * 1024 * 1024))
    with pytest.raises(BodyTooLargeError):
        read_capped(body, 1024 * 1024, "the server")
    assert body.served == 0
