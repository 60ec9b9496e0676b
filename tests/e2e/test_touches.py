"""The everyday touches through a real pty: the progress spinner (on a terminal only), the
one-line summary a login ends with, did-you-mean for mistyped words."""

from __future__ import annotations

from pathlib import Path

import pexpect

from tests.e2e.conftest import OKENV, Sandbox
from tests.fakes.okta import DEFAULT_PASSWORD, totp_now

SPINNER = "Signing in to 127.0.0.1…"


def spawn(
    box: Sandbox, command: str, env: dict[str, str] | None = None, *, asks: bool = False
) -> pexpect.spawn:
    """``command`` in bash on a pty; ``asks``: without OKENV_PASSWORD/OKENV_TOTP_SECRET."""
    merged = {**box.env, **(env or {})}
    if asks:
        merged = {
            k: v for k, v in merged.items() if k not in ("OKENV_PASSWORD", "OKENV_TOTP_SECRET")
        }
    return pexpect.spawn(
        "bash",
        ["--norc", "--noprofile", "-c", command],
        env=merged,
        encoding="utf-8",
        timeout=30,
    )


def finish(child: pexpect.spawn) -> str:
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    return child.before or ""


def test_a_slow_sign_in_shows_a_spinner_and_clears_it(sandbox: Sandbox, tmp_path: Path) -> None:
    sandbox.okta.slow(r"/api/v1/authn", 1.0)
    child = spawn(sandbox, f"{OKENV} env admin --shell bash > {tmp_path / 'out'}")
    child.expect_exact(SPINNER)
    child.expect_exact("\r\x1b[2K")  # the line is cleared when the step ends
    rest = finish(child)
    assert "okenv: admin: Admin in 123456789012, valid until " in rest
    assert "export AWS_ACCESS_KEY_ID=" in (tmp_path / "out").read_text()


def test_no_spinner_when_stderr_is_not_a_terminal(sandbox: Sandbox, tmp_path: Path) -> None:
    sandbox.okta.slow(r"/api/v1/authn", 1.0)
    err = tmp_path / "err"
    child = spawn(sandbox, f"{OKENV} env admin --shell bash > /dev/null 2> {err}")
    transcript = finish(child)
    assert "Signing in" not in transcript + err.read_text()
    assert "⠋" not in transcript
    assert err.read_text() == ""  # nor the summary: a script's log stays as it was


def test_a_quick_step_draws_nothing(sandbox: Sandbox) -> None:
    child = spawn(sandbox, f"{OKENV} login admin")
    transcript = finish(child)
    assert "Signing in" not in transcript
    assert "admin: Admin in 123456789012, valid until " in transcript


def test_the_spinner_gives_way_to_a_prompt(sandbox: Sandbox) -> None:
    sandbox.okta.slow(r"/api/v1/authn", 1.0)
    child = spawn(sandbox, f"{OKENV} login admin", asks=True)
    child.expect_exact("Okta password for alice@example.com: ")
    child.sendline(DEFAULT_PASSWORD)
    child.expect_exact(SPINNER)
    child.expect_exact("MFA code (Google Authenticator): ")
    before = child.before or ""
    assert before.rstrip(" ").endswith("\x1b[?25h")  # cleared, cursor back, then the prompt
    child.sendline(totp_now())
    assert "admin: Admin in 123456789012, valid until " in finish(child)


def test_a_cached_login_says_so(sandbox: Sandbox) -> None:
    assert sandbox.run("login", "admin").returncode == 0
    again = sandbox.run("login", "admin")
    assert again.returncode == 0
    assert "admin: Admin in 123456789012, valid until " in again.stderr
    assert "; cached)" in again.stderr


def test_a_mistyped_command_is_not_a_profile(sandbox: Sandbox) -> None:
    for args in (["lgin", "admin"], ["lgin"]):
        result = sandbox.run(*args)
        assert result.returncode == 2
        assert (
            result.stderr.splitlines()[0] == "okenv: unknown command 'lgin'; did you mean 'login'?"
        )
        assert result.stdout == ""


def test_a_mistyped_profile_gets_the_nearest_names(sandbox: Sandbox) -> None:
    result = sandbox.run("admn")
    assert result.returncode == 2
    assert "did you mean 'admin'?" in result.stderr


def test_mistyped_values(sandbox: Sandbox) -> None:
    shell = sandbox.run("env", "admin", "--shell", "bsh")
    assert shell.returncode == 2 and "did you mean 'bash'" in shell.stderr
    factor = sandbox.run("env", "admin", "--factor", "puhs")
    assert factor.returncode == 2 and "did you mean 'push'?" in factor.stderr


def test_help_is_dash_dash_help(sandbox: Sandbox) -> None:
    assert sandbox.run("help").stdout == sandbox.run("--help").stdout != ""
    assert sandbox.run("help", "login").stdout == sandbox.run("login", "--help").stdout


def test_status_of_an_unknown_profile(sandbox: Sandbox) -> None:
    result = sandbox.run("status", "amdin")
    assert result.returncode == 2
    assert "unknown profile 'amdin'" in result.stderr
    assert "did you mean 'admin'?" in result.stderr


def test_a_code_that_cannot_be_one_is_asked_again_at_once(sandbox: Sandbox) -> None:
    child = spawn(sandbox, f"{OKENV} login admin", asks=True)
    child.expect_exact("Okta password for alice@example.com: ")
    child.sendline(DEFAULT_PASSWORD)
    for typo, problem in (("12345", "a code has 6 to 8 digits, not 5"), ("12e456", "digits only")):
        child.expect_exact("MFA code (Google Authenticator): ")
        child.sendline(typo)
        child.expect_exact(f"{problem}; try again")
    child.expect_exact("MFA code (Google Authenticator): ")
    child.sendline(totp_now())
    assert "admin: Admin in 123456789012, valid until " in finish(child)
    verifies = [r for r in sandbox.okta.requests if r.path.endswith("/verify")]
    assert len(verifies) == 1  # the typos never reached Okta


MANY_ROLES = [
    (f"arn:aws:iam::{account}:role/{name}", f"arn:aws:iam::{account}:saml-provider/Okta")
    for account, names in (
        ("111111111111", ("Admin", "Deploy", "ReadOnly")),
        ("222222222222", ("Admin", "ReadOnly")),
        ("333333333333", ("Audit", "Billing")),
    )
    for name in names
]


def picker(box: Sandbox, out: Path, term: str = "xterm", after: str = "") -> pexpect.spawn:
    box.okta.roles = list(MANY_ROLES)
    command = f"{OKENV} env pick --shell bash > {out}; {after}"
    child = spawn(box, command, env={"TERM": term})
    if term != "dumb":
        child.expect_exact("Choose an AWS role:")
        child.expect_exact("(7/7; type to filter)")
    return child


def test_the_picker_filters_as_you_type(sandbox: Sandbox, tmp_path: Path) -> None:
    out = tmp_path / "out"
    child = picker(sandbox, out)
    child.send("2222 read")
    child.expect_exact("(1/7; type to filter)")
    child.send("\r")
    child.expect_exact('set role = "222222222222/ReadOnly" in [profiles.pick]')
    finish(child)
    assert "OKENV_ROLE_ARN=$'arn:aws:iam::222222222222:role/ReadOnly'" in out.read_text()


def test_the_picker_moves_with_the_arrow_keys(sandbox: Sandbox, tmp_path: Path) -> None:
    out = tmp_path / "out"
    child = picker(sandbox, out)
    child.send("admin")
    child.expect_exact("(2/7; type to filter)")
    child.send("\x1b[B")  # down: the second Admin
    child.expect_exact("> 222222222222")
    child.send("\x7f" * 5 + "\x1b[A\r")  # widen again, up (back to the first), Enter
    child.expect_exact('set role = "111111111111/Admin" in [profiles.pick]')
    finish(child)
    assert "OKENV_ROLE_ARN=$'arn:aws:iam::111111111111:role/Admin'" in out.read_text()


def test_ctrl_c_in_the_picker_restores_the_terminal(sandbox: Sandbox, tmp_path: Path) -> None:
    child = picker(sandbox, tmp_path / "out", after="echo rc=$?; stty -a")
    child.sendintr()
    child.expect_exact("okenv: interrupted")
    child.expect_exact("rc=130")
    modes = finish(child)
    assert " icanon" in modes and " echo " in modes, modes
    assert (tmp_path / "out").read_text() == ""


def test_a_dumb_terminal_keeps_the_numbered_menu(sandbox: Sandbox, tmp_path: Path) -> None:
    out = tmp_path / "out"
    child = picker(sandbox, out, term="dumb")
    child.expect_exact("Choose [1-7]: ")
    child.sendline("5")
    child.expect_exact('set role = "222222222222/ReadOnly" in [profiles.pick]')
    finish(child)
    assert "OKENV_ROLE_ARN=$'arn:aws:iam::222222222222:role/ReadOnly'" in out.read_text()


def test_init_without_a_shell_detects_it(sandbox: Sandbox) -> None:
    detected = sandbox.run("init", env={"SHELL": "/usr/bin/zsh"})
    assert detected.returncode == 0
    assert detected.stdout == sandbox.run("init", "zsh").stdout


def test_shell_help_names_posix(sandbox: Sandbox) -> None:
    assert "posix" in sandbox.run("env", "--help").stdout
