"""The loopback credential server (okenv.server): its two dialects, its refusals, renewal.

Requests are real HTTP over 127.0.0.1 (raw sockets where a test needs a request no client
library would send); botocore's own ContainerProvider and InstanceMetadataFetcher read it.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from botocore.credentials import ContainerProvider
from botocore.utils import InstanceMetadataFetcher

from okenv import report
from okenv.credentials import Credentials, rfc3339
from okenv.errors import NetworkError, NoInputError
from okenv.http1 import MAX_REQUEST
from okenv.server import CredentialServer

ADMIN = "arn:aws:iam::123456789012:role/Admin"


def make_creds(seconds: float = 3600, key: str = "ASIAFIRST0000000000A") -> Credentials:
    return Credentials(
        access_key_id=key,
        secret_access_key="secret/" + key,
        session_token="token+" + key,
        expiration=datetime.now(UTC) + timedelta(seconds=seconds),
        role_arn=ADMIN,
        region="eu-west-1",
    )


def never(interactive: bool) -> Credentials:
    raise AssertionError("no renewal expected")


@pytest.fixture
def messages() -> Iterator[list[str]]:
    with report.captured(debug=False) as lines:  # what the server says on stderr
        yield lines


@pytest.fixture
def serve(messages: list[str]) -> Iterator[Callable[..., CredentialServer]]:
    started: list[CredentialServer] = []

    def start(
        creds: Credentials | None = None, renew: Callable[[bool], Credentials] = never, **options
    ) -> CredentialServer:
        server = CredentialServer(creds or make_creds(), renew, profile="prod", **options)
        started.append(server.start())
        return server

    yield start
    for server in started:
        server.stop()


def raw(port: int, head: str) -> tuple[int, dict[str, str], bytes]:
    """Send ``head`` (request line + headers, without the blank line); the parsed answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head.encode("latin-1") + b"\r\n\r\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    if not data:
        return 0, {}, b""
    top, _, body = data.partition(b"\r\n\r\n")
    lines = top.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split(" ")[1]), {k.lower(): v for k, v in headers.items()}, body


def get(server: CredentialServer, path: str, *extra: str, host: str | None = None) -> tuple:
    host = f"127.0.0.1:{server.port}" if host is None else host
    return raw(server.port, "\r\n".join([f"GET {path} HTTP/1.1", f"Host: {host}", *extra]))


def ecs(server: CredentialServer, *extra: str, host: str | None = None) -> tuple:
    return get(server, "/credentials", *extra, host=host)


def put_token(server: CredentialServer, *extra: str) -> tuple:
    head = [
        "PUT /latest/api/token HTTP/1.1",
        f"Host: 127.0.0.1:{server.port}",
        "Content-Length: 0",
        *extra,
    ]
    return raw(server.port, "\r\n".join(head))


# -- ECS container credentials ---------------------------------------------------------------


def test_ecs_answers_what_the_sdks_read(serve: Callable[..., CredentialServer]) -> None:
    creds = make_creds()
    server = serve(creds)
    status, headers, body = ecs(server, f"Authorization: {server.token}")
    assert status == 200
    assert headers["content-type"] == "application/json"
    assert headers["connection"] == "close"
    assert json.loads(body) == {
        "RoleArn": ADMIN,
        "AccessKeyId": creds.access_key_id,
        "SecretAccessKey": creds.secret_access_key,
        "Token": creds.session_token,
        "Expiration": rfc3339(creds.expiration),
        "AccountId": "123456789012",
    }


def test_token_is_32_random_bytes(serve: Callable[..., CredentialServer]) -> None:
    first, second = serve(), serve()
    assert len(first.token) >= 43  # 32 bytes, URL-safe base64
    assert first.token != second.token
    assert first.port != second.port


@pytest.mark.parametrize(
    "authorization",
    [None, "Authorization: wrong", "Authorization: ", "Authorization: {token}x", "twice"],
)
def test_wrong_or_missing_token_is_403(
    serve: Callable[..., CredentialServer], authorization: str | None
) -> None:
    server = serve()
    if authorization == "twice":
        extra = [f"Authorization: {server.token}", f"Authorization: {server.token}"]
    elif authorization is None:
        extra = []
    else:
        extra = [authorization.format(token=server.token)]
    status, _, body = ecs(server, *extra)
    assert status == 403
    assert b"AccessKeyId" not in body


@pytest.mark.parametrize(
    "host", ["evil.example:{port}", "127.0.0.1:1", "127.0.0.2:{port}", "127.0.0.1", ""]
)
def test_a_foreign_host_header_is_refused(
    serve: Callable[..., CredentialServer], host: str
) -> None:
    server = serve()
    status, _, body = ecs(
        server, f"Authorization: {server.token}", host=host.format(port=server.port)
    )
    assert status == 403
    assert b"AccessKeyId" not in body


def test_localhost_is_a_loopback_host(serve: Callable[..., CredentialServer]) -> None:
    server = serve()
    assert ecs(server, f"Authorization: {server.token}", host=f"LocalHost:{server.port}")[0] == 200


def test_no_host_header_http_1_0_is_refused(serve: Callable[..., CredentialServer]) -> None:
    server = serve()
    assert raw(server.port, f"GET /credentials HTTP/1.0\r\nAuthorization: {server.token}")[0] == 403


@pytest.mark.parametrize(
    ("head", "status"),
    [
        ("POST /credentials HTTP/1.1", 405),
        ("GET /other HTTP/1.1", 404),
        ("GET http://127.0.0.1/credentials HTTP/1.1", 404),
        ("GET /credentials HTTP/2.0", 400),
        ("GET /credentials", 400),
    ],
)
def test_other_requests_are_refused(
    serve: Callable[..., CredentialServer], head: str, status: int
) -> None:
    server = serve()
    extra = f"\r\nHost: 127.0.0.1:{server.port}\r\nAuthorization: {server.token}"
    assert raw(server.port, head + extra)[0] == status


def test_a_request_body_is_refused(serve: Callable[..., CredentialServer]) -> None:
    server = serve()
    assert ecs(server, f"Authorization: {server.token}", "Content-Length: 5")[0] == 400
    assert ecs(server, f"Authorization: {server.token}", "Transfer-Encoding: chunked")[0] == 400


def test_an_oversized_request_gets_no_answer(serve: Callable[..., CredentialServer]) -> None:
    server = serve()
    padding = "X-Pad: " + "a" * (MAX_REQUEST + 1)
    assert ecs(server, f"Authorization: {server.token}", padding) == (0, {}, b"")


def test_a_slow_client_is_cut_off_and_others_are_served(
    serve: Callable[..., CredentialServer],
) -> None:
    server = serve(request_deadline=1.0)
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as idle:
        idle.sendall(b"GET /credentials HTTP/1.1\r\n")  # and never the rest
        assert ecs(server, f"Authorization: {server.token}")[0] == 200  # served meanwhile
        started = time.monotonic()
        assert idle.recv(100) == b""  # closed by the server at its deadline
        assert time.monotonic() - started < 5


def test_botocore_container_provider_reads_it(serve: Callable[..., CredentialServer]) -> None:
    creds = make_creds()
    server = serve(creds)
    environ = {
        "AWS_CONTAINER_CREDENTIALS_FULL_URI": server.url,
        "AWS_CONTAINER_AUTHORIZATION_TOKEN": server.token,
    }
    loaded = ContainerProvider(environ=environ).load()
    frozen = loaded.get_frozen_credentials()
    assert (frozen.access_key, frozen.secret_key, frozen.token) == (
        creds.access_key_id,
        creds.secret_access_key,
        creds.session_token,
    )
    assert loaded.account_id == "123456789012"


# -- IMDSv2 ----------------------------------------------------------------------------------


def test_imds_v2_round_trip(serve: Callable[..., CredentialServer]) -> None:
    creds = make_creds()
    server = serve(creds, imds=True)
    status, headers, token = put_token(server, "X-aws-ec2-metadata-token-ttl-seconds: 21600")
    assert status == 200
    assert headers["x-aws-ec2-metadata-token-ttl-seconds"] == "21600"
    token_header = f"X-aws-ec2-metadata-token: {token.decode()}"
    path = "/latest/meta-data/iam/security-credentials/"
    assert get(server, path, token_header)[::2] == (200, b"Admin")
    status, _, body = get(server, path + "Admin", token_header)
    assert status == 200
    document = json.loads(body)
    assert document["Code"] == "Success"
    assert document["Type"] == "AWS-HMAC"
    assert document["AccessKeyId"] == creds.access_key_id
    assert document["SecretAccessKey"] == creds.secret_access_key
    assert document["Token"] == creds.session_token
    assert document["Expiration"] == rfc3339(creds.expiration)
    assert get(server, path + "Other", token_header)[0] == 404


def test_imds_v1_is_refused(serve: Callable[..., CredentialServer]) -> None:
    server = serve(imds=True)
    for path in (
        "/latest/meta-data/iam/security-credentials/",
        "/latest/meta-data/iam/security-credentials/Admin",
    ):
        status, _, body = get(server, path)
        assert status == 401
        assert b"Admin" not in body and b"AccessKeyId" not in body
    status, _, body = get(server, path, "X-aws-ec2-metadata-token: made-up")
    assert status == 401


@pytest.mark.parametrize("ttl", [None, "0", "21601", "-5", "abc"])
def test_imds_token_needs_a_valid_ttl(
    serve: Callable[..., CredentialServer], ttl: str | None
) -> None:
    server = serve(imds=True)
    extra = [] if ttl is None else [f"X-aws-ec2-metadata-token-ttl-seconds: {ttl}"]
    assert put_token(server, *extra)[0] == 400


def test_imds_token_through_a_proxy_is_refused(serve: Callable[..., CredentialServer]) -> None:
    server = serve(imds=True)
    status = put_token(
        server, "X-aws-ec2-metadata-token-ttl-seconds: 60", "X-Forwarded-For: 10.0.0.1"
    )[0]
    assert status == 403


def test_imds_refuses_a_foreign_host(serve: Callable[..., CredentialServer]) -> None:
    server = serve(imds=True)
    head = "PUT /latest/api/token HTTP/1.1\r\nHost: 169.254.169.254\r\n"
    assert raw(server.port, head + "X-aws-ec2-metadata-token-ttl-seconds: 60")[0] == 403


def test_imds_does_not_speak_ecs_and_ecs_does_not_speak_imds(
    serve: Callable[..., CredentialServer],
) -> None:
    imds, container = serve(imds=True), serve()
    assert ecs(imds, f"Authorization: {imds.token}")[0] == 404
    assert put_token(container, "X-aws-ec2-metadata-token-ttl-seconds: 60")[0] == 404


def test_botocore_instance_metadata_fetcher_reads_it(
    serve: Callable[..., CredentialServer],
) -> None:
    creds = make_creds()
    server = serve(creds, imds=True)
    fetcher = InstanceMetadataFetcher(
        timeout=2, num_attempts=1, env={}, config={"ec2_metadata_service_endpoint": server.url}
    )
    got = fetcher.retrieve_iam_role_credentials()
    assert got["role_name"] == "Admin"
    assert (got["access_key"], got["secret_key"], got["token"]) == (
        creds.access_key_id,
        creds.secret_access_key,
        creds.session_token,
    )


def test_botocore_with_imds_v1_only_gets_nothing(serve: Callable[..., CredentialServer]) -> None:
    server = serve(imds=True)

    class V1Only(InstanceMetadataFetcher):
        def _fetch_metadata_token(self) -> None:
            return None  # an old SDK: no PUT, straight to the GETs

    fetcher = V1Only(
        timeout=2, num_attempts=1, env={}, config={"ec2_metadata_service_endpoint": server.url}
    )
    assert fetcher.retrieve_iam_role_credentials() == {}


# -- environment for the command -------------------------------------------------------------


def test_child_changes_ecs(serve: Callable[..., CredentialServer]) -> None:
    server = serve()
    changes = server.child_changes()
    assert (
        changes["AWS_CONTAINER_CREDENTIALS_FULL_URI"]
        == f"http://127.0.0.1:{server.port}/credentials"
    )
    assert changes["AWS_CONTAINER_AUTHORIZATION_TOKEN"] == server.token
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_SECURITY_TOKEN",
        "AWS_CREDENTIAL_EXPIRATION",
        "AWS_PROFILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
        "AWS_EC2_METADATA_SERVICE_ENDPOINT",
        "OKENV_EXPIRES_AT",
    ):
        assert changes[name] is None, name
    assert changes["OKENV_PROFILE"] == "prod"
    assert changes["AWS_REGION"] == "eu-west-1"


def test_child_changes_imds(serve: Callable[..., CredentialServer]) -> None:
    server = serve(imds=True)
    changes = server.child_changes()
    assert changes["AWS_EC2_METADATA_SERVICE_ENDPOINT"] == f"http://127.0.0.1:{server.port}/"
    assert changes["AWS_EC2_METADATA_DISABLED"] is None
    assert changes["AWS_CONTAINER_CREDENTIALS_FULL_URI"] is None
    assert changes["AWS_CONTAINER_AUTHORIZATION_TOKEN"] is None
    assert changes["AWS_ACCESS_KEY_ID"] is None


# -- lifecycle and renewal -------------------------------------------------------------------


def test_stop_closes_the_port(serve: Callable[..., CredentialServer]) -> None:
    server = serve()
    port = server.port
    server.stop()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=5).close()


def test_renews_within_the_margin(serve: Callable[..., CredentialServer]) -> None:
    renewed = threading.Event()
    fresh = make_creds(key="ASIASECOND000000000B")
    asked: list[bool] = []

    def renew(interactive: bool) -> Credentials:
        asked.append(interactive)
        renewed.set()
        return fresh

    server = serve(make_creds(seconds=301), renew)  # the default 5-minute margin, 1 s away
    assert renewed.wait(10)
    server.stop()  # joins the renewal thread, which swaps before it looks at the stop flag
    assert server.credentials == fresh
    assert asked == [False]


def test_nothing_is_renewed_before_the_margin(serve: Callable[..., CredentialServer]) -> None:
    server = serve(make_creds(seconds=3600))  # `never` raises if called
    assert ecs(server, f"Authorization: {server.token}")[0] == 200


def test_prompt_needed_and_terminal_busy_serves_the_old_then_a_clear_error(
    serve: Callable[..., CredentialServer], messages: list[str]
) -> None:
    asked: list[bool] = []

    def renew(interactive: bool) -> Credentials:
        asked.append(interactive)
        raise NoInputError("a password is needed")

    old = make_creds(seconds=60)
    server = serve(old, renew, margin=0, retry_interval=3600)
    server.renew_now()
    server.renew_now()
    assert asked == [False, False]  # may_prompt says no: never asked with prompts
    assert messages == [
        messages[0],
        "run `okenv login prod` in another terminal: it is picked up",
    ]
    assert (
        "needs a prompt and the command owns the terminal; serving the current ones" in messages[0]
    )
    status, _, body = ecs(server, f"Authorization: {server.token}")
    assert (status, json.loads(body)["AccessKeyId"]) == (200, old.access_key_id)

    expired = make_creds(seconds=-1)
    with server._lock:
        server._creds = expired
    status, _, body = ecs(server, f"Authorization: {server.token}")
    assert status == 503
    message = json.loads(body)["message"]
    assert message.startswith("okenv: the credentials of prod expired at ")
    assert "needs a prompt" in message and "okenv login prod" in message
    assert len(messages) == 2  # said once


def test_prompt_needed_and_terminal_free_asks(serve: Callable[..., CredentialServer]) -> None:
    asked: list[bool] = []
    fresh = make_creds(key="ASIAPROMPTED0000000C")

    def renew(interactive: bool) -> Credentials:
        asked.append(interactive)
        if not interactive:
            raise NoInputError("a password is needed")
        return fresh

    server = serve(make_creds(seconds=3600), renew, may_prompt=lambda: True, retry_interval=3600)
    server.renew_now()
    assert asked == [False, True]
    assert server.credentials == fresh


def test_a_failure_then_a_success_is_said_once_each(
    serve: Callable[..., CredentialServer], messages: list[str]
) -> None:
    outcomes: list[Credentials | Exception] = [
        NetworkError("cannot reach Okta at https://acme.okta.com\x1b[2J"),
        NetworkError("cannot reach Okta at https://acme.okta.com"),
        make_creds(key="ASIARECOVERED000000D"),
    ]

    def renew(interactive: bool) -> Credentials:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    server = serve(make_creds(seconds=3600), renew, retry_interval=3600)
    for _ in range(3):
        server.renew_now()
    assert len(messages) == 3
    assert messages[0].startswith("cannot renew the credentials of prod: cannot reach Okta at")
    assert "\x1b" not in messages[0]
    assert messages[2].startswith("renewed the credentials of prod (valid until ")
    assert server.credentials.access_key_id == "ASIARECOVERED000000D"


def test_imds_error_body_once_expired(serve: Callable[..., CredentialServer]) -> None:
    def renew(interactive: bool) -> Credentials:
        raise NoInputError("a password is needed")

    server = serve(make_creds(seconds=-1), renew, imds=True, retry_interval=3600)
    server.renew_now()
    token = put_token(server, "X-aws-ec2-metadata-token-ttl-seconds: 60")[2].decode()
    path = "/latest/meta-data/iam/security-credentials/Admin"
    status, _, body = get(server, path, f"X-aws-ec2-metadata-token: {token}")
    document = json.loads(body)
    assert status == 200  # EC2's shape for "no credentials": a Code that is not Success
    assert document["Code"] == "ExpiredCredentials"
    assert "AccessKeyId" not in document
    assert document["Message"].startswith("okenv: the credentials of prod expired")
