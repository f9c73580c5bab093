"""Benchmark: the cost of self-monitoring per directory sync (a client watching its own entry).

Run from the repository root::

    .venv/bin/python benchmarks/bench_own_devices.py [--entries 100000] [--repeat 200]

Builds a synthetic verified directory (``bench_directory.make_entries``: every person
with one real device), then times what every sync adds on the client:
``own_devices.check`` (find the person's entry, judge each device, compare with the
stored alerts) and, for scale, ``recipient_key_changes`` for one recipient. Both are
reported beside the cost of a warm verification of the same directory, which every
sync pays anyway.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench_directory import Publisher, make_entries
from secure_send.client import own_devices
from secure_send.client.directory_sync import Directory
from secure_send.client.key_changes import recipient_key_changes
from secure_send.client.profile import DeviceIdentity, Profile
from secure_send.core.directory.enrol import DeviceKeys
from secure_send.core.directory.verify import verify_directory
from secure_send.core.encoding import utc_now


def _ms(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[int(len(ordered) * 0.95) - 1]
    return f"median {statistics.median(ordered) * 1000:.3f} ms, p95 {p95 * 1000:.3f} ms"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    entries = make_entries(args.entries)
    pub = Publisher()
    data = pub.publish(entries).to_bytes()
    verified = verify_directory(data, pub.anchor, now=utc_now())
    start = time.perf_counter()
    verify_directory(data, pub.anchor, now=utc_now(), known_leaves=verified.leaf_hashes)
    warm = time.perf_counter() - start
    directory = Directory(verified, fresh=True)
    me_entry = entries[len(entries) // 2]
    me = DeviceIdentity(me_entry.id, me_entry.devices[0].id)
    keys = DeviceKeys.generate()  # not the listed device: the check reports it as unknown
    with tempfile.TemporaryDirectory() as folder:
        profile = Profile(Path(folder)).ensure()
        checks = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            own_devices.check(profile, me, keys, directory)
            checks.append(time.perf_counter() - t)
        changes = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            recipient_key_changes(profile, [entries[0]])
            changes.append(time.perf_counter() - t)
    print(f"entries: {args.entries}")
    print(f"warm verification of the directory (every sync): {warm * 1000:.0f} ms")
    print(f"own_devices.check per sync: {_ms(checks)}")
    print(f"recipient_key_changes (one recipient): {_ms(changes)}")


if __name__ == "__main__":
    main()
