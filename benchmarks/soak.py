"""Soak ``secure-send-server``: RSS, open fds, threads and database size over time.

How to run (from the repository root, with the project installed in ``.venv``)::

    .venv/bin/python benchmarks/soak.py --minutes 5
    .venv/bin/python benchmarks/soak.py --minutes 30 --clients 2 --json /tmp/soak.json
    .venv/bin/python benchmarks/soak.py --minutes 5 --tracemalloc   # what grows?

Everything runs on 127.0.0.1 only. The script makes a throw-away organisation home
(the test organisation of ``tests/directory_kit.py``; Hanako's laptop and Taro's
desktop are enrolled and their keys kept) and the server's own folder S beside it
(``write_server_home``; ``S/server.toml`` sets ``sweep_interval_seconds`` to
``--sweep`` and the ``[retention] drop_rows_seconds`` to ``--retention``, so that
within a short soak drops expire, are swept, and their rows are deleted), and starts
``secure-send-server --home S --listen 127.0.0.1:PORT`` as a subprocess, whose
``/proc/PID`` is sampled. Temp dirs and processes are removed on exit, Ctrl-C included.

The load: ``--clients`` worker threads (default 2: the machine is shared), each in a
loop (with ``--pause`` seconds between rounds) doing what the client library does,
as real signed HTTP requests: Hanako creates a drop expiring in 10..45 s, uploads one
1..32 KiB blob (tus POST + PATCH) and commits it; Taro reads his inbox, the drop's
manifest, downloads the blob and posts a signed receipt; Hanako reads the receipts
and recalls about a third of the drops; the rest expire and are swept. Every 20th
round also fetches the directory head, the policy and Hanako's sent list, and opens
an inbox long-poll that the next commit ends.

Every ``--interval`` seconds a row is printed: elapsed time, server RSS (VmRSS),
open fds, threads, the database size (``meta.sqlite`` with its ``-wal``/``-shm``),
the audit log size, stored blob files, and rounds done / errors. The summary gives
RSS at start, at the end of warm-up (``--warmup`` minutes, default a fifth of the
run, at most 5), at the end and the maximum, its growth after warm-up and per
10 minutes (least-squares slope over the post-warm-up samples), and fds, threads and
database size at warm-up end and at the end. Target: RSS flat within 10 MB after
warm-up. MB = 10**6 bytes throughout.

``--tracemalloc`` runs the server under ``tracemalloc`` (through this script's
``--serve-traced`` mode, which starts tracing and then calls the server's own
``main``): at warm-up end a baseline snapshot is taken and at the end the top
allocation differences (by line, 25 frames kept) are printed. Tracing slows the
server and adds its own memory; use it to find what grows, not for the figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import benchkit  # noqa: E402
from secure_send.core import httpsig  # noqa: E402
from secure_send.core.directory.enrol import DeviceKeys  # noqa: E402
from secure_send.core.encoding import format_time, utc_now  # noqa: E402
from secure_send.core.envelope.manifest import (  # noqa: E402
    Blob,
    Classification,
    Manifest,
    RecipientRef,
    new_drop_id,
)
from secure_send.core.envelope.receipt import Receipt  # noqa: E402
from tests.directory_kit import HANAKO, TARO, enrol_device, new_org  # noqa: E402

MB = 10**6
TUS = {"Tus-Resumable": "1.0.0"}
OFFSET_TYPE = {"Content-Type": "application/offset+octet-stream"}
SERVER_BIN = Path(sys.executable).parent / "secure-send-server"
TRACE_SIGNAL = signal.SIGUSR1  # baseline snapshot, then diffs on SIGUSR2
DIFF_SIGNAL = signal.SIGUSR2


# ---------------------------------------------------------------- the traced server


def serve_traced(argv: list[str]) -> int:
    """``--serve-traced DUMP -- SERVER ARGS``: the server's ``main`` under tracemalloc;
    SIGUSR1 takes the baseline snapshot, SIGUSR2 writes the top differences to DUMP."""
    import tracemalloc

    from secure_send.server import cli

    dump = Path(argv[0])
    tracemalloc.start(25)
    baseline: list[Any] = []

    def snap() -> Any:
        # the tracer's own bookkeeping and this module are noise, not the server's growth
        return tracemalloc.take_snapshot().filter_traces(
            (
                tracemalloc.Filter(False, tracemalloc.__file__),
                tracemalloc.Filter(False, "<frozen importlib._bootstrap*>"),
            )
        )

    def on_baseline(_signum: int, _frame: Any) -> None:
        baseline[:] = [snap()]
        dump.with_suffix(".ready").write_text("baseline\n")

    def on_diff(_signum: int, _frame: Any) -> None:
        now = snap()
        current, peak = tracemalloc.get_traced_memory()
        lines = [f"traced now {current / MB:.1f} MB, peak {peak / MB:.1f} MB"]
        if baseline:
            for title, key in (("by line", "lineno"), ("by traceback", "traceback")):
                lines.append(f"-- top differences {title}")
                for stat in now.compare_to(baseline[0], key)[:15]:
                    lines.append(str(stat))
                    if key == "traceback":
                        lines.extend("      " + s for s in stat.traceback.format()[-8:])
        dump.write_text("\n".join(lines) + "\n")

    signal.signal(TRACE_SIGNAL, on_baseline)
    signal.signal(DIFF_SIGNAL, on_diff)
    return cli.main(argv[2:])


# ---------------------------------------------------------------- the clients


@dataclass
class Device:
    """Signs requests as one enrolled device."""

    url: str
    user: str
    device: str
    keys: DeviceKeys
    http: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=60))

    def request(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> httpx.Response:
        signed = httpsig.sign_request(
            method,
            self.url + path,
            {},
            httpsig.content_digest(body),
            httpsig.key_id(self.user, self.device),
            self.keys.signing,
            utc_now(),
        )
        return self.http.request(
            method, self.url + path, content=body, headers={**(headers or {}), **signed}
        )


def expect(response: httpx.Response, *status: int) -> httpx.Response:
    if response.status_code not in status:
        raise RuntimeError(
            f"{response.request.method} {response.request.url.path}: "
            f"{response.status_code} {response.text[:200]}"
        )
    return response


def b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode("ascii")


@dataclass
class Load:
    """Counters shared by the workers."""

    rounds: int = 0
    recalls: int = 0
    errors: int = 0
    last_errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)

    def failed(self, err: Exception) -> None:
        with self.lock:
            self.errors += 1
            self.last_errors = [*self.last_errors[-4:], repr(err)[:200]]


def one_round(sender: Device, recipient: Device, n: int, rng: random.Random) -> bool:
    """One drop through its life; True if it was recalled."""
    data = os.urandom(rng.randint(1024, 32 * 1024))
    blob_hash = hashlib.sha256(data).digest()
    now = utc_now()
    signed = Manifest(
        drop_id=new_drop_id(),
        sender=sender.user,
        sender_device=sender.device,
        recipients=(RecipientRef(TARO, ("desktop",)),),
        blobs=(Blob("b1", "file", blob_hash, len(data)),),
        created=format_time(now),
        expires=format_time(now + dt.timedelta(seconds=rng.randint(10, 45))),
        classification=Classification.C2,
        suite="age-x25519-v1",
        directory_epoch=1,
        directory_header="soak",
    ).sign(sender.keys.signing)
    created = sender.request("POST", "/v1/drops", json.dumps(signed.to_json()).encode())
    drop_id = str(expect(created, 201).json()["drop_id"])
    headers = {
        **TUS,
        "Upload-Length": str(len(data)),
        "Upload-Metadata": f"drop {b64(drop_id.encode())},blob {b64(b'b1')}",
    }
    upload = expect(sender.request("POST", "/v1/uploads", headers=headers), 201)
    patch_headers = {**TUS, **OFFSET_TYPE, "Upload-Offset": "0"}
    expect(sender.request("PATCH", upload.headers["location"], data, patch_headers), 204)
    expect(sender.request("POST", f"/v1/drops/{drop_id}/commit"), 200)
    expect(recipient.request("GET", "/v1/inbox"), 200)
    # 410: it expired already (a short expiry on a busy machine): the round ends there
    if expect(recipient.request("GET", f"/v1/drops/{drop_id}"), 200, 410).status_code == 410:
        return False
    got = expect(recipient.request("GET", f"/v1/drops/{drop_id}/blobs/b1"), 200, 410)
    if got.status_code == 410:
        return False
    if hashlib.sha256(got.content).digest() != blob_hash:
        raise RuntimeError(f"{drop_id}: downloaded blob differs")
    receipt = Receipt(drop_id, TARO, "desktop", (blob_hash,), format_time(utc_now()))
    body = json.dumps(receipt.signed_by(recipient.keys.signing).to_json()).encode()
    expect(recipient.request("POST", f"/v1/drops/{drop_id}/receipts", body), 201, 410)
    expect(sender.request("GET", f"/v1/drops/{drop_id}/receipts"), 200)
    if n % 20 == 0:
        expect(recipient.http.get(recipient.url + "/v1/directory/head"), 200, 304)
        expect(sender.request("GET", "/v1/policy"), 200)
        expect(sender.request("GET", "/v1/sent"), 200)
    if rng.random() < 1 / 3:
        # 410 if the sweeper got there first (a short expiry)
        expect(sender.request("DELETE", f"/v1/drops/{drop_id}"), 204, 410)
        return True
    return False


def worker(url: str, keys: dict[str, DeviceKeys], load: Load, pause: float, seed: int) -> None:
    sender = Device(url, HANAKO, "laptop", keys[HANAKO])
    recipient = Device(url, TARO, "desktop", keys[TARO])
    rng = random.Random(seed)
    n = 0
    try:
        while not load.stop.is_set():
            n += 1
            try:
                recalled = one_round(sender, recipient, n, rng)
                with load.lock:
                    load.rounds += 1
                    load.recalls += recalled
            except Exception as err:  # counted and reported; the soak goes on
                load.failed(err)
                load.stop.wait(1.0)
            load.stop.wait(pause)
    finally:
        sender.http.close()
        recipient.http.close()


def long_poller(url: str, keys: dict[str, DeviceKeys], load: Load) -> None:
    """One inbox long-poll open at all times (Taro's other window), as the app keeps."""
    recipient = Device(url, TARO, "desktop", keys[TARO])
    cursor = 0
    try:
        while not load.stop.is_set():
            try:
                r = expect(recipient.request("GET", f"/v1/inbox?wait=20&after={cursor}"), 200)
                cursor = int(r.json()["cursor"])
            except Exception as err:
                load.failed(err)
                load.stop.wait(1.0)
    finally:
        recipient.http.close()


# ---------------------------------------------------------------- sampling


@dataclass
class Sample:
    t: float
    rss: int
    fds: int
    threads: int
    db: int
    audit: int
    blobs: int
    rounds: int
    errors: int


def proc_status(pid: int) -> tuple[int, int]:
    """VmRSS in bytes and thread count."""
    rss = threads = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1]) * 1024
        elif line.startswith("Threads:"):
            threads = int(line.split()[1])
    return rss, threads


def file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def sample(pid: int, folder: Path, start: float, load: Load) -> Sample:
    rss, threads = proc_status(pid)
    state = folder / "server"
    db = sum(file_size(state / f"meta.sqlite{s}") for s in ("", "-wal", "-shm"))
    try:
        blobs = sum(1 for p in (state / "blobs").rglob("*") if p.is_file())
    except OSError:
        blobs = -1
    return Sample(
        t=time.monotonic() - start,
        rss=rss,
        fds=len(os.listdir(f"/proc/{pid}/fd")),
        threads=threads,
        db=db,
        audit=file_size(state / "audit.jsonl"),
        blobs=blobs,
        rounds=load.rounds,
        errors=load.errors,
    )


def print_row(s: Sample) -> None:
    print(
        f"{s.t / 60:7.1f} {s.rss / MB:8.1f} {s.fds:5d} {s.threads:7d} {s.db / MB:8.2f}"
        f" {s.audit / MB:8.2f} {s.blobs:6d} {s.rounds:8d} {s.errors:6d}",
        flush=True,
    )


def slope_per_10min(samples: list[Sample]) -> float:
    """Least-squares RSS slope, bytes per 10 minutes."""
    if len(samples) < 2:
        return 0.0
    n = len(samples)
    mt = sum(s.t for s in samples) / n
    mr = sum(s.rss for s in samples) / n
    var = sum((s.t - mt) ** 2 for s in samples)
    if var == 0:
        return 0.0
    cov = sum((s.t - mt) * (s.rss - mr) for s in samples)
    return cov / var * 600


def summary(samples: list[Sample], warm: Sample, load: Load, minutes: float) -> dict[str, Any]:
    first, last = samples[0], samples[-1]
    after = [s for s in samples if s.t >= warm.t]
    peak = max(samples, key=lambda s: s.rss)
    peak_after = max(s.rss for s in after)
    low_after = min(s.rss for s in after)
    slope = slope_per_10min(after)
    flat = peak_after - low_after < 10 * MB
    print(
        f"\n== summary: {minutes:g} min, {load.rounds} drops ({load.recalls} recalled),"
        f" {load.errors} errors, {os.cpu_count()} CPUs, load average {os.getloadavg()}"
    )
    print(
        f"  RSS: start {first.rss / MB:.1f} MB, warm-up end ({warm.t / 60:.1f} min)"
        f" {warm.rss / MB:.1f} MB, end {last.rss / MB:.1f} MB,"
        f" max {peak.rss / MB:.1f} MB (at {peak.t / 60:.1f} min)"
    )
    print(
        f"  RSS after warm-up: min {low_after / MB:.1f} / max {peak_after / MB:.1f} MB,"
        f" spread {(peak_after - low_after) / MB:.1f} MB; end - warm-up"
        f" {(last.rss - warm.rss) / MB:+.1f} MB; slope {slope / MB:+.2f} MB per 10 min"
    )
    print(f"  flat within 10 MB after warm-up: {'PASS' if flat else 'FAIL'}")
    print(f"  fds: warm-up {warm.fds}, end {last.fds}, max {max(s.fds for s in samples)}")
    print(
        f"  threads: warm-up {warm.threads}, end {last.threads},"
        f" max {max(s.threads for s in samples)}"
    )
    print(
        f"  DB (meta.sqlite+wal+shm): warm-up {warm.db / MB:.2f} MB, end {last.db / MB:.2f} MB,"
        f" max {max(s.db for s in samples) / MB:.2f} MB; audit log end {last.audit / MB:.2f} MB"
        f"; blob files end {last.blobs}"
    )
    for err in load.last_errors:
        print(f"  error: {err}")
    return {
        "rounds": load.rounds,
        "recalls": load.recalls,
        "errors": load.errors,
        "rss_start": first.rss,
        "rss_warm": warm.rss,
        "rss_end": last.rss,
        "rss_max": peak.rss,
        "rss_spread_after_warmup": peak_after - low_after,
        "rss_slope_per_10min": slope,
        "flat": flat,
        "samples": [s.__dict__ for s in samples],
    }


# ---------------------------------------------------------------- main


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--serve-traced":
        return serve_traced(sys.argv[2:])
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--minutes", type=float, required=True)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--pause", type=float, default=0.02, help="s between a worker's rounds")
    parser.add_argument("--interval", type=float, default=30.0, help="s between samples")
    parser.add_argument("--warmup", type=float, help="minutes (default: a fifth, at most 5)")
    parser.add_argument("--sweep", type=int, default=5, help="sweep_interval_seconds")
    parser.add_argument("--retention", type=int, default=60, help="drop_rows_seconds")
    parser.add_argument("--tracemalloc", action="store_true")
    parser.add_argument("--workdir", help="parent of the temp dir (default: system temp)")
    parser.add_argument("--json", type=Path, help="write raw results here")
    args = parser.parse_args()
    warmup = args.warmup if args.warmup is not None else min(5.0, args.minutes / 5)

    def on_signal(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    tmp = Path(tempfile.mkdtemp(prefix="soak-", dir=args.workdir))
    proc: subprocess.Popen[bytes] | None = None
    load = Load()
    threads: list[threading.Thread] = []
    try:
        home = new_org(tmp / "org", devices=False)
        keys = {
            HANAKO: enrol_device(home, HANAKO, "laptop", "soak laptop"),
            TARO: enrol_device(home, TARO, "desktop", "soak desktop"),
        }
        settings = f"sweep_interval_seconds = {args.sweep}\n"
        folder = benchkit.server_folder(home, tmp / "server", settings)
        # a table after the [signer] table write_server_home wrote
        with (folder / "server.toml").open("a", encoding="utf-8") as f:
            f.write(f"\n[retention]\ndrop_rows_seconds = {args.retention}\n")
        dump = tmp / "tracemalloc.txt"
        if args.tracemalloc:
            port = benchkit.free_port()
            argv = [sys.executable, str(Path(__file__).resolve()), "--serve-traced", str(dump)]
            argv += ["--", "--home", str(folder), "--listen", f"127.0.0.1:{port}"]
            proc = subprocess.Popen(
                argv,
                stdout=(tmp / "server.log").open("wb"),
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            benchkit.wait_port(port, proc, "secure-send-server (traced)")
            url = f"http://127.0.0.1:{port}"
        else:
            proc, url = benchkit.start_server(SERVER_BIN.parent, folder, tmp / "server.log")
        print(
            f"secure-send-server at {url} (pid {proc.pid}); {args.clients} clients,"
            f" sweep every {args.sweep} s, drop rows kept {args.retention} s after expiry;"
            f" {os.cpu_count()} CPUs, load average {os.getloadavg()}",
            flush=True,
        )
        print(
            f"{'min':>7} {'RSS MB':>8} {'fds':>5} {'threads':>7} {'DB MB':>8}"
            f" {'audit MB':>8} {'blobs':>6} {'rounds':>8} {'errors':>6}",
            flush=True,
        )
        for i in range(args.clients):
            threads.append(
                threading.Thread(target=worker, args=(url, keys, load, args.pause, i), daemon=True)
            )
        threads.append(threading.Thread(target=long_poller, args=(url, keys, load), daemon=True))
        start = time.monotonic()
        samples = [sample(proc.pid, folder, start, load)]
        print_row(samples[0])
        for t in threads:
            t.start()
        end = start + args.minutes * 60
        warm: Sample | None = None
        while time.monotonic() < end:
            time.sleep(max(0.0, min(args.interval, end - time.monotonic())))
            if proc.poll() is not None:
                raise RuntimeError(f"the server exited with {proc.returncode}")
            s = sample(proc.pid, folder, start, load)
            samples.append(s)
            print_row(s)
            if warm is None and s.t >= warmup * 60:
                warm = s
                if args.tracemalloc:
                    os.kill(proc.pid, TRACE_SIGNAL)
        warm = warm or samples[-1]
        if args.tracemalloc:
            os.kill(proc.pid, DIFF_SIGNAL)
            deadline = time.monotonic() + 120
            while not dump.exists() and time.monotonic() < deadline:
                time.sleep(1)
            time.sleep(2)
            print("\n== tracemalloc: growth since warm-up end")
            print(dump.read_text() if dump.exists() else "(no dump)")
        load.stop.set()
        for t in threads:
            t.join(timeout=30)
        results = summary(samples, warm, load, args.minutes)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception:
        log = tmp / "server.log"
        if log.exists():
            print("server log:\n" + log.read_text(errors="replace")[-4000:], file=sys.stderr)
        raise
    finally:
        load.stop.set()
        if proc is not None:
            benchkit.stop(proc)
        shutil.rmtree(tmp, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0 if results["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
