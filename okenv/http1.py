"""Just enough HTTP/1.1 for okenv's loopback credential server (okenv.server): one request
head read under a size cap and one deadline, parsed by the standard library's header
parser, and one answer with ``Connection: close``. No bodies either way but the answer's.
"""

from __future__ import annotations

import http.client
import io
import json
import socket
import time
from typing import NamedTuple

__all__ = [
    "MAX_REQUEST",
    "REQUEST_DEADLINE",
    "Request",
    "Response",
    "json_response",
    "parse_head",
    "read_head",
    "send",
    "text_response",
]

MAX_REQUEST = 8 * 1024  # bytes of request line and headers (an SDK sends ~300)
REQUEST_DEADLINE = 5.0  # seconds for a whole request: read, answer, close

Response = tuple[int, str, bytes, dict[str, str]]  # status, type, body, extra headers
_REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden"}
_REASONS |= {404: "Not Found", 405: "Method Not Allowed", 503: "Service Unavailable"}


class Request(NamedTuple):
    method: str
    target: str
    headers: http.client.HTTPMessage


def json_response(status: int, document: dict[str, object]) -> Response:
    return status, "application/json", json.dumps(document).encode(), {}


def text_response(status: int, text: str) -> Response:
    return status, "text/plain", text.encode(), {}


def read_head(conn: socket.socket, deadline: float) -> bytes | None:
    """The request line and headers (without the blank line), or None: too big, too slow."""
    data = b""
    while b"\r\n\r\n" not in data:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or len(data) > MAX_REQUEST:
            return None
        conn.settimeout(remaining)
        try:
            chunk = conn.recv(4096)
        except TimeoutError:
            return None
        if not chunk:
            return None
        data += chunk
    head = data.split(b"\r\n\r\n", 1)[0]
    return head if len(head) <= MAX_REQUEST else None


def parse_head(head: bytes) -> Request | Response:
    """The request, or the 400 that answers a malformed one."""
    line, _, rest = head.partition(b"\r\n")
    parts = line.decode("latin-1").split(" ")
    if len(parts) != 3 or parts[2] not in ("HTTP/1.1", "HTTP/1.0"):
        return text_response(400, "bad request line")
    try:
        headers = http.client.parse_headers(io.BytesIO(rest))
    except http.client.HTTPException:
        return text_response(400, "bad headers")
    return Request(parts[0], parts[1], headers)


def send(conn: socket.socket, response: Response, deadline: float) -> None:
    status, content_type, body, extra = response
    lines = [
        f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}",
        f"Content-Type: {content_type}",
        f"Content-Length: {len(body)}",
        "Connection: close",
        "Cache-Control: no-store",
        *(f"{name}: {value}" for name, value in extra.items()),
    ]
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        return
    conn.settimeout(remaining)
    conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
