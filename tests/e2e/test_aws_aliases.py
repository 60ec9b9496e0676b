"""Account aliases: read from the AWS sign-in page (both layouts), remembered for a week,
shown in a menu grouped by account, usable as `role = "alias/Role"`; a page that cannot be
read falls back to account ids with a warning and never fails the login."""

from __future__ import annotations

import json
from pathlib import Path

import pexpect
import pytest

from tests.e2e.aws_support import (
    DEV_DEVELOPER,
    PROD_ADMIN,
    PROD_READONLY,
    aws_fixture,  # noqa: F401  (fixture: aws)
    profiles,
    signin_fixture,  # noqa: F401  (fixture: signin)
    spawn,
)
from tests.e2e.conftest import OKENV, Sandbox
from tests.fakes.signin import FakeSignin


@pytest.mark.parametrize("layout", ["legacy", "nextjs"])
def test_menu_groups_roles_by_account_alias(
    aws: Sandbox, signin: FakeSignin, tmp_path: Path, layout: str
) -> None:
    signin.layout = layout  # type: ignore[assignment]
    out = tmp_path / "out.sh"
    child = spawn(aws, f"{OKENV} env pick --shell bash", out)
    child.expect("Choose an AWS role:")
    # 210987654321 (no alias) sorts before prod-main; roles by path within an account.
    child.expect(r"1\) 210987654321 +teams/Developer")
    child.expect(r"2\) prod-main \(123456789012\) +Admin")
    child.expect(r"3\) +ReadOnly")
    child.expect(r"Choose \[1-3\]: ")
    child.sendline("3")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    assert f"export OKENV_ROLE_ARN=$'{PROD_READONLY}';" in out.read_text()
    assert signin.count(path_prefix="/saml") == 1


def test_role_by_alias_without_a_terminal(aws: Sandbox, signin: FakeSignin) -> None:
    profiles(aws, '[profiles.prod]\nrole = "prod-main/ReadOnly"\n')
    first = aws.run("login", "prod")
    assert first.returncode == 0, first.stderr
    assert "prod: ReadOnly in prod-main, valid until " in first.stderr  # the alias named
    assert signin.count(path_prefix="/saml") == 1
    # Aliases are remembered (a week): the next login does not post the assertion again.
    second = aws.run("login", "prod", "--force")
    assert second.returncode == 0, second.stderr
    assert signin.count(path_prefix="/saml") == 1
    state = aws.cache_dir / "aws-memory.json"
    assert state.stat().st_mode & 0o777 == 0o600
    assert json.loads(state.read_text())["accounts"]["123456789012"]["alias"] == "prod-main"


def test_role_by_id_or_arn_needs_no_page(aws: Sandbox, signin: FakeSignin) -> None:
    profiles(
        aws, f'[profiles.a]\nrole = "{PROD_ADMIN}"\n[profiles.b]\nrole = "210987654321/Developer"\n'
    )
    assert aws.run("login", "a").returncode == 0
    assert aws.run("login", "b").returncode == 0
    assert signin.count(path_prefix="/saml") == 0


@pytest.mark.parametrize("layout", ["broken", "error"])
def test_unreadable_page_falls_back_to_account_ids(
    aws: Sandbox, signin: FakeSignin, tmp_path: Path, layout: str
) -> None:
    signin.layout = layout  # type: ignore[assignment]
    out = tmp_path / "out.sh"
    child = spawn(aws, f"{OKENV} env pick --shell bash", out)
    child.expect("warning: could not read account aliases")
    child.expect("showing account ids instead")
    child.expect(r"1\) 123456789012 +Admin")
    child.expect(r"2\) +ReadOnly")
    child.expect(r"3\) 210987654321 +teams/Developer")
    child.expect(r"Choose \[1-3\]: ")
    child.sendline("3")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    assert f"export OKENV_ROLE_ARN=$'{DEV_DEVELOPER}';" in out.read_text()


def test_alias_role_with_broken_page_fails_as_unknown_role(
    aws: Sandbox, signin: FakeSignin
) -> None:
    signin.layout = "broken"
    profiles(aws, '[profiles.prod]\nrole = "prod-main/Admin"\n')
    result = aws.run("env", "prod")
    assert result.returncode == 4
    assert "warning: could not read account aliases" in result.stderr
    assert "'prod-main/Admin' is not in the SAML assertion" in result.stderr
    assert result.stdout == ""


def test_roles_lists_accounts_with_aliases(aws: Sandbox, signin: FakeSignin) -> None:
    signin.layout = "legacy"
    text = aws.run("roles", "pick")
    assert text.returncode == 0, text.stderr
    assert text.stdout.splitlines() == [
        "210987654321",
        f"  {'teams/Developer':<24}  {DEV_DEVELOPER}",
        "prod-main (123456789012)",
        f"  {'Admin':<24}  {PROD_ADMIN}",
        f"  {'ReadOnly':<24}  {PROD_READONLY}",
    ]
    as_json = aws.run("roles", "pick", "--json")
    assert as_json.returncode == 0, as_json.stderr
    rows = json.loads(as_json.stdout)
    assert rows[1] == {
        "account_id": "123456789012",
        "alias": "prod-main",
        "role": "Admin",
        "arn": PROD_ADMIN,
    }
    assert rows[0]["alias"] is None
    assert signin.count(path_prefix="/saml") == 1  # the second listing used the memory


def test_single_role_posts_nothing(aws: Sandbox, signin: FakeSignin) -> None:
    aws.okta.roles = aws.okta.roles[:1]
    result = aws.run("env", "pick", "--shell", "bash")
    assert result.returncode == 0, result.stderr
    assert signin.count() == 0
