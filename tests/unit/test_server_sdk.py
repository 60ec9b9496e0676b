"""A real SDK in the command: botocore's own container and IMDS providers (no okenv code in
the child) call STS GetCallerIdentity in a loop while the fake STS hands out credentials
that live a few seconds, and see every rotation without an error. The same with the AWS
CLI v2 where it is installed (Debian's ``awscli`` package puts it at /usr/bin/aws).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from okenv import sts
from okenv.credentials import Credentials
from okenv.saml import parse_saml_response
from okenv.supervise import run_with_server
from tests.fakes.samlgen import build_saml_response
from tests.fakes.sts_short import ShortLivedSts

pytestmark = pytest.mark.slow

ADMIN = "arn:aws:iam::123456789012:role/Admin"
PROVIDER = "arn:aws:iam::123456789012:saml-provider/Okta"
LIFETIME = 6  # seconds each credential lives
MARGIN = 3  # renewed with this much left: a rotation every ~3 s
ROTATIONS = 2

# Plain boto3: it finds the endpoint okenv gave it through the environment, like any tool.
CHILD = textwrap.dedent(
    """
    import sys, time
    import boto3
    mode, wanted = sys.argv[1], int(sys.argv[2])
    deadline = time.monotonic() + 60
    session = boto3.session.Session()
    client = session.client("sts")
    keys = []
    while len(keys) <= wanted:
        if mode == "imds":
            # botocore stretches IMDS credentials that expire within 12-20 minutes to that
            # long ("static stability"), so in one session seconds-long credentials are
            # never re-read: each round is a fresh session, like a tool started again.
            session = boto3.session.Session()
            client = session.client("sts")
        client.get_caller_identity()
        key = session.get_credentials().get_frozen_credentials().access_key
        if key not in keys:
            keys.append(key)
            print(key, flush=True)
        if time.monotonic() > deadline:
            sys.exit("no rotation seen in time")
        time.sleep(0.1)  # pace, not synchronisation
    client.get_caller_identity()  # with the newest key too (it was read after the last call)
    """
)


@pytest.fixture
def short_sts(monkeypatch: pytest.MonkeyPatch) -> Iterator[ShortLivedSts]:
    with ShortLivedSts(lifetime=LIFETIME) as server:
        monkeypatch.setenv("AWS_ENDPOINT_URL_STS", server.url)
        monkeypatch.setenv("AWS_REGION", "us-east-1")
        yield server
    assert not server.failures


def renew(interactive: bool) -> Credentials:
    """What okenv's login does, minus Okta: a fresh assertion traded at (fake) STS."""
    assertion = parse_saml_response(build_saml_response(roles=[(ADMIN, PROVIDER)]))
    return sts.assume_role_with_saml(
        role=assertion.roles[0], assertion=assertion, duration=900, region="us-east-1"
    )


@pytest.mark.parametrize("imds", [False, True], ids=["ecs", "imds"])
def test_boto3_sees_every_rotation(
    short_sts: ShortLivedSts, imds: bool, capfd: pytest.CaptureFixture[str]
) -> None:
    argv = [sys.executable, "-c", CHILD, "imds" if imds else "ecs", str(ROTATIONS)]
    code = run_with_server(
        argv, os.environ, renew(False), renew, profile="p", imds=imds, margin=MARGIN
    )
    out, err = capfd.readouterr()
    assert code == 0, err
    keys = out.split()
    assert len(keys) == ROTATIONS + 1 == len(set(keys))
    used = short_sts.caller_keys()
    assert len(set(used)) >= ROTATIONS + 1  # calls signed with three successive keys...
    assert set(used) | set(keys) <= set(short_sts.issued)  # ...all issued (and accepted)
    assert short_sts.actions().count("AssumeRoleWithSAML") >= ROTATIONS + 1


def aws_cli_v2() -> str | None:
    for candidate in (shutil.which("aws"), "/usr/bin/aws"):
        if candidate and os.access(candidate, os.X_OK):
            version = subprocess.run(
                [candidate, "--version"], capture_output=True, text=True, timeout=60
            )
            if version.stdout.startswith("aws-cli/2."):
                return candidate
    return None


@pytest.mark.parametrize("imds", [False, True], ids=["ecs", "imds"])
def test_aws_cli_v2_sees_every_rotation(
    short_sts: ShortLivedSts, imds: bool, tmp_path: Path
) -> None:
    aws = aws_cli_v2()
    if aws is None:
        pytest.skip("AWS CLI v2 is not installed (Debian: apt-get install awscli)")
    # One `aws` process after another until STS has seen calls signed with ROTATIONS + 1
    # keys (the CLI cannot tell which key signed its call; the fake STS says so with a
    # file). CLI 2.9 predates AWS_ENDPOINT_URL_STS: the endpoint goes on the command line.
    done = tmp_path / "seen-every-rotation"
    short_sts.mark_when_seen(ROTATIONS + 1, done)
    script = tmp_path / "loop.sh"
    script.write_text(
        "set -e\n"
        f'until [ -e "{done}" ]; do\n'
        f'  "{aws}" --endpoint-url "$AWS_ENDPOINT_URL_STS" sts get-caller-identity'
        " --output text --query Arn\n"
        "  [ $SECONDS -lt 90 ] || exit 3\n"
        "done\n"
    )
    code = run_with_server(
        ["bash", str(script)], os.environ, renew(False), renew, profile="p", imds=imds,
        margin=MARGIN,
    )  # fmt: skip
    assert code == 0
    used = short_sts.caller_keys()
    assert len(set(used)) >= ROTATIONS + 1
    assert all(key in short_sts.issued for key in used)
