"""Read the SAML response Okta posts to AWS: which roles it grants, and for how long.

Pure: no I/O and nothing beyond the standard library. The assertion is never verified
here (AWS STS does that); okenv only needs the Role attribute (pairs of role and SAML
provider ARNs), RoleSessionName, SessionDuration, the Destination (which tells the AWS
partition) and the expiry.
"""

from __future__ import annotations

import base64
import binascii
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from okenv.errors import RoleNotFoundError, SamlError
from okenv.partitions import PARTITION_PATTERN
from okenv.urls import aws_signin_url

__all__ = [
    "MAX_ROLES",
    "Role",
    "SamlAssertion",
    "match_role",
    "parse_saml_response",
]

PROTOCOL_NS = "urn:oasis:names:tc:SAML:2.0:protocol"
ASSERTION_NS = "urn:oasis:names:tc:SAML:2.0:assertion"
ROLE_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/Role"
SESSION_NAME_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/RoleSessionName"
SESSION_DURATION_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/SessionDuration"
SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success"

MAX_ROLES = 5000  # Role values read from one assertion; more is an error, not a slow login

# ASCII classes only: \d and \w would accept other scripts' digits and letters.
_NAME = r"[A-Za-z0-9_+=,.@-]+"
_ROLE_ARN = re.compile(
    rf"arn:(?P<partition>{PARTITION_PATTERN}):iam::(?P<account>[0-9]{{12}}):"
    rf"role/(?P<path>(?:{_NAME}/)*{_NAME})"
)
_PROVIDER_ARN = re.compile(
    rf"arn:(?:{PARTITION_PATTERN}):iam::[0-9]{{12}}:saml-provider/[A-Za-z0-9_.-]+"
)
_ACCOUNT_ID = re.compile(r"[0-9]{12}")
_FORBIDDEN_MARKUP = re.compile(r"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


@dataclass(frozen=True)
class Role:
    arn: str  # arn:aws:iam::123456789012:role/path/Name
    principal_arn: str  # the saml-provider ARN

    def _match(self) -> re.Match[str]:
        match = _ROLE_ARN.fullmatch(self.arn)
        if match is None:
            raise ValueError(f"not an IAM role ARN: {self.arn!r}")
        return match

    @property
    def account_id(self) -> str:
        return self._match().group("account")

    @property
    def path(self) -> str:
        """Everything after ``role/``: ``path/Name``, or just ``Name``."""
        return self._match().group("path")

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    @property
    def partition(self) -> str:
        return self._match().group("partition")


@dataclass(frozen=True)
class SamlAssertion:
    encoded: str  # the base64 SAMLResponse exactly as received (what STS gets)
    roles: tuple[Role, ...]
    session_name: str | None
    session_duration: int | None
    destination: str | None
    not_on_or_after: datetime | None
    partition: str  # "aws" | "aws-us-gov" | "aws-cn"


def _decode(encoded: str) -> bytes:
    compact = "".join(encoded.split())
    if not compact:
        raise SamlError("the SAML response is empty")
    compact += "=" * (-len(compact) % 4)
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        pass
    try:  # some IdPs and proxies hand out the URL-safe alphabet
        return base64.b64decode(compact.translate(str.maketrans("-_", "+/")), validate=True)
    except (binascii.Error, ValueError):
        raise SamlError("the SAML response is not valid base64") from None


def _parse_xml(raw: bytes) -> ET.Element:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SamlError("the SAML response is not UTF-8 XML") from None
    # xml.etree expands internal entities: refuse any DTD before the parser sees it.
    if _FORBIDDEN_MARKUP.search(text):
        raise SamlError("the SAML response contains a DOCTYPE or ENTITY declaration; refusing it")
    try:
        return ET.fromstring(text)  # noqa: S314  (DTDs rejected above)
    except ET.ParseError as exc:
        raise SamlError(f"the SAML response is not well-formed XML ({exc})") from None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _attributes(root: ET.Element) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for element in root.iter():
        if _local(element.tag) != "Attribute":
            continue
        name = element.get("Name")
        if not name:
            continue
        values = found.setdefault(name.strip(), [])
        for child in element:
            if _local(child.tag) == "AttributeValue":
                values.append("".join(child.itertext()).strip())
    return found


def _first(root: ET.Element, local_name: str) -> ET.Element | None:
    for element in root.iter():
        if _local(element.tag) == local_name:
            return element
    return None


def _parse_role_pair(value: str) -> Role:
    parts = [part.strip() for part in value.split(",")]
    roles = [part for part in parts if _ROLE_ARN.fullmatch(part)]
    providers = [part for part in parts if _PROVIDER_ARN.fullmatch(part)]
    if len(parts) != 2 or len(roles) != 1 or len(providers) != 1:
        raise SamlError(
            f"malformed Role value in the SAML assertion: {value!r} "
            "(expected a role ARN and a saml-provider ARN separated by a comma)"
        )
    return Role(arn=roles[0], principal_arn=providers[0])


def _parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _partition_of(destination: str | None) -> str | None:
    found = aws_signin_url(destination)
    return None if found is None or found[1] == "loopback" else found[1]


def _check_status(root: ET.Element) -> None:
    if _local(root.tag) != "Response":
        return
    status = _first(root, "StatusCode")
    if status is not None and status.get("Value", SUCCESS) != SUCCESS:
        raise SamlError(f"the identity provider answered with SAML status {status.get('Value')}")


def parse_saml_response(encoded: str) -> SamlAssertion:
    """Decode and read a base64 ``SAMLResponse``; :class:`SamlError` says what is wrong."""
    root = _parse_xml(_decode(encoded))
    _check_status(root)
    attributes = _attributes(root)

    role_values = [value for value in attributes.get(ROLE_ATTRIBUTE, []) if value]
    if not role_values:
        raise SamlError(
            "the SAML assertion has no AWS Role attribute",
            hint="check that the Okta AWS app assigns you at least one role",
        )
    if len(role_values) > MAX_ROLES:
        raise SamlError(
            f"the SAML assertion grants {len(role_values)} roles; okenv reads at most {MAX_ROLES}",
            hint="ask your Okta admin to assign fewer AWS roles to you",
        )
    # dict keys keep the first occurrence's order: linear, where a list scan was quadratic.
    roles = list(dict.fromkeys(_parse_role_pair(value) for value in role_values))

    session_names = [v for v in attributes.get(SESSION_NAME_ATTRIBUTE, []) if v]
    session_name = session_names[0] if session_names else None

    durations = [v for v in attributes.get(SESSION_DURATION_ATTRIBUTE, []) if v]
    session_duration: int | None = None
    if durations:
        try:
            session_duration = int(durations[0])
        except ValueError:
            raise SamlError(
                f"malformed SessionDuration in the SAML assertion: {durations[0]!r}"
            ) from None

    confirmation = _first(root, "SubjectConfirmationData")
    destination = root.get("Destination") if _local(root.tag) == "Response" else None
    if not destination and confirmation is not None:
        destination = confirmation.get("Recipient")
    destination = destination.strip() if destination else None

    not_on_or_after = _parse_time(
        confirmation.get("NotOnOrAfter") if confirmation is not None else None
    )
    if not_on_or_after is None:
        conditions = _first(root, "Conditions")
        if conditions is not None:
            not_on_or_after = _parse_time(conditions.get("NotOnOrAfter"))

    partition = _partition_of(destination) or roles[0].partition

    return SamlAssertion(
        encoded=encoded,
        roles=tuple(roles),
        session_name=session_name,
        session_duration=session_duration,
        destination=destination,
        not_on_or_after=not_on_or_after,
        partition=partition,
    )


def _role_part_matches(role: Role, wanted: str, *, fold: bool) -> bool:
    wanted = wanted.strip("/")
    candidates = (role.name, role.path)
    if fold:
        return wanted.casefold() in (c.casefold() for c in candidates)
    return wanted in candidates


def _account_matches(role: Role, account: str, aliases: Mapping[str, str], *, fold: bool) -> bool:
    if _ACCOUNT_ID.fullmatch(account):
        return role.account_id == account
    alias = aliases.get(role.account_id)
    if alias is None:
        return False
    return alias.casefold() == account.casefold() if fold else alias == account


def _candidates(
    roles: Sequence[Role], wanted: str, aliases: Mapping[str, str], *, fold: bool
) -> list[Role]:
    if wanted.startswith("arn:"):
        if fold:
            return [r for r in roles if r.arn.casefold() == wanted.casefold()]
        return [r for r in roles if r.arn == wanted]
    if "/" in wanted:
        account, role_part = wanted.split("/", 1)
        found = [
            r
            for r in roles
            if _account_matches(r, account, aliases, fold=fold)
            and _role_part_matches(r, role_part, fold=fold)
        ]
        if found:
            return found
        # Not ACCOUNT/ROLE after all? Then perhaps a role path without an account.
    return [r for r in roles if _role_part_matches(r, wanted, fold=fold)]


def match_role(
    roles: Sequence[Role], wanted: str, aliases: Mapping[str, str] | None = None
) -> Role:
    """Pick the role a profile asks for.

    ``wanted`` is a full role ARN, ``ACCOUNT_ID/ROLE``, ``ALIAS/ROLE`` (``aliases`` maps
    account id to alias) or ``ROLE`` alone (any account); ``ROLE`` is the role's name or
    its full path after ``role/``. Exact matches win over case-insensitive ones (IAM role names are
    unique regardless of case). No match, or several, raise :class:`RoleNotFoundError`.
    """
    target = wanted.strip()
    known = aliases or {}
    matches: list[Role] = []
    if target:
        matches = _candidates(roles, target, known, fold=False) or _candidates(
            roles, target, known, fold=True
        )
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise RoleNotFoundError(
            f"role {wanted!r} matches {len(matches)} roles in the SAML assertion",
            hint="use one of the full ARNs: " + ", ".join(r.arn for r in matches),
        )
    if roles:
        hint = "available roles: " + ", ".join(r.arn for r in roles)
    else:
        hint = "the SAML assertion grants no roles"
    raise RoleNotFoundError(f"role {wanted!r} is not in the SAML assertion", hint=hint)
