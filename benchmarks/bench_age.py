"""Benchmark ``secure-send encrypt/decrypt`` against the reference ``age`` CLI.

How to run (from the repository root, with the project installed in ``.venv``)::

    .venv/bin/python benchmarks/bench_age.py --size 1G --repeat 5
    .venv/bin/python benchmarks/bench_age.py --size 4G --repeat 2 --json bench-4g.json

Needs ``age`` and ``age-keygen`` on PATH and GNU time at ``/usr/bin/time``. The
work directory (``--workdir``, default: the system temp dir) needs about three
times ``--size`` of free space (plaintext, two ciphertexts, one output); avoid a
tmpfs there for large sizes, as that would eat RAM and distort the RSS picture.

What it does: makes one random file of ``--size`` bytes in a fresh temp dir,
a throw-away X25519 identity (``age-keygen``; the identity is only ever passed
as a file, ``-i``, the recipient on argv as ``-r``), and two ciphertexts of the
file: one made by ``age`` and one by ``secure-send``. Then, for ``--repeat``
rounds, it times every case, alternating the tools (ours, age, ours, age ...):

* ``encrypt -> file`` / ``encrypt -> /dev/null``: encrypt the plaintext;
* ``decrypt(age ct) -> file`` / ``-> /dev/null``: both tools decrypt the SAME
  ciphertext, the one made by ``age`` (the fair head-to-head comparison);
* ``decrypt(ours ct) -> file`` / ``-> /dev/null``: both tools decrypt the
  ciphertext made by ``secure-send`` (cross-check; skip with ``--no-ours-ct``).

* ``... stdin|stdout (pipes)``: no file names at all, as in a shell pipeline: the
  input comes through a pipe on stdin and the output leaves through a pipe on stdout
  (``cat IN | TOOL | cat > /dev/null``; both tools pay for the two ``cat``).

File outputs go to the work dir and are deleted (and ``sync``-ed, untimed)
before each run, because ``secure-send`` refuses to overwrite without ``-f``.
``/dev/null`` is passed as-is and is never replaced. Note that ``secure-send``
fsyncs file outputs before its atomic rename, while ``age`` does not, so the
``-> file`` cases include a flush to disk for ours only.

Reported per case: median throughput in MB/s (MB = 10**6 bytes; the plaintext
size divided by wall time of the process), the ratio ours/age of the medians,
and each tool's peak RSS (``/usr/bin/time -f %M``, in MB = 10**6 bytes) as the
maximum over all runs. ``--json FILE`` writes every raw run (wall seconds,
user/sys CPU seconds, max RSS in KiB).

Targets for ``secure-send``:

* throughput >= 1.0x ``age`` for both encrypt and decrypt;
* peak RSS <= 80 MB, at 1 GiB and at 4 GiB alike (i.e. memory must not grow
  with the file size).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.benchkit import parse_size  # noqa: E402

GNU_TIME = "/usr/bin/time"
DEV_NULL = "/dev/null"
MB = 1_000_000
RSS_TARGET_MB = 80.0
RATIO_TARGET = 1.0
TOOLS = ("ours", "age")
_WRITE_BLOCK = 1 << 20


@dataclass
class Run:
    """One timed process."""

    round: int
    wall_s: float
    user_s: float
    sys_s: float
    max_rss_kib: int


@dataclass
class Case:
    """One operation (encrypt or decrypt of a given input to a given output)."""

    name: str
    op: str  # "encrypt" or "decrypt"
    input: Path
    to_file: bool
    input_made_by: str  # "plaintext", "age" or "ours"
    # secure-send fsyncs its output before the atomic rename; age does not. A durable
    # case runs `sync FILE` (an fsync) after age, so both pay for reaching the disk.
    durable_age: bool = False
    # no file names: input on stdin, output on stdout, both pipes (a shell pipeline)
    piped: bool = False
    runs: dict[str, list[Run]] = field(default_factory=lambda: {t: [] for t in TOOLS})


@dataclass
class Setup:
    """Paths and tools shared by every run."""

    workdir: Path
    secure_send: str
    age: str
    identity: Path
    recipient: str
    size: int


def human_size(n: int) -> str:
    """``1073741824`` -> ``1 GiB`` (whole units where possible)."""
    for unit, power in (("TiB", 4), ("GiB", 3), ("MiB", 2), ("KiB", 1)):
        if n % 1024**power == 0:
            return f"{n // 1024**power} {unit}"
    return f"{n} B"


def find_secure_send(explicit: str | None) -> str:
    """The ``secure-send`` script next to this interpreter, else on PATH."""
    if explicit:
        return explicit
    beside = Path(sys.executable).parent / "secure-send"
    if beside.exists():
        return str(beside)
    found = shutil.which("secure-send")
    if found is None:
        sys.exit("secure-send not found; use --secure-send PATH")
    return found


def make_random_file(path: Path, size: int) -> str:
    """Write ``size`` random bytes to ``path``; return their SHA-256 hex digest."""
    digest = hashlib.sha256()
    with open(path, "wb") as f:
        remaining = size
        while remaining:
            block = os.urandom(min(_WRITE_BLOCK, remaining))
            digest.update(block)
            f.write(block)
            remaining -= len(block)
    return digest.hexdigest()


def sha256_file(path: Path) -> str:
    """SHA-256 hex digest of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(_WRITE_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def piped_command(setup: Setup, tool: str, op: str, src: Path) -> list[str]:
    """``cat SRC | TOOL ... | cat > /dev/null``: stdin and stdout are pipes."""
    if tool == "ours":
        args = ["encrypt", "-r", setup.recipient] if op == "encrypt" else ["decrypt"]
        tool_argv = [setup.secure_send, *args]
    else:
        tool_argv = [setup.age, *(["-e", "-r", setup.recipient] if op == "encrypt" else ["-d"])]
    if op == "decrypt":
        tool_argv += ["-i", str(setup.identity)]
    script = 'src="$1"; shift; cat "$src" | "$@" | cat > /dev/null'
    return ["sh", "-c", script, "sh", str(src), *tool_argv]


def command(
    setup: Setup, tool: str, op: str, src: Path, out: str, durable_age: bool = False
) -> list[str]:
    """The argv for one run; the identity always goes in as a file."""
    if tool == "age" and durable_age:
        plain = command(setup, tool, op, src, out)
        return ["sh", "-c", 'out="$1"; shift; "$@" && sync "$out"', "sh", out, *plain]
    if tool == "ours":
        if op == "encrypt":
            return [setup.secure_send, "encrypt", "-r", setup.recipient, "-o", out, str(src)]
        return [setup.secure_send, "decrypt", "-i", str(setup.identity), "-o", out, str(src)]
    if op == "encrypt":
        return [setup.age, "-e", "-r", setup.recipient, "-o", out, str(src)]
    return [setup.age, "-d", "-i", str(setup.identity), "-o", out, str(src)]


def timed(argv: list[str], stats_file: Path) -> tuple[float, float, float, int]:
    """Run ``argv`` under GNU time; return (wall s, user s, sys s, max RSS KiB)."""
    stats_file.unlink(missing_ok=True)
    wrapped = [GNU_TIME, "-f", "%M %U %S", "-o", str(stats_file), *argv]
    start = time.perf_counter()
    proc = subprocess.run(
        wrapped, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        err = proc.stderr.decode(errors="replace").strip()
        raise RuntimeError(f"command failed ({proc.returncode}): {argv}\n{err}")
    # GNU time may prefix lines such as "Command exited ..."; the stats are last.
    rss, user, system = stats_file.read_text().split()[-3:]
    return wall, float(user), float(system), int(rss)


def output_target(setup: Setup, case: Case, tool: str) -> str:
    """A fresh output path in the work dir, or ``/dev/null`` as-is."""
    if not case.to_file:
        return DEV_NULL
    return str(setup.workdir / f"out-{tool}.bin")


def clear_output(target: str) -> None:
    """Remove a regular output file (never touches /dev/null), then flush dirty pages."""
    if target == DEV_NULL:
        return
    path = Path(target)
    if path.is_file() or path.is_symlink():
        path.unlink()
    os.sync()  # untimed: do not bill one run for the previous run's write-back


def make_ciphertext(setup: Setup, tool: str, plaintext: Path) -> Path:
    """Encrypt the plaintext once with ``tool`` (untimed setup step)."""
    ct = setup.workdir / f"ct-{tool}.age"
    subprocess.run(command(setup, tool, "encrypt", plaintext, str(ct)), check=True)
    return ct


def run_one(setup: Setup, case: Case, tool: str, rnd: int, verify_digest: str | None) -> Run:
    """Time one tool on one case; optionally check the decrypted bytes."""
    target = output_target(setup, case, tool)
    clear_output(target)
    if case.piped:
        argv = piped_command(setup, tool, case.op, case.input)
    else:
        argv = command(setup, tool, case.op, case.input, target, case.durable_age)
    wall, user, system, rss = timed(argv, setup.workdir / "time-stats.txt")
    if target != DEV_NULL:
        out = Path(target)
        expected = setup.size if case.op == "decrypt" else None
        if expected is not None and out.stat().st_size != expected:
            raise RuntimeError(f"{tool} {case.name}: wrong output size {out.stat().st_size}")
        if verify_digest is not None and case.op == "decrypt" and sha256_file(out) != verify_digest:
            raise RuntimeError(f"{tool} {case.name}: decrypted bytes differ from the plaintext")
        out.unlink()
    return Run(round=rnd, wall_s=wall, user_s=user, sys_s=system, max_rss_kib=rss)


def throughputs(case: Case, tool: str, size: int) -> list[float]:
    """MB/s of every run of ``tool`` in ``case``."""
    return [size / r.wall_s / MB for r in case.runs[tool]]


def peak_rss_mb(case: Case, tool: str) -> float:
    """Max RSS over all runs, in MB (10**6 bytes)."""
    return max(r.max_rss_kib for r in case.runs[tool]) * 1024 / MB


def summarize(cases: list[Case], size: int) -> list[dict[str, object]]:
    """Per-case medians, ranges, ratio and peak RSS."""
    rows: list[dict[str, object]] = []
    for case in cases:
        row: dict[str, object] = {"case": case.name}
        medians: dict[str, float] = {}
        for tool in TOOLS:
            tp = throughputs(case, tool, size)
            medians[tool] = row[f"{tool}_median_mbps"] = statistics.median(tp)
            row[f"{tool}_min_mbps"] = min(tp)
            row[f"{tool}_max_mbps"] = max(tp)
            row[f"{tool}_peak_rss_mb"] = peak_rss_mb(case, tool)
            row[f"{tool}_median_cpu_s"] = statistics.median(
                r.user_s + r.sys_s for r in case.runs[tool]
            )
        row["ratio"] = medians["ours"] / medians["age"]
        rows.append(row)
    return rows


def print_table(rows: list[dict[str, object]]) -> None:
    """Plain-text table, one line per case."""
    header = (
        f"{'case':<36} {'ours MB/s (min-max)':>22} {'age MB/s (min-max)':>22} "
        f"{'ours/age':>8} {'ours RSS':>9} {'age RSS':>8} {'target':>7}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:

        def rng(tool: str, row: dict[str, object] = row) -> str:
            return (
                f"{row[f'{tool}_median_mbps']:7.1f} "
                f"({row[f'{tool}_min_mbps']:.0f}-{row[f'{tool}_max_mbps']:.0f})"
            )

        ratio = float(str(row["ratio"]))
        rss = float(str(row["ours_peak_rss_mb"]))
        ok = ratio >= RATIO_TARGET and rss <= RSS_TARGET_MB
        print(
            f"{row['case']:<36} {rng('ours'):>22} {rng('age'):>22} "
            f"{ratio:7.2f}x {rss:6.1f} MB {row['age_peak_rss_mb']:5.1f} MB "
            f"{'ok' if ok else 'MISS':>7}"
        )
    print(
        f"target: ours/age >= {RATIO_TARGET:.1f}x and ours peak RSS <= {RSS_TARGET_MB:.0f} MB; "
        "MB = 10^6 bytes; throughput = plaintext bytes / wall time; RSS = max over runs"
    )


def tool_version(argv: list[str]) -> str:
    """First line of a ``--version`` output."""
    proc = subprocess.run(argv, capture_output=True, text=True)
    return (proc.stdout or proc.stderr).strip().splitlines()[0] if proc.returncode == 0 else "?"


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else None)
    p.add_argument("--size", type=parse_size, default=parse_size("1G"), help="e.g. 1G, 4G, 256M")
    p.add_argument("--repeat", type=int, default=5, help="rounds per case (default 5)")
    p.add_argument("--workdir", type=Path, default=None, help="parent of the temp work dir")
    p.add_argument("--json", type=Path, default=None, metavar="FILE", help="write raw numbers")
    p.add_argument("--secure-send", default=None, metavar="PATH", help="secure-send script")
    p.add_argument("--age", default="age", metavar="PATH", help="age binary (default: age)")
    p.add_argument("--age-keygen", default="age-keygen", metavar="PATH")
    p.add_argument("--no-ours-ct", action="store_true", help="skip decrypting our ciphertext")
    p.add_argument(
        "--no-verify", action="store_true", help="skip hashing decrypted output in round 1"
    )
    args = p.parse_args(argv)
    if args.repeat < 1:
        p.error("--repeat must be >= 1")
    if not os.access(GNU_TIME, os.X_OK):
        p.error(f"GNU time not found at {GNU_TIME}")
    age_bin = shutil.which(args.age)
    if age_bin is None:
        p.error(f"age not found: {args.age}")

    parent = args.workdir
    if parent is not None:
        parent.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="bench-age-", dir=parent))
    try:
        return _bench(args, workdir, age_bin)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _bench(args: argparse.Namespace, workdir: Path, age_bin: str) -> int:
    size: int = args.size
    free = shutil.disk_usage(workdir).free
    if free < 3 * size + 64 * MB:
        print(f"not enough free space in {workdir}: {free / 1e9:.1f} GB", file=sys.stderr)
        return 2

    identity = workdir / "identity.txt"
    subprocess.run([args.age_keygen, "-o", str(identity)], check=True, stderr=subprocess.DEVNULL)
    recipient = subprocess.run(
        [args.age_keygen, "-y", str(identity)], check=True, capture_output=True, text=True
    ).stdout.strip()
    setup = Setup(
        workdir=workdir,
        secure_send=find_secure_send(args.secure_send),
        age=age_bin,
        identity=identity,
        recipient=recipient,
        size=size,
    )

    print(f"work dir: {workdir}", flush=True)
    t0 = time.perf_counter()
    plaintext = workdir / "plain.bin"
    digest = make_random_file(plaintext, size)
    print(f"made {human_size(size)} random input in {time.perf_counter() - t0:.1f} s", flush=True)
    ct_age = make_ciphertext(setup, "age", plaintext)
    ct_ours = make_ciphertext(setup, "ours", plaintext)
    if ct_age.stat().st_size != ct_ours.stat().st_size:
        print("warning: age and secure-send ciphertext sizes differ", file=sys.stderr)

    cases = [
        Case("encrypt -> file", "encrypt", plaintext, True, "plaintext"),
        Case("encrypt -> file, age+fsync", "encrypt", plaintext, True, "plaintext", True),
        Case("encrypt -> /dev/null", "encrypt", plaintext, False, "plaintext"),
        Case("decrypt(age ct) -> file", "decrypt", ct_age, True, "age"),
        Case("decrypt(age ct) -> file, age+fsync", "decrypt", ct_age, True, "age", True),
        Case("decrypt(age ct) -> /dev/null", "decrypt", ct_age, False, "age"),
        Case("encrypt stdin|stdout (pipes)", "encrypt", plaintext, False, "plaintext", piped=True),
        Case("decrypt(age ct) stdin|stdout (pipes)", "decrypt", ct_age, False, "age", piped=True),
    ]
    if not args.no_ours_ct:
        cases += [
            Case("decrypt(ours ct) -> file", "decrypt", ct_ours, True, "ours"),
            Case("decrypt(ours ct) -> /dev/null", "decrypt", ct_ours, False, "ours"),
        ]

    _run_rounds(setup, cases, args, digest)

    rows = summarize(cases, size)
    print()
    print(
        f"Secure Send vs age: {human_size(size)} ({size / MB:.0f} MB) random input, "
        f"{args.repeat} rounds, alternating ours/age; {os.cpu_count()} CPUs"
    )
    print(f"ours: {setup.secure_send} ({tool_version([setup.secure_send, '--version'])})")
    print(f"age:  {setup.age} ({tool_version([setup.age, '--version'])})")
    print("decrypt(age ct): both tools decrypt the same ciphertext, made by age (fair comparison)")
    if not args.no_ours_ct:
        print("decrypt(ours ct): both tools decrypt the same ciphertext, made by secure-send")
    print()
    print_table(rows)

    if args.json is not None:
        _write_json(args, setup, cases, rows)
    return 0


def _run_rounds(setup: Setup, cases: list[Case], args: argparse.Namespace, digest: str) -> None:
    """Time every case, alternating the tools; verify decrypted bytes in round 1."""
    for rnd in range(1, args.repeat + 1):
        t_round = time.perf_counter()
        for case in cases:
            check = None if args.no_verify or rnd != 1 else digest
            for tool in TOOLS:  # alternate: ours, age, ours, age ...
                case.runs[tool].append(run_one(setup, case, tool, rnd, check))
        took = time.perf_counter() - t_round
        print(f"round {rnd}/{args.repeat} done in {took:.1f} s", flush=True)


def _write_json(
    args: argparse.Namespace, setup: Setup, cases: list[Case], rows: list[dict[str, object]]
) -> None:
    """Every raw run, for later analysis."""
    size = setup.size
    report = {
        "size_bytes": size,
        "repeat": args.repeat,
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "python": sys.version,
        "secure_send": setup.secure_send,
        "age": setup.age,
        "age_version": tool_version([setup.age, "--version"]),
        "mb": MB,
        "targets": {"ratio_min": RATIO_TARGET, "ours_peak_rss_mb_max": RSS_TARGET_MB},
        "summary": rows,
        "cases": [
            {
                "name": c.name,
                "op": c.op,
                "input": c.input_made_by,
                "output": "file" if c.to_file else "stdout (pipe)" if c.piped else DEV_NULL,
                "runs": {t: [asdict(r) for r in c.runs[t]] for t in TOOLS},
            }
            for c in cases
        ],
    }
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    print(f"raw numbers: {args.json}")


if __name__ == "__main__":
    sys.exit(main())
