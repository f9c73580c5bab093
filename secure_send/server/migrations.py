"""The metadata schema as numbered migrations (see :class:`.storage.SqliteMetadataStore`).

Never edit a published migration: append a new one.
"""

from __future__ import annotations

# Migration 6 (issue 17, item 4: the inbox pages with a cursor). Written apart from the
# tuple because migration 5 (file requests) was added on another branch at the same time;
# it is appended after it: the sixth. ``seq`` is the drop's *change*
# sequence (commit, recall and expiry each assign the next one); it is copied onto each
# recipient row so that a page is one seek on (user, seq) — an idle poll with nothing
# after its cursor reads one index entry, however many drops the desk holds. ``drops_seq``
# makes the next sequence number (MAX(seq) + 1) an index lookup instead of a table scan.
# (user, seq) starts with user, so it replaces the old index on user alone.
MIGRATION_6_INBOX_CURSOR = """
    ALTER TABLE drop_recipients ADD COLUMN seq INTEGER;
    UPDATE drop_recipients SET seq = (
        SELECT drops.seq FROM drops WHERE drops.id = drop_recipients.drop_id
    );
    CREATE INDEX drop_recipients_user_seq ON drop_recipients (user, seq);
    DROP INDEX drop_recipients_user;
    CREATE INDEX drops_seq ON drops (seq);
    """

# Migration 7 (issue 19): the My Number counts of a drop's signed manifest, in columns of
# their own (NULL on every other drop), so that the audit record of each download,
# receipt, recall and expiry says "specific personal information" from the drop row it
# has already read, with no second read and no manifest parsed per download. Drops
# stored before this (by a server that already accepted the manifest field) get their
# counts from the stored manifest; the server wrote every manifest as valid JSON, and
# json_valid keeps a hand-made row from failing the migration.
MIGRATION_7_SPECIFIC_PERSONAL_INFO = """
    ALTER TABLE drops ADD COLUMN mynumber_files INTEGER;
    ALTER TABLE drops ADD COLUMN mynumber_count INTEGER;
    UPDATE drops SET
        mynumber_files = json_extract(manifest, '$.body.specific_personal_info.files'),
        mynumber_count = json_extract(manifest, '$.body.specific_personal_info.numbers')
    WHERE json_valid(manifest)
        AND json_type(manifest, '$.body.specific_personal_info.files') = 'integer'
        AND json_type(manifest, '$.body.specific_personal_info.numbers') = 'integer';
    """

# Migration 8 (issue 20: 上長承認, a superior's approval). ``approval_state`` is NULL for a
# drop that needs no approval, else 'pending', 'approved' or 'rejected'; ``approval`` the
# approver's signed decision (JSON the server wrote from the parsed decision). ``held``
# marks the recipient rows (not the approvers) that must not learn of a pending drop:
# only rows with held = 0 get a ``seq``, so a held recipient's inbox index never holds
# the drop. Drops stored before this need no approval: NULL and 0, as before.
MIGRATION_8_APPROVAL = """
    ALTER TABLE drops ADD COLUMN approval_state TEXT;
    ALTER TABLE drops ADD COLUMN approval TEXT;
    ALTER TABLE drop_recipients ADD COLUMN held INTEGER NOT NULL DEFAULT 0;
    """

# Migration 9 (issue 21: existing devices add their P-256 key). Key-add requests wait here
# for the directory signer as enrolments do in their own table, apart from it: they are
# authenticated (an enrolled device), answered "done" or "refused", and must not count
# against the anonymous enrolment limits. One open request per device (a retry replaces
# it: key_add_queue.py); answered rows are forgotten like enrolments'.
MIGRATION_9_KEY_ADDS = """
    CREATE TABLE key_adds (
        ticket TEXT PRIMARY KEY,
        user TEXT NOT NULL,
        device TEXT NOT NULL,
        request TEXT NOT NULL,
        received INTEGER NOT NULL,
        status TEXT NOT NULL,
        reason TEXT NOT NULL
    );
    CREATE INDEX key_adds_status ON key_adds (status, received);
    CREATE INDEX key_adds_device ON key_adds (user, device);
    """

# Numbered migrations: index + 1 is the schema version each one produces.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE nonces (
        key_id TEXT NOT NULL,
        nonce TEXT NOT NULL,
        expires INTEGER NOT NULL,
        PRIMARY KEY (key_id, nonce)
    );
    CREATE INDEX nonces_expires ON nonces (expires);
    """,
    """
    CREATE TABLE drops (
        id TEXT PRIMARY KEY,
        sender TEXT NOT NULL,
        sender_device TEXT NOT NULL,
        manifest TEXT NOT NULL,
        expires INTEGER NOT NULL,
        size INTEGER NOT NULL,
        state TEXT NOT NULL,
        seq INTEGER
    );
    CREATE INDEX drops_sender ON drops (sender);
    CREATE INDEX drops_expires ON drops (expires);
    CREATE TABLE drop_recipients (
        drop_id TEXT NOT NULL REFERENCES drops (id),
        user TEXT NOT NULL,
        PRIMARY KEY (drop_id, user)
    );
    CREATE INDEX drop_recipients_user ON drop_recipients (user);
    CREATE TABLE drop_blobs (
        drop_id TEXT NOT NULL REFERENCES drops (id),
        blob_id TEXT NOT NULL,
        sha256 BLOB NOT NULL,
        size INTEGER NOT NULL,
        store_id TEXT,
        PRIMARY KEY (drop_id, blob_id)
    );
    CREATE TABLE uploads (
        id TEXT PRIMARY KEY,
        drop_id TEXT NOT NULL REFERENCES drops (id),
        blob_id TEXT NOT NULL,
        length INTEGER NOT NULL,
        received INTEGER NOT NULL,
        expires INTEGER NOT NULL
    );
    CREATE TABLE receipts (
        drop_id TEXT NOT NULL REFERENCES drops (id),
        user TEXT NOT NULL,
        device TEXT NOT NULL,
        receipt TEXT NOT NULL,
        PRIMARY KEY (drop_id, user, device)
    );
    """,
    """
    CREATE TABLE enrolments (
        ticket TEXT PRIMARY KEY,
        user TEXT NOT NULL,
        device TEXT NOT NULL,
        request TEXT NOT NULL,
        ip TEXT NOT NULL,
        received INTEGER NOT NULL,
        status TEXT NOT NULL,
        reason TEXT NOT NULL
    );
    CREATE INDEX enrolments_status ON enrolments (status, received);
    CREATE INDEX enrolments_user ON enrolments (user, status);
    """,
    """
    CREATE TABLE audit_head (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        seq INTEGER NOT NULL,
        hash TEXT NOT NULL
    );
    """,
    """
    CREATE TABLE requests (
        id TEXT PRIMARY KEY,
        creator TEXT NOT NULL,
        mailbox TEXT NOT NULL,
        document TEXT NOT NULL,
        text BLOB NOT NULL,
        due TEXT,
        created INTEGER NOT NULL,
        expires INTEGER NOT NULL
    );
    CREATE INDEX requests_mailbox ON requests (mailbox);
    CREATE INDEX requests_expires ON requests (expires);
    CREATE TABLE request_addressees (
        request_id TEXT NOT NULL REFERENCES requests (id),
        user TEXT NOT NULL,
        reminded INTEGER,
        PRIMARY KEY (request_id, user)
    );
    CREATE INDEX request_addressees_user ON request_addressees (user);
    ALTER TABLE drops ADD COLUMN request_id TEXT;
    CREATE INDEX drops_request ON drops (request_id, sender);
    """,
    MIGRATION_6_INBOX_CURSOR,
    MIGRATION_7_SPECIFIC_PERSONAL_INFO,
    MIGRATION_8_APPROVAL,
    MIGRATION_9_KEY_ADDS,
)
