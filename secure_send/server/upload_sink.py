"""Where a PATCH body goes: appended to the partial file and hashed as it arrives.

Every byte of an upload is hashed once on the way in, not re-read at the end:
:class:`HashCache` keeps the running SHA-256 of each upload's stored prefix
between PATCHes (keyed by offset, so a hasher is used only for exactly the bytes
it has seen; after a restart, or a PATCH served by another process, the prefix is
re-hashed from disk instead). A store that cannot read an unfinished upload back
(S3) makes the sink stop hashing the blob: it is hashed once finished instead
(:func:`~secure_send.server.tus.complete_stored`). A PATCH that starts at offset 0
needs no second hash for its ``Content-Digest``: its body *is* the blob's prefix.

Progress is recorded (``checkpoint``) only after the writer's flush, so a recorded
offset is always stored.

The socket side (:func:`pump`) runs on the event loop and hands blocks of a few
MiB to a writer thread, so receiving overlaps hashing and writing (``hashlib`` and
``pwritev`` release the GIL).
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from secure_send.server.storage import BlobStore, PartialWriter

BLOCK = 4 * 1024 * 1024  # bytes handed to the writer thread at a time
IN_FLIGHT = 4  # blocks received but not yet written, at most (memory: 16 MiB per PATCH)
CHECKPOINT = 64 * 1024 * 1024  # record the offset this often during a long PATCH


class HashCache:
    """Running SHA-256 of uploads' stored prefixes: ``upload id -> (offset, hasher)``."""

    def __init__(self, limit: int = 1024) -> None:
        self._items: OrderedDict[str, tuple[int, Any]] = OrderedDict()
        self._limit = limit
        self._lock = threading.Lock()

    def take(self, upload_id: str, offset: int) -> Any | None:
        """The hasher of exactly the first ``offset`` bytes, removed from the cache; or None."""
        with self._lock:
            found = self._items.pop(upload_id, None)
        return found[1] if found is not None and found[0] == offset else None

    def put(self, upload_id: str, offset: int, hasher: Any) -> None:
        """Remember the hasher of the first ``offset`` bytes (the oldest entry is dropped
        beyond the limit: it is only a cache)."""
        with self._lock:
            self._items[upload_id] = (offset, hasher)
            self._items.move_to_end(upload_id)
            while len(self._items) > self._limit:
                self._items.popitem(last=False)


class UploadSink:
    """One PATCH body being appended at ``start``; see the module docstring."""

    def __init__(
        self,
        blobs: BlobStore,
        cache: HashCache,
        upload_id: str,
        start: int,
        checkpoint: Callable[[int], None] | None = None,
    ) -> None:
        self.upload_id = upload_id
        self.start = start
        self.end = start
        self._cache = cache
        self._checkpoint = checkpoint
        self._checkpointed = start
        blob = cache.take(upload_id, start)
        if blob is None:
            blob = hashlib.sha256()
            if start:
                # no running hash for this prefix (restart, another process): re-read it
                # once, if the store can (None: the finished blob is hashed instead)
                blob = blobs.hash_partial(upload_id, start)
        self._blob: Any | None = blob
        # from offset 0 the body is the blob's prefix: one hash serves both
        self._body = None if start == 0 else hashlib.sha256()
        self._writer: PartialWriter = blobs.open_partial(upload_id, start)

    def write(self, parts: list[bytes]) -> None:
        """Append and hash (called on a worker thread, one call at a time)."""
        self._writer.write(parts)
        for part in parts:
            if self._blob is not None:
                self._blob.update(part)
            if self._body is not None:
                self._body.update(part)
            self.end += len(part)
        if self._checkpoint is not None and self.end - self._checkpointed >= CHECKPOINT:
            self._writer.flush()  # stored before the database says so
            self._checkpoint(self.end)
            self._checkpointed = self.end

    def body_sha256(self) -> bytes:
        """The SHA-256 of the bytes written by this PATCH."""
        # no body hasher only from offset 0, where the blob's is always kept
        hasher: Any = self._body if self._body is not None else self._blob
        return bytes(hasher.digest())

    def blob_sha256(self) -> bytes | None:
        """The SHA-256 of the whole stored prefix, this PATCH included; None when it is
        not known here (the store could not hash the earlier prefix)."""
        return None if self._blob is None else bytes(self._blob.digest())

    def keep(self, *, durable: bool) -> None:
        """Keep what was written: flush (and fsync if ``durable``) before the caller
        records the new offset; remember the running hash."""
        try:
            self._writer.flush()
            if durable:
                self._writer.sync()
        finally:
            self._writer.close()
        if self._blob is not None:
            self._cache.put(self.upload_id, self.end, self._blob)

    def discard(self) -> None:
        """Cut the file back to where this PATCH started; forget the running hash."""
        try:
            self._writer.truncate(self.start)
        finally:
            self._writer.close()
        self.end = self.start


async def pump(chunks: AsyncIterator[bytes], sink: UploadSink) -> None:
    """Feed the request body to ``sink`` in blocks on one writer thread (so in order),
    up to ``IN_FLIGHT`` blocks ahead: the socket keeps being read while earlier blocks
    are hashed and written. Whatever arrived is written even if the stream ends with
    an error (a cut connection), so ``sink.end`` counts every byte that arrived."""
    loop = asyncio.get_running_loop()
    parts: list[bytes] = []
    size = 0
    pending: deque[asyncio.Future[None]] = deque()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="upload") as writer:
        try:
            async for chunk in chunks:
                if chunk:
                    parts.append(chunk)
                    size += len(chunk)
                if size >= BLOCK:
                    if len(pending) >= IN_FLIGHT:
                        await pending.popleft()
                    pending.append(loop.run_in_executor(writer, sink.write, parts))
                    parts, size = [], 0
        finally:
            if parts:
                pending.append(loop.run_in_executor(writer, sink.write, parts))
            while pending:
                await pending.popleft()
