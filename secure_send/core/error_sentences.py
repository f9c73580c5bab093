"""What each error code means to a person: one sentence in English, translated by the app.

The app (:mod:`secure_send.gui.errors`) shows ``SENTENCES[code]`` translated (Qt context
``"errors"``; the Japanese is in ``secure_send/gui/i18n``); the command line prints the
same sentence, or for the file commands (``encrypt``/``decrypt``, age compatible) the short
label scripts and the README name (``file was modified or truncated``). One table, so a
code is worded once; ``tests/test_error_codes.py`` checks every code has an English and a
Japanese sentence.
"""

from __future__ import annotations

from secure_send.core.error_codes import ErrorCode


def QT_TRANSLATE_NOOP(context: str, text: str) -> str:  # the name lupdate finds
    """Mark ``text`` for the translation catalogue (``pyside6-lupdate`` reads this file);
    the app translates it when shown. Qt-free, so the CLI and the server can import it."""
    return text


# The file commands' labels (lower case, no full stop): their output is a stable
# "label: detail" line that the README documents and scripts match.
CLI_LABELS = frozenset(
    {
        ErrorCode.PAYLOAD_MODIFIED,
        ErrorCode.HEADER_MODIFIED,
        ErrorCode.NO_IDENTITY_MATCHED,
        ErrorCode.INVALID_ARMOR,
        ErrorCode.INVALID_HEADER,
        ErrorCode.INVALID_KEY,
        ErrorCode.OUTPUT_EXISTS,
    }
)

FALLBACK = QT_TRANSLATE_NOOP(
    "errors",
    "Something went wrong. Try again; if it persists, contact IT with the details below.",
)

SENTENCES: dict[ErrorCode, str] = {
    ErrorCode.INVALID_REQUEST: QT_TRANSLATE_NOOP(
        "errors",
        "The drop server did not understand a request from this PC. Update Secure Send; if it persists, contact IT.",
    ),
    ErrorCode.NOT_FOUND: QT_TRANSLATE_NOOP(
        "errors",
        "The drop server does not have it (any more). It may have been recalled or has expired.",
    ),
    ErrorCode.METHOD_NOT_ALLOWED: QT_TRANSLATE_NOOP(
        "errors",
        "The drop server refused a request from this PC. Update Secure Send; if it persists, contact IT.",
    ),
    ErrorCode.HEADERS_TOO_LARGE: QT_TRANSLATE_NOOP(
        "errors",
        "The drop server refused a request from this PC. Update Secure Send; if it persists, contact IT.",
    ),
    ErrorCode.TOO_LARGE: QT_TRANSLATE_NOOP(
        "errors",
        "A file is larger than the drop server allows.",
    ),
    ErrorCode.UNSUPPORTED_MEDIA_TYPE: QT_TRANSLATE_NOOP(
        "errors",
        "The drop server refused a request from this PC. Update Secure Send; if it persists, contact IT.",
    ),
    ErrorCode.RATE_LIMITED: QT_TRANSLATE_NOOP(
        "errors",
        "Too many attempts in a short time. Wait a minute, then try again.",
    ),
    ErrorCode.INTERNAL: QT_TRANSLATE_NOOP(
        "errors",
        "The drop server had a problem. Try again later; if it persists, contact IT.",
    ),
    ErrorCode.CLIENT_DISCONNECTED: QT_TRANSLATE_NOOP(
        "errors",
        "The connection was cut while sending. Try again; the send continues where it stopped.",
    ),
    ErrorCode.HTTP_ERROR: QT_TRANSLATE_NOOP(
        "errors",
        "The drop server gave an answer Secure Send does not understand. Check the server address with IT.",
    ),
    ErrorCode.UNSIGNED: QT_TRANSLATE_NOOP(
        "errors",
        "The drop server did not accept this PC's credentials. Contact IT.",
    ),
    ErrorCode.BAD_SIGNATURE: QT_TRANSLATE_NOOP(
        "errors",
        "The drop server did not accept this PC's credentials. Check the PC's clock; if it persists, contact IT.",
    ),
    ErrorCode.CLOCK_SKEW: QT_TRANSLATE_NOOP(
        "errors",
        "This PC's clock is wrong. Correct the date and time, then try again.",
    ),
    ErrorCode.REPLAYED: QT_TRANSLATE_NOOP(
        "errors",
        "A request was sent twice and refused. Try again.",
    ),
    ErrorCode.UNKNOWN_DEVICE: QT_TRANSLATE_NOOP(
        "errors",
        "That device is no longer listed for your account, so there is nothing to confirm.",
    ),
    ErrorCode.REVOKED_DEVICE: QT_TRANSLATE_NOOP(
        "errors",
        "This PC's access was revoked. Contact IT.",
    ),
    ErrorCode.BAD_MANIFEST: QT_TRANSLATE_NOOP(
        "errors",
        "The drop server refused the send's description. Update Secure Send; if it persists, contact IT.",
    ),
    ErrorCode.BAD_RECIPIENT: QT_TRANSLATE_NOOP(
        "errors",
        "A recipient can no longer receive files (they may have left, or their PC was removed). Check the recipients.",
    ),
    ErrorCode.BAD_EXPIRY: QT_TRANSLATE_NOOP(
        "errors",
        "The chosen expiry is longer than the drop server allows. Choose a shorter one.",
    ),
    ErrorCode.DROP_EXISTS: QT_TRANSLATE_NOOP(
        "errors",
        "This send was already created. Check Sent before sending again.",
    ),
    ErrorCode.INCOMPLETE: QT_TRANSLATE_NOOP(
        "errors",
        "Not every file reached the drop server yet. Retry the send to finish it.",
    ),
    ErrorCode.QUOTA: QT_TRANSLATE_NOOP(
        "errors",
        "Your storage on the drop server is full. Recall or wait for older drops to expire, then try again.",
    ),
    ErrorCode.NOT_SENDER: QT_TRANSLATE_NOOP(
        "errors",
        "Only the person who sent this drop can do that.",
    ),
    ErrorCode.NOT_RECIPIENT: QT_TRANSLATE_NOOP(
        "errors",
        "This drop was not sent to you.",
    ),
    ErrorCode.BAD_FILE_REQUEST: QT_TRANSLATE_NOOP(
        "errors",
        "The drop server refused this file request. Check its addressees and due date, then try again.",
    ),
    ErrorCode.UNVERIFIED_REQUEST: QT_TRANSLATE_NOOP(
        "errors",
        "This file request could not be verified. Do not submit anything to it; tell IT security.",
    ),
    ErrorCode.NOT_ADDRESSEE: QT_TRANSLATE_NOOP(
        "errors",
        "This file request was not sent to you, so you cannot submit to it.",
    ),
    ErrorCode.NOT_REQUEST_DESK: QT_TRANSLATE_NOOP(
        "errors",
        "Only members of the mailbox that made this file request can do that.",
    ),
    ErrorCode.REQUEST_CLOSED: QT_TRANSLATE_NOOP(
        "errors",
        "This file request is closed; submissions are no longer accepted.",
    ),
    ErrorCode.RECALLED: QT_TRANSLATE_NOOP(
        "errors",
        "The sender recalled this drop; there is nothing to save.",
    ),
    ErrorCode.EXPIRED: QT_TRANSLATE_NOOP(
        "errors",
        "This drop has expired; ask the sender to send it again.",
    ),
    ErrorCode.BAD_RECEIPT: QT_TRANSLATE_NOOP(
        "errors",
        "The drop server refused the download receipt. The files were saved; tell IT if it happens again.",
    ),
    ErrorCode.TUS_VERSION: QT_TRANSLATE_NOOP(
        "errors",
        "The drop server uses a different upload protocol. Update Secure Send or contact IT.",
    ),
    ErrorCode.BAD_LENGTH: QT_TRANSLATE_NOOP(
        "errors",
        "The drop server refused a file's size. Try again; if it persists, contact IT.",
    ),
    ErrorCode.BAD_METADATA: QT_TRANSLATE_NOOP(
        "errors",
        "The drop server refused an upload. Update Secure Send; if it persists, contact IT.",
    ),
    ErrorCode.TOO_LONG: QT_TRANSLATE_NOOP(
        "errors",
        "A file is larger than the drop server allows.",
    ),
    ErrorCode.UNKNOWN_BLOB: QT_TRANSLATE_NOOP(
        "errors",
        "The drop server does not expect this file. Retry the send; if it persists, contact IT.",
    ),
    ErrorCode.NOT_UPLOADING: QT_TRANSLATE_NOOP(
        "errors",
        "This upload is no longer open on the drop server. Retry the send.",
    ),
    ErrorCode.ALREADY_COMPLETE: QT_TRANSLATE_NOOP(
        "errors",
        "This file has already been uploaded completely.",
    ),
    ErrorCode.OFFSET_MISMATCH: QT_TRANSLATE_NOOP(
        "errors",
        "The upload and the drop server disagree on how much was sent. Retry the send; it resumes safely.",
    ),
    ErrorCode.LOCKED: QT_TRANSLATE_NOOP(
        "errors",
        "This file is being uploaded by another window or process. Wait for it to finish.",
    ),
    ErrorCode.BAD_CHECKSUM_ALGORITHM: QT_TRANSLATE_NOOP(
        "errors",
        "The drop server refused an upload check. Update Secure Send; if it persists, contact IT.",
    ),
    ErrorCode.CHECKSUM_MISMATCH: QT_TRANSLATE_NOOP(
        "errors",
        "Part of a file was damaged on the way to the drop server. Retry the send.",
    ),
    ErrorCode.HASH_MISMATCH: QT_TRANSLATE_NOOP(
        "errors",
        "A file arrived at the drop server different from what was prepared, so it was refused. Send it again.",
    ),
    ErrorCode.STORAGE_FAILED: QT_TRANSLATE_NOOP(
        "errors",
        "The drop server could not store the file (its disk may be full). Try again later or contact IT.",
    ),
    ErrorCode.INSUFFICIENT_STORAGE: QT_TRANSLATE_NOOP(
        "errors",
        "The drop server's disk is full, so it cannot take anything new now; files already sent can still be received. Try again later; if it persists, contact IT.",
    ),
    ErrorCode.DIRECTORY_UNAVAILABLE: QT_TRANSLATE_NOOP(
        "errors",
        "The staff directory could not be loaded. Check the network; if it persists, contact IT.",
    ),
    ErrorCode.SERVER_DIRECTORY_DAMAGED: QT_TRANSLATE_NOOP(
        "errors",
        "The drop server's copy of the staff directory is damaged. Contact IT.",
    ),
    ErrorCode.DIRECTORY_UNVERIFIED: QT_TRANSLATE_NOOP(
        "errors",
        "The staff directory failed its security check, so sending is blocked. Contact IT.",
    ),
    ErrorCode.DIRECTORY_ROLLBACK: QT_TRANSLATE_NOOP(
        "errors",
        "The server offered an older staff directory than this PC has already seen, so sending is blocked. Contact IT.",
    ),
    ErrorCode.DIRECTORY_STALE: QT_TRANSLATE_NOOP(
        "errors",
        "The staff directory could not be refreshed, so sending is paused. Check the network and try again.",
    ),
    ErrorCode.PUSH_REFUSED: QT_TRANSLATE_NOOP(
        "errors",
        "The drop server refused the directory update. Check the signer's log and contact the directory administrator.",
    ),
    ErrorCode.STALE_PUSH: QT_TRANSLATE_NOOP(
        "errors",
        "The drop server already has a newer directory. The signer retries from it.",
    ),
    ErrorCode.NOT_ENROLLED: QT_TRANSLATE_NOOP(
        "errors",
        "This PC is not set up yet.",
    ),
    ErrorCode.ALREADY_ENROLLED: QT_TRANSLATE_NOOP(
        "errors",
        "This PC is already set up for Secure Send.",
    ),
    ErrorCode.BAD_ENROLMENT: QT_TRANSLATE_NOOP(
        "errors",
        "The one-time code was wrong, used or expired. Ask IT for a new code.",
    ),
    ErrorCode.ENROLMENT_WAITING: QT_TRANSLATE_NOOP(
        "errors",
        "This PC's request is waiting for IT. Secure Send finishes setting up by itself once IT has processed it.",
    ),
    ErrorCode.CONFLICT: QT_TRANSLATE_NOOP(
        "errors",
        "IT could not enrol this PC: it may already be enrolled for your account (from an earlier setup), or your account cannot enrol devices. Contact IT.",
    ),
    ErrorCode.NO_CODE: QT_TRANSLATE_NOOP(
        "errors",
        "Enter the one-time code IT gave you.",
    ),
    ErrorCode.BAD_ANSWER: QT_TRANSLATE_NOOP(
        "errors",
        "The drop server gave an answer Secure Send does not understand. Check the server address with IT.",
    ),
    ErrorCode.BAD_ORG_CONFIG: QT_TRANSLATE_NOOP(
        "errors",
        "The organisation settings file is damaged or not for this version. Ask IT for a new one.",
    ),
    ErrorCode.BAD_POLICY: QT_TRANSLATE_NOOP(
        "errors",
        "The IT policy on this PC is damaged or invalid, so Secure Send does not run. Ask IT to fix it.",
    ),
    ErrorCode.POLICY_MISMATCH: QT_TRANSLATE_NOOP(
        "errors",
        "This PC is set up for a server or organisation other than the one IT policy requires. Ask IT to set it up again.",
    ),
    ErrorCode.INSECURE_URL: QT_TRANSLATE_NOOP(
        "errors",
        "The drop server's address must start with https://. Plain http:// is allowed only for a server on this PC.",
    ),
    ErrorCode.CONNECTION_LOST: QT_TRANSLATE_NOOP(
        "errors",
        "The drop server cannot be reached. Check the network and try again; an unfinished send continues when you retry.",
    ),
    ErrorCode.CANCELLED: QT_TRANSLATE_NOOP(
        "errors",
        "Cancelled.",
    ),
    ErrorCode.NO_SUCH_FILE: QT_TRANSLATE_NOOP(
        "errors",
        "A file to send could not be found. It may have been moved or deleted.",
    ),
    ErrorCode.NOTHING_TO_SEND: QT_TRANSLATE_NOOP(
        "errors",
        "There are no files to send.",
    ),
    ErrorCode.FILE_CHANGED: QT_TRANSLATE_NOOP(
        "errors",
        "A file changed while it was being sent, so nothing was delivered. Send it again.",
    ),
    ErrorCode.UPLOAD_REWOUND: QT_TRANSLATE_NOOP(
        "errors",
        "The server lost part of a file it had already received, so the send was stopped."
        " Try again later; if it happens again, tell IT.",
    ),
    ErrorCode.NO_RECIPIENT: QT_TRANSLATE_NOOP(
        "errors",
        "Choose at least one recipient.",
    ),
    ErrorCode.UNKNOWN_RECIPIENT: QT_TRANSLATE_NOOP(
        "errors",
        "A recipient is not in the verified staff directory.",
    ),
    ErrorCode.RECIPIENT_NOT_ENROLLED: QT_TRANSLATE_NOOP(
        "errors",
        "A recipient has not set up Secure Send yet and cannot receive files.",
    ),
    ErrorCode.MYNUMBER_NOT_DESIGNATED: QT_TRANSLATE_NOOP(
        "errors",
        "The files contain My Numbers (individual numbers), which may go only to recipients designated to handle them, so nothing was sent.",
    ),
    ErrorCode.NO_APPROVER: QT_TRANSLATE_NOOP(
        "errors",
        "This send needs your superior's approval, but no approver is set for you in the staff directory, so nothing was sent. Ask IT to set one.",
    ),
    ErrorCode.APPROVER_UNAVAILABLE: QT_TRANSLATE_NOOP(
        "errors",
        "This send needs your superior's approval, but your approver cannot approve now (left, or not set up), so nothing was sent. Ask IT to update your approver.",
    ),
    ErrorCode.APPROVER_NOT_DESIGNATED: QT_TRANSLATE_NOOP(
        "errors",
        "This send holds My Numbers and needs your superior's approval, but your approver is not designated to handle My Numbers and may not read them, so nothing was sent. Ask IT.",
    ),
    ErrorCode.BAD_APPROVAL: QT_TRANSLATE_NOOP(
        "errors",
        "The drop server refused the decision as invalid. Try again; if it persists, tell IT.",
    ),
    ErrorCode.NOT_APPROVER: QT_TRANSLATE_NOOP(
        "errors",
        "You are not an approver of this send.",
    ),
    ErrorCode.ALREADY_DECIDED: QT_TRANSLATE_NOOP(
        "errors",
        "This send has already been approved or returned.",
    ),
    ErrorCode.NO_APPROVAL_NEEDED: QT_TRANSLATE_NOOP(
        "errors",
        "This send does not need approval.",
    ),
    ErrorCode.RESUME_BROKEN: QT_TRANSLATE_NOOP(
        "errors",
        "An unfinished send could not be resumed and was set aside. Send those files again.",
    ),
    ErrorCode.UNVERIFIED_DROP: QT_TRANSLATE_NOOP(
        "errors",
        "This drop failed verification and may be forged. Do not open it; tell IT.",
    ),
    ErrorCode.NOT_FOR_THIS_DEVICE: QT_TRANSLATE_NOOP(
        "errors",
        "This drop was not encrypted for this PC.",
    ),
    ErrorCode.BLOB_TAMPERED: QT_TRANSLATE_NOOP(
        "errors",
        "A received file did not match what the sender signed, so nothing was saved. Do not open it; tell IT.",
    ),
    ErrorCode.BLOB_LOST: QT_TRANSLATE_NOOP(
        "errors",
        "The drop server has lost this file, so it cannot be received. Tell IT.",
    ),
    ErrorCode.SAVE_INCOMPLETE: QT_TRANSLATE_NOOP(
        "errors",
        "Not every submission was saved. Save all again: it saves only those still missing.",
    ),
    ErrorCode.APPROVAL_MISSING: QT_TRANSLATE_NOOP(
        "errors",
        "This drop needed a superior's approval and has no valid one, so it was not opened. Do not trust it; tell IT security.",
    ),
    ErrorCode.AWAITING_APPROVAL: QT_TRANSLATE_NOOP(
        "errors",
        "This send is waiting for a superior's approval.",
    ),
    ErrorCode.APPROVAL_REJECTED: QT_TRANSLATE_NOOP(
        "errors",
        "This send was returned by the approver and will not be delivered.",
    ),
    ErrorCode.MALWARE_FOUND: QT_TRANSLATE_NOOP(
        "errors",
        "The virus scanner found a threat in a received file, so nothing was saved. Do not ask for it again; tell IT.",
    ),
    ErrorCode.SCAN_FAILED: QT_TRANSLATE_NOOP(
        "errors",
        "The virus scanner could not check the received files, and policy requires it, so nothing was saved. Tell IT.",
    ),
    ErrorCode.INCOMPLETE_DOWNLOAD: QT_TRANSLATE_NOOP(
        "errors",
        "The drop server sent an incomplete file, so nothing was saved. Try again later; if it happens again, tell IT.",
    ),
    ErrorCode.BAD_RANGE: QT_TRANSLATE_NOOP(
        "errors",
        "The drop server did not resume a download correctly. Try again; if it persists, contact IT.",
    ),
    ErrorCode.NAME_TAKEN: QT_TRANSLATE_NOOP(
        "errors",
        "There are already too many files with this name in the folder. Choose another folder.",
    ),
    ErrorCode.SPLIT_VIEW: QT_TRANSLATE_NOOP(
        "errors",
        "The sender's staff directory differs from yours (a possible split view), so nothing was saved. Do not open the drop; tell IT security.",
    ),
    ErrorCode.SPLIT_VIEW_UNCHECKED: QT_TRANSLATE_NOOP(
        "errors",
        "The sender's staff directory could not be checked against yours, so nothing was saved. Do not open the drop; tell IT security.",
    ),
    ErrorCode.PAYLOAD_MODIFIED: QT_TRANSLATE_NOOP(
        "errors",
        "file was modified or truncated",
    ),
    ErrorCode.HEADER_MODIFIED: QT_TRANSLATE_NOOP(
        "errors",
        "file header was modified",
    ),
    ErrorCode.NO_IDENTITY_MATCHED: QT_TRANSLATE_NOOP(
        "errors",
        "no identity matched: the file was not encrypted to you",
    ),
    ErrorCode.INVALID_ARMOR: QT_TRANSLATE_NOOP(
        "errors",
        "invalid armor",
    ),
    ErrorCode.INVALID_HEADER: QT_TRANSLATE_NOOP(
        "errors",
        "invalid header (not an age or CMS file, an algorithm not supported, or damaged)",
    ),
    ErrorCode.INVALID_KEY: QT_TRANSLATE_NOOP(
        "errors",
        "invalid key",
    ),
    ErrorCode.OUTPUT_EXISTS: QT_TRANSLATE_NOOP(
        "errors",
        "output exists",
    ),
    ErrorCode.USAGE: QT_TRANSLATE_NOOP(
        "errors",
        "The command was not given what it needs. See its --help.",
    ),
    ErrorCode.BAD_DURATION: QT_TRANSLATE_NOOP(
        "errors",
        "The duration is not understood. Use a number of days, e.g. 7d.",
    ),
    ErrorCode.DEMO_FAILED: QT_TRANSLATE_NOOP(
        "errors",
        "The demonstration could not finish. See the details.",
    ),
    ErrorCode.SUITE_UNAVAILABLE: QT_TRANSLATE_NOOP(
        "errors",
        "This send must use the CRYPTREC cipher suite, but a recipient's PC has no key for it yet, so nothing was sent. Ask them to start Secure Send once (it adds the key), then send again.",
    ),
}
