"""Every stable error code, in one place.

The server answers errors as ``{"code", "message"}``; the client raises
:class:`~secure_send.client.errors.ClientError` with a code; ``--json`` output carries
it; scripts match on it; the app and the CLI say each in one sentence
(:mod:`secure_send.core.error_sentences`). A code is spelled one way everywhere: it
is always a member of :class:`ErrorCode` (a ``str``, so it goes on the wire as is).
Codes are never renamed — IT scripts depend on them; add new ones instead.
"""

from __future__ import annotations

import enum


class ErrorCode(enum.StrEnum):
    """A stable, machine-readable error code."""

    # Any request
    INVALID_REQUEST = "invalid_request"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    TOO_LARGE = "too_large"
    HEADERS_TOO_LARGE = "headers_too_large"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    RATE_LIMITED = "rate_limited"
    INTERNAL = "internal"
    CLIENT_DISCONNECTED = "client_disconnected"
    HTTP_ERROR = "http_error"  # an answer without a code we know (another server?)
    # Who is asking (request signatures)
    UNSIGNED = "unsigned"
    BAD_SIGNATURE = "bad_signature"
    CLOCK_SKEW = "clock_skew"
    REPLAYED = "replayed"
    UNKNOWN_DEVICE = "unknown_device"
    REVOKED_DEVICE = "revoked_device"
    # Drops
    BAD_MANIFEST = "bad_manifest"
    BAD_RECIPIENT = "bad_recipient"
    BAD_EXPIRY = "bad_expiry"
    DROP_EXISTS = "drop_exists"
    INCOMPLETE = "incomplete"
    QUOTA = "quota"
    NOT_SENDER = "not_sender"
    NOT_RECIPIENT = "not_recipient"
    RECALLED = "recalled"
    EXPIRED = "expired"
    BAD_RECEIPT = "bad_receipt"
    # File requests (提出依頼)
    BAD_FILE_REQUEST = "bad_file_request"  # the server refused a request document
    UNVERIFIED_REQUEST = "unverified_request"  # a request that does not verify: dangerous
    NOT_ADDRESSEE = "not_addressee"
    NOT_REQUEST_DESK = "not_request_desk"
    REQUEST_CLOSED = "request_closed"
    # Uploads (tus)
    TUS_VERSION = "tus_version"
    BAD_LENGTH = "bad_length"
    BAD_METADATA = "bad_metadata"
    TOO_LONG = "too_long"
    UNKNOWN_BLOB = "unknown_blob"
    NOT_UPLOADING = "not_uploading"
    ALREADY_COMPLETE = "already_complete"
    OFFSET_MISMATCH = "offset_mismatch"
    LOCKED = "locked"
    BAD_CHECKSUM_ALGORITHM = "bad_checksum_algorithm"
    CHECKSUM_MISMATCH = "checksum_mismatch"
    HASH_MISMATCH = "hash_mismatch"
    STORAGE_FAILED = "storage_failed"
    INSUFFICIENT_STORAGE = "insufficient_storage"  # the server's volume is full (507)
    # The directory
    DIRECTORY_UNAVAILABLE = "directory_unavailable"
    SERVER_DIRECTORY_DAMAGED = "server_directory_damaged"  # its stored copy does not verify
    DIRECTORY_UNVERIFIED = "directory_unverified"
    DIRECTORY_ROLLBACK = "directory_rollback"
    DIRECTORY_STALE = "directory_stale"
    PUSH_REFUSED = "push_refused"
    STALE_PUSH = "stale_push"
    # Enrolment
    NOT_ENROLLED = "not_enrolled"
    ALREADY_ENROLLED = "already_enrolled"
    BAD_ENROLMENT = "bad_enrolment"
    ENROLMENT_WAITING = "enrolment_waiting"
    CONFLICT = "conflict"
    NO_CODE = "no_code"
    BAD_ANSWER = "bad_answer"
    BAD_ORG_CONFIG = "bad_org_config"
    # IT policy and the server address
    BAD_POLICY = "bad_policy"  # the machine's IT policy is unreadable or invalid
    POLICY_MISMATCH = "policy_mismatch"  # server or root keys other than the policy pins
    INSECURE_URL = "insecure_url"  # http:// to a host other than this machine
    # Sending
    CONNECTION_LOST = "connection_lost"
    CANCELLED = "cancelled"
    NO_SUCH_FILE = "no_such_file"
    NOTHING_TO_SEND = "nothing_to_send"
    FILE_CHANGED = "file_changed"
    UPLOAD_REWOUND = "upload_rewound"
    NO_RECIPIENT = "no_recipient"
    UNKNOWN_RECIPIENT = "unknown_recipient"
    RECIPIENT_NOT_ENROLLED = "recipient_not_enrolled"
    RESUME_BROKEN = "resume_broken"  # an unfinished send's resume file is damaged
    # files with My Numbers (個人番号) to a recipient IT did not designate (issue 19)
    MYNUMBER_NOT_DESIGNATED = "mynumber_not_designated"
    # 上長承認 (issue 20): policy asks for approval but the sender has no approver who
    # could give it (none named, departed, or not set up): nothing is sent
    NO_APPROVER = "no_approver"
    APPROVER_UNAVAILABLE = "approver_unavailable"
    # the approver of a send holding My Numbers would read them, so must be designated
    # to handle them (個人番号取扱) like every other recipient of such a send
    APPROVER_NOT_DESIGNATED = "approver_not_designated"
    # Approving (the server's answers to an approver's decision)
    BAD_APPROVAL = "bad_approval"
    NOT_APPROVER = "not_approver"
    ALREADY_DECIDED = "already_decided"
    NO_APPROVAL_NEEDED = "no_approval_needed"
    # Receiving
    UNVERIFIED_DROP = "unverified_drop"
    NOT_FOR_THIS_DEVICE = "not_for_this_device"
    BLOB_TAMPERED = "blob_tampered"
    BLOB_LOST = "blob_lost"  # the server holds the drop but lost a file's stored bytes
    INCOMPLETE_DOWNLOAD = "incomplete_download"  # the server's answer ends short, every time
    BAD_RANGE = "bad_range"
    NAME_TAKEN = "name_taken"
    SPLIT_VIEW = "split_view"
    SPLIT_VIEW_UNCHECKED = "split_view_unchecked"
    SAVE_INCOMPLETE = "save_incomplete"  # save all: some submissions are not saved yet
    # a drop that needed a superior's approval arrived without a valid one: dangerous
    APPROVAL_MISSING = "approval_missing"
    AWAITING_APPROVAL = "awaiting_approval"  # not yet approved: only approvers may open it
    APPROVAL_REJECTED = "approval_rejected"
    # the platform's virus scanner after decryption (client/antivirus.py)
    MALWARE_FOUND = "malware_found"
    SCAN_FAILED = "scan_failed"
    # Files (secure-send encrypt/decrypt, age compatible)
    PAYLOAD_MODIFIED = "payload_modified"
    HEADER_MODIFIED = "header_modified"
    NO_IDENTITY_MATCHED = "no_identity_matched"
    INVALID_ARMOR = "invalid_armor"
    INVALID_HEADER = "invalid_header"
    INVALID_KEY = "invalid_key"
    OUTPUT_EXISTS = "output_exists"
    # The command line
    USAGE = "usage"
    BAD_DURATION = "bad_duration"
    DEMO_FAILED = "demo_failed"
    # policy asks for the CMS (CRYPTREC) suite but a device to encrypt to has no P-256
    # key yet (or this device, receiving a CMS drop, has none): nothing is sent/saved
    SUITE_UNAVAILABLE = "suite_unavailable"
