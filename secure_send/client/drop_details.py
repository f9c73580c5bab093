"""What a drop holds, before (or after) saving: the Inbox and Sent details.

Guarantees: details come only from a drop whose signed manifest verified exactly
as a receive verifies it (:func:`secure_send.client.receive.verify_drop`: the
directory, this device named or our own drop, the sender's log head) and whose
metadata blob matched the manifest's hash before it was decrypted; anything else
raises (a :class:`~secure_send.client.receive.DangerousDrop` says why) and shows
no details. The sender encrypts the metadata to their own devices too, so Sent
opens it the same way. Decrypted details are kept only in memory
(:class:`DetailsCache`, least recently used first out): file names and messages
never reach the disk in clear.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from secure_send.client.chosen import PERSON, Chosen, parse_chosen
from secure_send.client.directory_sync import Directory
from secure_send.client.receive import fetch_metadata, fetch_verified
from secure_send.client.session import Session
from secure_send.core.envelope.manifest import AGE_SUITE, Classification, Manifest

CACHE_SIZE = 500  # drops' details kept in memory (a few KB each)


@dataclass(frozen=True)
class FileInfo:
    """One file as the sender named it (raw: shown through ``core.display.shown``)."""

    name: str
    size: int


@dataclass(frozen=True)
class DropDetails:
    """A verified drop's contents. ``to`` is whom the sender chose (roles with their
    members); ``to_recorded`` is False for a drop without that record (older
    versions), whose ``to`` is then the manifest's persons."""

    drop_id: str
    sender: str
    message: str
    files: tuple[FileInfo, ...]
    classification: Classification
    to: tuple[Chosen, ...]
    to_recorded: bool
    created: str
    expires: str
    suite: str = AGE_SUITE  # the signed manifest's cipher suite (issue 21)

    @property
    def total(self) -> int:
        """The files' total size in bytes."""
        return sum(f.size for f in self.files)

    def roles_of(self, user: str) -> list[Chosen]:
        """The role mailboxes through which ``user`` got this drop."""
        return [c for c in self.to if user in c.members]


def fetch_details(
    session: Session,
    directory: Directory,
    drop_id: str,
    cancel: threading.Event | None = None,
) -> DropDetails:
    """Fetch, verify and decrypt one drop's details (network; a worker thread)."""
    manifest, _ = fetch_verified(session, directory, drop_id)
    return details_of(manifest, fetch_metadata(session.api, manifest, session.keys, cancel))


def details_of(manifest: Manifest, metadata: dict[str, Any]) -> DropDetails:
    """The details of a verified manifest and its decrypted metadata (who, when and the
    classification from the signed manifest; names and message from the metadata)."""
    persons = [r.user for r in manifest.recipients]
    chosen = parse_chosen(metadata.get("to"), persons)
    message = metadata.get("message", "")
    return DropDetails(
        drop_id=manifest.drop_id,
        sender=manifest.sender,
        message=message if isinstance(message, str) else "",
        files=tuple(_file(f) for f in metadata["files"]),
        classification=manifest.classification,
        to=chosen if chosen is not None else tuple(Chosen(p, PERSON) for p in persons),
        to_recorded=chosen is not None,
        created=manifest.created,
        expires=manifest.expires,
        suite=manifest.suite,
    )


def _file(item: Any) -> FileInfo:
    if not isinstance(item, dict):
        return FileInfo("", 0)
    size = item.get("size")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        size = 0  # the sender's own client wrote it: unreadable is shown as 0, not an error
    return FileInfo(str(item.get("name", "")), size)


class DetailsCache:
    """Details by drop id, in memory only, at most ``size`` of them; safe to use from
    several worker threads (two fetching the same drop at once both fetch it)."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self._size = size
        self._items: OrderedDict[str, DropDetails] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, drop_id: str) -> DropDetails | None:
        """The details if already known (and marks them recently used)."""
        with self._lock:
            found = self._items.get(drop_id)
            if found is not None:
                self._items.move_to_end(drop_id)
            return found

    def fetch(
        self,
        session: Session,
        directory: Directory,
        drop_id: str,
        cancel: threading.Event | None = None,
    ) -> DropDetails:
        """Known details, or fetched once and kept; failures are not kept (the next
        selection tries again, and a drop that fails verification keeps failing)."""
        found = self.get(drop_id)
        if found is not None:
            return found
        details = fetch_details(session, directory, drop_id, cancel)
        with self._lock:
            self._items[drop_id] = details
            self._items.move_to_end(drop_id)
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return details

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)
