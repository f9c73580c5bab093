"""Benchmark: verifying and refreshing a 100,000-entry directory on the client.

Run from the repository root::

    .venv/bin/python benchmarks/bench_directory.py [--entries 100000] [--repeat 3]

Builds a synthetic organisation in memory (every person with one enrolled
device, so every device-key signature is real), publishes a signed bundle, then
times what a client does:

* a cold load as the client does it (every entry parsed and validated, the Merkle
  root and the signed header checked; device key bindings checked on first use),
  and the same with every binding checked;
* a warm load: a restart, the stored copy verified again against the checkpoint;
* the signer's push to the server (an entries delta, 100 changes), and a client's
  sync by the log after 0, 1 and 100 events (replayed over its verified entries);
* the client's lookups, ``Directory.by_id()`` (one entry looked up: once per inbox
  item) and ``Directory.search_index()``: built on the first call, then kept with
  the verified directory (later calls).

Targets (issue "The directory syncs by its changes"): cold <= 2 s, warm <= 0.5 s,
after 100 changes <= 200 ms. A refresh with no change (``304``) and the traffic of
5,000 clients are in ``bench_directory_traffic.py``; search in ``bench_search.py``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time
from collections.abc import Sequence

import nacl.signing

from secure_send.client.directory_sync import Directory
from secure_send.core.directory import merkle
from secure_send.core.directory.bundle import Bundle, TrustAnchor
from secure_send.core.directory.enrol import DeviceKeys
from secure_send.core.directory.log import Action, Event, apply
from secure_send.core.directory.model import Device, Entry, Kind, Status, device_key_message
from secure_send.core.directory.refresh import Delta, apply_delta
from secure_send.core.directory.sync_delta import SyncDelta, apply_sync
from secure_send.core.directory.trust import RootDocument, SnapshotHeader, body_hash
from secure_send.core.directory.verify import VerifiedDirectory, verify_directory
from secure_send.core.encoding import format_time, utc_now
from secure_send.org.demo_org import scale_rows

NOW = utc_now()


def _device(user: str, name: str, device_id: str = "pc1") -> Device:
    keys = DeviceKeys.generate()
    enc = bytes(keys.encryption.public_key)
    sig = keys.signing.sign(device_key_message(user, device_id, enc)).signature
    return Device(device_id, name, bytes(keys.signing.verify_key), enc, sig, format_time(NOW))


def make_entries(count: int) -> list[Entry]:
    """``count`` people, each with one device (takes a while: real keys)."""
    entries = []
    for row in scale_rows(count):
        entries.append(
            Entry(
                row.id,
                Kind.PERSON,
                row.name_ja,
                row.name_kana,
                row.name_en,
                row.email,
                row.department,
                row.title,
                devices=(_device(row.id, "PC"),),
            )
        )
    return sorted(entries, key=lambda e: e.id)


class Publisher:
    """A minimal in-memory organisation: one root key, one signing key."""

    def __init__(self) -> None:
        self.root_key = nacl.signing.SigningKey.generate()
        self.signing = nacl.signing.SigningKey.generate()
        self.root = RootDocument(
            "bench",
            1,
            format_time(NOW),
            (bytes(self.root_key.verify_key),),
            1,
            bytes(self.signing.verify_key),
            format_time(NOW + dt.timedelta(days=365)),
            "",
        ).signed_by([self.root_key])
        self.anchor = TrustAnchor("bench", self.root.root_keys, 1)
        self.epoch = 0
        self.previous = ""
        self.log: list[bytes] = []

    def publish(self, entries: list[Entry], events: Sequence[bytes] | None = None) -> Bundle:
        """Sign a snapshot; the log gets ``events``, or (None) one dummy event."""
        texts = tuple(e.canonical_bytes().decode() for e in entries)
        self.epoch += 1
        self.log.extend([f"event {self.epoch}".encode()] if events is None else events)
        header = SnapshotHeader(
            "bench",
            self.epoch,
            format_time(NOW),
            format_time(NOW + dt.timedelta(hours=24)),
            len(texts),
            merkle.root(t.encode() for t in texts),
            len(self.log),
            merkle.root(self.log),
            self.previous,
            1,
        ).signed_by(self.signing)
        self.previous = body_hash(header.body())
        return Bundle((self.root,), header, texts)


def _sync_case(pub: Publisher, bundle: Bundle, n: int, repeat: int) -> tuple[list[float], Bundle]:
    """Time ``apply_sync`` of ``n`` real events (half departures, half new devices) that
    ``pub`` publishes over ``bundle``; returns the times and the new bundle."""
    before = verify_directory(bundle.to_bytes(), pub.anchor, now=NOW)  # the client's state
    log = merkle.CompactRange()
    log.extend(merkle.leaf_hash(x) for x in pub.log)
    entries = {e.id: e for e in before.entries}
    people = [e for e in before.entries if e.active][: max(n, 1) * 3 : 3]
    when = format_time(NOW)
    events = []
    for i, person in enumerate(people[:n]):
        seq = len(pub.log) + i
        if i % 2:
            event = Event(seq, when, "bench", Action.DEPART, {"user": person.id})
        else:
            device = _device(person.id, "Laptop", f"sync{seq}").to_json()
            event = Event(seq, when, "bench", Action.ENROL, {"user": person.id, "device": device})
        apply(entries, event)
        events.append(event.canonical_bytes())
    after = pub.publish(sorted(entries.values(), key=lambda e: e.id), events)
    delta = SyncDelta(after.roots, after.header, tuple(events)).to_bytes()
    print(f"sync delta, {n} events: {len(delta)} bytes on the wire")
    times = _timed(lambda: apply_sync(before, log, delta, pub.anchor, now=NOW), repeat)
    return times, after


def _lookups(data: bytes, anchor: TrustAnchor, person: str) -> dict[str, tuple[float, float]]:
    """The first call and the median of 100 later calls of the client's lookups, on one
    fresh verified directory."""
    directory = Directory(verify_directory(data, anchor, now=NOW, lazy_bindings=True), True)
    times: dict[str, tuple[float, float]] = {}
    for name, fn in (
        ("Directory.by_id()[id]", lambda: directory.by_id()[person]),
        ("Directory.search_index()", directory.search_index),
    ):
        first = _timed(fn, 1)[0]
        times[name] = (first, statistics.median(_timed(fn, 100)))
    return times


def _timed(fn: object, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    """Build, publish, and time the client's work."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    t0 = time.perf_counter()
    entries = make_entries(args.entries)
    pub = Publisher()
    data = pub.publish(entries).to_bytes()
    print(
        f"built {len(entries)} entries with devices in {time.perf_counter() - t0:.1f} s; "
        f"bundle {len(data) / 1e6:.1f} MB"
    )

    result: list[VerifiedDirectory] = []
    eager = _timed(lambda: result.append(verify_directory(data, pub.anchor, now=NOW)), args.repeat)
    lazy = _timed(
        lambda: verify_directory(data, pub.anchor, now=NOW, lazy_bindings=True), args.repeat
    )
    # A restart: the stored copy, verified again against the stored checkpoint, as
    # directory_sync._load does (bindings are checked on first use, as after a cold load).
    checkpoint = result[-1].checkpoint
    warm = _timed(
        lambda: verify_directory(data, pub.anchor, checkpoint, now=NOW, lazy_bindings=True),
        args.repeat,
    )

    # 100 changes: 50 departures (devices revoked) and 50 people with a second device.
    changed = list(entries)
    step = max(2, len(changed) // 100)  # spread over the directory, any size >= 100
    for i in range(0, 100, 2):
        k = i * step // 2
        e = changed[k]
        revoked = tuple(Device(**{**d.__dict__, "revoked": format_time(NOW)}) for d in e.devices)
        changed[k] = e.with_changes(status=Status.DEPARTED, devices=revoked)
        f = changed[k + 1]
        extra = _device(f.id, "Laptop", "pc2")
        changed[k + 1] = f.with_changes(devices=(*f.devices, extra))
    before = result[-1]
    bundle2 = pub.publish(changed)
    delta = Delta(
        bundle2.roots,
        bundle2.header,
        tuple(t for t, old in zip(bundle2.entries, before.texts, strict=True) if t != old),
    ).to_bytes()
    proof = merkle.consistency_proof([merkle.leaf_hash(x) for x in pub.log], 1, 2)
    refresh = _timed(
        lambda: apply_delta(before, delta, pub.anchor, consistency_proof=proof, now=NOW),
        args.repeat,
    )

    sync, latest = {}, bundle2
    for n in (0, 1, 100):
        sync[n], latest = _sync_case(pub, latest, n, args.repeat)
    lookups = _lookups(data, pub.anchor, entries[len(entries) // 2].id)

    print(f"\n{'case':<52} {'median':>9} {'min':>9} {'max':>9}  target")
    rows: list[tuple[str, list[float], float | None]] = [
        (f"cold load, client ({args.entries} entries; bindings on use)", lazy, 2.0),
        ("cold load, every device binding checked (server)", eager, None),
        ("warm load (restart: stored copy re-verified)", warm, 0.5),
        ("incremental refresh, 100 changes (entries delta)", refresh, 0.2),
        *((f"sync by the log, {n} events (replayed)", t, 0.2) for n, t in sync.items()),
    ]
    for name, times, target in rows:
        med = statistics.median(times)
        verdict = "" if target is None else f"<= {target} s {'ok' if med <= target else 'MISS'}"
        print(f"{name:<52} {med:8.3f}s {min(times):8.3f}s {max(times):8.3f}s  {verdict}")
    print(f"\n{'client lookup':<52} {'first':>9} {'later':>9}")
    for name, (first, later) in lookups.items():
        print(f"{name:<52} {first * 1e3:7.1f}ms {later * 1e6:7.1f}µs")


if __name__ == "__main__":
    main()
