"""Session durations that just work (SessionDuration cap, MaxSessionDuration step-down and
its memory) and role chaining (a second hop with sts:AssumeRole, capped at 1 hour)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import boto3

from tests.e2e.aws_support import (
    PROD_ADMIN,
    aws_fixture,  # noqa: F401  (fixture: aws)
    profiles,
    signin_fixture,  # noqa: F401  (fixture: signin)
)
from tests.e2e.conftest import Sandbox

DEPLOY = "arn:aws:iam::333333333333:role/Deploy"


def saml_durations(box: Sandbox) -> list[int]:
    return [int(p["DurationSeconds"]) for a, p in box.sts.calls if a == "AssumeRoleWithSAML"]


def remaining(doc: dict[str, object]) -> float:
    expiration = datetime.fromisoformat(str(doc["Expiration"]).replace("Z", "+00:00"))
    return (expiration - datetime.now(UTC)).total_seconds()


def test_default_duration_is_one_hour(aws: Sandbox) -> None:
    profiles(aws, f'[profiles.p]\nrole = "{PROD_ADMIN}"\n')
    result = aws.run("credential-process", "p")
    assert result.returncode == 0, result.stderr
    assert saml_durations(aws) == [3600]
    assert result.stderr == ""


def test_session_duration_caps_the_request(aws: Sandbox) -> None:
    aws.okta.session_duration = 7200
    aws.sts.max_session_duration[PROD_ADMIN] = 43200
    profiles(aws, f'[profiles.p]\nrole = "{PROD_ADMIN}"\nduration = "12h"\n')
    result = aws.run("credential-process", "p")
    assert result.returncode == 0, result.stderr
    assert saml_durations(aws) == [7200]
    assert 7100 < remaining(json.loads(result.stdout)) <= 7200


def test_step_down_then_remember(aws: Sandbox) -> None:
    aws.sts.max_session_duration[PROD_ADMIN] = 14400  # the role allows 4h
    profiles(aws, f'[profiles.p]\nrole = "{PROD_ADMIN}"\nduration = "12h"\n')
    first = aws.run("credential-process", "p")
    assert first.returncode == 0, first.stderr
    assert saml_durations(aws) == [43200, 28800, 14400]
    assert "Admin does not allow 12h sessions; got 4h" in first.stderr
    assert 14300 < remaining(json.loads(first.stdout)) <= 14400

    # The next login asks for 4h straight away, and says why.
    second = aws.run("credential-process", "p", "--force")
    assert second.returncode == 0, second.stderr
    assert saml_durations(aws) == [43200, 28800, 14400, 14400]
    assert "at most 4h (learned earlier)" in second.stderr

    # A shorter request is asked for as is.
    third = aws.run("credential-process", "p", "--force", "--duration", "2h")
    assert third.returncode == 0, third.stderr
    assert saml_durations(aws)[-1] == 7200
    assert third.stderr == ""


def test_step_down_to_one_hour_with_the_fakes_default(aws: Sandbox) -> None:
    profiles(aws, f'[profiles.p]\nrole = "{PROD_ADMIN}"\nduration = "10h"\n')
    result = aws.run("login", "p")
    assert result.returncode == 0, result.stderr
    assert saml_durations(aws) == [36000, 28800, 14400, 7200, 3600]
    assert "got 1h" in result.stderr


def test_role_chaining(aws: Sandbox) -> None:
    aws.sts.assumable = {DEPLOY: {PROD_ADMIN}}
    aws.sts.external_ids = {DEPLOY: "ext-123"}
    profiles(
        aws,
        f'[profiles.deploy]\nrole = "{PROD_ADMIN}"\nassume_role = "{DEPLOY}"\n'
        'assume_role_session_name = "alice-deploy"\nexternal_id = "ext-123"\nduration = "8h"\n',
    )
    result = aws.run("credential-process", "deploy")
    assert result.returncode == 0, result.stderr
    assert "role chaining: AWS limits chained sessions to 1h (asked for 8h)" in result.stderr
    assert aws.sts.actions() == ["AssumeRoleWithSAML", "AssumeRole"]
    assert saml_durations(aws) == [3600]
    hop = aws.sts.last("AssumeRole")
    assert hop["RoleArn"] == DEPLOY
    assert hop["RoleSessionName"] == "alice-deploy"
    assert hop["ExternalId"] == "ext-123"
    assert hop["DurationSeconds"] == "3600"
    # The second hop is signed with the first hop's keys (SigV4, us-east-1 endpoint).
    first_key = next(k for k, v in aws.sts.issued.items() if v.role_arn == PROD_ADMIN)
    authorization = aws.sts.headers[1]["authorization"]
    assert re.search(rf"Credential={first_key}/\d{{8}}/us-east-1/sts/aws4_request", authorization)

    doc = json.loads(result.stdout)
    client = boto3.client(
        "sts",
        region_name="us-east-1",
        endpoint_url=aws.sts.url,
        aws_access_key_id=doc["AccessKeyId"],
        aws_secret_access_key=doc["SecretAccessKey"],
        aws_session_token=doc["SessionToken"],
    )
    arn = client.get_caller_identity()["Arn"]
    assert arn == "arn:aws:sts::333333333333:assumed-role/Deploy/alice-deploy"

    env = aws.run("env", "deploy", "--shell", "bash")
    assert f"export OKENV_ROLE_ARN=$'{DEPLOY}';" in env.stdout


def test_chaining_session_name_defaults_to_the_saml_one(aws: Sandbox) -> None:
    profiles(aws, f'[profiles.d]\nrole = "{PROD_ADMIN}"\nassume_role = "{DEPLOY}"\n')
    result = aws.run("login", "d")
    assert result.returncode == 0, result.stderr
    assert aws.sts.last("AssumeRole")["RoleSessionName"] == "alice@example.com"
    assert "ExternalId" not in aws.sts.last("AssumeRole")


def test_chaining_denied_is_a_clear_authorization_error(aws: Sandbox) -> None:
    aws.sts.assumable = {DEPLOY: {"arn:aws:iam::123456789012:role/Other"}}
    profiles(aws, f'[profiles.d]\nrole = "{PROD_ADMIN}"\nassume_role = "{DEPLOY}"\n')
    result = aws.run("env", "d")
    assert result.returncode == 4
    assert result.stdout == ""
    assert f"STS denied role chaining from {PROD_ADMIN} to {DEPLOY}" in result.stderr
    assert f"trust policy of {DEPLOY} allows sts:AssumeRole from {PROD_ADMIN}" in result.stderr
    assert "Traceback" not in result.stderr


def test_wrong_external_id_is_named_in_the_hint(aws: Sandbox) -> None:
    aws.sts.external_ids = {DEPLOY: "right"}
    profiles(
        aws,
        f'[profiles.d]\nrole = "{PROD_ADMIN}"\nassume_role = "{DEPLOY}"\nexternal_id = "wrong"\n',
    )
    result = aws.run("login", "d")
    assert result.returncode == 4
    assert "with this external_id" in result.stderr


def test_first_hop_denied_names_the_saml_role(aws: Sandbox) -> None:
    aws.sts.errors[PROD_ADMIN] = (
        "AccessDenied",
        403,
        "Not authorized to perform sts:AssumeRoleWithSAML",
    )
    profiles(aws, f'[profiles.d]\nrole = "{PROD_ADMIN}"\nassume_role = "{DEPLOY}"\n')
    result = aws.run("login", "d")
    assert result.returncode == 4
    assert f"STS denied {PROD_ADMIN}" in result.stderr
    assert aws.sts.actions() == ["AssumeRoleWithSAML"]


def test_bad_assume_role_is_a_config_error(aws: Sandbox) -> None:
    profiles(aws, f'[profiles.d]\nrole = "{PROD_ADMIN}"\nassume_role = "Deploy"\n')
    result = aws.run("login", "d")
    assert result.returncode == 2
    assert "assume_role is not an IAM role ARN" in result.stderr
    assert aws.okta.requests == []  # checked before logging in
