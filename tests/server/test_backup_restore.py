"""The backup and the restore drill of docs/deployment.md section 9, done the way IT is
told to, on two real clusters (tests/engines/cluster.py): "dump PostgreSQL + copy the
bucket, restore to a fresh cluster, every committed drop still downloads and the audit
chain verifies."

Cluster A: drops committed, one recalled, one cut mid-upload; the audit head noted;
``pg_dump -Fc`` first (the password through PGPASSFILE, never argv), then every object
of the bucket copied to a folder (what ``aws s3 sync`` / ``rclone`` do: objects, not
multipart uploads in progress). One more drop is committed between the two: its blob
is in the copy but not in the dump. Cluster B (a new PostgreSQL, a new SeaweedFS):
``pg_restore``, the objects put back, then its servers start on them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from secure_send import demo
from secure_send.client import receive as receiving
from secure_send.client import retry
from secure_send.client import send as sending
from secure_send.client.errors import ClientError, ServerError
from secure_send.client.session import Session
from secure_send.core.error_codes import ErrorCode
from tests.engines.cluster import BUCKET, DATABASE, Cluster, start_cluster
from tests.engines.postgres import Postgres
from tests.engines.seaweed import S3Server
from tests.server.cluster_kit import (
    MIB,
    QUICK,
    SKIPS,
    bucket_keys,
    cut_send,
    demo_cluster,
    enrolled,
    held_by,
    multipart_uploads,
    prepare,
    reopen,
    sql,
    store_ids,
)

pytestmark = [*SKIPS, pytest.mark.slow]


def _pgpass(pg: Postgres, folder: Path) -> dict[str, str]:
    """The environment for PostgreSQL's programs: the password in a 0600 PGPASSFILE
    (never in argv, where ``ps`` shows it to every user)."""
    path = folder / "pgpass"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(f"{pg.host}:{pg.port}:*:{pg.user}:{pg.password()}\n")
    return {**os.environ, "PGPASSFILE": str(path)}


def _connection(pg: Postgres) -> list[str]:
    return ["--host", pg.host, "--port", str(pg.port), "--username", pg.user, "--no-password"]


def pg_dump(pg: Postgres, target: Path) -> None:
    """Backup step 1: ``pg_dump --format=custom`` of the servers' database."""
    subprocess.run(
        [
            str(pg.bin / "pg_dump"),
            "--format=custom",
            f"--file={target}",
            *_connection(pg),
            DATABASE,
        ],
        env=_pgpass(pg, target.parent),
        check=True,
        capture_output=True,
    )


def pg_restore(pg: Postgres, dump: Path, folder: Path) -> None:
    """Restore step 1: ``pg_restore --dbname=secure_send`` into the new, empty database."""
    subprocess.run(
        [str(pg.bin / "pg_restore"), f"--dbname={DATABASE}", *_connection(pg), str(dump)],
        env=_pgpass(pg, folder),
        check=True,
        capture_output=True,
    )


def copy_bucket(s3: S3Server, target: Path) -> int:
    """Backup step 2: every object of the bucket into ``target`` (its key as the path);
    returns how many. Multipart uploads in progress are not objects: not copied."""
    client, count = s3.client(), 0
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        for item in page.get("Contents", []):
            path = target / item["Key"]
            path.parent.mkdir(parents=True, exist_ok=True)
            client.download_file(BUCKET, item["Key"], str(path))
            count += 1
    return count


def put_back(s3: S3Server, source: Path) -> None:
    """Restore step 2: the copied objects into the new bucket, under their keys."""
    client = s3.client()
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        client.upload_file(str(path), BUCKET, path.relative_to(source).as_posix())


def audit_verify(cluster: Cluster, expect: str | None = None) -> dict[str, object]:
    """``secure-send-server --config FILE --json audit verify [--expect-head SEQ:HASH]``
    on the first server's config, as IT runs it; its JSON answer."""
    command = [sys.executable, "-m", "secure_send.server.cli"]
    command += ["--config", str(cluster.servers[0].config_file), "--json", "audit", "verify"]
    command += ["--expect-head", expect] if expect else []
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    answer: dict[str, object] = json.loads(done.stdout)
    return answer


def _files(folder: Path) -> Callable[[str, int], Path]:
    folder.mkdir(parents=True, exist_ok=True)

    def make(name: str, size: int) -> Path:
        path = folder / name
        path.write_bytes(os.urandom(size))
        return path

    return make


def test_backup_and_restore_drill(tmp_path: Path) -> None:
    backup = tmp_path / "backup"
    (backup / "bucket").mkdir(parents=True)
    a = demo_cluster(tmp_path / "a", servers=2)
    try:
        cast = demo.pick_people(a.org_home)
        hanako = enrolled(a, tmp_path / "profiles", cast.sender)
        taro = enrolled(a, tmp_path / "profiles", cast.recipient)
        make = _files(tmp_path / "out")
        committed = {}
        for name, size in (("small.bin", 300_000), ("multipart.bin", 12 * MIB)):
            pending = prepare(hanako, [make(name, size)], cast.recipient)
            retry.finish_retrying(hanako, pending, backoff=QUICK)
            committed[pending.drop_id] = name
        recalled = prepare(hanako, [make("recalled.bin", 1 * MIB)], cast.recipient)
        retry.finish_retrying(hanako, recalled, backoff=QUICK)
        hanako.api.recall(recalled.drop_id)
        cut = prepare(hanako, [make("cut.bin", 20 * MIB)], cast.recipient)
        cut_upload = cut_send(hanako, cut, 10 * MIB, a.postgres)

        head = str(audit_verify(a)["head"])  # written down outside the servers
        pg_dump(a.postgres, backup / "secure-send.dump")  # 1. the database first
        late = prepare(hanako, [make("late.bin", 1 * MIB)], cast.recipient)
        retry.finish_retrying(hanako, late, backoff=QUICK)  # between dump and copy
        late_keys = {f"blobs/{i}" for i in store_ids(a.postgres, late.drop_id)}
        late_cut = prepare(hanako, [make("late-cut.bin", 20 * MIB)], cast.recipient)
        late_upload = cut_send(hanako, late_cut, 10 * MIB, a.postgres)  # its tail is copied
        assert copy_bucket(a.s3, backup / "bucket") > 0  # 2. then the bucket
        assert multipart_uploads(a)  # (the cut upload's parts: not objects, not copied)
    finally:
        a.stop()

    def restore(pg: Postgres, s3: S3Server) -> None:
        pg_restore(pg, backup / "secure-send.dump", tmp_path)
        put_back(s3, backup / "bucket")

    # 3. the same organisation's server folders, the drill's [database] and [storage]
    b = start_cluster(
        tmp_path / "b",
        2,
        org_home=a.org_home,
        restore=restore,
        settings={"sweep_interval_seconds": 1},  # (to show the sweeper leaves it)
    )
    hanako, taro = reopen(hanako, b.url), reopen(taro, b.url)  # IT's new server URL
    try:
        # the tail of an upload begun after the dump, no row for it: start-up repair
        # deleted it
        assert (backup / "bucket" / "partial" / late_upload).is_dir()
        assert held_by(b, {late_upload}) == set()
        # 4. the restored chain ends at the head noted on A
        assert audit_verify(b, expect=head)["head"] == head
        # every committed drop downloads and decrypts, byte-identical
        for drop_id, name in committed.items():
            got = receiving.receive(taro, taro.directory(), drop_id, tmp_path / "in" / drop_id)
            assert [p.read_bytes() for p in got.files] == [(tmp_path / "out" / name).read_bytes()]
        # the recalled one stays recalled (410)
        with pytest.raises(ClientError) as refused:
            receiving.receive(taro, taro.directory(), recalled.drop_id, tmp_path / "in" / "r")
        assert refused.value.code == ErrorCode.RECALLED
        with pytest.raises(ServerError) as gone:
            taro.api.drop(recalled.drop_id)
        assert gone.value.status == 410
        # the chain verifies and its head is the one noted on A, then it goes on: the
        # downloads above appended records after it
        after = audit_verify(b, expect=head)
        seq = head.split(":")[0]
        assert int(str(after["head"]).split(":")[0]) > int(seq)
        # the blob committed after the dump is in the bucket, and nothing refers to it:
        # an orphan, and nothing removes it (recover looks at uploads in progress only)
        assert late_keys <= bucket_keys(b)
        assert not sql(b.postgres, "SELECT 1 FROM drops WHERE id = %s", (late.drop_id,))
        _the_cut_upload(b, hanako, taro, cut, cut_upload, tmp_path)
        # still there after B's start-up repair and many sweeps: IT's to delete
        assert late_keys <= bucket_keys(b)
    finally:
        hanako.close()
        taro.close()
        b.stop()


def _the_cut_upload(
    b: Cluster,
    hanako: Session,
    taro: Session,
    cut: sending.PendingSend,
    upload: str,
    tmp_path: Path,
) -> None:
    """A send cut mid-upload before the backup: the copy holds its tail but not its
    parts (a multipart upload in progress is no object). B forgets that upload at its
    first PATCH (404) and the client sends the blob again in a new upload."""
    assert multipart_uploads(b) == {}
    assert {k.split("/tail-")[0] for k in held_by(b, {upload})} == {f"partial/{upload}"}
    cancel = threading.Event()  # bounded: before the fix the PATCH failed for ever (500)
    timer = threading.Timer(60, cancel.set)
    timer.start()
    try:
        retry.finish_retrying(hanako, cut, cancel=cancel, backoff=QUICK)
    finally:
        timer.cancel()
    got = receiving.receive(taro, taro.directory(), cut.drop_id, tmp_path / "in" / "cut")
    assert [p.read_bytes() for p in got.files] == [(tmp_path / "out" / "cut.bin").read_bytes()]
    assert held_by(b, {upload}) == set()
