"""Security keys for the fake Okta org: enrol virtual keys, answer WebAuthn verify calls.

:func:`enable` puts a :class:`~tests.fakes.webauthn.Verifier` behind the org's Classic
``webauthn`` factors (through ``FakeOkta.factor_handlers``); :func:`add_key` enrols a
virtual key's credential for a user as one ``webauthn`` factor (Okta lists one factor per
credential). Every assertion is checked by python-fido2's ``Fido2Server``; a forged,
replayed, wrong-origin or wrong-key assertion gets Okta's 403 E0000068.

Identity Engine: ``webauthn`` in ``select-authenticator-authenticate``; once chosen,
``currentAuthenticator.value.contextualData.challengeData`` (challenge, userVerification,
extensions.appid) and one ``authenticatorEnrollments`` entry per key with its
``credentialId``; ``challenge-authenticator`` takes ``credentials.clientData``,
``authenticatorData``, ``signatureData`` (standard base64).

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
from tests.fakes.okta import FakeFactor, FakeOkta, FakeUser, IdxState, Transaction, okta_error
from tests.fakes.okta_idx import error
from tests.fakes.webauthn import Challenge, Refused, Verifier

ANSWER_FIELDS = frozenset({"stateToken", "clientData", "authenticatorData", "signatureData"})


def enable(
    okta: FakeOkta, user_verification: str = "preferred", verifier: Verifier | None = None
) -> Verifier:
    """The org's verifier (a new one, or ``verifier``), wired to its Classic webauthn
    factors; ``user_verification`` is what the org's policy asks of the keys."""
    verifier = verifier or Verifier(okta.url)
    verifier.user_verification = user_verification
    okta.factor_handlers["webauthn"] = partial(_verify_webauthn_factor, verifier)
    okta.webauthn = verifier
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
        challenge = verifier.challenge([credential_id], verifier.user_verification)
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
    parts = _assertion(body)
    if parts is None:
        return okta_error("E0000001", "Api validation failed: assertion is not base64", 400)
    if not _verified(verifier, pending, parts):
        return _invalid_assertion()
    tx.factor_state.pop(factor.id, None)
    return okta._finish(tx)


def _assertion(body: dict[str, Any]) -> tuple[bytes, bytes, bytes] | None:
    client_data, auth_data, signature = (
        _b64(body.get(k)) for k in ("clientData", "authenticatorData", "signatureData")
    )
    if client_data is None or auth_data is None or signature is None:
        return None
    return client_data, auth_data, signature


def _verified(verifier: Verifier, challenge: Challenge, parts: tuple[bytes, bytes, bytes]) -> bool:
    try:
        verifier.verify(challenge, *parts)
    except Refused as refused:
        verifier.refusals.append(str(refused))
        return False
    return True


# -- Identity Engine ----------------------------------------------------------------------

IDX_FIELDS = ("clientData", "authenticatorData", "signatureData")


def _keys(user: FakeUser) -> list[FakeFactor]:
    return [f for f in user.factors if f.factor_type == "webauthn" and f.profile]


def idx_enrollments(okta: FakeOkta, user: FakeUser) -> list[dict[str, Any]]:
    """One ``authenticatorEnrollments`` entry per enrolled key, with its credentialId."""
    return [
        {
            "displayName": (f.profile or {}).get("authenticatorName", "Security key"),
            "type": "security_key",
            "key": "webauthn",
            "id": f.id,
            "authenticatorId": f.id,
            "credentialId": (f.profile or {})["credentialId"],
            "transports": ["usb", "nfc"],
        }
        for f in _keys(user)
    ]


def idx_challenge_data(okta: FakeOkta, state: IdxState) -> dict[str, Any]:
    """The ``contextualData`` of a webauthn challenge (one open challenge per sign-in, for
    all the user's keys)."""
    verifier: Verifier = okta.webauthn
    assert state.user is not None
    challenge = verifier.pending.get(state.handle)
    if challenge is None:
        ids = [unb64url((f.profile or {})["credentialId"]) for f in _keys(state.user)]
        challenge = verifier.challenge(ids, verifier.user_verification)
        verifier.pending[state.handle] = challenge
    data: dict[str, Any] = {
        "challenge": challenge.text,
        "userVerification": verifier.user_verification,
        "hints": ["security-key"],
    }
    appids = {verifier.enrolled[c].appid for c in challenge.candidates if c in verifier.enrolled}
    appids.discard(None)
    if appids:
        data["extensions"] = {"appid": appids.pop()}
    return {"challengeData": data}


def idx_verify(
    okta: FakeOkta, state: IdxState, body: dict[str, Any]
) -> tuple[int, list[Any]] | None:
    """None when the posted assertion verifies; else the error status and messages."""
    verifier: Verifier = okta.webauthn
    given = body.get("credentials")
    challenge = verifier.pending.get(state.handle)
    if not isinstance(given, dict) or set(given) != set(IDX_FIELDS) or challenge is None:
        return 400, [error("Invalid request: credentials", "api.idx.invalid")]
    parts = _assertion(given)
    if parts is None or not _verified(verifier, challenge, parts):
        return 403, [
            error("Unable to verify the security key.", "authfactor.webauthn.error.invalid")
        ]
    del verifier.pending[state.handle]
    return None
