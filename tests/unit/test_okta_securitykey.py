"""okenv.okta.securitykey: Okta's WebAuthn shapes in (checked) and out (as the forms want)."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from okenv.errors import OktaError
from okenv.okta import securitykey
from okenv.webauthn.request import Assertion

ORG = "https://acme.okta.example"
KEY_ONE = base64.urlsafe_b64encode(b"\x01" * 64).rstrip(b"=").decode()
KEY_TWO = base64.urlsafe_b64encode(b"\x02" * 64).rstrip(b"=").decode()


def idx_doc(challenge: Any = "qjUCU0xoVe5QZ3-etDCD", **data: Any) -> dict[str, Any]:
    """The shape of an IDX webauthn challenge (authenticator-verification-webauthn)."""
    return {
        "currentAuthenticator": {
            "type": "object",
            "value": {
                "contextualData": {"challengeData": {"challenge": challenge, **data}},
                "type": "security_key",
                "key": "webauthn",
                "id": "aut1",
            },
        },
        "authenticatorEnrollments": {
            "type": "array",
            "value": [
                {"key": "okta_password", "id": "aut0", "type": "password"},
                {"key": "webauthn", "type": "security_key", "credentialId": KEY_ONE},
                {"key": "webauthn", "type": "security_key", "credentialId": KEY_TWO},
                {"key": "custom_otp", "type": "security_key", "credentialId": "ignored"},
            ],
        },
    }


def test_idx_request_reads_challenge_uv_appid_and_enrolled_keys() -> None:
    appid = f"{ORG}/u2f"
    request = securitykey.idx_request(
        ORG, idx_doc(userVerification="required", extensions={"appid": appid})
    )
    assert request.challenge == base64.urlsafe_b64decode("qjUCU0xoVe5QZ3-etDCD")
    assert request.credential_ids == (b"\x01" * 64, b"\x02" * 64)
    assert (request.user_verification, request.appid) == ("required", appid)
    assert (request.rp_id, request.origin) == ("acme.okta.example", ORG)


@pytest.mark.parametrize("challenge", [None, 7, "", "not base64!", "a" * 5000])
def test_idx_request_refuses_an_unreadable_challenge(challenge: Any) -> None:
    with pytest.raises(OktaError, match="challenge"):
        securitykey.idx_request(ORG, idx_doc(challenge))


def test_classic_request_and_answer() -> None:
    tx = {
        "stateToken": "00abc",
        "_embedded": {"factor": {"_embedded": {"challenge": {"challenge": "c2lnbi1tZS1wbGVhc2U"}}}},
    }
    required = {
        "_embedded": {
            "factors": [
                {"id": "ost1", "factorType": "token:software:totp", "profile": {}},
                {"id": "fwf1", "factorType": "webauthn", "profile": {"credentialId": KEY_ONE}},
                {"id": "fwf2", "factorType": "webauthn", "profile": {"credentialId": KEY_TWO}},
            ]
        }
    }
    ids = securitykey.classic_credentials(required)
    assert ids == {"fwf1": b"\x01" * 64, "fwf2": b"\x02" * 64}
    request = securitykey.classic_request(ORG, tx, [ids["fwf1"]])
    assert request.challenge == b"sign-me-please" and request.credential_ids == (b"\x01" * 64,)
    assert request.user_verification == "preferred"
    answer = securitykey.classic_answer("00abc", Assertion(b"\x01", b"{}", b"\xff\xfe", b"\x00"))
    assert answer == {
        "stateToken": "00abc",
        "clientData": "e30=",
        "authenticatorData": "//4=",  # standard base64, as the widget sends it
        "signatureData": "AA==",
    }
    assert securitykey.idx_credentials(Assertion(b"\x01", b"{}", b"\xff\xfe", b"\x00")) == {
        k: v for k, v in answer.items() if k != "stateToken"
    }
