"""`okenv login --aws-profile` / `aws_profile` / `--all` write the AWS shared credentials
file (only their sections change); `okenv console --print` builds a federation sign-in URL."""

from __future__ import annotations

import configparser
import os
import re
import stat
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest

from tests.e2e.aws_support import (
    DEV_DEVELOPER,
    PROD_ADMIN,
    PROD_READONLY,
    aws_fixture,  # noqa: F401  (fixture: aws)
    profiles,
    signin_fixture,  # noqa: F401  (fixture: signin)
)
from tests.e2e.conftest import Sandbox
from tests.fakes.signin import FakeSignin

HAND_WRITTEN = """\
# my credentials; okenv must not touch this comment
[default]
aws_access_key_id = AKIAHANDWRITTEN00000
aws_secret_access_key = handwritten

[okenv-prod]
region = eu-west-1
aws_access_key_id = ASIASTALE

# trailing comment
[zz-last]
aws_access_key_id = AKIALAST
aws_secret_access_key = last
"""


def credentials_file(box: Sandbox) -> str:
    return box.env["AWS_SHARED_CREDENTIALS_FILE"]


def read_ini(path: str) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser()
    parser.read(path)
    return parser


def test_login_writes_one_profile_keeping_every_other_byte(aws: Sandbox) -> None:
    path = credentials_file(aws)
    with open(path, "w") as handle:
        handle.write(HAND_WRITTEN)
    profiles(aws, f'[profiles.prod]\nrole = "{PROD_ADMIN}"\n')
    result = aws.run("login", "prod", "--aws-profile", "okenv-prod")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert f"wrote AWS profile(s) okenv-prod to {path}" in result.stderr

    with open(path) as handle:
        text = handle.read()
    before, section = HAND_WRITTEN.split("[okenv-prod]\n")
    after = section.split("# trailing comment\n", 1)[1]
    assert text.startswith(before + "[okenv-prod]\n")
    assert text.endswith("region = eu-west-1\n\n# trailing comment\n" + after)
    assert "ASIASTALE" not in text
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600

    ini = read_ini(path)
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", ini["okenv-prod"]["x_security_token_expires"]
    )
    client = boto3.Session(profile_name="okenv-prod").client("sts", endpoint_url=aws.sts.url)
    assert ":assumed-role/Admin/" in client.get_caller_identity()["Arn"]


def test_config_key_aws_profile_and_cache_hit(aws: Sandbox) -> None:
    profiles(aws, f'[profiles.prod]\nrole = "{PROD_ADMIN}"\naws_profile = "from-config"\n')
    assert aws.run("login", "prod").returncode == 0
    first = read_ini(credentials_file(aws))["from-config"]["aws_access_key_id"]
    again = aws.run("login", "prod")  # cached credentials are written too
    assert again.returncode == 0 and "; cached)" in again.stderr
    assert read_ini(credentials_file(aws))["from-config"]["aws_access_key_id"] == first
    assert aws.sts.actions() == ["AssumeRoleWithSAML"]


def test_all_writes_a_profile_per_role(aws: Sandbox, signin: FakeSignin) -> None:
    profiles(aws, "[profiles.everything]\n")
    result = aws.run("login", "everything", "--all")
    assert result.returncode == 0, result.stderr
    ini = read_ini(credentials_file(aws))
    assert sorted(ini.sections()) == [
        "210987654321-Developer",
        "prod-main-Admin",
        "prod-main-ReadOnly",
    ]
    issued = {v.access_key_id: v.role_arn for v in aws.sts.issued.values()}
    assert issued[ini["prod-main-Admin"]["aws_access_key_id"]] == PROD_ADMIN
    assert issued[ini["prod-main-ReadOnly"]["aws_access_key_id"]] == PROD_READONLY
    assert issued[ini["210987654321-Developer"]["aws_access_key_id"]] == DEV_DEVELOPER
    assert aws.okta.count(path="/api/v1/authn") == 1
    assert signin.count(path_prefix="/saml") == 1


def test_all_skips_a_refused_role(aws: Sandbox) -> None:
    aws.sts.errors[PROD_READONLY] = ("AccessDenied", 403, "Not authorized")
    profiles(aws, "[profiles.everything]\n")
    result = aws.run("login", "everything", "--all")
    assert result.returncode == 0, result.stderr
    assert f"warning: skipping {PROD_READONLY}" in result.stderr
    assert "prod-main-ReadOnly" not in read_ini(credentials_file(aws)).sections()


def test_bad_aws_profile_name_is_a_usage_error(aws: Sandbox) -> None:
    profiles(aws, f'[profiles.prod]\nrole = "{PROD_ADMIN}"\n')
    result = aws.run("login", "prod", "--aws-profile", "bad name]")
    assert result.returncode == 2
    assert "invalid AWS profile name" in result.stderr


@pytest.mark.parametrize(
    ("partition", "console"),
    [
        ("aws", "https://console.aws.amazon.com/"),
        ("aws-us-gov", "https://console.amazonaws-us-gov.com/"),
    ],
)
def test_console_print(aws: Sandbox, signin: FakeSignin, partition: str, console: str) -> None:
    role = f"arn:{partition}:iam::123456789012:role/Admin"
    aws.okta.roles = [(role, f"arn:{partition}:iam::123456789012:saml-provider/Okta")]
    if partition != "aws":
        aws.okta.destination = "https://signin.amazonaws-us-gov.com/saml"
    profiles(aws, "[profiles.c]\n")
    result = aws.run("console", "c", "--print", "--debug")
    assert result.returncode == 0, result.stderr
    url = result.stdout.strip()
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == signin.url and parts.path == "/federation"
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert query["Action"] == "login" and query["Issuer"] == "okenv"
    assert query["SigninToken"] in signin.signin_tokens
    if partition == "aws":
        assert query["Destination"] == console
    else:
        assert query["Destination"] == f"{console}console/home?region=us-gov-west-1"
    [session] = signin.sessions
    issued = aws.sts.issued[session["sessionId"]]
    assert issued.role_arn == role
    # --debug traces the federation call without its secrets.
    assert "federation" in result.stderr
    assert issued.secret_access_key not in result.stderr
    assert issued.session_token not in result.stderr
    assert query["SigninToken"] not in result.stderr


def test_console_refused_credentials(aws: Sandbox, signin: FakeSignin) -> None:
    profiles(aws, f'[profiles.c]\nrole = "{PROD_ADMIN}"\n')
    assert aws.run("login", "c").returncode == 0
    aws.sts.issued.clear()  # the federation endpoint no longer knows the keys
    result = aws.run("console", "c", "--print")
    assert result.returncode == 5
    assert "federation endpoint refused the credentials" in result.stderr
    assert result.stdout == ""
