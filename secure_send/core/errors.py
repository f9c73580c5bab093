"""Typed errors for the whole core.

Every error the core raises derives from :class:`SecureSendError`, so callers can
catch one class, and the GUI can map each subclass to one translated sentence.
Messages never contain secrets (keys, file keys, codes) or plaintext.
"""

from __future__ import annotations

import enum


class SecureSendError(Exception):
    """Root of every error raised on purpose by Secure Send."""


class KeyFormatError(SecureSendError):
    """A recipient or identity string, or an identity file, is malformed."""


class AgeError(SecureSendError):
    """An age file could not be opened; subclasses say which part failed."""


class ArmorError(AgeError):
    """The ASCII armor around an age file is malformed."""


class HeaderError(AgeError):
    """The age header (or the payload nonce right after it) is malformed."""


class NoIdentityMatchError(AgeError):
    """None of the given identities can open the file: it was not sent to them."""


class HeaderMacError(AgeError):
    """The header's MAC does not match: the header was modified."""


class PayloadFailure(enum.Enum):
    """Why the encrypted payload was rejected."""

    TRUNCATED = "truncated"
    TAMPERED = "tampered"
    TRAILING_DATA = "trailing data"
    EMPTY_LAST_CHUNK = "empty last chunk"


class PayloadError(AgeError):
    """The payload failed authentication; plaintext released before it is still valid.

    Attributes:
        reason: which rule of the STREAM construction was broken.
        chunk: zero-based index of the chunk where it was detected.
    """

    def __init__(self, reason: PayloadFailure, chunk: int) -> None:
        super().__init__(f"file was modified or truncated ({reason.value} at chunk {chunk})")
        self.reason = reason
        self.chunk = chunk
