"""The scale-out cluster (tests/engines/cluster.py), for real: PostgreSQL, SeaweedFS S3,
three ``secure-send-server`` processes and nginx round-robin in front. Two people enrol
and a file goes from one to the other through the balancer, every server takes part,
and when one server is killed the balancer carries on with the others."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from secure_send import demo
from secure_send.client import listing
from secure_send.client import receive as receiving
from secure_send.client import send as sending
from secure_send.org import ops
from secure_send.org.home import OrgHome
from tests.directory_kit import OPERATOR, org_rows
from tests.engines.cluster import Cluster, start_cluster
from tests.server.cluster_kit import SKIPS, demo_cluster, enrolled

pytestmark = SKIPS

MIB = 1024 * 1024


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    running = demo_cluster(tmp_path_factory.mktemp("cluster"))  # as make cluster runs it
    try:
        yield running
    finally:
        running.stop()


def test_send_and_receive_through_the_balancer(cluster: Cluster, tmp_path: Path) -> None:
    before = [len(s.requests()) for s in cluster.servers]
    cast = demo.pick_people(cluster.org_home)
    hanako = enrolled(cluster, tmp_path / "profiles", cast.sender)
    taro = enrolled(cluster, tmp_path / "profiles", cast.recipient)
    try:
        # several tus chunks (max_body_bytes = 1 MiB each): the PATCHes of one
        # upload land on different servers
        original = tmp_path / "out" / "予算案.bin"
        original.parent.mkdir()
        original.write_bytes(os.urandom(3 * MIB + 5))
        directory = hanako.directory()
        pending = sending.prepare(
            hanako,
            directory,
            sending.collect([original]),
            [cast.recipient],
            expires=dt.timedelta(days=1),
            message="確認願います",
        )
        drop_id = sending.finish(hanako, pending)
        items, _ = listing.inbox(taro, taro.directory(), wait=5)
        assert [(i.drop_id, i.verified) for i in items] == [(drop_id, True)]
        got = receiving.receive(taro, taro.directory(), drop_id, tmp_path / "in")
        assert [p.read_bytes() for p in got.files] == [original.read_bytes()]
        assert got.message == "確認願います"
        (sent,) = listing.sent(hanako, hanako.directory())
        assert [r.downloaded is not None for r in sent.recipients] == [True]
    finally:
        hanako.close()
        taro.close()
    logged = [s.requests()[b:] for s, b in zip(cluster.servers, before, strict=True)]
    # round-robin: each server took its share of the work, none all of it
    assert all(logged), [len(x) for x in logged]
    # each believed the balancer's X-Forwarded-For (uvicorn then logs port 0)
    assert {r[0] for x in logged for r in x} == {"127.0.0.1:0"}
    # the blobs went to the shared bucket, not into any server's folder
    objects = cluster.s3.client().list_objects_v2(Bucket="secure-send").get("Contents", [])
    assert objects
    for server in cluster.servers:
        home = server.config_file.parent / "home" / "server"
        assert not any(p.is_file() for p in home.glob("blobs/**/*"))


def test_the_demo_walks_through_the_cluster_twice(cluster: Cluster, tmp_path: Path) -> None:
    # ``secure-send demo --server URL --org DIR``, as make cluster prints it; a second
    # run finds the first one's devices and requests on the lasting server
    for run in ("first", "second"):
        lines: list[str] = []
        code = demo.run(
            lines.append, keep=tmp_path / run, server=cluster.url, org=cluster.org_home.path
        )
        assert code == 0
        text = "\n".join(lines)
        assert f"drop server: {cluster.url}" in text
        assert "✓ 検証済み" in text  # the recipient's inbox verified the drop
        assert "提出済み 3 人" in text  # the collection, through the cluster too
    assert all(s.process is not None and s.process.poll() is None for s in cluster.servers)


def test_a_killed_server_is_passed_over(cluster: Cluster) -> None:
    cluster.kill(1)
    try:
        assert cluster.servers[1].process is not None
        assert cluster.servers[1].process.poll() is not None  # it is gone
        before = [len(s.requests()) for s in cluster.servers]
        # more requests than servers: round-robin reaches the dead one at least once
        for _ in range(6):
            answer = httpx.get(f"{cluster.url}/v1/directory/head", timeout=10)
            assert answer.status_code == 200, answer.text
        logged = [s.requests()[b:] for s, b in zip(cluster.servers, before, strict=True)]
        assert logged[1] == []
        # (the directory signer's long-polls go through the balancer meanwhile too)
        heads = [r for r in logged[0] + logged[2] if r[2] == "/v1/directory/head"]
        assert len(heads) == 6
        # nginx did try it: the refused connection is in its error log, or (when the
        # signer's long-poll was on it at the kill, and nginx skipped it since) the cut one
        log = cluster.balancer.error_log.read_text(errors="replace")
        dead = f"127.0.0.1:{cluster.servers[1].port}"
        assert any(
            dead in line and ("Connection refused" in line or "prematurely closed" in line)
            for line in log.splitlines()
        ), log
    finally:
        cluster.restart(1)
    assert httpx.get(f"{cluster.servers[1].url}/v1/health", timeout=10).status_code == 200


def test_stop_leaves_no_process(tmp_path: Path) -> None:
    home = OrgHome(tmp_path / "org")
    ops.init(home, "テスト省", roots=3, threshold=2)
    ops.import_rows(home, org_rows(), OPERATOR)
    cluster = start_cluster(tmp_path / "cluster", 1, org_home=home)
    pids = [cluster.balancer.process.pid, cluster.s3.process.pid]
    pids += [s.process.pid for s in cluster.servers if s.process is not None]
    assert cluster.signer is not None
    pids.append(cluster.signer.pid)
    postmaster = cluster.postgres.folder / "data" / "postmaster.pid"
    pids.append(int(postmaster.read_text().split()[0]))
    nginx_master = int((cluster.balancer.folder / "nginx.pid").read_text())
    workers = subprocess.run(
        ["pgrep", "-P", str(nginx_master)], capture_output=True, text=True, check=False
    ).stdout.split()
    pids += [int(w) for w in workers]
    assert workers  # nginx's worker, a child of its master
    cluster.stop()
    alive = [p for p in pids if Path(f"/proc/{p}").exists() and not _zombie(p)]
    assert alive == []


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1].startswith("Z")
    except (OSError, IndexError):
        return False
