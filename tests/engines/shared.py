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
import contextlib
import os
import secrets
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.engines.postgres import Postgres, start_postgres
from tests.engines.seaweed import S3Server, start_s3

BACKEND = os.environ.get("SECURE_SEND_TEST_BACKEND", "embedded")
BACKENDS = ("embedded", "postgres", "scaled")
if BACKEND not in BACKENDS:
    raise RuntimeError(f"SECURE_SEND_TEST_BACKEND must be one of {', '.join(BACKENDS)}")

_postgres: Postgres | None = None
_s3: S3Server | None = None


def postgres() -> Postgres:
    """The session's PostgreSQL (started on first use, stopped at exit)."""
    global _postgres
    if _postgres is None:
        _postgres = start_postgres()
        atexit.register(_postgres.stop)
    return _postgres


def s3() -> S3Server:
    """The session's SeaweedFS S3 (started on first use, stopped at exit)."""
    global _s3
    if _s3 is None:
        _s3 = start_s3(Path(tempfile.mkdtemp(prefix="secure-send-s3-")))
        atexit.register(_s3.stop)
    return _s3


def backend_overrides(backend: str = BACKEND) -> dict[str, Any]:
    """``load_config`` overrides putting a new server on ``backend`` (fresh database)."""
    if backend == "embedded":
        return {}
    pg = postgres()
    overrides: dict[str, Any] = {
        "database_url": pg.create_database(f"t_{secrets.token_hex(6)}"),
        "database_password_file": str(pg.password_file),
    }
    if backend == "scaled":
        store = s3()
        bucket = f"t-{secrets.token_hex(8)}"
        store.create_bucket(bucket)
        overrides |= {
            "storage_kind": "s3",
            "storage_endpoint": store.endpoint,
            "storage_bucket": bucket,
            "storage_region": store.region,
            "storage_access_key_file": str(store.access_key_file),
            "storage_secret_key_file": str(store.secret_key_file),
        }
    return overrides


@pytest.fixture(scope="session")
def seaweed() -> S3Server:
    """The session's SeaweedFS (one for every test and backend: it takes seconds)."""
    return s3()


@pytest.fixture
def s3_bucket(seaweed: S3Server) -> Iterator[str]:
    """A fresh, empty bucket for one test, deleted after it (with its volumes)."""
    name = "t-" + secrets.token_hex(8)
    seaweed.create_bucket(name)
    yield name
    with contextlib.suppress(Exception):
        seaweed.client().delete_bucket(Bucket=name)  # SeaweedFS deletes a full bucket too
