"""Shared pieces of the AWS end-to-end tests (tests/e2e/test_aws_*.py).

Import ``aws_fixture`` and ``signin_fixture`` into a test module for the fixtures ``aws``
and ``signin``. The ``aws`` fixture is the e2e sandbox plus a fake AWS sign-in host, with
``OKENV_AWS_SIGNIN_URL`` pointing okenv's sign-in POST and federation calls at it: whatever
Destination an assertion names (signin.aws.amazon.com, GovCloud, China), nothing is sent
off the machine (and the hygiene fixture's dead proxy would stop it if it were).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pexpect
import pytest

from tests.e2e.conftest import Sandbox
from tests.fakes.signin import FakeSignin

PROVIDER_A = "arn:aws:iam::123456789012:saml-provider/Okta"
PROVIDER_B = "arn:aws:iam::210987654321:saml-provider/Okta"
PROD_ADMIN = "arn:aws:iam::123456789012:role/Admin"
PROD_READONLY = "arn:aws:iam::123456789012:role/ReadOnly"
DEV_DEVELOPER = "arn:aws:iam::210987654321:role/teams/Developer"
ROLES = [
    (PROD_ADMIN, PROVIDER_A),
    (DEV_DEVELOPER, PROVIDER_B),
    (PROD_READONLY, PROVIDER_A),
]
ALIASES = {"123456789012": "prod-main"}  # 210987654321 has no alias


@pytest.fixture(name="signin")
def signin_fixture(sandbox: Sandbox) -> Iterator[FakeSignin]:
    fake = FakeSignin(aliases=ALIASES, sts=sandbox.sts)
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()
    if fake.errors:
        raise AssertionError(f"FakeSignin handlers raised: {fake.errors!r}") from fake.errors[0]


@pytest.fixture(name="aws")
def aws_fixture(sandbox: Sandbox, signin: FakeSignin) -> Sandbox:
    sandbox.env["OKENV_AWS_SIGNIN_URL"] = signin.url
    sandbox.okta.roles = list(ROLES)
    return sandbox


def profiles(box: Sandbox, body: str) -> None:
    """Replace the config with [defaults] from the sandbox and the given profiles."""
    head = box.config.read_text().split("[profiles.", 1)[0]
    box.write_config(head + body)


def spawn(box: Sandbox, command: str, out: Path) -> pexpect.spawn:
    """``command`` in bash on a pty (the terminal okenv prompts on), stdout into ``out``."""
    return pexpect.spawn(
        "bash",
        ["--norc", "--noprofile", "-c", f"{command} > {out}"],
        env=box.env,
        encoding="utf-8",
        timeout=30,
    )
