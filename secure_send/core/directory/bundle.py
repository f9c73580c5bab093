"""The published directory bundle and the client's checkpoint of it.

A bundle carries the chain of root documents, the signed snapshot header, and
every entry as the exact canonical JSON text the Merkle root commits to (so the
client hashes the very bytes it received, not a re-encoding of them).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from secure_send.core.directory.errors import MalformedDirectoryError
from secure_send.core.directory.trust import RootDocument, SnapshotHeader
from secure_send.core.encoding import EncodingError, b64u, unb64u

BUNDLE_FORMAT = "secure-send/directory/v1"


@dataclass(frozen=True)
class Bundle:
    """What a client downloads: roots, header, and entry texts."""

    roots: tuple[RootDocument, ...]
    header: SnapshotHeader
    entries: tuple[str, ...]

    def to_bytes(self, fmt: str = BUNDLE_FORMAT) -> bytes:
        """Serialised as lines: one JSON line with the format, roots and header, then
        one line per entry holding its exact canonical text (canonical JSON never
        contains a raw newline). Clients parse all entries in one pass and hash each
        line as received, with no string escaping in between."""
        head = {
            "format": fmt,
            "roots": [r.to_json() for r in self.roots],
            "header": self.header.to_json(),
            "entries": len(self.entries),
        }
        lines = [json.dumps(head, ensure_ascii=False, separators=(",", ":")), *self.entries]
        return ("\n".join(lines) + "\n").encode("utf-8")

    @staticmethod
    def peek_header(data: bytes) -> SnapshotHeader:
        """The snapshot header from the head line alone, *unverified* (e.g. to see an
        older log size before paying for a full parse); raises
        :class:`MalformedDirectoryError`."""
        try:
            return SnapshotHeader.from_json(json.loads(data[: data.index(b"\n")])["header"])
        except (ValueError, KeyError, TypeError):
            raise MalformedDirectoryError("not a directory bundle") from None

    @classmethod
    def head_from_bytes(cls, data: bytes) -> Bundle:
        """A bundle's head line alone (what ``GET /v1/directory/head`` serves: the
        root chain and the header, no entry), as a bundle without entries; raises
        :class:`MalformedDirectoryError`."""
        try:
            text = data.decode("utf-8")
            if not text.endswith("\n") or "\n" in text[:-1]:
                raise MalformedDirectoryError("not one head line")
            head = json.loads(text)
            if head["format"] != BUNDLE_FORMAT:
                raise MalformedDirectoryError(f"not a {BUNDLE_FORMAT} head")
            return cls(
                roots=tuple(RootDocument.from_json(r) for r in head["roots"]),
                header=SnapshotHeader.from_json(head["header"]),
                entries=(),
            )
        except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError):
            raise MalformedDirectoryError("not a directory head") from None

    @classmethod
    def from_bytes(cls, data: bytes, fmt: str = BUNDLE_FORMAT) -> Bundle:
        """Parse a document of format ``fmt``; raises :class:`MalformedDirectoryError`."""
        try:
            text = data.decode("utf-8")
            if not text.endswith("\n"):
                raise MalformedDirectoryError("directory document is truncated")
            lines = text[:-1].split("\n")
            head = json.loads(lines[0])
            if head["format"] != fmt:
                raise MalformedDirectoryError(f"not a {fmt} document")
            entries = tuple(lines[1:])
            if head["entries"] != len(entries):
                raise MalformedDirectoryError("directory document has a wrong number of lines")
            return cls(
                roots=tuple(RootDocument.from_json(r) for r in head["roots"]),
                header=SnapshotHeader.from_json(head["header"]),
                entries=entries,
            )
        except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError):
            raise MalformedDirectoryError("not a directory bundle") from None


@dataclass(frozen=True)
class TrustAnchor:
    """What the installed configuration pins: never learned from the server."""

    org: str
    root_keys: tuple[bytes, ...]
    threshold: int

    def to_json(self) -> dict[str, Any]:
        """For the client configuration file."""
        return {
            "org": self.org,
            "root_keys": [b64u(k) for k in self.root_keys],
            "threshold": self.threshold,
        }

    @classmethod
    def from_json(cls, obj: Any) -> TrustAnchor:
        """Parse; raises :class:`MalformedDirectoryError`."""
        try:
            keys = tuple(unb64u(k, 32) for k in obj["root_keys"])
            threshold = obj["threshold"]
            if not isinstance(threshold, int) or not 1 <= threshold <= len(set(keys)):
                raise MalformedDirectoryError("threshold outside 1..number of root keys")
            return cls(org=str(obj["org"]), root_keys=keys, threshold=threshold)
        except (KeyError, TypeError, EncodingError):
            raise MalformedDirectoryError("malformed trust anchor") from None


@dataclass(frozen=True)
class Checkpoint:
    """The last directory a client verified: all it needs to judge the next one."""

    root: RootDocument
    epoch: int
    header_hash: str
    log_size: int
    log_root: bytes

    def to_json(self) -> dict[str, Any]:
        """For the client's state file."""
        return {
            "root": self.root.to_json(),
            "epoch": self.epoch,
            "header_hash": self.header_hash,
            "log_size": self.log_size,
            "log_root": b64u(self.log_root),
        }

    @classmethod
    def from_json(cls, obj: Any) -> Checkpoint:
        """Parse; raises :class:`MalformedDirectoryError`."""
        try:
            return cls(
                root=RootDocument.from_json(obj["root"]),
                epoch=int(obj["epoch"]),
                header_hash=str(obj["header_hash"]),
                log_size=int(obj["log_size"]),
                log_root=unb64u(obj["log_root"], 32),
            )
        except (KeyError, TypeError, ValueError, EncodingError):
            raise MalformedDirectoryError("malformed checkpoint") from None
