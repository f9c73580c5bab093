"""What every signed document in Secure Send is made of, in one place.

A signature always covers ``TYPE + "\\n" + canonical JSON of the body``: the type
prefix means a signature made for one kind of document (a root document, a
manifest, a receipt…) can never be replayed as another.
"""

from __future__ import annotations

from typing import Any

import nacl.exceptions
import nacl.signing

from secure_send.core.directory import canonical


def signed_message(doc_type: str, body: dict[str, Any]) -> bytes:
    """The exact bytes signed for a document of ``doc_type`` with ``body``."""
    return doc_type.encode("ascii") + b"\n" + canonical.dumps(body)


def signature_valid(key: bytes, message: bytes, sig: bytes) -> bool:
    """Whether ``sig`` is a valid Ed25519 signature of ``message`` by ``key``.

    A malformed key or signature is simply not valid: callers raise their own
    typed error, which never carries the key or signature.
    """
    try:
        nacl.signing.VerifyKey(key).verify(message, sig)
    except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError):
        return False
    return True
