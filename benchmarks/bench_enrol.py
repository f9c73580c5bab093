"""Benchmark enrolment through the directory signer: latency, throughput, round cost.

How to run (from the repository root, after ``make setup``)::

    .venv/bin/python benchmarks/bench_enrol.py                       # 5,000 and 100,000
    .venv/bin/python benchmarks/bench_enrol.py --sizes 2000 --requests 200   # quick

Everything runs on 127.0.0.1 only. For each organisation size the script makes a
throw-away organisation home (``ops.init`` + ``ops.import_rows``), the drop
server's own folder beside it (``write_server_home``), and starts
``secure-send-server --home S --listen 127.0.0.1:PORT`` and the directory signer
(``secure-send-admin --home H signer --server URL --poll 0.5``) as subprocesses.
Temp dirs and processes are removed on exit, Ctrl-C included.

What is measured:

a. Latency, at the demo size (``demo_rows()``, ~200 entries): ``--enrolments``
   people enrol one after the other through the real client
   (``secure_send.client.enrolment.enrol``, each in its own profile with the file
   key store, ``SECURE_SEND_TEST_KEYSTORE=1``): time from calling ``enrol()`` until
   it returns ``"enrolled"`` (request queued, signer round, push, the client's
   verified directory lists the device). Codes are issued before the clock.
   Reported p50/p95/max. Target: p95 <= 5 s.
b. Throughput, at each ``--sizes`` (``scale_rows(n)``): ``--requests`` enrolment
   requests (keys, codes and signed requests made beforehand) are posted
   (``POST /v1/enrol``) from ``--threads`` threads; the clock runs from the first
   post until every ticket is final (``GET /v1/enrol/{ticket}``: ``enrolled`` is
   recorded only with the push that put the device into the server's directory).
   Reported: enrolments per minute and the signer's rounds. Target: >= 1,000/min
   at 100,000 entries. Codes are written in one batch the way ``ops.issue_code``
   writes them (one call replays the directory, so 2,000 calls at 100,000 entries
   would take hours); the cost of one real ``ops.issue_code`` call is shown.
c. One signer round at each size, in this process (the signer subprocess stopped
   first): one enrolment request queued, then ``DirectorySigner.run_once``; the
   median of ``--rounds`` rounds, broken down into log append, publish (sign and
   write the snapshot), building the push, the push's round trip (the server's
   verify-and-store), and the rest (queue, decisions, state).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

os.environ["SECURE_SEND_TEST_KEYSTORE"] = "1"
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import benchkit  # noqa: E402
from secure_send.client import api as client_api  # noqa: E402
from secure_send.client.enrolment import enrol  # noqa: E402
from secure_send.client.keystore import FileKeyStore  # noqa: E402
from secure_send.client.profile import OrgConfig, Profile  # noqa: E402
from secure_send.core.directory.enrol import (  # noqa: E402
    CODE_LIFETIME,
    DeviceKeys,
    code_mac_key,
    make_request,
    new_code,
)
from secure_send.core.encoding import format_time, utc_now  # noqa: E402
from secure_send.org import ops, signer  # noqa: E402
from secure_send.org.demo_org import demo_rows, scale_rows  # noqa: E402
from secure_send.org.home import OrgHome, write_json  # noqa: E402
from secure_send.org.importing import ImportRow  # noqa: E402

BIN = Path(sys.executable).parent
LATENCY_TARGET_S = 5.0
RATE_TARGET = 1000.0  # enrolments per minute at 100,000 entries
ROUND_RE = re.compile(r"signer round: \{'requests': (\d+).*'seconds': ([\d.]+)\}")


class Stack:
    """One organisation, its server folder, server and signer; cleaned up on close."""

    def __init__(self, work: Path, rows: list[ImportRow]) -> None:
        self.work = work
        self.home = OrgHome(work / "org")
        ops.init(self.home, "ベンチ省")
        started = time.perf_counter()
        ops.import_rows(self.home, rows, "bench")
        self.import_s = time.perf_counter() - started
        self.people = [r.id for r in rows if r.kind == "person"]
        folder = benchkit.server_folder(self.home, work / "server")
        self.server, self.url = benchkit.start_server(BIN, folder, work / "server.log")
        self.signer: Any = None
        self.start_signer()

    def start_signer(self) -> None:
        self.signer = benchkit.start_signer(BIN, self.home.path, self.url, self.signer_log)

    @property
    def signer_log(self) -> Path:
        return self.work / "signer.log"

    def stop_signer(self) -> None:
        if self.signer is not None:
            benchkit.stop(self.signer)
            self.signer = None

    def close(self) -> None:
        self.stop_signer()
        benchkit.stop(self.server)


@contextlib.contextmanager
def stack(parent: Path, name: str, rows: list[ImportRow]) -> Iterator[Stack]:
    """A :class:`Stack` in ``parent/name``, removed afterwards."""
    work = parent / name
    work.mkdir()
    made = Stack(work, rows)
    try:
        yield made
    finally:
        made.close()
        shutil.rmtree(work, ignore_errors=True)


def issue_codes(home: OrgHome, users: list[str]) -> dict[str, str]:
    """One code per user, stored as ``ops.issue_code`` stores them, in one write."""
    now = utc_now()
    expires = format_time(now + CODE_LIFETIME)
    codes = {user: new_code() for user in users}
    with home.locked():
        # ops has no batch issue; same file format as ops.issue_code writes
        records = [c.to_json() for c in ops._codes(home)]
        records += [
            ops.CodeRecord(code_mac_key(code), user, expires).to_json()
            for user, code in codes.items()
        ]
        write_json(home.codes_file, records)
    return codes


# ---------------------------------------------------------------- a. latency


def latency(parent: Path, count: int) -> dict[str, Any]:
    """``count`` sequential enrolments through the real client at the demo size."""
    rows = demo_rows()
    with stack(parent, "latency", rows) as org:
        users = org.people[:count]
        codes = issue_codes(org.home, users)
        config = OrgConfig.from_json(ops.client_config(org.home, org.url))
        times = []
        for user in users:
            profile = Profile(org.work / "profiles" / user)
            started = time.perf_counter()
            _, status = enrol(
                profile, config, user, codes[user], device_id="pc", store=FileKeyStore(profile)
            )
            times.append(time.perf_counter() - started)
            if status != "enrolled":
                raise RuntimeError(f"enrol {user}: {status}")
    return {
        "entries": len(rows),
        "count": len(times),
        "p50": statistics.median(times),
        "p95": benchkit.percentile(times, 0.95),
        "max": max(times),
    }


# ---------------------------------------------------------------- b. throughput


def make_requests(org: Stack, users: list[str]) -> list[dict[str, Any]]:
    """Signed enrolment requests (JSON) for ``users``, codes issued, none sent."""
    started = time.perf_counter()
    codes = issue_codes(org.home, users)
    if len(users) > 1:
        took = time.perf_counter() - started
        print(f"    {len(users)} codes issued in one write in {took:.1f} s")
    now = utc_now()
    return [
        make_request(DeviceKeys.generate(), user, "pc", "bench", codes[user], now).to_json()
        for user in users
    ]


def post_all(url: str, requests: list[dict[str, Any]], threads: int) -> list[str]:
    """POST every request from ``threads`` threads; returns the tickets in order."""
    with httpx.Client(base_url=url, timeout=60) as http:

        def post(request: dict[str, Any]) -> str:
            answer = http.post("/v1/enrol", json=request)
            answer.raise_for_status()
            return str(answer.json()["ticket"])

        with ThreadPoolExecutor(threads) as pool:
            return list(pool.map(post, requests))


def await_all(url: str, tickets: list[str]) -> dict[str, int]:
    """Long-poll each ticket in queue order until final; counts by final status (the
    signer decides in queue order, so most polls answer at once)."""
    statuses: dict[str, int] = defaultdict(int)
    with httpx.Client(base_url=url, timeout=60) as http:
        for ticket in tickets:
            while True:
                answer = http.get(f"/v1/enrol/{ticket}", params={"wait": 25}).json()
                if answer["status"] != "queued":
                    statuses[answer["status"]] += 1
                    break
    return dict(statuses)


def signer_rounds(log: Path) -> list[tuple[int, float]]:
    """(requests, seconds) of each round the signer subprocess logged."""
    text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
    return [(int(n), float(s)) for n, s in ROUND_RE.findall(text)]


def throughput(org: Stack, count: int, threads: int) -> dict[str, Any]:
    """``count`` concurrent enrolment requests until all are final."""
    started = time.perf_counter()
    ops.issue_code(org.home, org.people[-1])
    one_code = time.perf_counter() - started
    requests = make_requests(org, org.people[:count])
    started = time.perf_counter()
    tickets = post_all(org.url, requests, threads)
    posted = time.perf_counter() - started
    statuses = await_all(org.url, tickets)
    elapsed = time.perf_counter() - started
    if statuses.get("enrolled", 0) != count:
        raise RuntimeError(f"not all enrolled: {statuses}")
    rounds = [r for r in signer_rounds(org.signer_log) if r[0]]
    return {
        "requests": count,
        "posted_s": posted,
        "seconds": elapsed,
        "per_minute": count / elapsed * 60,
        "rounds": len(rounds),
        "round_max_s": max((s for _, s in rounds), default=0.0),
        "issue_code_s": one_code,
    }


# ---------------------------------------------------------------- c. one round


class Timers:
    """Wraps methods to add up their wall time by label while installed."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = defaultdict(float)
        self._undo: list[Callable[[], None]] = []

    def wrap(
        self, owner: Any, name: str, label: str, when: Callable[..., bool] | None = None
    ) -> None:
        original = getattr(owner, name)

        @functools.wraps(original)
        def timed(*args: Any, **kw: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(*args, **kw)
            finally:
                if when is None or when(*args, **kw):
                    self.spent[label] += time.perf_counter() - started

        setattr(owner, name, timed)
        self._undo.append(lambda: setattr(owner, name, original))

    def remove(self) -> None:
        for undo in reversed(self._undo):
            undo()


def _is_push(_self: Any, method: str, path: str, *_a: Any, **_k: Any) -> bool:
    return path == "/v1/signer/push"


def install_timers() -> Timers:
    timers = Timers()
    timers.wrap(OrgHome, "append_all", "append")
    timers.wrap(OrgHome, "publish", "publish")
    timers.wrap(ops, "enrol_batch", "decide")
    timers.wrap(signer.DirectorySigner, "_make_push", "build push")
    timers.wrap(client_api.ServerApi, "request", "push (server accept)", _is_push)
    return timers


def one_round(org: Stack, user: str) -> dict[str, float]:
    """Queue one request for ``user`` and time one in-process signer round."""
    request = make_requests(org, [user])[0]
    post_all(org.url, [request], 1)
    directory_signer = signer.DirectorySigner(org.home, org.url, batch_window=0)
    timers = install_timers()
    try:
        report = directory_signer.run_once(wait=5)
    finally:
        timers.remove()
        directory_signer.close()
    if report.enrolled != 1:
        raise RuntimeError(f"round did not enrol: {report}")
    spent = dict(timers.spent)
    spent["decide"] -= spent.get("append", 0.0) + spent.get("publish", 0.0)
    spent["total"] = report.seconds
    spent["other"] = report.seconds - sum(v for k, v in spent.items() if k != "total")
    return spent


def rounds(org: Stack, count: int, users: list[str]) -> dict[str, float]:
    org.stop_signer()
    samples = [one_round(org, user) for user in users[:count]]
    return {k: statistics.median(s[k] for s in samples) for k in samples[0]}


# ---------------------------------------------------------------- report


def show_size(size: int, imported: float, rate: dict[str, Any], cost: dict[str, float]) -> None:
    verdict = ""
    if size >= 100_000:
        verdict = "  PASS" if rate["per_minute"] >= RATE_TARGET else "  FAIL"
    print(
        f"  {size:>7} entries (import {imported:.1f} s): {rate['requests']} requests "
        f"posted in {rate['posted_s']:.1f} s, all enrolled after {rate['seconds']:.1f} s "
        f"= {rate['per_minute']:,.0f}/min{verdict} ({rate['rounds']} signer rounds, "
        f"longest {rate['round_max_s']:.2f} s); one ops.issue_code: {rate['issue_code_s']:.2f} s"
    )
    parts = ["decide", "append", "publish", "build push", "push (server accept)", "other"]
    cells = "  ".join(f"{p} {cost.get(p, 0.0):.3f}" for p in parts)
    print(f"    one round (1 enrolment) {cost['total']:.3f} s: {cells}")


def run(args: argparse.Namespace, work: Path) -> None:
    if args.enrolments:
        print(f"== a. latency: {args.enrolments} sequential enrolments, demo organisation")
        lat = latency(work, args.enrolments)
        verdict = "PASS" if lat["p95"] <= LATENCY_TARGET_S else "FAIL"
        print(
            f"  {lat['entries']} entries: p50 {lat['p50']:.2f} s, p95 {lat['p95']:.2f} s, "
            f"max {lat['max']:.2f} s  (target p95 <= {LATENCY_TARGET_S:g} s: {verdict})"
        )
    print(f"\n== b./c. throughput ({args.requests} requests, {args.threads} threads), rounds")
    for size in args.sizes:
        with stack(work, f"org-{size}", scale_rows(size)) as org:
            if len(org.people) < args.requests + args.rounds:
                raise SystemExit(f"{size} entries: too few people for --requests")
            rate = throughput(org, args.requests, args.threads)
            cost = rounds(org, args.rounds, org.people[args.requests :])
            show_size(size, org.import_s, rate, cost)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        type=lambda s: [int(x) for x in s.split(",")],
        default=[5_000, 100_000],
        help="organisation sizes for b. and c. (default 5000,100000)",
    )
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=32)
    parser.add_argument("--enrolments", type=int, default=20, help="for a.; 0 skips it")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workdir", help="parent of the temp dir (default: system temp)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-enrol-", dir=args.workdir))
    try:
        run(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
