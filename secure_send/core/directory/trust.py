"""The trust chain: k-of-n offline root keys → online signing key → snapshot header.

Guarantees: a root document is accepted only with at least ``threshold``
signatures by *distinct* pinned root keys; a new root document (a new signing
key, or new root keys) only if it chains to the trusted one (version + 1, hash
of the previous) and is signed by the old threshold *and* its own. A snapshot
header is accepted only if signed by the signing key the root document names,
while that key is valid. Signatures cover canonical JSON with a type prefix,
so a signature for one document type can never be replayed as another.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

import nacl.signing

from secure_send.core.directory import canonical
from secure_send.core.directory.errors import (
    HeaderSignatureError,
    MalformedDirectoryError,
    RootRollbackError,
    RootSignatureError,
    SigningKeyError,
)
from secure_send.core.encoding import EncodingError, b64u, parse_time, unb64u
from secure_send.core.signing import signature_valid, signed_message

ROOT_TYPE = "secure-send/root/v1"
HEADER_TYPE = "secure-send/snapshot/v1"


def body_hash(body: dict[str, Any]) -> str:
    """SHA-256 of a document body's canonical bytes, base64url."""
    return b64u(hashlib.sha256(canonical.dumps(body)).digest())


@dataclass(frozen=True)
class RootDocument:
    """Names the root keys, their threshold, and the online signing key."""

    org: str
    version: int
    issued: str
    root_keys: tuple[bytes, ...]
    threshold: int
    signing_key: bytes
    signing_key_expires: str
    previous: str  # body_hash of the previous version, "" for version 1
    signatures: tuple[tuple[bytes, bytes], ...] = ()  # (root key, signature)

    def body(self) -> dict[str, Any]:
        """The signed part."""
        return {
            "type": ROOT_TYPE,
            "org": self.org,
            "version": self.version,
            "issued": self.issued,
            "root_keys": [b64u(k) for k in self.root_keys],
            "threshold": self.threshold,
            "signing_key": {"key": b64u(self.signing_key), "expires": self.signing_key_expires},
            "previous": self.previous,
        }

    def signed_by(self, keys: list[nacl.signing.SigningKey]) -> RootDocument:
        """A copy carrying signatures by ``keys`` (added to any it has)."""
        message = signed_message(ROOT_TYPE, self.body())
        sigs = dict(self.signatures)
        for key in keys:
            sigs[bytes(key.verify_key)] = key.sign(message).signature
        return RootDocument(**{**self.__dict__, "signatures": tuple(sigs.items())})

    def to_json(self) -> dict[str, Any]:
        """Body plus signatures."""
        return {
            "body": self.body(),
            "signatures": [{"key": b64u(k), "sig": b64u(s)} for k, s in self.signatures],
        }

    @classmethod
    def from_json(cls, obj: Any) -> RootDocument:
        """Strictly parse; raises :class:`MalformedDirectoryError`."""
        try:
            body, sigs = obj["body"], obj["signatures"]
            if body["type"] != ROOT_TYPE or set(body) != set(_ROOT_FIELDS):
                raise MalformedDirectoryError("not a version 1 root document")
            parse_time(body["issued"])
            parse_time(body["signing_key"]["expires"])
            doc = cls(
                org=str(body["org"]),
                version=_int(body["version"]),
                issued=body["issued"],
                root_keys=tuple(unb64u(k, 32) for k in body["root_keys"]),
                threshold=_int(body["threshold"]),
                signing_key=unb64u(body["signing_key"]["key"], 32),
                signing_key_expires=body["signing_key"]["expires"],
                previous=str(body["previous"]),
                signatures=tuple((unb64u(s["key"], 32), unb64u(s["sig"], 64)) for s in sigs),
            )
        except (KeyError, TypeError, EncodingError) as err:
            raise MalformedDirectoryError(f"malformed root document ({err})") from None
        if not 1 <= doc.threshold <= len(set(doc.root_keys)):
            raise MalformedDirectoryError("root threshold outside 1..number of root keys")
        return doc

    def count_valid(self, keys: tuple[bytes, ...]) -> int:
        """How many distinct ``keys`` signed this body validly."""
        message = signed_message(ROOT_TYPE, self.body())
        allowed = set(keys)
        good = {k for k, s in self.signatures if k in allowed and signature_valid(k, message, s)}
        return len(good)

    def verify_against(self, keys: tuple[bytes, ...], threshold: int) -> None:
        """Raise :class:`RootSignatureError` unless ``threshold`` of ``keys`` signed."""
        if self.count_valid(keys) < threshold:
            raise RootSignatureError(
                f"root document has fewer than {threshold} valid root-key signatures"
            )

    def signing_key_valid_at(self, when: dt.datetime) -> bool:
        """Whether the online signing key has not expired at ``when``."""
        return when < parse_time(self.signing_key_expires)


_ROOT_FIELDS = (
    "type",
    "org",
    "version",
    "issued",
    "root_keys",
    "threshold",
    "signing_key",
    "previous",
)


def _int(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise MalformedDirectoryError("expected a non-negative integer")
    return value


def advance_root(trusted: RootDocument, candidates: list[RootDocument]) -> RootDocument:
    """Follow a chain of newer root documents from ``trusted``; return the newest.

    Each step must be version + 1, name the previous body's hash, and carry the
    previous threshold of previous keys and its own threshold of its own keys.

    Raises:
        RootRollbackError: a gap, a fork or an older version.
        RootSignatureError: a step lacks the signatures it needs.
    """
    current = trusted
    for doc in sorted(candidates, key=lambda d: d.version):
        if doc.version <= current.version:
            if doc.body() != current.body() and doc.version == current.version:
                raise RootRollbackError("two different root documents with the same version")
            continue
        if doc.version != current.version + 1 or doc.previous != body_hash(current.body()):
            raise RootRollbackError("root document does not chain to the trusted one")
        doc.verify_against(current.root_keys, current.threshold)
        doc.verify_against(doc.root_keys, doc.threshold)
        if doc.org != current.org:
            raise RootRollbackError("root document names another organisation")
        current = doc
    return current


@dataclass(frozen=True)
class SnapshotHeader:
    """The signed summary of one published directory snapshot."""

    org: str
    epoch: int
    issued: str
    expires: str
    entry_count: int
    entries_root: bytes
    log_size: int
    log_root: bytes
    previous: str  # body_hash of the previous header, "" for the first
    root_version: int
    signature: bytes = b""

    def body(self) -> dict[str, Any]:
        """The signed part."""
        return {
            "type": HEADER_TYPE,
            "org": self.org,
            "epoch": self.epoch,
            "issued": self.issued,
            "expires": self.expires,
            "entry_count": self.entry_count,
            "entries_root": b64u(self.entries_root),
            "log_size": self.log_size,
            "log_root": b64u(self.log_root),
            "previous": self.previous,
            "root_version": self.root_version,
        }

    def signed_by(self, key: nacl.signing.SigningKey) -> SnapshotHeader:
        """A copy signed by the online signing key."""
        sig = key.sign(signed_message(HEADER_TYPE, self.body())).signature
        return SnapshotHeader(**{**self.__dict__, "signature": sig})

    def to_json(self) -> dict[str, Any]:
        """Body plus signature."""
        return {"body": self.body(), "sig": b64u(self.signature)}

    @classmethod
    def from_json(cls, obj: Any) -> SnapshotHeader:
        """Strictly parse; raises :class:`MalformedDirectoryError`."""
        try:
            body = obj["body"]
            if body["type"] != HEADER_TYPE or len(body) != 11:
                raise MalformedDirectoryError("not a version 1 snapshot header")
            parse_time(body["issued"])
            parse_time(body["expires"])
            return cls(
                org=str(body["org"]),
                epoch=_int(body["epoch"]),
                issued=body["issued"],
                expires=body["expires"],
                entry_count=_int(body["entry_count"]),
                entries_root=unb64u(body["entries_root"], 32),
                log_size=_int(body["log_size"]),
                log_root=unb64u(body["log_root"], 32),
                previous=str(body["previous"]),
                root_version=_int(body["root_version"]),
                signature=unb64u(obj["sig"], 64),
            )
        except (KeyError, TypeError, EncodingError) as err:
            raise MalformedDirectoryError(f"malformed snapshot header ({err})") from None

    def verify(self, root: RootDocument, now: dt.datetime) -> None:
        """Check the signature and that the signing key was valid when issued.

        Raises:
            SigningKeyError: the root document names another key, or it expired.
            HeaderSignatureError: the signature does not verify.
        """
        if self.root_version != root.version:
            raise SigningKeyError("snapshot refers to another root document version")
        if not root.signing_key_valid_at(parse_time(self.issued)) or not (
            root.signing_key_valid_at(now)
        ):
            raise SigningKeyError("the directory signing key has expired")
        if not signature_valid(
            root.signing_key, signed_message(HEADER_TYPE, self.body()), self.signature
        ):
            raise HeaderSignatureError("snapshot header signature does not verify")
