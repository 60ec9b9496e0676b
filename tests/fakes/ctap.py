"""A virtual CTAP2 authenticator that python-fido2's client talks to over CTAPHID frames.

Each virtual key is a :class:`VirtualHidConnection` under python-fido2's own
``CtapHidDevice``: the real HID framing, keep-alives and CANCEL run; only the USB wire is
replaced. A key holds ES256 credentials (one key pair each, with a signature counter), an
optional PIN (PIN/UV protocol one, retries, blocking), and speaks CTAP2 — or, as a
``u2f_only`` key, only CTAP1/U2F APDUs (python-fido2 then takes its U2F path) — with a
touch behaviour:

* ``auto``    the user touches as soon as the key blinks;
* ``never``   nobody touches: the key blinks (keep-alives) until the client cancels;
* ``timeout`` the key gives up by itself after a few keep-alives (CTAP2_ERR_USER_ACTION_TIMEOUT).

Keys are described by a JSON file (:class:`KeyFile`), which also keeps their state (sign
counts, PIN retries) between processes: it is the key. :func:`install` makes
``CtapHidDevice.list_devices()`` (the discovery seam okenv uses) yield the keys plugged in;
``tests/fakes/ctap_site/sitecustomize.py`` calls it in an installed okenv when
``OKENV_TEST_CTAP`` names such a file.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import queue
import secrets
import struct
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

ENV = "OKENV_TEST_CTAP"
PACKET = 64
KEEPALIVE_PERIOD = 0.1  # seconds between keep-alives, as real keys send them
TIMEOUT_KEEPALIVES = 3  # a "timeout" key gives up after this many
READ_DEADLINE = 10.0  # seconds read_packet waits before calling the wire dead
PIN_MAX_RETRIES = 8
AAGUID = bytes.fromhex("6f6b656e762d7669727475616c2d6b65")  # "okenv-virtual-ke"

# CTAPHID commands (with the init bit) and CTAP2 status codes used here.
INIT, MSG, CBOR, CANCEL, KEEPALIVE, ERROR = 0x86, 0x83, 0x90, 0x91, 0xBB, 0xBF
SW_OK, SW_CONDITIONS_NOT_SATISFIED, SW_WRONG_DATA, SW_INS_NOT_SUPPORTED = (
    0x9000,
    0x6985,
    0x6A80,
    0x6D00,
)
OK = 0x00
INVALID_COMMAND, INVALID_PARAMETER, MISSING_PARAMETER = 0x01, 0x02, 0x14
UNSUPPORTED_OPTION, KEEPALIVE_CANCEL, NO_CREDENTIALS = 0x2B, 0x2D, 0x2E
USER_ACTION_TIMEOUT, PIN_INVALID, PIN_BLOCKED = 0x2F, 0x31, 0x32
PIN_AUTH_INVALID, PIN_AUTH_BLOCKED, PIN_NOT_SET = 0x33, 0x34, 0x35
UPNEEDED, PROCESSING = 2, 1


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Credential:
    """One ES256 credential on a key, for one rpId (or a U2F appid)."""

    id: bytes
    rp_id: str
    private_key: ec.EllipticCurvePrivateKey
    sign_count: int = 0

    @classmethod
    def new(cls, rp_id: str) -> Credential:
        return cls(secrets.token_bytes(48), rp_id, ec.generate_private_key(ec.SECP256R1()))

    def public_key(self) -> ec.EllipticCurvePublicKey:
        return self.private_key.public_key()

    def to_json(self) -> dict[str, Any]:
        pem = self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return {
            "id": b64url(self.id),
            "rp_id": self.rp_id,
            "private_key": pem.decode(),
            "sign_count": self.sign_count,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Credential:
        key = serialization.load_pem_private_key(data["private_key"].encode(), None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        return cls(unb64url(data["id"]), data["rp_id"], key, int(data["sign_count"]))


@dataclass
class VirtualKey:
    name: str = "Virtual Key"
    credentials: list[Credential] = field(default_factory=list)
    pin: str | None = None
    pin_retries: int = PIN_MAX_RETRIES
    touch: str = "auto"  # auto | never | timeout
    plugged: bool = True
    pin_supported: bool = True
    u2f_only: bool = False
    """A U2F (CTAP1) key: APDUs over CTAPHID_MSG, no CBOR, no PIN."""

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "credentials": [c.to_json() for c in self.credentials],
            "pin": self.pin,
            "pin_retries": self.pin_retries,
            "touch": self.touch,
            "plugged": self.plugged,
            "pin_supported": self.pin_supported,
            "u2f_only": self.u2f_only,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> VirtualKey:
        return cls(
            name=data.get("name", "Virtual Key"),
            credentials=[Credential.from_json(c) for c in data.get("credentials", [])],
            pin=data.get("pin"),
            pin_retries=int(data.get("pin_retries", PIN_MAX_RETRIES)),
            touch=data.get("touch", "auto"),
            plugged=bool(data.get("plugged", True)),
            pin_supported=bool(data.get("pin_supported", True)),
            u2f_only=bool(data.get("u2f_only", False)),
        )


class KeyFile:
    """The keys of one test, kept in a JSON file (state written back after every change)."""

    def __init__(self, path: Path, keys: list[VirtualKey] | None = None) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        if keys is not None:
            self.keys = keys
            self.save()
        else:
            self.keys = [VirtualKey.from_json(k) for k in json.loads(self.path.read_text())["keys"]]

    def save(self) -> None:
        with self._lock:
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps({"keys": [k.to_json() for k in self.keys]}, indent=1))
            os.replace(tmp, self.path)

    def reload(self) -> KeyFile:
        return KeyFile(self.path)


class _CtapStatus(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(hex(code))
        self.code = code


class VirtualHidConnection:
    """CTAPHID packets in and out of one virtual key (a ``CtapHidConnection``)."""

    def __init__(self, keyfile: KeyFile, index: int) -> None:
        self.keyfile = keyfile
        self.key = keyfile.keys[index]
        self._out: queue.Queue[bytes] = queue.Queue()
        self._cancel = threading.Event()
        self._cid = 0xFFFFFFFF
        self._request: tuple[int, int, int, bytearray] | None = None
        self._agreement = ec.generate_private_key(ec.SECP256R1())
        self._token: bytes | None = None
        self._pin_fails_in_a_row = 0  # reset by unplugging (a new process)
        self._u2f_asks = 0

    # -- the CtapHidConnection API ----------------------------------------------------------

    def write_packet(self, packet: bytes) -> None:
        cid, first = struct.unpack_from(">IB", packet)
        if first & 0x80:
            if first == CANCEL:
                self._cancel.set()
                return
            length = struct.unpack_from(">H", packet, 5)[0]
            self._request = (cid, first, length, bytearray(packet[7:]))
        else:
            assert self._request is not None, "continuation without an init packet"
            self._request[3].extend(packet[5:])
        cid, cmd, length, data = self._request
        if len(data) >= length:
            self._request = None
            self._cancel.clear()
            threading.Thread(
                target=self._handle, args=(cid, cmd, bytes(data[:length])), daemon=True
            ).start()

    def read_packet(self) -> bytes:
        try:
            return self._out.get(timeout=READ_DEADLINE)
        except queue.Empty:
            raise OSError("virtual key: no answer") from None

    def close(self) -> None:
        self._cancel.set()

    # -- framing ----------------------------------------------------------------------------

    def _send(self, cid: int, cmd: int, payload: bytes) -> None:
        header = struct.pack(">IBH", cid, cmd, len(payload))
        chunk, rest = payload[: PACKET - 7], payload[PACKET - 7 :]
        self._out.put((header + chunk).ljust(PACKET, b"\0"))
        seq = 0
        while rest:
            chunk, rest = rest[: PACKET - 5], rest[PACKET - 5 :]
            self._out.put((struct.pack(">IB", cid, seq) + chunk).ljust(PACKET, b"\0"))
            seq += 1

    def _handle(self, cid: int, cmd: int, data: bytes) -> None:
        if cmd == INIT:
            self._cid = secrets.randbits(31) | 1
            # WINK; a U2F key takes MSG only, a FIDO2 one CBOR only (NMSG)
            caps = 0x01 if self.key.u2f_only else 0x01 | 0x04 | 0x08
            self._send(cid, INIT, data[:8] + struct.pack(">IBBBBB", self._cid, 2, 1, 0, 0, caps))
            return
        if cmd == MSG and cid == self._cid and self.key.u2f_only:
            self._send(cid, MSG, self._apdu(data))
            return
        if cmd != CBOR or cid != self._cid or self.key.u2f_only:
            self._send(cid, ERROR, bytes([INVALID_COMMAND]))
            return
        from fido2 import cbor

        try:
            request = cbor.decode(data[1:]) if len(data) > 1 else {}
            response = self._ctap(data[0], request)
            self._send(cid, CBOR, b"\0" + (cbor.encode(response) if response else b""))
        except _CtapStatus as status:
            self._send(cid, CBOR, bytes([status.code]))

    def _keepalive(self, status: int) -> None:
        self._send(self._cid, KEEPALIVE, bytes([status]))

    def _wait_for_touch(self) -> None:
        self._keepalive(UPNEEDED)
        if self.key.touch == "auto":
            return
        beats = 0
        while not self._cancel.wait(KEEPALIVE_PERIOD):
            beats += 1
            if self.key.touch == "timeout" and beats >= TIMEOUT_KEEPALIVES:
                raise _CtapStatus(USER_ACTION_TIMEOUT)
            self._keepalive(UPNEEDED)
        raise _CtapStatus(KEEPALIVE_CANCEL)

    # -- CTAP1 / U2F --------------------------------------------------------------------------

    def _apdu(self, apdu: bytes) -> bytes:
        """One extended-length APDU (``00 INS P1 P2 00 Lc1 Lc2 data 00 00``) → data + SW."""
        ins, p1 = apdu[1], apdu[2]
        length = struct.unpack_from(">H", apdu, 5)[0]
        data = apdu[7 : 7 + length]
        if ins == 0x03:  # VERSION
            return b"U2F_V2" + struct.pack(">H", SW_OK)
        if ins != 0x02 or len(data) < 65:  # only AUTHENTICATE
            return struct.pack(">H", SW_INS_NOT_SUPPORTED)
        client_param, app_param, handle = data[:32], data[32:64], data[65 : 65 + data[64]]
        found = [
            c
            for c in self.key.credentials
            if c.id == handle and hashlib.sha256(c.rp_id.encode()).digest() == app_param
        ]
        if not found:
            return struct.pack(">H", SW_WRONG_DATA)
        if p1 == 0x07 or not self._u2f_touched():  # check-only, or waiting for the touch
            return struct.pack(">H", SW_CONDITIONS_NOT_SATISFIED)
        credential = found[0]
        credential.sign_count += 1
        signed = struct.pack(">BI", 0x01, credential.sign_count)
        signature = credential.private_key.sign(
            app_param + signed + client_param, ec.ECDSA(hashes.SHA256())
        )
        self.keyfile.save()
        return signed + signature + struct.pack(">H", SW_OK)

    def _u2f_touched(self) -> bool:
        """U2F has no keep-alive: the client polls. The first ask only makes the key blink."""
        self._u2f_asks += 1
        return self.key.touch == "auto" and self._u2f_asks > 1

    # -- CTAP2 ------------------------------------------------------------------------------

    def _ctap(self, command: int, request: Any) -> dict[Any, Any] | None:
        if not isinstance(request, dict):
            raise _CtapStatus(INVALID_PARAMETER)
        if command == 0x04:
            return self._get_info()
        if command == 0x02:
            return self._get_assertion(request)
        if command == 0x06:
            return self._client_pin(request)
        if command == 0x0B:
            self._wait_for_touch()
            return None
        raise _CtapStatus(INVALID_COMMAND)

    def _get_info(self) -> dict[Any, Any]:
        options: dict[str, bool] = {"rk": False, "up": True, "plat": False}
        if self.key.pin_supported:
            options["clientPin"] = self.key.pin is not None
            options["pinUvAuthToken"] = True
        return {
            1: ["FIDO_2_0", "FIDO_2_1"],
            2: [],
            3: AAGUID,
            4: options,
            5: 1200,
            6: [1] if self.key.pin_supported else [],
        }

    def _get_assertion(self, request: dict[Any, Any]) -> dict[Any, Any]:
        rp_id, client_data_hash = request.get(1), request.get(2)
        if not isinstance(rp_id, str) or not isinstance(client_data_hash, bytes):
            raise _CtapStatus(MISSING_PARAMETER)
        options = request.get(5) or {}
        if options.get("uv"):
            raise _CtapStatus(UNSUPPORTED_OPTION)  # no built-in user verification
        user_present = options.get("up", True)
        verified = False
        pin_auth = request.get(6)
        if pin_auth is not None:
            if request.get(7) != 1:
                raise _CtapStatus(PIN_AUTH_INVALID)
            expected = self._token and hmac.new(self._token, client_data_hash, "sha256").digest()
            if not expected or not hmac.compare_digest(pin_auth, expected[:16]):
                raise _CtapStatus(PIN_AUTH_INVALID)
            verified = True
        allowed = {bytes(d["id"]) for d in request.get(3) or [] if isinstance(d, dict)}
        found = [c for c in self.key.credentials if c.id in allowed and c.rp_id == rp_id]
        if user_present:
            self._wait_for_touch()
        if not found:
            raise _CtapStatus(NO_CREDENTIALS)
        credential = found[0]
        credential.sign_count += 1
        flags = (0x01 if user_present else 0) | (0x04 if verified else 0)
        auth_data = hashlib.sha256(rp_id.encode()).digest() + struct.pack(
            ">BI", flags, credential.sign_count
        )
        signature = credential.private_key.sign(
            auth_data + client_data_hash, ec.ECDSA(hashes.SHA256())
        )
        self.keyfile.save()
        return {1: {"id": credential.id, "type": "public-key"}, 2: auth_data, 3: signature}

    # -- clientPIN, PIN/UV auth protocol one ----------------------------------------------

    def _client_pin(self, request: dict[Any, Any]) -> dict[Any, Any]:
        if not self.key.pin_supported or request.get(1) != 1:
            raise _CtapStatus(INVALID_PARAMETER)
        sub = request.get(2)
        if sub == 0x01:
            return {3: self.key.pin_retries}
        if sub == 0x02:
            numbers = self._agreement.public_key().public_numbers()
            cose = {
                1: 2,
                3: -25,
                -1: 1,
                -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big"),
            }
            return {1: cose}
        if sub in (0x05, 0x09):
            return self._pin_token(request)
        raise _CtapStatus(INVALID_PARAMETER)

    def _pin_token(self, request: dict[Any, Any]) -> dict[Any, Any]:
        if self.key.pin is None:
            raise _CtapStatus(PIN_NOT_SET)
        if self.key.pin_retries <= 0:
            raise _CtapStatus(PIN_BLOCKED)
        if self._pin_fails_in_a_row >= 3:
            raise _CtapStatus(PIN_AUTH_BLOCKED)
        platform, pin_hash_enc = request.get(3), request.get(6)
        if not isinstance(platform, dict) or not isinstance(pin_hash_enc, bytes):
            raise _CtapStatus(MISSING_PARAMETER)
        peer = ec.EllipticCurvePublicNumbers(
            int.from_bytes(platform[-2], "big"), int.from_bytes(platform[-3], "big"), ec.SECP256R1()
        ).public_key()
        shared = hashlib.sha256(self._agreement.exchange(ec.ECDH(), peer)).digest()
        self.key.pin_retries -= 1
        given = _aes(shared, pin_hash_enc, encrypt=False)
        if not hmac.compare_digest(given, hashlib.sha256(self.key.pin.encode()).digest()[:16]):
            self._agreement = ec.generate_private_key(ec.SECP256R1())
            self._pin_fails_in_a_row += 1
            self.keyfile.save()
            if self.key.pin_retries <= 0:
                raise _CtapStatus(PIN_BLOCKED)
            if self._pin_fails_in_a_row >= 3:
                raise _CtapStatus(PIN_AUTH_BLOCKED)
            raise _CtapStatus(PIN_INVALID)
        self.key.pin_retries = PIN_MAX_RETRIES
        self._pin_fails_in_a_row = 0
        self.keyfile.save()
        self._token = secrets.token_bytes(32)
        return {2: _aes(shared, self._token, encrypt=True)}


def _aes(key: bytes, data: bytes, *, encrypt: bool) -> bytes:
    cipher = Cipher(algorithms.AES(key), modes.CBC(b"\0" * 16))
    op = cipher.encryptor() if encrypt else cipher.decryptor()
    return op.update(data) + op.finalize()


def plugged_devices(path: Path) -> Iterator[Any]:
    """python-fido2 ``CtapHidDevice``s for the keys of ``path`` that are plugged in."""
    from fido2.hid import CtapHidDevice
    from fido2.hid.base import HidDescriptor

    keyfile = KeyFile(path)
    for index, key in enumerate(keyfile.keys):
        if key.plugged:
            descriptor = HidDescriptor(
                f"virtual:{index}", 0x1209, 0x0001, PACKET, PACKET, key.name, f"V{index}"
            )
            connection: Any = VirtualHidConnection(keyfile, index)
            yield CtapHidDevice(descriptor, connection)


def seam(path: Path | str) -> Any:
    """A ``CtapHidDevice.list_devices`` that yields the virtual keys of ``path``."""

    def list_devices(cls: type[Any]) -> Iterator[Any]:
        return plugged_devices(Path(path))

    return classmethod(list_devices)


def install(path: Path | str) -> None:
    """Make ``CtapHidDevice.list_devices()`` (okenv's discovery seam) yield those keys."""
    from fido2.hid import CtapHidDevice

    CtapHidDevice.list_devices = seam(path)  # type: ignore[method-assign]
