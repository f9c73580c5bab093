"""What the tests of the scale-out cluster share (tests/engines/cluster.py): the skip
marks, the demo organisation's cluster, people enrolled through the balancer, a send
cut off mid-upload, and a look into the bucket and the database.

test_cluster.py, test_failover.py and test_backup_restore.py use it.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import psycopg
import pytest

from secure_send import demo
from secure_send.client import retry
from secure_send.client import send as sending
from secure_send.client.enrolment import enrol
from secure_send.client.errors import Cancelled
from secure_send.client.keystore import FileKeyStore
from secure_send.client.profile import OrgConfig, Profile
from secure_send.client.session import Session
from secure_send.org import ops
from secure_send.org.home import OrgHome
from tests.engines.cluster import BUCKET, DATABASE, Cluster, start_cluster
from tests.engines.nginx import nginx_binary
from tests.engines.postgres import Postgres, pg_bin
from tests.engines.shared import BACKEND

MIB = 1024 * 1024

# the marks of every cluster test module
SKIPS = [
    pytest.mark.skipif(
        nginx_binary() is None,
        reason="nginx is not installed (scripts/system-packages.sh installs nginx-light)",
    ),
    pytest.mark.skipif(
        pg_bin() is None,
        reason="PostgreSQL is not installed (scripts/system-packages.sh installs postgresql)",
    ),
    pytest.mark.skipif(
        BACKEND != "embedded",
        reason="the cluster brings its own PostgreSQL and S3: it runs in the default pass",
    ),
]

# a test's retry schedule: the app's shape, shorter waits (a parameter, not a switch)
QUICK = retry.Backoff(first=0.2, factor=2.0, cap=2.0, jitter=0.1)


def demo_cluster(folder: Path, servers: int = 3, **options: Any) -> Cluster:
    """The demo organisation (the one ``make cluster`` serves) in ``folder/org`` and a
    cluster of ``servers`` for it in ``folder/cluster`` (``options``: start_cluster's)."""
    home = OrgHome(folder / "org")
    demo.make_demo_org(home)
    return start_cluster(folder / "cluster", servers, org_home=home, **options)


def enrolled(cluster: Cluster, folder: Path, user: str) -> Session:
    """``user`` enrolled through the balancer with a one-time code from IT (the
    cluster's signer decides it), and their session opened."""
    org = OrgConfig.from_json(ops.client_config(cluster.org_home, cluster.url))
    profile = Profile(folder / user)
    store = FileKeyStore(profile)
    code = ops.issue_code(cluster.org_home, user)
    enrol(profile, org, user, code, device_id="pc", store=store)
    return Session.open(profile, store)


def reopen(session: Session, server_url: str) -> Session:
    """The same device's session against another server URL: IT hands out new
    connection settings (the profile's config.json ``server_url``) and the app starts
    again. ``session`` is closed."""
    profile = session.profile
    session.close()
    config = cast("dict[str, Any]", profile.read_json(profile.config_file))
    config["server_url"] = server_url
    profile.write_json(profile.config_file, config)
    return Session.open(profile, FileKeyStore(profile))


def prepare(
    session: Session, files: list[Path], recipient: str, days: int = 1
) -> sending.PendingSend:
    """A prepared send of ``files`` to ``recipient`` (nothing on the server yet)."""
    return sending.prepare(
        session,
        session.directory(),
        sending.collect(files),
        [recipient],
        expires=dt.timedelta(days=days),
    )


def cut_send(session: Session, pending: sending.PendingSend, cut_after: int, pg: Postgres) -> str:
    """Start ``pending`` and cut it (the person presses cancel) once more than
    ``cut_after`` bytes of one blob went up; returns the id of the upload left
    unfinished, after the server has recorded the bytes it kept."""
    cancel = threading.Event()

    def progress(_blob: str, done: int, _size: int) -> None:
        if done > cut_after:
            cancel.set()

    with pytest.raises(Cancelled):
        retry.finish_retrying(session, pending, progress, cancel, backoff=QUICK)
    # the server notices the cut connection and records what it kept (tus core)
    kept = wait_for(
        lambda: _kept_upload(pg, pending.drop_id), f"the cut upload of {pending.drop_id}"
    )
    return str(kept)


def _kept_upload(pg: Postgres, drop_id: str) -> str | None:
    rows = sql(pg, "SELECT id FROM uploads WHERE drop_id = %s AND received > 0", (drop_id,))
    return str(rows[0][0]) if rows else None


def wait_for(check: Callable[[], Any], what: str, timeout: float = 30) -> Any:
    """Poll ``check`` until it returns something true; return that (fail after
    ``timeout`` seconds, naming ``what``)."""
    deadline = time.monotonic() + timeout
    while not (found := check()):
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)
    return found


def sql(pg: Postgres, statement: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """One statement on the cluster's database (rows, or [] for one without)."""
    with cast("psycopg.Connection[Any]", pg.connect(DATABASE)) as db:
        cursor = db.execute(statement, params)
        return cursor.fetchall() if cursor.description else []


def bucket_keys(cluster: Cluster) -> set[str]:
    """Every object key in the cluster's bucket."""
    client = cluster.s3.client()
    keys: set[str] = set()
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        keys.update(o["Key"] for o in page.get("Contents", []))
    return keys


def multipart_uploads(cluster: Cluster) -> dict[str, str]:
    """The multipart uploads in progress in the bucket: ``{key: UploadId}``."""
    answer = cluster.s3.client().list_multipart_uploads(Bucket=BUCKET)
    return {u["Key"]: u["UploadId"] for u in answer.get("Uploads", [])}


def store_ids(pg: Postgres, drop_id: str) -> set[str]:
    """The ids a drop's data has in the bucket: its uploads' and finished blobs'."""
    uploads = sql(pg, "SELECT id FROM uploads WHERE drop_id = %s", (drop_id,))
    blobs = sql(
        pg,
        "SELECT store_id FROM drop_blobs WHERE drop_id = %s AND store_id IS NOT NULL",
        (drop_id,),
    )
    return {str(r[0]) for r in uploads + blobs}


def held_by(cluster: Cluster, ids: set[str]) -> set[str]:
    """The bucket's keys and multipart uploads that belong to any of ``ids``."""
    found = bucket_keys(cluster) | set(multipart_uploads(cluster))
    return {k for k in found if any(i in k for i in ids)}


def expected_bucket(pg: Postgres) -> set[str]:
    """The keys the bucket should hold: the finished blobs of the live drops."""
    rows = sql(
        pg,
        "SELECT b.store_id FROM drop_blobs b JOIN drops d ON d.id = b.drop_id"
        " WHERE b.store_id IS NOT NULL AND d.state IN ('uploading', 'committed')",
    )
    return {f"blobs/{r[0]}" for r in rows}
