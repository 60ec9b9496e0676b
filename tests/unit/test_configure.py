"""The pure parts of `okenv configure`: reading Okta's app lists (hostile values dropped),
--org, proposed names, the TOML edit that keeps every byte, the ~/.aws/config edit, and the
command line botocore splits."""

from __future__ import annotations

import os
import shlex
import stat
from pathlib import Path

import pytest

from okenv.awsfiles import write_config_profiles
from okenv.commands.configure import okenv_command, proposed_name
from okenv.configwrite import add_profiles, diff
from okenv.discover import parse_app_links, parse_home_tabs, split_org
from okenv.errors import ConfigError
from okenv.saml import Role

ORG = "https://acme.okta.com"
LINK = f"{ORG}/home/amazon_aws/0oa1b2c3d4e5f6g7h8i9/272"


def _link(url: str, name: str = "amazon_aws", label: object = "AWS") -> dict[str, object]:
    return {"appName": name, "label": label, "linkUrl": url, "appInstanceId": "x"}


def test_app_links_keep_only_aws_apps_on_the_org() -> None:
    apps = parse_app_links(
        [
            _link(LINK, label="AWS \x1b[31mprod"),
            _link(f"{ORG}/home/google/0oa1/50", name="google"),
            _link("https://evil.example/home/amazon_aws/0oa2/272"),
            _link("http://acme.okta.com/home/amazon_aws/0oa3/272"),  # not https
            _link(f"{ORG}:8443/home/amazon_aws/0oa4/272"),  # another port
            _link(f"{ORG}/home/amazon_aws/0oa5/272?x=1"),
            _link(f"{ORG}/home/amazon_aws/0oa6/272/../../evil"),
            _link("https://user@acme.okta.com/home/amazon_aws/0oa7/272"),
            _link(LINK),  # a duplicate
            _link(f"{ORG}/home/amazon_aws/0oa8/272", label=None),
            "junk",
            {"appName": "amazon_aws", "linkUrl": 7},
        ],
        ORG,
    )
    assert [(a.label, a.link, a.instance) for a in apps] == [
        ("AWS \\x1b[31mprod", LINK, "0oa1b2c3d4e5f6g7h8i9"),
        ("AWS", f"{ORG}/home/amazon_aws/0oa8/272", "0oa8"),
    ]


def test_app_links_are_capped() -> None:
    many = [_link(f"{ORG}/home/amazon_aws/0oa{i}/272") for i in range(500)]
    assert len(parse_app_links(many, ORG)) == 100


def test_home_tabs() -> None:
    tabs = [
        {"_embedded": {"items": [{"_embedded": {"resource": {"label": "AWS", "linkUrl": LINK}}}]}},
        {"_embedded": {"items": [{"_embedded": {"resource": {"linkUrl": f"{ORG}/x/0oa9/1"}}}]}},
        {"_embedded": "nope"},
        None,
    ]
    assert [a.link for a in parse_home_tabs(tabs, ORG)] == [LINK]


@pytest.mark.parametrize(
    ("given", "org", "link"),
    [
        ("acme.okta.com", ORG, None),
        ("https://acme.okta.com/", ORG, None),
        (LINK + "/", ORG, LINK),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080", None),
    ],
)
def test_split_org(given: str, org: str, link: str | None) -> None:
    assert split_org(given) == (org, link)


@pytest.mark.parametrize(
    "bad",
    ["http://acme.okta.com", "https://acme.okta.com/app/x", "https://a@acme.okta.com", "ftp://x"],
)
def test_split_org_refuses(bad: str) -> None:
    with pytest.raises(ConfigError):
        split_org(bad)


def test_proposed_names() -> None:
    role = Role("arn:aws:iam::123456789012:role/team/Admin", "arn:aws:iam::1:saml-provider/O")
    assert proposed_name("prod-main", role) == "prod-main-Admin"
    assert proposed_name(None, role) == "123456789012-Admin"
    assert proposed_name("we ird]\n", role) == "we-ird-Admin"


def test_add_profiles_keeps_every_byte_and_existing_profiles() -> None:
    before = (
        "# top comment\n[defaults]\nregion = 'eu-west-1'  # why\n\n"
        '[profiles.old]\nrole = "x"   # mine\n'
    )
    after = add_profiles(
        before,
        {"old": {"role": "changed"}, "new-Admin": {"app_url": LINK, "role": "arn"}},
        {"username": "alice", "region": "us-east-1"},
    )
    assert after.replace('username = "alice"\n', "").startswith(before)
    assert '[profiles.new-Admin]\napp_url = "' + LINK + '"\nrole = "arn"\n' in after
    assert 'role = "changed"' not in after and "us-east-1" not in after
    assert "+[profiles.new-Admin]" in diff(before, after, Path("c.toml"))


def test_add_profiles_never_writes_a_password() -> None:
    with pytest.raises(ValueError, match="password"):
        add_profiles("", {"p": {"password": "x"}})


def test_aws_config_profiles_are_added_and_existing_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "config"
    before = b"# mine\r\n[profile a]\r\nregion = x\r\n[default]\r\noutput = \xff\r\n"
    path.write_bytes(before)
    _, added = write_config_profiles(
        path, {"a": {"credential_process": "new"}, "b": {"credential_process": "okenv b"}}
    )
    assert added == ["b"]
    assert path.read_bytes() == before + b"\r\n[profile b]\r\ncredential_process = okenv b\r\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with pytest.raises(ConfigError):
        write_config_profiles(path, {"x": {"credential_process": "a\n[default]"}})


def test_okenv_command_survives_botocore_splitting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = tmp_path / "dir with space's" / "okenv"
    script.parent.mkdir()
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    monkeypatch.setattr("sys.argv", [str(script)])
    assert shlex.split(okenv_command() + " credential-process p") == [
        str(script),
        "credential-process",
        "p",
    ]
    monkeypatch.setattr("sys.argv", ["-c"])
    assert shlex.split(okenv_command())[1:] == ["-m", "okenv"]
    assert os.path.isabs(shlex.split(okenv_command())[0])
