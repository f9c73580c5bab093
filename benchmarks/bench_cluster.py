"""Benchmark the scale-out drop server: 1 vs 3 servers behind nginx, on this machine.

How to run (from the repository root, with the project installed in ``.venv``; nginx
and PostgreSQL 15 from Debian, ``scripts/system-packages.sh``)::

    .venv/bin/python benchmarks/bench_cluster.py
    .venv/bin/python benchmarks/bench_cluster.py --drops 50 --size 256M   # quicker
    .venv/bin/python benchmarks/bench_cluster.py --servers 1,3 --repeat 3

For each server count (``--servers``, default ``1,3``) a whole cluster is started
(``tests/engines/cluster.py``: PostgreSQL, SeaweedFS S3, N ``secure-send-server
--config`` processes, nginx round-robin in front, the directory signer), measured and
stopped, one after the other in the same run; everything on 127.0.0.1 in one temp
folder, removed on exit (Ctrl-C included). The servers run with their default limits
(a 50 GiB quota per person, no rate limit on signed requests): nothing measured here
reaches them.

The organisation (``--drops`` synthetic people, ``ops.init`` + ``ops.import_rows``)
is enrolled once, on IT's side in one batch (``collection_state.enrol_all``), before
the first cluster starts: every cluster's servers get that directory.

What is measured, per cluster:

1. ``--drops`` concurrent small drops (default 200, ``--drop-size`` 10 KiB). Each
   drop is one person's send with the real client library, to one colleague: each
   has its own profile and ``Session`` (so its own connections) and one thread of
   this process. ``send.prepare`` (encrypt, sign) runs for all first, untimed; then
   the threads are released together and each runs ``send.finish``: create the
   drop, upload its two blobs (the encrypted metadata and the file: ``POST
   /v1/uploads``, ``HEAD``, ``PATCH`` each), commit — 8 signed requests through the
   balancer. Reported: p50/p99/max latency of ``finish``, drops/s (successes over
   the burst's wall clock), errors (count and kinds), and the CPU seconds each part
   spent during the burst. The load generator is threads under one GIL: its CPU
   seconds over the wall clock say whether it was the limit (near 1.0 = one core
   busy = it was).
2. One ``--size`` file (default 1 GiB) through the balancer with the real client:
   ``send.prepare`` (the client's encryption pass: it encrypts once to learn the
   ciphertext's hash and size), then ``send.finish`` (it encrypts again while the
   one tus PATCH streams, ``client/blob_source.py``), timed. MiB/s = ciphertext
   bytes / ``finish`` seconds. References in the same run, right after it: the same
   bytes PUT to nginx (``dav_methods PUT``, as ``bench_server.py``: nginx reads the
   whole body into a file), and a raw multipart PUT of them to the same SeaweedFS
   with boto3 (8 MiB parts as our server writes them, one at a time, and boto3's
   ten in flight: the storage's ceiling). The peak RSS (``VmHWM``, reset before)
   of the server that took the upload, i.e. the largest of the servers', beside
   its RSS just before. With ``--repeat N`` the rates are the median round's (the
   ratios are of those medians) and the RSS the highest round's.

MiB = 2**20 bytes. The table at the end puts the clusters side by side. Every part
shares this machine's cores (and so does any other work on it: the table shows how
much CPU went elsewhere during the burst); more servers can only help where there
are idle cores for them.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime as dt
import json
import os
import shlex
import shutil
import signal
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("SECURE_SEND_TEST_KEYSTORE", "1")  # profiles' keys in plain files
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import benchkit, cluster_measure  # noqa: E402
from benchmarks.bench_server import nginx_delete, nginx_put  # noqa: E402
from benchmarks.cluster_report import print_table  # noqa: E402
from benchmarks.collection_state import DEVICE, enrol_all  # noqa: E402
from secure_send.client import send as sending  # noqa: E402
from secure_send.client.directory_sync import Directory  # noqa: E402
from secure_send.client.errors import ServerError  # noqa: E402
from secure_send.client.keystore import FileKeyStore  # noqa: E402
from secure_send.client.profile import DeviceIdentity, OrgConfig, Profile  # noqa: E402
from secure_send.client.session import Session  # noqa: E402
from secure_send.core.directory.enrol import DeviceKeys  # noqa: E402
from secure_send.core.envelope.manifest import SignedManifest  # noqa: E402
from secure_send.org import ops  # noqa: E402
from secure_send.org.demo_org import scale_rows  # noqa: E402
from secure_send.org.home import OrgHome  # noqa: E402
from tests.engines.cluster import Cluster, start_cluster  # noqa: E402

MiB = 1 << 20
OPERATOR = "bench"
EXPIRES = dt.timedelta(days=1)
RAW_BUCKET = "bench-raw"
RATES = ("ours_mib_s", "encrypt_mib_s", "nginx_mib_s", "s3_seq_mib_s", "s3_par_mib_s")


def open_sender(folder: Path, org: OrgConfig, user: str, keys: DeviceKeys) -> Session:
    """A profile as enrolment leaves it (organisation config, identity, keys), opened."""
    profile = Profile(folder)
    profile.ensure()
    me = DeviceIdentity(user, DEVICE)
    store = FileKeyStore(profile)
    store.save(me, keys)
    profile.write_json(profile.config_file, org.to_json())
    profile.write_json(profile.identity_file, me.to_json())
    return Session.open(profile, store)


def error_kind(err: BaseException) -> str:
    """What went wrong, without the message (counted per kind)."""
    if isinstance(err, ServerError):
        return f"ServerError {err.status} {err.code}"
    code = getattr(err, "code", None)
    return f"{type(err).__name__} {code}" if code is not None else type(err).__name__


def burst(
    cluster: Cluster, sessions: list[Session], directory: Directory, size: int
) -> dict[str, Any]:
    """Section 1: every session sends one small drop, all released together."""
    pending = []
    for i, session in enumerate(sessions):
        paper = session.profile.path / "memo.bin"
        paper.write_bytes(os.urandom(size))
        to = sessions[(i + 1) % len(sessions)].me.user
        files = sending.collect([paper])
        pending.append(sending.prepare(session, directory, files, [to], expires=EXPIRES))
    barrier = threading.Barrier(len(sessions))

    def one(i: int) -> float:
        barrier.wait()
        start = time.perf_counter()
        sending.finish(sessions[i], pending[i])
        return time.perf_counter() - start

    meter = cluster_measure.CpuMeter(cluster_measure.cluster_parts(cluster))
    latencies: list[float] = []
    errors: dict[str, int] = {}
    logged = [len(s.requests()) for s in cluster.servers]
    meter.start()
    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(sessions)) as pool:
        for fut in [pool.submit(one, i) for i in range(len(sessions))]:
            try:
                latencies.append(fut.result())
            except Exception as err:  # counted and reported by kind
                kind = error_kind(err)
                errors[kind] = errors.get(kind, 0) + 1
    wall = time.perf_counter() - start
    cpu = meter.stop()
    # round-robin at work: the requests each server logged during the burst
    shares = [len(s.requests()) - n for s, n in zip(cluster.servers, logged, strict=True)]
    nan = float("nan")
    return {
        "drops": len(sessions),
        "ok": len(latencies),
        "errors": errors,
        "p50_s": benchkit.percentile(latencies, 0.5) if latencies else nan,
        "p99_s": benchkit.percentile(latencies, 0.99) if latencies else nan,
        "min_s": min(latencies, default=nan),
        "max_s": max(latencies, default=nan),
        "requests_per_server": shares,
        "wall_s": wall,
        "drops_per_s": len(latencies) / wall,
        "cpu_s": cpu,
    }


def big_upload(
    cluster: Cluster, session: Session, directory: Directory, to: str, path: Path
) -> dict[str, Any]:
    """Section 2, ours: one file through the balancer with the real client."""
    start = time.perf_counter()
    pending = sending.prepare(session, directory, sending.collect([path]), [to], expires=EXPIRES)
    prepare_s = time.perf_counter() - start
    blobs = SignedManifest.from_json(pending.manifest).manifest.blobs
    ciphertext = sum(b.size for b in blobs)
    pids = [s.process.pid for s in cluster.servers if s.process is not None]
    rss_before = {pid: cluster_measure.rss(pid) for pid in pids}
    reset = all([cluster_measure.reset_peak_rss(pid) for pid in pids])
    client = cluster_measure.CpuMeter({})
    client.start()
    start = time.perf_counter()
    sending.finish(session, pending)
    finish_s = time.perf_counter() - start
    client_cpu_s = client.stop()["load generator"]
    peaks = {pid: cluster_measure.peak_rss(pid) for pid in pids}
    took = max(peaks, key=lambda pid: peaks[pid])
    return {
        "ciphertext_bytes": ciphertext,
        "prepare_s": prepare_s,
        "finish_s": finish_s,
        "client_cpu_s": client_cpu_s,  # encrypting, hashing, sending (this process)
        "ours_mib_s": ciphertext / MiB / finish_s,
        "encrypt_mib_s": path.stat().st_size / MiB / prepare_s,
        "peak_rss_bytes": peaks[took],
        "peak_rss_reset": reset,
        "rss_before_bytes": rss_before[took],
        "server_index": pids.index(took),
    }


def references(cluster: Cluster, nginx_port: int, path: Path) -> dict[str, float]:
    """Section 2, the references: nginx's PUT and SeaweedFS's own multipart PUT."""
    size = path.stat().st_size
    start = time.perf_counter()
    nginx_put(nginx_port, path, size)
    nginx_s = time.perf_counter() - start
    nginx_delete(nginx_port)
    client = cluster.s3.client()
    seq = cluster_measure.raw_s3_put(client, RAW_BUCKET, path, 8 * MiB, 1)
    par = cluster_measure.raw_s3_put(client, RAW_BUCKET, path, 8 * MiB, 10)
    return {
        "nginx_mib_s": size / MiB / nginx_s,
        "s3_seq_mib_s": size / MiB / seq,
        "s3_par_mib_s": size / MiB / par,
    }


def run_cluster(
    count: int, home: OrgHome, keys: dict[str, DeviceKeys], args: argparse.Namespace, tmp: Path
) -> dict[str, Any]:
    """Start a cluster of ``count`` servers, measure both sections, stop it."""
    folder = tmp / f"cluster-{count}"
    start = time.perf_counter()
    cluster = start_cluster(folder / "engines", count, org_home=home)
    started_s = time.perf_counter() - start
    say(f"\n== {count} server(s): cluster up in {started_s:.1f} s at {cluster.url}")
    sessions: list[Session] = []
    try:
        cluster.s3.create_bucket(RAW_BUCKET)  # beside the servers' own, for the raw PUTs
        org = OrgConfig.from_json(ops.client_config(home, cluster.url))
        users = list(keys)
        for user in users:
            sessions.append(open_sender(folder / "profiles" / user, org, user, keys[user]))
        directory = sessions[0].directory()  # one verified directory, shared read-only
        directory.by_id()  # (bindings checked once, before the threads share it)
        drops = burst(cluster, sessions, directory, args.drop_size)
        say(f"  {drops['ok']}/{drops['drops']} drops, {drops['drops_per_s']:.1f}/s")
        rounds = []
        for _ in range(args.repeat):
            ours = big_upload(cluster, sessions[0], directory, users[1], args.big_file)
            ref = references(cluster, args.nginx_port, args.big_file)
            say(
                f"  {args.size / MiB:.0f} MiB: ours {ours['ours_mib_s']:.0f} MiB/s, nginx "
                f"{ref['nginx_mib_s']:.0f}, raw S3 {ref['s3_seq_mib_s']:.0f} / "
                f"{ref['s3_par_mib_s']:.0f} MiB/s"
            )
            rounds.append({**ours, **ref})
    finally:
        for session in sessions:
            session.close()
        cluster.stop()
        shutil.rmtree(folder, ignore_errors=True)
    # rates: the median round; memory: the round whose server peaked highest
    upload = dict(max(rounds, key=lambda r: r["peak_rss_bytes"]))
    upload.update({k: statistics.median(r[k] for r in rounds) for k in RATES})
    upload["peak_rss_reset"] = all(r["peak_rss_reset"] for r in rounds)
    upload["rounds"] = rounds
    return {"servers": count, "start_s": started_s, "drops": drops, "upload": upload}


def say(line: str) -> None:
    print(line, flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--servers", default="1,3", help="server counts to compare (1,3)")
    parser.add_argument("--drops", type=int, default=200, help="concurrent small drops")
    parser.add_argument("--drop-size", type=benchkit.parse_size, default=10 * 1024)
    parser.add_argument("--size", type=benchkit.parse_size, default=1 << 30, help="big file")
    parser.add_argument("--repeat", type=int, default=1, help="big-file rounds per cluster")
    parser.add_argument("--workdir", help="parent of the temp dir (default: system temp)")
    parser.add_argument("--json", type=Path, help="write raw results here")
    args = parser.parse_args()
    counts = [int(c) for c in args.servers.split(",")]
    if args.drops < 2 or args.repeat < 1 or min(counts) < 1:
        parser.error("--drops needs at least 2, --repeat and --servers at least 1")

    def on_signal(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    tmp = Path(tempfile.mkdtemp(prefix="bench-cluster-", dir=args.workdir))
    nginx: Any = None
    results: list[dict[str, Any]] = []
    say(f"command: {shlex.join([Path(sys.executable).name, *sys.argv])}")
    say(f"{os.cpu_count()} CPUs; every part of every cluster on this machine")
    try:
        home = OrgHome(tmp / "org")
        ops.init(home, "ベンチ省")
        ops.import_rows(home, scale_rows(args.drops), OPERATOR)
        start = time.perf_counter()
        keys = enrol_all(home, [r.id for r in scale_rows(args.drops)])
        say(f"{len(keys)} people enrolled in one IT batch in {time.perf_counter() - start:.1f} s")
        args.big_file = tmp / "big.bin"
        benchkit.random_file(args.big_file, args.size)
        nginx, args.nginx_port = benchkit.start_nginx(tmp / "nginx")
        for count in counts:
            results.append(run_cluster(count, home, keys, args, tmp))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        if nginx is not None:
            benchkit.stop(nginx)
        shutil.rmtree(tmp, ignore_errors=True)
    print_table(results, args.drops, args.drop_size, args.size)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
