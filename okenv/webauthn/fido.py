"""python-fido2, imported only here and only when a key is used: device discovery (USB HID,
PC/SC, the Windows WebAuthn API), the client data and request options for a :class:`Request`,
and the check of a key's answer."""

from __future__ import annotations

import hashlib
import sys
from typing import TYPE_CHECKING, Any

from okenv.webauthn import failures
from okenv.webauthn.request import Assertion, Request

if TYPE_CHECKING:
    from fido2.client import WebAuthnClient
    from fido2.ctap import CtapDevice
    from fido2.webauthn import PublicKeyCredentialRequestOptions


def fido2_available() -> bool:
    try:
        import fido2.client  # noqa: F401
    except ImportError:
        return False
    return True


def discover() -> list[CtapDevice]:
    """Every authenticator plugged in: USB HID, then PC/SC readers when pyscard is there."""
    from fido2.hid import CtapHidDevice

    devices: list[CtapDevice] = list(CtapHidDevice.list_devices())
    try:
        from fido2.pcsc import CtapPcscDevice
    except ImportError:  # no pyscard
        return devices
    try:
        devices.extend(CtapPcscDevice.list_devices())
    except Exception:
        return devices
    return devices


def windows_client(request: Request) -> WebAuthnClient | None:
    """Windows' own WebAuthn API (Windows Hello, keys through the OS) when it can be used."""
    if sys.platform != "win32":
        return None
    import ctypes

    from fido2.client.windows import WindowsClient

    if not WindowsClient.is_available() or ctypes.windll.shell32.IsUserAnAdmin():
        return None
    return WindowsClient(collector(request))


def collector(request: Request) -> Any:
    """Client data for ``request``'s origin; the rpId is the org's host or the checked appid."""
    from fido2.client import ClientDataCollector, ClientError
    from fido2.webauthn import CollectedClientData

    class Collector(ClientDataCollector):
        def collect_client_data(self, options: Any) -> tuple[CollectedClientData, str]:
            rp_id = options.rp_id
            if rp_id not in (request.rp_id, request.appid):
                raise ClientError.ERR.BAD_REQUEST("rpId is not the Okta org's")
            data = CollectedClientData.create(
                type=CollectedClientData.TYPE.GET,
                challenge=options.challenge,
                origin=request.origin,
            )
            return data, rp_id

    return Collector()


def user_verification(request: Request, client: Any) -> str:
    """``preferred`` on a key with no PIN (or built-in UV) configured means without UV, as
    in browsers (python-fido2 would refuse the request)."""
    info = getattr(client, "info", None)
    if info is None:  # Windows' API decides for itself
        return request.user_verification
    options = getattr(info, "options", None) or {}
    configured = any(options.get(k) for k in ("uv", "clientPin", "bioEnroll"))
    if request.user_verification == "preferred" and not configured:
        return "discouraged"
    return request.user_verification


def options(request: Request, rp_id: str, uv: str) -> PublicKeyCredentialRequestOptions:
    from fido2.webauthn import (
        PublicKeyCredentialDescriptor,
        PublicKeyCredentialRequestOptions,
        PublicKeyCredentialType,
        UserVerificationRequirement,
    )

    return PublicKeyCredentialRequestOptions(
        challenge=request.challenge,
        rp_id=rp_id,
        allow_credentials=[
            PublicKeyCredentialDescriptor(type=PublicKeyCredentialType.PUBLIC_KEY, id=cid)
            for cid in request.credential_ids
        ],
        user_verification=UserVerificationRequirement(uv),
        extensions={"appid": request.appid} if request.appid and rp_id == request.rp_id else None,
    )


def checked(request: Request, rp_id: str, response: Any) -> Assertion:
    """The key's answer, refused unless it is one for this request: an allowed credential,
    the rpId's hash, user presence (and verification when required), a signature."""
    from fido2.webauthn import AuthenticatorData

    body = response.response
    auth_data: AuthenticatorData = body.authenticator_data
    flags = auth_data.flags
    ok = (
        bytes(response.raw_id) in request.credential_ids
        and auth_data.rp_id_hash == hashlib.sha256(rp_id.encode()).digest()
        and bool(flags & AuthenticatorData.FLAG.UP)
        and (request.user_verification != "required" or bool(flags & AuthenticatorData.FLAG.UV))
        and bool(body.signature)
    )
    if not ok:
        raise failures.unusable_answer()
    return Assertion(
        bytes(response.raw_id), bytes(body.client_data), bytes(auth_data), bytes(body.signature)
    )


# -- the ceremony ---------------------------------------------------------------------------
