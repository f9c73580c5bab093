"""The PostgreSQL schema as numbered migrations (see :class:`.pg_store.PostgresMetadataStore`).

Version 1 is SQLite's migrations 1-6 (:mod:`.migrations`) at once: a PostgreSQL
deployment starts new, so it never passes through their history. Later changes append a
migration here *and* one to SQLite's list, so the two stay the same tables. Differences
a statement could notice:

* BIGINT for every count of bytes and unix time (SQLite's INTEGER is 64-bit already);
* BYTEA for SQLite's BLOB;
* ``rowid``: SQLite's implicit insertion order, which ``sent`` and the enrolment queue
  sort by, is an explicit identity column here — last, so the stores' column-less
  ``INSERT … VALUES`` still fill the same columns;
* ``"user"`` is quoted (reserved in PostgreSQL; :mod:`.pg_sql` quotes it in statements).

Never edit a published migration: append a new one.
"""

from __future__ import annotations

PG_MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE nonces (
        key_id TEXT NOT NULL,
        nonce TEXT NOT NULL,
        expires BIGINT NOT NULL,
        PRIMARY KEY (key_id, nonce)
    );
    CREATE INDEX nonces_expires ON nonces (expires);
    CREATE TABLE drops (
        id TEXT PRIMARY KEY,
        sender TEXT NOT NULL,
        sender_device TEXT NOT NULL,
        manifest TEXT NOT NULL,
        expires BIGINT NOT NULL,
        size BIGINT NOT NULL,
        state TEXT NOT NULL,
        seq BIGINT,
        request_id TEXT,
        rowid BIGINT GENERATED ALWAYS AS IDENTITY
    );
    CREATE INDEX drops_sender ON drops (sender);
    CREATE INDEX drops_expires ON drops (expires);
    CREATE INDEX drops_seq ON drops (seq);
    CREATE INDEX drops_request ON drops (request_id, sender);
    CREATE TABLE drop_recipients (
        drop_id TEXT NOT NULL REFERENCES drops (id),
        "user" TEXT NOT NULL,
        seq BIGINT,
        PRIMARY KEY (drop_id, "user")
    );
    CREATE INDEX drop_recipients_user_seq ON drop_recipients ("user", seq);
    CREATE TABLE drop_blobs (
        drop_id TEXT NOT NULL REFERENCES drops (id),
        blob_id TEXT NOT NULL,
        sha256 BYTEA NOT NULL,
        size BIGINT NOT NULL,
        store_id TEXT,
        PRIMARY KEY (drop_id, blob_id)
    );
    CREATE TABLE uploads (
        id TEXT PRIMARY KEY,
        drop_id TEXT NOT NULL REFERENCES drops (id),
        blob_id TEXT NOT NULL,
        length BIGINT NOT NULL,
        received BIGINT NOT NULL,
        expires BIGINT NOT NULL
    );
    CREATE TABLE receipts (
        drop_id TEXT NOT NULL REFERENCES drops (id),
        "user" TEXT NOT NULL,
        device TEXT NOT NULL,
        receipt TEXT NOT NULL,
        PRIMARY KEY (drop_id, "user", device)
    );
    CREATE TABLE enrolments (
        ticket TEXT PRIMARY KEY,
        "user" TEXT NOT NULL,
        device TEXT NOT NULL,
        request TEXT NOT NULL,
        ip TEXT NOT NULL,
        received BIGINT NOT NULL,
        status TEXT NOT NULL,
        reason TEXT NOT NULL,
        rowid BIGINT GENERATED ALWAYS AS IDENTITY
    );
    CREATE INDEX enrolments_status ON enrolments (status, received);
    CREATE INDEX enrolments_user ON enrolments ("user", status);
    CREATE TABLE audit_head (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        seq BIGINT NOT NULL,
        hash TEXT NOT NULL
    );
    CREATE TABLE requests (
        id TEXT PRIMARY KEY,
        creator TEXT NOT NULL,
        mailbox TEXT NOT NULL,
        document TEXT NOT NULL,
        text BYTEA NOT NULL,
        due TEXT,
        created BIGINT NOT NULL,
        expires BIGINT NOT NULL
    );
    CREATE INDEX requests_mailbox ON requests (mailbox);
    CREATE INDEX requests_expires ON requests (expires);
    CREATE TABLE request_addressees (
        request_id TEXT NOT NULL REFERENCES requests (id),
        "user" TEXT NOT NULL,
        reminded BIGINT,
        PRIMARY KEY (request_id, "user")
    );
    CREATE INDEX request_addressees_user ON request_addressees ("user");
    CREATE TABLE audit_records (
        seq BIGINT PRIMARY KEY,
        line BYTEA NOT NULL
    );
    """,
    # 2 (issue 18): the published directory, shared by every server (.pg_directory),
    # and the failure budgets (.pg_limits). PostgreSQL only: one server on SQLite
    # keeps the directory in HOME/directory's files and the budgets in memory.
    """
    CREATE TABLE directory_bundle (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        version BIGINT NOT NULL,
        bundle BYTEA NOT NULL
    );
    CREATE TABLE directory_events (
        pos BIGINT PRIMARY KEY,
        line BYTEA NOT NULL
    );
    CREATE TABLE rate_buckets (
        kind TEXT NOT NULL,
        key TEXT NOT NULL,
        tokens DOUBLE PRECISION NOT NULL,
        at DOUBLE PRECISION NOT NULL,
        refused BOOLEAN NOT NULL,
        PRIMARY KEY (kind, key)
    );
    CREATE INDEX rate_buckets_at ON rate_buckets (at);
    """,
    # 3 (issue 19): SQLite's migration 7, the drop's My Number counts (NULL on every other
    # drop), filled in for drops stored before it from their manifests (JSON the server
    # wrote itself, so the cast cannot fail).
    """
    ALTER TABLE drops ADD COLUMN mynumber_files BIGINT;
    ALTER TABLE drops ADD COLUMN mynumber_count BIGINT;
    UPDATE drops SET
        mynumber_files = (manifest::jsonb #>> '{body,specific_personal_info,files}')::BIGINT,
        mynumber_count = (manifest::jsonb #>> '{body,specific_personal_info,numbers}')::BIGINT
    WHERE jsonb_typeof(manifest::jsonb #> '{body,specific_personal_info,files}') = 'number'
        AND jsonb_typeof(manifest::jsonb #> '{body,specific_personal_info,numbers}') = 'number';
    """,
    # 4 (issue 20): SQLite's migration 8, a drop's approval state and signed decision and
    # the held recipient rows (see migrations.MIGRATION_8_APPROVAL).
    """
    ALTER TABLE drops ADD COLUMN approval_state TEXT;
    ALTER TABLE drops ADD COLUMN approval TEXT;
    ALTER TABLE drop_recipients ADD COLUMN held INTEGER NOT NULL DEFAULT 0;
    """,
    # 5 (issue 21): SQLite's migration 9, key-add requests waiting for the directory
    # signer (see migrations.MIGRATION_9_KEY_ADDS)
    """
    CREATE TABLE key_adds (
        ticket TEXT PRIMARY KEY,
        "user" TEXT NOT NULL,
        device TEXT NOT NULL,
        request TEXT NOT NULL,
        received BIGINT NOT NULL,
        status TEXT NOT NULL,
        reason TEXT NOT NULL
    );
    CREATE INDEX key_adds_status ON key_adds (status, received);
    CREATE INDEX key_adds_device ON key_adds ("user", device);
    """,
)
