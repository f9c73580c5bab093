"""The shared audit chain in PostgreSQL (issue 18) with the My Number fields (issue 19):
the table stores each record's line, so records about drops holding My Numbers chain,
verify and export exactly as in ``audit.jsonl``; PostgreSQL migration 3 gives drops
stored before it their counts. Real PostgreSQL (tests/engines)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

import nacl.signing
import pytest

from secure_send.core.envelope.manifest import (
    Blob,
    Classification,
    Manifest,
    RecipientRef,
    new_drop_id,
)
from secure_send.server.drop_store import DropStore
from secure_send.server.pg_audit import PgAuditLog
from secure_send.server.pg_migrations import PG_MIGRATIONS
from secure_send.server.pg_store import PostgresMetadataStore
from tests.engines.postgres import Postgres
from tests.engines.shared import postgres

# PostgreSQL only: run once, in the scale-out pass (make test; conftest.py)
pytestmark = pytest.mark.scale_out

DROP = "dRoP_0123456789abcdef"


@pytest.fixture(scope="module")
def pg() -> Postgres:
    return postgres()


@pytest.fixture
def store(pg: Postgres) -> Iterator[PostgresMetadataStore]:
    db = PostgresMetadataStore(pg.unique_database(), pg.password_file)
    yield db
    db.close()


def test_spi_records_chain_verify_and_export_from_the_table(store: PostgresMetadataStore) -> None:
    log = PgAuditLog(store)
    plain = log.append(action="drop_create", actor="hanako.sato", drop=DROP, size=5)
    spi = log.append(
        action="download", actor="taro.yamada", drop=DROP, size=5, specific_personal_info=(2, 37)
    )
    lines = [bytes(r[0]) for r in store.query("SELECT line FROM audit_records ORDER BY seq")]
    assert lines == [plain.line(), spi.line()]  # the same bytes audit.jsonl would hold
    stored = json.loads(lines[1])
    assert (stored["contains_specific_personal_info"], stored["mynumber_count"]) == (True, 37)
    assert "mynumber_count" not in json.loads(lines[0])
    assert log.verify(expected_head=log.head()).records == 2
    assert [r.specific_personal_info for r in log.records()] == [None, (2, 37)]
    out = io.StringIO()
    assert log.export_csv(out) == 2
    rows = list(csv.DictReader(io.StringIO(out.getvalue(), newline="")))
    assert [r["mynumber_files"] for r in rows] == ["", "2"]


def _manifest_json(spi: tuple[int, int] | None) -> str:
    """A signed manifest as the server stores it (any key: the backfill reads, not checks)."""
    m = Manifest(
        drop_id=new_drop_id(),
        sender="hanako.sato",
        sender_device="laptop",
        recipients=(RecipientRef("taro.yamada", ("desktop",)),),
        blobs=(Blob("f1", "file", b"\0" * 32, 10),),
        created="2026-11-25T09:00:00Z",
        expires="2026-11-26T09:00:00Z",
        classification=Classification.C3,
        suite="age-x25519-v1",
        directory_epoch=1,
        directory_header="test",
        mynumber_files=spi[0] if spi else 0,
        mynumber_count=spi[1] if spi else 0,
    )
    return json.dumps(m.sign(nacl.signing.SigningKey.generate()).to_json())


def test_migration_3_takes_the_counts_of_drops_stored_before_it(pg: Postgres) -> None:
    url = pg.unique_database()
    conn: Any = pg.connect(url.rsplit("/", 1)[1])
    with conn:
        conn.execute("CREATE TABLE schema_version (version INTEGER)")
        for version, sql in enumerate(PG_MIGRATIONS[:2], start=1):
            conn.execute(sql.encode())
            conn.execute("INSERT INTO schema_version VALUES (%s)", (version,))
        texts = {"with": _manifest_json((3, 40)), "without": _manifest_json(None), "empty": "{}"}
        for drop_id, text in texts.items():
            conn.execute(
                "INSERT INTO drops (id, sender, sender_device, manifest, expires, size, state)"
                " VALUES (%s, 'a', 'x', %s, 9999999999, 1, 'committed')",
                (drop_id, text),
            )
    store = PostgresMetadataStore(url, pg.password_file)
    try:
        assert store.schema_version() == len(PG_MIGRATIONS)
        drops = DropStore(store)
        got = {d: row.specific_personal_info if (row := drops.get(d)) else "?" for d in texts}
        assert got == {"with": (3, 40), "without": None, "empty": None}
    finally:
        store.close()
