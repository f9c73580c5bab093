"""Download receipts: a recipient device's signed statement that it received a drop.

Guarantees: a receipt verifies only under the recipient device's Ed25519 key as
listed in the verified directory, and only for the exact blob hashes of the
drop's manifest; the sender shows "downloaded at …" only for such receipts.
Not guaranteed: that the recipient *read* the files (only that the device
received and authenticated them).

A receipt also carries the recipient device's verified directory log head (size,
Merkle root), so that the sender can check that both saw the same history
(:mod:`secure_send.client.split_view`); receipts from before this change carry
none, and the sender does not show them as downloaded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import nacl.signing

from secure_send.core.directory.model import Entry, check_id
from secure_send.core.encoding import EncodingError, b64u, parse_time, unb64u
from secure_send.core.envelope.manifest import (
    DROP_ID,
    RECEIPT_TYPE,
    EnvelopeError,
    Manifest,
    SignedLogHead,
    active_device,
    log_size,
    verify_signature,
)
from secure_send.core.signing import signed_message

_OLD_FIELDS = frozenset({"type", "drop_id", "user", "device", "blobs", "time"})
_FIELDS = _OLD_FIELDS | {"log_size", "log_root"}


@dataclass(frozen=True)
class Receipt(SignedLogHead):
    """{drop id, recipient, device, blob hashes, time, log head}, signed by the
    recipient device (the log head is None only in receipts from older clients)."""

    drop_id: str
    user: str
    device: str
    blob_hashes: tuple[bytes, ...]
    time: str
    signature: bytes = b""
    log_size: int | None = None
    log_root: bytes | None = None

    def body(self) -> dict[str, Any]:
        """The signed JSON object."""
        body: dict[str, Any] = {
            "type": RECEIPT_TYPE,
            "drop_id": self.drop_id,
            "user": self.user,
            "device": self.device,
            "blobs": [b64u(h) for h in self.blob_hashes],
            "time": self.time,
        }
        if self.log_size is not None and self.log_root is not None:
            body |= {"log_size": self.log_size, "log_root": b64u(self.log_root)}
        return body

    def signed_by(self, key: nacl.signing.SigningKey) -> Receipt:
        """A copy signed by the recipient device."""
        return Receipt(
            **{
                **self.__dict__,
                "signature": key.sign(signed_message(RECEIPT_TYPE, self.body())).signature,
            }
        )

    def to_json(self) -> dict[str, Any]:
        """For sending to the server."""
        return {"body": self.body(), "sig": b64u(self.signature)}

    @classmethod
    def from_json(cls, obj: Any) -> Receipt:
        """Strictly parse; raises :class:`EnvelopeError`."""
        try:
            body = obj["body"]
            # exactly the older six fields, or those and the log head (both parts)
            if (
                body["type"] != RECEIPT_TYPE
                or set(body) not in (_OLD_FIELDS, _FIELDS)
                or not DROP_ID.fullmatch(body["drop_id"])
            ):
                raise EnvelopeError("not a version 1 receipt")
            parse_time(body["time"])
            head = "log_size" in body
            return cls(
                drop_id=body["drop_id"],
                user=check_id(body["user"]),
                device=check_id(body["device"], "device id"),
                blob_hashes=tuple(unb64u(h, 32) for h in body["blobs"]),
                time=body["time"],
                signature=unb64u(obj["sig"], 64),
                log_size=log_size(body["log_size"]) if head else None,
                log_root=unb64u(body["log_root"], 32) if head else None,
            )
        except (KeyError, TypeError, EncodingError) as err:
            raise EnvelopeError(f"malformed receipt ({err})") from None

    def verify(self, manifest: Manifest, directory: Mapping[str, Entry]) -> None:
        """Check against the drop's manifest and the verified directory.

        Raises:
            EnvelopeError: another drop or blob set, a non-recipient, or a bad signature.
        """
        if self.drop_id != manifest.drop_id:
            raise EnvelopeError("receipt is for another drop")
        if self.blob_hashes != tuple(b.sha256 for b in manifest.blobs):
            raise EnvelopeError("receipt names other files than the drop holds")
        listed = {(r.user, d) for r in manifest.recipients for d in r.devices}
        if (self.user, self.device) not in listed:
            raise EnvelopeError("receipt from a device the drop was not sent to")
        device = active_device(directory.get(self.user), self.device, "recipient")
        verify_signature(
            device.sign_key, signed_message(RECEIPT_TYPE, self.body()), self.signature, "receipt"
        )
