"""The relying party's side of WebAuthn for the fake Okta org, checked by python-fido2's server.

:class:`Verifier` enrols credentials (public keys from the virtual authenticator), issues
one-time challenges and verifies each assertion with ``fido2.server.Fido2Server``
(client data type, origin, challenge, rpId hash, UP/UV flags, signature), then checks the
signature counter itself (Fido2Server leaves that to the caller). An assertion for a
credential registered through U2F is checked against its appid instead of the rpId.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from fido2.cose import ES256
from fido2.server import Fido2Server
from fido2.webauthn import (
    Aaguid,
    AttestedCredentialData,
    AuthenticationResponse,
    AuthenticatorAssertionResponse,
    AuthenticatorData,
    CollectedClientData,
    UserVerificationRequirement,
)

from tests.fakes.ctap import Credential, b64url


class Refused(Exception):
    """The assertion does not verify (the reason is for the test's eyes, not Okta's)."""


@dataclass
class Enrolled:
    data: AttestedCredentialData
    appid: str | None
    sign_count: int = 0

    @property
    def id(self) -> bytes:
        return bytes(self.data.credential_id)


@dataclass
class Challenge:
    value: bytes
    user_verification: str
    candidates: tuple[bytes, ...]

    @property
    def text(self) -> str:
        """As Okta sends it: base64url without padding."""
        return b64url(self.value)


class Verifier:
    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.rp_id = urlsplit(origin).hostname or ""
        self.enrolled: dict[bytes, Enrolled] = {}
        self._open: dict[bytes, Challenge] = {}
        self.verified = 0
        self.refusals: list[str] = []
        """Why assertions were refused (filled by the fake org's handlers)."""
        self.user_verification = "preferred"
        """What the org's policy asks of the keys."""
        self.pending: dict[str, Challenge] = {}
        """The open challenge of each sign-in (by stateToken / stateHandle)."""

    def _server(self, rp_id: str) -> Fido2Server:
        return Fido2Server(
            {"id": rp_id, "name": "Fake Okta"}, verify_origin=lambda o: o == self.origin
        )

    def enroll(self, credential: Credential, *, appid: str | None = None) -> Enrolled:
        """Register the public key of ``credential`` (``appid``: registered as U2F there)."""
        data = AttestedCredentialData.create(
            Aaguid.NONE, credential.id, ES256.from_cryptography_key(credential.public_key())
        )
        enrolled = Enrolled(data, appid, credential.sign_count)
        self.enrolled[credential.id] = enrolled
        return enrolled

    def challenge(
        self, candidates: Sequence[bytes] | None = None, user_verification: str = "preferred"
    ) -> Challenge:
        value = secrets.token_bytes(16)
        ids = tuple(candidates) if candidates is not None else tuple(self.enrolled)
        challenge = Challenge(value, user_verification, ids)
        self._open[value] = challenge
        return challenge

    def reopen(self, challenge: Challenge) -> None:
        """Accept ``challenge`` once more (what a careless server would do), to show that
        the signature counter alone still refuses a replay."""
        self._open[challenge.value] = challenge

    def verify(
        self, challenge: Challenge, client_data: bytes, authenticator_data: bytes, signature: bytes
    ) -> Enrolled:
        """The enrolled credential that made this assertion, else :class:`Refused`.
        A challenge is good for one successful assertion."""
        if self._open.get(challenge.value) is not challenge:
            raise Refused("challenge unknown or already used")
        try:
            collected = CollectedClientData(client_data)
            auth_data = AuthenticatorData(authenticator_data)
        except (ValueError, KeyError, TypeError) as exc:
            raise Refused(f"unreadable: {exc}") from None
        reasons: list[str] = []
        for cid in challenge.candidates:
            enrolled = self.enrolled.get(cid)
            if enrolled is None:
                continue
            server = self._server(enrolled.appid or self.rp_id)
            state = {
                "challenge": b64url(challenge.value),
                "user_verification": UserVerificationRequirement(challenge.user_verification),
            }
            response = AuthenticationResponse(
                raw_id=cid,
                response=AuthenticatorAssertionResponse(
                    client_data=collected, authenticator_data=auth_data, signature=signature
                ),
            )
            try:
                server.authenticate_complete(state, [enrolled.data], response)
            except ValueError as exc:
                reasons.append(str(exc))
                continue
            counter = auth_data.counter
            if counter <= enrolled.sign_count and (counter or enrolled.sign_count):
                raise Refused("signature counter did not increase (a cloned key or a replay)")
            enrolled.sign_count = auth_data.counter
            del self._open[challenge.value]
            self.verified += 1
            return enrolled
        raise Refused("; ".join(reasons) or "no candidate credential")
