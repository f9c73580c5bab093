"""Benchmark ``secure-send encrypt --suite cms`` / ``decrypt`` against ``age`` and ``openssl cms``.

How to run (from the repository root, with the project installed in ``.venv``; by hand,
never as a test)::

    .venv/bin/python benchmarks/bench_cms.py --size 1G --repeat 3
    .venv/bin/python benchmarks/bench_cms.py --size 1G --rss-sizes 1G,4G --json cms.json

Needs ``age``, ``age-keygen`` and ``openssl`` (3.x) on PATH and GNU time at
``/usr/bin/time``. The work directory
(``--workdir``, default: the system temp dir) needs about four times the largest size
of free space; avoid a tmpfs there.

What it does: makes a random file of ``--size`` bytes, a P-256 key and self-signed
certificate (``openssl req``), an age identity (``age-keygen``), and one ciphertext per
tool. Then, for ``--repeat`` rounds, it times every case with the tools alternating
(ours, age, ours, age, ...), each run a fresh process:

* ``encrypt -> file`` / ``-> /dev/null``: encrypt the plaintext;
* ``decrypt -> file`` / ``-> /dev/null``: each tool decrypts its own ciphertext (CMS
  for ours, age for age: two formats, so no common ciphertext);

then the same against ``openssl cms`` (``-encrypt -binary -stream -outform DER
-aes-256-gcm -keyid -keyopt ecdh_kdf_md:sha256`` and ``-decrypt -binary -inform DER``)
on a plaintext of ``--openssl-size`` (at most 512 MiB: ``openssl cms -decrypt`` holds
the whole message in memory, so it is compared at that size, not at 1 GiB). Here both
tools decrypt the SAME ciphertext, the one openssl made.

``secure-send`` fsyncs a file output before its atomic rename; ``age`` and ``openssl``
do not, so for ``-> file`` cases a ``sync FILE`` runs after them (inside the timing).
To ``/dev/null`` our CMS decryption first holds the plaintext in a private temporary
file (the tag comes last) and copies it out after the tag verified: that cost is in
our figures.

Reported: median throughput in GB/s (GB = 10**9 bytes; plaintext bytes / wall time of
the process), min-max, the ratio ours/other of the medians, and peak RSS per tool
(GNU time's ``%M``, the child's ``ru_maxrss``), the max over runs. ``--rss-sizes``
also runs our encrypt and decrypt once at each size (default 1 GiB and 4 GiB) and
reports the peak RSS.

Targets (issue 21): our CMS encrypt >= 1.5x ``age`` encrypt; our peak RSS <= 80 MB at
1 GiB and 4 GiB alike.
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
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.bench_age import (  # noqa: E402
    find_secure_send,
    human_size,
    make_random_file,
    sha256_file,
    tool_version,
)
from benchmarks.benchkit import parse_size  # noqa: E402

GB = 1_000_000_000
MB = 1_000_000
RSS_TARGET_MB = 80.0
ENCRYPT_TARGET = 1.5
OPENSSL_MAX = 512 * 1024 * 1024
DEV_NULL = "/dev/null"
GNU_TIME = "/usr/bin/time"


@dataclass
class Tools:
    secure_send: str
    workdir: Path
    key: Path
    cert: Path
    age_identity: Path
    age_recipient: str


@dataclass
class Case:
    name: str
    op: str  # encrypt | decrypt
    to_file: bool
    other: str  # "age" or "openssl"
    size: int
    inputs: dict[str, Path]  # tool -> input
    wall: dict[str, list[float]] = field(default_factory=dict)
    rss_kib: dict[str, list[int]] = field(default_factory=dict)


def argv_for(t: Tools, tool: str, op: str, src: Path, out: str) -> list[str]:
    """One run's command line (keys always from files; the age recipient is public)."""
    if tool == "ours":
        if op == "encrypt":
            return [t.secure_send, "encrypt", "--suite", "cms", "--cert", str(t.cert),
                    "-o", out, str(src)]  # fmt: skip
        return [t.secure_send, "decrypt", "-i", str(t.key), "-o", out, str(src)]
    if tool == "age":
        if op == "encrypt":
            return ["age", "-e", "-r", t.age_recipient, "-o", out, str(src)]
        return ["age", "-d", "-i", str(t.age_identity), "-o", out, str(src)]
    if op == "encrypt":
        return ["openssl", "cms", "-encrypt", "-binary", "-stream", "-outform", "DER",
                "-aes-256-gcm", "-recip", str(t.cert), "-keyid", "-keyopt",
                "ecdh_kdf_md:sha256", "-in", str(src), "-out", out]  # fmt: skip
    return ["openssl", "cms", "-decrypt", "-binary", "-inform", "DER", "-in", str(src),
            "-recip", str(t.cert), "-inkey", str(t.key), "-out", out]  # fmt: skip


def timed(argv: list[str]) -> tuple[float, int]:
    """Run ``argv`` under GNU time; (wall seconds, its peak RSS in KiB).

    Not ``os.wait4``'s ``ru_maxrss``: that counts the benchmark's own pages shared
    with the child between fork and exec (~24 MB for every tool here)."""
    with tempfile.NamedTemporaryFile(prefix="bench-cms-time-") as stats:
        wrapped = [GNU_TIME, "-f", "%M", "-o", stats.name, *argv]
        start = time.perf_counter()
        proc = subprocess.run(
            wrapped, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            err = proc.stderr.decode(errors="replace")
            raise RuntimeError(f"failed ({proc.returncode}): {argv}\n{err}")
        return wall, int(Path(stats.name).read_text().split()[-1])


def run_one(t: Tools, case: Case, tool: str, verify: str | None) -> None:
    out = str(t.workdir / f"out-{tool}.bin") if case.to_file else DEV_NULL
    if out != DEV_NULL:
        Path(out).unlink(missing_ok=True)
    os.sync()  # untimed: no run pays for the previous one's write-back
    argv = argv_for(t, tool, case.op, case.inputs[tool], out)
    if out != DEV_NULL and tool != "ours":  # ours fsyncs before its rename
        argv = ["sh", "-c", 'out="$1"; shift; "$@" && sync "$out"', "sh", out, *argv]
    wall, rss = timed(argv)
    case.wall.setdefault(tool, []).append(wall)
    case.rss_kib.setdefault(tool, []).append(rss)
    if out != DEV_NULL:
        if verify is not None and case.op == "decrypt" and sha256_file(Path(out)) != verify:
            raise RuntimeError(f"{tool} {case.name}: decrypted bytes differ")
        Path(out).unlink()


def encrypt_once(t: Tools, tool: str, src: Path, name: str) -> Path:
    out = t.workdir / name
    timed(argv_for(t, tool, "encrypt", src, str(out)))
    return out


def row(case: Case) -> dict[str, object]:
    med = {k: statistics.median(case.size / w / GB for w in v) for k, v in case.wall.items()}
    return {
        "case": f"{case.name} ({human_size(case.size)})",
        "other": case.other,
        **{f"{k}_gbps": med[k] for k in med},
        **{f"{k}_min_gbps": min(case.size / w / GB for w in v) for k, v in case.wall.items()},
        **{f"{k}_max_gbps": max(case.size / w / GB for w in v) for k, v in case.wall.items()},
        **{f"{k}_rss_mb": max(v) * 1024 / MB for k, v in case.rss_kib.items()},
        "ratio": med["ours"] / med[case.other],
    }


def print_table(rows: list[dict[str, object]]) -> None:
    head = (f"{'case':<34} {'ours GB/s (min-max)':>21} {'other GB/s (min-max)':>24} "
            f"{'ours/other':>10} {'ours RSS':>9} {'other RSS':>9}")  # fmt: skip
    print(head)
    print("-" * len(head))
    for r in rows:
        other = str(r["other"])

        def rng(k: str, r: dict[str, object] = r) -> str:
            return f"{r[f'{k}_gbps']:.2f} ({r[f'{k}_min_gbps']:.2f}-{r[f'{k}_max_gbps']:.2f})"

        print(
            f"{r['case']:<34} {rng('ours'):>21} {other + ' ' + rng(other):>24} "
            f"{float(str(r['ratio'])):9.2f}x {float(str(r['ours_rss_mb'])):6.1f} MB "
            f"{float(str(r[f'{other}_rss_mb'])):6.1f} MB"
        )


def peak_rss(t: Tools, size: int) -> dict[str, float]:
    """Our encrypt and decrypt once at ``size``: their peak RSS in MB."""
    plain = t.workdir / "rss-plain.bin"
    make_random_file(plain, size)
    try:
        ct = t.workdir / "rss-ct.der"
        _, enc = timed(argv_for(t, "ours", "encrypt", plain, str(ct)))
        plain.unlink()
        out = t.workdir / "rss-out.bin"
        _, dec = timed(argv_for(t, "ours", "decrypt", ct, str(out)))
        return {"encrypt": enc * 1024 / MB, "decrypt": dec * 1024 / MB}
    finally:
        for name in ("rss-plain.bin", "rss-ct.der", "rss-out.bin"):
            (t.workdir / name).unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else None)
    p.add_argument("--size", type=parse_size, default=parse_size("1G"))
    p.add_argument("--openssl-size", type=parse_size, default=parse_size("512M"))
    p.add_argument("--rss-sizes", default="1G,4G", help="comma-separated; '' to skip")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--workdir", type=Path, default=None)
    p.add_argument("--json", type=Path, default=None, metavar="FILE")
    p.add_argument("--secure-send", default=None, metavar="PATH")
    args = p.parse_args(argv)
    if args.openssl_size > OPENSSL_MAX:
        p.error("--openssl-size: at most 512M (openssl cms -decrypt holds it all in memory)")
    for tool in ("age", "age-keygen", "openssl"):
        if shutil.which(tool) is None:
            p.error(f"{tool} not found")
    workdir = Path(tempfile.mkdtemp(prefix="bench-cms-", dir=args.workdir))
    try:
        return _bench(args, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _setup(args: argparse.Namespace, workdir: Path) -> Tools:
    key, cert, ident = workdir / "key.pem", workdir / "cert.pem", workdir / "age.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=bench",
         "-addext", "subjectKeyIdentifier=hash"],
        check=True, capture_output=True,
    )  # fmt: skip
    subprocess.run(["age-keygen", "-o", str(ident)], check=True, capture_output=True)
    recipient = subprocess.run(
        ["age-keygen", "-y", str(ident)], check=True, capture_output=True, text=True
    ).stdout.strip()
    return Tools(find_secure_send(args.secure_send), workdir, key, cert, ident, recipient)


def _bench(args: argparse.Namespace, workdir: Path) -> int:
    rss_sizes = [parse_size(s) for s in args.rss_sizes.split(",") if s.strip()]
    need = 3 * args.size + 3 * args.openssl_size + 2 * max(rss_sizes, default=0)
    if shutil.disk_usage(workdir).free < need:
        print(f"not enough free space in {workdir}", file=sys.stderr)
        return 2
    t = _setup(args, workdir)
    print(f"work dir: {workdir}", flush=True)
    plain = workdir / "plain.bin"
    digest = make_random_file(plain, args.size)
    ct = {"ours": encrypt_once(t, "ours", plain, "ct.der"),
          "age": encrypt_once(t, "age", plain, "ct.age")}  # fmt: skip
    small = workdir / "plain-openssl.bin"
    small_digest = make_random_file(small, args.openssl_size)
    ct_ossl = encrypt_once(t, "openssl", small, "ct-openssl.der")
    cases: list[Case] = []
    for op, inputs in (("encrypt", {"ours": plain, "age": plain}), ("decrypt", ct)):
        for to_file in (True, False):
            where = "file" if to_file else DEV_NULL
            cases.append(Case(f"{op} -> {where}", op, to_file, "age", args.size, inputs))
    for op, src in (("encrypt", small), ("decrypt", ct_ossl)):
        for to_file in (True, False):
            where = "file" if to_file else DEV_NULL
            inputs = {"ours": src, "openssl": src}
            cases.append(Case(f"{op} -> {where}", op, to_file, "openssl", args.openssl_size,
                              inputs))  # fmt: skip
    for rnd in range(1, args.repeat + 1):
        started = time.perf_counter()
        for case in cases:
            check = (digest if case.other == "age" else small_digest) if rnd == 1 else None
            for tool in ("ours", case.other):  # alternate
                run_one(t, case, tool, check)
        print(f"round {rnd}/{args.repeat} done in {time.perf_counter() - started:.1f} s",
              flush=True)  # fmt: skip
    for path in (plain, small, *ct.values(), ct_ossl):
        path.unlink()
    rss = {human_size(s): peak_rss(t, s) for s in rss_sizes}
    rows = [row(c) for c in cases]
    _report(args, t, rows, rss)
    if args.json is not None:
        raw = [{"name": c.name, "size": c.size, "wall_s": c.wall, "rss_kib": c.rss_kib}
               for c in cases]  # fmt: skip
        args.json.write_text(json.dumps({"summary": rows, "rss_mb": rss, "runs": raw}, indent=2))
    return 0


def _report(
    args: argparse.Namespace,
    t: Tools,
    rows: list[dict[str, object]],
    rss: dict[str, dict[str, float]],
) -> None:
    print()
    print(f"Secure Send CMS vs age and openssl cms: {args.repeat} rounds, alternating; "
          f"{os.cpu_count()} CPUs")  # fmt: skip
    print(f"ours:    {t.secure_send} ({tool_version([t.secure_send, '--version'])})")
    print(f"age:     {tool_version(['age', '--version'])}")
    print(f"openssl: {tool_version(['openssl', 'version'])}")
    print(f"  compared at {human_size(args.openssl_size)}: openssl cms -decrypt holds the "
          "whole message in memory")  # fmt: skip
    print()
    print_table(rows)
    enc = next(r for r in rows if r["other"] == "age" and "encrypt -> /dev/null" in str(r["case"]))
    ratio = float(str(enc["ratio"]))
    verdict = "ok" if ratio >= ENCRYPT_TARGET else "MISS"
    print(f"\nencrypt vs age (-> /dev/null): {ratio:.2f}x, target >= {ENCRYPT_TARGET}x: {verdict}")
    for size, peak in rss.items():
        worst = max(peak.values())
        verdict = "ok" if worst <= RSS_TARGET_MB else "MISS"
        print(f"our peak RSS at {size}: encrypt {peak['encrypt']:.1f} MB, "
              f"decrypt {peak['decrypt']:.1f} MB "
              f"(target <= {RSS_TARGET_MB:.0f} MB: {verdict})")  # fmt: skip
    print("GB = 10^9 bytes; throughput = plaintext bytes / wall time of the process")


if __name__ == "__main__":
    sys.exit(main())
