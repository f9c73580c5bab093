"""A key-add request: an enrolled device adds its P-256 key (issue 21) to its entry.

Devices enrolled before the CRYPTREC suite existed have only Ed25519 and X25519
keys. At its next start such a device makes a P-256 key pair (the private half
stays in its key store), signs the public key with its existing Ed25519 signing
key (the binding every directory reader checks, ``device_p256_message``) and sends
this request, signed by the same key, to the drop server, which only queues it.
The directory signer checks it against its own directory — the person and device
exist and are active, the device has no P-256 key yet, the request and the binding
verify with the device's listed ``sign_key`` — and appends an ``add-key`` event
(docs/formats.md, "Key-add request").

Why no code or operator is needed: only the holder of an enrolled device's signing
key can make the request, and that key could already act as the device in every
other way. A replayed request can only add the very key its device made, and only
once (the log refuses a second ``add-key`` for a device), so replay is harmless;
after re-enrolment the device has a new signing key, which an old request does not
verify under.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from secure_send.core.directory.enrol import DeviceKeys
from secure_send.core.directory.model import (
    P256_POINT_SIZE,
    Device,
    EntryError,
    check_id,
    check_p256_usable,
)
from secure_send.core.encoding import EncodingError, b64u, format_time, parse_time, unb64u
from secure_send.core.errors import SecureSendError
from secure_send.core.signing import signature_valid, signed_message

REQUEST_TYPE = "secure-send/key-add/v1"
_BODY_FIELDS = frozenset({"type", "user", "device", "p256_key", "p256_key_sig", "time"})


class KeyAddError(SecureSendError):
    """A key-add request is malformed, or does not verify for the device it names."""


@dataclass(frozen=True)
class KeyAddRequest:
    """What a device sends to add its P-256 key (public material and signatures only)."""

    user: str
    device_id: str
    p256_key: bytes  # SEC 1 uncompressed point
    p256_key_sig: bytes  # the device's binding: sign_key over device_p256_message
    time: str
    signature: bytes  # sign_key over signed_message(REQUEST_TYPE, body)

    def body(self) -> dict[str, Any]:
        """The signed part."""
        return {
            "type": REQUEST_TYPE,
            "user": self.user,
            "device": self.device_id,
            "p256_key": b64u(self.p256_key),
            "p256_key_sig": b64u(self.p256_key_sig),
            "time": self.time,
        }

    def to_json(self) -> dict[str, Any]:
        """For sending to the server."""
        return {"body": self.body(), "signature": b64u(self.signature)}

    @classmethod
    def from_json(cls, obj: Any) -> KeyAddRequest:
        """Strictly parse (no unknown or missing field); raises :class:`KeyAddError`."""
        try:
            if not isinstance(obj, dict) or set(obj) != {"body", "signature"}:
                raise KeyAddError("not a key-add request")
            body = obj["body"]
            if not isinstance(body, dict) or set(body) != _BODY_FIELDS:
                raise KeyAddError("not a key-add request")
            if body["type"] != REQUEST_TYPE or not isinstance(body["time"], str):
                raise KeyAddError("not a key-add request")
            parse_time(body["time"])
            return cls(
                user=check_id(body["user"], "user id"),
                device_id=check_id(body["device"], "device id"),
                p256_key=check_p256_usable(unb64u(body["p256_key"], P256_POINT_SIZE)),
                p256_key_sig=unb64u(body["p256_key_sig"], 64),
                time=body["time"],
                signature=unb64u(obj["signature"], 64),
            )
        except KeyAddError:
            raise
        except (KeyError, TypeError, ValueError, EncodingError, EntryError) as err:
            raise KeyAddError(f"malformed key-add request ({err})") from None

    def verify(self, user: str, device: Device) -> None:
        """Check that ``device`` of ``user`` (as the verifier's own directory lists it)
        made this request: the ids match, the request signature and the key binding
        verify with the listed ``sign_key``.

        Raises:
            KeyAddError: it does not (never says more than which check failed).
        """
        if (self.user, self.device_id) != (user, device.id):
            raise KeyAddError("the key-add request names another device")
        message = signed_message(REQUEST_TYPE, self.body())
        if not signature_valid(device.sign_key, message, self.signature):
            raise KeyAddError("the key-add request is not signed by the device's signing key")
        try:
            device.verify_p256_binding(user, self.p256_key, self.p256_key_sig)
        except EntryError:
            raise KeyAddError("the P-256 key is not signed by the device's signing key") from None

    def event_data(self) -> dict[str, Any]:
        """The ``add-key`` event's data (core/directory/log.py)."""
        return {
            "user": self.user,
            "device": self.device_id,
            "p256_key": b64u(self.p256_key),
            "p256_key_sig": b64u(self.p256_key_sig),
        }


def make_request(keys: DeviceKeys, user: str, device_id: str, now: dt.datetime) -> KeyAddRequest:
    """Build and sign the request on the device that holds ``keys``.

    Raises:
        KeyAddError: ``keys`` hold no P-256 key (make and save one first).
    """
    binding = keys.p256_binding(user, device_id)
    if binding is None:
        raise KeyAddError("this device has no P-256 key to add")
    unsigned = KeyAddRequest(user, device_id, binding[0], binding[1], format_time(now), b"")
    signature = keys.signing.sign(signed_message(REQUEST_TYPE, unsigned.body())).signature
    return KeyAddRequest(user, device_id, binding[0], binding[1], unsigned.time, signature)
