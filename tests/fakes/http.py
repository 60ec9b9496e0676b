"""A small, reusable threaded HTTP server for test fakes.

``FakeHTTPServer`` binds 127.0.0.1 on an ephemeral port, serves HTTP/1.1 with keep-alive
from a daemon thread, and dispatches on method + path regex to handlers that take a
:class:`Request` and return a :class:`Response`::

    server = FakeHTTPServer()

    @server.route("GET", r"/things/(?P<id>\\d+)")
    def get_thing(req: Request) -> Response:
        return json_response({"id": req.params["id"]})

    with server:
        requests.get(server.url + "/things/7")
        assert server.count(path_prefix="/things") == 1

Routes registered later win over earlier ones (so a test can override a default route).
``fail()`` makes a path answer a canned error for the next N requests (or forever) before
any route sees it. Every request is kept in a thread-safe log (``requests``, ``count()``,
``find()``, ``reset_log()``). Exceptions raised by handlers become HTTP 500 answers and are
kept in ``errors`` so fixtures can fail a test that tripped a bug in the fake itself.
"""

from __future__ import annotations

import contextlib
import json as _json
import re
import socket
import socketserver
import ssl
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

__all__ = [
    "Failure",
    "FakeHTTPServer",
    "Handler",
    "LoopbackServer",
    "Request",
    "Response",
    "empty_response",
    "html_response",
    "json_response",
    "redirect",
    "text_response",
]

JSON_CONTENT_TYPE = "application/json;charset=UTF-8"
HTML_CONTENT_TYPE = "text/html;charset=utf-8"
TEXT_CONTENT_TYPE = "text/plain;charset=utf-8"


# --------------------------------------------------------------------------- requests


@dataclass
class Request:
    """One request as the server saw it (also the entry type of the request log)."""

    method: str
    path: str
    query: dict[str, str]
    """First value of each query parameter (``query_all`` has every value)."""
    query_all: dict[str, list[str]]
    headers: dict[str, str]
    """Header names as sent; use :meth:`header` for a case-insensitive lookup."""
    cookies: dict[str, str]
    body: bytes
    json: Any | None
    """The body parsed as JSON, or None when it is empty or not JSON."""
    raw_path: str
    """Path with query string, exactly as on the request line."""
    client: tuple[str, int] = ("", 0)
    """Client address and port (a reused keep-alive connection keeps its port)."""
    time: float = field(default_factory=time.time)
    params: dict[str, str] = field(default_factory=dict)
    """Named groups of the route regex that matched."""
    status: int | None = None
    """Status code of the answer (set once it is known; None for dropped connections)."""

    def header(self, name: str, default: str | None = None) -> str | None:
        lname = name.lower()
        for key, value in self.headers.items():
            if key.lower() == lname:
                return value
        return default

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    @property
    def json_or_error(self) -> Any:
        """The body parsed as JSON; raises ValueError when it is not valid JSON."""
        return _json.loads(self.body.decode("utf-8"))


# -------------------------------------------------------------------------- responses


@dataclass
class Response:
    """An answer. ``drop=True`` closes the connection without answering (a network error);
    ``delay`` waits that many seconds before answering (for client timeout tests)."""

    status: int = 200
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    drop: bool = False
    delay: float = 0.0

    def with_header(self, name: str, value: str) -> Self:
        self.headers.append((name, value))
        return self

    def with_headers(self, headers: Mapping[str, str] | Iterable[tuple[str, str]] | None) -> Self:
        if headers is None:
            return self
        items = headers.items() if isinstance(headers, Mapping) else headers
        for name, value in items:
            self.headers.append((name, str(value)))
        return self

    def set_cookie(
        self,
        name: str,
        value: str,
        *,
        path: str | None = "/",
        http_only: bool = True,
        secure: bool = False,
        max_age: int | None = None,
        expires: str | None = None,
        domain: str | None = None,
        same_site: str | None = None,
    ) -> Self:
        parts = [f"{name}={value}"]
        if path is not None:
            parts.append(f"Path={path}")
        if domain is not None:
            parts.append(f"Domain={domain}")
        if max_age is not None:
            parts.append(f"Max-Age={max_age}")
        if expires is not None:
            parts.append(f"Expires={expires}")
        if same_site is not None:
            parts.append(f"SameSite={same_site}")
        if http_only:
            parts.append("HttpOnly")
        if secure:
            parts.append("Secure")
        return self.with_header("Set-Cookie", "; ".join(parts))

    def get_header(self, name: str) -> str | None:
        lname = name.lower()
        for key, value in self.headers:
            if key.lower() == lname:
                return value
        return None


def _to_bytes(body: str | bytes) -> bytes:
    return body.encode("utf-8") if isinstance(body, str) else body


def json_response(
    data: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    body = _json.dumps(data).encode("utf-8")
    resp = Response(status, body, [("Content-Type", JSON_CONTENT_TYPE)])
    return resp.with_headers(headers)


def html_response(
    html: str | bytes, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    return Response(status, _to_bytes(html), [("Content-Type", HTML_CONTENT_TYPE)]).with_headers(
        headers
    )


def text_response(
    text: str | bytes,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
    content_type: str = TEXT_CONTENT_TYPE,
) -> Response:
    return Response(status, _to_bytes(text), [("Content-Type", content_type)]).with_headers(headers)


def redirect(
    location: str, status: int = 302, headers: Mapping[str, str] | None = None
) -> Response:
    return Response(status, b"", [("Location", location)]).with_headers(headers)


def empty_response(status: int = 204, headers: Mapping[str, str] | None = None) -> Response:
    return Response(status).with_headers(headers)


def body_response(
    body: Any,
    status: int,
    headers: Mapping[str, str] | None = None,
    content_type: str | None = None,
) -> Response:
    """A response from a loosely typed body: dict/list → JSON, str starting with ``<`` →
    HTML, other str/bytes → as given (text/plain unless ``content_type`` says otherwise)."""
    if isinstance(body, dict | list):
        resp = json_response(body, status)
    elif isinstance(body, str) and body.lstrip().startswith("<"):
        resp = html_response(body, status)
    elif isinstance(body, str | bytes):
        resp = text_response(body, status)
    else:
        raise TypeError(f"unsupported body type {type(body).__name__}")
    if content_type is not None:
        resp.headers = [(k, v) for k, v in resp.headers if k.lower() != "content-type"]
        resp.headers.insert(0, ("Content-Type", content_type))
    return resp.with_headers(headers)


# ---------------------------------------------------------------------------- routing

Handler = Callable[[Request], Response]


@dataclass
class _Route:
    methods: frozenset[str] | None  # None = any method
    pattern: re.Pattern[str]
    handler: Handler


@dataclass
class Failure:
    """A canned answer installed by :meth:`FakeHTTPServer.fail`.

    ``remaining`` is how many more requests it answers (None = forever); ``hits`` how many
    it has answered so far."""

    pattern: re.Pattern[str]
    methods: frozenset[str] | None
    response_factory: Callable[[Request], Response]
    remaining: int | None
    hits: int = 0

    @property
    def active(self) -> bool:
        return self.remaining is None or self.remaining > 0


def _methods(method: str | Iterable[str] | None) -> frozenset[str] | None:
    if method is None or method == "*":
        return None
    if isinstance(method, str):
        return frozenset({method.upper()})
    return frozenset(m.upper() for m in method)


# ----------------------------------------------------------------------------- server


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: LoopbackServer
    ssl_context: ssl.SSLContext | None = None

    def process_request(self, request: Any, client_address: Any) -> None:
        self.owner._track(request, add=True)  # from its accept ...
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        self.owner._track(request, add=False)  # ... to its close
        super().shutdown_request(request)

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, addr = super().get_request()
        if self.ssl_context is not None:
            # The handshake runs on the first read, in the connection's own thread.
            sock = self.ssl_context.wrap_socket(
                sock, server_side=True, do_handshake_on_connect=False
            )
        return sock, addr


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeHTTP/1.0"
    sys_version = ""
    timeout = 30  # idle keep-alive connections give up after this
    server: _Server

    # Buffer writes so headers and body leave in one segment; with TCP_NODELAY this avoids
    # the ~40 ms Nagle/delayed-ACK stall per request on loopback.
    wbufsize = 1 << 16
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size_line = self.rfile.readline()
                size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _dispatch(self) -> None:
        owner = self.server.owner
        assert isinstance(owner, FakeHTTPServer)
        body = self._read_body()
        split = urlsplit(self.path)
        query_all = parse_qs(split.query, keep_blank_values=True)
        parsed_json: Any | None = None
        if body:
            try:
                parsed_json = _json.loads(body.decode("utf-8"))
            except (ValueError, UnicodeDecodeError):
                parsed_json = None
        request = Request(
            method=self.command.upper(),
            path=split.path,
            query={k: v[0] for k, v in query_all.items()},
            query_all=query_all,
            headers=dict(self.headers.items()),
            cookies=_parse_cookies(self.headers.get_all("Cookie") or []),
            body=body,
            json=parsed_json,
            raw_path=self.path,
            client=(str(self.client_address[0]), int(self.client_address[1])),
        )
        response = owner._respond(request)
        request.status = None if response.drop else response.status
        owner._log(request)
        if response.delay > 0:
            time.sleep(response.delay)
        if response.drop:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        self._write(response)

    def _write(self, response: Response) -> None:
        self.send_response(response.status)
        has_body = response.status >= 200 and response.status not in (204, 304)
        for name, value in response.headers:
            if name.lower() == "content-length":
                continue
            if name.lower() == "connection" and value.lower() == "close":
                self.close_connection = True
            self.send_header(name, value)
        if has_body:
            self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if has_body and self.command != "HEAD":
            self.wfile.write(response.body)
        self.wfile.flush()

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _dispatch


def _parse_cookies(values: list[str]) -> dict[str, str]:
    cookies: dict[str, str] = {}
    for value in values:
        for part in value.split(";"):
            name, sep, val = part.strip().partition("=")
            if sep and name:
                cookies[name] = val.strip().strip('"')
    return cookies


class LoopbackServer:
    """A threaded TCP server on ``host``/``port`` (default 127.0.0.1 on an ephemeral port),
    HTTPS with ``ssl_context`` (a server-side :class:`ssl.SSLContext` with its certificate
    loaded), serving each connection with ``handler`` in a daemon thread of its own: the
    lifecycle (``start``/``stop``, a context manager, ``port``/``url``) that
    :class:`FakeHTTPServer` and ``tests.fakes.hostile`` share. All three are attributes that
    may be set before ``start()``; ``url`` names ``host`` and leaves out the scheme's default
    port. ``stop()`` also shuts down the connections still open."""

    handler: type[socketserver.BaseRequestHandler]

    def __init__(
        self, *, host: str = "127.0.0.1", port: int = 0, ssl_context: ssl.SSLContext | None = None
    ):
        self.host = host
        self.bind_port = port
        self.ssl_context = ssl_context
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle

    def start(self) -> Self:
        if self._server is not None:
            return self
        server = _Server((self.host, self.bind_port), self.handler)
        server.owner = self
        server.ssl_context = self.ssl_context
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name=f"{type(self).__name__}:{server.server_address[1]}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None:
            return
        server.shutdown()
        server.server_close()
        with self._lock:
            conns = list(self._connections)
        for conn in conns:  # close idle keep-alive connections so their threads end
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        if thread is not None:
            thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError(f"{type(self).__name__} is not started")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` (no trailing slash); only once started. With
        ``ssl_context``: ``https://HOST`` (``:PORT`` unless it is 443)."""
        scheme, default = ("https", 443) if self.ssl_context is not None else ("http", 80)
        port = self.port
        return f"{scheme}://{self.host}" + ("" if port == default else f":{port}")

    def _track(self, conn: socket.socket, *, add: bool) -> None:
        with self._lock:
            if add:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)


class FakeHTTPServer(LoopbackServer):
    """A threaded HTTP/1.1 server on 127.0.0.1 with routes, failures and a request log.

    ``routes`` is an optional table of ``(method, path_regex, handler)``; ``method`` may be
    a string, several methods, or ``"*"``/None for any. Path regexes are full-matched
    against the path without its query string. ``host``, ``port`` and ``ssl_context``: see
    :class:`LoopbackServer`."""

    handler = _RequestHandler

    def __init__(
        self,
        routes: Iterable[tuple[str | Iterable[str] | None, str, Handler]] = (),
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        ssl_context: ssl.SSLContext | None = None,
    ):
        super().__init__(host=host, port=port, ssl_context=ssl_context)
        self._routes: list[_Route] = []
        self._failures: list[Failure] = []
        self._slow: list[tuple[re.Pattern[str], float]] = []
        self._log_entries: list[Request] = []
        self.errors: list[BaseException] = []
        """Exceptions raised by handlers (each also answered as HTTP 500)."""
        for method, pattern, handler in routes:
            self.add_route(method, pattern, handler)

    # -- routes

    def add_route(self, method: str | Iterable[str] | None, pattern: str, handler: Handler) -> None:
        route = _Route(_methods(method), re.compile(pattern), handler)
        with self._lock:
            self._routes.append(route)

    def route(
        self, method: str | Iterable[str] | None, pattern: str
    ) -> Callable[[Handler], Handler]:
        def decorator(handler: Handler) -> Handler:
            self.add_route(method, pattern, handler)
            return handler

        return decorator

    # -- failures

    def fail(
        self,
        path_regex: str,
        status: int = 500,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        times: int | None = None,
        *,
        method: str | Iterable[str] | None = None,
        content_type: str | None = None,
        drop: bool = False,
        delay: float = 0.0,
    ) -> Failure:
        """Answer requests whose path full-matches ``path_regex`` with ``status``/``body``.

        ``body``: dict/list → JSON; str starting with ``<`` → HTML; other str/bytes → as
        given (set ``content_type`` to lie, e.g. HTML labelled JSON); None → the server's
        default error body for the status (see :meth:`default_error`). ``times``: only the
        next N matching requests; None = until :meth:`clear_failures`. ``drop``: close the
        connection without answering. Later failures are checked before earlier ones."""

        def factory(request: Request) -> Response:
            if body is None:
                resp = self.default_error(request, status)
                if content_type is not None:
                    resp.headers = [(k, v) for k, v in resp.headers if k.lower() != "content-type"]
                    resp.headers.insert(0, ("Content-Type", content_type))
                resp.with_headers(headers)
            else:
                resp = body_response(body, status, headers, content_type)
            resp.drop = drop
            resp.delay = delay
            return resp

        failure = Failure(re.compile(path_regex), _methods(method), factory, times)
        with self._lock:
            self._failures.append(failure)
        return failure

    def clear_failures(self) -> None:
        with self._lock:
            self._failures.clear()
            self._slow.clear()

    def default_error(self, request: Request, status: int) -> Response:
        """The body ``fail()`` uses when given none; subclasses make it look like their
        service's errors."""
        return text_response(f"{status} error from {type(self).__name__}\n", status)

    def not_found(self, request: Request) -> Response:
        return text_response(f"no route for {request.method} {request.path}\n", 404)

    # -- request log

    @property
    def requests(self) -> list[Request]:
        """A snapshot of the request log, oldest first."""
        with self._lock:
            return list(self._log_entries)

    def reset_log(self) -> None:
        with self._lock:
            self._log_entries.clear()

    def find(
        self,
        *,
        method: str | None = None,
        path: str | None = None,
        path_prefix: str | None = None,
        path_regex: str | None = None,
    ) -> list[Request]:
        """Logged requests matching every given criterion (``path`` is exact)."""
        pattern = re.compile(path_regex) if path_regex is not None else None
        return [
            r
            for r in self.requests
            if (method is None or r.method == method.upper())
            and (path is None or r.path == path)
            and (path_prefix is None or r.path.startswith(path_prefix))
            and (pattern is None or pattern.fullmatch(r.path))
        ]

    def count(
        self,
        *,
        method: str | None = None,
        path: str | None = None,
        path_prefix: str | None = None,
        path_regex: str | None = None,
    ) -> int:
        return len(
            self.find(method=method, path=path, path_prefix=path_prefix, path_regex=path_regex)
        )

    def last(self, **criteria: str | None) -> Request:
        found = self.find(**criteria)
        if not found:
            raise LookupError(f"no logged request matches {criteria}")
        return found[-1]

    # -- internals

    def _log(self, request: Request) -> None:
        with self._lock:
            self._log_entries.append(request)

    def _respond(self, request: Request) -> Response:
        try:
            failure = self._take_failure(request)
            if failure is not None:
                return failure.response_factory(request)
            response = self.handle(request)
        except Exception as exc:
            self.errors.append(exc)
            return text_response("".join(traceback.format_exception(exc)), 500)
        with self._lock:
            late = [s for pattern, s in self._slow if pattern.fullmatch(request.path)]
        response.delay = max([response.delay, *late])
        return response

    def slow(self, path_regex: str, seconds: float) -> None:
        """Answer requests whose path full-matches ``path_regex`` as usual, but ``seconds``
        late (a slow network; :meth:`clear_failures` ends it)."""
        with self._lock:
            self._slow.append((re.compile(path_regex), seconds))

    def _take_failure(self, request: Request) -> Failure | None:
        with self._lock:
            for failure in reversed(self._failures):
                if not failure.active:
                    continue
                if failure.methods is not None and request.method not in failure.methods:
                    continue
                if not failure.pattern.fullmatch(request.path):
                    continue
                if failure.remaining is not None:
                    failure.remaining -= 1
                failure.hits += 1
                return failure
        return None

    def handle(self, request: Request) -> Response:
        """Route the request: the most recently registered matching route wins; a path
        that matches only with another method gets 405."""
        with self._lock:
            routes = list(reversed(self._routes))
        path_matched = False
        for route in routes:
            match = route.pattern.fullmatch(request.path)
            if match is None:
                continue
            path_matched = True
            if route.methods is not None and request.method not in route.methods:
                continue
            request.params = {k: v for k, v in match.groupdict().items() if v is not None}
            return route.handler(request)
        if path_matched:
            return text_response(f"method {request.method} not allowed\n", 405)
        return self.not_found(request)
