"""Directory entries: people and role mailboxes, and their enrolled devices.

An entry's ``email`` is informational only: nothing is ever sent to it. A
device's X25519 encryption key is signed by the same device's Ed25519 signing
key (bound to the user and device ids), so a substituted encryption key is
detected by anyone holding the entry, not just by the directory signature.
"""

from __future__ import annotations

import binascii
import enum
import re
from dataclasses import dataclass, replace
from typing import Any

from secure_send.core.directory import canonical
from secure_send.core.encoding import EncodingError, b64u, parse_time, unb64u
from secure_send.core.errors import SecureSendError
from secure_send.core.signing import signature_valid


class EntryError(SecureSendError):
    """An entry or device is malformed; ``field`` names the offending field."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


class Kind(enum.Enum):
    """What an entry stands for."""

    PERSON = "person"
    ROLE = "role"


class Status(enum.Enum):
    """Whether an entry can be chosen as a recipient."""

    ACTIVE = "active"
    DEPARTED = "departed"


# The fields an import sets, and all fields of an entry's JSON (docs/formats.md, "Directory entry").
DESCRIPTIVE_FIELDS = (
    "id",
    "kind",
    "name_ja",
    "name_kana",
    "name_en",
    "email",
    "department",
    "title",
)
ENTRY_FIELDS = frozenset((*DESCRIPTIVE_FIELDS, "status", "devices", "members"))
# 個人番号取扱 (issue 19): present, as ``true``, only on an entry IT designated to receive
# specific personal information — absent otherwise, so the bytes (and Merkle leaves) of
# every entry made before the attribute existed are unchanged, and one entry has one form
MYNUMBER_HANDLER = "mynumber_handler"
# 上長承認 (issue 20): the id of the person or role mailbox whose approval this entry's
# sends need where policy asks for one; present only when IT named one (same reason)
APPROVER = "approver"
_OPTIONAL_FIELDS = frozenset({MYNUMBER_HANDLER, APPROVER})

ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
EMAIL_PATTERN = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")
MAX_TEXT = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_DEVICE_KEY_CONTEXT = b"secure-send/device-encryption-key/v1\n"
_DEVICE_P256_CONTEXT = b"secure-send/device-p256-key/v1\n"
P256_POINT_SIZE = 65  # SEC 1 uncompressed: 0x04 || x || y


def check_id(value: object, what: str = "id") -> str:
    """An entry or device id: lowercase ASCII, digits, ``.``, ``_``, ``-``; ≤ 64 chars."""
    if not isinstance(value, str) or not ID_PATTERN.fullmatch(value):
        raise EntryError(f"invalid {what}: use a-z, 0-9, '.', '_', '-' (max 64)", what)
    return value


def _text(value: object, name: str, *, required: bool = True) -> str:
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        raise EntryError(f"{name} must be text of at most {MAX_TEXT} characters", name)
    if required and not value.strip():
        raise EntryError(f"{name} is required", name)
    if _CONTROL.search(value):
        raise EntryError(f"{name} contains control characters", name)
    return value


def device_key_message(user_id: str, device_id: str, enc_key: bytes) -> bytes:
    """What a device's signing key signs to vouch for its encryption key."""
    body = {"user": user_id, "device": device_id, "enc_key": b64u(enc_key)}
    return _DEVICE_KEY_CONTEXT + canonical.dumps(body)


def device_p256_message(user_id: str, device_id: str, p256_key: bytes) -> bytes:
    """What a device's signing key signs to vouch for its P-256 key."""
    body = {"user": user_id, "device": device_id, "p256_key": b64u(p256_key)}
    return _DEVICE_P256_CONTEXT + canonical.dumps(body)


def check_p256_point(data: bytes) -> bytes:
    """The form of an uncompressed P-256 point (whether it is on the curve is checked
    where it is used: ``core/cms/kari.load_point``; the device's signature binds it)."""
    if len(data) != P256_POINT_SIZE or data[0] != 4:
        raise EntryError("p256_key must be an uncompressed P-256 point", "devices")
    return data


def check_p256_usable(data: bytes) -> bytes:
    """:func:`check_p256_point`, and that the point is on P-256: for what a device
    *asks* to have listed (enrolment and key-add requests, parsed by the server and
    again by the directory signer). A device's binding vouches for any 65 bytes it
    signs, so without this an insider could list a key no sender can encrypt to, and
    every CMS send to that person, and to each role they are in, would fail (red team,
    issue 21). Not in the entry parsers: every directory load would pay ~30 us a
    device, and senders check each key again where they use it (``kari.load_point``)."""
    from cryptography.hazmat.primitives.asymmetric import ec  # lazily: start-up time

    check_p256_point(data)
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), data)
    except ValueError:
        raise EntryError("p256_key is not a point on P-256", "devices") from None
    return data


@dataclass(frozen=True)
class Device:
    """One enrolled device of a person: its keys and when it was enrolled."""

    id: str
    name: str
    sign_key: bytes  # Ed25519 public key
    enc_key: bytes  # X25519 public key
    enc_key_sig: bytes  # Ed25519 signature by sign_key over device_key_message
    enrolled: str
    revoked: str | None = None
    p256_key: bytes | None = None  # P-256 public key (SEC 1 uncompressed), if it has one
    p256_key_sig: bytes | None = None  # Ed25519 signature by sign_key over device_p256_message

    @property
    def active(self) -> bool:
        """Not revoked."""
        return self.revoked is None

    @property
    def has_p256(self) -> bool:
        """Whether this device can receive in the CRYPTREC suite."""
        return self.p256_key is not None

    def to_json(self) -> dict[str, Any]:
        """The canonical JSON object."""
        out: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "sign_key": b64u(self.sign_key),
            "enc_key": b64u(self.enc_key),
            "enc_key_sig": b64u(self.enc_key_sig),
            "enrolled": self.enrolled,
        }
        if self.revoked is not None:
            out["revoked"] = self.revoked
        if self.p256_key is not None and self.p256_key_sig is not None:
            out["p256_key"] = b64u(self.p256_key)  # absent before: old bytes unchanged
            out["p256_key_sig"] = b64u(self.p256_key_sig)
        return out

    @classmethod
    def from_json(cls, obj: object) -> Device:
        """Strictly parse; raises :class:`EntryError`."""
        keys = {"id", "name", "sign_key", "enc_key", "enc_key_sig", "enrolled"}
        optional = {"revoked", "p256_key", "p256_key_sig"}
        if not isinstance(obj, dict) or not keys <= obj.keys() <= keys | optional:
            raise EntryError("device has missing or unknown fields", "devices")
        if ("p256_key" in obj) != ("p256_key_sig" in obj):
            raise EntryError("p256_key and p256_key_sig come together", "devices")
        try:
            revoked = obj.get("revoked")
            if revoked is not None:
                parse_time(revoked)
            parse_time(obj["enrolled"])
            return cls(
                id=check_id(obj["id"], "device id"),
                name=_text(obj["name"], "device name"),
                sign_key=unb64u(obj["sign_key"], 32),
                enc_key=unb64u(obj["enc_key"], 32),
                enc_key_sig=unb64u(obj["enc_key_sig"], 64),
                enrolled=obj["enrolled"],
                revoked=revoked,
                p256_key=check_p256_point(unb64u(obj["p256_key"], P256_POINT_SIZE))
                if "p256_key" in obj
                else None,
                p256_key_sig=unb64u(obj["p256_key_sig"], 64) if "p256_key_sig" in obj else None,
            )
        except EncodingError as err:
            raise EntryError(f"device: {err}", "devices") from None

    @classmethod
    def validated(cls, **fields: Any) -> Device:
        """Build from fields already validated (by :meth:`from_json` on the same bytes,
        or by :mod:`entry_scan`'s pattern): no checks. Filling ``__dict__`` directly
        skips the frozen dataclass's per-field ``object.__setattr__`` — the fast path
        of loading 100,000 entries. Never use it on unverified input."""
        device = object.__new__(cls)
        device.__dict__.update(fields)
        return device

    @classmethod
    def from_checked_json(cls, obj: dict[str, Any]) -> Device:
        """Build from JSON that :meth:`from_json` accepted before (same bytes): no checks."""
        return cls.validated(
            id=obj["id"],
            name=obj["name"],
            sign_key=b64_validated(obj["sign_key"]),
            enc_key=b64_validated(obj["enc_key"]),
            enc_key_sig=b64_validated(obj["enc_key_sig"]),
            enrolled=obj["enrolled"],
            revoked=obj.get("revoked"),
            p256_key=b64_validated(obj["p256_key"]) if "p256_key" in obj else None,
            p256_key_sig=b64_validated(obj["p256_key_sig"]) if "p256_key_sig" in obj else None,
        )

    def verify_key_binding(self, user_id: str) -> None:
        """Check that ``enc_key`` (and ``p256_key``, if any) is vouched for by this
        device's own signing key.

        Raises:
            EntryError: a signature does not verify (a substituted key).
        """
        message = device_key_message(user_id, self.id, self.enc_key)
        if not signature_valid(self.sign_key, message, self.enc_key_sig):
            raise EntryError(
                f"device {self.id} of {user_id}: encryption key not signed by its signing key",
                "devices",
            )
        if self.p256_key is not None:
            self.verify_p256_binding(user_id, self.p256_key, self.p256_key_sig or b"")

    def verify_p256_binding(self, user_id: str, p256_key: bytes, sig: bytes) -> None:
        """Check that ``sig`` is this device's signing key vouching for ``p256_key``.

        Raises:
            EntryError: it does not verify (a substituted or unsigned key).
        """
        message = device_p256_message(user_id, self.id, p256_key)
        if not signature_valid(self.sign_key, message, sig):
            raise EntryError(
                f"device {self.id} of {user_id}: P-256 key not signed by its signing key",
                "devices",
            )


@dataclass(frozen=True)
class Entry:
    """A person or a role mailbox in the directory."""

    id: str
    kind: Kind
    name_ja: str
    name_kana: str
    name_en: str
    email: str
    department: str
    title: str = ""
    status: Status = Status.ACTIVE
    devices: tuple[Device, ...] = ()
    members: tuple[str, ...] = ()  # person ids, for roles only
    # may receive specific personal information (a designated role covers its members)
    mynumber_handler: bool = False
    # whose approval (上長承認) this person's sends need where policy asks: a person's or
    # a role mailbox's id (any active member of it may approve); None = nobody named
    approver: str | None = None

    @property
    def active(self) -> bool:
        """Can be chosen as a recipient."""
        return self.status is Status.ACTIVE

    def active_devices(self) -> tuple[Device, ...]:
        """Devices that new sends are encrypted to."""
        return tuple(d for d in self.devices if d.active)

    def with_changes(self, **changes: Any) -> Entry:
        """A copy with some fields changed (entries are immutable)."""
        return replace(self, **changes)

    def to_json(self) -> dict[str, Any]:
        """The canonical JSON object."""
        out: dict[str, Any] = {
            "id": self.id,
            "kind": self.kind.value,
            "name_ja": self.name_ja,
            "name_kana": self.name_kana,
            "name_en": self.name_en,
            "email": self.email,
            "department": self.department,
            "title": self.title,
            "status": self.status.value,
            "devices": [d.to_json() for d in self.devices],
            "members": list(self.members),
        }
        if self.mynumber_handler:
            out[MYNUMBER_HANDLER] = True
        if self.approver is not None:
            out[APPROVER] = self.approver
        return out

    def canonical_bytes(self) -> bytes:
        """The bytes the Merkle tree commits to."""
        return canonical.dumps(self.to_json())

    @classmethod
    def from_json(cls, obj: object) -> Entry:
        """Strictly parse and validate; raises :class:`EntryError` naming the field."""
        if not isinstance(obj, dict) or obj.keys() - _OPTIONAL_FIELDS != ENTRY_FIELDS:
            raise EntryError("entry has missing or unknown fields")
        if obj.get(MYNUMBER_HANDLER, True) is not True:  # false is written by leaving it out
            raise EntryError("mynumber_handler must be true or absent", MYNUMBER_HANDLER)
        try:
            kind = Kind(obj["kind"])
        except ValueError:
            raise EntryError("kind must be 'person' or 'role'", "kind") from None
        try:
            status = Status(obj["status"])
        except ValueError:
            raise EntryError("status must be 'active' or 'departed'", "status") from None
        if not isinstance(obj["devices"], list) or not isinstance(obj["members"], list):
            raise EntryError("devices and members must be lists")
        entry = cls(
            id=check_id(obj["id"]),
            kind=kind,
            name_ja=_text(obj["name_ja"], "name_ja"),
            name_kana=_text(obj["name_kana"], "name_kana", required=False),
            name_en=_text(obj["name_en"], "name_en", required=False),
            email=check_email(obj["email"]),
            department=_text(obj["department"], "department"),
            title=_text(obj["title"], "title", required=False),
            status=status,
            devices=tuple(Device.from_json(d) for d in obj["devices"]),
            members=tuple(check_id(m, "member id") for m in obj["members"]),
            mynumber_handler=MYNUMBER_HANDLER in obj,
            approver=check_id(obj[APPROVER], APPROVER) if APPROVER in obj else None,
        )
        entry.check_shape()
        return entry

    @classmethod
    def from_checked_json(cls, obj: dict[str, Any]) -> Entry:
        """Build from JSON whose exact bytes :meth:`from_json` accepted before.

        Only for entries a verifier has already validated (it recognises them by
        their Merkle leaf hash): skipping the checks makes a warm load of 100,000
        entries several times faster. Never use it on unverified input.
        """
        return cls.validated(
            **{
                **obj,
                "kind": Kind(obj["kind"]),
                "status": Status(obj["status"]),
                "devices": tuple(Device.from_checked_json(d) for d in obj["devices"]),
                "members": tuple(obj["members"]),
                MYNUMBER_HANDLER: MYNUMBER_HANDLER in obj,
                APPROVER: obj.get(APPROVER),
            }
        )

    @classmethod
    def validated(cls, **fields: Any) -> Entry:
        """Build from fields already validated: no checks (see :meth:`Device.validated`)."""
        entry = object.__new__(cls)
        entry.__dict__.update(fields)
        return entry

    def check_shape(self) -> None:
        """Rules that involve several fields."""
        if self.kind is Kind.PERSON and self.members:
            raise EntryError("a person cannot have members", "members")
        if self.kind is Kind.ROLE and self.devices:
            raise EntryError("a role has no devices of its own (its members do)", "devices")
        if len({d.id for d in self.devices}) != len(self.devices):
            raise EntryError("device ids must be unique within an entry", "devices")
        if len(set(self.members)) != len(self.members):
            raise EntryError("a member is listed twice", "members")
        if self.approver is not None and (self.kind is Kind.ROLE or self.approver == self.id):
            # a role mailbox sends nothing itself; nobody approves their own sends
            raise EntryError("only a person has an approver, and not themselves", APPROVER)


def b64_validated(text: str) -> bytes:
    """Decode base64url that was already found canonical (no checks here).

    Binascii and str.replace directly: base64.urlsafe_b64decode (and str.translate)
    cost several times more, which matters 300,000 times per directory load.
    """
    std = text.replace("-", "+").replace("_", "/")
    return binascii.a2b_base64(std + "=" * (-len(text) % 4))


def check_email(value: object) -> str:
    """A plausible address (informational only: nothing is sent to it)."""
    if not isinstance(value, str) or len(value) > MAX_TEXT or not EMAIL_PATTERN.fullmatch(value):
        raise EntryError("invalid email address", "email")
    return value
