"""What Okta asks of a security key and what the key answers: plain values, checked where
they enter (:meth:`Request.for_org`). Nothing here talks to a key."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from okenv.errors import OktaError

USER_VERIFICATION = ("required", "preferred", "discouraged")


@dataclass(frozen=True)
class Request:
    """What Okta asks of a key (both engines), checked where it enters (:meth:`for_org`)."""

    origin: str
    rp_id: str
    challenge: bytes
    credential_ids: tuple[bytes, ...]
    user_verification: str = "preferred"
    appid: str | None = None

    @classmethod
    def for_org(
        cls,
        org_url: str,
        challenge: bytes,
        credential_ids: Sequence[bytes],
        user_verification: object = None,
        appid: object = None,
    ) -> Request:
        """The request for the org at ``org_url``: rpId is its host, the origin its URL's.

        An unknown ``user_verification`` counts as ``preferred`` (as browsers do); an
        ``appid`` must be on the org's own host (FIDO AppID rules) or the request is refused.
        """
        parts = urlsplit(org_url)
        host = (parts.hostname or "").lower()
        if not host:
            raise OktaError(f"cannot tell the Okta host from {org_url!r}")
        origin = f"{parts.scheme}://{parts.netloc.lower()}"
        uv = user_verification if user_verification in USER_VERIFICATION else "preferred"
        checked_appid: str | None = None
        if appid not in (None, ""):
            if not isinstance(appid, str) or urlsplit(appid).hostname != host:
                raise OktaError(
                    "Okta asked for a security key assertion for another site (appid)",
                    hint=f"only {host} may ask okenv for a security key",
                )
            checked_appid = appid
        return cls(origin, host, challenge, tuple(credential_ids), str(uv), checked_appid)


@dataclass(frozen=True)
class Assertion:
    """What a key produced, to be posted to Okta as is."""

    credential_id: bytes
    client_data: bytes
    authenticator_data: bytes
    signature: bytes
