"""`okenv credential-process` as AWS SDKs use it: configured in AWS_CONFIG_FILE and run by
real botocore, many at once on an empty cache (one login), and failing clearly when it
would have to prompt but may not."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from pathlib import Path

import boto3
import pytest

from tests.e2e.aws_support import (
    PROD_ADMIN,
    aws_fixture,  # noqa: F401  (fixture: aws)
    profiles,
    signin_fixture,  # noqa: F401  (fixture: signin)
)
from tests.e2e.conftest import OKENV, Sandbox


def aws_config(box: Sandbox, okenv_profile: str) -> Path:
    path = box.home / ".aws" / "config"
    path.write_text(
        "[profile okenv-prod]\n"
        f"credential_process = {OKENV} credential-process {okenv_profile}\n"
        "region = us-east-1\n"
    )
    return path


def test_botocore_resolves_credentials_through_okenv(
    aws: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    profiles(aws, f'[profiles.prod]\nrole = "{PROD_ADMIN}"\n')
    config = aws_config(aws, "prod")
    for name, value in aws.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))

    session = boto3.Session(profile_name="okenv-prod")
    client = session.client("sts", endpoint_url=aws.sts.url)
    identity = client.get_caller_identity()
    assert identity["Arn"].startswith("arn:aws:sts::123456789012:assumed-role/Admin/")
    assert session.get_credentials().method == "custom-process"
    assert aws.sts.actions() == ["AssumeRoleWithSAML", "GetCallerIdentity"]

    # A second SDK process start is served from okenv's cache: no new login.
    again = boto3.Session(profile_name="okenv-prod").client("sts", endpoint_url=aws.sts.url)
    assert again.get_caller_identity()["Arn"] == identity["Arn"]
    assert aws.sts.actions().count("AssumeRoleWithSAML") == 1


def test_botocore_reports_okenvs_error(aws: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    profiles(aws, "[profiles.prod]\n")  # several roles, none configured: needs a menu
    config = aws_config(aws, "prod")
    for name, value in aws.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    # No terminal for okenv to ask on: botocore runs it without one here.
    script = (
        "import boto3, botocore.exceptions\n"
        "try:\n"
        "    boto3.Session(profile_name='okenv-prod').get_credentials()\n"
        "except botocore.exceptions.CredentialRetrievalError as exc:\n"
        "    print(exc)\n"
    )
    result = subprocess.run(
        [str(Path(OKENV).with_name("python")), "-c", script],
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    assert "okenv: the login grants 3 roles and no role is configured" in result.stdout


def test_no_input_fails_clearly(aws: Sandbox) -> None:
    profiles(aws, f'[profiles.prod]\nrole = "{PROD_ADMIN}"\n')
    result = aws.run("credential-process", "prod", "--no-input", env={"OKENV_PASSWORD": None})
    assert result.returncode == 3
    assert result.stdout == ""
    assert "okenv: okta password for alice@example.com needed but --no-input was given" in (
        result.stderr
    )


def test_without_a_terminal_fails_clearly(aws: Sandbox) -> None:
    profiles(aws, f'[profiles.prod]\nrole = "{PROD_ADMIN}"\n')
    result = aws.run("credential-process", "prod", env={"OKENV_PASSWORD": None})
    assert result.returncode == 3
    assert result.stdout == ""
    assert "needed but there is no terminal to ask on" in result.stderr
    assert "okenv login PROFILE" in result.stderr


def _has_open(pid: int, path: Path) -> bool:
    try:
        links = [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
    except OSError:
        return False
    return str(path) in links


def test_eight_concurrent_invocations_log_in_once(aws: Sandbox) -> None:
    """All eight start on an empty cache; the first to take the lock logs in while it is
    held at STS, until the seven others provably wait on the same lock file (they have it
    open); then all print the same credentials, from one login."""
    profiles(aws, f'[profiles.prod]\nrole = "{PROD_ADMIN}"\n')
    hold = threading.Event()
    aws.sts.hold = hold
    processes = [
        subprocess.Popen(
            [OKENV, "credential-process", "prod"],
            env=aws.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        for _ in range(8)
    ]
    try:
        deadline = time.monotonic() + 30
        while True:  # wait for the condition, not for a guessed time
            locks = list(aws.cache_dir.glob("prod-*.lock")) if aws.cache_dir.exists() else []
            waiting = [
                p for p in processes if locks and p.poll() is None and _has_open(p.pid, locks[0])
            ]
            if aws.sts.calls and len(waiting) == 8:
                break
            assert time.monotonic() < deadline, (len(aws.sts.calls), len(waiting))
            threading.Event().wait(0.01)
        hold.set()
        results = [p.communicate(timeout=60) for p in processes]
    finally:
        hold.set()
        for p in processes:
            if p.poll() is None:
                p.kill()
    assert [p.returncode for p in processes] == [0] * 8, [err for _, err in results]
    outputs = {out for out, _ in results}
    assert len(outputs) == 1
    assert json.loads(outputs.pop())["Version"] == 1
    assert aws.sts.actions() == ["AssumeRoleWithSAML"]
    assert aws.okta.count(path="/api/v1/authn") == 1
