"""Benchmark a whole hand-over: ``secure-send send`` to 3 people + ``receive`` vs age + curl.

How to run (from the repository root, with the project installed in ``.venv``,
``age``/``age-keygen``, ``curl`` and ``nginx`` on PATH and GNU time at
``/usr/bin/time``; without nginx the reference half is skipped with a message)::

    .venv/bin/python benchmarks/bench_send.py --size 1G --repeat 3
    .venv/bin/python benchmarks/bench_send.py --size 256M --repeat 1 --workdir /var/tmp

Everything runs on 127.0.0.1 only. The script makes a throw-away organisation home
(the test organisation of ``tests/directory_kit.py`` plus two more people) and the
server's own folder S beside it (``write_server_home``; ``S/server.toml`` raising
``max_file_bytes`` to 64 GiB and ``quota_bytes`` to 1 TiB), starts
``secure-send-server --home S --listen 127.0.0.1:PORT``, the directory signer
(``secure-send-admin --home H signer --server URL --poll 0.5``) and nginx
(``dav_methods PUT``, as ``bench_server.py`` does) as subprocesses, and enrols the
sender and three recipients (one device each) through the real CLI
(``secure-send enrol --org-config FILE --user ID --device ID``, the one-time code on
stdin), each in its own profile (``SECURE_SEND_HOME``, ``SECURE_SEND_TEST_KEYSTORE=1``).
One random file of ``--size`` bytes is made once. Temp dirs and processes are removed
on exit, Ctrl-C included. The work dir (``--workdir``, default the system temp dir)
needs about five times ``--size`` of free space; avoid a tmpfs there.

What is measured, for ``--repeat`` rounds, alternating ours and the reference:

* ours, send: ``secure-send send FILE --to R1 --to R2 --to R3 --json`` (encrypt into
  the outbox, create the drop, upload, commit); receive: ``secure-send receive DROP
  -o DIR --json`` as R1 (download with hash check, decrypt, fsync, rename, receipt).
  Then, untimed: the received file's SHA-256 must equal the original's; the file is
  deleted and the drop recalled (``secure-send recall``) to free disk.
* reference, send: ``age -r R1 -r R2 -r R3 -o CT FILE`` (three X25519 recipients
  from ``age-keygen``) plus ``curl -sS -T CT http://127.0.0.1:PORT/upload/blob``;
  receive: ``curl -sS -o CT2 URL`` plus ``age -d -i KEY1 -o OUT CT2``. The output is
  checked the same way (untimed) and everything is deleted.

Every process runs under ``/usr/bin/time -f %M`` (peak RSS of that process); the
times are wall clock of the processes (for the reference the sum of its two). A
``sync`` runs (untimed) before every timed step, so no step pays for an earlier one's
write-back. Note the asymmetry: our server fsyncs the blob and our receive fsyncs the
output; nginx, curl and age fsync nothing. ``--ref-fsync`` makes the reference pay
for that too (``sync FILE`` after each of its outputs, inside the timing).

Reported per round and as medians: send, receive and total (send + receive) seconds,
ours vs reference, with the ratio reference time / our time (>= 1.0 means ours is not
slower), and the peak RSS of our send and receive processes. Targets: total ratio
>= 1.0x; client peak RSS <= 150 MB (MB = 10**6 bytes throughout).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import benchkit  # noqa: E402
from benchmarks.benchkit import parse_size, start_nginx  # noqa: E402
from secure_send.org import ops  # noqa: E402
from secure_send.org.home import OrgHome  # noqa: E402
from secure_send.org.importing import ImportRow  # noqa: E402
from tests.directory_kit import (  # noqa: E402
    HANAKO,
    JIRO,
    OPERATOR,
    ORG,
    TARO,
    org_rows,
    person_row,
)

MB = 10**6
MiB = 1 << 20
RSS_TARGET_MB = 150.0
RATIO_TARGET = 1.0
GNU_TIME = "/usr/bin/time"
BIN = Path(sys.executable).parent
CLIENT_BIN = BIN / "secure-send"
ICHIRO = "ichiro.tanaka"
SENDER = HANAKO
RECIPIENTS = (TARO, JIRO, ICHIRO)


def sha256_file(path: Path) -> str:
    """SHA-256 (hex) of a file."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(8 * MiB):
            h.update(block)
    return h.hexdigest()


@dataclass
class Proc:
    """One timed child process."""

    what: str
    wall_s: float
    user_s: float
    sys_s: float
    rss_mb: float


@dataclass
class Step:
    """One timed step (one or more processes run one after the other)."""

    procs: list[Proc] = field(default_factory=list)

    @property
    def wall_s(self) -> float:
        return sum(p.wall_s for p in self.procs)

    @property
    def rss_mb(self) -> float:
        return max((p.rss_mb for p in self.procs), default=0.0)

    def detail(self) -> str:
        return " + ".join(f"{p.what} {p.wall_s:.2f} s/{p.rss_mb:.0f} MB" for p in self.procs)


@dataclass
class Round:
    """Send and receive, ours and the reference, in one round."""

    ours_send: Step
    ours_receive: Step
    ref_send: Step | None
    ref_receive: Step | None


def timed(
    what: str,
    argv: list[str],
    stats: Path,
    env: dict[str, str] | None = None,
    stdin: bytes = b"",
) -> tuple[Proc, bytes]:
    """Run ``argv`` under GNU time (after an untimed ``sync``): the numbers and stdout."""
    os.sync()
    stats.unlink(missing_ok=True)
    wrapped = [GNU_TIME, "-f", "%M %U %S", "-o", str(stats), *argv]
    start = time.perf_counter()
    proc = subprocess.run(wrapped, input=stdin, capture_output=True, env=env)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        err = proc.stderr.decode(errors="replace").strip()
        raise RuntimeError(f"{what} failed ({proc.returncode}): {argv}\n{err[-2000:]}")
    rss_kib, user, system = stats.read_text().split()[-3:]
    return Proc(what, wall, float(user), float(system), int(rss_kib) * 1024 / MB), proc.stdout


class Bench:
    """Owns the temp dir, the server, nginx and the profiles; cleans up on :meth:`close`."""

    def __init__(self, workdir: str | None) -> None:
        if workdir:
            Path(workdir).mkdir(parents=True, exist_ok=True)
        self.tmp = Path(tempfile.mkdtemp(prefix="bench-send-", dir=workdir))
        self.procs: list[subprocess.Popen[bytes]] = []
        self.stats = self.tmp / "time-stats.txt"
        self.url = ""
        self.nginx_port = 0

    def close(self) -> None:
        for proc in self.procs:
            benchkit.stop(proc)
        shutil.rmtree(self.tmp, ignore_errors=True)

    # ------------------------------------------------------------ our side

    def start_server(self) -> OrgHome:
        home = OrgHome(self.tmp / "org")
        ops.init(home, ORG, roots=3, threshold=2)
        extra: list[ImportRow] = [
            person_row(10, ICHIRO, "田中 一郎", "タナカ イチロウ", "Ichiro Tanaka", "企画課"),
            person_row(11, "saburo.ito", "伊藤 三郎", "イトウ サブロウ", "Saburo Ito", "企画課"),
        ]
        ops.import_rows(home, [*org_rows(), *extra], OPERATOR)
        folder = benchkit.server_folder(
            home,
            self.tmp / "server",
            f"max_file_bytes = {64 * 1024**3}\nquota_bytes = {1024**4}\n",
        )
        proc, self.url = benchkit.start_server(BIN, folder, self.tmp / "server.log")
        self.procs.append(proc)
        # people enrol through the CLI below: the signer must answer their requests
        self.procs.append(benchkit.start_signer(BIN, home.path, self.url, self.tmp / "signer.log"))
        return home

    def env(self, user: str) -> dict[str, str]:
        """The environment of ``user``'s own profile."""
        return {
            **os.environ,
            "SECURE_SEND_HOME": str(self.tmp / "profiles" / user),
            "SECURE_SEND_TEST_KEYSTORE": "1",
        }

    def client(self, what: str, user: str, *argv: str, stdin: bytes = b"") -> tuple[Proc, Any]:
        """Run ``secure-send ARGV --json`` as ``user``: the numbers and the JSON output."""
        proc, out = timed(
            what, [str(CLIENT_BIN), *argv, "--json"], self.stats, self.env(user), stdin
        )
        text = out.decode().strip()
        return proc, (json.loads(text.splitlines()[-1]) if text else None)

    def enrol(self, home: OrgHome, user: str) -> None:
        config = self.tmp / "org-config.json"
        if not config.exists():
            config.write_text(json.dumps(ops.client_config(home, self.url)))
        code = ops.issue_code(home, user)
        argv = ("enrol", "--org-config", str(config), "--user", user, "--device", "pc")
        _, answer = self.client("enrol", user, *argv, stdin=(code + "\n").encode())
        if answer is None or answer.get("status") != "enrolled":
            raise RuntimeError(f"enrol {user}: {answer}")

    # ------------------------------------------------------------ reference side

    def start_nginx(self) -> int:
        proc, port = start_nginx(self.tmp / "nginx")
        self.procs.append(proc)
        self.nginx_dir = self.tmp / "nginx"
        self.nginx_port = port
        return port


def durable(argv: list[str], out: Path, fsync: bool) -> list[str]:
    """``argv``, followed by ``sync OUT`` (an fsync) when ``fsync``."""
    if not fsync:
        return argv
    return ["sh", "-c", 'out="$1"; shift; "$@" && sync "$out"', "sh", str(out), *argv]


@dataclass
class Setup:
    """Everything a round needs."""

    bench: Bench
    plain: Path
    digest: str
    age_keys: list[Path]
    age_recipients: list[str]
    ref_fsync: bool


def round_ours(s: Setup) -> tuple[Step, Step]:
    """Send to the three recipients, receive as the first; check, delete, recall."""
    bench = s.bench
    to = [arg for r in RECIPIENTS for arg in ("--to", r)]
    send_proc, answer = bench.client("send", SENDER, "send", str(s.plain), *to)
    drop_id = str(answer["drop_id"])
    out_dir = bench.tmp / "received"
    try:
        recv_proc, got = bench.client(
            "receive", RECIPIENTS[0], "receive", drop_id, "-o", str(out_dir)
        )
        files = [Path(f) for f in got["files"]]
        if len(files) != 1 or sha256_file(files[0]) != s.digest:
            raise RuntimeError(f"ours: received file differs from the original: {files}")
    finally:
        shutil.rmtree(out_dir, ignore_errors=True)
        bench.client("recall", SENDER, "recall", drop_id)
    return Step([send_proc]), Step([recv_proc])


def round_reference(s: Setup) -> tuple[Step, Step]:
    """age to three recipients + curl PUT; curl GET + age -d as the first."""
    bench = s.bench
    ct = bench.tmp / "ref-ct.age"
    ct2 = bench.tmp / "ref-ct2.age"
    out = bench.tmp / "ref-out.bin"
    url = f"http://127.0.0.1:{bench.nginx_port}/upload/blob"
    stored = bench.nginx_dir / "put" / "upload" / "blob"
    recipients = [arg for r in s.age_recipients for arg in ("-r", r)]
    try:
        send = Step()
        encrypt = ["age", *recipients, "-o", str(ct), str(s.plain)]
        send.procs.append(timed("age", durable(encrypt, ct, s.ref_fsync), bench.stats)[0])
        put = ["curl", "-sS", "--fail", "-T", str(ct), url]
        send.procs.append(timed("curl PUT", durable(put, stored, s.ref_fsync), bench.stats)[0])
        ct.unlink()
        receive = Step()
        get = ["curl", "-sS", "--fail", "-o", str(ct2), url]
        receive.procs.append(timed("curl GET", durable(get, ct2, s.ref_fsync), bench.stats)[0])
        decrypt = ["age", "-d", "-i", str(s.age_keys[0]), "-o", str(out), str(ct2)]
        receive.procs.append(timed("age -d", durable(decrypt, out, s.ref_fsync), bench.stats)[0])
        if sha256_file(out) != s.digest:
            raise RuntimeError("reference: decrypted file differs from the original")
    finally:
        for path in (ct, ct2, out, stored):
            path.unlink(missing_ok=True)
    return send, receive


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def fmt_range(values: list[float]) -> str:
    return f"{median(values):8.2f}  [{min(values):.2f} .. {max(values):.2f}]"


def report(rounds: list[Round], size: int) -> dict[str, Any]:
    """Medians, ratios and PASS/FAIL lines."""
    ours = {
        "send": [r.ours_send.wall_s for r in rounds],
        "receive": [r.ours_receive.wall_s for r in rounds],
        "total": [r.ours_send.wall_s + r.ours_receive.wall_s for r in rounds],
    }
    refs = [r for r in rounds if r.ref_send is not None and r.ref_receive is not None]
    ref = {
        "send": [r.ref_send.wall_s for r in refs if r.ref_send],
        "receive": [r.ref_receive.wall_s for r in refs if r.ref_receive],
    }
    ref["total"] = [a + b for a, b in zip(ref["send"], ref["receive"], strict=True)]
    print(f"\n== medians over {len(rounds)} round(s), {size / MB:.0f} MB file")
    print(f"  {'seconds':10}{'ours median [min .. max]':>32}{'reference median [min .. max]':>36}")
    results: dict[str, Any] = {"ours_s": ours, "reference_s": ref}
    ratios: dict[str, float] = {}
    for key in ("send", "receive", "total"):
        theirs = fmt_range(ref[key]) if ref[key] else "skipped"
        line = f"  {key:10}{fmt_range(ours[key]):>32}{theirs:>36}"
        if ref[key]:
            ratios[key] = median(ref[key]) / median(ours[key])
            line += f"   ref/ours {ratios[key]:.2f}x"
        print(line)
    for key in ("send", "receive", "total"):
        mbs = size / MB / median(ours[key])
        print(f"  ours {key} throughput: {mbs:.1f} MB/s (plaintext MB / wall s)")
    results["ratios"] = ratios
    if "total" in ratios:
        verdict = "PASS" if ratios["total"] >= RATIO_TARGET else "FAIL"
        print(
            f"  ratio reference/ours, total (medians): {ratios['total']:.2f}x"
            f"  (target >= {RATIO_TARGET:.1f}x, ours not slower: {verdict})"
        )
    else:
        print("  ratio reference/ours: SKIPPED (no reference runs)")
    send_rss = max(r.ours_send.rss_mb for r in rounds)
    recv_rss = max(r.ours_receive.rss_mb for r in rounds)
    for what, rss in (("send", send_rss), ("receive", recv_rss)):
        verdict = "PASS" if rss <= RSS_TARGET_MB else "FAIL"
        print(
            f"  peak RSS of our {what} process: {rss:.1f} MB"
            f"  (target <= {RSS_TARGET_MB:.0f} MB: {verdict})"
        )
    if refs:
        ref_send_rss = max(r.ref_send.rss_mb for r in refs if r.ref_send)
        ref_recv_rss = max(r.ref_receive.rss_mb for r in refs if r.ref_receive)
        print(f"  (reference peak RSS: send {ref_send_rss:.1f} MB, receive {ref_recv_rss:.1f} MB)")
    results["ours_peak_rss_mb"] = {"send": send_rss, "receive": recv_rss}
    results["rounds"] = [asdict(r) for r in rounds]
    return results


def tool_version(argv: list[str]) -> str:
    """First line of a ``--version`` output."""
    proc = subprocess.run(argv, capture_output=True, text=True)
    text = (proc.stdout or proc.stderr).strip()
    return text.splitlines()[0] if proc.returncode == 0 and text else "?"


def run(bench: Bench, args: argparse.Namespace) -> dict[str, Any]:
    size: int = args.size
    free = shutil.disk_usage(bench.tmp).free
    if free < 5 * size + 256 * MB:
        raise RuntimeError(f"not enough free space in {bench.tmp}: {free / 1e9:.1f} GB")
    home = bench.start_server()
    for user in (SENDER, *RECIPIENTS):
        bench.enrol(home, user)
    print(
        f"secure-send-server at {bench.url} (max_file_bytes = 64 GiB, quota_bytes = 1 TiB);"
        f" sender {SENDER}, recipients {', '.join(RECIPIENTS)} (one device each)"
    )
    with_ref = shutil.which("nginx") is not None and not args.no_reference
    if shutil.which("nginx") is None:
        print("nginx not found on PATH: the reference (age + curl -> nginx) is SKIPPED")
    for tool in ("age", "age-keygen", "curl"):
        if with_ref and shutil.which(tool) is None:
            print(f"{tool} not found on PATH: the reference (age + curl -> nginx) is SKIPPED")
            with_ref = False
    keys: list[Path] = []
    recipients: list[str] = []
    if with_ref:
        port = bench.start_nginx()
        for i in range(len(RECIPIENTS)):
            key = bench.tmp / f"age-key-{i + 1}.txt"
            subprocess.run(["age-keygen", "-o", str(key)], check=True, capture_output=True)
            keys.append(key)
            recipients.append(
                subprocess.run(
                    ["age-keygen", "-y", str(key)], check=True, capture_output=True, text=True
                ).stdout.strip()
            )
        print(
            f"nginx (dav PUT) at http://127.0.0.1:{port}; age {tool_version(['age', '--version'])}"
        )
    print(f"{os.cpu_count()} CPUs; work dir {bench.tmp}")
    plain = bench.tmp / "plain.bin"
    t0 = time.perf_counter()
    digest = benchkit.random_file(plain, size).hex()
    print(f"made {size / MB:.0f} MB random file in {time.perf_counter() - t0:.1f} s", flush=True)
    setup = Setup(bench, plain, digest, keys, recipients, args.ref_fsync)

    rounds: list[Round] = []
    for rnd in range(1, args.repeat + 1):
        try:
            ours_send, ours_recv = round_ours(setup)
            ref_send, ref_recv = round_reference(setup) if with_ref else (None, None)
        except RuntimeError as err:
            if not args.keep_going:
                raise
            print(f"  round {rnd}: FAILED: {err}", flush=True)
            continue
        rounds.append(Round(ours_send, ours_recv, ref_send, ref_recv))
        print(f"\n  round {rnd}:")
        for what, ours, ref in (
            ("send", ours_send, ref_send),
            ("receive", ours_recv, ref_recv),
        ):
            line = f"    {what:8} ours {ours.wall_s:6.2f} s ({ours.rss_mb:5.1f} MB RSS)"
            if ref is not None:
                line += f"   reference {ref.wall_s:6.2f} s ({ref.detail()})"
            print(line)
        total = ours_send.wall_s + ours_recv.wall_s
        line = f"    {'total':8} ours {total:6.2f} s"
        if ref_send is not None and ref_recv is not None:
            ref_total = ref_send.wall_s + ref_recv.wall_s
            line += f"                    reference {ref_total:6.2f} s"
            line += f"   ref/ours {ref_total / total:.2f}x"
        print(line, flush=True)
    if not rounds:
        raise RuntimeError("no round finished")
    return report(rounds, size)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--size", type=parse_size, default=parse_size("1G"), help="e.g. 1G")
    parser.add_argument("--repeat", type=int, default=3, help="rounds (default 3)")
    parser.add_argument("--workdir", help="parent of the temp dir (default: system temp)")
    parser.add_argument("--keep-going", action="store_true", help="report a failed round and go on")
    parser.add_argument(
        "--ref-fsync", action="store_true", help="the reference fsyncs its outputs (timed)"
    )
    parser.add_argument("--no-reference", action="store_true", help="time ours only")
    parser.add_argument("--json", type=Path, help="write raw results here")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be >= 1")
    if not os.access(GNU_TIME, os.X_OK):
        parser.error(f"GNU time not found at {GNU_TIME}")

    def on_signal(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)  # even when started with SIGINT ignored
    bench = Bench(args.workdir)
    try:
        results = run(bench, args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except RuntimeError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    finally:
        bench.close()
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
