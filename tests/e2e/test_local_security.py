"""Security, round two — the local findings, reproduced as found and shown to hold: server
text on the terminal, a config path that is not a regular file, directories okenv creates,
core dumps during a login (tests/README.md, "Security")."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pexpect

from tests.e2e.conftest import ADMIN, OKENV, Sandbox, config_text
from tests.fakes.okta import DEFAULT_PASSWORD, totp_now

HOSTILE = "\x1b]0;pwned\x07\x1b[2J\x1b[1A\rokenv: logged in as root\n\u202egnp.exe"


def test_okta_error_summary_reaches_the_terminal_without_control_characters(
    sandbox: Sandbox,
) -> None:
    sandbox.okta.fail(
        "/api/v1/authn",
        400,
        body={"errorCode": "E0000001", "errorSummary": HOSTILE, "errorCauses": []},
    )
    result = sandbox.run("env", "admin", "--shell", "bash")
    assert result.returncode == 5, result.stderr
    assert result.stdout == ""
    assert "\\x1b]0;pwned\\x07" in result.stderr  # shown, but as text
    for char in ("\x1b", "\x07", "\r", "\u202e"):
        assert char not in result.stderr, repr(result.stderr)
    assert len(result.stderr.splitlines()) <= 2, result.stderr  # no fake extra line


def test_config_that_is_a_fifo_or_a_device_never_blocks(sandbox: Sandbox, tmp_path: Path) -> None:
    """Found: OKENV_CONFIG naming a FIFO blocked forever, even on TAB (completion). Now it
    is an error at once; completion offers nothing."""
    fifo = tmp_path / "config.fifo"
    os.mkfifo(fifo)
    for config in (str(fifo), "/dev/null", "/dev/zero"):
        env = {"OKENV_CONFIG": config}
        result = sandbox.run("env", "admin", "--shell", "bash", env=env, timeout=20)
        assert result.returncode == 2, result.stderr
        assert f"cannot read config file {config}: it is not a regular file" in result.stderr
        assert result.stdout == ""
        completion = sandbox.run("__complete-profiles", "", env=env, timeout=20)
        assert (completion.returncode, completion.stdout) == (0, ""), completion.stderr


def test_config_over_the_size_cap_is_refused(sandbox: Sandbox) -> None:
    sandbox.write_config(sandbox.config.read_text() + "#" * (1024 * 1024) + "\n")
    result = sandbox.run("env", "admin", "--shell", "bash")
    assert result.returncode == 2, result.stderr
    assert "is larger than 1024 KiB" in result.stderr


def _core_limit(pid: int) -> str:
    limits = Path(f"/proc/{pid}/limits").read_text()
    line = next(line for line in limits.splitlines() if line.startswith("Max core file size"))
    return line.split()[4]  # the soft limit


def test_no_core_dumps_while_a_login_holds_secrets(sandbox: Sandbox, tmp_path: Path) -> None:
    """Found: a crash during a login could dump the password and tokens into a core file.
    RLIMIT_CORE is 0 while the login runs (here: waiting for the MFA code, the password in
    memory), and comes back for the command `okenv exec` runs."""
    env = {k: v for k, v in sandbox.env.items() if k not in ("OKENV_PASSWORD", "OKENV_TOTP_SECRET")}
    out = tmp_path / "out.sh"
    child = pexpect.spawn(
        "bash",
        ["--norc", "-c", f"ulimit -c unlimited && exec {OKENV} env admin --shell bash > {out}"],
        env=env,
        encoding="utf-8",
        timeout=30,
    )
    child.expect("Okta password for ")
    assert _core_limit(child.pid) == "0"  # the login has begun (the shell's was unlimited)
    child.sendline(DEFAULT_PASSWORD)
    child.expect("MFA code")
    assert _core_limit(child.pid) == "0"
    child.sendline(totp_now())
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    sandbox.run("logout")
    result = subprocess.run(
        [
            "bash",
            "--norc",
            "-c",
            f"ulimit -c unlimited && exec {OKENV} exec admin -- sh -c 'ulimit -c'",
        ],
        env=sandbox.env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    assert (result.returncode, result.stdout) == (0, "unlimited\n"), result.stderr


def test_posix_output_for_a_glob_profile_name_is_refused_whole(sandbox: Sandbox) -> None:
    sandbox.write_config(
        config_text(sandbox.okta.app_url) + f'\n[profiles."a*b"]\nrole = "{ADMIN}"\n'
    )
    result = sandbox.run("env", "a*b", "--shell", "posix")
    assert (result.returncode, result.stdout) == (2, ""), result.stderr
    assert result.stderr.splitlines() == [
        "okenv: cannot write OKENV_PROFILE for --shell posix: its value holds '*', which an "
        "unquoted eval $(okenv ...) would split or expand",
        'okenv: quote the eval, eval "$(okenv ...)", with --shell bash or zsh (safe either '
        "way), or rename the profile",
    ]
    assert sandbox.run("env", "a*b", "--shell", "bash").returncode == 0  # cached, bash is safe
