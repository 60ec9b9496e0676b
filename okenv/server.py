"""``okenv exec --server``: a loopback endpoint the AWS SDKs poll for credentials that renew.

Two dialects, one server on ``127.0.0.1:<random port>``:

- **ECS container credentials** (the default): ``GET <AWS_CONTAINER_CREDENTIALS_FULL_URI>``
  with ``Authorization: <AWS_CONTAINER_AUTHORIZATION_TOKEN>`` answers
  ``{AccessKeyId, SecretAccessKey, Token, Expiration, RoleArn, AccountId}`` (what botocore's
  ``ContainerProvider`` and the other SDKs read). A wrong or missing token is a 403.
- **IMDSv2** (``imds=True``): ``PUT /latest/api/token`` with
  ``X-aws-ec2-metadata-token-ttl-seconds`` (1..21600) gives a session token; ``GET
  /latest/meta-data/iam/security-credentials/`` (the role name) and ``…/<role name>`` (the
  credentials, as EC2 shapes them) need ``X-aws-ec2-metadata-token``. IMDSv1 (no token) is a
  401, like an instance that requires IMDSv2; a ``PUT`` through a proxy
  (``X-Forwarded-For``) is a 403, like EC2's.

Every request must come from a loopback peer and name this server in ``Host``
(``127.0.0.1:PORT`` or ``localhost:PORT``: a web page that rebinds its name to 127.0.0.1
cannot read it); it is read under a size cap and one deadline, and answered with
``Connection: close``.

Renewal runs on its own thread, :data:`MARGIN` (the cache's 5 minutes) before expiry,
through ``renew(interactive)``: first without a prompt; if that raises
:class:`~okenv.errors.NoInputError` and ``may_prompt()`` says the terminal is free, once more
with prompts. When it cannot renew, the server keeps serving the current credentials, says
so once on stderr, retries every ``retry_interval`` seconds (so ``okenv login PROFILE`` in
another terminal is picked up from the cache), and once they have expired answers an error
body that the SDK shows.
"""

from __future__ import annotations

import contextlib
import hmac
import http.client
import ipaddress
import secrets
import select
import signal
import socket
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Self

from okenv.cache import MIN_REMAINING
from okenv.credentials import Credentials, rfc3339
from okenv.env import credentials_env
from okenv.errors import NoInputError, OkenvError
from okenv.http1 import (
    REQUEST_DEADLINE,
    Request,
    Response,
    json_response,
    parse_head,
    read_head,
    send,
    text_response,
)
from okenv.report import notify

__all__ = ["MARGIN", "RETRY_INTERVAL", "CredentialServer", "Renew"]

MARGIN = MIN_REMAINING  # renew this many seconds before expiry, as the cache does
RETRY_INTERVAL = 30.0  # seconds between renewal attempts that fail
MAX_CONNECTIONS = 16  # served at once; more are closed at once
MAX_TOKENS = 1024  # live IMDSv2 session tokens
IMDS_MAX_TTL = 21600
ECS_PATH = "/credentials"
IMDS_TOKEN_PATH = "/latest/api/token"  # noqa: S105 - a path, not a secret
IMDS_CREDENTIALS_PATH = "/latest/meta-data/iam/security-credentials/"

Renew = Callable[[bool], Credentials]
"""``renew(interactive)``: fresh credentials, or an :class:`~okenv.errors.OkenvError`
(:class:`~okenv.errors.NoInputError` when only a prompt could get them)."""


def _clock_time(moment: float) -> str:
    return time.strftime("%H:%M:%S UTC", time.gmtime(moment))


def _account(role_arn: str) -> str | None:
    parts = role_arn.split(":")
    return parts[4] if len(parts) > 5 and len(parts[4]) == 12 and parts[4].isdigit() else None


def role_name(role_arn: str) -> str:
    """The last path segment of a role ARN: IMDS's name for the instance profile role."""
    return role_arn.rsplit("/", 1)[-1] or "okenv"


class CredentialServer:
    """Serve ``creds`` (then their renewals) on loopback until :meth:`stop`."""

    def __init__(
        self,
        creds: Credentials,
        renew: Renew,
        *,
        profile: str,
        imds: bool = False,
        margin: float = MARGIN,
        retry_interval: float = RETRY_INTERVAL,
        request_deadline: float = REQUEST_DEADLINE,
        may_prompt: Callable[[], bool] = lambda: False,
    ) -> None:
        self.profile = profile
        self.imds = imds
        self.token = secrets.token_urlsafe(32)  # 32 random bytes
        self._creds = creds
        self._renew = renew
        self._margin = margin
        self._retry_interval = retry_interval
        self._deadline = request_deadline
        self._may_prompt = may_prompt
        self._failure: str | None = None  # why the last renewal failed, None after a success
        self._not_before = 0.0  # no renewal attempt before this time
        self._imds_tokens: dict[str, tuple[float, str]] = {}  # token → (expiry, peer address)
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        self._listener: socket.socket | None = None
        self._wake: tuple[socket.socket, socket.socket] | None = None
        self._threads: list[threading.Thread] = []

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._listener is None:
            raise RuntimeError("the credential server is not started")
        return int(self._listener.getsockname()[1])

    @property
    def url(self) -> str:
        """The ECS full URI, or the IMDS endpoint (``--imds``)."""
        return f"http://127.0.0.1:{self.port}" + ("/" if self.imds else ECS_PATH)

    @property
    def credentials(self) -> Credentials:
        with self._lock:
            return self._creds

    def start(self) -> Self:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            listener.bind(("127.0.0.1", 0))
            listener.listen(MAX_CONNECTIONS)
        except OSError:
            listener.close()
            raise
        self._listener = listener
        self._wake = socket.socketpair()
        for target, name in ((self._serve, "okenv-server"), (self._renewals, "okenv-renew")):
            thread = threading.Thread(target=_unsignalled(target), name=name, daemon=True)
            self._threads.append(thread)
            thread.start()
        return self

    def stop(self) -> None:
        """Close the port and end the threads (a request being answered finishes first)."""
        self._stopped.set()
        if self._wake is not None:
            with contextlib.suppress(OSError):
                self._wake[1].send(b"x")
        for thread in self._threads:
            thread.join(timeout=self._deadline + 1)
        self._threads.clear()
        for sock in (self._listener, *(self._wake or ())):
            if sock is not None:
                sock.close()
        self._listener = self._wake = None

    def child_changes(self) -> dict[str, str | None]:
        """The environment changes for the command: where to ask, and no static keys."""
        changes = credentials_env(self.profile, self.credentials)
        static = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
        for name in (*static, "AWS_CREDENTIAL_EXPIRATION", "OKENV_EXPIRES_AT"):
            changes[name] = None
        # Whatever would win over (or switch off) the endpoint the command is given:
        # botocore prefers the relative URI and the token file to the full URI and token.
        for name in (
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
            "AWS_CONTAINER_AUTHORIZATION_TOKEN",
            "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
            "AWS_EC2_METADATA_DISABLED",
            "AWS_EC2_METADATA_SERVICE_ENDPOINT",
            "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE",
        ):
            changes[name] = None
        if self.imds:
            changes["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = self.url
        else:
            changes["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = self.url
            changes["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = self.token
        return changes

    # -- renewal ---------------------------------------------------------------------------

    def _renewals(self) -> None:
        while not self._stopped.is_set():
            with self._lock:
                due = self._creds.expiration.timestamp() - self._margin
            wait = max(due, self._not_before) - time.time()
            if wait > 0:
                # Look again at least every minute: the wall clock jumps (suspend, NTP).
                self._stopped.wait(min(wait, 60.0))
                continue
            self.renew_now()

    def renew_now(self) -> None:
        """One renewal attempt (the renewal thread's step; tests call it directly)."""
        self._not_before = time.time() + self._retry_interval
        try:
            try:
                fresh = self._renew(False)
            except NoInputError:
                if self._stopped.is_set() or not self._may_prompt():
                    raise
                fresh = self._renew(True)
        except OkenvError as exc:
            needs_prompt = isinstance(exc, NoInputError)
            self._failed("needs a prompt" if needs_prompt else exc.message, needs_prompt)
            return
        except Exception as exc:  # a bug: keep serving, name the type only (no secrets)
            self._failed(f"internal error ({type(exc).__name__})", False)
            return
        if fresh.expiration.timestamp() - self._margin > time.time():
            self._not_before = 0.0  # next when these are due (else after retry_interval)
        with self._lock:
            recovered = self._failure is not None
            self._creds, self._failure = fresh, None
        if recovered:
            until = _clock_time(fresh.expiration.timestamp())
            notify(f"renewed the credentials of {self.profile} (valid until {until})")

    def _failed(self, reason: str, needs_prompt: bool) -> None:
        with self._lock:
            first = self._failure is None
            self._failure = reason
            expiry = self._creds.expiration.timestamp()
        if not first:
            return
        if needs_prompt:
            problem = (
                f"renewing the credentials of {self.profile} needs a prompt and the command "
                "owns the terminal"
            )
        else:
            problem = f"cannot renew the credentials of {self.profile}: {reason}"
        if expiry > time.time():
            notify(f"{problem}; serving the current ones until {_clock_time(expiry)}")
        else:
            notify(problem)
        notify(f"run `okenv login {self.profile}` in another terminal: it is picked up")

    def _expired_message(self) -> str:
        """The error body's text once the credentials have expired."""
        with self._lock:
            reason, expiry = self._failure, self._creds.expiration.timestamp()
        what = f"okenv: the credentials of {self.profile} expired at {_clock_time(expiry)}"
        if reason is None:
            return f"{what} and are being renewed; try again"
        return f"{what} and renewing them failed ({reason}); run `okenv login {self.profile}`"

    # -- HTTP ------------------------------------------------------------------------------

    def _serve(self) -> None:
        assert self._listener is not None and self._wake is not None
        listener, wake = self._listener, self._wake[0]
        while not self._stopped.is_set():
            try:
                ready, _, _ = select.select([listener, wake], [], [])
            except OSError:
                return
            if wake in ready:
                return
            try:
                conn, peer = listener.accept()
            except OSError:
                continue
            if not self._slots.acquire(blocking=False):
                conn.close()
                continue
            threading.Thread(
                target=self._connection, args=(conn, peer[0]), name="okenv-request", daemon=True
            ).start()

    def _connection(self, conn: socket.socket, peer: str) -> None:
        deadline = time.monotonic() + self._deadline
        try:
            if not ipaddress.ip_address(peer).is_loopback:
                return
            head = read_head(conn, deadline)
            if head is None:
                return
            response = self.answer(head, peer)
            send(conn, response, deadline)
        except OSError:
            pass  # the client went away or ran out of time
        finally:
            conn.close()
            self._slots.release()

    def answer(self, head: bytes, peer: str) -> Response:
        """The response to one request head (request line and headers)."""
        request = parse_head(head)
        if not isinstance(request, Request):
            return request
        method, target, headers = request
        hosts = headers.get_all("Host") or []
        allowed = {f"127.0.0.1:{self.port}", f"localhost:{self.port}"}
        if len(hosts) != 1 or hosts[0].strip().lower() not in allowed:
            return text_response(403, "okenv: this endpoint answers only to Host 127.0.0.1:PORT")
        if headers.get("Transfer-Encoding") or headers.get("Content-Length", "0").strip() != "0":
            return text_response(400, "no request body is accepted")
        path = target.split("?", 1)[0]
        if self.imds:
            return self._imds(method, path, headers, peer)
        return self._ecs(method, path, headers)

    def _ecs(self, method: str, path: str, headers: http.client.HTTPMessage) -> Response:
        if path != ECS_PATH:
            return json_response(404, {"code": "NotFound", "message": "no such path"})
        if method != "GET":
            return json_response(405, {"code": "MethodNotAllowed", "message": "GET only"})
        given = headers.get_all("Authorization") or []
        if len(given) != 1 or not hmac.compare_digest(
            given[0].strip().encode(), self.token.encode()
        ):
            return json_response(
                403, {"code": "AccessDenied", "message": "wrong authorization token"}
            )
        creds = self.credentials
        if creds.remaining() <= 0:
            return json_response(
                503, {"code": "ExpiredCredentials", "message": self._expired_message()}
            )
        document: dict[str, object] = {
            "RoleArn": creds.role_arn,
            "AccessKeyId": creds.access_key_id,
            "SecretAccessKey": creds.secret_access_key,
            "Token": creds.session_token,
            "Expiration": rfc3339(creds.expiration),
        }
        account = _account(creds.role_arn)
        if account is not None:
            document["AccountId"] = account
        return json_response(200, document)

    def _imds(
        self, method: str, path: str, headers: http.client.HTTPMessage, peer: str
    ) -> Response:
        if path == IMDS_TOKEN_PATH:
            if method != "PUT":
                return text_response(405, "PUT only")
            return self._imds_token(headers, peer)
        if not path.startswith(IMDS_CREDENTIALS_PATH):
            return text_response(404, "Not Found")
        if method != "GET":
            return text_response(405, "GET only")
        token = headers.get("X-aws-ec2-metadata-token", "")
        with self._lock:
            now = time.monotonic()
            issued = self._imds_tokens.get(token)
            if issued is None or issued[0] <= now or issued[1] != peer:
                return text_response(401, "Unauthorized: an IMDSv2 session token is required")
            creds = self._creds
        name = role_name(creds.role_arn)
        rest = path[len(IMDS_CREDENTIALS_PATH) :]
        if rest == "":
            return text_response(200, name)
        if rest.rstrip("/") != name:
            return text_response(404, "Not Found")
        if creds.remaining() <= 0:
            message = self._expired_message()
            return json_response(200, {"Code": "ExpiredCredentials", "Message": message})
        return json_response(
            200,
            {
                "Code": "Success",
                "LastUpdated": rfc3339(datetime.now(UTC)),
                "Type": "AWS-HMAC",
                "AccessKeyId": creds.access_key_id,
                "SecretAccessKey": creds.secret_access_key,
                "Token": creds.session_token,
                "Expiration": rfc3339(creds.expiration),
            },
        )

    def _imds_token(self, headers: http.client.HTTPMessage, peer: str) -> Response:
        if headers.get("X-Forwarded-For") is not None:
            return text_response(403, "Forbidden")
        raw = headers.get("X-aws-ec2-metadata-token-ttl-seconds", "").strip()
        if not raw.isdigit() or not 1 <= int(raw) <= IMDS_MAX_TTL:
            return text_response(400, "Bad Request: X-aws-ec2-metadata-token-ttl-seconds 1..21600")
        token = secrets.token_urlsafe(32)
        now = time.monotonic()
        with self._lock:
            live = {k: v for k, v in self._imds_tokens.items() if v[0] > now}
            if len(live) >= MAX_TOKENS:  # drop the oldest
                live.pop(min(live, key=lambda k: live[k][0]))
            live[token] = (now + int(raw), peer)
            self._imds_tokens = live
        return 200, "text/plain", token.encode(), {"X-aws-ec2-metadata-token-ttl-seconds": raw}


def _unsignalled(target: Callable[[], None]) -> Callable[[], None]:
    """``target`` on a thread that takes no signal: they are the main thread's (the
    supervisor waits for them there)."""

    def run() -> None:
        if hasattr(signal, "pthread_sigmask"):
            signal.pthread_sigmask(signal.SIG_BLOCK, signal.valid_signals())
        target()

    return run
