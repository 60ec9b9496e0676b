"""The installed okenv against the fake org's Identity Engine as a real org answers (issue 10):
each step okenv answers or refuses, its exit code, shell code only on stdout, Okta's own
text on stderr, and a fake org that saw only the fields each form declared (the fixture
fails a test whose posts the org refused). Classic where the step exists there too."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pexpect
import pytest

from tests.e2e.conftest import ADMIN, OKENV, Sandbox, config_text
from tests.e2e.test_interactive import spawn
from tests.fakes.okta import DEFAULT_PASSWORD, DEFAULT_TOTP_SECRET, FakeFactor, FakeUser

FAST = {"OKENV_POLL_INTERVAL": "0.01"}
ANSWER = "broccoli"


def idx(box: Sandbox, *factors: FakeFactor) -> None:
    box.okta.pipeline = "idx"
    if factors:
        box.okta.users = [FakeUser("alice@example.com", DEFAULT_PASSWORD, list(factors))]


def assert_shell_code(stdout: str) -> None:
    lines = stdout.splitlines()
    assert lines, "no shell code"
    assert all(line.startswith(("export ", "unset ")) for line in lines), stdout
    assert f"export OKENV_ROLE_ARN=$'{ADMIN}';" in lines


def env_admin(box: Sandbox, *args: str, env: dict[str, str | None] | None = None) -> str:
    """``okenv env admin``; asserts success, shell code only and a clean stderr."""
    result = box.run("env", "admin", "--shell", "bash", *args, env={**FAST, **(env or {})})
    assert result.returncode == 0, result.stderr
    assert_shell_code(result.stdout)
    assert "Traceback" not in result.stderr
    assert box.okta.idx_rejections == []
    return result.stderr


def posts(box: Sandbox, name: str) -> list[dict[str, object]]:
    return [body for form, body in box.okta.idx_posts if form == name]


def ov_totp() -> FakeFactor:
    return FakeFactor(
        "uftokta000000000001", "token:software:totp", "OKTA", secret=DEFAULT_TOTP_SECRET
    )


def google() -> FakeFactor:
    return FakeFactor(
        "uftgoogle00000000001", "token:software:totp", "GOOGLE", secret=DEFAULT_TOTP_SECRET
    )


def question() -> FakeFactor:
    return FakeFactor("ufsquestion00000001", "question", "OKTA", passcode=ANSWER)


@pytest.mark.parametrize("factor", ["okta-totp", "totp", "auto"])
def test_okta_verify_code(sandbox: Sandbox, factor: str) -> None:
    idx(sandbox, ov_totp())
    env_admin(sandbox, "--factor", factor)
    [answer] = posts(sandbox, "challenge-authenticator")
    assert answer["credentials"] == {"totp": answer["credentials"]["totp"]}  # type: ignore[index]


@pytest.mark.parametrize(
    ("kind", "method", "label"),
    [
        ("email", "email", "Email to a***@example.com"),
        ("call", "voice", "Voice call to +1 XXX-XXX-4321"),
    ],
)
def test_verification_data_email_and_voice_only(
    sandbox: Sandbox, tmp_path: Path, kind: str, method: str, label: str
) -> None:
    idx(sandbox, FakeFactor(f"{kind}1", kind, "OKTA", passcode="424242"))
    sandbox.okta.idx_verification_data = True
    out = tmp_path / "out.sh"
    child = spawn(sandbox, f"{OKENV} env admin --shell bash", out)
    child.expect("Okta password for alice@example.com: ")
    child.sendline(DEFAULT_PASSWORD)
    child.expect(re.escape(f"Code from the {label} (empty to send a new one): "))
    child.sendline("424242")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    assert_shell_code(out.read_text())
    [data] = posts(sandbox, "authenticator-verification-data")
    assert data["authenticator"] == {"id": data["authenticator"]["id"], "methodType": method}  # type: ignore[index]
    assert sandbox.okta.idx_rejections == []


def test_push_with_auto_challenge_off(sandbox: Sandbox) -> None:
    idx(sandbox, FakeFactor("opfpush01", "push", "OKTA", push_results=["WAITING", "SUCCESS"]))
    sandbox.okta.idx_push_auto_challenge = False
    sandbox.okta.idx_poll_refresh_ms = 10
    stderr = env_admin(sandbox, "--factor", "push")
    assert "Approve the push on Alice's iPhone" in stderr
    [data] = posts(sandbox, "authenticator-verification-data")
    assert data["authenticator"]["methodType"] == "push"  # type: ignore[index]


@pytest.mark.parametrize("knob", ["idx_optional_enroll", "idx_passkey_promotion"])
def test_optional_enrollment_and_promotion_are_skipped(sandbox: Sandbox, knob: str) -> None:
    idx(sandbox)
    setattr(sandbox.okta, knob, True)
    stderr = env_admin(sandbox)
    assert "okenv: skipped Okta's optional" in stderr
    assert len(posts(sandbox, "skip")) == 1


@pytest.mark.parametrize(("setting", "posted"), [(None, False), ("true", True)])
def test_keep_me_signed_in(sandbox: Sandbox, setting: str | None, posted: bool) -> None:
    idx(sandbox)
    sandbox.okta.idx_keep_me_signed_in = True
    if setting is not None:
        text = config_text(sandbox.okta.app_url)
        sandbox.write_config(
            text.replace("[defaults]\n", f"[defaults]\nokta_keep_signed_in = {setting}\n")
        )
    env_admin(sandbox)
    assert sandbox.okta.idx_kmsi == [posted]


def test_fastpass_probe_is_cancelled(sandbox: Sandbox) -> None:
    idx(sandbox)
    sandbox.okta.idx_device_probe = True
    env_admin(sandbox)
    assert sandbox.okta.count(path="/idp/idx/authenticators/poll/cancel") == 1
    assert sandbox.okta.count(path="/idp/idx/authenticators/poll") == 0


@pytest.mark.parametrize(
    ("first", "factor"),
    [
        ("webauthn", FakeFactor("fwf01", "webauthn", "FIDO")),
        ("duo", FakeFactor("dsf01", "web", "DUO")),
        ("security_question", question()),  # no answer and no terminal
    ],
)
def test_unanswerable_challenge_picks_another(
    sandbox: Sandbox, first: str, factor: FakeFactor
) -> None:
    idx(sandbox, factor, google())
    sandbox.okta.idx_first_challenge = first
    stderr = env_admin(sandbox)
    assert "choosing another" in stderr
    [select] = posts(sandbox, "select-authenticator-authenticate")
    assert select["authenticator"]["methodType"] == "otp"  # type: ignore[index]


@pytest.mark.parametrize("engine", ["idx", "classic"])
def test_security_question_from_the_environment(sandbox: Sandbox, engine: str) -> None:
    if engine == "idx":
        idx(sandbox, question())
    else:
        sandbox.okta.users = [FakeUser("alice@example.com", DEFAULT_PASSWORD, [question()])]
    env = {"OKENV_SECURITY_ANSWER": ANSWER, "OKENV_TOTP_SECRET": None}
    result = sandbox.run("exec", "admin", "--debug", "--factor", "question", "--", "env", env=env)
    assert result.returncode == 0, result.stderr
    assert "OKENV_SECURITY_ANSWER" not in result.stdout and ANSWER not in result.stdout
    assert ANSWER not in result.stderr  # not in --debug either
    assert "AWS_SESSION_TOKEN=" in result.stdout
    assert sandbox.okta.idx_rejections == []
    assert ANSWER not in "".join(p.read_text() for p in sandbox.cache_dir.rglob("*") if p.is_file())


def test_security_question_typed(sandbox: Sandbox, tmp_path: Path) -> None:
    idx(sandbox, question())
    out = tmp_path / "out.sh"
    child = spawn(sandbox, f"{OKENV} env admin --shell bash", out)
    child.expect("Okta password for alice@example.com: ")
    child.sendline(DEFAULT_PASSWORD)
    child.expect(re.escape("Security question: What is the food you least liked as a child? "))
    child.sendline(ANSWER)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    assert ANSWER not in (child.before or "")  # asked like a password
    assert_shell_code(out.read_text())


def test_unknown_user_is_okta_s_warning(sandbox: Sandbox) -> None:
    idx(sandbox)
    sandbox.okta.idx_identify_with_password = False
    result = sandbox.run("env", "admin", env={"OKENV_USERNAME": "nobody@example.com"})
    assert result.returncode == 3 and result.stdout == ""
    assert "okenv: Okta: There is no account with the Username nobody@example.com." in result.stderr
    assert "Traceback" not in result.stderr and sandbox.okta.idx_rejections == []


def test_access_denied_beside_success(sandbox: Sandbox) -> None:
    idx(sandbox)
    sandbox.okta.idx_access_denied = True
    result = sandbox.run("env", "admin")
    assert result.returncode == 4 and result.stdout == ""
    assert "Okta: You do not have permission to perform the requested action." in result.stderr
    assert sandbox.okta.count(path="/login/token/redirect") == 0
    assert "Traceback" not in result.stderr and sandbox.okta.idx_rejections == []


@pytest.mark.parametrize("engine", ["idx", "classic"])
def test_code_reuse_two_headless_logins_in_one_window(
    sandbox: Sandbox, tmp_path: Path, engine: str
) -> None:
    if engine == "idx":
        idx(sandbox)
    sandbox.okta.reject_replayed_codes = True
    # Both logins must fall in one 30-second TOTP step (the org and okenv follow the wall
    # clock): start early in a step. This aligns with the clock; it synchronises nothing.
    left = 30 - time.time() % 30
    if left < 12:
        time.sleep(left + 0.2)
    first = sandbox.run("login", "admin", env={"OKENV_CACHE_DIR": str(tmp_path / "a")})
    second = sandbox.run("login", "admin", env={"OKENV_CACHE_DIR": str(tmp_path / "b")})
    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    assert first.stdout == second.stdout == ""
    assert "for the next code" not in first.stderr
    assert re.search(r"okenv: waiting \d+ s for the next code…", second.stderr), second.stderr
    assert "already used" not in second.stderr
