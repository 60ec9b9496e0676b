"""Security keys for the fake Okta org: enrol virtual keys, answer WebAuthn verify calls.

:func:`enable` puts a :class:`~tests.fakes.webauthn.Verifier` behind the org's Classic
``webauthn`` factors (through ``FakeOkta.factor_handlers``); :func:`add_key` enrols a
virtual key's credential for a user as one ``webauthn`` factor (Okta lists one factor per
credential). Every assertion is checked by python-fido2's ``Fido2Server``; a forged,
replayed, wrong-origin or wrong-key assertion gets Okta's 403 E0000068.

Classic, as Okta answers (developer.okta.com authn, "Verify WebAuthn factor"):
POST verify ``{stateToken}`` → MFA_CHALLENGE, ``factorResult: CHALLENGE``, the factor
with ``_embedded.challenge.challenge`` (base64url) and ``_links.next``; POST ``next`` with
``{stateToken, clientData, authenticatorData, signatureData}`` (base64) → SUCCESS.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from functools import partial
from typing import Any

from tests.fakes.ctap import Credential, b64url, unb64url
from tests.fakes.http import Request, Response, json_response
from tests.fakes.okta import FakeFactor, FakeOkta, FakeUser, Transaction, okta_error
from tests.fakes.webauthn import Challenge, Refused, Verifier

ANSWER_FIELDS = frozenset({"stateToken", "clientData", "authenticatorData", "signatureData"})


def enable(
    okta: FakeOkta, user_verification: str = "preferred", verifier: Verifier | None = None
) -> Verifier:
    """The org's verifier (a new one, or ``verifier``), wired to its Classic webauthn
    factors; ``user_verification`` is what the org's policy asks of the keys."""
    verifier = verifier or Verifier(okta.url)
    okta.factor_handlers["webauthn"] = partial(_verify_webauthn_factor, verifier, user_verification)
    return verifier


def add_key(
    user: FakeUser,
    verifier: Verifier,
    credential: Credential,
    *,
    name: str = "YubiKey 5 NFC",
    appid: str | None = None,
) -> FakeFactor:
    """Enrol ``credential`` for ``user``: one Classic ``webauthn`` factor."""
    verifier.enroll(credential, appid=appid)
    factor = FakeFactor(
        id="fwf" + hashlib.sha256(credential.id).hexdigest()[:17],
        factor_type="webauthn",
        provider="FIDO",
        vendor_name="FIDO",
        profile={"credentialId": b64url(credential.id), "authenticatorName": name},
    )
    user.factors.append(factor)
    return factor


def _b64(value: Any) -> bytes | None:
    if not isinstance(value, str):
        return None
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None


def _invalid_assertion() -> Response:
    return okta_error(
        "E0000068", "Invalid Passcode/Answer", 403, ["The security key assertion is not valid."]
    )


def _verify_webauthn_factor(
    verifier: Verifier,
    user_verification: str,
    okta: FakeOkta,
    tx: Transaction,
    factor: FakeFactor,
    request: Request,
) -> Response:
    assert tx.user is not None
    body = request.json if isinstance(request.json, dict) else {}
    credential_id = unb64url((factor.profile or {}).get("credentialId", ""))
    pending = tx.factor_state.get(factor.id)
    if set(body) == {"stateToken"}:
        challenge = verifier.challenge([credential_id], user_verification)
        tx.factor_state[factor.id] = challenge
        tx.status = "MFA_CHALLENGE"
        factor_json = okta._factor_json(tx.user, factor)
        data: dict[str, Any] = {"challenge": challenge.text, "extensions": {}}
        enrolled = verifier.enrolled.get(credential_id)
        if enrolled is not None and enrolled.appid:
            data["extensions"] = {"appid": enrolled.appid}
        factor_json["_embedded"] = {"challenge": data}
        verify = f"/api/v1/authn/factors/{factor.id}/verify"
        return json_response(
            okta._tx_body(
                tx,
                factorResult="CHALLENGE",
                _embedded={"user": okta._user_json(tx.user), "factor": factor_json},
                _links={"next": okta._link(verify, name="verify")},
            )
        )
    if set(body) != ANSWER_FIELDS or not isinstance(pending, Challenge):
        return okta_error("E0000001", "Api validation failed: factor", 400)
    parts = [_b64(body[k]) for k in ("clientData", "authenticatorData", "signatureData")]
    client_data, auth_data, signature = parts
    if client_data is None or auth_data is None or signature is None:
        return okta_error("E0000001", "Api validation failed: assertion is not base64", 400)
    try:
        verifier.verify(pending, client_data, auth_data, signature)
    except Refused as refused:
        verifier.refusals.append(str(refused))
        return _invalid_assertion()
    tx.factor_state.pop(factor.id, None)
    return okta._finish(tx)
