"""What an error means *for what the person was doing*: one sentence per (action, code).

:data:`~secure_send.core.error_sentences.SENTENCES` words each code once, whatever was
being done; but "the connection was lost" asks for a different next step while sending
(send again: it resumes) than while saving (save again: the download resumes) or recalling
(the drop was *not* recalled). :func:`sentence` picks the override for the action, else
the code's own sentence, else the action's fallback — so a clerk always reads what
happened to *their* task and what to do. ``%1`` in a sentence is the id the error names
(a recipient's user id); the app fills it in.

Qt-free (marked with ``QT_TRANSLATE_NOOP`` for the catalogue, context ``"errors"`` like
the code sentences); the app translates (:mod:`secure_send.gui.errors`). The CLI keeps
its own lines (:data:`~secure_send.core.error_sentences.CLI_LABELS`).
"""

from __future__ import annotations

import enum

from secure_send.core.error_codes import ErrorCode
from secure_send.core.error_sentences import FALLBACK, QT_TRANSLATE_NOOP, SENTENCES


class Action(enum.StrEnum):
    """What the person was doing when the error happened."""

    GENERAL = "general"  # nothing in particular (a background refresh, start-up)
    SEND = "send"
    SAVE = "save"
    ENROL = "enrol"
    RECALL = "recall"
    REQUEST = "request"  # creating a file request (提出依頼)
    DIRECTORY = "directory"  # loading and verifying the staff directory


# An error without a code (a bug, an OS error): what failed, and to call IT with the details.
ACTION_FALLBACKS: dict[Action, str] = {
    Action.GENERAL: FALLBACK,
    Action.SEND: QT_TRANSLATE_NOOP(
        "errors",
        "Sending failed and nothing was delivered. Try again; if it persists, contact IT with the contact information in the details.",
    ),
    Action.SAVE: QT_TRANSLATE_NOOP(
        "errors",
        "Saving failed. Try again; if it persists, contact IT with the contact information in the details.",
    ),
    Action.ENROL: QT_TRANSLATE_NOOP(
        "errors",
        "This PC could not be set up. Try again; if it persists, contact IT with the contact information in the details.",
    ),
    Action.RECALL: QT_TRANSLATE_NOOP(
        "errors",
        "The drop could not be recalled. Try again; if it persists, contact IT with the contact information in the details.",
    ),
    Action.REQUEST: QT_TRANSLATE_NOOP(
        "errors",
        "The file request could not be created. Try again; if it persists, contact IT with the contact information in the details.",
    ),
    Action.DIRECTORY: SENTENCES[ErrorCode.DIRECTORY_UNAVAILABLE],
}

# A file the person chose could not be read, or a folder not written (OSError: no code).
DISK_SENTENCES: dict[Action, str] = {
    Action.SEND: QT_TRANSLATE_NOOP(
        "errors",
        "A file to send could not be read, so nothing was sent. Check that it is still there and not open elsewhere, then try again.",
    ),
    Action.SAVE: QT_TRANSLATE_NOOP(
        "errors",
        "The files could not be written to the folder. Check that the folder exists and the disk has free space, or choose another folder.",
    ),
}

# Sentences that name the id the error is about (%1): who cannot receive.
NAMED: dict[tuple[Action, ErrorCode], str] = {
    (Action.SEND, ErrorCode.RECIPIENT_NOT_ENROLLED): QT_TRANSLATE_NOOP(
        "errors",
        "Recipient %1 has not set up Secure Send yet, so nothing was sent. Remove this recipient, or ask them to set up Secure Send first.",
    ),
    (Action.SEND, ErrorCode.UNKNOWN_RECIPIENT): QT_TRANSLATE_NOOP(
        "errors",
        "Recipient %1 is not in the verified staff directory (or has left), so nothing was sent. Remove this recipient.",
    ),
    (Action.SEND, ErrorCode.SUITE_UNAVAILABLE): QT_TRANSLATE_NOOP(
        "errors",
        "This send must use the CRYPTREC cipher suite, but a PC of %1 has no key for it yet, so nothing was sent. Ask them to start Secure Send once (it adds the key), then send again.",
    ),
    (Action.REQUEST, ErrorCode.SUITE_UNAVAILABLE): QT_TRANSLATE_NOOP(
        "errors",
        "This file request must use the CRYPTREC cipher suite, but a PC of %1 has no key for it yet, so the request was not created. Ask them to start Secure Send once (it adds the key), then create it again.",
    ),
}

OVERRIDES: dict[tuple[Action, ErrorCode], str] = {
    (Action.SEND, ErrorCode.CONNECTION_LOST): QT_TRANSLATE_NOOP(
        "errors",
        "The connection to the drop server was lost while sending. Check the network and try again; the send continues where it stopped.",
    ),
    (Action.SEND, ErrorCode.RECIPIENT_NOT_ENROLLED): QT_TRANSLATE_NOOP(
        "errors",
        "A recipient has not set up Secure Send yet, so nothing was sent. Remove that recipient, or ask them to set up Secure Send first.",
    ),
    (Action.SEND, ErrorCode.DIRECTORY_STALE): QT_TRANSLATE_NOOP(
        "errors",
        "The drop server cannot be reached, so the staff directory could not be checked and nothing was sent. Check the network and try again.",
    ),
    (Action.SAVE, ErrorCode.SUITE_UNAVAILABLE): QT_TRANSLATE_NOOP(
        "errors",
        "This drop uses the CRYPTREC cipher suite, and this PC has no key for it yet. Restart Secure Send (it adds the key), then save again.",
    ),
    (Action.SAVE, ErrorCode.CONNECTION_LOST): QT_TRANSLATE_NOOP(
        "errors",
        "The connection was lost while saving. Save again to continue where it stopped.",
    ),
    (Action.SAVE, ErrorCode.NOT_FOUND): QT_TRANSLATE_NOOP(
        "errors",
        "This drop is no longer on the drop server (recalled, or past its download deadline), so it cannot be saved.",
    ),
    (Action.SAVE, ErrorCode.UNVERIFIED_DROP): QT_TRANSLATE_NOOP(
        "errors",
        "This drop failed verification and may be forged, so it cannot be saved. Do not open it; tell IT.",
    ),
    (Action.SAVE, ErrorCode.DIRECTORY_UNVERIFIED): QT_TRANSLATE_NOOP(
        "errors",
        "The sender of this drop could not be verified in the staff directory, so it cannot be saved. Do not open it; tell IT.",
    ),
    (Action.ENROL, ErrorCode.CONNECTION_LOST): QT_TRANSLATE_NOOP(
        "errors",
        "The drop server cannot be reached, so this PC is not set up yet. Check the network and try again.",
    ),
    (Action.RECALL, ErrorCode.CONNECTION_LOST): QT_TRANSLATE_NOOP(
        "errors",
        "The drop server cannot be reached, so the drop was not recalled. Check the network and recall it again.",
    ),
    (Action.RECALL, ErrorCode.NOT_FOUND): QT_TRANSLATE_NOOP(
        "errors",
        "This drop is no longer on the drop server: it was already recalled or is past its download deadline.",
    ),
    (Action.DIRECTORY, ErrorCode.CONNECTION_LOST): QT_TRANSLATE_NOOP(
        "errors",
        "The drop server cannot be reached, so the staff directory could not be checked and sending is paused. Secure Send tries again by itself.",
    ),
    (Action.DIRECTORY, ErrorCode.DIRECTORY_STALE): QT_TRANSLATE_NOOP(
        "errors",
        "The staff directory could not be refreshed, so sending is paused; search uses the last verified copy. Secure Send tries again by itself.",
    ),
    (Action.DIRECTORY, ErrorCode.DIRECTORY_UNAVAILABLE): QT_TRANSLATE_NOOP(
        "errors",
        "The staff directory could not be loaded, so sending is paused. Secure Send tries again by itself; if it persists, contact IT.",
    ),
}


def sentence(
    code: ErrorCode | None, action: Action = Action.GENERAL, *, named: bool = False
) -> str:
    """The English sentence for ``code`` met while doing ``action`` (``named``: the
    caller fills ``%1`` with the id the error is about)."""
    if code is None:
        return ACTION_FALLBACKS[action]
    if named and (action, code) in NAMED:
        return NAMED[action, code]
    return OVERRIDES.get((action, code)) or SENTENCES.get(code) or ACTION_FALLBACKS[action]


def all_sentences() -> list[str]:
    """Every sentence this module adds (for the catalogue's completeness test)."""
    return [
        *ACTION_FALLBACKS.values(),
        *DISK_SENTENCES.values(),
        *NAMED.values(),
        *OVERRIDES.values(),
    ]
