"""Benchmark: the directory traffic of a ministry's desktops, before and after sync by the log.

How to run (from the repository root, after ``make setup``)::

    .venv/bin/python benchmarks/bench_directory_traffic.py            # 5,000 people, 1 hour
    .venv/bin/python benchmarks/bench_directory_traffic.py --people 500 --clients 500  # quick

Everything runs on 127.0.0.1: a throw-away organisation home with ``--people``
people (``scale_rows``), the real drop server (``secure-send-server``) and the
directory signer. Every person enrols one device through ``POST /v1/enrol`` (so
the directory has the size a ministry's has), then the signer subprocess stops and
the simulation runs the signer in this process, one round per change.

The simulation replays ``--hours`` of a working day, compressed: ``--clients``
desktops each refresh every ``--interval`` seconds (staggered evenly), and
``--changes`` directory changes an hour (people departing, spread evenly) are
made by IT (``ops.change``) and pushed by the signer at their moment. Every refresh
is a real HTTP request the way the client sends it (``GET
/v1/directory/sync?from=N`` with ``If-None-Match``: ``304``, or the log's events
since N); a client that got a sync answer advances to its log size. Bytes are
counted on the wire as HTTP/1.1 carries them (request line, headers, body; the
same for the answer). "Before" is the old behaviour, measured the same way: a
full ``GET /v1/directory`` per refresh.

Target (issue "The directory syncs by its changes"): a refresh with no change is
<= 1 KB on the wire; the table gives bytes/s for both behaviours. The client's CPU
for one refresh with no change is in ``bench_directory.py``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

os.environ["SECURE_SEND_TEST_KEYSTORE"] = "1"
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import bench_enrol  # noqa: E402
from secure_send.client import directory_sync  # noqa: E402
from secure_send.client.api import ServerApi  # noqa: E402
from secure_send.client.enrolment import enrol  # noqa: E402
from secure_send.client.keystore import FileKeyStore  # noqa: E402
from secure_send.client.profile import OrgConfig, Profile  # noqa: E402
from secure_send.core.directory.bundle import Bundle  # noqa: E402
from secure_send.core.directory.log import Action  # noqa: E402
from secure_send.org import ops, signer  # noqa: E402
from secure_send.org.demo_org import scale_rows  # noqa: E402


def wire_bytes(response: httpx.Response) -> tuple[int, int]:
    """(request, response) bytes as HTTP/1.1 puts them on the wire."""
    req = response.request
    sent = len(f"{req.method} {req.url.raw_path.decode()} HTTP/1.1\r\n")
    sent += sum(len(k) + len(v) + 4 for k, v in req.headers.raw) + 2 + len(req.content)
    got = len(f"HTTP/1.1 {response.status_code} {response.reason_phrase}\r\n")
    got += sum(len(k) + len(v) + 4 for k, v in response.headers.raw) + 2
    return sent, got + len(response.content)


class Client:
    """One desktop's directory state: its log size and the snapshot it holds."""

    def __init__(self, log_size: int, etag: str) -> None:
        self.log_size = log_size
        self.etag = etag

    def refresh(self, http: httpx.Client) -> tuple[int, int, int]:
        """One refresh as the client makes it; (status, request bytes, response bytes)."""
        answer = http.get(
            f"/v1/directory/sync?from={self.log_size}", headers={"If-None-Match": self.etag}
        )
        if answer.status_code == 200:
            header = Bundle.peek_header(answer.content)  # the head line is a bundle's
            self.log_size = header.log_size
            self.etag = answer.headers["ETag"]
        elif answer.status_code != 304:
            raise RuntimeError(f"sync answered {answer.status_code}")
        return (answer.status_code, *wire_bytes(answer))


def enrol_everyone(org: bench_enrol.Stack, threads: int) -> float:
    """Every person enrols one device through the server; returns the seconds."""
    started = time.perf_counter()
    requests = bench_enrol.make_requests(org, org.people)
    tickets = bench_enrol.post_all(org.url, requests, threads)
    statuses = bench_enrol.await_all(org.url, tickets)
    if statuses.get("enrolled", 0) != len(org.people):
        raise RuntimeError(f"not all enrolled: {statuses}")
    return time.perf_counter() - started


def client_refresh(org: bench_enrol.Stack, rounds: int = 200) -> tuple[float, float]:
    """Median (CPU, wall) seconds of the real client's refresh when nothing changed:
    ``directory_sync.sync`` with the last result, as the app calls it every 5 minutes."""
    user = org.people[0]  # the simulation's departures start from the other end
    code = bench_enrol.issue_codes(org.home, [user])[user]
    config = OrgConfig.from_json(ops.client_config(org.home, org.url))
    profile = Profile(org.work / "client")
    enrol(profile, config, user, code, device_id="bench", store=FileKeyStore(profile))
    api = ServerApi(org.url)
    current = directory_sync.sync(profile, config, api)
    cpu, wall = [], []
    for _ in range(rounds):
        c0, w0 = time.process_time(), time.perf_counter()
        again = directory_sync.sync(profile, config, api, current)
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
        if again.verified is not current.verified:
            raise RuntimeError("an unchanged directory was loaded again")
    return statistics.median(cpu), statistics.median(wall)


def simulate(org: bench_enrol.Stack, args: argparse.Namespace) -> dict[str, float]:
    """Replay the hours; returns totals."""
    duration = args.hours * 3600.0
    changes = [(k + 0.5) * 3600.0 / args.changes for k in range(int(args.changes * args.hours))]
    leaving = iter(org.people[::-1])
    polls = sorted(
        (c * args.interval / args.clients + r * args.interval, c)
        for c in range(args.clients)
        for r in range(int(duration // args.interval))
    )
    directory_signer = signer.DirectorySigner(org.home, org.url, batch_window=0)
    totals = {"refreshes": 0.0, "not_modified": 0.0, "sent": 0.0, "received": 0.0}
    sizes: list[int] = []
    with httpx.Client(base_url=org.url, timeout=60) as http:
        full = http.get("/v1/directory")  # what every client holds at the start
        before_sent, before_got = wire_bytes(full)
        size = Bundle.peek_header(full.content).log_size
        clients = [Client(size, full.headers["ETag"]) for _ in range(args.clients)]
        i = 0
        with ThreadPoolExecutor(args.threads) as pool:
            for when in [*changes, duration]:
                batch = []
                while i < len(polls) and polls[i][0] < when:
                    batch.append(clients[polls[i][1]])
                    i += 1
                for status, sent, got in pool.map(lambda c: c.refresh(http), batch):
                    totals["refreshes"] += 1
                    totals["not_modified"] += status == 304
                    totals["sent"] += sent
                    totals["received"] += got
                    sizes.append(sent + got)
                if when < duration:
                    ops.change(org.home, "bench", Action.DEPART, {"user": next(leaving)})
                    directory_signer.run_once()
    directory_signer.close()
    per_refresh_before = before_sent + before_got
    return {
        **totals,
        "seconds": duration,
        "bundle_bytes": float(len(full.content)),
        "before_per_s": per_refresh_before * totals["refreshes"] / duration,
        "after_per_s": (totals["sent"] + totals["received"]) / duration,
        "median_refresh": float(statistics.median(sizes)),
        "max_refresh": float(max(sizes)),
        "not_modified_bytes": float(_not_modified_size(org)),
    }


def _not_modified_size(org: bench_enrol.Stack) -> int:
    with httpx.Client(base_url=org.url, timeout=60) as http:
        latest = http.get("/v1/directory")
        client = Client(Bundle.peek_header(latest.content).log_size, latest.headers["ETag"])
        status, sent, got = client.refresh(http)
        if status != 304:
            raise RuntimeError("an unchanged directory did not answer 304")
        return sent + got


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=5000)
    parser.add_argument("--clients", type=int, default=5000)
    parser.add_argument("--hours", type=float, default=1.0)
    parser.add_argument("--interval", type=float, default=300.0, help="seconds between refreshes")
    parser.add_argument("--changes", type=float, default=20.0, help="directory changes an hour")
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rows = scale_rows(args.people)
        with bench_enrol.stack(Path(tmp), "traffic", rows) as org:
            took = enrol_everyone(org, args.threads)
            print(f"{len(org.people)} people enrolled one device each in {took:.0f} s")
            cpu, wall = client_refresh(org)
            org.stop_signer()
            started = time.perf_counter()
            r = simulate(org, args)
            print(f"simulated {args.hours:g} h in {time.perf_counter() - started:.0f} s\n")
    print(f"directory: {len(rows)} entries, whole bundle {r['bundle_bytes'] / 1e6:.2f} MB")
    print(
        f"{args.clients} clients refreshing every {args.interval:g} s, "
        f"{args.changes:g} changes an hour: {r['refreshes']:.0f} refreshes, "
        f"{r['not_modified']:.0f} answered 304"
    )
    print(f"refresh with no change: {r['not_modified_bytes']:.0f} bytes on the wire (<= 1 KB)")
    print(
        f"client refresh with no change (directory_sync.sync): {cpu * 1e3:.2f} ms CPU, "
        f"{wall * 1e3:.2f} ms wall (median of 200; target <= 5 ms CPU)"
    )
    print(f"refresh, median {r['median_refresh']:.0f} B, largest {r['max_refresh']:.0f} B")
    print(f"before (whole directory each time): {r['before_per_s'] / 1e6:8.2f} MB/s")
    print(f"after (sync by the log):            {r['after_per_s'] / 1e3:8.2f} kB/s")
    print(f"ratio before/after: {r['before_per_s'] / r['after_per_s']:.0f}x")


if __name__ == "__main__":
    main()
