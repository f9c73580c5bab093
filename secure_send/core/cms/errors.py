"""Typed errors of the CMS suite, each with the ErrorCode people are told.

One class per way a message can be refused, so tests and callers can tell them
apart; the codes reuse the age commands' kinds (``invalid_header``,
``header_modified``, ``no_identity_matched``, ``payload_modified``) because to a
person the meaning is the same. Messages carry no key material or plaintext.
"""

from __future__ import annotations

from secure_send.core.error_codes import ErrorCode
from secure_send.core.errors import SecureSendError


class CmsError(SecureSendError):
    """A CMS message could not be made or opened; subclasses say why."""

    code = ErrorCode.INVALID_HEADER


class CmsFormatError(CmsError):
    """The message is not well-formed CMS (or not AuthEnvelopedData)."""

    code = ErrorCode.INVALID_HEADER


class CmsUnsupportedError(CmsFormatError):
    """Well-formed, but uses an algorithm, version or option this suite refuses."""


class CmsInvalidPointError(CmsError):
    """The originator's ECDH public key is not a valid P-256 point (or is infinity)."""

    code = ErrorCode.HEADER_MODIFIED


class CmsNoRecipientError(CmsError):
    """No recipient entry opens with the given key: the message was not sent to it."""

    code = ErrorCode.NO_IDENTITY_MATCHED


class CmsRecipientInfoError(CmsError):
    """The entry naming our key does not unwrap: the recipient info was modified."""

    code = ErrorCode.HEADER_MODIFIED


class CmsTagError(CmsError):
    """The AES-GCM tag does not verify: content, nonce or tag was modified."""

    code = ErrorCode.PAYLOAD_MODIFIED


class CmsTruncatedError(CmsError):
    """The message ends before it is complete."""

    code = ErrorCode.PAYLOAD_MODIFIED
