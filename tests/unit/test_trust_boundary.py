"""Issue 11's trust-boundary findings, as pure-function tests with hostile values: URLs read
the way the HTTP client reads them, the assertion's Destination, role lists, ASCII-only
checks, the credentials-file editor against botocore's own INI reader, the redirect page.
The end-to-end counterparts (hostile servers, a second user) are in
tests/e2e/test_trust_boundary.py."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import botocore.configloader
import pytest
from urllib3.util import parse_url

from okenv.assume import check_profile
from okenv.awsfiles import set_sections, write_credentials_file
from okenv.browser import open_url, redirect_page
from okenv.config import Profile, check_org_url
from okenv.errors import ConfigError, SamlError
from okenv.partitions import PARTITIONS, partition_of_region
from okenv.saml import MAX_ROLES, Role, parse_saml_response
from okenv.urls import aws_signin_url, check_url, is_loopback, redact_userinfo, signin_post_url
from tests.fakes.samlgen import build_saml_response as saml_response

PROVIDER = "arn:aws:iam::123456789012:saml-provider/Okta"

# -- 2/3. URLs: decide on what the HTTP client will use --------------------------------------

HOSTILE_URLS = [
    "http://evil.example\\@localhost/home/amazon_aws/x/1",  # issue 11 item 3, as found
    "https://attacker\\@signin.aws.amazon.com/saml",  # issue 11 item 2, as found
    "https://127.0.0.1:4444\\@signin.aws.amazon.com/saml",
    "http://evil.localhost/app",
    "http://localhost.evil.example/app",
    "https://user:hunter2@acme.okta.com/app",
    "https://acme.okta.com@evil.example/app",
    "https://acme.okta.com\t.evil.example/app",
    "https://acme.okta.com\n/app",
    "https://signin.aws.amazon.com:8443/saml",
    "https://ac\u0430me.okta.com/app",  # a Cyrillic a
    "http://127.0.0.1.evil.example/",
    "http://[::ffff:8.8.8.8]/",
]


@pytest.mark.parametrize("url", HOSTILE_URLS)
def test_an_accepted_url_is_read_alike_by_okenv_and_urllib3(url: str) -> None:
    """Whatever okenv accepts, urllib3 (which requests uses) connects to the same host."""
    try:
        checked = check_url(url, "app_url")
    except ConfigError:
        return
    ours = check_url(checked, "app_url").split("://", 1)[1].split("/", 1)[0]
    theirs = parse_url(url)
    assert theirs.auth is None
    assert ours.rsplit(":", 1)[0].strip("[]") == (theirs.host or "").strip("[]"), (url, ours)


@pytest.mark.parametrize(
    "url",
    [
        "http://evil.example\\@localhost/home/amazon_aws/x/1",
        "http://evil.localhost/app",
        "https://user:hunter2@acme.okta.com/app",
        "https://acme.okta.com\\@evil.example/app",
        "http://[::ffff:8.8.8.8]/",
    ],
)
def test_app_url_bypasses_are_refused(url: str) -> None:
    with pytest.raises(ConfigError) as caught:
        check_org_url(url)
    assert "hunter2" not in str(caught.value)


def test_userinfo_is_redacted_in_messages() -> None:
    assert redact_userinfo("https://me:hunter2@acme.okta.com/x?y=1") == (
        "https://<redacted>@acme.okta.com/x?y=1"
    )
    with pytest.raises(ConfigError) as caught:
        check_org_url("https://me:hunter2@acme.okta.com/x")
    assert "hunter2" not in str(caught.value) and "user name or password" in str(caught.value)


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("localhost", True),
        ("LOCALHOST", True),
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("[::1]", True),
        ("::1", True),
        ("evil.localhost", False),
        ("localhost.evil.example", False),
        ("::ffff:127.0.0.1", False),
        ("10.0.0.1", False),
    ],
)
def test_loopback_means_the_literal_names_only(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


@pytest.mark.parametrize(
    "destination",
    [
        "https://attacker\\@signin.aws.amazon.com/saml",
        "https://x@signin.aws.amazon.com/saml",
        "https://signin.aws.amazon.com:8443/saml",
        "https://signin.aws.amazon.com./saml",
        "https://a.b.signin.aws.amazon.com/saml",
        "https://signin.aws.amazon.com\t/saml",
        "https://sign\u0456n.aws.amazon.com/saml",  # a Cyrillic i
    ],
)
def test_the_assertion_goes_to_no_host_but_an_aws_sign_in_host(destination: str) -> None:
    assert signin_post_url(destination, {}) is None
    assert aws_signin_url(destination) is None


def test_a_backslash_destination_does_not_pick_the_partition() -> None:
    role = "arn:aws-cn:iam::123456789012:role/Admin"
    provider = "arn:aws-cn:iam::123456789012:saml-provider/Okta"
    encoded = saml_response(
        roles=[(role, provider)], destination="https://x\\@signin.aws.amazon.com/saml"
    )
    assert parse_saml_response(encoded).partition == "aws-cn"  # from the role, not the URL


def test_default_port_is_accepted_and_dropped() -> None:
    found = aws_signin_url("https://eu-west-1.signin.aws.amazon.com:443/saml")
    assert found == ("https://eu-west-1.signin.aws.amazon.com/saml", "aws")


# -- issue 12: the partition table agrees with botocore's own data ---------------------------


def test_partitions_agree_with_botocore() -> None:
    import botocore

    data = json.loads(
        (Path(botocore.__file__).parent / "data" / "endpoints.json").read_text("utf-8")
    )
    theirs = {p["partition"]: p for p in data["partitions"]}
    for name, ours in PARTITIONS.items():
        assert ours.region_pattern == theirs[name]["regionRegex"], name
        assert ours.default_region in theirs[name]["regions"], name
        for region in theirs[name]["regions"]:
            assert partition_of_region(region) == name, region


# -- 7. role lists: linear, and capped -------------------------------------------------------


def _roles(count: int) -> list[tuple[str, str]]:
    return [(f"arn:aws:iam::123456789012:role/r{i}", PROVIDER) for i in range(count)]


def test_role_dedup_is_linear(monkeypatch: pytest.MonkeyPatch) -> None:
    compared = 0
    original = Role.__eq__

    def counting(self: Role, other: object) -> bool:
        nonlocal compared
        compared += 1
        return original(self, other)

    monkeypatch.setattr(Role, "__eq__", counting)
    roles = _roles(2000)
    assertion = parse_saml_response(saml_response(roles=roles + roles[:10]))
    assert len(assertion.roles) == 2000
    assert compared < 4 * len(roles)  # a list scan made ~2,000,000 comparisons


def test_more_roles_than_the_cap_is_a_clear_error() -> None:
    with pytest.raises(SamlError, match=f"okenv reads at most {MAX_ROLES}"):
        parse_saml_response(saml_response(roles=_roles(MAX_ROLES + 1)))


# -- also: ASCII classes only ------------------------------------------------------------------


def test_non_ascii_digits_are_not_an_account_id() -> None:
    arabic = "\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669\u0660\u0661\u0662"
    with pytest.raises(SamlError, match="malformed Role"):
        parse_saml_response(
            saml_response(
                roles=[
                    (f"arn:aws:iam::{arabic}:role/Admin", f"arn:aws:iam::{arabic}:saml-provider/O")
                ]
            )
        )
    with pytest.raises(SamlError, match="malformed Role"):
        parse_saml_response(
            saml_response(roles=[("arn:aws:iam::123456789012:role/Adm\u00efn", PROVIDER)])
        )
    profile = Profile(
        name="p", app_url="https://a.okta.com/x", assume_role=f"arn:aws:iam::{arabic}:role/X"
    )
    with pytest.raises(ConfigError):
        check_profile(profile)
    named = Profile(
        name="p", app_url="https://a.okta.com/x", assume_role_session_name="s\u00e9ssion"
    )
    with pytest.raises(ConfigError):
        check_profile(named)


# -- 1. the credentials-file editor and botocore's INI reader --------------------------------

CREDS = {
    "aws_access_key_id": "ASIAEXAMPLEEXAMPLE00",
    "aws_secret_access_key": "secret",
    "aws_session_token": "token",
}


def _botocore_reads(text: str, tmp_path: Path) -> dict[str, dict[str, str]]:
    path = tmp_path / "credentials"
    path.write_bytes(text.encode("utf-8"))
    parsed: dict[str, dict[str, str]] = botocore.configloader.raw_config_parse(str(path))
    return parsed


@pytest.mark.parametrize("breaker", ["\x0c", "\u2028", "\x85", "\x1c", "\x0b"])
def test_lines_are_split_as_botocore_splits_them(breaker: str, tmp_path: Path) -> None:
    """``str.splitlines`` breaks on these; botocore does not: a fake header inside a value
    must not receive the credentials."""
    text = f"[mine]\nnote = a{breaker}[okenv]\naws_access_key_id = AKIAMINE\n"
    written = set_sections(text, {"okenv": CREDS})
    sections = _botocore_reads(written, tmp_path)
    assert sections["okenv"]["aws_secret_access_key"] == "secret"
    assert sections["mine"]["aws_access_key_id"] == "AKIAMINE"  # not removed as okenv's


@pytest.mark.parametrize("eol", ["\n", "\r\n", "\r"])
def test_each_botocore_line_ending_is_a_line_ending(eol: str, tmp_path: Path) -> None:
    text = eol.join(["[okenv]", "aws_access_key_id = OLD", "[other]", "x = 1", ""])
    written = set_sections(text, {"okenv": CREDS})
    sections = _botocore_reads(written, tmp_path)
    assert sections["okenv"]["aws_access_key_id"] == CREDS["aws_access_key_id"]
    assert sections["other"] == {"x": "1"}


@pytest.mark.parametrize("bad", ["tok\n[default]", "tok\r", "tok\x00", "tok\x1b[2J", "t\u2028k"])
def test_values_with_line_breaks_or_controls_are_refused(bad: str) -> None:
    with pytest.raises(ConfigError, match="line break or a control character"):
        set_sections("", {"okenv": {**CREDS, "aws_session_token": bad}})


# -- 12. the browser hand-over -----------------------------------------------------------------


def test_redirect_page_escapes_the_url() -> None:
    url = 'https://signin.aws.amazon.com/federation?a="><script>alert(1)</script>&b=</script>'
    page = redirect_page(url)
    assert "<script>alert" not in page and "</script>&b" not in page
    assert re.search(r'content="0;url=https://signin\.aws\.amazon\.com/federation\?a=&quot;', page)


def test_open_url_gives_the_browser_only_a_private_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("OKENV_PASSWORD", "pw")
    monkeypatch.setenv("OKENV_TOTP_SECRET", "seed")
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    seen: list[tuple[str, int, int, str, dict[str, str]]] = []

    def browser(uri: str) -> bool:
        path = Path(uri.removeprefix("file://"))
        child = subprocess.run(
            [
                sys.executable,
                "-c",
                "import json, os, sys; sys.stdout.write(json.dumps(dict(os.environ)))",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        seen.append(
            (
                uri,
                path.stat().st_mode & 0o777,
                path.parent.stat().st_mode & 0o777,
                path.read_text(),
                json.loads(child.stdout),
            )
        )
        return True

    assert open_url("https://example.invalid/?SigninToken=secret", opener=browser, wait=5)
    [(uri, mode, dirmode, page, environment)] = seen
    assert "secret" not in uri and uri.startswith("file://")
    assert (mode, dirmode) == (0o600, 0o700)
    assert "SigninToken=secret" in page
    assert "OKENV_PASSWORD" not in environment and "OKENV_TOTP_SECRET" not in environment
    assert not os.path.exists(uri.removeprefix("file://"))
    assert list(tmp_path.iterdir()) == []


# -- 13. symlinks at the credentials file --------------------------------------------------------

needs_root = pytest.mark.skipif(
    os.geteuid() != 0, reason="needs root to give a file to a second user (chown)"
)


def test_own_link_to_own_file_is_followed_and_kept(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.write_text("[x]\nk = v\n")
    link = tmp_path / "credentials"
    link.symlink_to(real)
    assert write_credentials_file(link, {"okenv": CREDS}) == real
    assert link.is_symlink() and "aws_session_token = token" in real.read_text()


@needs_root
def test_own_link_to_a_file_of_another_user_is_refused(tmp_path: Path) -> None:
    theirs = tmp_path / "theirs"
    theirs.write_text("# not mine\n")
    os.chown(theirs, 65534, 65534)
    link = tmp_path / "credentials"
    link.symlink_to(theirs)
    with pytest.raises(ConfigError, match="belongs to another user"):
        write_credentials_file(link, {"okenv": CREDS})
    assert theirs.read_text() == "# not mine\n"


@needs_root
def test_a_chain_through_a_link_of_another_user_is_refused(tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    mine.write_text("")
    middle = tmp_path / "middle"
    middle.symlink_to(mine)
    os.lchown(middle, 65534, 65534)
    link = tmp_path / "credentials"
    link.symlink_to(middle)
    with pytest.raises(ConfigError, match="refusing to follow the symlink"):
        write_credentials_file(link, {"okenv": CREDS})


def test_a_directory_or_fifo_at_the_path_is_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(ConfigError, match="is not a regular file"):
        write_credentials_file(fifo, {"okenv": CREDS})
