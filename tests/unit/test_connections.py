"""One connection per outside host per login (issue 13): STS's opened ahead by ``warm_up`` and
call of the run — the first hop and the chained hop. Counted, never timed: the fake STS sits
behind the latency bench's proxy (at RTT 0), which logs each TCP connection."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bench import latency
from okenv import sts
from okenv.saml import parse_saml_response
from tests.fakes.samlgen import build_saml_response
from tests.fakes.sts import FakeSts

ADMIN = "arn:aws:iam::123456789012:role/Admin"
PROVIDER = "arn:aws:iam::123456789012:saml-provider/Okta"
DEPLOY = "arn:aws:iam::123456789012:role/Deploy"


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> Iterator[latency.Log]:
    log = latency.Log()
    with FakeSts() as server, latency.loop() as runner:
        target = ("127.0.0.1", int(server.url.rsplit(":", 1)[1]))
        proxy = latency.DelayProxy(runner, "sts", target, log)
        port = proxy.start()
        monkeypatch.setenv("AWS_ENDPOINT_URL_STS", f"http://127.0.0.1:{port}")
        sts._CLIENTS.clear()
        try:
            yield log
        finally:
            proxy.stop()
            sts._CLIENTS.clear()


def test_warm_up_connection_serves_both_hops(counted: latency.Log) -> None:
    sts.warm_up("us-east-1")
    assert sts._WAITING  # a connection is open, kept aside for the first call
    assertion = parse_saml_response(build_saml_response(roles=[(ADMIN, PROVIDER)]))
    first = sts.assume_role_with_saml(
        role=assertion.roles[0], assertion=assertion, duration=3600, region="us-east-1"
    )
    second = sts.assume_role(
        source=first,
        role_arn=DEPLOY,
        session_name="okenv",
        duration=3600,
        region=None,
        endpoint_region="us-east-1",
    )
    assert second.role_arn == DEPLOY
    opened, chunks = counted.take()
    assert len(opened) == 1, opened
    assert latency.analyse(opened, chunks, 0.0)["plaintext_requests"] == 2


def test_without_warm_up_the_calls_still_share_one_connection(counted: latency.Log) -> None:
    assertion = parse_saml_response(build_saml_response(roles=[(ADMIN, PROVIDER)]))
    first = sts.assume_role_with_saml(
        role=assertion.roles[0], assertion=assertion, duration=3600, region="us-east-1"
    )
    sts.assume_role(
        source=first,
        role_arn=DEPLOY,
        session_name="okenv",
        duration=3600,
        region=None,
        endpoint_region="us-east-1",
    )
    opened, _ = counted.take()
    assert len(opened) == 1, opened


def test_the_alias_page_reuses_the_connection_opened_while_okta_answers() -> None:
    """The sign-in host's TCP (+ TLS) is opened in the background before the assertion
    exists; the alias POST then goes out on it: one connection, two requests."""
    from okenv import aliases
    from tests.fakes.signin import FakeSignin

    log = latency.Log()
    roles = [
        (ADMIN, PROVIDER),
        ("arn:aws:iam::210987654321:role/Dev", "arn:aws:iam::210987654321:saml-provider/Okta"),
    ]
    with FakeSignin(aliases={"123456789012": "prod-main"}) as signin, latency.loop() as runner:
        proxy = latency.DelayProxy(runner, "signin", ("127.0.0.1", signin.port), log)
        port = proxy.start()
        environ = {"OKENV_AWS_SIGNIN_URL": f"http://127.0.0.1:{port}"}
        try:
            aliases.warm_connection(environ, 10)
            assertion = parse_saml_response(build_saml_response(roles=roles))
            found = aliases.account_aliases(assertion, environ=environ, timeout=10)
        finally:
            proxy.stop()
    assert found == {"123456789012": "prod-main"}
    opened, chunks = log.take()
    assert len(opened) == 1, opened
    assert latency.analyse(opened, chunks, 0.0)["plaintext_requests"] == 2
