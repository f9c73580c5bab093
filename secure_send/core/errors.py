"""Typed errors for the whole core.

Every error the core raises derives from :class:`SecureSendError`, so callers can
catch one class; an error people may meet carries an ``ErrorCode`` (``code``), which
the app and the CLI say in one sentence (:mod:`secure_send.core.error_sentences`).
Messages never contain secrets (keys, file keys, codes) or plaintext.
"""

from __future__ import annotations

import enum

from secure_send.core.error_codes import ErrorCode


class SecureSendError(Exception):
    """Root of every error raised on purpose by Secure Send."""


class KeyFormatError(SecureSendError):
    """A recipient or identity string, or an identity file, is malformed."""

    code = ErrorCode.INVALID_KEY


class AgeError(SecureSendError):
    """An age file could not be opened; subclasses say which part failed."""


class ArmorError(AgeError):
    """The ASCII armor around an age file is malformed."""

    code = ErrorCode.INVALID_ARMOR


class HeaderError(AgeError):
    """The age header (or the payload nonce right after it) is malformed."""

    code = ErrorCode.INVALID_HEADER


class NoIdentityMatchError(AgeError):
    """None of the given identities can open the file: it was not sent to them."""

    code = ErrorCode.NO_IDENTITY_MATCHED


class HeaderMacError(AgeError):
    """The header's MAC does not match: the header was modified."""

    code = ErrorCode.HEADER_MODIFIED


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

    code = ErrorCode.PAYLOAD_MODIFIED

    def __init__(self, reason: PayloadFailure, chunk: int) -> None:
        super().__init__(f"file was modified or truncated ({reason.value} at chunk {chunk})")
        self.reason = reason
        self.chunk = chunk
