"""Errors as people read them: one sentence saying what happened and what to do, in the
UI language; the technical detail (never a secret) goes under "Details"."""

from __future__ import annotations

from typing import cast

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication

from secure_send.core.errors import SecureSendError

CONTEXT = "errors"


def _t(text: str) -> str:
    return QCoreApplication.translate(CONTEXT, text)


# code -> sentence (marked for Qt Linguist; translated when shown)
# (PySide6's stubs type QT_TRANSLATE_NOOP as object: it returns its text argument)
_MESSAGES: dict[str, object] = {
    "connection_lost": QT_TRANSLATE_NOOP(
        "errors",
        "The drop server cannot be reached. Check the network and try again; an unfinished send continues when you retry.",
    ),
    "directory_unavailable": QT_TRANSLATE_NOOP(
        "errors",
        "The staff directory could not be loaded. Check the network; if it persists, contact IT.",
    ),
    "directory_unverified": QT_TRANSLATE_NOOP(
        "errors",
        "The staff directory failed its security check, so sending is blocked. Contact IT.",
    ),
    "directory_rollback": QT_TRANSLATE_NOOP(
        "errors",
        "The server offered an older staff directory than this PC has already seen, so sending is blocked. Contact IT.",
    ),
    "directory_stale": QT_TRANSLATE_NOOP(
        "errors",
        "The staff directory could not be refreshed, so sending is paused. Check the network and try again.",
    ),
    "blob_tampered": QT_TRANSLATE_NOOP(
        "errors",
        "A received file did not match what the sender signed, so nothing was saved. Do not open it; tell IT.",
    ),
    "unverified_drop": QT_TRANSLATE_NOOP(
        "errors",
        "This drop failed verification and may be forged. Do not open it; tell IT.",
    ),
    "split_view": QT_TRANSLATE_NOOP(
        "errors",
        "The sender's staff directory differs from yours (a possible split view), so nothing was saved. Do not open the drop; tell IT security.",
    ),
    "split_view_unchecked": QT_TRANSLATE_NOOP(
        "errors",
        "The sender's staff directory could not be checked against yours, so nothing was saved. Do not open the drop; tell IT security.",
    ),
    "not_for_this_device": QT_TRANSLATE_NOOP(
        "errors",
        "This drop was not encrypted for this PC.",
    ),
    "recalled": QT_TRANSLATE_NOOP(
        "errors",
        "The sender recalled this drop; there is nothing to save.",
    ),
    "expired": QT_TRANSLATE_NOOP(
        "errors",
        "This drop has expired; ask the sender to send it again.",
    ),
    "file_changed": QT_TRANSLATE_NOOP(
        "errors",
        "A file changed while it was being sent, so nothing was delivered. Send it again.",
    ),
    "unknown_recipient": QT_TRANSLATE_NOOP(
        "errors",
        "A recipient is not in the verified staff directory.",
    ),
    "recipient_not_enrolled": QT_TRANSLATE_NOOP(
        "errors",
        "A recipient has not set up Secure Send yet and cannot receive files.",
    ),
    "no_such_file": QT_TRANSLATE_NOOP(
        "errors",
        "A file to send could not be found. It may have been moved or deleted.",
    ),
    "nothing_to_send": QT_TRANSLATE_NOOP(
        "errors",
        "There are no files to send.",
    ),
    "cancelled": QT_TRANSLATE_NOOP(
        "errors",
        "Cancelled.",
    ),
    "quota": QT_TRANSLATE_NOOP(
        "errors",
        "Your storage on the drop server is full. Recall or wait for older drops to expire, then try again.",
    ),
    "too_large": QT_TRANSLATE_NOOP(
        "errors",
        "A file is larger than the drop server allows.",
    ),
    "revoked_device": QT_TRANSLATE_NOOP(
        "errors",
        "This PC's access was revoked. Contact IT.",
    ),
    "device_revoked": QT_TRANSLATE_NOOP(
        "errors",
        "This PC's access was revoked. Contact IT.",
    ),
    "bad_enrolment": QT_TRANSLATE_NOOP(
        "errors",
        "The one-time code was wrong, used or expired. Ask IT for a new code.",
    ),
    "conflict": QT_TRANSLATE_NOOP(
        "errors",
        "IT could not enrol this PC: it may already be enrolled for your account (from an earlier setup), or your account cannot enrol devices. Contact IT.",
    ),
    "enrolment_waiting": QT_TRANSLATE_NOOP(
        "errors",
        "This PC's request is waiting for IT. Secure Send finishes setting up by itself once IT has processed it.",
    ),
    "unknown_device": QT_TRANSLATE_NOOP(
        "errors",
        "That device is no longer listed for your account, so there is nothing to confirm.",
    ),
    "not_enrolled": QT_TRANSLATE_NOOP(
        "errors",
        "This PC is not set up yet.",
    ),
    "clock_skew": QT_TRANSLATE_NOOP(
        "errors",
        "This PC's clock is wrong. Correct the date and time, then try again.",
    ),
}
_FALLBACK = QT_TRANSLATE_NOOP(
    "errors", "Something went wrong. Try again; if it persists, contact IT with the details below."
)


def describe(err: BaseException) -> tuple[str, str]:
    """(one translated sentence, technical details) for an error."""
    code = getattr(err, "code", "")
    text = cast(str, _MESSAGES.get(code, _FALLBACK))
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
    return [cast(str, m) for m in (*_MESSAGES.values(), _FALLBACK)]
