"""``secure-send-server --config FILE check`` on PostgreSQL (issue 18).

The embedded checks (:mod:`.state_check`) look at one folder's SQLite file, blob folder
and ``audit.jsonl``. A server on PostgreSQL keeps none of those; ``check`` then says
what a server about to start needs: the database answers with these credentials, its
schema is one this server knows, and the shared audit chain verifies. ``repair`` and
``quarantine`` do not apply: PostgreSQL's own tools (a standby, ``pg_dump``, PITR) are
the way back (docs/deployment.md, "High availability").
"""

from __future__ import annotations

from secure_send.core.audit import AuditChainError
from secure_send.server.config import ConfigError, ServerConfig
from secure_send.server.metadata import open_postgres
from secure_send.server.pg_audit import PgAuditLog
from secure_send.server.pg_migrations import PG_MIGRATIONS
from secure_send.server.state_check import Finding

NOT_HERE = (
    "{command} applies to the embedded SQLite state; on PostgreSQL use its own tools "
    "(a standby, pg_dump/pg_restore: docs/deployment.md, 'High availability')"
)


def pg_findings(config: ServerConfig) -> list[Finding]:
    """What ``check`` reports for a server whose metadata is in PostgreSQL."""
    try:
        meta = open_postgres(config)
    except ConfigError as err:
        return [Finding("problem", "database", str(err))]
    try:
        findings = [Finding("ok", "database", f"{meta.url.split('@')[-1]} answers")]
        version = meta.schema_version()
        known = len(PG_MIGRATIONS)
        level = "ok" if version == known else "problem"
        findings.append(Finding(level, "schema", f"version {version} (this server: {known})"))
        try:
            report = PgAuditLog(meta).verify()
            text = f"{report.records} records, chain intact, head {report.head_seq}"
            findings.append(Finding("ok", "audit", text))
        except AuditChainError as err:
            findings.append(Finding("problem", "audit", str(err)))
        (uploads,) = meta.query("SELECT COUNT(*) FROM uploads")[0]
        (drops,) = meta.query("SELECT COUNT(*) FROM drops WHERE state = 'committed'")[0]
        text = f"{drops} committed drop(s), {uploads} upload(s) in progress"
        findings.append(Finding("ok", "drops", text))
        return findings
    finally:
        meta.close()
