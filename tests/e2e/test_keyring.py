"""The OS keyring against a REAL Secret Service: gnome-keyring-daemon on a private D-Bus
session bus (dbus-run-session), unlocked with a test password. configure stores the
password and a TOTP seed; a login with ``keyring = true`` asks nothing; a password Okta
rejects is removed and asked again once; ``logout --forget-password`` removes both."""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator

import pexpect
import pytest

from tests.e2e.conftest import OKENV, Sandbox
from tests.fakes.okta import DEFAULT_PASSWORD, DEFAULT_TOTP_SECRET, DEFAULT_USERNAME

KEYRING_UNLOCK = "test keyring password"
STARTUP = 30.0  # seconds for the bus and the daemon to come up


@pytest.fixture
def secret_service(sandbox: Sandbox) -> Iterator[Sandbox]:
    """The sandbox with DBUS_SESSION_BUS_ADDRESS pointing at a private bus whose Secret
    Service is gnome-keyring-daemon (the bus, and the daemon with it, end after the test)."""
    for tool in ("dbus-run-session", "gnome-keyring-daemon"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (.ci/run installs dbus and gnome-keyring)")
    runtime = sandbox.home / "run"
    runtime.mkdir(mode=0o700)
    env = dict(sandbox.env)
    env.update(
        XDG_RUNTIME_DIR=str(runtime),
        XDG_DATA_HOME=str(sandbox.home / "data"),
        KEYRING_UNLOCK=KEYRING_UNLOCK,
    )
    script = (
        'printf "%s\\n" "$DBUS_SESSION_BUS_ADDRESS"; '
        'printf %s "$KEYRING_UNLOCK" | gnome-keyring-daemon --unlock --components=secrets '
        ">/dev/null && echo ready; exec cat >/dev/null"
    )
    proc = subprocess.Popen(
        ["dbus-run-session", "--", "sh", "-c", script],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    assert proc.stdout is not None and proc.stdin is not None
    output = b""
    deadline = time.monotonic() + STARTUP
    while b"ready\n" not in output:
        left = deadline - time.monotonic()
        ready, _, _ = select.select([proc.stdout], [], [], max(left, 0))
        chunk = os.read(proc.stdout.fileno(), 4096) if ready else b""
        if not chunk:
            proc.kill()
            proc.wait(10)
            pytest.skip(f"the Secret Service did not start: {output.decode(errors='replace')!r}")
        output += chunk
    address = output.decode().splitlines()[0]
    sandbox.env.update(
        DBUS_SESSION_BUS_ADDRESS=address,
        XDG_RUNTIME_DIR=str(runtime),
        XDG_DATA_HOME=str(sandbox.home / "data"),
    )
    try:
        yield sandbox
    finally:
        proc.stdin.close()
        proc.wait(30)


def _stored(box: Sandbox, kind: str) -> str | None:
    """What the Secret Service holds for okenv (read with keyring in a child on that bus)."""
    code = "import keyring, sys\nprint(repr(keyring.get_password(sys.argv[1], sys.argv[2])))\n"
    result = subprocess.run(
        [sys.executable, "-c", code, f"okenv:{kind}:{box.okta.url.lower()}", DEFAULT_USERNAME],
        env=box.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    value: str | None = eval(result.stdout)
    return value


def _no_secrets(box: Sandbox) -> dict[str, str | None]:
    return {"OKENV_PASSWORD": None, "OKENV_TOTP_SECRET": None}


def test_configure_remembers_and_login_asks_nothing(secret_service: Sandbox) -> None:
    box = secret_service
    box.config.unlink()
    env = {k: v for k, v in box.env.items() if k not in ("OKENV_PASSWORD", "OKENV_TOTP_SECRET")}
    child = pexpect.spawn(
        OKENV,
        ["configure", "--org", box.okta.url, "--all"],
        env=env,
        encoding="utf-8",
        timeout=60,
    )
    child.expect("Okta username: ")
    child.sendline(DEFAULT_USERNAME)
    child.expect(r"Remember the Okta password in the OS keyring\? \[y/N\]: ")
    child.sendline("y")
    child.expect(r"Also keep a TOTP seed .*\? \[y/N\]: ")
    child.sendline("y")
    child.expect(r"TOTP seed \(base32\): ")
    child.sendline(DEFAULT_TOTP_SECRET.lower())
    child.expect(f"Okta password for {DEFAULT_USERNAME}: ")
    child.sendline(DEFAULT_PASSWORD)
    child.expect(r"\? \[Y/n\]: ")
    child.sendline("")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    config = tomllib.loads(box.config.read_text())
    assert config["defaults"]["keyring"] is True
    assert DEFAULT_PASSWORD not in box.config.read_text()
    assert _stored(box, "password") == DEFAULT_PASSWORD
    assert _stored(box, "totp") == DEFAULT_TOTP_SECRET
    # No Okta session, no password or seed in the environment, no terminal: the keyring.
    assert box.run("logout").returncode == 0
    result = box.run("login", "210987654321-ReadOnly", env=_no_secrets(box))
    assert result.returncode == 0, result.stderr
    assert "valid until" in result.stderr
    # The cached path never touches the keyring.
    imported = {name.split(".")[0] for name in box.imports("env", "210987654321-ReadOnly")}
    assert "keyring" not in imported and "secretstorage" not in imported
    # logout --forget-password removes both entries.
    forgot = box.run("logout", "--forget-password")
    assert forgot.returncode == 0, forgot.stderr
    assert "2 keyring entry(ies)" in forgot.stderr
    assert _stored(box, "password") is None and _stored(box, "totp") is None


def test_rejected_password_is_removed_and_asked_again(secret_service: Sandbox) -> None:
    box = secret_service
    box.write_config(
        f'[defaults]\nusername = "{DEFAULT_USERNAME}"\nkeyring = true\n\n'
        f'[profiles.admin]\napp_url = "{box.okta.app_url}"\n'
        'role = "arn:aws:iam::123456789012:role/Admin"\n'
    )
    # A login that asked for the password stores it (keyring = true).
    env = {k: v for k, v in box.env.items() if k != "OKENV_PASSWORD"}
    child = pexpect.spawn(OKENV, ["login", "admin"], env=env, encoding="utf-8", timeout=60)
    child.expect("Okta password for ")
    child.sendline(DEFAULT_PASSWORD)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    assert _stored(box, "password") == DEFAULT_PASSWORD
    # The password changes at Okta: the stored one is refused, removed, asked once.
    box.okta.user().password = "a new password 2"
    assert box.run("logout").returncode == 0
    child = pexpect.spawn(OKENV, ["login", "admin"], env=env, encoding="utf-8", timeout=60)
    child.expect("Okta rejected the password from the OS keyring; it is removed")
    child.expect("Okta password for ")
    child.sendline("a new password 2")
    child.expect("valid until")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    assert _stored(box, "password") == "a new password 2"
    # Without a terminal, a refused stored password is one clear error, and it is gone.
    box.okta.user().password = "a third one 3"
    assert box.run("logout").returncode == 0
    failed = box.run("login", "admin", "--force", env={"OKENV_PASSWORD": None})
    assert failed.returncode == 3, failed.stderr
    assert _stored(box, "password") is None
