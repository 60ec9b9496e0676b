"""A latency-injecting TCP proxy (asyncio) and a TLS terminator, for the latency mode.

:class:`DelayProxy` listens on a loopback port and forwards every connection to a target,
adding a one-way delay ``d = rtt / 2`` to every chunk in each direction and one round trip
to connection setup (a client's first bytes leave no earlier than ``accept + rtt``, as after
a real SYN / SYN-ACK). Chunks keep their order. TLS passes through untouched, so a tool's
TLS handshake pays its round trips like on a real network.

:class:`TlsTerminator` serves TLS on a loopback port and forwards the plaintext to an HTTP
server (moto's STS is plain HTTP; real STS is HTTPS). Chain them as
``tool → DelayProxy → TlsTerminator → moto``.

Every chunk is logged (:class:`Chunk`); :func:`analyse` turns a log into counts: TCP
connections, TLS handshakes (a connection whose first client bytes are a TLS record), HTTP
requests (counted where the plaintext is visible), and the *sequential* round trips on the
critical path: each exchange on a connection (client bytes after server bytes, and the
connection's setup) is a wait interval from the client's send to the first answering byte
it gets; the union of all intervals, over all connections, divided by the RTT is how many
round trips the tool waited for one after another. Overlapping waits (a second connection
opened while the first is busy) count once — exactly what a user feels.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

CHUNK = 65536


@dataclass(frozen=True)
class Chunk:
    conn: str  # "<route>#<n>"
    direction: str  # "up" (client → server) or "down"
    received: float  # perf_counter when the proxy read it
    delivered: float  # when it was written on (received + delay, in order)
    size: int
    head: bytes  # the first bytes (TLS record type, HTTP request line)


@dataclass
class Log:
    chunks: list[Chunk] = field(default_factory=list)
    opened: dict[str, float] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, chunk: Chunk) -> None:
        with self.lock:
            self.chunks.append(chunk)

    def open(self, conn: str, at: float) -> None:
        with self.lock:
            self.opened[conn] = at

    def take(self) -> tuple[dict[str, float], list[Chunk]]:
        with self.lock:
            opened, chunks = dict(self.opened), list(self.chunks)
            self.opened.clear()
            self.chunks.clear()
        return opened, chunks


class _Loop:
    """One asyncio loop in a daemon thread, shared by every server of a run."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(
            target=self.loop.run_forever, daemon=True, name="bench-latency"
        )
        self.thread.start()

    def call(self, coro: object) -> object:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(30)  # type: ignore[arg-type]

    def close(self) -> None:
        async def cancel_all() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        with contextlib.suppress(Exception):
            self.call(cancel_all())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


async def _pump(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    *,
    delay: float,
    not_before: float,
    log: Log | None,
    conn: str,
    direction: str,
) -> None:
    """Copy reader → writer, each chunk written ``delay`` after it was read (and no earlier
    than ``not_before``), in order, until EOF."""
    queue: asyncio.Queue[tuple[float, bytes] | None] = asyncio.Queue()

    async def write() -> None:
        while (item := await queue.get()) is not None:
            due, data = item
            wait = due - time.perf_counter()
            if wait > 0:
                await asyncio.sleep(wait)
            writer.write(data)
            with contextlib.suppress(ConnectionError):
                await writer.drain()
        with contextlib.suppress(OSError, RuntimeError):
            if writer.can_write_eof():
                writer.write_eof()

    task = asyncio.create_task(write())
    try:
        while data := await reader.read(CHUNK):
            now = time.perf_counter()
            due = max(now, not_before) + delay
            if log is not None:
                log.add(Chunk(conn, direction, now, due, len(data), data[:64]))
            queue.put_nowait((due, data))
    except (ConnectionError, OSError):
        pass
    finally:
        queue.put_nowait(None)
        with contextlib.suppress(ConnectionError, OSError):
            await task


async def _bridge(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    target: tuple[str, int],
    conn: str,
    *,
    delay: float,
    not_before: float,
    up_log: Log | None,
    down_log: Log | None,
) -> None:
    """Connect to ``target`` and pump both ways (:func:`_pump`; ``not_before``: the client's
    bytes only) until both sides end, then close both; a refused target closes the client."""
    try:
        up_reader, up_writer = await asyncio.open_connection(*target)
    except OSError:
        writer.close()
        return
    with contextlib.suppress(asyncio.CancelledError):  # the run is over
        await asyncio.gather(
            _pump(
                reader,
                up_writer,
                delay=delay,
                not_before=not_before,
                log=up_log,
                conn=conn,
                direction="up",
            ),
            _pump(
                up_reader,
                writer,
                delay=delay,
                not_before=0.0,
                log=down_log,
                conn=conn,
                direction="down",
            ),
        )
    for w in (writer, up_writer):
        with contextlib.suppress(OSError, RuntimeError):
            w.close()


class _Relay:
    """A server on ``127.0.0.1`` (in the run's loop) whose connections go on to ``target``;
    ``_handle`` says how."""

    def __init__(
        self,
        runner: _Loop,
        name: str,
        target: tuple[str, int],
        log: Log,
        listen_port: int = 0,
        context: ssl.SSLContext | None = None,
    ) -> None:
        self.runner, self.name, self.target, self.log = runner, name, target, log
        self._count = 0
        self._server: asyncio.Server | None = None
        self._listen_port = listen_port
        self.context = context

    def _next_conn(self) -> str:
        self._count += 1
        return f"{self.name}#{self._count}"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raise NotImplementedError

    async def _start(self) -> int:
        self._server = await asyncio.start_server(
            self._handle, "127.0.0.1", self._listen_port, ssl=self.context
        )
        return int(self._server.sockets[0].getsockname()[1])

    def start(self) -> int:
        port = self.runner.call(self._start())
        assert isinstance(port, int)
        self.port = port
        return port

    async def _stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def stop(self) -> None:
        self.runner.call(self._stop())


class DelayProxy(_Relay):
    """``127.0.0.1:listen_port`` → ``target``, with ``rtt`` seconds of round-trip time."""

    def __init__(
        self, runner: _Loop, name: str, target: tuple[str, int], log: Log, listen_port: int = 0
    ) -> None:
        super().__init__(runner, name, target, log, listen_port)
        self.rtt = 0.0

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted = time.perf_counter()
        conn = self._next_conn()
        self.log.open(conn, accepted)
        rtt = self.rtt
        await _bridge(
            reader,
            writer,
            self.target,
            conn,
            delay=rtt / 2,
            not_before=accepted + rtt,
            up_log=self.log,
            down_log=self.log,
        )


class TlsTerminator(_Relay):
    """TLS on a loopback port → plaintext to ``target`` (no delay; logs request lines)."""

    def __init__(
        self, runner: _Loop, name: str, target: tuple[str, int], context: ssl.SSLContext, log: Log
    ) -> None:
        super().__init__(runner, name, target, log, context=context)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _bridge(
            reader,
            writer,
            self.target,
            self._next_conn(),
            delay=0.0,
            not_before=0.0,
            up_log=self.log,
            down_log=None,
        )


@contextlib.contextmanager
def loop() -> Iterator[_Loop]:
    runner = _Loop()
    try:
        yield runner
    finally:
        runner.close()


_METHODS = (b"GET ", b"POST ", b"PUT ", b"DELETE ", b"HEAD ", b"PATCH ", b"OPTIONS ")


def analyse(
    opened: dict[str, float], chunks: list[Chunk], rtt: float, plain: list[Chunk] | None = None
) -> dict[str, object]:
    """Counts for one run (see the module docstring). ``plain``: the terminators' chunks,
    where HTTP request lines are visible (the proxies see only TLS)."""
    by_conn: dict[str, list[Chunk]] = {}
    for chunk in sorted(chunks, key=lambda c: c.received):
        by_conn.setdefault(chunk.conn, []).append(chunk)
    waits: list[tuple[float, float]] = []
    tls = 0
    exchanges = 0
    for conn, started in opened.items():
        items = by_conn.get(conn, [])
        ups = [c for c in items if c.direction == "up"]
        if ups and ups[0].head[:1] == b"\x16":
            tls += 1
        waits.append((started, started + rtt))  # TCP setup: one round trip
        exchanges += 1
        sent: float | None = None
        last = "down"
        for chunk in items:
            if chunk.direction == "up" and last == "down":
                sent = chunk.delivered - rtt / 2  # when the client sent it (on a real wire)
            elif chunk.direction == "down" and last == "up" and sent is not None:
                waits.append((sent, chunk.delivered))
                exchanges += 1
            last = chunk.direction
    union = 0.0
    end = float("-inf")
    for start, stop in sorted(waits):
        if stop <= end:
            continue
        union += stop - max(start, end)
        end = stop
    requests = sum(1 for c in chunks if c.direction == "up" and c.head.startswith(_METHODS)) + sum(
        1 for c in (plain or []) if c.direction == "up" and c.head.startswith(_METHODS)
    )
    return {
        "connections": len(opened),
        "tls_handshakes": tls,
        "exchanges": exchanges,
        "sequential_round_trips": round(union / rtt) if rtt > 0 else None,
        "waiting_seconds": union,
        "plaintext_requests": requests,
    }
