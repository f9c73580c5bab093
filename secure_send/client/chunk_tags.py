"""The chunk tags of an age ciphertext: how a send knows, before a byte of ciphertext
leaves this process, that it is the ciphertext it measured.

A send encrypts each file twice under one file key and nonce (:mod:`.blob_source`):
once to measure the ciphertext's hash for the signed manifest, once while uploading.
If the plaintext changed in between, the second encryption is another plaintext under
the *same keystream* — and a server that cuts the upload and reports offset 0 would
then hold two ciphertexts whose XOR is the XOR of the two plaintexts (and two
Poly1305 tags under one one-time key). The server's hash check at the end of the
upload comes too late for that.

Every chunk of age's STREAM ends with a 16-byte Poly1305 tag over that chunk's
ciphertext, keyed by the secret payload key and the chunk's counter. Same key, same
nonce: a chunk's tag is the same exactly when its plaintext is. So measuring records
the tags (16 bytes per 64 KiB, already computed by the encryptor, so free), and the
upload checks each chunk's tag before it hands out any byte of that chunk: a changed
chunk stops the send before its ciphertext exists outside this process.
"""

from __future__ import annotations

import hmac

from secure_send.client.errors import ClientError
from secure_send.core.age.stream import ENCRYPTED_CHUNK_SIZE, TAG_SIZE
from secure_send.core.error_codes import ErrorCode


def chunk_count(payload_start: int, size: int) -> int:
    """How many STREAM chunks an age file of ``size`` bytes has (at least one: an
    empty plaintext is one empty chunk, its tag alone)."""
    payload = size - payload_start
    if payload < TAG_SIZE:
        raise ValueError("an age payload holds at least one tag")
    return -(-payload // ENCRYPTED_CHUNK_SIZE)


class TagScanner:
    """Reads the chunk tags out of a ciphertext as it is written, piece by piece, in
    order (a tag may straddle two pieces).

    ``payload_start`` is where the first chunk begins (header and nonce before it);
    ``size`` the whole ciphertext's length, which places the last chunk's tag. Without
    a size (while measuring) only full chunks' tags are found: see :class:`TagRecorder`."""

    def __init__(self, payload_start: int, size: int | None = None) -> None:
        self._start = payload_start
        self._size = size
        self.count = chunk_count(payload_start, size) if size is not None else None
        self.pos = 0  # stream bytes seen
        self.done = 0  # chunks whose tag has been read
        self._carry = bytearray()  # the first bytes of a tag that straddles two pieces

    def chunk_end(self, index: int) -> int:
        """Where chunk ``index`` ends (just after its tag)."""
        end = self._start + (index + 1) * ENCRYPTED_CHUNK_SIZE
        return end if self._size is None else min(end, self._size)

    @property
    def checked_end(self) -> int:
        """The end of the last chunk whose tag was read (the header before the first)."""
        return self.chunk_end(self.done - 1) if self.done else min(self._start, self.pos)

    def feed(self, data: bytes | memoryview) -> list[bytes]:
        """The tags that end in ``data`` (chunks ``done`` … before this call), in order."""
        tags = []
        end = self.pos + len(data)
        while self.count is None or self.done < self.count:
            tag_end = self.chunk_end(self.done)
            tag_start = tag_end - TAG_SIZE
            if tag_start >= end:
                break
            self._carry += data[max(tag_start, self.pos) - self.pos : min(tag_end, end) - self.pos]
            if tag_end > end:
                break
            tags.append(bytes(self._carry))
            self._carry.clear()
            self.done += 1
        self.pos = end
        return tags


class TagRecorder:
    """Records every chunk's tag of a ciphertext being made (its size not yet known)."""

    def __init__(self, payload_start: int) -> None:
        self._start = payload_start
        self._scanner = TagScanner(payload_start)
        self._tags = bytearray()
        self._tail = b""  # the last TAG_SIZE bytes so far: the last chunk's tag, at the end

    def feed(self, data: bytes | memoryview) -> None:
        """See the next piece of the ciphertext."""
        for tag in self._scanner.feed(data):
            self._tags += tag
        self._tail = (self._tail + bytes(data[-TAG_SIZE:]))[-TAG_SIZE:]

    def tags(self) -> bytes:
        """Every chunk's tag, in order (call once the whole ciphertext was fed)."""
        size = self._scanner.pos
        count = chunk_count(self._start, size)
        if len(self._tags) // TAG_SIZE == count - 1:  # a last chunk shorter than the rest
            return bytes(self._tags) + self._tail
        return bytes(self._tags)


class TagCheck:
    """Checks a re-made ciphertext's tags against the measured ones (``expected``:
    every chunk's tag, concatenated), and says how far its bytes may be handed out."""

    def __init__(self, expected: bytes, payload_start: int, size: int) -> None:
        self._scanner = TagScanner(payload_start, size)
        self._size = size
        if len(expected) != chunk_count(payload_start, size) * TAG_SIZE:
            raise changed()
        self._expected = memoryview(expected)
        self._failed = False

    def feed(self, data: bytes | memoryview) -> int:
        """Check the tags ending in ``data``; the stream position up to which every
        byte is proven unchanged (raises :func:`changed` at the first that is not)."""
        # once failed, always failed: the encryptor may go on writing after an error
        if self._failed or self._scanner.pos + len(data) > self._size:  # or the file grew
            self._failed = True
            raise changed()
        first = self._scanner.done
        for i, tag in enumerate(self._scanner.feed(data), first):
            if not hmac.compare_digest(tag, self._expected[i * TAG_SIZE : (i + 1) * TAG_SIZE]):
                self._failed = True
                raise changed()
        return self._scanner.checked_end


def changed() -> ClientError:
    """The error of a file edited after it was measured (a send must start again)."""
    return ClientError(
        ErrorCode.FILE_CHANGED,
        "a file changed while it was being sent; nothing was delivered; send it again",
    )
