"""Benchmark the blob stores' upload path: the folder store vs S3 (SeaweedFS).

How to run (from the repository root, with the project installed in ``.venv``)::

    .venv/bin/python benchmarks/bench_blob_store.py --size 200M --repeat 3

Everything runs on 127.0.0.1: SeaweedFS is started in a temporary folder
(``tests/engines/seaweed.py``) and stopped at the end. Each round stores one blob of
``--size`` bytes the way a tus PATCH does — :class:`UploadSink` (hashing and writing
4 MiB blocks), ``keep`` (flush, fsync), then ``finish_partial`` — once per store,
alternating. The time covers opening to finished blob. Also measured: reading an S3
blob back to hash it (what a completion costs when another server served an earlier
PATCH of the upload). The bytes come from memory, so the figures are the stores'
(and the hashing's), not a network's.
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from secure_send.server.s3_store import S3BlobStore, s3_client
from secure_send.server.storage import BlobStore, FolderBlobStore
from secure_send.server.upload_sink import BLOCK, HashCache, UploadSink
from tests.engines.seaweed import start_s3

MIB = 1024 * 1024


def _size(text: str) -> int:
    units = {"K": 1024, "M": MIB, "G": 1024 * MIB}
    return int(text[:-1]) * units[text[-1]] if text[-1] in units else int(text)


def store_once(store: BlobStore, upload_id: str, blocks: list[bytes]) -> float:
    """Seconds to store ``blocks`` as one upload and finish it."""
    started = time.perf_counter()
    sink = UploadSink(store, HashCache(), upload_id, 0)
    for block in blocks:
        sink.write([block])
    sink.keep(durable=True)
    store.finish_partial(upload_id, upload_id, sink.end)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", default="200M")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    size = _size(args.size)
    seed = hashlib.shake_256(b"bench").digest(BLOCK)
    blocks = [bytes([i % 256]) + seed[1:] for i in range(size // BLOCK)]
    size = len(blocks) * BLOCK
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        s3 = start_s3(Path(tmp) / "seaweed")
        print(f"SeaweedFS ready in {time.perf_counter() - started:.2f} s")
        try:
            s3.create_bucket("bench")
            client = s3_client(
                s3.endpoint,
                s3.region,
                s3.access_key_file.read_text().strip(),
                s3.secret_key_file.read_text().strip(),
            )
            stores: dict[str, BlobStore] = {
                "folder": FolderBlobStore(Path(tmp) / "server" / "blobs"),
                "s3": S3BlobStore(client, "bench"),
            }
            times: dict[str, list[float]] = {name: [] for name in stores}
            rehash: list[float] = []
            for round_ in range(args.repeat):
                for name, store in stores.items():
                    upload_id = f"{name}-round-{round_:04d}-xxxxxxxx"
                    times[name].append(store_once(store, upload_id, blocks))
                    if name == "s3":
                        started = time.perf_counter()
                        store.hash_blob(upload_id)
                        rehash.append(time.perf_counter() - started)
                    store.delete(upload_id)
            for name, seconds in times.items():
                rate = size / MIB / statistics.median(seconds)
                print(f"{name:6} store {size // MIB} MiB: median {rate:.0f} MiB/s  {seconds}")
            rate = size / MIB / statistics.median(rehash)
            print(f"s3 read back and hash: median {rate:.0f} MiB/s  {rehash}")
        finally:
            s3.stop()


if __name__ == "__main__":
    main()
