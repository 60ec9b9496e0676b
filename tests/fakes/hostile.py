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
import threading
from types import TracebackType
from typing import Literal, Self

__all__ = ["HostileServer"]

Mode = Literal["drip", "flood", "record"]


class HostileServer:
    def __init__(
        self,
        mode: Mode,
        *,
        content_type: str = "application/json",
        size: int = 150 * 1024 * 1024,
        interval: float = 0.1,
        filler: bytes = b" ",
    ) -> None:
        self.mode = mode
        self.content_type = content_type
        self.size = size
        self.interval = interval
        self.filler = filler
        self.connections = 0
        self.received: list[bytes] = []
        self.sent = 0
        self.finished = False
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._listener: socket.socket | None = None
        self._threads: list[threading.Thread] = []

    @property
    def port(self) -> int:
        assert self._listener is not None, "not started"
        port: int = self._listener.getsockname()[1]
        return port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Self:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        listener.settimeout(0.2)
        self._listener = listener
        thread = threading.Thread(target=self._accept, name="hostile-accept", daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)
        if self._listener is not None:
            self._listener.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _accept(self) -> None:
        assert self._listener is not None
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self.connections += 1
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            thread.start()
            self._threads.append(thread)

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
        with conn:
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
