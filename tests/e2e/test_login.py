"""The main job end to end: Okta Classic + TOTP → SAML → role → STS → shell code / exec / cache."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime

import boto3
import pytest

from tests.e2e.conftest import ADMIN, OKENV, READONLY, Sandbox

SHELLS = {
    "bash": ["bash", "--norc", "--noprofile", "-c"],
    "zsh": ["zsh", "--no-rcs", "-c"],
    "fish": ["fish", "--no-config", "-c"],
}
SHOW = 'printf "%s\\n" "$AWS_ACCESS_KEY_ID" "$OKENV_PROFILE" "$OKENV_ROLE_ARN" "$AWS_REGION"'
EVAL = {
    "bash": f'eval "$({OKENV} env {{profile}})"; {SHOW}',
    "zsh": f'eval "$({OKENV} env {{profile}})"; {SHOW}',
    "fish": f"{OKENV} env {{profile}} | source; "
    "printf '%s\\n' $AWS_ACCESS_KEY_ID $OKENV_PROFILE $OKENV_ROLE_ARN $AWS_REGION",
}


def caller_arn(box: Sandbox, access_key: str, secret: str, token: str) -> str:
    client = boto3.client(
        "sts",
        region_name="us-east-1",
        endpoint_url=box.sts.url,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret,
        aws_session_token=token,
    )
    return str(client.get_caller_identity()["Arn"])


@pytest.mark.parametrize("shell", sorted(SHELLS))
def test_env_evaluated_in_real_shells(sandbox: Sandbox, shell: str) -> None:
    script = EVAL[shell].format(profile="readonly")
    result = subprocess.run(
        [*SHELLS[shell], script],
        env={**sandbox.env, "SHELL": f"/bin/{shell}"},
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr
    key, profile, role, region = result.stdout.splitlines()
    assert key.startswith("ASIA")
    assert (profile, role, region) == ("readonly", READONLY, "eu-west-1")
    assert result.stderr == ""


def test_credentials_work_with_boto3(sandbox: Sandbox) -> None:
    result = sandbox.run("credential-process", "admin")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["Version"] == 1
    expiration = datetime.fromisoformat(doc["Expiration"].replace("Z", "+00:00"))
    assert expiration > datetime.now(UTC)
    arn = caller_arn(sandbox, doc["AccessKeyId"], doc["SecretAccessKey"], doc["SessionToken"])
    assert arn.startswith("arn:aws:sts::123456789012:assumed-role/Admin/")


def test_cache_hit_makes_no_request(sandbox: Sandbox) -> None:
    first = sandbox.run("env", "admin", "--shell", "bash")
    assert first.returncode == 0, first.stderr
    okta_calls, sts_calls = len(sandbox.okta.requests), len(sandbox.sts.calls)
    assert okta_calls > 0 and sts_calls == 1
    second = sandbox.run("admin", "--shell", "bash")
    assert second.returncode == 0, second.stderr
    assert second.stdout == first.stdout
    assert len(sandbox.okta.requests) == okta_calls
    assert len(sandbox.sts.calls) == sts_calls
    forced = sandbox.run("env", "admin", "--shell", "bash", "--force")
    assert forced.returncode == 0
    assert len(sandbox.sts.calls) == sts_calls + 1
    assert forced.stdout != first.stdout


def test_cache_files_are_private(sandbox: Sandbox) -> None:
    assert sandbox.run("login", "admin").returncode == 0
    assert sandbox.cache_dir.stat().st_mode & 0o777 == 0o700
    files = [p for p in sandbox.cache_dir.iterdir() if p.suffix == ".json"]
    assert files
    for path in files:
        assert path.stat().st_mode & 0o777 == 0o600
        text = path.read_text()
        assert "correct horse" not in text and "JBSWY3DPEHPK3PXP" not in text


def test_full_login_request_count(sandbox: Sandbox) -> None:
    """The engine probe (first login to an org) alongside authn, then factor verify and the
    app link: nothing more. The password is at hand, so the probe and authn go out together
    (okenv.okta.engine.race) and arrive in either order."""
    assert sandbox.run("login", "admin").returncode == 0
    paths = [r.path for r in sandbox.okta.requests]
    assert sorted(paths[:2]) == ["/.well-known/okta-organization", "/api/v1/authn"]
    assert paths[2:] == [
        "/api/v1/authn/factors/" + paths[2].split("/")[-2] + "/verify",
        sandbox.okta.app_url.split(sandbox.okta.url)[1],
    ]
    sandbox.okta.reset_log()
    assert sandbox.run("login", "readonly").returncode == 0
    # Another profile of the same org: the Okta session and the engine answer are reused.
    assert [r.path for r in sandbox.okta.requests] == [paths[-1]]


def test_role_by_account_and_name(sandbox: Sandbox) -> None:
    result = sandbox.run("env", "pick", "--role", "210987654321/ReadOnly", "--shell", "bash")
    assert result.returncode == 0, result.stderr
    assert "OKENV_ROLE_ARN=" in result.stdout and "ReadOnly" in result.stdout


def test_unknown_role_exits_4_and_lists_roles(sandbox: Sandbox) -> None:
    result = sandbox.run("env", "pick", "--role", "999999999999/Nope")
    assert result.returncode == 4
    assert result.stdout == ""
    assert "999999999999/Nope" in result.stderr
    assert ADMIN in result.stderr and READONLY in result.stderr


def test_several_roles_without_terminal_fail_clearly(sandbox: Sandbox) -> None:
    result = sandbox.run("env", "pick", "--no-input")
    assert result.returncode == 4
    assert "2 roles" in result.stderr


def test_single_role_is_taken(sandbox: Sandbox) -> None:
    sandbox.okta.roles = sandbox.okta.roles[:1]
    result = sandbox.run("env", "pick", "--shell", "bash")
    assert result.returncode == 0, result.stderr
    assert "Admin" in result.stdout


def test_status_and_logout(sandbox: Sandbox) -> None:
    assert sandbox.run("status").returncode == 1
    assert sandbox.run("login", "admin").returncode == 0
    status = sandbox.run("status", "admin", "--json")
    assert status.returncode == 0
    [row] = json.loads(status.stdout)
    assert row["profile"] == "admin" and row["valid"] and row["remaining"] > 3000
    logout = sandbox.run("logout", "admin")
    assert logout.returncode == 0 and logout.stdout == ""
    assert sandbox.run("status", "admin").returncode == 1


def test_status_reads_the_active_environment(sandbox: Sandbox) -> None:
    env = {"OKENV_PROFILE": "admin", "OKENV_EXPIRES_AT": "1"}
    expired = sandbox.run("status", env=env)
    assert expired.returncode == 1 and "expired" in expired.stdout
    env["OKENV_EXPIRES_AT"] = str(int(datetime.now(UTC).timestamp()) + 3 * 3600 + 400)
    valid = sandbox.run("status", env=env)
    assert valid.returncode == 0 and valid.stdout.startswith("admin: 3h0")


def test_unset_code(sandbox: Sandbox) -> None:
    result = sandbox.run("unset", "--shell", "bash")
    assert result.returncode == 0
    for name in ("AWS_ACCESS_KEY_ID", "OKENV_PROFILE", "AWS_PROFILE", "AWS_SECURITY_TOKEN"):
        assert f"unset {name}" in result.stdout


def test_python_m_okenv(sandbox: Sandbox) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "okenv", "--version"], capture_output=True, text=True
    )
    assert result.returncode == 0 and result.stdout.startswith("okenv ")


def test_cached_path_imports_nothing_heavy(sandbox: Sandbox) -> None:
    assert sandbox.run("login", "admin").returncode == 0
    for args in (
        ["env", "admin", "--shell", "bash"],
        ["env", "--shell", "bash", "admin"],
        ["credential-process", "admin"],
        ["__complete-profiles", "a"],
    ):
        imported = {name.split(".")[0] for name in sandbox.imports(*args)}
        heavy = {
            "boto3",
            "botocore",
            "requests",
            "mechanicalsoup",
            "bs4",
            "urllib3",
            "typer",
            "fido2",
            "keyring",
            "tomlkit",
        }
        assert not imported & heavy, imported & heavy


def test_exec_cached_path_imports_nothing_heavy(sandbox: Sandbox) -> None:
    assert sandbox.run("login", "admin").returncode == 0
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "okenv", "exec", "admin", "--", "true"],
        env=sandbox.env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr
    assert "boto3" not in result.stderr and "requests" not in result.stderr


def test_moto_interop(sandbox: Sandbox) -> None:
    """A single-role assertion through moto's STS server, then GetCallerIdentity on moto."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        url = f"http://{host}:{port}"
        sandbox.okta.roles = sandbox.okta.roles[:1]
        result = sandbox.run("credential-process", "admin", env={"AWS_ENDPOINT_URL_STS": url})
        assert result.returncode == 0, result.stderr
        doc = json.loads(result.stdout)
        client = boto3.client(
            "sts",
            region_name="us-east-1",
            endpoint_url=url,
            aws_access_key_id=doc["AccessKeyId"],
            aws_secret_access_key=doc["SecretAccessKey"],
            aws_session_token=doc["SessionToken"],
        )
        assert ":assumed-role/Admin/" in client.get_caller_identity()["Arn"]
    finally:
        server.stop()


def test_env_on_stdout_only(sandbox: Sandbox) -> None:
    result = sandbox.run("env", "admin", "--shell", "fish", "--debug")
    assert result.returncode == 0, result.stderr
    assert all(line.startswith(("set ", "set -e ")) for line in result.stdout.splitlines())
    assert "okenv: debug:" in result.stderr
    assert "correct horse" not in result.stderr
    assert os.environ.get("OKENV_TOTP_SECRET") is None


# Pin this process to one CPU, then become okenv: okenv forks no worker on one CPU.
ONE_CPU = "import os, sys; os.sched_setaffinity(0, {min(os.sched_getaffinity(0))}); " + (
    "os.execv(sys.argv[1], sys.argv[1:])"
)


def test_login_without_the_worker(sandbox: Sandbox) -> None:
    """The STS half runs in okenv's own process when no worker is forked (one CPU, other
    platforms)."""
    result = subprocess.run(
        [sys.executable, "-c", ONE_CPU, OKENV, "credential-process", "admin"],
        env=sandbox.env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
        start_new_session=True,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["Version"] == 1


def test_credential_process_loop_is_stopped(sandbox: Sandbox) -> None:
    result = sandbox.run("credential-process", "admin", env={"OKENV_IN_CREDENTIAL_PROCESS": "1"})
    assert result.returncode == 2
    assert result.stdout == ""
    assert "loop" in result.stderr
    assert sandbox.okta.requests == []
