"""The table ``bench_cluster.py`` ends with: one column per cluster size, figures as
measured and the ratios to the references taken in the same run."""

from __future__ import annotations

from typing import Any

from benchmarks.cluster_measure import MACHINE

MiB = 1 << 20
OTHER = "  of which not this cluster"


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f}"


def _errors(errors: dict[str, int]) -> str:
    if not errors:
        return "0"
    kinds = ", ".join(f"{n}x {kind}" for kind, n in sorted(errors.items()))
    return f"{sum(errors.values())} ({kinds})"


def rows(results: list[dict[str, Any]], drop_size: int, size: int) -> list[tuple[str, ...]]:
    """(label, one cell per cluster) for every figure."""
    d = [r["drops"] for r in results]
    u = [r["upload"] for r in results]
    parts = list(d[0]["cpu_s"])

    def row(label: str, cells: list[str]) -> tuple[str, ...]:
        return (label, *cells)

    big = f"{size / MiB:.0f} MiB"
    table = [
        row("cluster start (s)", [f"{r['start_s']:.1f}" for r in results]),
        row(f"small drops ({drop_size // 1024} KiB) ok", [f"{x['ok']}/{x['drops']}" for x in d]),
        row("  errors", [_errors(x["errors"]) for x in d]),
        row("  latency min (ms)", [_ms(x["min_s"]) for x in d]),
        row("  latency p50 (ms)", [_ms(x["p50_s"]) for x in d]),
        row("  latency p99 (ms)", [_ms(x["p99_s"]) for x in d]),
        row("  latency max (ms)", [_ms(x["max_s"]) for x in d]),
        row("  throughput (drops/s)", [f"{x['drops_per_s']:.1f}" for x in d]),
        row("  burst wall clock (s)", [f"{x['wall_s']:.2f}" for x in d]),
        row("  requests per server", ["/".join(map(str, x["requests_per_server"])) for x in d]),
    ]
    for x in d:  # what the machine's cores did besides this cluster (other work on it)
        cpu = x["cpu_s"]
        cpu[OTHER] = cpu[MACHINE] - sum(v for k, v in cpu.items() if k not in (MACHINE, OTHER))
    table += [
        row(
            f"  CPU s: {p}",
            [f"{x['cpu_s'][p]:.1f} ({x['cpu_s'][p] / x['wall_s']:.2f} cores)" for x in d],
        )
        for p in [*parts, OTHER]
    ]
    table += [
        row(f"{big} ours: client finish (MiB/s)", [f"{x['ours_mib_s']:.0f}" for x in u]),
        row(
            "  client CPU in finish (cores)",
            [f"{x['client_cpu_s'] / x['finish_s']:.2f}" for x in u],
        ),
        row("  client encryption pass (MiB/s)", [f"{x['encrypt_mib_s']:.0f}" for x in u]),
        row("  nginx dav PUT (MiB/s)", [f"{x['nginx_mib_s']:.0f}" for x in u]),
        row("  raw S3, 8 MiB parts x1 (MiB/s)", [f"{x['s3_seq_mib_s']:.0f}" for x in u]),
        row("  raw S3, 8 MiB parts x10 (MiB/s)", [f"{x['s3_par_mib_s']:.0f}" for x in u]),
        row("  ours / nginx", [f"{x['ours_mib_s'] / x['nginx_mib_s']:.2f}x" for x in u]),
        row("  ours / raw S3 x1", [f"{x['ours_mib_s'] / x['s3_seq_mib_s']:.2f}x" for x in u]),
        row("  ours / raw S3 x10", [f"{x['ours_mib_s'] / x['s3_par_mib_s']:.2f}x" for x in u]),
        row(
            "  peak RSS of its server (MiB)",
            [
                f"{x['peak_rss_bytes'] / MiB:.0f} (s{x['server_index']}, "
                f"{x['rss_before_bytes'] / MiB:.0f} before)"
                for x in u
            ],
        ),
    ]
    return table


def print_table(results: list[dict[str, Any]], drops: int, drop_size: int, size: int) -> None:
    """Print the side-by-side table (medians of the big-file rounds)."""
    if not results:
        return
    table = rows(results, drop_size, size)
    head = ("", *[f"{r['servers']} server{'s' if r['servers'] > 1 else ''}" for r in results])
    widths = [max(len(r[i]) for r in [head, *table]) for i in range(len(head))]
    print(f"\n== {drops} concurrent drops, then one {size / MiB:.0f} MiB send, per cluster")
    for line in [head, *table]:
        cells = [
            line[0].ljust(widths[0]),
            *(c.rjust(w) for c, w in zip(line[1:], widths[1:], strict=True)),
        ]
        print("  ".join(cells))
    reset = all(r["upload"]["peak_rss_reset"] for r in results)
    if not reset:
        print("(peak RSS counted from each server's start: /proc/PID/clear_refs was refused)")
