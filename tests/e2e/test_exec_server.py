"""`okenv exec --server [--imds]` end to end: the installed okenv, the fake Okta org, a fake
STS whose credentials live just over the 5-minute margin (so renewal is due seconds after
each login), and a plain boto3 child that knows nothing of okenv.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from urllib.parse import urlsplit

import pexpect
import pytest

from tests.e2e.conftest import OKENV, Sandbox
from tests.fakes.sts_short import ShortLivedSts
from tests.unit.test_server_sdk import CHILD

pytestmark = pytest.mark.slow

LIFETIME = 308  # renewal is due 8 s after each login (the margin is the cache's 300 s)
PY = sys.executable
NO_SECRETS = {"OKENV_PASSWORD": None, "OKENV_TOTP_SECRET": None}


@pytest.fixture
def fake_sts() -> Iterator[ShortLivedSts]:
    with ShortLivedSts(lifetime=LIFETIME) as sts:
        yield sts


def server_run(
    box: Sandbox, *words: str, env: dict[str, str | None] | None = None
) -> subprocess.CompletedProcess[str]:
    return box.run("exec", "--server", *words, env=env, timeout=120)


@pytest.mark.parametrize("imds", [False, True], ids=["ecs", "imds"])
def test_rotations_by_okta_session_reuse(sandbox: Sandbox, imds: bool) -> None:
    assert sandbox.run("login", "admin").returncode == 0
    sandbox.okta.reset_log()
    # No password, no seed: only the Okta session can renew.
    mode = ["--imds"] if imds else []
    result = server_run(
        sandbox, *mode, "admin", "--", PY, "-c", CHILD, "imds" if imds else "ecs", "2",
        env={**NO_SECRETS, "AWS_DEFAULT_REGION": "us-east-1"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    keys = result.stdout.split()
    assert len(keys) == 3 == len(set(keys))
    used = sandbox.sts.caller_keys()
    assert len(set(used)) >= 3
    assert set(used) | set(keys) <= set(sandbox.sts.issued)
    assert not any(r.path == "/api/v1/authn" for r in sandbox.okta.requests)
    assert result.stderr == ""


def test_rotation_by_a_full_login_with_the_seed(sandbox: Sandbox) -> None:
    assert sandbox.run("login", "admin").returncode == 0
    sandbox.okta.sessions.clear()  # renewing takes a full login: password and TOTP seed
    sandbox.okta.reset_log()
    result = server_run(
        sandbox, "admin", "--", PY, "-c", CHILD, "ecs", "1", env={"AWS_DEFAULT_REGION": "us-east-1"}
    )
    assert result.returncode == 0, result.stderr
    assert len(set(result.stdout.split())) == 2
    assert any(r.path == "/api/v1/authn" for r in sandbox.okta.requests)


PROBE = textwrap.dedent(
    """
    import sys, time
    from botocore.credentials import ContainerProvider
    provider = ContainerProvider()
    first = provider.load().get_frozen_credentials().access_key
    print("first", first, flush=True)
    sys.stdin.readline()  # the test says when okenv has given up renewing
    again = provider.load().get_frozen_credentials().access_key
    print("again", again, flush=True)
    """
)


def test_prompt_needed_while_the_command_owns_the_terminal(sandbox: Sandbox) -> None:
    assert sandbox.run("login", "admin").returncode == 0
    sandbox.okta.sessions.clear()  # renewing needs the password: a prompt
    env = {k: v for k, v in sandbox.env.items() if k not in NO_SECRETS}
    child = pexpect.spawn(
        OKENV, ["exec", "--server", "admin", "--", PY, "-c", PROBE],
        env=env, encoding="utf-8", timeout=60,
    )  # fmt: skip
    try:
        child.expect(r"first (\w+)")
        first = child.match.group(1)
        child.expect(
            r"okenv: renewing the credentials of admin needs a prompt and the command owns "
            r"the terminal; serving the current ones until \d\d:\d\d:\d\d UTC"
        )
        child.expect("okenv login admin` in another terminal")
        child.sendline("")
        child.expect(r"again (\w+)")
        assert child.match.group(1) == first  # the old credentials, still valid
        child.expect(pexpect.EOF)
        transcript = child.before
    finally:
        child.close()
    assert child.exitstatus == 0
    assert "needs a prompt" not in transcript  # said once
    assert "password" not in transcript.lower()  # never asked while the command ran


REPORT_ENV = "import json, os, sys; print(json.dumps(dict(os.environ)))"


def test_the_command_gets_an_endpoint_and_no_keys_or_secrets(sandbox: Sandbox) -> None:
    result = server_run(
        sandbox, "admin", "--", PY, "-c", REPORT_ENV, env={"OKENV_SECURITY_ANSWER": "blue"}
    )
    assert result.returncode == 0, result.stderr
    env = json.loads(result.stdout)
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_CREDENTIAL_EXPIRATION",
        "OKENV_EXPIRES_AT",
        "OKENV_PASSWORD",
        "OKENV_TOTP_SECRET",
        "OKENV_SECURITY_ANSWER",
    ):
        assert name not in env, name
    uri = urlsplit(env["AWS_CONTAINER_CREDENTIALS_FULL_URI"])
    assert uri.hostname == "127.0.0.1"
    assert len(env["AWS_CONTAINER_AUTHORIZATION_TOKEN"]) >= 43
    assert env["OKENV_PROFILE"] == "admin"
    with pytest.raises(ConnectionRefusedError):  # closed with the command
        socket.create_connection(("127.0.0.1", uri.port or 0), timeout=5).close()


@pytest.mark.parametrize("flags", [("--server", "--imds"), ("--imds",)])
def test_imds_gives_the_metadata_endpoint(sandbox: Sandbox, flags: tuple[str, ...]) -> None:
    result = sandbox.run("exec", *flags, "admin", "--", PY, "-c", REPORT_ENV)  # --imds: a server
    assert result.returncode == 0, result.stderr
    env = json.loads(result.stdout)
    assert env["AWS_EC2_METADATA_SERVICE_ENDPOINT"].startswith("http://127.0.0.1:")
    assert "AWS_EC2_METADATA_DISABLED" not in env  # the hygiene fixture sets it for okenv
    assert "AWS_CONTAINER_CREDENTIALS_FULL_URI" not in env


@pytest.mark.parametrize(
    ("source", "code"),
    [
        ("raise SystemExit(0)", 0),
        ("raise SystemExit(7)", 7),
        ("raise SystemExit(255)", 255),
        ("import os, signal; os.kill(os.getpid(), signal.SIGKILL)", 128 + signal.SIGKILL),
    ],
)
def test_exit_codes(sandbox: Sandbox, source: str, code: int) -> None:
    result = server_run(sandbox, "admin", "--", PY, "-c", source)
    assert result.returncode == code, result.stderr


def test_missing_command_is_127(sandbox: Sandbox) -> None:
    result = server_run(sandbox, "admin", "--", "no-such-command-okenv")
    assert result.returncode == 127
    assert result.stderr.startswith("okenv: command not found")


WAIT_FOR_SIGNAL = textwrap.dedent(
    """
    import os, signal, sys
    for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(number, lambda n, f: sys.exit(100 + n))
    print(os.getppid(), flush=True)
    while True:
        signal.pause()
    """
)


@pytest.mark.parametrize("number", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_signals_reach_the_command(sandbox: Sandbox, number: int) -> None:
    process = subprocess.Popen(
        [OKENV, "exec", "--server", "admin", "--", PY, "-c", WAIT_FOR_SIGNAL],
        env=sandbox.env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert process.stdout is not None
    assert int(process.stdout.readline()) == process.pid  # okenv is the command's parent
    process.send_signal(number)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 100 + number, err


def test_help_says_when_to_use_the_server(sandbox: Sandbox) -> None:
    result = sandbox.run("exec", "--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    assert "--server" in text and "--imds" in text
    assert "outlive" in text


def test_no_server_without_the_flag(sandbox: Sandbox) -> None:
    result = sandbox.run("exec", "admin", "--", PY, "-c", REPORT_ENV)
    env = json.loads(result.stdout)
    assert "AWS_CONTAINER_CREDENTIALS_FULL_URI" not in env
    assert env["AWS_ACCESS_KEY_ID"].startswith("ASIA")
