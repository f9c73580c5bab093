"""Issue 18's failover test, on the real cluster (PostgreSQL, SeaweedFS S3, three
``secure-send-server`` processes, nginx): "a 200 MiB upload through the load balancer;
the server holding it is SIGKILLed mid-PATCH; the client resumes through another
server; the recipient gets it byte-identical; no orphan parts remain in S3 after
commit, recall or expiry."

The sender is the app's own send path (``client/retry.finish_retrying`` around
``client/send.finish``), with a shorter backoff passed in. The server to kill is the
one whose PostgreSQL session holds the upload's PATCH lock (``pg_locks.UploadLeases``:
a session advisory lock; ``application_name`` names the server's PID).
"""

from __future__ import annotations

import hashlib
import itertools
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from secure_send import demo
from secure_send.client import listing, retry
from secure_send.client import receive as receiving
from secure_send.client.session import Session
from secure_send.server.pg_locks import lock_key
from tests.engines.cluster import BUCKET, Cluster
from tests.server.cluster_kit import (
    MIB,
    QUICK,
    SKIPS,
    bucket_keys,
    cut_send,
    demo_cluster,
    enrolled,
    expected_bucket,
    held_by,
    multipart_uploads,
    prepare,
    sql,
    store_ids,
    wait_for,
)

pytestmark = [*SKIPS, pytest.mark.slow]

SIZE = 200 * MIB
# Kill once this many 8 MiB parts of the upload are in the bucket (72 MiB): past the
# server's first recorded checkpoint (upload_sink.CHECKPOINT, 64 MiB), well before the end.
KILL_AFTER_PARTS = 9


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    # the sweeper every second (default 60 s), so an expiry is seen at once
    running = demo_cluster(
        tmp_path_factory.mktemp("failover"), settings={"sweep_interval_seconds": 1}
    )
    try:
        yield running
    finally:
        running.stop()


def _sha256(path: Path) -> bytes:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").digest()


def _lock_holder(cluster: Cluster, upload_id: str) -> str | None:
    """The ``application_name`` of the session holding the upload's PATCH lock."""
    key = lock_key("upload", upload_id) & (2**64 - 1)  # pg_locks shows it as two oids
    rows = sql(
        cluster.postgres,
        "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
        " WHERE l.locktype = 'advisory' AND l.granted AND l.classid = %s AND l.objid = %s"
        " AND l.objsubid = 1",
        (key >> 32, key & 0xFFFFFFFF),
    )
    return str(rows[0][0]) if rows else None


def _parts(cluster: Cluster, upload_id: str) -> int:
    """How many parts the upload's multipart upload has in the bucket (0: none yet)."""
    key = f"blobs/{upload_id}"
    multipart = multipart_uploads(cluster).get(key)
    if multipart is None:
        return 0
    answer = cluster.s3.client().list_parts(Bucket=BUCKET, Key=key, UploadId=multipart)
    return len(answer.get("Parts", []))


class _Sent:
    """The progress of one blob as the client reports it (bytes done, the part the
    server already held counting as done): every attempt starts at the offset the
    server gave, so the values show where each attempt resumed and how many bytes
    went over the wire in all."""

    def __init__(self) -> None:
        self.values: dict[str, list[int]] = {}
        self.lock = threading.Lock()

    def __call__(self, blob: str, done: int, _size: int) -> None:
        with self.lock:
            self.values.setdefault(blob, []).append(done)

    def biggest(self) -> list[int]:
        with self.lock:
            return list(max(self.values.values(), key=max, default=[]))


def _resumes(values: list[int]) -> list[int]:
    """The offsets attempts after the first started at (each one goes back)."""
    return [b for a, b in itertools.pairwise(values) if b < a]


def test_a_server_killed_mid_patch(cluster: Cluster, tmp_path: Path) -> None:
    cast = demo.pick_people(cluster.org_home)
    hanako = enrolled(cluster, tmp_path / "profiles", cast.sender)
    taro = enrolled(cluster, tmp_path / "profiles", cast.recipient)
    try:
        _failover(cluster, hanako, taro, tmp_path)
        _recall_and_expiry(cluster, hanako, taro, tmp_path)
    finally:
        hanako.close()
        taro.close()


def _failover(cluster: Cluster, hanako: Session, taro: Session, tmp_path: Path) -> None:
    original = tmp_path / "out" / "全省データ.bin"
    original.parent.mkdir()
    with original.open("wb") as out:
        for _ in range(SIZE // MIB):
            out.write(os.urandom(MIB))
    pending = prepare(hanako, [original], _recipient(cluster))
    sent, retries = _Sent(), list[retry.Retrying]()
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["drop"] = retry.finish_retrying(
                hanako, pending, sent, notify=retries.append, backoff=QUICK
            )
        except BaseException as err:  # reported by the main thread
            outcome["error"] = err

    sender = threading.Thread(target=run)
    sender.start()
    try:
        upload_id = wait_for(
            lambda: _big_upload(cluster, pending.drop_id), "the 200 MiB upload", 60
        )
        wait_for(lambda: _parts(cluster, upload_id) >= KILL_AFTER_PARTS, "parts", 120)
        holder = _lock_holder(cluster, upload_id)
        assert holder is not None, "no server holds the PATCH lock: the PATCH is over?"
        victim = _server_of(cluster, holder)
        at_kill = sent.biggest()[-1]  # what the client had sent of the blob
        cluster.kill(victim)
        # mid-PATCH indeed: the upload is not finished, and the server had recorded a
        # checkpoint (the offset a resume starts from)
        ((received, length),) = sql(
            cluster.postgres, "SELECT received, length FROM uploads WHERE id = %s", (upload_id,)
        )
        assert 0 < received < length
    finally:
        sender.join(timeout=300)
    assert not sender.is_alive()
    assert "error" not in outcome, outcome.get("error")
    assert outcome["drop"] == pending.drop_id
    assert retries, "the kill went unnoticed"
    values = sent.biggest()
    # it resumed once, exactly at the offset the server had recorded (> 0, asserted
    # above): not from zero. Fails if the server recorded no checkpoint during the
    # PATCH (upload_sink.UploadSink.write) or the client did not resume from HEAD's
    # offset (transfer.send_blob).
    assert _resumes(values) == [received], (received, _resumes(values))
    assert values[-1] == length
    # the client too was mid-body when the server died (nginx then reads and drops
    # the rest of that body before it answers 502, so the client sends it to the end)
    assert at_kill < length, "the client had sent everything before the kill"
    # another server finished it (the dead one cannot have: its log ends at the kill)
    logged = [r for i, s in enumerate(cluster.servers) if i != victim for r in s.requests()]
    assert ("127.0.0.1:0", "PATCH", f"/v1/uploads/{upload_id}", 204) in logged

    items, _ = listing.inbox(taro, taro.directory(), wait=5)
    assert pending.drop_id in [i.drop_id for i in items]
    got = receiving.receive(taro, taro.directory(), pending.drop_id, tmp_path / "in")
    assert [_sha256(p) for p in got.files] == [_sha256(original)]
    # committed: nothing of an upload in progress is left in the bucket
    assert multipart_uploads(cluster) == {}
    assert [k for k in bucket_keys(cluster) if k.startswith("partial/")] == []
    assert bucket_keys(cluster) == expected_bucket(cluster.postgres)
    cluster.restart(victim)  # its start-up recover runs over the shared state
    assert httpx.get(f"{cluster.servers[victim].url}/v1/health", timeout=10).status_code == 200


def _recipient(cluster: Cluster) -> str:
    return demo.pick_people(cluster.org_home).recipient


def _big_upload(cluster: Cluster, drop_id: str) -> str | None:
    rows = sql(
        cluster.postgres,
        "SELECT id FROM uploads WHERE drop_id = %s AND length > %s",
        (drop_id, SIZE),
    )
    return str(rows[0][0]) if rows else None


def _server_of(cluster: Cluster, application_name: str) -> int:
    """The index of the server process ``secure-send-server[PID]`` names."""
    pids = {
        f"secure-send-server[{s.process.pid}]": i
        for i, s in enumerate(cluster.servers)
        if s.process is not None
    }
    assert application_name in pids, (application_name, pids)
    return pids[application_name]


def _recall_and_expiry(cluster: Cluster, hanako: Session, taro: Session, tmp_path: Path) -> None:
    pg, recipient = cluster.postgres, _recipient(cluster)
    files = tmp_path / "more"
    files.mkdir()

    def a_file(name: str, size: int) -> Path:
        path = files / name
        path.write_bytes(os.urandom(size))
        return path

    # recalled mid-upload: its parts and tail go at once
    recalled = prepare(hanako, [a_file("recalled.bin", 20 * MIB)], recipient)
    upload = cut_send(hanako, recalled, 10 * MIB, pg)
    assert held_by(cluster, {upload}) == {f"blobs/{upload}"} | _tails(cluster, upload)
    hanako.api.recall(recalled.drop_id)
    assert held_by(cluster, {upload}) == set()

    # a server restarting (its start-up recover) leaves another's cut upload alone
    resumed = prepare(hanako, [a_file("resumed.bin", 20 * MIB)], recipient)
    upload = cut_send(hanako, resumed, 10 * MIB, pg)
    before = held_by(cluster, {upload})
    cluster.restart(0)
    assert held_by(cluster, {upload}) == before
    retry.finish_retrying(hanako, resumed, backoff=QUICK)
    got = receiving.receive(taro, taro.directory(), resumed.drop_id, tmp_path / "in2")
    assert [p.read_bytes() for p in got.files] == [(files / "resumed.bin").read_bytes()]

    # expired: a committed drop and one mid-upload; the sweeper deletes both
    uploading = prepare(hanako, [a_file("uploading.bin", 20 * MIB)], recipient)
    cut_send(hanako, uploading, 10 * MIB, pg)
    ids = store_ids(pg, resumed.drop_id) | store_ids(pg, uploading.drop_id)
    assert len(held_by(cluster, ids)) >= 3  # a blob, a metadata blob, a multipart...
    past = int(time.time()) - 60
    for drop in (resumed.drop_id, uploading.drop_id):
        sql(pg, "UPDATE drops SET expires = %s WHERE id = %s", (past, drop))
        sql(pg, "UPDATE uploads SET expires = %s WHERE drop_id = %s", (past, drop))
    wait_for(lambda: not held_by(cluster, ids), "the sweeper", 30)
    states = sql(
        pg,
        "SELECT state FROM drops WHERE id IN (%s, %s)",
        (resumed.drop_id, uploading.drop_id),
    )
    assert sorted(s for (s,) in states) == ["expired", "expired"]
    # and nothing else either: the bucket is the live drops' finished blobs
    assert multipart_uploads(cluster) == {}
    assert bucket_keys(cluster) == expected_bucket(pg)


def _tails(cluster: Cluster, upload_id: str) -> set[str]:
    tails = {k for k in bucket_keys(cluster) if k.startswith(f"partial/{upload_id}/tail-")}
    assert tails, "a cut upload keeps its tail"
    return tails
