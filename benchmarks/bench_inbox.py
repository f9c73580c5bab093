"""Benchmark the inbox at scale (issue 17, item 4): a desk with 50 and with 5,000 drops.

How to run (from the repository root, after ``make setup``)::

    .venv/bin/python benchmarks/bench_inbox.py                  # 50 and 5,000 drops
    .venv/bin/python benchmarks/bench_inbox.py --sizes 50 1000 --opens 5 --polls 100

Setup (not timed): a throw-away organisation of 20 synthetic people
(``org.demo_org.scale_rows``), ``secure-send-server`` on 127.0.0.1 as a subprocess
from its own folder, the directory signer while two people enrol through the real
CLI (``SECURE_SEND_TEST_KEYSTORE=1``): the desk and a sender; the signer is stopped
before timing. The drops are made in this process: real manifests signed by the
sender's own device over its verified directory (what ``send`` signs, so the desk
verifies them), stored through a ``DropStore`` over the server's database and
committed (``tests/client/inbox_kit.py``); their ciphertext is not uploaded (a listing
never reads it).

What is measured, for each size:

1. Opening the inbox (``listing.inbox``, what the app, the CLI and the demo call),
   ``--opens`` times each; the desk's session and verified directory are opened
   fresh for each open (new process state):
   - cold: the kept inbox (``inbox-cache.json``) deleted first: every page read and
     every manifest verified;
   - warm: the kept inbox present: one page with nothing after the cursor, each
     item re-judged against the directory.
   Reported: p50, p95 (of ``--opens``) of the listing alone and of the whole open
   (session and verified directory opened, then the listing). Targets (warm): p95
   <= 1 s at 5,000, and <= 1.5x the time at 50.
2. An idle poll (nothing after the cursor, ``wait=0``), ``--polls`` times: the
   server process's CPU time (``/proc/PID/stat`` utime + stime, clock ticks) over all
   polls divided by their number, and the bytes of one request and its answer on the
   wire (request line, headers and body; status line, headers and body, as HTTP/1.1
   frames them). Targets: <= 1 ms CPU, <= 1 KB. For comparison, the same CPU figure
   for a signed ``GET /v1/whoami``: what any authenticated request costs.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import benchkit  # noqa: E402
from secure_send.client import listing  # noqa: E402
from secure_send.client.inbox_cache import CACHE_FILE  # noqa: E402
from secure_send.client.keystore import FileKeyStore  # noqa: E402
from secure_send.client.profile import Profile  # noqa: E402
from secure_send.client.session import Session  # noqa: E402
from secure_send.org import ops  # noqa: E402
from secure_send.org.demo_org import scale_rows  # noqa: E402
from secure_send.org.home import OrgHome  # noqa: E402
from secure_send.server.drop_store import DropStore  # noqa: E402
from secure_send.server.storage import SqliteMetadataStore  # noqa: E402
from tests.client.inbox_kit import planted  # noqa: E402

BIN = Path(sys.executable).parent
TICK = os.sysconf("SC_CLK_TCK")


def enrol(work: Path, home: OrgHome, url: str, user: str) -> Profile:
    """``user`` enrolled through the real CLI into its own profile (the signer answers)."""
    config = work / "org.json"
    config.write_text(json.dumps(ops.client_config(home, url)))
    profile = work / f"profile-{user}"
    env = {**os.environ, "SECURE_SEND_HOME": str(profile), "SECURE_SEND_TEST_KEYSTORE": "1"}
    subprocess.run(
        [str(BIN / "secure-send"), "enrol", "--org-config", str(config), "--user", user],
        input=ops.issue_code(home, user),
        text=True,
        env=env,
        check=True,
        capture_output=True,
    )
    return Profile(profile)


def open_session(profile: Profile) -> Session:
    """A profile opened as the app opens it (keys from the test key store)."""
    os.environ["SECURE_SEND_TEST_KEYSTORE"] = "1"
    return Session.open(profile, FileKeyStore(profile))


def server_cpu(pid: int) -> float:
    """The process's user + system CPU seconds so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime (fields 14, 15)


def open_times(desk: Profile, opens: int, cold: bool) -> tuple[list[float], list[float]]:
    """Seconds per ``listing.inbox`` with a fresh session and directory each time, and
    per whole open (the session and its verified directory opened, then the listing)."""
    listings, whole = [], []
    for _ in range(opens):
        if cold:
            (desk.path / CACHE_FILE).unlink(missing_ok=True)
        opened = time.perf_counter()
        session = open_session(desk)
        try:
            directory = session.directory()
            directory.by_id()  # loaded as the app loads it before its first listing
            started = time.perf_counter()
            items, _ = listing.inbox(session, directory)
            done = time.perf_counter()
            listings.append(done - started)
            whole.append(done - opened)
        finally:
            session.close()
        if not all(i.verified for i in items):
            raise RuntimeError("a planted drop did not verify")
    return listings, whole


def wire_bytes(response: Any) -> tuple[int, int]:
    """(request, answer) bytes as HTTP/1.1 frames them."""
    request = response.request
    head = f"{request.method} {request.path_url} HTTP/1.1\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in request.headers.items()) + "\r\n"
    sent = len(head.encode()) + len(request.body or b"")
    status = f"HTTP/1.1 {response.status_code} {response.reason}\r\n"
    status += "".join(f"{k}: {v}\r\n" for k, v in response.headers.items()) + "\r\n"
    return sent, len(status.encode()) + len(response.content)


def idle_polls(desk: Profile, server_pid: int, polls: int) -> dict[str, Any]:
    """Server CPU per idle poll and one poll's bytes on the wire (warm cache)."""
    session = open_session(desk)
    try:
        listing.inbox(session, session.directory())  # the cursor at the end
        cursor = json.loads((desk.path / CACHE_FILE).read_text())["cursor"]
        path = f"/v1/inbox?wait=0&after={cursor}&limit=500"
        before, started = server_cpu(server_pid), time.perf_counter()
        for _ in range(polls):
            response = session.api.request("GET", path, b"", {})
        cpu = server_cpu(server_pid) - before
        wall = time.perf_counter() - started
        if response.json()["drops"]:
            raise RuntimeError("an idle poll found drops")
        sent, received = wire_bytes(response)
        # the floor: any signed request (signature check, replay nonce, framework)
        before = server_cpu(server_pid)
        for _ in range(polls):
            session.api.request("GET", "/v1/whoami", b"", {})
        floor = server_cpu(server_pid) - before
    finally:
        session.close()
    return {
        "server_cpu_ms_per_poll": round(cpu / polls * 1000, 3),
        "server_cpu_ms_per_signed_whoami": round(floor / polls * 1000, 3),
        "round_trip_ms": round(wall / polls * 1000, 2),
        "request_bytes": sent,
        "answer_bytes": received,
        "wire_bytes": sent + received,
    }


def summary(times: list[float]) -> dict[str, float]:
    p95 = benchkit.percentile(times, 0.95)
    return {"p50_s": round(statistics.median(times), 3), "p95_s": round(p95, 3)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--sizes", type=int, nargs="+", default=[50, 5000])
    parser.add_argument("--opens", type=int, default=10)
    parser.add_argument("--polls", type=int, default=200)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-inbox-"))
    server = signer = None
    try:
        home = OrgHome(work / "org")
        ops.init(home, "ベンチ省")
        rows = scale_rows(20)
        ops.import_rows(home, rows, "bench")
        folder = benchkit.server_folder(home, work / "server")
        server, url = benchkit.start_server(BIN, folder, work / "server.log")
        signer = benchkit.start_signer(BIN, home.path, url, work / "signer.log")
        desk_user, sender_user = rows[0].id, rows[1].id
        desk, sender_profile = (
            enrol(work, home, url, desk_user),
            enrol(work, home, url, sender_user),
        )
        benchkit.stop(signer)
        signer = None
        drops = DropStore(SqliteMetadataStore(folder / "server" / "meta.sqlite"))
        sender = open_session(sender_profile)
        results: dict[str, Any] = {}
        held = 0
        try:
            for size in sorted(args.sizes):
                started = time.perf_counter()
                planted(drops, sender, [desk_user], size - held)
                held = size
                print(f"{size} drops held ({time.perf_counter() - started:.1f} s to make)")
                results[str(size)] = {}
                for kind in ("cold", "warm"):
                    listings, whole = open_times(desk, args.opens, cold=kind == "cold")
                    figures = {"listing": summary(listings), "with_session": summary(whole)}
                    results[str(size)][kind] = figures
                    print(f"  open, {kind}: {figures}")
        finally:
            sender.close()
        results["idle_poll"] = idle_polls(desk, server.pid, args.polls)
        print(f"idle poll ({held} drops held, {args.polls} polls): {results['idle_poll']}")
        small, large = str(min(args.sizes)), str(max(args.sizes))
        for what in ("listing", "with_session"):
            ratio = results[large]["warm"][what]["p95_s"] / results[small]["warm"][what]["p95_s"]
            results[f"warm_p95_ratio_{what}"] = round(ratio, 2)
        print(json.dumps(results, indent=2))
        return 0
    finally:
        for proc in (signer, server):
            if proc is not None:
                benchkit.stop(proc)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
