"""A hostile HTTP server on 127.0.0.1: it answers every request, but not as a server should.

    with HostileServer("drip") as server:      # headers at once, then one body byte per 0.1 s
        ...point okenv at server.url...
        assert not server.finished             # okenv hung up before the end

Modes:

- ``drip``: the status line and headers (``Content-Length`` of ``size``), then the body one
  byte every ``interval`` seconds: each socket read gets a byte long before any read timeout,
  so only an overall deadline ends the request.
- ``flood``: the headers (no length, ``Connection: close``), then ``size`` bytes as fast as
  the client takes them: only a size cap stops a client from holding it all in memory.
- ``record``: reads what the client sends, answers nothing and closes (proves that a client
  connected at all, and what it sent).

``connections`` counts accepted connections, ``received`` holds the bytes each one sent,
``sent`` the body bytes written and ``finished`` whether a whole body went out.
"""

from __future__ import annotations

import socket
import socketserver
import threading
from typing import Literal

from tests.fakes.http import LoopbackServer

__all__ = ["HostileServer"]

Mode = Literal["drip", "flood", "record"]


class _Handler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        owner = self.server.owner  # type: ignore[attr-defined]  # LoopbackServer's _Server
        assert isinstance(owner, HostileServer)
        owner._serve(self.request)


class HostileServer(LoopbackServer):
    """The lifecycle (``start``/``stop``, ``port``/``url``, a context manager) is
    :class:`tests.fakes.http.LoopbackServer`'s; each connection is served by ``_serve``."""

    handler = _Handler

    def __init__(
        self,
        mode: Mode,
        *,
        content_type: str = "application/json",
        size: int = 150 * 1024 * 1024,
        interval: float = 0.1,
        filler: bytes = b" ",
    ) -> None:
        super().__init__()
        self.mode = mode
        self.content_type = content_type
        self.size = size
        self.interval = interval
        self.filler = filler
        self.connections = 0
        self.received: list[bytes] = []
        self.sent = 0
        self.finished = False
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def stop(self) -> None:
        self._stop.set()
        super().stop()
        with self._lock:
            threads = list(self._threads)
        for thread in threads:  # so that ``sent`` and ``finished`` are final
            thread.join(timeout=5)

    def _track(self, conn: socket.socket, *, add: bool) -> None:
        super()._track(conn, add=add)
        if add:
            with self._lock:
                self.connections += 1

    def _read_request(self, conn: socket.socket) -> bytes:
        conn.settimeout(2)
        data = b""
        try:
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length" and value.strip().isdigit():
                    length = int(value.strip())
            while len(body) < length:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                body += chunk
                data += chunk
        except (TimeoutError, OSError):
            pass
        return data

    def _serve(self, conn: socket.socket) -> None:
        """One connection, in its own thread (the server closes ``conn`` after)."""
        with self._lock:
            self._threads.append(threading.current_thread())
        request = self._read_request(conn)
        with self._lock:
            self.received.append(request)
        if self.mode == "record":
            return
        length = f"Content-Length: {self.size}\r\n" if self.mode == "drip" else ""
        head = (
            f"HTTP/1.1 200 OK\r\nContent-Type: {self.content_type}\r\n{length}"
            "Connection: close\r\n\r\n"
        ).encode()
        try:
            conn.sendall(head)
            if self.mode == "drip":
                self._drip(conn)
            else:
                self._flood(conn)
        except OSError:
            return  # the client hung up: what a bounded client does

    def _drip(self, conn: socket.socket) -> None:
        for _ in range(self.size):
            if self._stop.wait(self.interval):
                return
            conn.sendall(self.filler[:1])
            with self._lock:
                self.sent += 1
        self.finished = True

    def _flood(self, conn: socket.socket) -> None:
        block = (self.filler * 65536)[:65536]
        left = self.size
        while left > 0 and not self._stop.is_set():
            piece = block[: min(left, len(block))]
            conn.sendall(piece)
            left -= len(piece)
            with self._lock:
                self.sent += len(piece)
        self.finished = left <= 0
