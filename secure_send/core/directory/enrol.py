"""Device enrolment: a device proves possession of its keys and of a one-time code.

Flow (docs/security.md, "Enrolment"; the request: docs/formats.md, "Enrolment
request"): the device makes its own Ed25519 and X25519 keys (private halves
never leave it), signs its encryption key with its signing key, and sends a
request signed by the new signing key (possession) carrying an HMAC keyed by the
one-time code IT issued (authorisation). The drop server only queues it; the
directory signer turns a valid request into an ``enrol`` event, and a request
without a code waits for an operator's ``approve``.

One-time codes carry 120 random bits, are single use, expire (72 h by default),
and are stored only as a one-way derived MAC key, never in clear. An SSO (OIDC)
login can later replace the code as the authorisation without changing the rest.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

import nacl.public
import nacl.signing
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from secure_send.core.directory import canonical
from secure_send.core.directory.model import (
    P256_POINT_SIZE,
    Device,
    EntryError,
    check_id,
    check_p256_usable,
    device_key_message,
    device_p256_message,
)
from secure_send.core.display import has_unsafe
from secure_send.core.encoding import EncodingError, b64u, format_time, parse_time, unb64u
from secure_send.core.errors import SecureSendError
from secure_send.core.signing import signature_valid, signed_message

REQUEST_TYPE = "secure-send/enrol/v1"
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # 32 symbols, no 0/O, 1/I
_CODE_SYMBOLS = 24  # 24 symbols of 5 bits = 120 bits
CODE_LIFETIME = dt.timedelta(hours=72)


class EnrolmentError(SecureSendError):
    """An enrolment request or code is invalid. Never says which part of a code was wrong."""


def new_code() -> str:
    """A fresh one-time code, grouped for reading aloud: ``ABCD-EFGH-…`` (120 bits)."""
    raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(_CODE_SYMBOLS))
    return "-".join(raw[i : i + 4] for i in range(0, _CODE_SYMBOLS, 4))


def code_mac_key(code: str) -> bytes:
    """The MAC key derived from a code; the only form in which a code is stored.

    Typing variations (case, dashes, spaces) do not matter.
    """
    normalised = "".join(c for c in code.upper() if c.isalnum())
    return hashlib.sha256(
        b"secure-send/enrol-code/v1\n" + normalised.encode("ascii", "replace")
    ).digest()


@dataclass(frozen=True)
class DeviceKeys:
    """A device's own key pairs. Private halves: keep in the OS key store only.

    ``p256`` (the CRYPTREC suite's key agreement key) is None only for a device
    enrolled before it existed, until its key-add request is made."""

    signing: nacl.signing.SigningKey
    encryption: nacl.public.PrivateKey
    p256: ec.EllipticCurvePrivateKey | None = None

    @classmethod
    def generate(cls) -> DeviceKeys:
        """New random keys (all three)."""
        return cls(
            nacl.signing.SigningKey.generate(),
            nacl.public.PrivateKey.generate(),
            ec.generate_private_key(ec.SECP256R1()),
        )

    def p256_public(self) -> bytes | None:
        """The P-256 public key, SEC 1 uncompressed (None without one)."""
        return None if self.p256 is None else p256_point(self.p256.public_key())

    def p256_binding(self, user: str, device_id: str) -> tuple[bytes, bytes] | None:
        """(P-256 public key, this device's signature vouching for it), or None."""
        point = self.p256_public()
        if point is None:
            return None
        return point, self.signing.sign(device_p256_message(user, device_id, point)).signature

    def __repr__(self) -> str:  # never a private key (a dataclass repr would show them)
        return f"DeviceKeys(sign_key={b64u(bytes(self.signing.verify_key))})"


def p256_point(key: ec.EllipticCurvePublicKey) -> bytes:
    """A P-256 public key as its SEC 1 uncompressed point."""
    return key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )


_DEVICE_FIELDS = frozenset(
    {"id", "name", "sign_key", "enc_key", "enc_key_sig", "p256_key", "p256_key_sig"}
)
MAX_DEVICE_NAME = 200  # as any directory text (model.MAX_TEXT)


def _device_name(value: object) -> str:
    """A requested device name: text, not blank, nothing a screen would obey (escape
    codes, carriage returns, bidi overrides, zero-width characters: see
    :mod:`secure_send.core.display`). Refused, not repaired: the name is signed."""
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_DEVICE_NAME:
        raise EnrolmentError(f"the device name must be text of 1 to {MAX_DEVICE_NAME} characters")
    if has_unsafe(value):
        raise EnrolmentError("the device name holds control or invisible characters")
    return value


@dataclass(frozen=True)
class EnrolmentRequest:
    """What a device sends to enrol (no private key, no code in clear)."""

    user: str
    device_id: str
    device_name: str
    sign_key: bytes
    enc_key: bytes
    enc_key_sig: bytes
    time: str
    proof: bytes  # signature by sign_key over the body
    code_mac: bytes | None  # HMAC over the body keyed by the code's MAC key
    p256_key: bytes | None = None  # present from issue 21 on (older clients: absent)
    p256_key_sig: bytes | None = None

    def body(self) -> dict[str, Any]:
        """The signed and MACed part."""
        device = {
            "id": self.device_id,
            "name": self.device_name,
            "sign_key": b64u(self.sign_key),
            "enc_key": b64u(self.enc_key),
            "enc_key_sig": b64u(self.enc_key_sig),
        }
        if self.p256_key is not None and self.p256_key_sig is not None:
            device["p256_key"] = b64u(self.p256_key)
            device["p256_key_sig"] = b64u(self.p256_key_sig)
        return {"type": REQUEST_TYPE, "user": self.user, "device": device, "time": self.time}

    def to_json(self) -> dict[str, Any]:
        """For sending to the server."""
        out = {"body": self.body(), "proof": b64u(self.proof)}
        if self.code_mac is not None:
            out["code_mac"] = b64u(self.code_mac)
        return out

    @classmethod
    def from_json(cls, obj: Any) -> EnrolmentRequest:
        """Strictly parse; raises :class:`EnrolmentError`."""
        try:
            body = obj["body"]
            device = body["device"]
            if body["type"] != REQUEST_TYPE or set(obj) - {"body", "proof", "code_mac"}:
                raise EnrolmentError("not an enrolment request")
            if set(device) - _DEVICE_FIELDS or ("p256_key" in device) != ("p256_key_sig" in device):
                raise EnrolmentError("not an enrolment request")
            parse_time(body["time"])
            mac = obj.get("code_mac")
            point = device.get("p256_key")
            return cls(
                user=check_id(body["user"], "user id"),
                device_id=check_id(device["id"], "device id"),
                device_name=_device_name(device["name"]),
                sign_key=unb64u(device["sign_key"], 32),
                enc_key=unb64u(device["enc_key"], 32),
                enc_key_sig=unb64u(device["enc_key_sig"], 64),
                time=body["time"],
                proof=unb64u(obj["proof"], 64),
                code_mac=None if mac is None else unb64u(mac, 32),
                p256_key=None
                if point is None
                else check_p256_usable(unb64u(point, P256_POINT_SIZE)),  # on the curve
                p256_key_sig=None if point is None else unb64u(device["p256_key_sig"], 64),
            )
        except (KeyError, TypeError, EncodingError, EntryError) as err:
            raise EnrolmentError(f"malformed enrolment request ({err})") from None

    def device(self, enrolled: str) -> Device:
        """The device as the directory will list it."""
        return Device(
            self.device_id,
            self.device_name,
            self.sign_key,
            self.enc_key,
            self.enc_key_sig,
            enrolled,
            p256_key=self.p256_key,
            p256_key_sig=self.p256_key_sig,
        )

    def verify_possession(self) -> None:
        """Check the proof signature and the key binding.

        Raises:
            EnrolmentError: the request was not made by the holder of ``sign_key``.
        """
        message = signed_message(REQUEST_TYPE, self.body())
        if not signature_valid(self.sign_key, message, self.proof):
            raise EnrolmentError("enrolment request signature does not verify")
        try:
            self.device(self.time).verify_key_binding(self.user)
        except EntryError:
            raise EnrolmentError("a key not signed by the device's signing key") from None

    def code_matches(self, mac_key: bytes) -> bool:
        """Whether the request carries a valid MAC under ``mac_key`` (constant time)."""
        if self.code_mac is None:
            return False
        expected = hmac.new(mac_key, canonical.dumps(self.body()), hashlib.sha256).digest()
        return hmac.compare_digest(expected, self.code_mac)


def make_request(
    keys: DeviceKeys,
    user: str,
    device_id: str,
    device_name: str,
    code: str | None,
    now: dt.datetime,
) -> EnrolmentRequest:
    """Build and sign a request on the enrolling device."""
    enc_key = bytes(keys.encryption.public_key)
    sign_key = bytes(keys.signing.verify_key)
    binding = keys.signing.sign(device_key_message(user, device_id, enc_key)).signature
    p256 = keys.p256_binding(user, device_id)
    unsigned = EnrolmentRequest(
        user,
        device_id,
        device_name,
        sign_key,
        enc_key,
        binding,
        format_time(now),
        b"",
        None,
        p256_key=p256[0] if p256 else None,
        p256_key_sig=p256[1] if p256 else None,
    )
    message = signed_message(REQUEST_TYPE, unsigned.body())
    proof = keys.signing.sign(message).signature
    mac = None
    if code is not None:
        body = canonical.dumps(unsigned.body())
        mac = hmac.new(code_mac_key(code), body, hashlib.sha256).digest()
    return EnrolmentRequest(**{**unsigned.__dict__, "proof": proof, "code_mac": mac})
