from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest

from okenv.errors import AuthorizationError, RoleNotFoundError, SamlError
from okenv.partitions import default_region
from okenv.saml import Role, match_role, parse_saml_response
from tests.fakes.samlgen import build_assertion_xml, build_saml_response

PROVIDER = "arn:aws:iam::123456789012:saml-provider/Okta"
ADMIN = "arn:aws:iam::123456789012:role/Admin"
DEV = "arn:aws:iam::123456789012:role/teams/platform/Developer"
OTHER_PROVIDER = "arn:aws:iam::210987654321:saml-provider/Okta"
OTHER_ADMIN = "arn:aws:iam::210987654321:role/Admin"
READONLY = "arn:aws:iam::210987654321:role/ReadOnly"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def xml_with_roles(*values: str, extra: str = "") -> str:
    """A minimal hand-written response, for Role values the generator would never emit."""
    attr_values = "".join(f"<saml2:AttributeValue>{v}</saml2:AttributeValue>" for v in values)
    return (
        '<saml2p:Response xmlns:saml2p="urn:oasis:names:tc:SAML:2.0:protocol" '
        'xmlns:saml2="urn:oasis:names:tc:SAML:2.0:assertion" '
        'Destination="https://signin.aws.amazon.com/saml">'
        "<saml2:Assertion><saml2:AttributeStatement>"
        '<saml2:Attribute Name="https://aws.amazon.com/SAML/Attributes/Role">'
        f"{attr_values}</saml2:Attribute>{extra}"
        "</saml2:AttributeStatement></saml2:Assertion></saml2p:Response>"
    )


# -- parsing -----------------------------------------------------------------------------


@pytest.mark.parametrize("order", ["provider,role", "role,provider"])
def test_parses_both_pair_orders(order: str) -> None:
    encoded = build_saml_response(roles=[(ADMIN, PROVIDER)], pair_order=order)
    assertion = parse_saml_response(encoded)
    assert assertion.roles == (Role(arn=ADMIN, principal_arn=PROVIDER),)
    assert assertion.encoded == encoded


def test_multiple_roles_keep_order_and_drop_duplicates() -> None:
    roles = [(ADMIN, PROVIDER), (DEV, PROVIDER), (OTHER_ADMIN, OTHER_PROVIDER), (ADMIN, PROVIDER)]
    assertion = parse_saml_response(build_saml_response(roles=roles))
    assert [r.arn for r in assertion.roles] == [ADMIN, DEV, OTHER_ADMIN]
    assert assertion.roles[2].principal_arn == OTHER_PROVIDER


def test_whitespace_around_values_is_stripped() -> None:
    xml = xml_with_roles(f"\n   {PROVIDER} ,\t{ADMIN}  \n")
    assertion = parse_saml_response(b64(xml))
    assert assertion.roles == (Role(arn=ADMIN, principal_arn=PROVIDER),)


def test_base64_with_line_breaks_and_missing_padding() -> None:
    encoded = build_saml_response(roles=[(ADMIN, PROVIDER)])
    wrapped = "\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76)).rstrip("=")
    assertion = parse_saml_response(wrapped)
    assert assertion.roles[0].arn == ADMIN
    assert assertion.encoded == wrapped


def test_session_name_duration_destination_and_expiry() -> None:
    expiry = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    encoded = build_saml_response(
        roles=[(ADMIN, PROVIDER)],
        session_name="bob@example.com",
        session_duration=28800,
        not_on_or_after=expiry,
    )
    assertion = parse_saml_response(encoded)
    assert assertion.session_name == "bob@example.com"
    assert assertion.session_duration == 28800
    assert assertion.destination == "https://signin.aws.amazon.com/saml"
    assert assertion.not_on_or_after == expiry
    assert assertion.not_on_or_after.tzinfo is not None


def test_defaults_when_optional_attributes_are_missing() -> None:
    assertion = parse_saml_response(b64(xml_with_roles(f"{ADMIN},{PROVIDER}")))
    assert assertion.session_name is None
    assert assertion.session_duration is None
    assert assertion.not_on_or_after is None


def test_default_expiry_is_about_five_minutes_ahead() -> None:
    assertion = parse_saml_response(build_saml_response(roles=[(ADMIN, PROVIDER)]))
    assert assertion.not_on_or_after is not None
    left = assertion.not_on_or_after - datetime.now(UTC)
    assert timedelta(minutes=4) < left <= timedelta(minutes=5)


@pytest.mark.parametrize(
    ("destination", "partition", "role", "provider"),
    [
        ("https://signin.aws.amazon.com/saml", "aws", ADMIN, PROVIDER),
        ("https://eu-central-1.signin.aws.amazon.com/saml", "aws", ADMIN, PROVIDER),
        (
            "https://signin.amazonaws-us-gov.com/saml",
            "aws-us-gov",
            "arn:aws-us-gov:iam::123456789012:role/Admin",
            "arn:aws-us-gov:iam::123456789012:saml-provider/Okta",
        ),
        (
            "https://signin.amazonaws.cn/saml",
            "aws-cn",
            "arn:aws-cn:iam::123456789012:role/Admin",
            "arn:aws-cn:iam::123456789012:saml-provider/Okta",
        ),
    ],
)
def test_partition_from_destination(
    destination: str, partition: str, role: str, provider: str
) -> None:
    encoded = build_saml_response(roles=[(role, provider)], destination=destination)
    assertion = parse_saml_response(encoded)
    assert assertion.partition == partition
    assert assertion.roles[0].partition == partition


def test_partition_falls_back_to_role_arns() -> None:
    role = "arn:aws-us-gov:iam::123456789012:role/Admin"
    provider = "arn:aws-us-gov:iam::123456789012:saml-provider/Okta"
    encoded = build_saml_response(roles=[(role, provider)], destination="http://127.0.0.1:8/saml")
    assert parse_saml_response(encoded).partition == "aws-us-gov"


def test_lookalike_destination_host_is_not_trusted_for_partition() -> None:
    role = "arn:aws-cn:iam::123456789012:role/Admin"
    provider = "arn:aws-cn:iam::123456789012:saml-provider/Okta"
    encoded = build_saml_response(
        roles=[(role, provider)], destination="https://evil-signin.aws.amazon.com.example/saml"
    )
    assert parse_saml_response(encoded).partition == "aws-cn"


def test_default_region() -> None:
    assert default_region("aws") == "us-east-1"
    assert default_region("aws-us-gov") == "us-gov-west-1"
    assert default_region("aws-cn") == "cn-north-1"
    with pytest.raises(ValueError):
        default_region("aws-iso")


def test_role_properties() -> None:
    role = Role(arn=DEV, principal_arn=PROVIDER)
    assert role.account_id == "123456789012"
    assert role.name == "Developer"
    assert role.path == "teams/platform/Developer"
    assert role.partition == "aws"


# -- errors ------------------------------------------------------------------------------


@pytest.mark.parametrize("encoded", ["", "   \n\t"])
def test_empty(encoded: str) -> None:
    with pytest.raises(SamlError, match="empty"):
        parse_saml_response(encoded)


def test_not_base64() -> None:
    with pytest.raises(SamlError, match="base64"):
        parse_saml_response("this is <not> base64!")


def test_not_xml() -> None:
    with pytest.raises(SamlError, match="XML"):
        parse_saml_response(b64("<html><body>Sign in failed"))


def test_not_utf8() -> None:
    with pytest.raises(SamlError, match="XML"):
        parse_saml_response(base64.b64encode(b"\xff\xfe<\x00a\x00/\x00>\x00").decode())


def test_no_role_attribute() -> None:
    xml = build_assertion_xml(roles=[])
    with pytest.raises(SamlError, match="no AWS Role attribute") as info:
        parse_saml_response(b64(xml))
    assert info.value.hint


@pytest.mark.parametrize(
    "value",
    [
        ADMIN,  # no provider
        f"{ADMIN},{ADMIN}",  # two roles
        f"{PROVIDER},{PROVIDER}",  # two providers
        f"{PROVIDER},{ADMIN},{DEV}",  # three ARNs
        f"{PROVIDER},arn:aws:iam::12345:role/Admin",  # short account id
        f"{PROVIDER},arn:aws:iam::123456789012:user/alice",  # not a role
        f"{PROVIDER},arn:aws-iso:iam::123456789012:role/Admin",  # unknown partition
    ],
)
def test_malformed_arn_pair(value: str) -> None:
    with pytest.raises(SamlError, match="malformed Role value") as info:
        parse_saml_response(b64(xml_with_roles(value)))
    assert value.split(",")[0] in info.value.message


def test_malformed_session_duration() -> None:
    extra = (
        '<saml2:Attribute Name="https://aws.amazon.com/SAML/Attributes/SessionDuration">'
        "<saml2:AttributeValue>an hour</saml2:AttributeValue></saml2:Attribute>"
    )
    with pytest.raises(SamlError, match="SessionDuration"):
        parse_saml_response(b64(xml_with_roles(f"{PROVIDER},{ADMIN}", extra=extra)))


def test_failed_saml_status() -> None:
    xml = build_assertion_xml(roles=[(ADMIN, PROVIDER)]).replace(
        "status:Success", "status:Responder"
    )
    with pytest.raises(SamlError, match="status"):
        parse_saml_response(b64(xml))


@pytest.mark.parametrize(
    "prolog",
    [
        '<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>',
        '<!DOCTYPE r SYSTEM "file:///etc/passwd">',
        "<!doctype r>",
        '<!ENTITY  x "y">',
    ],
)
def test_entity_declarations_are_rejected(prolog: str) -> None:
    xml = build_assertion_xml(roles=[(ADMIN, PROVIDER)])
    head, body = xml.split("?>", 1)
    with pytest.raises(SamlError, match="DOCTYPE or ENTITY"):
        parse_saml_response(b64(f"{head}?>{prolog}{body}"))


def test_billion_laughs_is_rejected_before_parsing() -> None:
    levels = ['<!ENTITY l0 "lol">'] + [
        f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10)
    ]
    xml = f"<!DOCTYPE lolz [{''.join(levels)}]><lolz>&l9;</lolz>"
    with pytest.raises(SamlError, match="DOCTYPE or ENTITY"):
        parse_saml_response(b64(xml))


def test_saml_error_is_a_service_error() -> None:
    with pytest.raises(SamlError) as info:
        parse_saml_response("")
    assert info.value.exit_code == 5


# -- match_role --------------------------------------------------------------------------

ROLES = (
    Role(ADMIN, PROVIDER),
    Role(DEV, PROVIDER),
    Role(OTHER_ADMIN, OTHER_PROVIDER),
    Role(READONLY, OTHER_PROVIDER),
)
ALIASES = {"123456789012": "acme-prod", "210987654321": "acme-dev"}


def test_match_by_full_arn() -> None:
    assert match_role(ROLES, OTHER_ADMIN).arn == OTHER_ADMIN
    assert match_role(ROLES, f"  {DEV} ").arn == DEV


def test_match_by_account_and_name() -> None:
    assert match_role(ROLES, "210987654321/Admin").arn == OTHER_ADMIN
    assert match_role(ROLES, "123456789012/Admin").arn == ADMIN


def test_match_by_alias_and_name() -> None:
    assert match_role(ROLES, "acme-dev/Admin", ALIASES).arn == OTHER_ADMIN
    assert match_role(ROLES, "acme-prod/Developer", ALIASES).arn == DEV


def test_alias_without_alias_map_does_not_match() -> None:
    with pytest.raises(RoleNotFoundError):
        match_role(ROLES, "acme-dev/Admin")


def test_match_by_path() -> None:
    assert match_role(ROLES, "123456789012/teams/platform/Developer").arn == DEV
    assert match_role(ROLES, "acme-prod/teams/platform/Developer", ALIASES).arn == DEV
    assert match_role(ROLES, "123456789012/Developer").arn == DEV


def test_match_by_unique_bare_name() -> None:
    assert match_role(ROLES, "ReadOnly").arn == READONLY
    assert match_role(ROLES, "teams/platform/Developer").arn == DEV


def test_match_is_case_insensitive_only_as_a_fallback() -> None:
    assert match_role(ROLES, "210987654321/readonly").arn == READONLY
    assert match_role(ROLES, "ACME-DEV/readonly", ALIASES).arn == READONLY
    roles = (Role(ADMIN, PROVIDER), Role("arn:aws:iam::123456789012:role/admin", PROVIDER))
    assert match_role(roles, "123456789012/admin").arn.endswith("role/admin")
    assert match_role(roles, "123456789012/Admin").arn == ADMIN


def test_not_found_lists_available_roles() -> None:
    with pytest.raises(RoleNotFoundError) as info:
        match_role(ROLES, "123456789012/Billing")
    error = info.value
    assert "123456789012/Billing" in error.message
    assert error.hint is not None
    for role in ROLES:
        assert role.arn in error.hint
    assert isinstance(error, AuthorizationError)
    assert error.exit_code == 4


def test_not_found_with_no_roles_and_empty_wanted() -> None:
    with pytest.raises(RoleNotFoundError, match="not in the SAML assertion") as info:
        match_role((), "Admin")
    assert info.value.hint == "the SAML assertion grants no roles"
    with pytest.raises(RoleNotFoundError):
        match_role(ROLES, "  ")


def test_ambiguous_lists_matches() -> None:
    with pytest.raises(RoleNotFoundError, match="matches 2 roles") as info:
        match_role(ROLES, "Admin")
    hint = info.value.hint
    assert hint is not None
    assert ADMIN in hint
    assert OTHER_ADMIN in hint
    assert READONLY not in hint


def test_unknown_account_id_does_not_match() -> None:
    with pytest.raises(RoleNotFoundError):
        match_role(ROLES, "999999999999/Admin", ALIASES)
