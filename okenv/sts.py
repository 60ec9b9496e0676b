"""Exchange a SAML assertion for AWS credentials with STS AssumeRoleWithSAML.

The only module that imports boto3/botocore; import it lazily (only the login path needs
it, and botocore is slow to import). The call is unsigned, so the client never looks
for credentials (no IMDS probe, no credential_process), and it is built on a botocore
session that ignores AWS_PROFILE / AWS_DEFAULT_PROFILE, so a profile that does not exist
cannot break it. Each call has an overall deadline (the profile's ``timeout``, both attempts
included) and each answer a size cap (:mod:`okenv.limits`); the credentials are checked
once, here, before anything writes them anywhere. The endpoint is botocore's own
resolution: AWS_ENDPOINT_URL_STS and AWS_ENDPOINT_URL redirect it.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import ssl
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import botocore
import botocore.config
import botocore.exceptions
import botocore.parsers
import botocore.session

from okenv.config import CHAINED_MAX
from okenv.credentials import Credentials
from okenv.errors import (
    AuthorizationError,
    DurationTooLongError,
    NetworkError,
    OkenvError,
    StsError,
)
from okenv.limits import MAX_STS, Expired, deadline, too_large
from okenv.partitions import default_region
from okenv.saml import Role, SamlAssertion

if TYPE_CHECKING:
    from mypy_boto3_sts import STSClient

if TYPE_CHECKING:
    pass

__all__ = ["assume_role", "assume_role_with_saml", "sts_client"]

CONNECT_TIMEOUT = 5
READ_TIMEOUT = 15
MAX_ATTEMPTS = 2
MAX_SESSION_DURATION_MESSAGE = "exceeds the MaxSessionDuration"
NETWORK_HINT = "check your network connection, proxy settings and AWS_ENDPOINT_URL_STS"

_NETWORK_ERRORS: tuple[type[Exception], ...] = (
    botocore.exceptions.EndpointConnectionError,  # includes ConnectionRefused-like errors
    botocore.exceptions.ConnectionError,  # ConnectTimeout, ProxyConnection, SSL, ...
    botocore.exceptions.ReadTimeoutError,
    botocore.exceptions.ConnectionClosedError,
    Expired,  # okenv's own deadline for the whole call
)


@functools.cache
def _session() -> botocore.session.Session:
    # One session per process, so its loaders parse botocore's JSON data once.
    # Resolve the profile from nowhere: neither AWS_PROFILE nor AWS_DEFAULT_PROFILE is read,
    # so the config file's [default] section (or nothing) applies and ProfileNotFound cannot
    # happen. Everything else (endpoint URLs, CA bundle, proxies) resolves as usual.
    return botocore.session.Session(session_vars={"profile": (None, None, None, None)})


# One unsigned client (and so one connection pool) per endpoint region and timeout for the
# whole run: the worker builds it and opens its TCP + TLS connection while Okta answers, and
# every STS call of the login — the first hop, a step-down retry, the chained hop — goes out
# on that same connection.
_CLIENTS: dict[tuple[object, ...], Any] = {}
_ENDPOINT_VARIABLES = ("AWS_", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "REQUESTS_CA_BUNDLE")


def _run_client(region: str, timeout: float | None) -> Any:
    # Keyed by what decides the endpoint and the connection too (AWS_ENDPOINT_URL_STS, the
    # CA bundle, proxies), so a changed environment never gets a stale client.
    settings = tuple(
        sorted((k, v) for k, v in os.environ.items() if k.upper().startswith(_ENDPOINT_VARIABLES))
    )
    key = (region, timeout, settings)
    client = _CLIENTS.get(key)
    if client is None:
        client = _CLIENTS[key] = sts_client(region, timeout=timeout)
    return client


def warm_up(region: str = "us-east-1", timeout: float | None = None) -> None:
    """Build the run's STS client for ``region`` and open its connection (okenv.worker runs
    this while Okta answers, so STS's TCP and TLS round trips are off the critical path)."""
    _preconnect(_run_client(region, timeout))


def _preconnect(client: Any) -> None:
    """Open one verified connection to the client's endpoint, kept aside until the client's
    first request (:func:`_hand_over`). botocore has no public call for this; these are the
    steps of its own ``URLLib3Session.send`` up to the request. Through a proxy it does
    nothing (the proxy's own connection rules apply)."""
    session = client._endpoint.http_session
    url = client.meta.endpoint_url
    if session._proxy_config.proxy_url_for(url):
        return
    pool = session._get_connection_manager(url, None).connection_from_url(url)
    session._setup_ssl_cert(pool, url, session._verify)
    conn = pool._get_conn()
    try:
        with deadline(client.meta.config.connect_timeout):
            conn.connect()
    except BaseException:
        conn.close()
        raise
    _WAITING[id(client)] = (pool, conn)


_WAITING: dict[int, tuple[Any, Any]] = {}


def _hand_over(client: Any) -> None:
    """Put the connection :func:`_preconnect` opened into the client's pool, once settled.

    A TLS 1.3 server sends its session tickets after the handshake; urllib3 takes a pooled
    connection with unread bytes for a dropped one and opens another (two round trips
    lost). So read them first: what TLS consumes itself leaves the connection as good as
    new; a close or any application data nobody asked for ends it."""
    waiting = _WAITING.pop(id(client), None)
    if waiting is None:
        return
    pool, conn = waiting
    sock = conn.sock
    if sock is None:
        return
    timeout = sock.gettimeout()
    settled = False
    try:
        sock.setblocking(False)
        try:
            sock.recv(65536)  # b"" (closed) or bytes (unasked for): not reusable
        except (ssl.SSLWantReadError, BlockingIOError):
            settled = True
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            sock.settimeout(timeout)
    if settled:
        pool._put_conn(conn)
    else:
        conn.close()


def sts_client(
    region: str, credentials: Credentials | None = None, timeout: float | None = None
) -> STSClient:
    """An STS client for ``region`` with short timeouts and one retry.

    Unsigned without ``credentials``; with them, signed with exactly those keys (explicit
    keys: botocore never consults its credential chain, so no profile, IMDS probe or
    credential_process can stand in for them). ``timeout`` (the profile's, seconds) bounds
    the connect and each read; the default is :data:`READ_TIMEOUT`.
    """
    read_timeout = READ_TIMEOUT if timeout is None else timeout
    config = botocore.config.Config(
        signature_version=botocore.UNSIGNED if credentials is None else None,
        connect_timeout=min(CONNECT_TIMEOUT, read_timeout),
        read_timeout=read_timeout,
        retries={"mode": "standard", "total_max_attempts": MAX_ATTEMPTS},
    )
    try:
        client: STSClient = _session().create_client(  # type: ignore[assignment]
            "sts",
            region_name=region,
            config=config,
            aws_access_key_id=credentials.access_key_id if credentials else None,
            aws_secret_access_key=credentials.secret_access_key if credentials else None,
            aws_session_token=credentials.session_token if credentials else None,
        )
    except botocore.exceptions.BotoCoreError as exc:
        raise StsError(
            f"could not set up the AWS STS client: {exc}",
            hint="check AWS_CONFIG_FILE and the AWS_* environment variables",
        ) from None
    _cap_bodies(client)
    return client


class _CappedBody:
    """An urllib3 response whose ``stream()`` stops at :data:`MAX_STS` bytes (botocore reads
    an answer's body through it)."""

    def __init__(self, raw: Any, what: str) -> None:
        self._raw = raw
        self._what = what

    def stream(self, *args: Any, **kwargs: Any) -> Iterator[bytes]:
        total = 0
        for chunk in self._raw.stream(*args, **kwargs):
            total += len(chunk)
            if total > MAX_STS:
                self._raw.close()
                raise too_large(self._what, MAX_STS)
            yield chunk

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)


def _cap_bodies(client: Any) -> None:
    """botocore reads a whole body whatever its size, and offers no hook before it does:
    wrap its HTTP session's ``send`` so that every answer's body is read through a cap."""
    session = client._endpoint.http_session
    send = session.send
    what = f"AWS STS at {client.meta.endpoint_url}"

    def capped_send(request: Any) -> Any:
        request.stream_output = True  # else send() reads the whole body before returning
        response = send(request)
        response.raw = _CappedBody(response.raw, what)
        return response

    session.send = capped_send


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _error_parts(exc: botocore.exceptions.ClientError) -> tuple[str, str, int | None]:
    """AWS's error code, its message on one line, and the HTTP status."""
    response: Any = exc.response
    error = response.get("Error", {}) or {}
    code = str(error.get("Code") or "").strip()
    message = " ".join(str(error.get("Message") or "").split())
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return code, message, status if isinstance(status, int) else None


def _other_error(subject: str, code: str, message: str, status: int | None) -> StsError:
    """What is left once the errors a user can act on are handled."""
    if status is not None and status >= 500 and not _looks_like_aws_code(code):
        return StsError(
            f"AWS STS answered unexpectedly (HTTP {status}) to {subject}",
            hint="AWS may be having trouble; try again later, or check AWS_ENDPOINT_URL_STS",
        )
    if not code:
        code = f"HTTP {status}" if status else "unknown error"
    return StsError(f"STS refused {subject}: {code}: {message or '(no message)'}")


def _client_error(
    exc: botocore.exceptions.ClientError, role: Role
) -> StsError | AuthorizationError:
    code, message, status = _error_parts(exc)
    if code == "AccessDenied":
        return AuthorizationError(
            f"STS denied {role.arn}: {message or 'access denied'}",
            hint=(
                f"check that the role's trust policy allows sts:AssumeRoleWithSAML from "
                f"{role.principal_arn}, and that this SAML provider exists in the account"
            ),
        )
    if code == "ValidationError" and MAX_SESSION_DURATION_MESSAGE in message:
        return DurationTooLongError(
            f"STS refused the session duration for {role.arn}: {message}",
            hint="ask for a shorter --duration (the role's MaxSessionDuration is lower)",
        )
    return _other_error(role.arn, code, message, status)


def _network_error(exc: Exception, client: Any) -> NetworkError:
    if isinstance(exc, (botocore.exceptions.ReadTimeoutError, Expired)):
        seconds = client.meta.config.read_timeout
        return NetworkError(
            f"AWS STS at {client.meta.endpoint_url} did not answer within {seconds:g} s",
            hint=NETWORK_HINT,
        )
    return NetworkError(f"could not reach AWS STS: {exc}", hint=NETWORK_HINT)


def _looks_like_aws_code(code: str) -> bool:
    """AWS error codes are CamelCase words; botocore invents the HTTP status for junk bodies."""
    return bool(code) and code[0].isalpha() and code.replace(".", "").isalnum()


def assume_role_with_saml(
    *,
    role: Role,
    assertion: SamlAssertion,
    duration: int,
    region: str | None,
    timeout: float | None = None,
) -> Credentials:
    """Call AssumeRoleWithSAML for ``role``; errors become okenv errors, never tracebacks."""
    endpoint_region = region or default_region(assertion.partition)
    client = _run_client(endpoint_region, timeout)
    _hand_over(client)
    response = _call(
        lambda: client.assume_role_with_saml(
            RoleArn=role.arn,
            PrincipalArn=role.principal_arn,
            SAMLAssertion=assertion.encoded,
            DurationSeconds=duration,
        ),
        client,
        lambda exc: _client_error(exc, role),
    )
    return _credentials(response, role.arn, region)


def _call(
    request: Callable[[], Any],
    client: Any,
    client_error: Callable[[botocore.exceptions.ClientError], OkenvError],
) -> Any:
    """Make one STS request (retry included) within the client's timeout, connect to last
    byte; every failure becomes an okenv error (never a traceback)."""
    try:
        with deadline(client.meta.config.read_timeout):
            return request()
    except botocore.exceptions.ClientError as exc:
        raise client_error(exc) from None
    except _NETWORK_ERRORS as exc:
        raise _network_error(exc, client) from None
    except botocore.parsers.ResponseParserError:
        raise _unreadable() from None
    except botocore.exceptions.BotoCoreError as exc:
        raise StsError(f"AWS STS call failed: {exc}") from None


def _unreadable() -> StsError:
    return StsError(
        "AWS STS answered something okenv cannot read",
        hint="check AWS_ENDPOINT_URL_STS and any proxy in between; try again later",
    )


# What AWS hands out (an access key id is upper-case letters and digits; the secret and the
# token are base64-like). Checked once, here: these values go into shell code, JSON and the
# AWS credentials file, where a line break or a control character would be an injection.
_ACCESS_KEY_ID = re.compile(r"[A-Z0-9]{16,128}")
_SECRET = re.compile(r"[\x21-\x7e]{1,4096}")
_TOKEN = re.compile(r"[\x21-\x7e]{1,16384}")


def _credentials(response: Any, role_arn: str, region: str | None) -> Credentials:
    creds = response.get("Credentials") if isinstance(response, dict) else None
    if not isinstance(creds, dict):
        raise _unreadable()
    values = (creds.get("AccessKeyId"), creds.get("SecretAccessKey"), creds.get("SessionToken"))
    expiration = creds.get("Expiration")
    if not all(isinstance(v, str) for v in values) or not isinstance(expiration, datetime):
        raise _unreadable()
    key, secret, token = (str(v) for v in values)
    if not (
        _ACCESS_KEY_ID.fullmatch(key) and _SECRET.fullmatch(secret) and _TOKEN.fullmatch(token)
    ):
        raise StsError(
            "AWS STS returned a malformed credential",
            hint="okenv refuses keys with spaces, line breaks or control characters; "
            "check AWS_ENDPOINT_URL_STS and any proxy in between",
        )
    return Credentials(
        access_key_id=key,
        secret_access_key=secret,
        session_token=token,
        expiration=_utc(expiration),
        role_arn=role_arn,
        region=region,
    )


def _chain_error(
    exc: botocore.exceptions.ClientError, role_arn: str, source: Credentials, external_id: bool
) -> StsError | AuthorizationError:
    code, message, status = _error_parts(exc)
    hop = f"role chaining from {source.role_arn} to {role_arn}"
    if code == "AccessDenied":
        return AuthorizationError(
            f"STS denied {hop}: {message or 'access denied'}",
            hint=f"check that the trust policy of {role_arn} allows sts:AssumeRole from "
            f"{source.role_arn}"
            + (" with this external_id" if external_id else "")
            + ", and that the first role may call sts:AssumeRole on it",
        )
    if code == "ValidationError" and "DurationSeconds" in message:
        return StsError(
            f"STS refused the session duration for {hop}: {message}",
            hint="chained sessions last at most 1h; ask for --duration 1h or less",
        )
    return _other_error(hop, code, message, status)


def assume_role(
    *,
    source: Credentials,
    role_arn: str,
    session_name: str,
    duration: int,
    region: str | None,
    endpoint_region: str,
    external_id: str | None = None,
    timeout: float | None = None,
) -> Credentials:
    """The second hop of role chaining: ``sts:AssumeRole`` signed with ``source``'s keys.

    ``duration`` is capped at 1 hour (AWS's limit for chained sessions); ``region`` is what
    the credentials carry for export, ``endpoint_region`` picks the STS endpoint.
    """
    client: Any = sts_client(endpoint_region, credentials=source, timeout=timeout)
    # Signed with its own keys, sent on the first hop's connection (no second TCP + TLS).
    client._endpoint.http_session = _run_client(endpoint_region, timeout)._endpoint.http_session
    params: dict[str, Any] = {
        "RoleArn": role_arn,
        "RoleSessionName": session_name,
        "DurationSeconds": min(duration, CHAINED_MAX),
    }
    if external_id:
        params["ExternalId"] = external_id
    response = _call(
        lambda: client.assume_role(**params),
        client,
        lambda exc: _chain_error(exc, role_arn, source, bool(external_id)),
    )
    return _credentials(response, role_arn, region)
