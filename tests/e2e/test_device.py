"""``engine = "device"``: the installed okenv against the fake org's authorization server
(tests/fakes/oauth.py). The person at the browser is the test: it reads the user code off
the terminal (a real pty) and approves or denies it through the fake's test-only
``/__test__/activate``, as a browser would at ``/activate``."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pexpect
import pytest
import requests

from tests.e2e.conftest import ADMIN, OKENV, Sandbox
from tests.e2e.test_interactive import spawn
from tests.fakes.oauth import DEFAULT_CLIENT_ID, FakeAuthorizationServer
from tests.fakes.okta import DEFAULT_APP_INSTANCE, DEFAULT_USERNAME

APP_B = "0oab2b3c4d5e6f7g8h9j"
BILLING = "arn:aws:iam::333333333333:role/Billing"
ROLES_B = ((BILLING, "arn:aws:iam::333333333333:saml-provider/Okta"),)
CODE = re.compile(r"code   ([0-9A-Za-z-]+)\r?\n")


@pytest.fixture
def oauth(sandbox: Sandbox) -> Iterator[FakeAuthorizationServer]:
    okta = sandbox.okta
    server = FakeAuthorizationServer(
        okta, apps={DEFAULT_APP_INSTANCE: None, APP_B: ROLES_B}, interval=1
    )
    sandbox.write_config(
        f"""
[defaults]
engine = "device"
oidc_client_id = "{DEFAULT_CLIENT_ID}"
username = "{DEFAULT_USERNAME}"

[profiles.a]
app_url = "{okta.app_url}"
role = "{ADMIN}"

[profiles.b]
app_url = "{okta.url}/home/amazon_aws/{APP_B}/272"
"""
    )
    yield server


def browser(box: Sandbox, code: str, decision: str = "approve") -> None:
    """What the user's browser does at /activate: sign in (any factor) and answer."""
    answer = requests.post(
        f"{box.okta.url}/__test__/activate",
        data={"user_code": code, "decision": decision},
        timeout=5,
    )
    assert answer.status_code == 204


def first_login(box: Sandbox, out: Path, command: str = "login a") -> pexpect.spawn:
    child = spawn(box, f"{OKENV} {command}", out)
    child.expect(re.escape(f"open   {box.okta.url}/activate"))
    child.expect(CODE)
    return child


def finish(child: pexpect.spawn) -> tuple[int | None, str]:
    child.expect(pexpect.EOF)
    child.close()
    return child.exitstatus, child.before or ""


def test_first_login_shows_url_and_code_and_approval_gives_credentials(
    sandbox: Sandbox, oauth: FakeAuthorizationServer, tmp_path: Path
) -> None:
    out = tmp_path / "out.sh"
    child = first_login(sandbox, out, "env a --shell bash")
    code = child.match.group(1)
    child.expect("scan")
    child.expect("█ ▄▄▄▄▄ █")  # the QR code's finder pattern, for a phone
    browser(sandbox, code)
    status, transcript = finish(child)
    assert status == 0, transcript
    text = out.read_text()
    assert f"export OKENV_ROLE_ARN=$'{ADMIN}';" in text
    assert "export AWS_ACCESS_KEY_ID=" in text
    assert "okenv:" not in text  # the code, the QR code and the spinner stayed on the terminal


def test_a_second_app_needs_no_second_approval_and_no_terminal(
    sandbox: Sandbox, oauth: FakeAuthorizationServer, tmp_path: Path
) -> None:
    child = first_login(sandbox, tmp_path / "out")
    browser(sandbox, child.match.group(1))
    assert finish(child)[0] == 0
    result = sandbox.run("credential-process", "b")  # no terminal at all
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["Version"] == 1 and document["AccessKeyId"]
    assert len(oauth.transactions) == 1
    assert [aud for _, aud in oauth.exchanges] == [
        f"urn:okta:apps:{DEFAULT_APP_INSTANCE}",
        f"urn:okta:apps:{APP_B}",
    ]
    assert "approve" not in result.stderr


def test_credential_process_without_a_kept_approval_says_to_log_in(
    sandbox: Sandbox, oauth: FakeAuthorizationServer
) -> None:
    result = sandbox.run("credential-process", "a")
    assert result.returncode == 3, result.stderr
    assert "approval in a browser" in result.stderr
    assert "okenv login" in result.stderr
    assert result.stdout == ""
    assert sandbox.okta.count(path_prefix="/oauth2/") == 0


def test_denial_exits_3_with_oktas_words(
    sandbox: Sandbox, oauth: FakeAuthorizationServer, tmp_path: Path
) -> None:
    child = first_login(sandbox, tmp_path / "out")
    browser(sandbox, child.match.group(1), "deny")
    status, transcript = finish(child)
    assert status == 3
    assert "was denied (Okta: The resource owner or authorization server denied" in transcript
    assert not list(sandbox.cache_dir.rglob("device-*.json"))


def test_expiry_exits_3(sandbox: Sandbox, oauth: FakeAuthorizationServer, tmp_path: Path) -> None:
    oauth.expires_in = 3
    child = first_login(sandbox, tmp_path / "out")
    status, transcript = finish(child)
    assert status == 3
    assert "expired before it was approved" in transcript
    [tx] = oauth.transactions.values()
    assert 1 <= tx.polls <= 3 and tx.slow_downs == 0


@pytest.mark.slow
def test_slow_down_is_honoured(
    sandbox: Sandbox, oauth: FakeAuthorizationServer, tmp_path: Path
) -> None:
    oauth.slow_down_next = 1
    child = first_login(sandbox, tmp_path / "out")
    code = child.match.group(1)
    [tx] = oauth.transactions.values()
    while tx.polls < 2:  # the first poll was told to slow down; wait for the next one
        child.expect([pexpect.TIMEOUT, pexpect.EOF], timeout=0.5)
    browser(sandbox, code)
    status, transcript = finish(child)
    assert status == 0, transcript
    gaps = [b - a for a, b in zip(tx.poll_times, tx.poll_times[1:], strict=False)]
    assert tx.slow_downs == 1, gaps  # the fake counts intervals: 1 s polls would be refused
    assert all(gap >= 6 for gap in gaps), gaps


def test_ctrl_c_while_waiting_exits_130(
    sandbox: Sandbox, oauth: FakeAuthorizationServer, tmp_path: Path
) -> None:
    out = tmp_path / "out.sh"
    child = first_login(sandbox, out, "env a --shell bash")
    child.sendintr()
    status, transcript = finish(child)
    assert status == 130
    assert "interrupted" in transcript
    assert out.read_text() == ""


def test_logout_revokes_and_forgets_the_approval(
    sandbox: Sandbox, oauth: FakeAuthorizationServer, tmp_path: Path
) -> None:
    child = first_login(sandbox, tmp_path / "out")
    browser(sandbox, child.match.group(1))
    assert finish(child)[0] == 0
    assert list(sandbox.cache_dir.rglob("device-*.json"))
    result = sandbox.run("logout")
    assert result.returncode == 0, result.stderr
    assert sandbox.okta.count(path="/oauth2/v1/revoke") == 1
    assert all(grant.revoked for grant in oauth.grants.values())
    assert not list(sandbox.cache_dir.rglob("device-*.json"))
    again = sandbox.run("credential-process", "b")
    assert again.returncode == 3


def test_debug_never_shows_a_token(
    sandbox: Sandbox, oauth: FakeAuthorizationServer, tmp_path: Path
) -> None:
    child = first_login(sandbox, tmp_path / "out", "login a --debug")
    browser(sandbox, child.match.group(1))
    status, transcript = finish(child)
    assert status == 0, transcript
    debug = sandbox.run("credential-process", "b", "--debug")
    assert debug.returncode == 0, debug.stderr
    everything = transcript + debug.stderr
    assert "/oauth2/v1/token" in everything  # the steps are traced
    [tx] = oauth.transactions.values()
    secrets = [tx.device_code, *oauth.web_sso_tokens, *oauth.access_tokens, *oauth.id_tokens]
    secrets += [g.device_secret for g in oauth.grants.values() if g.device_secret]
    for secret in secrets:
        assert secret not in everything


def test_open_hands_the_complete_url_to_the_browser_without_argv(
    sandbox: Sandbox, oauth: FakeAuthorizationServer, tmp_path: Path
) -> None:
    seen = tmp_path / "browser.txt"
    script = tmp_path / "browser.sh"
    script.write_text(f'#!/bin/sh\necho "$@" > {seen}.argv\ncat "${{1#file://}}" > {seen}\n')
    script.chmod(0o755)
    sandbox.env["BROWSER"] = f"{script} %s"
    child = first_login(sandbox, tmp_path / "out", "login a --open")
    code = child.match.group(1)
    child.expect("opened it in this machine's browser")
    browser(sandbox, code)
    assert finish(child)[0] == 0
    assert f"/activate?user_code={code}" in seen.read_text()
    argv = Path(f"{seen}.argv").read_text()
    assert argv.startswith("file://") and code not in argv  # the URL is not on a command line
