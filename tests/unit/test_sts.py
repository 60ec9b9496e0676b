from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import boto3
import pytest

from okenv import sts
from okenv.credentials import Credentials
from okenv.errors import (
    AuthorizationError,
    DurationTooLongError,
    NetworkError,
    ServiceError,
    StsError,
)
from okenv.saml import SamlAssertion, parse_saml_response
from tests.fakes.samlgen import build_saml_response
from tests.fakes.sts import MAX_SESSION_DURATION_MESSAGE, FakeSts

if TYPE_CHECKING:
    from mypy_boto3_sts import STSClient

PROVIDER = "arn:aws:iam::123456789012:saml-provider/Okta"
ADMIN = "arn:aws:iam::123456789012:role/Admin"
DEV = "arn:aws:iam::123456789012:role/teams/Developer"
DEAD_PROXY = "http://127.0.0.1:9"


@pytest.fixture(autouse=True)
def aws_hygiene(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "aws-config"
    credentials = tmp_path / "aws-credentials"
    config.write_text("")
    credentials.write_text("")
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_STS"):
        monkeypatch.delenv(name, raising=False)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.setenv(name, DEAD_PROXY)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


@pytest.fixture
def fake_sts(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSts]:
    with FakeSts(max_session_duration={ADMIN: 43200}) as server:
        monkeypatch.setenv("AWS_ENDPOINT_URL_STS", server.url)
        yield server
    assert not server.failures


def saml(roles: list[tuple[str, str]] | None = None, **kwargs: object) -> SamlAssertion:
    return parse_saml_response(
        build_saml_response(roles=roles or [(ADMIN, PROVIDER), (DEV, PROVIDER)], **kwargs)
    )


def assume(
    assertion: SamlAssertion, *, index: int = 0, duration: int = 3600, region: str | None = None
) -> Credentials:
    return sts.assume_role_with_saml(
        role=assertion.roles[index], assertion=assertion, duration=duration, region=region
    )


def close_to(moment: datetime, seconds: int) -> bool:
    expected = datetime.now(UTC) + timedelta(seconds=seconds)
    return abs((moment - expected).total_seconds()) < 30


# -- success -----------------------------------------------------------------------------


def test_success(fake_sts: FakeSts) -> None:
    assertion = saml()
    creds = assume(assertion)
    assert creds.access_key_id.startswith("ASIA")
    assert creds.secret_access_key
    assert creds.session_token
    assert creds.role_arn == ADMIN
    assert creds.region is None
    assert creds.expiration.tzinfo is not None
    assert creds.expiration.utcoffset() == timedelta(0)
    assert close_to(creds.expiration, 3600)

    assert fake_sts.actions() == ["AssumeRoleWithSAML"]
    params = fake_sts.last("AssumeRoleWithSAML")
    assert params["RoleArn"] == ADMIN
    assert params["PrincipalArn"] == PROVIDER
    assert params["SAMLAssertion"] == assertion.encoded
    assert params["DurationSeconds"] == "3600"
    assert params["Version"] == "2011-06-15"


def test_second_role_with_path(fake_sts: FakeSts) -> None:
    fake_sts.max_session_duration[DEV] = 3600
    creds = assume(saml(), index=1)
    assert creds.role_arn == DEV
    assert fake_sts.last("AssumeRoleWithSAML")["RoleArn"] == DEV


def test_duration_is_passed(fake_sts: FakeSts) -> None:
    creds = assume(saml(), duration=28800)
    assert fake_sts.last("AssumeRoleWithSAML")["DurationSeconds"] == "28800"
    assert close_to(creds.expiration, 28800)


def test_session_duration_in_assertion_only_shortens(fake_sts: FakeSts) -> None:
    creds = assume(saml(session_duration=7200), duration=28800)
    assert close_to(creds.expiration, 7200)


def test_region_is_reported_only_when_given(fake_sts: FakeSts) -> None:
    assert assume(saml(), region="eu-west-1").region == "eu-west-1"
    assert assume(saml(), region=None).region is None


def test_generic_endpoint_url_is_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeSts() as server:
        monkeypatch.setenv("AWS_ENDPOINT_URL", server.url)
        creds = assume(saml())
        assert creds.role_arn == ADMIN
        assert server.actions() == ["AssumeRoleWithSAML"]


@pytest.mark.parametrize(
    ("region", "host"),
    [
        ("us-east-1", "sts.us-east-1.amazonaws.com"),
        ("us-gov-west-1", "sts.us-gov-west-1.amazonaws.com"),
        ("cn-north-1", "sts.cn-north-1.amazonaws.com.cn"),
    ],
)
def test_client_endpoint_per_region(region: str, host: str) -> None:
    client = sts.sts_client(region)
    try:
        assert client.meta.region_name == region
        assert client.meta.endpoint_url == f"https://{host}"
    finally:
        client.close()


def test_default_region_follows_partition(monkeypatch: pytest.MonkeyPatch) -> None:
    regions: list[str] = []
    real = sts.sts_client

    def spy(region: str, credentials: None = None, timeout: float | None = None) -> STSClient:
        regions.append(region)
        return real(region, credentials, timeout)

    monkeypatch.setattr(sts, "sts_client", spy)
    role = "arn:aws-us-gov:iam::123456789012:role/Admin"
    provider = "arn:aws-us-gov:iam::123456789012:saml-provider/Okta"
    assertion = saml(
        roles=[(role, provider)], destination="https://signin.amazonaws-us-gov.com/saml"
    )
    with FakeSts() as server:
        monkeypatch.setenv("AWS_ENDPOINT_URL_STS", server.url)
        creds = assume(assertion)
        assume(assertion, region="us-gov-east-1")
    assert creds.role_arn == role
    assert regions == ["us-gov-west-1", "us-gov-east-1"]


# -- no profile, no credentials ----------------------------------------------------------


def test_bogus_aws_profile_still_works(fake_sts: FakeSts, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_PROFILE", "no-such-profile")
    monkeypatch.setenv("AWS_DEFAULT_PROFILE", "no-such-profile-either")
    creds = assume(saml())
    assert creds.role_arn == ADMIN


def test_request_is_unsigned_and_never_looks_for_credentials(
    fake_sts: FakeSts, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    marker = tmp_path / "credential-process-ran"
    config = tmp_path / "config-with-process"
    config.write_text(
        "[default]\n"
        f"credential_process = /bin/sh -c 'touch {marker}; exit 1'\n"
        "[profile other]\n"
        f"credential_process = /bin/sh -c 'touch {marker}; exit 1'\n"
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_PROFILE", "other")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIASTALESTALESTALE1")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "stale")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "stale")
    assume(saml())
    headers = fake_sts.headers[-1]
    assert "authorization" not in headers
    assert "x-amz-security-token" not in headers
    assert not marker.exists()


def test_broken_config_file_is_an_sts_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "broken"
    config.write_text("[default\nregion = \n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    with pytest.raises(StsError, match="could not set up"):
        sts.sts_client("us-east-1")


# -- errors ------------------------------------------------------------------------------


def test_access_denied_is_an_authorization_error(fake_sts: FakeSts) -> None:
    other = "arn:aws:iam::123456789012:role/NotGranted"
    assertion = saml(roles=[(ADMIN, PROVIDER)])
    forged = SamlAssertion(
        encoded=assertion.encoded,
        roles=(type(assertion.roles[0])(arn=other, principal_arn=PROVIDER),),
        session_name=assertion.session_name,
        session_duration=None,
        destination=assertion.destination,
        not_on_or_after=assertion.not_on_or_after,
        partition="aws",
    )
    with pytest.raises(AuthorizationError) as info:
        assume(forged)
    error = info.value
    assert error.exit_code == 4
    assert error.message == (
        f"STS denied {other}: Not authorized to perform sts:AssumeRoleWithSAML"
    )
    assert error.hint is not None
    assert "trust policy" in error.hint
    assert PROVIDER in error.hint


def test_injected_access_denied(fake_sts: FakeSts) -> None:
    fake_sts.errors[ADMIN] = (
        "AccessDenied",
        403,
        "Not authorized to perform sts:AssumeRoleWithSAML",
    )
    with pytest.raises(AuthorizationError, match="STS denied"):
        assume(saml())


def test_duration_over_max_session_duration(fake_sts: FakeSts) -> None:
    with pytest.raises(DurationTooLongError) as info:
        assume(saml(), index=1, duration=7200)  # DEV: default MaxSessionDuration 3600
    error = info.value
    assert isinstance(error, StsError)
    assert error.exit_code == 5
    assert MAX_SESSION_DURATION_MESSAGE in error.message
    assert DEV in error.message


@pytest.mark.parametrize(
    ("code", "status", "message"),
    [
        ("InvalidIdentityToken", 400, "Specified provider doesn't exist."),
        ("ExpiredTokenException", 400, "Token must be redeemed within 5 minutes of issuance"),
        ("IDPRejectedClaim", 403, "Audience restriction validation failed"),
        ("RegionDisabledException", 403, "STS is not activated in this region for account"),
        ("ValidationError", 400, "1 validation error detected: Value at 'roleArn' failed"),
        ("ServiceUnavailable", 503, "Service is unable to handle request."),
    ],
)
def test_other_client_errors_are_sts_errors(
    fake_sts: FakeSts, code: str, status: int, message: str
) -> None:
    fake_sts.errors[ADMIN] = (code, status, message)
    with pytest.raises(StsError) as info:
        assume(saml())
    error = info.value
    assert not isinstance(error, DurationTooLongError)
    assert code in error.message
    assert message in error.message
    assert ADMIN in error.message


def test_expired_assertion(fake_sts: FakeSts) -> None:
    past = datetime.now(UTC) - timedelta(minutes=1)
    with pytest.raises(StsError, match="ExpiredTokenException"):
        assume(saml(not_on_or_after=past))


def test_html_500_is_an_unexpected_answer(fake_sts: FakeSts) -> None:
    fake_sts.html_error_status = 500
    with pytest.raises(StsError) as info:
        assume(saml())
    error = info.value
    assert type(error) is StsError
    assert "answered unexpectedly" in error.message
    assert "500" in error.message
    assert "<html" not in error.message.lower()
    # botocore's retries={"max_attempts": 2} counts retries: 1 + 2 requests, then give up
    assert len(fake_sts.calls) == sts.MAX_ATTEMPTS


def closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_unreachable_endpoint_is_a_network_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", f"http://127.0.0.1:{closed_port()}")
    started = time.monotonic()
    with pytest.raises(NetworkError) as info:
        assume(saml())
    assert time.monotonic() - started < 5
    error = info.value
    assert isinstance(error, ServiceError)
    assert error.exit_code == 5
    assert error.hint is not None
    assert "AWS_ENDPOINT_URL_STS" in error.hint


def test_read_timeout_is_a_network_error(
    fake_sts: FakeSts, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sts, "READ_TIMEOUT", 0.3)
    fake_sts.hold = threading.Event()
    try:
        with pytest.raises(NetworkError, match=r"AWS STS at .* did not answer within 0\.3 s"):
            assume(saml())
    finally:
        fake_sts.hold.set()


# -- interoperability with moto's STS ----------------------------------------------------


def test_interop_with_moto_server(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        monkeypatch.setenv("AWS_ENDPOINT_URL_STS", endpoint)
        role = "arn:aws:iam::123456789012:role/MotoAdmin"
        assertion = parse_saml_response(
            build_saml_response(roles=[(role, PROVIDER)], session_name="alice@example.com")
        )
        creds = sts.assume_role_with_saml(
            role=assertion.roles[0], assertion=assertion, duration=3600, region="us-east-1"
        )
        assert creds.role_arn == role
        assert creds.region == "us-east-1"
        assert creds.expiration > datetime.now(UTC)

        client = boto3.client(
            "sts",
            region_name="us-east-1",
            endpoint_url=endpoint,
            aws_access_key_id=creds.access_key_id,
            aws_secret_access_key=creds.secret_access_key,
            aws_session_token=creds.session_token,
        )
        identity = client.get_caller_identity()
        assert identity["Arn"] == (
            "arn:aws:sts::123456789012:assumed-role/MotoAdmin/alice@example.com"
        )
        assert identity["Account"] == "123456789012"
    finally:
        server.stop()


# -- the fake's signed actions (used by later issues) ------------------------------------


def test_fake_get_caller_identity_and_assume_role(fake_sts: FakeSts) -> None:
    creds = assume(saml())
    client = boto3.client(
        "sts",
        region_name="us-east-1",
        endpoint_url=fake_sts.url,
        aws_access_key_id=creds.access_key_id,
        aws_secret_access_key=creds.secret_access_key,
        aws_session_token=creds.session_token,
    )
    identity = client.get_caller_identity()
    assert identity["Arn"] == "arn:aws:sts::123456789012:assumed-role/Admin/alice@example.com"
    assert identity["Account"] == "123456789012"

    target = "arn:aws:iam::210987654321:role/Deploy"
    chained = client.assume_role(RoleArn=target, RoleSessionName="okenv")
    assert chained["AssumedRoleUser"]["Arn"] == (
        "arn:aws:sts::210987654321:assumed-role/Deploy/okenv"
    )
    with pytest.raises(client.exceptions.ClientError, match="1 hour session limit"):
        client.assume_role(RoleArn=target, RoleSessionName="okenv", DurationSeconds=7200)

    stranger = boto3.client(
        "sts",
        region_name="us-east-1",
        endpoint_url=fake_sts.url,
        aws_access_key_id="ASIAUNKNOWNUNKNOWN00",
        aws_secret_access_key="x",
        aws_session_token="y",
    )
    with pytest.raises(client.exceptions.ClientError, match="InvalidClientTokenId"):
        stranger.get_caller_identity()
