"""Errors as people read them: one sentence saying what happened and what to do, in the
UI language; the technical detail (never a secret) goes under "Details". The sentences
are :mod:`secure_send.core.error_sentences` (shared with the CLI), translated here."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication

from secure_send.core.error_codes import ErrorCode
from secure_send.core.error_sentences import FALLBACK, SENTENCES
from secure_send.core.errors import SecureSendError

CONTEXT = "errors"


def _t(text: str) -> str:
    return QCoreApplication.translate(CONTEXT, text)


def describe(err: BaseException) -> tuple[str, str]:
    """(one translated sentence, technical details) for an error."""
    code = getattr(err, "code", None)
    text = SENTENCES.get(code, FALLBACK) if isinstance(code, ErrorCode) else FALLBACK
    if isinstance(err, SecureSendError):
        detail = f"{type(err).__name__}: {err}"
    elif isinstance(err, OSError):
        detail = f"{type(err).__name__}: {err.strerror or err} {err.filename or ''}".strip()
    else:
        detail = type(err).__name__
    return _t(text), detail


def status_text(err: BaseException) -> str:
    """The sentence and, on a second line, the details (for a page's status line)."""
    sentence, details = describe(err)
    return (
        sentence + "\n" + QCoreApplication.translate("errors", "Details: %1").replace("%1", details)
    )


def all_messages() -> list[str]:
    """Every sentence (for the translation catalogue's completeness test)."""
    return [*SENTENCES.values(), FALLBACK]
