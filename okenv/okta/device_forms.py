"""The device flow's values, checked where they enter (pure: no I/O).

What Okta's device authorization, token and ID token answers may hold, and the approval
okenv keeps (:class:`KeptGrant`). Every string is bounded and of the expected alphabet,
every number a number in range, every URL on the org's own origin (https, or http on
loopback) as the HTTP client reads it. Used by :mod:`okenv.okta.device`.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from okenv.config import is_okta_id
from okenv.errors import ConfigError, OktaError
from okenv.text import printable
from okenv.urls import is_loopback, split

SCOPES = "openid okta.apps.sso offline_access device_sso"
BASIC_SCOPES = "openid okta.apps.sso"  # an app without device_sso: one approval per hour
EXCHANGE_SCOPE = "okta.apps.sso"
DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"  # noqa: S105 (a grant type, not a secret)
DEVICE_SECRET_TYPE = "urn:x-oath:params:oauth:token-type:device-secret"  # noqa: S105
ID_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:id_token"  # noqa: S105
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"  # noqa: S105
WEB_SSO_TOKEN_TYPE = "urn:okta:oauth:token-type:web_sso_token"  # noqa: S105

DEFAULT_INTERVAL = 5  # seconds, when Okta names none (RFC 8628 §3.2)
MAX_INTERVAL = 300
MAX_EXPIRES_IN = 3600  # seconds: Okta's device codes live 10 minutes by default
KEEP_FOR = 12 * 3600.0  # seconds a device secret is kept at most (Okta may end it sooner)
EXPIRY_MARGIN = 60.0  # seconds: an access token about to expire is not worth exchanging
_USER_CODE = re.compile(r"[0-9A-Za-z][0-9A-Za-z-]{2,31}")
TOKEN = re.compile(r"[\x21-\x7e]+")  # printable ASCII, no space


def shown(text: str, limit: int = 300) -> str:
    """A server string as it may be shown to a person: control characters escaped, bounded."""
    return printable(text[:limit]).strip()


def app_id_of(app_url: str) -> str:
    """The ``0oa…`` app instance id in the AWS app's embed link (``/home/amazon_aws/<id>/272``)."""
    parts = [p for p in urlsplit(app_url).path.split("/") if p]
    if len(parts) >= 3 and parts[0] == "home" and is_okta_id(parts[2]):
        return parts[2]
    raise ConfigError(
        f"cannot find the Okta app id in app_url {app_url!r}",
        hint='engine = "device" needs the AWS app\'s embed link: /home/amazon_aws/0oa…/272',
    )


def string(data: Mapping[str, Any], name: str, limit: int, *, pattern: re.Pattern[str]) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not 0 < len(value) <= limit or not pattern.fullmatch(value):
        raise OktaError(f"Okta's answer has no usable {name}")
    return value


def integer(data: Mapping[str, Any], name: str, low: int, high: int, default: int | None) -> int:
    value = data.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise OktaError(f"Okta's answer has an unusable {name} ({shown(repr(value), 40)})")
    return value


def _org_url(data: Mapping[str, Any], name: str, org_url: str) -> str:
    """A URL Okta returned, accepted only on the org's own origin (https, or loopback http)."""
    value = string(data, name, 2048, pattern=TOKEN)
    try:
        parts = split(value, f"Okta's {name}")  # read as the HTTP client reads it
    except ConfigError:
        parts = None
    org = urlsplit(org_url)
    secure = parts is not None and (
        parts.scheme == "https" or (parts.scheme == "http" and is_loopback(parts.hostname or ""))
    )
    if (
        parts is None
        or not secure
        or (parts.scheme, parts.netloc.lower())
        != (
            org.scheme,
            org.netloc.lower(),
        )
    ):
        raise OktaError(f"Okta's {name} is not on {org_url}; refusing to show or open it")
    return value


@dataclass(frozen=True)
class DeviceAuthorization:
    device_code: str
    user_code: str
    verification_uri: str
    verification_uri_complete: str | None
    expires_in: int
    interval: int

    def __repr__(self) -> str:  # the device code is a bearer secret while it lasts
        return f"DeviceAuthorization(user_code={self.user_code!r}, expires_in={self.expires_in})"


def parse_authorization(data: Mapping[str, Any], org_url: str) -> DeviceAuthorization:
    complete = None
    if data.get("verification_uri_complete") is not None:
        complete = _org_url(data, "verification_uri_complete", org_url)
    return DeviceAuthorization(
        device_code=string(data, "device_code", 1024, pattern=TOKEN),
        user_code=string(data, "user_code", 32, pattern=_USER_CODE),
        verification_uri=_org_url(data, "verification_uri", org_url),
        verification_uri_complete=complete,
        expires_in=integer(data, "expires_in", 1, MAX_EXPIRES_IN, None),
        interval=integer(data, "interval", 1, MAX_INTERVAL, DEFAULT_INTERVAL),
    )


def id_token_claims(token: str) -> dict[str, Any]:
    """The payload of an ID token (a JWT), read but not verified: okenv got it over TLS
    from the org and only hands it back to the same org; Okta verifies it."""
    pieces = token.split(".")
    if len(pieces) != 3:
        raise OktaError("Okta's id_token is not a JWT")
    payload = pieces[1] + "=" * (-len(pieces[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload.encode("ascii")))
    except (ValueError, binascii.Error, UnicodeEncodeError):
        raise OktaError("Okta's id_token cannot be read") from None
    if not isinstance(claims, dict):
        raise OktaError("Okta's id_token cannot be read")
    return claims


@dataclass(frozen=True)
class KeptGrant:
    """An approval that can be exchanged again: the actor token (the device secret, or for
    an app without ``device_sso`` the access token) and the ID token minted with it."""

    org: str
    client_id: str
    username: str
    actor_token: str
    id_token: str
    expires_at: float
    actor_token_type: str = DEVICE_SECRET_TYPE

    def __repr__(self) -> str:  # never the tokens
        return f"KeptGrant(org={self.org!r}, client_id={self.client_id!r}, user={self.username!r})"

    def usable(self, now: float) -> bool:
        return self.expires_at > now


def parse_grant(data: Mapping[str, Any], org_url: str, client_id: str, now: float) -> KeptGrant:
    """The device-code grant's tokens, checked: an ID token of this org for this client,
    and the device secret that the ``device_sso`` scope gives (kept :data:`KEEP_FOR` at
    most) or, without it, the access token (kept for its own lifetime)."""
    access_token = string(data, "access_token", 16384, pattern=TOKEN)
    id_token = string(data, "id_token", 16384, pattern=TOKEN)
    if "device_secret" in data:
        actor = string(data, "device_secret", 1024, pattern=TOKEN)
        actor_type, expires_at = DEVICE_SECRET_TYPE, now + KEEP_FOR
    else:
        lifetime = integer(data, "expires_in", 1, 86400, 3600)
        actor, actor_type = access_token, ACCESS_TOKEN_TYPE
        expires_at = now + min(lifetime - EXPIRY_MARGIN, KEEP_FOR)
    claims = id_token_claims(id_token)
    issuer = claims.get("iss")
    if not isinstance(issuer, str) or issuer.rstrip("/").lower() != org_url.rstrip("/").lower():
        raise OktaError("Okta's id_token was issued by another org; refusing it")
    audience = claims.get("aud")
    if audience != client_id and not (isinstance(audience, list) and client_id in audience):
        raise OktaError("Okta's id_token is not for this OIDC app; refusing it")
    username = claims.get("preferred_username") or claims.get("sub")
    if (
        not isinstance(username, str)
        or not 0 < len(username) <= 256
        or printable(username) != username
    ):
        raise OktaError("Okta's id_token names no usable user")
    return KeptGrant(org_url, client_id, username, actor, id_token, expires_at, actor_type)
