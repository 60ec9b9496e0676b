"""The latency bench's round-trip accounting (bench/latency.py): counts, never timings."""

from __future__ import annotations

import http.client
import socketserver
import threading
from collections.abc import Iterator

import pytest

from bench import latency
from bench.latency import Chunk

RTT = 0.1


def chunk(conn: str, direction: str, at: float, head: bytes = b"x") -> Chunk:
    # delivered = received + RTT/2, as the proxy does
    return Chunk(conn, direction, at, at + RTT / 2, 1, head)


def test_one_connection_counts_setup_and_each_exchange() -> None:
    # TCP setup (1), TLS hello/answer (1), request/answer (1) -> 3 sequential round trips
    opened = {"a#1": 0.0}
    chunks = [
        chunk("a#1", "up", 0.0, b"\x16\x03\x01"),  # leaves at accept + RTT, arrives +RTT/2
        chunk("a#1", "down", 0.15),
        chunk("a#1", "up", 0.2, b"\x17"),
        chunk("a#1", "down", 0.25),
    ]
    chunks[0] = Chunk("a#1", "up", 0.0, RTT + RTT / 2, 1, b"\x16\x03\x01")
    counts = latency.analyse(opened, chunks, RTT)
    assert counts["connections"] == 1
    assert counts["tls_handshakes"] == 1
    assert counts["exchanges"] == 3
    assert counts["sequential_round_trips"] == 3


def test_overlapping_connections_count_once() -> None:
    # a second connection set up while the first one waits adds no sequential round trip
    opened = {"a#1": 0.0, "b#1": 0.0}
    counts = latency.analyse(opened, [], RTT)
    assert counts["connections"] == 2
    assert counts["sequential_round_trips"] == 1


def test_sequential_connections_add_up() -> None:
    opened = {"a#1": 0.0, "b#1": 0.5}
    assert latency.analyse(opened, [], RTT)["sequential_round_trips"] == 2


def test_plaintext_requests_are_counted() -> None:
    plain = [chunk("t#1", "up", 0.0, b"POST / HTTP/1.1"), chunk("t#1", "up", 0.1, b"GET /x")]
    assert latency.analyse({}, [], RTT, plain)["plaintext_requests"] == 2


class _Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        while data := self.request.recv(65536):
            self.request.sendall(data)


@pytest.fixture
def echo() -> Iterator[int]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Echo)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


def test_the_proxy_forwards_in_order_and_logs_each_connection(echo: int) -> None:
    log = latency.Log()
    with latency.loop() as runner:
        proxy = latency.DelayProxy(runner, "echo", ("127.0.0.1", echo), log)
        port = proxy.start()
        try:
            for _ in range(2):
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                conn.connect()
                assert conn.sock is not None
                message = b"GET /one HTTP/1.1\r\n\r\n"
                conn.sock.sendall(message)
                got = b""
                while len(got) < len(message) and (part := conn.sock.recv(100)):
                    got += part
                assert got == message
                conn.close()
        finally:
            proxy.stop()
    opened, chunks = log.take()
    counts = latency.analyse(opened, chunks, 0.0)
    assert counts["connections"] == 2
    assert counts["plaintext_requests"] == 2
    assert counts["tls_handshakes"] == 0
