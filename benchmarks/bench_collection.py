"""Benchmark the 年末調整 collection flow (issue 17): one HR desk, N submissions.

How to run (from the repository root, after ``make setup``)::

    .venv/bin/python benchmarks/bench_collection.py --state /var/tmp/collection
    .venv/bin/python benchmarks/bench_collection.py --state /var/tmp/collection --reuse
    .venv/bin/python benchmarks/bench_collection.py --count 200      # quick, temp state

Everything runs on 127.0.0.1. The first run builds the state folder
(``benchmarks/collection_state.py``): an organisation of ``--count`` synthetic staff
(``scale_rows``) plus two desk people and the role mailbox ``nenmatsu`` (member: the
desk), one device each enrolled in one IT batch (codes in one write, signed requests,
``ops.enrol_batch``: one publish), the drop server's folder, ``secure-send-server``
started as its own process and a directory signer round (``secure-send-admin sync``),
two file requests (everyone into ``nenmatsu``; the first ``--small`` people into the
second desk, for the ratio) and the load generator: every addressee submits one file
of ``--size`` bytes (distinct per person) through the client library in this one
process — ``file_requests.submit`` (fetch and verify the request, encrypt, sign) and
``send.finish`` (create, upload, commit), each person with their own profile (test key
store) and signed requests, ``--threads`` at once, sharing one verified directory.
``--reuse`` skips all that; every run first puts the server's database, audit log and
the desks' profiles back as generated (``STATE/pristine``), so earlier runs' receipts
do not change what is measured. Without ``--state`` a temp folder is used and removed.

What is measured (the desks' profiles, the server a separate process):

* the tracking view: directory sync, ``file_requests.fetch``, ``listing.inbox``,
  ``request_status.status``; ``--opens`` times each in a fresh ``Session`` (as one CLI
  run; imports already loaded) and in one warm session (as the app), after one untimed
  open; for the desk with N submissions and the one with ``--small`` (the ratio).
  Target: p95 <= 1 s, and <= 1.5x the time with the small inbox. When missed, a
  cProfile of one open is printed.
* an idle inbox poll with nothing new (``GET /v1/inbox?wait=0&after=CURSOR``, signed,
  kept alive, ``--polls`` times, through a counting loopback relay): the server
  process's CPU (``/proc/PID/stat``) per poll beyond its own idle CPU over as long, and
  the request and response bytes. Targets: <= 1 ms, <= 1 KB.
* save all N: a child process opens the desk's session and saves every submission
  (``client.save_all.save_all``), decryption, hashing, fsync and receipts included; its
  peak RSS
  (``VmHWM``). Targets: <= 3 min, >= 5.5 MB/s of plaintext, <= 250 MB. The saved files
  are checked afterwards (count, size, content) and deleted.
* the load generator's rate (submissions/s), for information.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shlex
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import benchkit  # noqa: E402
from benchmarks import collection_measure as measure  # noqa: E402
from benchmarks import collection_state as world  # noqa: E402
from benchmarks.benchkit import parse_size  # noqa: E402

MB = 10**6
OPEN_TARGET_S = 1.0
RATIO_TARGET = 1.5
SAVE_TARGET_S = 180.0
RATE_TARGET_MBS = 5.5
RSS_TARGET_MB = 250.0
POLL_CPU_TARGET_MS = 1.0
POLL_BYTES_TARGET = 1024


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def report_opens(name: str, runs: dict[str, list[measure.Open]]) -> dict[str, Any]:
    """Print p50/p95 per mode, with the slowest step; returns the figures."""
    out: dict[str, Any] = {}
    for mode, results in runs.items():
        totals = [r.total for r in results]
        steps = {
            k: benchkit.percentile([r.steps[k] for r in results], 0.5) for k in results[0].steps
        }
        p95 = benchkit.percentile(totals, 0.95)
        first = results[0]
        print(
            f"  {name}, {mode:4}: p50 {benchkit.percentile(totals, 0.5):.3f} s, p95 {p95:.3f} s"
            f"  ({first.items} inbox items, {first.submitted} submitted, {first.pending} pending)"
        )
        print("      median steps: " + ", ".join(f"{k} {v:.3f}" for k, v in steps.items()))
        out[mode] = {"p95": p95, "totals": totals, "median_steps": steps}
    return out


def check_saved(target: Path, people: list[str], size: int, expected: int) -> tuple[int, int]:
    """``expected`` files of ``size`` bytes were saved, each one person's submission (their
    hash prefix); other files (a saver's own bookkeeping) are counted, not judged."""
    heads = {hashlib.sha256(u.encode()).digest() for u in people}
    files = [p for p in target.rglob("*") if p.is_file()]
    saved = [p for p in files if p.stat().st_size == size]
    wrong = [p for p in saved if p.read_bytes()[:32] not in heads]
    if wrong or len(saved) != expected:
        raise RuntimeError(f"saved {len(saved)} files, {len(wrong)} wrong; expected {expected}")
    if len(files) > len(saved):
        print(f"  ({len(files) - len(saved)} other files in the target folder)")
    return len(saved), size * len(saved)


def run(args: argparse.Namespace, state: Path) -> dict[str, Any]:
    results: dict[str, Any] = {"command": shlex.join([sys.executable, *sys.argv])}
    print(f"command: {results['command']}")
    print(f"{os.cpu_count()} CPUs; state folder {state}", flush=True)
    if args.reuse:
        meta = world.Meta.read(state)
        print(f"reusing {meta.count} submissions of {meta.size} bytes made {meta.generated}")
    else:
        if (state / "meta.json").exists():
            raise RuntimeError(f"{state} holds a generated state: add --reuse or remove it")
        state.mkdir(parents=True, exist_ok=True)
        meta = world.generate(
            state, args.count, args.small, args.size, args.threads, lambda s: print(s, flush=True)
        )
    jobs = meta.load_submissions
    print(
        f"load generator: {jobs} submissions in {meta.load_seconds:.0f} s ="
        f" {meta.load_rate:.1f} submissions/s ({meta.load_threads} threads, one process)"
    )
    results["load"] = {"submissions": jobs, "seconds": meta.load_seconds, "rate": meta.load_rate}
    world.restore_pristine(state)
    server, url = world.start_server(state)
    try:
        world.point_desks(state, url)
        print(f"secure-send-server pid {server.pid} at {url}", flush=True)
        results |= measure_all(args, state, meta, server.pid, int(url.rsplit(":", 1)[1]))
    finally:
        benchkit.stop(server)
    return results


def measure_all(
    args: argparse.Namespace, state: Path, meta: world.Meta, pid: int, port: int
) -> dict[str, Any]:
    results: dict[str, Any] = {}
    print(f"\n== the desk's tracking view, {args.opens} opens each")
    big = measure.opens(state, world.DESK, meta.request_id, args.opens)
    small = measure.opens(state, world.DESK_SMALL, meta.small_request_id, args.opens)
    results["open"] = {
        meta.count: report_opens(f"{meta.count} submissions", big),
        meta.small: report_opens(f"{meta.small} submissions", small),
    }
    missed = False
    for mode in ("cold", "warm"):
        p95 = results["open"][meta.count][mode]["p95"]
        ratio = p95 / results["open"][meta.small][mode]["p95"]
        ok = p95 <= OPEN_TARGET_S and ratio <= RATIO_TARGET
        missed |= not ok
        print(
            f"  {mode}: p95 {p95:.3f} s (target <= {OPEN_TARGET_S:.0f} s), {ratio:.1f}x the"
            f" {meta.small}-item desk (target <= {RATIO_TARGET}x): {verdict(ok)}"
        )
    if missed:
        print(f"\n  where a cold open with {meta.count} submissions spends its time (cProfile):")
        print(measure.profile_open(state, world.DESK, meta.request_id))

    print(f"\n== idle inbox poll, nothing new, {args.polls} polls")
    desk = world.open_session(world.profile_of(state, world.DESK))
    try:
        poll = measure.idle_polls(desk, pid, port, args.polls)
    finally:
        desk.close()
    results["poll"] = poll
    cpu, wire = poll["server_cpu_ms_per_poll"], poll["request_bytes"] + poll["response_bytes"]
    print(
        f"  server CPU {cpu:.2f} ms/poll (raw {poll['server_cpu_ms_per_poll_raw']:.2f},"
        f" idle {poll['server_idle_cpu_ms_same_wall']:.0f} ms over as long;"
        f" target <= {POLL_CPU_TARGET_MS} ms): {verdict(cpu <= POLL_CPU_TARGET_MS)}"
    )
    print(
        f"  on the wire {wire:.0f} bytes/poll (request {poll['request_bytes']:.0f}, response"
        f" {poll['response_bytes']:.0f}; {poll['drops_answered']} drops in each answer;"
        f" target <= {POLL_BYTES_TARGET}): {verdict(wire <= POLL_BYTES_TARGET)}"
    )
    print(
        f"  ({poll['wall_ms_per_poll']:.1f} ms wall per poll; the client's whole idle"
        f" listing.inbox: {poll['client_listing_s']:.3f} s)"
    )

    print(f"\n== save all {meta.count} submissions", flush=True)
    target = state / "saved"
    shutil.rmtree(target, ignore_errors=True)
    try:
        save = measure.save_in_child(
            Path(__file__), state, world.DESK, meta.request_id, target, args.workers
        )
        files, size = check_saved(target, meta.people, meta.size, meta.count)
    finally:
        shutil.rmtree(target, ignore_errors=True)
    rate = size / MB / save["total_s"]
    save |= {"files": files, "bytes": size, "mb_per_s": rate}
    results["save"] = save
    print(f"  mode: {save['mode']}")
    print(
        f"  {files} files, {size / MB:.0f} MB in {save['total_s']:.1f} s (session and directory"
        f" {save['open_s']:.1f} s, saving {save['save_s']:.1f} s; whole process"
        f" {save['process_wall_s']:.1f} s)"
    )
    print(
        f"  {save['total_s']:.1f} s (target <= {SAVE_TARGET_S:.0f} s):"
        f" {verdict(save['total_s'] <= SAVE_TARGET_S)};"
        f" {rate:.2f} MB/s (target >= {RATE_TARGET_MBS}): {verdict(rate >= RATE_TARGET_MBS)}"
    )
    print(
        f"  peak RSS of the saving process {save['peak_rss_mb']:.0f} MB"
        f" (target <= {RSS_TARGET_MB:.0f} MB): {verdict(save['peak_rss_mb'] <= RSS_TARGET_MB)}"
    )
    print(f"  summary: {save['summary'][:300]}")
    return results


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "--save-child":  # see collection_measure
        print(json.dumps(measure.save_child(json.loads(sys.argv[2]))))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--count", type=int, default=5000, help="addressees = submissions")
    parser.add_argument("--small", type=int, default=50, help="the small desk's submissions")
    parser.add_argument("--size", type=parse_size, default=200_000, help="bytes per submission")
    parser.add_argument("--state", type=Path, help="keep the generated state here")
    parser.add_argument("--reuse", action="store_true", help="use --state as generated before")
    parser.add_argument("--threads", type=int, default=4, help="load generator threads")
    parser.add_argument("--opens", type=int, default=10, help="timed opens per mode")
    parser.add_argument("--polls", type=int, default=200, help="idle polls")
    parser.add_argument("--workers", type=int, default=4, help="save_all's workers")
    parser.add_argument("--workdir", help="parent of the temp state (without --state)")
    parser.add_argument("--json", type=Path, help="write the raw results here")
    args = parser.parse_args()
    if args.reuse and args.state is None:
        parser.error("--reuse needs --state")
    if not 0 < args.small <= args.count:
        parser.error("--small must be between 1 and --count")

    def on_signal(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    temp = None if args.state else Path(tempfile.mkdtemp(prefix="bench-coll-", dir=args.workdir))
    state: Path = temp if temp is not None else args.state
    started = time.perf_counter()
    try:
        results = run(args, state.resolve())
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except RuntimeError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    finally:
        if temp is not None:
            shutil.rmtree(temp, ignore_errors=True)
    print(f"\n(benchmark took {time.perf_counter() - started:.0f} s)")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
