"""The unit digests of a CMS ciphertext: how a send in the CMS suite knows, before a
byte of ciphertext leaves this process, that it is the ciphertext it measured.

The same danger as with age (:mod:`.chunk_tags`): a send encrypts each file twice
under one content key and nonce (:mod:`.blob_source`), and a file edited in between
would be another plaintext under the *same AES-GCM keystream* — two ciphertexts whose
XOR is the XOR of the plaintexts, and two GCM tags under one (key, nonce), which
gives away the authentication key. The server's hash check at the end comes too late.

CMS has no per-chunk tags: one GCM tag at the end covers everything. But
:func:`secure_send.core.cms.authenveloped.encrypt_prepared` writes in *units* — the
header, each 64 KiB content piece (an OCTET STRING), and the trailer holding the tag —
one ``write`` each. So measuring records a digest of every unit (SHA-256 cut to 16
bytes: ciphertext is not secret, so neither is its hash; 16 bytes per 64 KiB, like
age's tags), and the upload checks each unit's digest before it hands out any byte of
it. A changed piece is stopped before its ciphertext exists outside this process, and
so is the trailer whose tag was made over a changed plaintext.

The measuring cost: SHA-256 over the ciphertext once more (the manifest's hash is one
pass already; this is a second, on the same bytes, while they are in the cache).
"""

from __future__ import annotations

import hashlib
import hmac

from secure_send.client.chunk_tags import changed

DIGEST_SIZE = 16


def unit_digest(data: bytes | memoryview) -> bytes:
    """The digest recorded for one unit."""
    return hashlib.sha256(data).digest()[:DIGEST_SIZE]


class UnitRecorder:
    """Records every unit's digest of a ciphertext being made (one unit per write)."""

    def __init__(self) -> None:
        self._digests = bytearray()

    def feed(self, data: bytes | memoryview) -> None:
        """See the next unit of the ciphertext."""
        self._digests += unit_digest(data)

    def tags(self) -> bytes:
        """Every unit's digest, in order."""
        return bytes(self._digests)


class UnitCheck:
    """Checks a re-made ciphertext's units against the measured digests (``expected``:
    every unit's digest, concatenated), and says how far its bytes may be handed out.

    Each ``feed`` must be exactly one unit, as the encryptor writes them: a unit is
    proven unchanged (or refused) as a whole, so everything fed so far may go out."""

    def __init__(self, expected: bytes, size: int) -> None:
        if not expected or len(expected) % DIGEST_SIZE:
            raise changed()
        self._expected = memoryview(expected)
        self._size = size
        self._pos = 0
        self._done = 0
        self._failed = False

    def feed(self, data: bytes | memoryview) -> int:
        """Check one unit; the stream position up to which every byte is proven
        unchanged (raises :func:`.chunk_tags.changed` at the first unit that is not,
        and for good after it: the encryptor may go on writing after an error)."""
        i = self._done
        end = self._pos + len(data)
        if (
            self._failed
            or end > self._size  # the file grew
            or (i + 1) * DIGEST_SIZE > len(self._expected)  # more units than measured
            or not hmac.compare_digest(
                unit_digest(data), self._expected[i * DIGEST_SIZE : (i + 1) * DIGEST_SIZE]
            )
        ):
            self._failed = True
            raise changed()
        self._done += 1
        self._pos = end
        return end
