"""`okenv configure` against the fake org: discovery of the AWS apps and their roles, the
config file edited in place (comments kept), ~/.aws/config for botocore, the first-run
pointer. Prompts go through a real pty (pexpect)."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pexpect
import pytest

from tests.e2e.conftest import ADMIN, OKENV, Sandbox
from tests.fakes.okta import (
    DEFAULT_PASSWORD,
    DEFAULT_TOTP_SECRET,
    DEFAULT_USERNAME,
    FakeOkta,
    totp_now,
)

DEV = "arn:aws:iam::333344445555:role/Developer"
DEPLOY = "arn:aws:iam::333344445555:role/ci/Deploy"
SECOND_APP = "0oa9z8y7x6w5v4u3t2s1"


def _second_app(okta: FakeOkta) -> None:
    okta.extra_aws_apps[SECOND_APP] = (
        "AWS Dev",
        [
            (DEV, "arn:aws:iam::333344445555:saml-provider/Okta"),
            (DEPLOY, "arn:aws:iam::333344445555:saml-provider/Okta"),
        ],
    )


@pytest.fixture
def fresh(sandbox: Sandbox) -> Sandbox:
    """A machine with no okenv config at all, and an org with two AWS apps."""
    sandbox.config.unlink()
    _second_app(sandbox.okta)
    return sandbox


def _spawn(box: Sandbox, *args: str, env: dict[str, str] | None = None) -> pexpect.spawn:
    environment = {
        k: v for k, v in box.env.items() if k not in ("OKENV_PASSWORD", "OKENV_TOTP_SECRET")
    }
    environment.update(env or {})
    return pexpect.spawn(OKENV, list(args), env=environment, encoding="utf-8", timeout=30)


def _profiles(box: Sandbox) -> dict[str, dict[str, str]]:
    data = tomllib.loads(box.config.read_text())
    return dict(data["profiles"])


def test_first_run_points_at_configure(fresh: Sandbox) -> None:
    result = fresh.run("prod-admin")
    assert result.returncode == 2
    assert result.stderr == (
        f"okenv: no config file yet ({fresh.config}): run `okenv configure` to set up okenv\n"
    )
    assert result.stdout == ""
    assert str(fresh.config) in fresh.run("--help").stdout


def test_fresh_machine_through_the_terminal(fresh: Sandbox) -> None:
    """Org, username, password and code typed; both apps picked; names proposed and one
    edited; a diff shown; the file written only after the yes."""
    okta = fresh.okta
    child = _spawn(fresh, "configure")
    child.expect(r"Okta org or AWS app link .*: ")
    child.sendline(okta.url)
    child.expect("Okta username: ")
    child.sendline(DEFAULT_USERNAME)
    child.expect(r"Remember the Okta password in the OS keyring\? \[y/N\]: ")
    child.sendline("")
    child.expect(f"Okta password for {DEFAULT_USERNAME}: ")
    child.sendline(DEFAULT_PASSWORD)
    child.expect(r"MFA code \(Google Authenticator\): ")
    child.sendline(totp_now())
    child.expect("AWS apps you can reach:")
    child.expect(r"Which .*: ")
    child.sendline("")
    child.expect("Roles:")
    child.expect(r"Which .*: ")
    child.sendline("1-4")
    names = []
    for _ in range(4):
        child.expect(r"Profile name for (\S+) \[(\S+)\]: ")
        names.append(child.match.group(2))
        child.sendline("dev" if child.match.group(1) == "333344445555/Developer" else "")
    child.expect(r"\+\[profiles\.dev\]")
    child.expect(r"Write 4 profile\(s\) to .*\? \[Y/n\]: ")
    assert not fresh.config.exists()  # nothing before the yes
    child.sendline("y")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    assert DEFAULT_PASSWORD not in (child.before or "")
    assert sorted(names) == sorted(
        [
            "123456789012-Admin",
            "210987654321-ReadOnly",
            "333344445555-Developer",
            "333344445555-Deploy",
        ]
    )
    profiles = _profiles(fresh)
    assert profiles["dev"] == {
        "app_url": f"{okta.url}/home/amazon_aws/{SECOND_APP}/272",
        "role": DEV,
    }
    assert profiles["123456789012-Admin"] == {"app_url": okta.app_url, "role": ADMIN}
    assert set(profiles) == {
        "dev",
        "123456789012-Admin",
        "210987654321-ReadOnly",
        "333344445555-Deploy",
    }
    data = tomllib.loads(fresh.config.read_text())
    assert data["defaults"] == {"username": DEFAULT_USERNAME}
    assert "password" not in fresh.config.read_text().lower()
    assert fresh.config.stat().st_mode & 0o077 == 0
    # The written profile works: the login reuses the Okta session configure kept.
    result = fresh.run("login", "dev", env={"OKENV_PASSWORD": None, "OKENV_TOTP_SECRET": None})
    assert result.returncode == 0, result.stderr
    assert "dev: Developer in 333344445555" in result.stderr


def test_rerun_adds_new_roles_and_keeps_the_file(fresh: Sandbox) -> None:
    """An existing file with comments and its own profile: configure adds only what is new;
    a second run finds nothing to add."""
    okta = fresh.okta
    original = (
        "# my okenv config\n"
        "[defaults]\n"
        f'username = "{DEFAULT_USERNAME}"  # me\n'
        "\n"
        "# the one I had\n"
        "[profiles.mine]\n"
        f'app_url = "{okta.app_url}"\n'
        f'role = "{ADMIN}"\n'
        'region = "eu-west-1"\n'
    )
    fresh.write_config(original)
    result = fresh.run("configure", "--org", okta.url, "--all", "--yes")
    assert result.returncode == 0, result.stderr
    text = fresh.config.read_text()
    assert text.startswith(original)  # every byte that was there is still there, in order
    assert set(_profiles(fresh)) == {
        "mine",
        "210987654321-ReadOnly",
        "333344445555-Developer",
        "333344445555-Deploy",
    }
    assert "+[profiles.333344445555-Deploy]" in result.stderr  # the diff
    again = fresh.run("configure", "--org", okta.url, "--all", "--yes")
    assert again.returncode == 0, again.stderr
    assert "every role is configured already" in again.stderr
    assert fresh.config.read_text() == text
    # A new role in the org: only it is added.
    okta.roles.append(
        ("arn:aws:iam::123456789012:role/Billing", "arn:aws:iam::123456789012:saml-provider/Okta")
    )
    third = fresh.run("configure", "--org", okta.app_url, "--all", "--yes")
    assert third.returncode == 0, third.stderr
    assert set(_profiles(fresh)) - {"mine"} == {
        "210987654321-ReadOnly",
        "333344445555-Developer",
        "333344445555-Deploy",
        "123456789012-Billing",
    }
    assert fresh.config.read_text().startswith(text)


def test_asks_nothing_with_flags_and_refuses_to_write_without_yes(fresh: Sandbox) -> None:
    result = fresh.run(
        "configure", "--org", fresh.okta.url, "--username", DEFAULT_USERNAME, "--all"
    )
    assert result.returncode == 3, result.stderr
    assert "pass --yes" in result.stderr
    assert not fresh.config.exists()


def test_home_tabs_fallback(fresh: Sandbox) -> None:
    fresh.okta.app_links_mode = "missing"
    result = fresh.run(
        "configure", "--org", fresh.okta.url, "--username", DEFAULT_USERNAME, "--all", "--yes"
    )
    assert result.returncode == 0, result.stderr
    assert "333344445555-Deploy" in _profiles(fresh)
    assert fresh.okta.count(path_prefix="/api/v1/users/me/home/tabs") == 1


def test_hostile_app_links_are_dropped(fresh: Sandbox) -> None:
    """A link to another host, plain http, or not an AWS app path never becomes a profile."""
    okta = fresh.okta
    good = f"{okta.url}/home/amazon_aws/{okta.app_instance}/272"
    okta.app_links_override = [
        {
            "appName": "amazon_aws",
            "label": "evil",
            "linkUrl": "https://evil.example/home/amazon_aws/0oaevil/272",
        },
        {"appName": "amazon_aws", "label": "odd", "linkUrl": f"{okta.url}/home/other/0oa1/272"},
        {"appName": "amazon_aws", "label": "\x1b]0;pwned\x07AWS", "linkUrl": good},
        {"appName": "amazon_aws", "label": "q", "linkUrl": good + "?next=https://evil.example"},
        "not an object",
    ]
    result = fresh.run(
        "configure", "--org", okta.url, "--username", DEFAULT_USERNAME, "--all", "--yes"
    )
    assert result.returncode == 0, result.stderr
    assert {p["app_url"] for p in _profiles(fresh).values()} == {good}
    assert "evil" not in fresh.config.read_text()


def test_idx_org_through_an_app_link(fresh: Sandbox) -> None:
    """Identity Engine: the app link signs in, and appLinks answers with the idx session."""
    fresh.okta.pipeline = "idx"
    result = fresh.run(
        "configure", "--org", fresh.okta.app_url, "--username", DEFAULT_USERNAME, "--all", "--yes"
    )
    assert result.returncode == 0, result.stderr
    assert "333344445555-Developer" in _profiles(fresh)
    only_org = fresh.run(
        "configure",
        "--org",
        fresh.okta.url,
        "--username",
        DEFAULT_USERNAME,
        "--all",
        "--yes",
        env={"OKENV_CACHE_DIR": str(fresh.home / "c2")},
    )
    assert only_org.returncode == 2
    assert "give the AWS app's link" in only_org.stderr


def test_aws_config_for_botocore(fresh: Sandbox, tmp_path: Path) -> None:
    """--aws-config adds credential_process profiles (other bytes kept); botocore itself
    runs okenv through them and gets credentials from the fake STS."""
    aws_config = fresh.home / ".aws" / "config"
    before = "# keep me\n[default]\nregion = us-west-2\n\n[profile other]\noutput = json\n"
    aws_config.write_text(before)
    result = fresh.run(
        "configure",
        "--org",
        fresh.okta.url,
        "--username",
        DEFAULT_USERNAME,
        "--all",
        "--yes",
        "--aws-config",
    )
    assert result.returncode == 0, result.stderr
    text = aws_config.read_text()
    assert text.startswith(before)
    assert "[profile 333344445555-Deploy]\ncredential_process = " in text
    script = (
        "import boto3, sys\n"
        "s = boto3.Session(profile_name=sys.argv[1])\n"
        "c = s.get_credentials().get_frozen_credentials()\n"
        "print(c.access_key, bool(c.token))\n"
    )
    env = dict(fresh.env)
    env["AWS_CONFIG_FILE"] = str(aws_config)
    done = subprocess.run(
        [sys.executable, "-c", script, "210987654321-ReadOnly"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    key, has_token = done.stdout.split()
    assert key.startswith("ASIA") and has_token == "True"
    assert fresh.sts.calls  # STS was asked
    again = fresh.run("configure", "--org", fresh.okta.url, "--all", "--yes", "--aws-config")
    assert again.returncode == 0
    assert aws_config.read_text() == text


def test_debug_configure_leaks_no_secret(fresh: Sandbox) -> None:
    """configure --debug: the password and the TOTP seed appear nowhere it writes or says;
    stdout stays empty."""
    result = fresh.run(
        "configure",
        "--org",
        fresh.okta.url,
        "--username",
        DEFAULT_USERNAME,
        "--all",
        "--yes",
        "--aws-config",
        "--debug",
    )
    assert result.returncode == 0, result.stderr
    assert "okenv: debug:" in result.stderr
    assert result.stdout == ""
    written = [fresh.config.read_text(), (fresh.home / ".aws" / "config").read_text()]
    for secret in (DEFAULT_PASSWORD, DEFAULT_TOTP_SECRET):
        assert secret not in result.stderr
        assert all(secret not in text for text in written)
