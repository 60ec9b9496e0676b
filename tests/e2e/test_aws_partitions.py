"""GovCloud, China and the European Sovereign Cloud: the partition comes from the
assertion's Destination and the role ARNs; it picks the STS endpoint region and the
exported region (the profile's region wins). The assertions here name real sign-in URLs of
those partitions as their Destination: the sign-in
POST goes to the loopback fake through OKENV_AWS_SIGNIN_URL, STS to the fake through
AWS_ENDPOINT_URL_STS, and nothing leaves the machine."""

from __future__ import annotations

import re

import pytest

from tests.e2e.aws_support import (
    aws_fixture,  # noqa: F401  (fixture: aws)
    profiles,
    signin_fixture,  # noqa: F401  (fixture: signin)
)
from tests.e2e.conftest import Sandbox
from tests.fakes.signin import FakeSignin

PARTITIONS = {
    "aws-us-gov": ("https://signin.amazonaws-us-gov.com/saml", "us-gov-west-1"),
    "aws-cn": ("https://signin.amazonaws.cn/saml", "cn-north-1"),
    "aws-eusc": ("https://eusc-de-east-1.signin.amazonaws-eusc.eu/saml", "eusc-de-east-1"),
}


def use_partition(box: Sandbox, partition: str) -> tuple[str, str]:
    destination, _ = PARTITIONS[partition]
    admin = f"arn:{partition}:iam::123456789012:role/Admin"
    other = f"arn:{partition}:iam::210987654321:role/ReadOnly"
    box.okta.destination = destination
    box.okta.roles = [
        (admin, f"arn:{partition}:iam::123456789012:saml-provider/Okta"),
        (other, f"arn:{partition}:iam::210987654321:saml-provider/Okta"),
    ]
    return admin, other


def exported(stdout: str) -> dict[str, str]:
    return dict(re.findall(r"^export (\w+)=\$?'([^']*)';?$", stdout, re.MULTILINE))


@pytest.mark.parametrize("partition", sorted(PARTITIONS))
def test_partition_default_region(aws: Sandbox, signin: FakeSignin, partition: str) -> None:
    admin, _ = use_partition(aws, partition)
    profiles(aws, '[profiles.p]\nrole = "prod/Admin"\n')
    signin.aliases = {"123456789012": "prod"}
    result = aws.run("env", "p", "--shell", "bash")
    assert result.returncode == 0, result.stderr
    values = exported(result.stdout)
    region = PARTITIONS[partition][1]
    assert values["OKENV_ROLE_ARN"] == admin
    assert values["AWS_REGION"] == values["AWS_DEFAULT_REGION"] == region
    assert aws.sts.last("AssumeRoleWithSAML")["RoleArn"] == admin
    # The alias lookup went to the loopback fake, not to the Destination's host.
    assert signin.count(path_prefix="/saml") == 1


@pytest.mark.parametrize("partition", sorted(PARTITIONS))
def test_profile_region_wins(aws: Sandbox, partition: str) -> None:
    admin, _ = use_partition(aws, partition)
    region = {
        "aws-us-gov": "us-gov-east-1",
        "aws-cn": "cn-northwest-1",
        "aws-eusc": "eusc-de-east-1",  # its only region so far
    }[partition]
    profiles(aws, f'[profiles.p]\nrole = "{admin}"\nregion = "{region}"\n')
    result = aws.run("env", "p", "--shell", "bash")
    assert result.returncode == 0, result.stderr
    assert exported(result.stdout)["AWS_REGION"] == region


def test_region_of_another_partition_is_refused(aws: Sandbox) -> None:
    admin, _ = use_partition(aws, "aws-us-gov")
    profiles(aws, f'[profiles.p]\nrole = "{admin}"\nregion = "eu-west-1"\n')
    result = aws.run("env", "p")
    assert result.returncode == 2
    assert "region eu-west-1 is in the aws partition, but the role is in aws-us-gov" in (
        result.stderr
    )
    assert aws.sts.calls == []


def test_commercial_partition_leaves_the_region_alone(aws: Sandbox) -> None:
    profiles(aws, '[profiles.p]\nrole = "123456789012/Admin"\n')
    result = aws.run("env", "p", "--shell", "bash")
    assert result.returncode == 0, result.stderr
    assert "AWS_REGION" not in result.stdout


def test_chained_hop_signs_for_the_partition_region(aws: Sandbox) -> None:
    admin, _ = use_partition(aws, "aws-us-gov")
    deploy = "arn:aws-us-gov:iam::333333333333:role/Deploy"
    profiles(aws, f'[profiles.p]\nrole = "{admin}"\nassume_role = "{deploy}"\n')
    result = aws.run("env", "p", "--shell", "bash")
    assert result.returncode == 0, result.stderr
    assert exported(result.stdout)["OKENV_ROLE_ARN"] == deploy
    authorization = aws.sts.headers[-1]["authorization"]
    assert "/us-gov-west-1/sts/aws4_request" in authorization


def test_chaining_across_partitions_is_refused(aws: Sandbox) -> None:
    admin, _ = use_partition(aws, "aws-cn")
    profiles(
        aws,
        f'[profiles.p]\nrole = "{admin}"\nassume_role = "arn:aws:iam::333333333333:role/X"\n',
    )
    result = aws.run("login", "p")
    assert result.returncode == 2
    assert "role chaining stays within one partition" in result.stderr
