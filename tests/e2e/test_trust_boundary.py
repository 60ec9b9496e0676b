"""Issue 11's findings at the network/AWS trust boundary, each reproduced as found: a hostile
server on loopback (tests/fakes/hostile.py), a hostile value from STS, a fake browser that
records what it was given. Each test failed on the main branch before the fix."""

from __future__ import annotations

import dataclasses
import html
import os
import re
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.e2e.aws_support import (
    PROD_ADMIN,
    ROLES,
    aws_fixture,  # noqa: F401  (fixture: aws)
    signin_fixture,  # noqa: F401  (fixture: signin)
)
from tests.e2e.conftest import Sandbox, config_text
from tests.e2e.test_faults import check_failure, no_credentials_cached, run_env
from tests.fakes.hostile import HostileServer
from tests.fakes.signin import FakeSignin
from tests.fakes.sts import NS, IssuedCredentials

HAND_WRITTEN = "# mine\n[default]\naws_access_key_id = AKIAHANDWRITTEN00000\n"
INJECTED = "tok\n[default]\ncredential_process = sh -c 'touch /tmp/okenv-pwned'"
DRIP_SIZE = 600  # bytes at one per 0.1 s: a minute, against a timeout of 1 s
RUN_TIMEOUT = 30.0  # the subprocess's own bound: a hung okenv fails the test, never the run


def with_timeout(box: Sandbox, app_url: str | None = None) -> None:
    text = config_text(app_url or box.okta.app_url)
    box.write_config(text.replace("[defaults]", "[defaults]\ntimeout = 1"))


# -- 1. INI injection through an STS value ---------------------------------------------------


def test_session_token_with_a_line_break_never_reaches_the_credentials_file(
    sandbox: Sandbox,
) -> None:
    path = Path(sandbox.env["AWS_SHARED_CREDENTIALS_FILE"])
    path.write_text(HAND_WRITTEN)
    sandbox.sts.tamper = lambda c: dataclasses.replace(c, session_token=INJECTED)
    result = sandbox.run("login", "admin", "--aws-profile", "okenv-prod", timeout=RUN_TIMEOUT)
    check_failure(result, 5, "AWS STS returned a malformed credential")
    assert path.read_text() == HAND_WRITTEN
    assert no_credentials_cached(sandbox)


@pytest.mark.parametrize(
    "field", ["access_key_id", "secret_access_key", "session_token"], ids=lambda f: f
)
def test_any_malformed_sts_value_is_refused_before_any_output(sandbox: Sandbox, field: str) -> None:
    bad = {"access_key_id": "ASIA lower case 1", "secret_access_key": "s e\tcret"}
    value = bad.get(field, "tok\u2028en")

    def tamper(creds: IssuedCredentials) -> IssuedCredentials:
        return dataclasses.replace(creds, **{field: value})

    sandbox.sts.tamper = tamper
    check_failure(run_env(sandbox), 5, "AWS STS returned a malformed credential")
    assert no_credentials_cached(sandbox)


@pytest.mark.parametrize(
    "body",
    [
        f'<AssumeRoleWithSAMLResponse xmlns="{NS}"><AssumeRoleWithSAMLResult/>'
        "</AssumeRoleWithSAMLResponse>",
        "this is not XML",
        f'<AssumeRoleWithSAMLResponse xmlns="{NS}"><AssumeRoleWithSAMLResult><Credentials>'
        "<AccessKeyId>ASIAAAAAAAAAAAAAAAAA</AccessKeyId></Credentials>"
        "</AssumeRoleWithSAMLResult></AssumeRoleWithSAMLResponse>",
    ],
    ids=["no-credentials", "not-xml", "partial"],
)
def test_junk_200_from_sts(sandbox: Sandbox, body: str) -> None:
    sandbox.sts.junk_answer = body
    check_failure(run_env(sandbox), 5, "AWS STS answered something okenv cannot read")
    assert no_credentials_cached(sandbox)


# -- 2. the assertion and a backslash in the Destination -------------------------------------


def test_assertion_is_not_posted_behind_a_backslash(sandbox: Sandbox) -> None:
    """urllib.parse reads ``https://127.0.0.1:P\\@signin.aws.amazon.com/saml`` as the AWS host;
    urllib3 connects to 127.0.0.1:P. Nothing may connect there."""
    with HostileServer("record") as attacker:
        sandbox.okta.roles = list(ROLES)
        sandbox.okta.destination = f"https://127.0.0.1:{attacker.port}\\@signin.aws.amazon.com/saml"
        # No OKENV_AWS_SIGNIN_URL: the Destination decides (the proxy stays dead, NO_PROXY
        # covers loopback, so only a connection to the attacker could happen).
        result = sandbox.run(
            "roles", "pick", env={"OKENV_AWS_SIGNIN_URL": None}, timeout=RUN_TIMEOUT
        )
        assert result.returncode == 0, result.stderr
        assert "is not an AWS sign-in URL" in result.stderr
        assert attacker.connections == 0, attacker.received


# -- 4. every request has an overall deadline --------------------------------------------------


def test_okta_that_drips_is_cut_off_at_the_deadline(sandbox: Sandbox) -> None:
    with HostileServer("drip", size=DRIP_SIZE) as okta:
        with_timeout(sandbox, f"{okta.url}/home/amazon_aws/0oa1/272")
        result = sandbox.run("env", "admin", "--shell", "bash", timeout=RUN_TIMEOUT)
        check_failure(result, 5, "did not answer within 1 s")
        assert not okta.finished


def test_sts_that_drips_is_cut_off_at_the_deadline(sandbox: Sandbox) -> None:
    with_timeout(sandbox)
    with HostileServer("drip", size=DRIP_SIZE, content_type="text/xml") as sts:
        result = run_env(sandbox, env={"AWS_ENDPOINT_URL_STS": sts.url})
        check_failure(result, 5, "AWS STS at", "did not answer within 1 s")
        assert not sts.finished
    assert no_credentials_cached(sandbox)


def test_credential_process_never_hangs_on_a_dripping_sts(sandbox: Sandbox) -> None:
    with_timeout(sandbox)
    with HostileServer("drip", size=DRIP_SIZE, content_type="text/xml") as sts:
        result = sandbox.run(
            "credential-process",
            "admin",
            env={"AWS_ENDPOINT_URL_STS": sts.url},
            timeout=RUN_TIMEOUT,
        )
        check_failure(result, 5, "did not answer within 1 s")


def test_federation_that_drips_is_cut_off_at_the_deadline(sandbox: Sandbox) -> None:
    with_timeout(sandbox)
    with HostileServer("drip", size=DRIP_SIZE) as federation:
        result = sandbox.run(
            "console",
            "admin",
            "--print",
            env={"OKENV_AWS_SIGNIN_URL": federation.url},
            timeout=RUN_TIMEOUT,
        )
        check_failure(result, 5, "federation endpoint", "did not answer within 1 s")
        assert not federation.finished


def test_alias_page_that_drips_is_cut_off_and_the_login_goes_on(sandbox: Sandbox) -> None:
    with_timeout(sandbox)
    sandbox.okta.roles = list(ROLES)
    with HostileServer("drip", size=DRIP_SIZE, content_type="text/html") as page:
        result = sandbox.run(
            "roles", "pick", env={"OKENV_AWS_SIGNIN_URL": page.url}, timeout=RUN_TIMEOUT
        )
        assert result.returncode == 0, result.stderr
        assert "did not answer within 1 s" in result.stderr
        assert "showing account ids instead" in result.stderr
        assert PROD_ADMIN in result.stdout
        assert not page.finished


# -- 5. every body has a size cap ----------------------------------------------------------------


def test_okta_flood_is_cut_off_at_the_cap(sandbox: Sandbox) -> None:
    with HostileServer("flood", content_type="text/html") as okta:
        sandbox.write_config(config_text(f"{okta.url}/home/amazon_aws/0oa1/272"))
        result = sandbox.run("env", "admin", "--shell", "bash", timeout=RUN_TIMEOUT)
        check_failure(result, 5, "sent more than", "MiB; okenv stopped reading")
        assert not okta.finished


def test_sts_flood_is_cut_off_at_the_cap(sandbox: Sandbox) -> None:
    with HostileServer("flood", content_type="text/xml") as sts:
        result = run_env(sandbox, env={"AWS_ENDPOINT_URL_STS": sts.url})
        check_failure(result, 5, "AWS STS at", "sent more than 1 MiB")
        assert not sts.finished
    assert no_credentials_cached(sandbox)


def test_federation_flood_is_cut_off_at_the_cap(sandbox: Sandbox) -> None:
    with HostileServer("flood") as federation:
        result = sandbox.run(
            "console",
            "admin",
            "--print",
            env={"OKENV_AWS_SIGNIN_URL": federation.url},
            timeout=RUN_TIMEOUT,
        )
        check_failure(result, 5, "federation endpoint", "sent more than 4 MiB")
        assert not federation.finished


def test_alias_page_flood_is_cut_off_and_the_login_goes_on(sandbox: Sandbox) -> None:
    sandbox.okta.roles = list(ROLES)
    with HostileServer("flood", content_type="text/html") as page:
        result = sandbox.run(
            "roles", "pick", env={"OKENV_AWS_SIGNIN_URL": page.url}, timeout=RUN_TIMEOUT
        )
        assert result.returncode == 0, result.stderr
        assert "sent more than 8 MiB" in result.stderr
        assert not page.finished


# -- 12. okenv console hands the URL over without argv and without okenv's secrets --------------

FAKE_BROWSER = """#!/bin/sh
out="$OKENV_TEST_BROWSER_OUT"
printf '%s\\n' "$@" > "$out/argv"
env > "$out/env"
page="${1#file://}"
stat -c '%a' "$page" > "$out/mode"
stat -c '%a' "$(dirname "$page")" > "$out/dirmode"
printf '%s\\n' "$page" > "$out/path"
cat "$page" > "$out/page"
"""


def test_console_hands_the_url_to_the_browser_through_a_private_file(
    aws: Sandbox, signin: FakeSignin, tmp_path: Path
) -> None:
    browser = tmp_path / "fake-browser"
    browser.write_text(FAKE_BROWSER)
    browser.chmod(0o755)
    out = tmp_path / "seen"
    out.mkdir()
    result = aws.run(
        "console",
        "admin",
        env={"BROWSER": str(browser), "OKENV_TEST_BROWSER_OUT": str(out), "DISPLAY": None},
        timeout=RUN_TIMEOUT,
    )
    assert result.returncode == 0, result.stderr
    argv = (out / "argv").read_text()
    assert "SigninToken" not in argv and argv.startswith("file://")
    environment = (out / "env").read_text()
    assert "OKENV_PASSWORD=" not in environment and "OKENV_TOTP_SECRET=" not in environment
    assert (out / "mode").read_text().strip() == "600"
    assert (out / "dirmode").read_text().strip() == "700"
    page = (out / "page").read_text()
    found = re.search(r'http-equiv="refresh" content="0;url=([^"]+)"', page)
    assert found is not None, page
    [token] = signin.signin_tokens
    assert parse_qs(urlsplit(html.unescape(found[1])).query)["SigninToken"] == [token]
    assert not os.path.exists((out / "path").read_text().strip())  # removed once read


# -- 13. the credentials file and a symlink planted by another user ----------------------------


def _setpriv_usable() -> str | None:
    if os.geteuid() != 0:
        return "needs root to act as a second local user (setpriv)"
    try:
        done = subprocess.run(
            ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "true"],
            capture_output=True,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"setpriv is not usable here: {exc}"
    return None if done.returncode == 0 else f"setpriv refused: {done.stderr!r}"


def test_symlink_planted_by_another_user_is_refused(
    sandbox: Sandbox, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    reason = _setpriv_usable()
    if reason:
        pytest.skip(reason)
    # A sticky directory such as /tmp (tmp_path's parents are 0700: the other user could
    # not reach a directory below them).
    shared = Path(tempfile.mkdtemp(prefix="okenv-shared-"))
    shared.chmod(0o1777)
    request.addfinalizer(lambda: shutil.rmtree(shared, ignore_errors=True))
    victim = tmp_path / "bashrc"
    victim.write_text("# the victim's shell startup\n")
    planted = shared / "credentials"
    subprocess.run(
        [
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "ln",
            "-s",
            str(victim),
            str(planted),
        ],
        check=True,
        timeout=10,
    )
    assert os.lstat(planted).st_uid == 65534 and stat.S_ISLNK(os.lstat(planted).st_mode)
    result = sandbox.run(
        "login",
        "admin",
        "--aws-profile",
        "okenv-prod",
        env={"AWS_SHARED_CREDENTIALS_FILE": str(planted)},
        timeout=RUN_TIMEOUT,
    )
    assert result.returncode == 2, result.stderr
    assert "refusing to follow the symlink" in result.stderr, result.stderr
    assert "belongs to another user (uid 65534)" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert victim.read_text() == "# the victim's shell startup\n"


def test_an_unsafe_credentials_file_is_refused_before_any_sign_in(sandbox: Sandbox) -> None:
    """`login --aws-profile` checks where it would write first: a refused file (here a
    directory in its place; a foreign symlink likewise) costs no password and no MFA."""
    target = sandbox.home / "creds-dir"
    target.mkdir()
    result = sandbox.run(
        "login", "admin", "--aws-profile", "x", env={"AWS_SHARED_CREDENTIALS_FILE": str(target)}
    )
    assert result.returncode == 2, result.stderr
    assert "is not a regular file" in result.stderr
    assert sandbox.okta.requests == []
    assert not list(sandbox.cache_dir.glob("*.json")) if sandbox.cache_dir.exists() else True
