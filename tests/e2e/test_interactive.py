"""A person at a terminal: password, code and role menu through a real pty (pexpect);
prompts are visible on the terminal while stdout carries only shell code."""

from __future__ import annotations

from pathlib import Path

import pexpect
import pytest

from tests.e2e.conftest import OKENV, READONLY, Sandbox
from tests.fakes.okta import DEFAULT_PASSWORD, totp_now


def spawn(box: Sandbox, command: str, out: Path) -> pexpect.spawn:
    env = {k: v for k, v in box.env.items() if k not in ("OKENV_PASSWORD", "OKENV_TOTP_SECRET")}
    child = pexpect.spawn(
        "bash",
        ["--norc", "--noprofile", "-c", f"{command} > {out}"],
        env=env,
        encoding="utf-8",
        timeout=30,
    )
    return child


def test_password_code_and_menu(sandbox: Sandbox, tmp_path: Path) -> None:
    out = tmp_path / "out.sh"
    child = spawn(sandbox, f"{OKENV} env pick --shell bash", out)
    child.expect("Okta password for alice@example.com: ")
    child.sendline(DEFAULT_PASSWORD)
    child.expect(r"MFA code \(Google Authenticator\): ")
    child.sendline(totp_now())
    child.expect("Choose an AWS role:")
    child.expect(r"Choose \[1-2\]: ")
    child.sendline("2")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    transcript = child.before or ""
    assert DEFAULT_PASSWORD not in transcript  # the password is not echoed
    text = out.read_text()
    assert all(line.startswith(("export ", "unset ")) for line in text.splitlines()), text
    assert f"export OKENV_ROLE_ARN=$'{READONLY}';" in text


def test_wrong_code_can_be_retried(sandbox: Sandbox, tmp_path: Path) -> None:
    out = tmp_path / "out.sh"
    child = spawn(sandbox, f"{OKENV} login admin", out)
    child.expect("password")
    child.sendline(DEFAULT_PASSWORD)
    child.expect("MFA code")
    child.sendline("000000" if totp_now() != "000000" else "111111")
    child.expect(r"not accepted; try again \(2 left\)")
    child.expect("MFA code")
    child.sendline(totp_now())
    child.expect("valid until")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert out.read_text() == ""


@pytest.mark.parametrize("at", ["password", "code"])
def test_ctrl_c_at_a_prompt(sandbox: Sandbox, tmp_path: Path, at: str) -> None:
    out = tmp_path / "out.sh"
    child = spawn(sandbox, f"{OKENV} env admin --shell bash", out)
    child.expect("password")
    if at == "code":
        child.sendline(DEFAULT_PASSWORD)
        child.expect("MFA code")
    child.sendintr()
    child.expect("okenv: interrupted")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130
    assert out.read_text() == ""
    assert not list(sandbox.cache_dir.glob("*.json")) if sandbox.cache_dir.exists() else True
