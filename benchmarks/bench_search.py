"""Benchmark the recipient picker's directory search at directory scale.

How to run (from the repository root, with the project installed in ``.venv``)::

    .venv/bin/python benchmarks/bench_search.py
    .venv/bin/python benchmarks/bench_search.py --count 100000 --rounds 5 --check

What it does: generates ``--count`` synthetic entries (common Japanese surnames and given
names with their readings, romaji from the readings, city-hall departments and titles,
about 5 % departed, one role mailbox per department; deterministic for ``--seed``, see
:func:`secure_send.org.names_ja.synthetic_entries`), builds a
:class:`~secure_send.core.directory.search.SearchIndex` ``--builds`` times, then runs
every as-you-type query (each prefix of names typed in romaji, kana, kanji, of emails,
departments, and a few misses) ``--rounds`` times, timing each ``search()`` call.

Reported: the build times, and p50/p95/max latency per query length and overall.
Targets: build <= 1 s; p95 <= 20 ms for queries of 1-4 characters. ``--check`` exits
with status 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import defaultdict

from secure_send.core.directory.model import Entry
from secure_send.core.directory.search import SearchIndex
from secure_send.org.names_ja import synthetic_entries

BUILD_TARGET_S = 1.0
P95_TARGET_MS = 20.0

# Whole words whose every prefix is typed, one keystroke at a time.
TYPED = [
    # romaji (surnames, given names, email local parts, role mailboxes)
    "sato", "satou", "suzuki", "takahashi", "tanaka", "watanabe", "ito", "yamamoto",
    "nakamura", "kobayashi", "saito", "ono", "ohno", "hanako", "ichiro", "yuko",
    "hanako.sato", "jinji", "jinji-nenmatsu", "kikaku", "shoko",
    # kana, hiragana and katakana, full- and half-width
    "さとう", "すずき", "たかはし", "たなか", "わたなべ", "やまもと", "こばやし", "はなこ",
    "サトウ", "スズキ", "ｻﾄｳ", "ﾀﾅｶ", "いとう", "おおの",
    # kanji names, variant kanji, departments and titles
    "佐藤", "鈴木", "高橋", "髙橋", "田中", "渡辺", "渡邊", "山本", "花子", "佐々木",
    "人事", "人事課", "総務", "年末調整", "税務部", "保健所", "課長", "主任",
    # full-width Latin
    "\uff33\uff21\uff34\uff2f",
]  # fmt: skip
# Queries that match nothing (the slowest case: every scan runs to the end).
MISSES = ["xq", "qqqq", "zzz", "ぬぬぬ", "へへへへ", "龘", "xyzw"]


def as_you_type(words: list[str], misses: list[str]) -> list[str]:
    """Every prefix of each typed word, and the misses; duplicates removed, order kept."""
    queries = [w[:n] for w in words for n in range(1, len(w) + 1)] + misses
    return list(dict.fromkeys(queries))


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile of ``values`` (``pct`` in 0..100)."""
    ordered = sorted(values)
    rank = max(1, round(pct / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def time_builds(entries: list[Entry], builds: int) -> tuple[SearchIndex, list[float]]:
    """Build the index ``builds`` times (at least once); return the last index and the times."""
    times = []
    for _ in range(max(builds, 1)):
        start = time.perf_counter()
        index = SearchIndex(entries)
        times.append(time.perf_counter() - start)
    return index, times


def time_queries(index: SearchIndex, queries: list[str], rounds: int) -> dict[str, list[float]]:
    """Latency (ms) of every call, grouped by query length ("1" .. "4", "5+")."""
    by_length: dict[str, list[float]] = defaultdict(list)
    for _ in range(rounds):
        for query in queries:
            start = time.perf_counter()
            index.search(query)
            elapsed = (time.perf_counter() - start) * 1000
            by_length[str(len(query)) if len(query) < 5 else "5+"].append(elapsed)
    return by_length


def report(build_times: list[float], by_length: dict[str, list[float]], count: int) -> bool:
    """Print the tables; return whether both targets were met."""
    print(f"\nindex build, {count:,} entries: " + ", ".join(f"{t:.3f} s" for t in build_times))
    print(f"  median {statistics.median(build_times):.3f} s, max {max(build_times):.3f} s")
    print(f"\n{'query length':>12} {'calls':>6} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    short: list[float] = []
    everything: list[float] = []
    for length in sorted(by_length):
        values = by_length[length]
        everything += values
        short += values if length != "5+" else []
        print(
            f"{length:>12} {len(values):>6} {percentile(values, 50):>8.2f} "
            f"{percentile(values, 95):>8.2f} {max(values):>8.2f}"
        )
    for label, values in (("1-4 chars", short), ("all", everything)):
        print(
            f"{label:>12} {len(values):>6} {percentile(values, 50):>8.2f} "
            f"{percentile(values, 95):>8.2f} {max(values):>8.2f}"
        )
    build_ok = max(build_times) <= BUILD_TARGET_S
    query_ok = percentile(short, 95) <= P95_TARGET_MS
    print(f"\ntarget build <= {BUILD_TARGET_S} s: {'met' if build_ok else 'MISSED'}")
    print(f"target p95 (1-4 chars) <= {P95_TARGET_MS} ms: {'met' if query_ok else 'MISSED'}")
    return build_ok and query_ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000, help="entries (default 100000)")
    parser.add_argument("--seed", type=int, default=1, help="generator seed (default 1)")
    parser.add_argument("--builds", type=int, default=3, help="index builds (default 3)")
    parser.add_argument("--rounds", type=int, default=3, help="passes over the queries")
    parser.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    entries = synthetic_entries(args.count, seed=args.seed)
    print(f"generated {len(entries):,} entries in {time.perf_counter() - start:.1f} s")
    index, build_times = time_builds(entries, args.builds)
    queries = as_you_type(TYPED, MISSES)
    print(f"{len(queries)} distinct queries x {args.rounds} rounds")
    by_length = time_queries(index, queries, args.rounds)
    met = report(build_times, by_length, len(entries))
    return 1 if args.check and not met else 0


if __name__ == "__main__":
    sys.exit(main())
