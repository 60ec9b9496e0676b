"""Build realistic (unsigned) SAML 2.0 responses for AWS, as Okta would post them.

``build_assertion_xml`` returns the XML text of a ``saml2p:Response`` wrapping one
``saml2:Assertion`` with the AWS attributes (Role, RoleSessionName, optional SessionDuration);
``build_saml_response`` returns the same document base64-encoded, i.e. the value of the
``SAMLResponse`` form field.
"""

from __future__ import annotations

import base64
import secrets
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

__all__ = [
    "ASSERTION_NS",
    "AUDIENCE",
    "PROTOCOL_NS",
    "ROLE_ATTRIBUTE",
    "SESSION_DURATION_ATTRIBUTE",
    "SESSION_NAME_ATTRIBUTE",
    "build_assertion_xml",
    "build_saml_response",
]

PROTOCOL_NS = "urn:oasis:names:tc:SAML:2.0:protocol"
ASSERTION_NS = "urn:oasis:names:tc:SAML:2.0:assertion"
XS_NS = "http://www.w3.org/2001/XMLSchema"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"

ROLE_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/Role"
SESSION_NAME_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/RoleSessionName"
SESSION_DURATION_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/SessionDuration"
AUDIENCE = "urn:amazon:webservices"
ISSUER = "http://www.okta.com/exk1fakeokenv0000001"
NAME_FORMAT_URI = "urn:oasis:names:tc:SAML:2.0:attrname-format:uri"

ET.register_namespace("saml2p", PROTOCOL_NS)
ET.register_namespace("saml2", ASSERTION_NS)
ET.register_namespace("xsi", XSI_NS)


def _p(tag: str) -> str:
    return f"{{{PROTOCOL_NS}}}{tag}"


def _a(tag: str) -> str:
    return f"{{{ASSERTION_NS}}}{tag}"


def _ts(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{moment.microsecond // 1000:03d}Z"
    )


def _id() -> str:
    return "id" + secrets.token_hex(16)


def _attribute(parent: ET.Element, name: str, values: Sequence[str]) -> None:
    attr = ET.SubElement(parent, _a("Attribute"), {"Name": name, "NameFormat": NAME_FORMAT_URI})
    for value in values:
        # xsi:type names the xs prefix in an attribute value: declare it, as Okta does.
        node = ET.SubElement(
            attr, _a("AttributeValue"), {"xmlns:xs": XS_NS, f"{{{XSI_NS}}}type": "xs:string"}
        )
        node.text = value


def build_assertion_xml(
    *,
    roles: Sequence[tuple[str, str]],
    session_name: str = "alice@example.com",
    session_duration: int | None = None,
    destination: str = "https://signin.aws.amazon.com/saml",
    not_on_or_after: datetime | None = None,
    pair_order: str = "provider,role",
) -> str:
    """The decoded SAMLResponse XML. ``roles`` are ``(role_arn, provider_arn)`` pairs."""
    if pair_order not in ("provider,role", "role,provider"):
        raise ValueError(f"pair_order must be 'provider,role' or 'role,provider': {pair_order!r}")
    now = datetime.now(UTC)
    expires = not_on_or_after if not_on_or_after is not None else now + timedelta(minutes=5)
    not_before = now - timedelta(minutes=5)

    response = ET.Element(
        _p("Response"),
        {
            "Destination": destination,
            "ID": _id(),
            "IssueInstant": _ts(now),
            "Version": "2.0",
        },
    )
    issuer = ET.SubElement(
        response, _a("Issuer"), {"Format": "urn:oasis:names:tc:SAML:2.0:nameid-format:entity"}
    )
    issuer.text = ISSUER
    status = ET.SubElement(response, _p("Status"))
    ET.SubElement(status, _p("StatusCode"), {"Value": "urn:oasis:names:tc:SAML:2.0:status:Success"})

    assertion = ET.SubElement(
        response, _a("Assertion"), {"ID": _id(), "IssueInstant": _ts(now), "Version": "2.0"}
    )
    a_issuer = ET.SubElement(
        assertion, _a("Issuer"), {"Format": "urn:oasis:names:tc:SAML:2.0:nameid-format:entity"}
    )
    a_issuer.text = ISSUER

    subject = ET.SubElement(assertion, _a("Subject"))
    name_id = ET.SubElement(
        subject,
        _a("NameID"),
        {"Format": "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"},
    )
    name_id.text = session_name
    confirmation = ET.SubElement(
        subject, _a("SubjectConfirmation"), {"Method": "urn:oasis:names:tc:SAML:2.0:cm:bearer"}
    )
    ET.SubElement(
        confirmation,
        _a("SubjectConfirmationData"),
        {"NotOnOrAfter": _ts(expires), "Recipient": destination},
    )

    conditions = ET.SubElement(
        assertion, _a("Conditions"), {"NotBefore": _ts(not_before), "NotOnOrAfter": _ts(expires)}
    )
    restriction = ET.SubElement(conditions, _a("AudienceRestriction"))
    audience = ET.SubElement(restriction, _a("Audience"))
    audience.text = AUDIENCE

    authn = ET.SubElement(
        assertion,
        _a("AuthnStatement"),
        {"AuthnInstant": _ts(now), "SessionIndex": _id()},
    )
    context = ET.SubElement(authn, _a("AuthnContext"))
    class_ref = ET.SubElement(context, _a("AuthnContextClassRef"))
    class_ref.text = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"

    statement = ET.SubElement(assertion, _a("AttributeStatement"))
    pairs = [
        f"{provider},{role}" if pair_order == "provider,role" else f"{role},{provider}"
        for role, provider in roles
    ]
    _attribute(statement, ROLE_ATTRIBUTE, pairs)
    _attribute(statement, SESSION_NAME_ATTRIBUTE, [session_name])
    if session_duration is not None:
        _attribute(statement, SESSION_DURATION_ATTRIBUTE, [str(session_duration)])

    body = ET.tostring(response, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>' + body


def build_saml_response(**kwargs: Any) -> str:
    """Same keyword arguments as :func:`build_assertion_xml`; standard base64 with padding."""
    return base64.b64encode(build_assertion_xml(**kwargs).encode("utf-8")).decode("ascii")
