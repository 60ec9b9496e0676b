"""Okta's security key (WebAuthn) shapes on both engines: the request in, the answer out.

Pure parsing: what Okta sends is checked here, once, before a key sees it; what a key
produced goes back as Okta's forms expect it. The key itself is :mod:`okenv.webauthn`.

Classic: one ``webauthn`` factor per credential (``profile.credentialId``, base64url);
POST verify with the stateToken → ``_embedded.factor._embedded.challenge``; POST
``_links.next`` with ``{stateToken, clientData, authenticatorData, signatureData}``.
Identity Engine: ``currentAuthenticator.value.contextualData.challengeData``
(``challenge``, ``userVerification``, ``extensions.appid``), credential ids in
``authenticatorEnrollments.value[]`` (key ``webauthn``); answer ``credentials.clientData``,
``authenticatorData``, ``signatureData`` (standard base64).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Mapping
from typing import Any

from okenv.errors import OktaError
from okenv.webauthn.request import Assertion, Request

MAX_CREDENTIALS = 32
MAX_CREDENTIAL_ID = 1023  # bytes (WebAuthn's limit)
MAX_CHALLENGE = 1024  # characters
_B64URL = re.compile(r"[A-Za-z0-9_-]+={0,2}")


def b64url_bytes(value: object, what: str) -> bytes:
    """Okta's base64url text (padded or not) as bytes, or an OktaError naming ``what``."""
    if not isinstance(value, str) or not value or len(value) > MAX_CHALLENGE * 2:
        raise OktaError(f"Okta sent a security key {what} okenv cannot read")
    if not _B64URL.fullmatch(value):
        raise OktaError(f"Okta sent a security key {what} okenv cannot read")
    try:
        return base64.urlsafe_b64decode(value.rstrip("=") + "=" * (-len(value.rstrip("=")) % 4))
    except (binascii.Error, ValueError):
        raise OktaError(f"Okta sent a security key {what} okenv cannot read") from None


def _credential_ids(values: Iterable[object]) -> list[bytes]:
    ids: list[bytes] = []
    for value in values:
        cid = b64url_bytes(value, "credential id")
        if len(cid) > MAX_CREDENTIAL_ID:
            raise OktaError("Okta sent a security key credential id okenv cannot read")
        if cid not in ids:
            ids.append(cid)
    return ids[:MAX_CREDENTIALS]


def _obj(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _challenge(data: Mapping[str, Any]) -> bytes:
    text = data.get("challenge")
    if isinstance(text, str) and len(text) > MAX_CHALLENGE:
        raise OktaError("Okta sent a security key challenge okenv cannot read")
    return b64url_bytes(text, "challenge")


def _appid(data: Mapping[str, Any]) -> object:
    return _obj(data.get("extensions")).get("appid")


def classic_credentials(transaction: Mapping[str, Any]) -> dict[str, bytes]:
    """Factor id → credential id of the ``webauthn`` factors of an MFA_REQUIRED answer."""
    embedded = _obj(transaction.get("_embedded"))
    raw = embedded.get("factors") or embedded.get("factor") or []
    found: dict[str, bytes] = {}
    for factor in raw if isinstance(raw, list) else [raw]:
        factor = _obj(factor)
        value = _obj(factor.get("profile")).get("credentialId")
        if factor.get("factorType") == "webauthn" and isinstance(factor.get("id"), str) and value:
            found[factor["id"]] = _credential_ids([value])[0]
    return dict(list(found.items())[:MAX_CREDENTIALS])


def classic_request(
    org_url: str, challenge_tx: Mapping[str, Any], credential_ids: Iterable[bytes]
) -> Request:
    """The request in a Classic MFA_CHALLENGE for the given credentials."""
    factor = _obj(_obj(challenge_tx.get("_embedded")).get("factor"))
    data = _obj(_obj(factor.get("_embedded")).get("challenge"))
    return Request.for_org(
        org_url,
        _challenge(data),
        list(credential_ids),
        data.get("userVerification"),
        _appid(data),
    )


def classic_answer(state_token: object, assertion: Assertion) -> dict[str, Any]:
    return {"stateToken": state_token, **_encoded(assertion)}


def idx_request(org_url: str, doc: Mapping[str, Any]) -> Request:
    """The request in an IDX answer whose current authenticator is ``webauthn``."""
    data: Mapping[str, Any] = {}
    for name in ("currentAuthenticator", "currentAuthenticatorEnrollment"):
        current = _obj(_obj(doc.get(name)).get("value"))
        data = data or _obj(_obj(current.get("contextualData")).get("challengeData"))
    enrollments = _obj(doc.get("authenticatorEnrollments")).get("value")
    ids = [
        e.get("credentialId")
        for e in (enrollments if isinstance(enrollments, list) else [])
        if isinstance(e, Mapping) and e.get("key") == "webauthn" and e.get("credentialId")
    ]
    return Request.for_org(
        org_url,
        _challenge(data),
        _credential_ids(ids),
        data.get("userVerification"),
        _appid(data),
    )


def idx_credentials(assertion: Assertion) -> dict[str, str]:
    """The ``credentials`` object of the ``challenge-authenticator`` form."""
    return _encoded(assertion)


def _encoded(assertion: Assertion) -> dict[str, str]:
    def b64(data: bytes) -> str:
        return base64.b64encode(data).decode("ascii")

    return {
        "clientData": b64(assertion.client_data),
        "authenticatorData": b64(assertion.authenticator_data),
        "signatureData": b64(assertion.signature),
    }
