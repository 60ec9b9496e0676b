"""The sign-in page parser (both layouts), where an assertion may be posted, partitions,
console URLs, the STS endpoints per partition, and what okenv remembers for a week."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from okenv.assume import menu, regions
from okenv.cache import CredentialCache
from okenv.config import Profile
from okenv.console import console_destination, login_url, signin_token_url
from okenv.credentials import Credentials
from okenv.errors import ConfigError, ServiceError
from okenv.memory import MEMORY_TTL, AwsMemory
from okenv.partitions import partition_of_region
from okenv.rolepage import parse_signin_page
from okenv.saml import Role
from okenv.urls import SIGNIN_URL_ENV, signin_base_url, signin_post_url
from tests.fakes.signin import legacy_page, nextjs_page

A = "arn:aws:iam::123456789012:role/Admin"
B = "arn:aws:iam::123456789012:role/ReadOnly"
C = "arn:aws:iam::987654321098:role/teams/Dev"

# Hand-written pages in the shapes of AWS's (not copies of them).
LEGACY = f"""<html><body><form id="saml_form" action="/saml" method="post"><fieldset>
<div class="saml-account"><div onClick="expandCollapse(0);">
  <img src="/static/image/down.png" valign="middle"></img>
  <div class="saml-account-name">Account: prod&#45;main (123456789012)</div>
</div><hr style="border: 1px solid #ddd;">
<div id="0" class="saml-account">
  <div class="saml-role" onClick="checkRadio(this);">
    <input type="radio" name="roleIndex" value="{A}" class="saml-radio" id="{A}" />
    <label for="{A}" class="saml-role-description">Admin</label>
    <span style="clear: both;"></span>
  </div>
</div></div>
<div class="saml-account"><div onClick="expandCollapse(1);">
  <div class="saml-account-name">Account: 987654321098</div>
</div>
<div id="1" class="saml-account"><div class="saml-role">
  <input type="radio" name="roleIndex" value="{C}" class="saml-radio" id="{C}" />
  <label for="{C}" class="saml-role-description">Dev</label></div></div></div>
</fieldset></form></body></html>"""


def data_meta(document: object, *, urlsafe: bool = False, pad: bool = True) -> str:
    raw = json.dumps(document).encode()
    text = (base64.urlsafe_b64encode if urlsafe else base64.b64encode)(raw).decode()
    if not pad:
        text = text.rstrip("=")
    return f'<html><head>\n<meta name="data"\n   content="{text}">\n</head><body></body></html>'


def test_legacy_layout() -> None:
    page = parse_signin_page(LEGACY)
    assert page.layout == "legacy"
    assert page.accounts == {"123456789012": "prod-main", "987654321098": None}


def test_nextjs_layout() -> None:
    html = data_meta(
        {
            "invalid_accounts": {},
            "roles_accounts": {"prod-main (123456789012)": [A, B], "987654321098": [C]},
            "SAMLResponse": "PD94bWw=",
        }
    )
    page = parse_signin_page(html)
    assert page.layout == "nextjs"
    assert page.accounts == {"123456789012": "prod-main", "987654321098": None}


@pytest.mark.parametrize(("urlsafe", "pad"), [(True, True), (False, False)])
def test_nextjs_base64_variants(urlsafe: bool, pad: bool) -> None:
    html = data_meta({"roles_accounts": {"x-y_z (123456789012)": [A]}}, urlsafe=urlsafe, pad=pad)
    assert parse_signin_page(html).accounts == {"123456789012": "x-y_z"}


def test_nextjs_label_without_id_takes_it_from_the_arns() -> None:
    html = data_meta({"roles_accounts": {"sandbox": [C]}})
    assert parse_signin_page(html).accounts == {"987654321098": "sandbox"}


def test_the_fakes_pages_parse() -> None:
    aliases = {"123456789012": "prod-main"}
    for html in (legacy_page([A, B, C], aliases), nextjs_page([A, B, C], aliases)):
        assert parse_signin_page(html).accounts == {
            "123456789012": "prod-main",
            "987654321098": None,
        }


@pytest.mark.parametrize(
    "html",
    [
        "",
        "<html><body><h1>Your request included an invalid SAML response.</h1></body></html>",
        '<meta name="data" content="not base64!">',
        data_meta({"something": "else"}),
        data_meta(["a", "list"]),
        '<div class="saml-account-name">Account: nothing useful</div>',
    ],
)
def test_unreadable_pages_raise_service_errors(html: str) -> None:
    with pytest.raises(ServiceError):
        parse_signin_page(html)


def test_alias_text_is_cleaned() -> None:
    html = data_meta({"roles_accounts": {"  spaced\n alias  (123456789012)": [A]}})
    assert parse_signin_page(html).accounts == {"123456789012": "spaced alias"}
    weird = data_meta({"roles_accounts": {"\x1b[31mred (123456789012)": [A]}})
    assert parse_signin_page(weird).accounts == {"123456789012": None}


# -- where the assertion may go -----------------------------------------------------------


@pytest.mark.parametrize(
    ("destination", "expected"),
    [
        ("https://signin.aws.amazon.com/saml", "https://signin.aws.amazon.com/saml"),
        (
            "https://eu-west-1.signin.aws.amazon.com/saml",
            "https://eu-west-1.signin.aws.amazon.com/saml",
        ),
        ("https://signin.amazonaws-us-gov.com/saml", "https://signin.amazonaws-us-gov.com/saml"),
        ("https://signin.amazonaws.cn/saml", "https://signin.amazonaws.cn/saml"),
        ("http://127.0.0.1:8080/saml", "http://127.0.0.1:8080/saml"),
        ("http://signin.aws.amazon.com/saml", None),  # not https
        ("https://signin.aws.amazon.com.evil.example/saml", None),
        ("https://evil.example/signin.aws.amazon.com/saml", None),
        ("https://notsignin.aws.amazon.com/saml", None),
        (None, None),
        ("", None),
    ],
)
def test_signin_post_url(destination: str | None, expected: str | None) -> None:
    assert signin_post_url(destination, {}) == expected


def test_override_wins_and_must_be_https_or_loopback() -> None:
    env = {SIGNIN_URL_ENV: "http://127.0.0.1:4567/"}
    assert signin_post_url("https://signin.amazonaws.cn/saml", env) == "http://127.0.0.1:4567/saml"
    assert signin_base_url("aws-us-gov", env) == "http://127.0.0.1:4567"
    with pytest.raises(ConfigError):
        signin_post_url(None, {SIGNIN_URL_ENV: "http://proxy.example.com"})
    assert signin_base_url("aws-us-gov", {}) == "https://signin.amazonaws-us-gov.com"
    assert signin_base_url("aws-cn", {}) == "https://signin.amazonaws.cn"


# -- partitions and regions ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("region", "partition"),
    [
        ("us-gov-west-1", "aws-us-gov"),
        ("cn-northwest-1", "aws-cn"),
        ("eu-central-2", "aws"),
        ("ap-southeast-4", "aws"),
        ("us-iso-east-1", None),
        ("nonsense", None),
    ],
)
def test_partition_of_region(region: str, partition: str | None) -> None:
    assert partition_of_region(region) == partition


def profile(region: str | None = None) -> Profile:
    return Profile(name="p", app_url="https://acme.okta.com/x", region=region)


def test_regions() -> None:
    assert regions(profile(), "aws") == (None, "us-east-1")
    assert regions(profile(), "aws-us-gov") == ("us-gov-west-1", "us-gov-west-1")
    assert regions(profile(), "aws-cn") == ("cn-north-1", "cn-north-1")
    assert regions(profile("eu-west-1"), "aws") == ("eu-west-1", "eu-west-1")
    assert regions(profile("us-gov-east-1"), "aws-us-gov") == ("us-gov-east-1", "us-gov-east-1")
    with pytest.raises(ConfigError):
        regions(profile("cn-north-1"), "aws")


@pytest.mark.parametrize(
    ("region", "endpoint"),
    [
        ("us-gov-west-1", "https://sts.us-gov-west-1.amazonaws.com"),
        ("cn-north-1", "https://sts.cn-north-1.amazonaws.com.cn"),
        ("eu-west-1", "https://sts.eu-west-1.amazonaws.com"),
    ],
)
def test_sts_endpoint_per_partition(
    region: str, endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """botocore's own resolution (no request is made: creating a client is offline)."""
    from okenv import sts

    monkeypatch.delenv("AWS_ENDPOINT_URL_STS", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    client = sts.sts_client(region)
    try:
        assert client.meta.endpoint_url == endpoint
    finally:
        client.close()


# -- console URLs --------------------------------------------------------------------------


def creds(arn: str) -> Credentials:
    return Credentials(
        access_key_id="ASIAX",
        secret_access_key="sec/ret+",
        session_token="tok=",
        expiration=datetime(2030, 1, 1, tzinfo=UTC),
        role_arn=arn,
    )


def test_console_urls_follow_the_partition() -> None:
    gov = creds("arn:aws-us-gov:iam::123456789012:role/Admin")
    assert signin_token_url(gov, {}).startswith(
        "https://signin.amazonaws-us-gov.com/federation?Action=getSigninToken&Session=%7B%22"
    )
    assert console_destination(gov, None) == "https://console.amazonaws-us-gov.com/"
    china = creds("arn:aws-cn:iam::123456789012:role/Admin")
    assert login_url(china, "T", {}, "cn-north-1") == (
        "https://signin.amazonaws.cn/federation?Action=login&Issuer=okenv&Destination="
        "https%3A%2F%2Fconsole.amazonaws.cn%2Fconsole%2Fhome%3Fregion%3Dcn-north-1"
        "&SigninToken=T"
    )
    assert console_destination(creds(A), None) == "https://console.aws.amazon.com/"


# -- the role menu ---------------------------------------------------------------------------


def test_menu_groups_by_account_label() -> None:
    roles = [Role(C, "p"), Role(B, "p"), Role(A, "p")]
    ordered, labels = menu(roles, {"123456789012": "prod-main"})
    assert [r.arn for r in ordered] == [C, A, B]
    assert labels == [
        "987654321098              teams/Dev",
        "prod-main (123456789012)  Admin",
        "                          ReadOnly",
    ]


# -- memory --------------------------------------------------------------------------------


def test_memory_keeps_for_a_week(tmp_path: Path) -> None:
    clock = [1_000_000.0]
    memory = AwsMemory(CredentialCache(tmp_path / "cache"), now=lambda: clock[0])
    assert memory.aliases(["123456789012"]) is None
    memory.remember_aliases({"123456789012": "prod-main", "987654321098": None})
    assert memory.aliases(["987654321098", "123456789012"]) == {
        "987654321098": None,
        "123456789012": "prod-main",
    }
    assert memory.aliases(["123456789012", "111111111111"]) is None  # one unknown: ask again
    memory.remember_max_duration(A, 14400)
    assert memory.max_duration(A) == 14400
    assert memory.max_duration(B) is None
    path = tmp_path / "cache" / "aws-memory.json"
    assert path.stat().st_mode & 0o777 == 0o600
    assert CredentialCache(tmp_path / "cache").entries() == []  # not a credential entry
    clock[0] += MEMORY_TTL + 1
    assert memory.aliases(["123456789012"]) is None
    assert memory.max_duration(A) is None


def test_memory_survives_junk(tmp_path: Path) -> None:
    directory = tmp_path / "cache"
    directory.mkdir(mode=0o700)
    path = directory / "aws-memory.json"
    path.write_text('{"version": 1, "accounts": [], "max_duration": {"x": {"seen": "no"}}}')
    path.chmod(0o600)
    memory = AwsMemory(CredentialCache(directory))
    assert memory.aliases(["123456789012"]) is None
    assert memory.max_duration("x") is None
    memory.remember_aliases({"123456789012": "a"})
    assert memory.aliases(["123456789012"]) == {"123456789012": "a"}
