"""The installed okenv against the fake Okta org, for what only a whole run shows: one MFA for
many profiles, logout ending the session at Okta, Identity Engine orgs, pushes (and Ctrl-C
during one, on a real terminal), rate limits. Poll waits are shortened through
``OKENV_POLL_INTERVAL`` and the fake's IDX ``refresh``; nothing here sleeps to synchronise."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pexpect
import pytest

from tests.e2e.conftest import ADMIN, OKENV, READONLY, Sandbox, config_text
from tests.fakes.okta import DEFAULT_PASSWORD, FakeFactor, default_user

VERIFY = r"/api/v1/authn/factors/[^/]+/verify"
FAST = {"OKENV_POLL_INTERVAL": "0.01"}


def three_profiles(box: Sandbox) -> None:
    box.write_config(config_text(box.okta.app_url, extra=f'role = "{READONLY}"'))


def login_all(box: Sandbox, *args: str) -> list[str]:
    errors = []
    for profile in ("admin", "readonly", "pick"):
        result = box.run("login", profile, *args, env=FAST)
        assert result.returncode == 0, result.stderr
        assert result.stdout == ""
        errors.append(result.stderr)
    return errors


def with_push(box: Sandbox, results: list[str], answer: int | None = None) -> None:
    user = default_user()
    user.factors.append(
        FakeFactor(
            "opfpush0000000000001",
            "push",
            "OKTA",
            push_results=results,
            push_correct_answer=answer,
        )
    )
    box.okta.users = [user]


# -- session reuse ----------------------------------------------------------------------------


def test_three_profiles_one_mfa(sandbox: Sandbox) -> None:
    three_profiles(sandbox)
    login_all(sandbox)
    okta = sandbox.okta
    assert okta.count(path_regex=VERIFY) == 1
    assert okta.count(path="/api/v1/authn") == 1
    assert len(okta.sessions) == 1
    [session_file] = (sandbox.cache_dir / "okta").glob("session-*.json")
    assert stat.S_IMODE(session_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(session_file.parent.stat().st_mode) == 0o700
    saved = json.loads(session_file.read_text())
    assert saved["cookie"] == "sid" and saved["value"] in okta.sessions
    assert DEFAULT_PASSWORD not in session_file.read_text()


def test_session_that_ended_at_okta_asks_again(sandbox: Sandbox) -> None:
    assert sandbox.run("login", "admin").returncode == 0
    sandbox.okta.advance(sandbox.okta.session_lifetime + 60)  # Okta's session expired
    result = sandbox.run("login", "readonly")
    assert result.returncode == 0, result.stderr
    assert sandbox.okta.count(path_regex=VERIFY) == 2


def test_logout_ends_the_session_at_okta(sandbox: Sandbox) -> None:
    assert sandbox.run("login", "admin").returncode == 0
    assert len(sandbox.okta.sessions) == 1
    result = sandbox.run("logout")
    assert result.returncode == 0 and result.stdout == ""
    assert "1 Okta session(s)" in result.stderr
    assert sandbox.okta.count(method="DELETE", path="/api/v1/sessions/me") == 1
    assert sandbox.okta.sessions == {}
    assert not list((sandbox.cache_dir / "okta").glob("session-*.json"))
    assert sandbox.run("login", "readonly").returncode == 0
    assert sandbox.okta.count(path_regex=VERIFY) == 2  # signed in afresh


def test_logout_of_one_profile_ends_its_org_session(sandbox: Sandbox) -> None:
    assert sandbox.run("login", "admin").returncode == 0
    result = sandbox.run("logout", "readonly")  # same org and user
    assert result.returncode == 0
    assert sandbox.okta.sessions == {}
    assert sandbox.run("status", "admin").returncode == 0  # admin's credentials stay


# -- Identity Engine --------------------------------------------------------------------------


def test_idx_org_with_totp(sandbox: Sandbox) -> None:
    sandbox.okta.pipeline = "idx"
    three_profiles(sandbox)
    login_all(sandbox)
    okta = sandbox.okta
    # The first login raced the probe with Classic's primary auth (the password is at hand)
    # and dropped its answer: no Classic factor is ever verified on an IDX org.
    assert okta.count(path="/api/v1/authn") == 1
    assert okta.count(path_prefix="/api/v1/authn/factors/") == 0
    assert okta.count(path="/idp/idx/challenge/answer") == 1  # one MFA for three profiles
    assert okta.count(path="/.well-known/okta-organization") == 1


def test_idx_org_with_push_and_number_challenge(sandbox: Sandbox) -> None:
    sandbox.okta.pipeline = "idx"
    sandbox.okta.idx_poll_refresh_ms = 10
    with_push(sandbox, ["WAITING", "WAITING", "SUCCESS"], answer=58)
    result = sandbox.run("env", "admin", "--shell", "bash", "--factor", "push")
    assert result.returncode == 0, result.stderr
    assert f"OKENV_ROLE_ARN=$'{ADMIN}'" in result.stdout
    assert "Approve the push on Alice's iPhone" in result.stderr
    assert "tap  58" in result.stderr
    # The challenge stays off stdout (random keys and the expiry may contain the digits "58").
    assert "tap" not in result.stdout and "Approve" not in result.stdout


# -- Classic push ------------------------------------------------------------------------------


def test_push_with_number_challenge(sandbox: Sandbox) -> None:
    with_push(sandbox, ["WAITING", "WAITING", "SUCCESS"], answer=92)
    result = sandbox.run("env", "admin", "--shell", "bash", "--factor", "push", env=FAST)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("export ") >= 5
    assert "okenv: Approve the push on Alice's iPhone…" in result.stderr
    assert result.stderr.count("tap  92") == 1


@pytest.mark.parametrize(("result", "needle"), [("REJECTED", "rejected"), ("TIMEOUT", "timed")])
def test_push_rejected_exits_3(sandbox: Sandbox, result: str, needle: str) -> None:
    with_push(sandbox, ["WAITING", result])
    run = sandbox.run("env", "admin", "--factor", "push", env=FAST)
    assert run.returncode == 3 and run.stdout == ""
    assert needle in run.stderr


def test_push_wait_is_bounded(sandbox: Sandbox) -> None:
    with_push(sandbox, ["WAITING"])
    run = sandbox.run("env", "admin", "--factor", "push", env={**FAST, "OKENV_PUSH_TIMEOUT": "0.2"})
    assert run.returncode == 3
    assert "not answered within 0.2 s" in run.stderr
    assert sandbox.okta.count(path="/api/v1/authn/cancel") == 1


def test_ctrl_c_during_push(sandbox: Sandbox, tmp_path: Path) -> None:
    with_push(sandbox, ["WAITING"])
    out = tmp_path / "out.sh"
    env = {k: v for k, v in sandbox.env.items() if k != "OKENV_TOTP_SECRET"}
    env["OKENV_POLL_INTERVAL"] = "0.05"
    child = pexpect.spawn(
        "bash",
        [
            "--norc",
            "--noprofile",
            "-c",
            f"stty -a > {tmp_path}/before; {OKENV} env admin --shell bash --factor push > {out};"
            f" echo EXIT=$?; stty -a > {tmp_path}/after",
        ],
        env=env,
        encoding="utf-8",
        timeout=30,
    )
    child.expect("Approve the push on Alice's iPhone")
    child.expect("Approve the push")  # the spinner is redrawing: polls are going on
    child.sendintr()
    child.expect("okenv: interrupted")
    assert "\x1b[?25h" in (child.before or "")  # the spinner line cleared, the cursor shown
    child.expect(r"EXIT=(\d+)")
    assert child.match.group(1) == "130"
    child.expect(pexpect.EOF)
    child.close()
    assert out.read_text() == ""
    assert sandbox.okta.count(path="/api/v1/authn/cancel") == 1
    assert not sandbox.okta.transactions
    assert (tmp_path / "before").read_text() == (tmp_path / "after").read_text()
    assert not list(sandbox.cache_dir.glob("*.json"))


# -- rate limits --------------------------------------------------------------------------------


def test_rate_limit_wait_and_retry(sandbox: Sandbox) -> None:
    sandbox.okta.rate_limit_reset_in = 0.3
    sandbox.okta.fail("/api/v1/authn", 429, times=1)
    result = sandbox.run("env", "admin", "--shell", "bash")
    assert result.returncode == 0, result.stderr
    assert "rate limit was reached; retrying in" in result.stderr
    assert sandbox.okta.count(path="/api/v1/authn") == 2


def test_rate_limit_that_persists_exits_5(sandbox: Sandbox) -> None:
    sandbox.okta.rate_limit_reset_in = 0.3
    sandbox.okta.fail("/api/v1/authn", 429)
    result = sandbox.run("env", "admin", "--shell", "bash")
    assert result.returncode == 5 and result.stdout == ""
    assert "rate limit was hit" in result.stderr
    assert sandbox.okta.count(path="/api/v1/authn") == 2


def test_engine_is_remembered_and_probed_again_when_its_flow_is_refused(sandbox: Sandbox) -> None:
    """Issue 13: the engine probe is paid once per org (kept 30 days), not per day; when
    the org has moved since (here: remembered as Classic, now an Identity Engine org that
    turned the Classic API off), the refused flow makes okenv probe again and sign in the
    new way, once, and remember that."""
    assert sandbox.run("login", "admin").returncode == 0
    assert sandbox.okta.count(path="/.well-known/okta-organization") == 1
    assert sandbox.run("logout").returncode == 0
    sandbox.okta.reset_log()
    sandbox.okta.pipeline = "idx"
    sandbox.okta.fail(r"/api/v1/authn", status=403, method="POST")  # the Classic API is off
    result = sandbox.run("login", "admin", "--debug")
    assert result.returncode == 0, result.stderr
    assert "the remembered engine (classic) was refused; Okta runs idx" in result.stderr
    assert sandbox.okta.count(path="/.well-known/okta-organization") == 1
    assert sandbox.okta.count(path="/idp/idx/challenge/answer") >= 1
    sandbox.okta.reset_log()
    assert sandbox.run("logout").returncode == 0
    assert sandbox.run("login", "admin").returncode == 0  # remembered: idx, no probe
    assert sandbox.okta.count(path="/.well-known/okta-organization") == 0
