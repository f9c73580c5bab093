"""Which metadata store a server opens: the embedded SQLite file, or PostgreSQL shared
by several servers (``[database] url``), and what goes with each (issue 18).

With PostgreSQL the audit log is the shared ``audit_records`` table (one chain for all
servers), inbox wake-ups travel by ``LISTEN``/``NOTIFY`` and an upload's PATCH lock
holds across servers. The embedded store keeps its file-based pieces unchanged.
"""

from __future__ import annotations

from secure_send.core.audit import AuditLog, audit_log_path
from secure_send.server.audit_head import open_audit
from secure_send.server.config import ConfigError, ServerConfig
from secure_send.server.pg_audit import PgAuditLog
from secure_send.server.pg_store import PgDatabaseError, PostgresMetadataStore
from secure_send.server.state_check import open_metadata
from secure_send.server.storage import SqliteMetadataStore

MetaStore = SqliteMetadataStore | PostgresMetadataStore


def open_metadata_store(config: ServerConfig) -> MetaStore:
    """The configured store, migrated. Raises :class:`ConfigError` when PostgreSQL
    cannot be reached or its password file read (the message names no secret)."""
    if not config.database_url:
        return open_metadata(config.home)
    return open_postgres(config)


def open_postgres(config: ServerConfig) -> PostgresMetadataStore:
    """The PostgreSQL store ``[database] url`` names (see :func:`open_metadata_store`)."""
    try:
        return PostgresMetadataStore(config.database_url, config.database_password_file)
    except PgDatabaseError as err:
        raise ConfigError(str(err)) from None


def open_audit_log(config: ServerConfig, meta: MetaStore) -> AuditLog:
    """The audit log: HOME/server/audit.jsonl (its head in SQLite), or the shared table."""
    if isinstance(meta, PostgresMetadataStore):
        return PgAuditLog(meta)
    return open_audit(audit_log_path(config.home), meta.query)
