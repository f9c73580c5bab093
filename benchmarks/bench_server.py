"""Benchmark ``secure-send-server``: upload throughput vs nginx, concurrency, memory.

How to run (from the repository root, with the project installed in ``.venv`` and
``nginx`` installed: ``apt-get install nginx``; CI does not need it)::

    .venv/bin/python benchmarks/bench_server.py --size 1G --repeat 3
    .venv/bin/python benchmarks/bench_server.py --size 1G --repeat 3 --memory-size 4G
    .venv/bin/python benchmarks/bench_server.py --skip-memory --clients 200

Everything runs on 127.0.0.1 only. The script makes a throw-away organisation home
(the test organisation of ``tests/directory_kit.py``; Hanako's laptop and Taro's
desktop are enrolled and their keys kept) and the server's own folder S beside it
(``write_server_home``; ``S/server.toml`` raising ``max_file_bytes`` to 64 GiB and
``quota_bytes`` to 1 TiB), and starts ``secure-send-server --home S --listen
127.0.0.1:PORT`` as a subprocess (no signer: nobody enrols while it runs).
Temp dirs and processes are removed on exit, Ctrl-C included.

What is measured:

1. Upload throughput. A random file of ``--size`` bytes is uploaded to our server
   as one drop (signed ``POST /v1/drops``, ``POST /v1/uploads``, then one signed
   tus PATCH streaming the file, as the client library sends a blob; or, with
   ``--chunk N``, PATCHes of N bytes), and to nginx (``dav_methods PUT``). Both
   bodies are sent the same way: one streaming request with Content-Length over
   ``http.client`` in 1 MiB blocks. Rounds alternate ours, nginx for ``--repeat``
   rounds. Time covers the whole upload (for ours from drop creation to the
   final 204, signing included). The blob's SHA-256 is computed once when the
   file is made, outside the timing: the client computes it while encrypting
   (it is in the manifest), and a single PATCH's Content-Digest is that same
   value; with ``--chunk`` each PATCH body is hashed inside the timing. Our
   server hashes every byte once, checks it against the signed digest and the
   manifest, and fsyncs the blob before answering; nginx does none of that.
   Each stored drop is recalled afterwards to free disk.
   Target: median ours/nginx >= 0.7x.
2. Concurrency. ``--clients`` threads (default 200), released together, each
   creates one small drop (create + one upload with a 1 KiB PATCH + commit, i.e.
   4 signed requests on its own connection). Reported: errors (target 0),
   p50/p99 latency per drop, drops per second (wall clock of the whole burst).
3. Memory. The server's RSS (``/proc/PID/status`` VmRSS) is sampled every 0.2 s
   while a ``--memory-size`` drop (default 4G) is uploaded (as in 1.).
   Reported: min/max/final RSS; target: flat, max - min < 50 MB.
   ``--skip-memory`` skips it.

MB = 10**6 bytes throughout.
"""

from __future__ import annotations

import argparse
import base64
import concurrent.futures
import datetime as dt
import hashlib
import http.client
import io
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlsplit

import httpx

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import benchkit  # noqa: E402
from benchmarks.benchkit import parse_size, random_file, start_nginx  # noqa: E402
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
from tests.directory_kit import HANAKO, TARO, enrol_device, new_org  # noqa: E402

MB = 10**6
MiB = 1 << 20
TUS = {"Tus-Resumable": "1.0.0"}
OFFSET_TYPE = {"Content-Type": "application/offset+octet-stream"}
SERVER_BIN = Path(sys.executable).parent / "secure-send-server"


def sha256(data: bytes) -> bytes:
    """SHA-256 digest."""
    return hashlib.sha256(data).digest()


def b64(data: bytes) -> str:
    """Standard base64 (tus headers)."""
    return base64.b64encode(data).decode("ascii")


@dataclass
class Client:
    """Signs requests as one device against our server."""

    url: str
    user: str
    device: str
    keys: DeviceKeys

    def request(
        self,
        http: httpx.Client,
        method: str,
        path: str,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
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
        return http.request(
            method, self.url + path, content=body, headers={**(headers or {}), **signed}
        )

    def create_drop(self, http: httpx.Client, blob_hash: bytes, size: int) -> str:
        now = utc_now()
        signed = Manifest(
            drop_id=new_drop_id(),
            sender=self.user,
            sender_device=self.device,
            recipients=(RecipientRef(TARO, ("desktop",)),),
            blobs=(Blob("b1", "file", blob_hash, size),),
            created=format_time(now),
            expires=format_time(now + dt.timedelta(days=1)),
            classification=Classification.C2,
            suite="age-x25519-v1",
            directory_epoch=1,
            directory_header="bench",
        ).sign(self.keys.signing)
        r = self.request(http, "POST", "/v1/drops", json.dumps(signed.to_json()).encode())
        check(r, 201)
        return str(r.json()["drop_id"])

    def new_upload(self, http: httpx.Client, drop_id: str, size: int) -> str:
        headers = {
            **TUS,
            "Upload-Length": str(size),
            "Upload-Metadata": f"drop {b64(drop_id.encode())},blob {b64(b'b1')}",
        }
        r = self.request(http, "POST", "/v1/uploads", headers=headers)
        check(r, 201)
        return str(r.headers["location"])

    def patch(self, path: str, offset: int, src: BinaryIO, length: int, digest: bytes) -> None:
        """One signed tus PATCH streaming ``length`` bytes of ``src`` (http.client, as
        nginx's PUT is sent); ``digest`` is the SHA-256 of exactly those bytes."""
        url = urlsplit(self.url)
        signed = httpsig.sign_request(
            "PATCH",
            self.url + path,
            {},
            f"sha-256=:{b64(digest)}:",
            httpsig.key_id(self.user, self.device),
            self.keys.signing,
            utc_now(),
        )
        headers = {**TUS, **OFFSET_TYPE, "Upload-Offset": str(offset), **signed}
        host = url.hostname or "127.0.0.1"
        conn = http.client.HTTPConnection(host, url.port, timeout=600, blocksize=MiB)
        try:
            conn.putrequest("PATCH", path, skip_accept_encoding=True)
            conn.putheader("Content-Length", str(length))
            for name, value in headers.items():
                conn.putheader(name, value)
            conn.endheaders()
            left = length
            while left:
                block = src.read(min(left, MiB))
                conn.send(block)
                left -= len(block)
            response = conn.getresponse()
            body = response.read()
            if response.status != 204:
                raise RuntimeError(f"PATCH {path}: {response.status} {body[:200]!r}")
        finally:
            conn.close()

    def upload_file(
        self, http: httpx.Client, path: Path, size: int, blob_hash: bytes, chunk: int
    ) -> str:
        """Create a drop for the file and upload it: one PATCH (``chunk`` 0, what the
        client library does; its Content-Digest is the blob hash the manifest already
        carries) or PATCHes of ``chunk`` bytes (each hashed for its Content-Digest)."""
        drop_id = self.create_drop(http, blob_hash, size)
        upload = self.new_upload(http, drop_id, size)
        with path.open("rb") as f:
            if chunk <= 0 or chunk >= size:
                self.patch(upload, 0, f, size, blob_hash)
                return drop_id
            offset = 0
            while offset < size:
                data = f.read(chunk)
                self.patch(upload, offset, io.BytesIO(data), len(data), sha256(data))
                offset += len(data)
        return drop_id

    def recall(self, http: httpx.Client, drop_id: str) -> None:
        check(self.request(http, "DELETE", f"/v1/drops/{drop_id}"), 204)


def check(response: httpx.Response, status: int) -> None:
    if response.status_code != status:
        raise RuntimeError(
            f"{response.request.method} {response.request.url.path}: "
            f"{response.status_code} {response.text[:200]}"
        )


class Bench:
    """Owns the temp dir, the server and nginx; cleans up on :meth:`close`."""

    def __init__(self, chunk: int, workdir: str | None) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="bench-server-", dir=workdir))
        self.procs: list[subprocess.Popen[bytes]] = []
        self.chunk = chunk

    def close(self) -> None:
        for proc in self.procs:
            benchkit.stop(proc)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def start_server(self) -> Client:
        home = new_org(self.tmp / "org", devices=False)
        keys = enrol_device(home, HANAKO, "laptop", "bench laptop")
        enrol_device(home, TARO, "desktop", "bench desktop")
        folder = benchkit.server_folder(
            home,
            self.tmp / "server",
            f"max_file_bytes = {64 * 1024**3}\nquota_bytes = {1024**4}\n",
        )
        proc, url = benchkit.start_server(SERVER_BIN.parent, folder, self.tmp / "server.log")
        self.procs.append(proc)
        self.server = proc
        return Client(url, HANAKO, "laptop", keys)

    def start_nginx(self) -> int:
        proc, port = start_nginx(self.tmp / "nginx")
        self.procs.append(proc)
        self.nginx_dir = self.tmp / "nginx"
        return port


def nginx_put(port: int, path: Path, size: int) -> None:
    """One streaming PUT of the file to nginx (then delete it, untimed by caller)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600, blocksize=MiB)
    try:
        with path.open("rb") as f:
            conn.request(
                "PUT",
                "/upload/blob",
                body=f,
                headers={"Content-Length": str(size), "Content-Type": "application/octet-stream"},
            )
            resp = conn.getresponse()
            resp.read()
            if resp.status not in (201, 204):
                raise RuntimeError(f"nginx PUT: {resp.status}")
    finally:
        conn.close()


def nginx_delete(port: int) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("DELETE", "/upload/blob")
        conn.getresponse().read()
    finally:
        conn.close()


def timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def fmt_range(values: list[float]) -> str:
    return f"{statistics.median(values):8.1f}  [{min(values):.1f} .. {max(values):.1f}]"


def bench_throughput(bench: Bench, client: Client, args: argparse.Namespace) -> dict[str, Any]:
    size = args.size
    path = bench.tmp / "body.bin"
    print(f"\n== 1. upload throughput: {size / MB:.0f} MB body, chunk {args.chunk / MiB:g} MiB")
    blob_hash = random_file(path, size)
    port = bench.start_nginx()
    ours: list[float] = []
    theirs: list[float] = []
    with httpx.Client(timeout=600) as http:
        for rnd in range(args.repeat):
            start = time.perf_counter()
            drop_id = client.upload_file(http, path, size, blob_hash, args.chunk)
            t = time.perf_counter() - start
            client.recall(http, drop_id)
            ours.append(size / MB / t)
            t2 = timed(lambda: nginx_put(port, path, size))
            nginx_delete(port)
            theirs.append(size / MB / t2)
            print(f"  round {rnd + 1}: ours {ours[-1]:7.1f} MB/s   nginx {theirs[-1]:7.1f} MB/s")
    path.unlink()
    ratio = statistics.median(ours) / statistics.median(theirs)
    print(f"  {'':22} median MB/s  [min .. max]")
    print(f"  {'secure-send-server':22}{fmt_range(ours)}")
    print(f"  {'nginx (dav PUT)':22}{fmt_range(theirs)}")
    verdict = "PASS" if ratio >= 0.7 else "FAIL"
    print(f"  ratio ours/nginx (medians): {ratio:.2f}x  (target >= 0.7x: {verdict})")
    return {"ours_mb_s": ours, "nginx_mb_s": theirs, "ratio": ratio}


def bench_concurrency(client: Client, clients: int) -> dict[str, Any]:
    print(f"\n== 2. {clients} concurrent clients, one small drop each")
    barrier = threading.Barrier(clients)

    def one() -> float:
        data = os.urandom(1024)
        with httpx.Client(timeout=120) as http:
            barrier.wait()
            start = time.perf_counter()
            drop_id = client.create_drop(http, hashlib.sha256(data).digest(), len(data))
            upload = client.new_upload(http, drop_id, len(data))
            headers = {**TUS, **OFFSET_TYPE, "Upload-Offset": "0"}
            check(client.request(http, "PATCH", upload, data, headers), 204)
            check(client.request(http, "POST", f"/v1/drops/{drop_id}/commit"), 200)
            return time.perf_counter() - start

    latencies: list[float] = []
    errors: list[str] = []
    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(max_workers=clients) as pool:
        futures = [pool.submit(one) for _ in range(clients)]
        for fut in concurrent.futures.as_completed(futures):
            try:
                latencies.append(fut.result())
            except Exception as exc:  # counted and reported
                errors.append(repr(exc)[:200])
    wall = time.perf_counter() - start
    latencies.sort()
    p50 = statistics.median(latencies) if latencies else float("nan")
    p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))] if latencies else 0.0
    print(f"  errors: {len(errors)} (target 0)")
    for err in sorted(set(errors))[:5]:
        print(f"    {err}")
    print(f"  latency per drop: p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms")
    print(f"  drops/s: {len(latencies) / wall:.1f}  ({len(latencies)} drops in {wall:.2f} s)")
    return {"errors": len(errors), "p50_s": p50, "p99_s": p99, "drops_per_s": len(latencies) / wall}


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def bench_memory(bench: Bench, client: Client, args: argparse.Namespace) -> dict[str, Any]:
    size = args.memory_size
    path = bench.tmp / "big.bin"
    print(f"\n== 3. server RSS during a {size / MB:.0f} MB upload (chunk {args.chunk / MiB:g} MiB)")
    blob_hash = random_file(path, size)
    pid = bench.server.pid
    samples: list[int] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            samples.append(rss_bytes(pid))
            stop.wait(0.2)

    before = rss_bytes(pid)
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    with httpx.Client(timeout=600) as http:
        try:
            t = timed(lambda: client.upload_file(http, path, size, blob_hash, args.chunk))
        finally:
            stop.set()
            sampler.join()
        final = rss_bytes(pid)
    path.unlink()
    lo, hi = min(samples), max(samples)
    flat = hi - lo < 50 * MB
    print(f"  upload: {t:.1f} s ({size / MB / t:.1f} MB/s), {len(samples)} samples")
    print(f"  RSS before {before / MB:.1f} MB; during min {lo / MB:.1f} / max {hi / MB:.1f} MB;")
    print(f"  final {final / MB:.1f} MB; max-min {(hi - lo) / MB:.1f} MB")
    print(f"  flat (max - min < 50 MB): {'PASS' if flat else 'FAIL'}")
    return {"before": before, "min": lo, "max": hi, "final": final, "flat": flat}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--size", type=parse_size, default=parse_size("1G"))
    parser.add_argument(
        "--chunk", type=parse_size, default=0, help="PATCH size (default: one PATCH)"
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--memory-size", type=parse_size, default=parse_size("4G"))
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--skip-concurrency", action="store_true")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--workdir", help="parent of the temp dir (default: system temp)")
    parser.add_argument("--json", type=Path, help="write raw results here")
    args = parser.parse_args()

    bench = Bench(args.chunk, args.workdir)

    def on_signal(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)  # even when started with SIGINT ignored
    results: dict[str, Any] = {}
    try:
        client = bench.start_server()
        print(
            f"secure-send-server at {client.url}; server.toml: max_file_bytes = 64 GiB,"
            f" quota_bytes = 1 TiB; {os.cpu_count()} CPUs"
        )
        if not args.skip_throughput:
            results["throughput"] = bench_throughput(bench, client, args)
        if not args.skip_concurrency:
            results["concurrency"] = bench_concurrency(client, args.clients)
        if not args.skip_memory:
            results["memory"] = bench_memory(bench, client, args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        bench.close()
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
