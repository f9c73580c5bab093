"""One engine of each kind for the whole test session, started on first use.

``SECURE_SEND_TEST_BACKEND`` picks the server suite's backend (``make test`` runs the
server tests once per backend):

* unset or ``embedded``: SQLite + the blob folder (the default a pilot runs);
* ``postgres``: PostgreSQL metadata (this session's own server) + the blob folder;
* ``scaled``: PostgreSQL + S3 (SeaweedFS), what a ministry's cluster runs.

Each test server gets a fresh database (and bucket), so tests stay independent.
"""

from __future__ import annotations

import atexit
import os
import secrets
from typing import Any

from tests.engines.postgres import Postgres, start_postgres

BACKEND = os.environ.get("SECURE_SEND_TEST_BACKEND", "embedded")
BACKENDS = ("embedded", "postgres", "scaled")
if BACKEND not in BACKENDS:
    raise RuntimeError(f"SECURE_SEND_TEST_BACKEND must be one of {', '.join(BACKENDS)}")

_postgres: Postgres | None = None


def postgres() -> Postgres:
    """The session's PostgreSQL (started on first use, stopped at exit)."""
    global _postgres
    if _postgres is None:
        _postgres = start_postgres()
        atexit.register(_postgres.stop)
    return _postgres


def backend_overrides(backend: str = BACKEND) -> dict[str, Any]:
    """``load_config`` overrides putting a new server on ``backend`` (fresh database)."""
    if backend == "embedded":
        return {}
    pg = postgres()
    overrides: dict[str, Any] = {
        "database_url": pg.create_database(f"t_{secrets.token_hex(6)}"),
        "database_password_file": str(pg.password_file),
    }
    return overrides
