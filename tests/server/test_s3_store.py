"""The S3 blob store against a real SeaweedFS: parts and tails across part boundaries,
continuing on another store instance (another server), cutting back, completion,
orphans, ranged reads and the configuration checks."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from secure_send.server import upload_sink
from secure_send.server.config import ConfigError, ServerConfig
from secure_send.server.s3_parts import PART
from secure_send.server.s3_store import S3BlobStore, open_s3_store
from secure_send.server.storage import StorageError
from tests.engines.seaweed import S3Server
from tests.server.conftest import with_s3

# PostgreSQL/S3 only: run once, in the scale-out pass (make test; conftest.py)
pytestmark = pytest.mark.scale_out

ID = "U" * 22
DATA = hashlib.shake_256(b"ciphertext").digest(3 * PART + 4321)  # three parts and a tail


def s3_config(tmp: Path, server: S3Server, bucket: str) -> ServerConfig:
    """A configuration naming the test bucket (``check()`` is not run: it wants a
    PostgreSQL URL beside S3, which these store-level tests do not need)."""
    return with_s3(ServerConfig(home=tmp), server, bucket)


@pytest.fixture
def config(tmp_path: Path, seaweed: S3Server, s3_bucket: str) -> ServerConfig:
    return s3_config(tmp_path, seaweed, s3_bucket)


@pytest.fixture
def store(config: ServerConfig) -> S3BlobStore:
    return open_s3_store(config)


def leftovers(store: S3BlobStore) -> tuple[list[str], list[str]]:
    """Multipart uploads in progress and objects outside ``blobs/`` (tails)."""
    uploads = store.client.list_multipart_uploads(Bucket=store.bucket).get("Uploads", [])
    objects = store.client.list_objects_v2(Bucket=store.bucket).get("Contents", [])
    return [u["Key"] for u in uploads], [o["Key"] for o in objects if o["Key"] != f"blobs/{ID}"]


def write_flushed(store: S3BlobStore, start: int, end: int, data: bytes = DATA) -> None:
    """What one PATCH does: open at ``start``, append, flush; the writer is dropped
    without close, as a killed server would leave it."""
    writer = store.open_partial(ID, start)
    writer.write([data[start:end]])
    writer.flush()


@pytest.mark.parametrize("cut", [0, 1000, PART, 2 * PART + 123])
def test_another_instance_continues_at_every_offset_kind(
    config: ServerConfig, store: S3BlobStore, cut: int
) -> None:
    write_flushed(store, 0, cut)
    other = open_s3_store(config)  # another server: nothing shared but the bucket
    assert other.partial_exists(ID)
    assert ID in other.partial_ids()
    write_flushed(other, cut, len(DATA))
    assert other.partial_size(ID) == len(DATA)

    other.finish_partial(ID, ID, len(DATA))

    assert store.read(ID) == DATA
    assert store.hash_blob(ID) == hashlib.sha256(DATA).digest()
    assert leftovers(store) == ([], [])
    assert not store.partial_exists(ID)
    assert store.partial_ids() == []


def test_flush_stores_the_tail_for_the_end_and_open_clears_the_others(
    store: S3BlobStore,
) -> None:
    write_flushed(store, 0, 100)
    write_flushed(store, 100, PART + 50)  # a part and a new tail; tail-100 still there
    tails = sorted(leftovers(store)[1])
    assert tails == [f"partial/{ID}/tail-100", f"partial/{ID}/tail-{PART + 50}"]
    assert store.partial_size(ID) == PART + 50
    store.open_partial(ID, PART + 50).close()  # the database says PART + 50: the rest is stale
    assert leftovers(store)[1] == [f"partial/{ID}/tail-{PART + 50}"]
    # at a part boundary the tail holds no bytes, only the parts' ETags
    write_flushed(store, PART + 50, 2 * PART)
    store.open_partial(ID, 2 * PART).close()
    assert leftovers(store)[1] == [f"partial/{ID}/tail-{2 * PART}"]
    tail = store.client.get_object(Bucket=store.bucket, Key=f"partial/{ID}/tail-{2 * PART}")
    assert tail["Body"].read().endswith(b'"]}\n')


def test_unflushed_bytes_are_not_stored(store: S3BlobStore) -> None:
    writer = store.open_partial(ID, 0)
    writer.write([DATA[:500]])
    writer.close()
    with pytest.raises(StorageError, match="lost"):
        store.open_partial(ID, 500)


def test_truncate_restores_the_start_and_stale_parts_are_replaced(store: S3BlobStore) -> None:
    start = PART - 10
    write_flushed(store, 0, start)
    writer = store.open_partial(ID, start)
    writer.write([b"\xff" * (2 * PART)])  # two stale parts uploaded, then discarded
    writer.truncate(start)
    with pytest.raises(ValueError, match="cut back"):
        writer.truncate(start + 1)
    writer.write([DATA[start:]])
    writer.flush()
    writer.close()
    store.finish_partial(ID, ID, len(DATA))
    assert store.read(ID) == DATA
    assert leftovers(store) == ([], [])


def test_completion_uses_exactly_the_recorded_length(store: S3BlobStore) -> None:
    # a discarded PATCH left a tail beyond the recorded end and parts past it
    write_flushed(store, 0, 2 * PART + 7, b"\xee" * len(DATA))
    write_flushed(store, 0, PART + 3)  # re-opened at 0: parts 1 and the tail rewritten
    store.finish_partial(ID, ID, PART + 3)
    assert store.read(ID) == DATA[: PART + 3]
    assert leftovers(store) == ([], [])


def test_zero_length_and_missing_data(store: S3BlobStore) -> None:
    store.open_partial(ID, 0).close()
    store.finish_partial(ID, ID, 0)
    assert store.read(ID) == b""
    assert store.exists(ID)
    assert leftovers(store) == ([], [])
    other = "V" * 22
    store.open_partial(other, 0).close()
    with pytest.raises(StorageError, match="lost"):
        store.finish_partial(other, other, 10)  # no tail-10: never flushed
    with pytest.raises(StorageError, match="lost"):
        store.open_partial("W" * 22, 2 * PART)  # no multipart upload at all
    with pytest.raises(StorageError):
        store.finish_partial(other, "X" * 22, 0)  # S3 finishes in place only


def test_delete_partial_leaves_nothing(store: S3BlobStore) -> None:
    write_flushed(store, 0, PART + 1)
    store.delete_partial(ID)
    assert leftovers(store) == ([], [])
    assert store.partial_ids() == []
    assert store.partial_size(ID) == 0
    store.delete_partial(ID)  # again: nothing to do


def test_duplicate_multipart_uploads_keep_the_newest(store: S3BlobStore) -> None:
    key = f"blobs/{ID}"
    store.client.create_multipart_upload(Bucket=store.bucket, Key=key)
    time.sleep(1.1)  # S3 orders by Initiated, to the second
    newest = store.client.create_multipart_upload(Bucket=store.bucket, Key=key)["UploadId"]
    store.open_partial(ID, 0).close()
    uploads = store.client.list_multipart_uploads(Bucket=store.bucket)["Uploads"]
    assert [u["UploadId"] for u in uploads] == [newest]


def test_every_checkpoint_of_a_long_patch_is_stored_first(
    config: ServerConfig, store: S3BlobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(upload_sink, "CHECKPOINT", PART // 2)
    other, recorded = open_s3_store(config), []

    def checkpoint(end: int) -> None:  # another server can continue from each one
        other.open_partial(ID, end).close()
        recorded.append(end)

    sink = upload_sink.UploadSink(store, upload_sink.HashCache(), ID, 0, checkpoint)
    for start in range(0, 2 * PART, PART // 4):
        sink.write([DATA[start : start + PART // 4]])
    assert recorded == [PART // 2, PART, 3 * PART // 2, 2 * PART]


def test_the_store_cannot_hash_an_unfinished_upload(store: S3BlobStore) -> None:
    write_flushed(store, 0, 10)
    assert store.hash_partial(ID) is None


def test_blobs_read_in_ranges(store: S3BlobStore) -> None:
    store.write(ID, DATA)
    ranges: list[str] = []

    def seen(params: dict[str, Any], **_: Any) -> None:
        ranges.append(params["headers"].get("Range", ""))

    store.client.meta.events.register("before-call.s3.GetObject", seen)
    with store.open(ID) as src:
        src.seek(2 * PART)
        assert src.read(1000) == DATA[2 * PART : 2 * PART + 1000]
        assert src.read(1000) == DATA[2 * PART + 1000 : 2 * PART + 2000]  # same response
        src.seek(5)
        assert src.read(10) == DATA[5:15]
        src.seek(len(DATA))
        assert src.read(10) == b""
    last = len(DATA) - 1
    assert ranges == [f"bytes={2 * PART}-{last}", f"bytes=5-{last}"]


def test_missing_blobs(store: S3BlobStore) -> None:
    with pytest.raises(StorageError):
        store.open(ID)
    with pytest.raises(StorageError):
        store.read(ID)
    assert not store.exists(ID)
    store.delete(ID)  # absent: fine
    with pytest.raises(StorageError):
        store.open("../etc/passwd")  # never a key outside blobs/


def test_config_errors_name_the_file_never_the_key(
    config: ServerConfig, seaweed: S3Server, tmp_path: Path
) -> None:
    secret = seaweed.secret_key_file.read_text().strip()
    empty = tmp_path / "empty"
    empty.write_text("  \n")
    missing = tmp_path / "missing"
    for bad, reason in ((empty, "is empty"), (missing, "cannot read")):
        with pytest.raises(ConfigError, match=reason) as err:
            open_s3_store(replace(config, storage_secret_key_file=bad))
        assert str(bad) in str(err.value)
    wrong = tmp_path / "wrong"
    wrong.write_text(secret[::-1])
    with pytest.raises(ConfigError, match="cannot reach it") as err:
        open_s3_store(replace(config, storage_secret_key_file=wrong))
    assert secret not in str(err.value)
    assert secret[::-1] not in str(err.value)
    with pytest.raises(ConfigError, match="bucket no-such-bucket does not exist"):
        open_s3_store(replace(config, storage_bucket="no-such-bucket"))


def test_an_unsigned_request_is_refused(seaweed: S3Server, s3_bucket: str) -> None:
    import httpx

    answer = httpx.get(f"{seaweed.endpoint}/{s3_bucket}", timeout=10)
    assert answer.status_code == 403


def _big() -> Iterator[bytes]:
    block = hashlib.shake_256(b"big").digest(4 * 1024 * 1024)
    for i in range(50):  # 200 MiB in 4 MiB blocks, each different
        yield bytes([i]) + block[1:]


def test_a_200_mib_upload_split_across_two_servers(config: ServerConfig) -> None:
    first, second = open_s3_store(config), open_s3_store(config)
    digest, cut, written = hashlib.sha256(), 100 * 1024 * 1024 + 5, 0
    writer = first.open_partial(ID, 0)
    for block in _big():
        digest.update(block)
        if written < cut <= written + len(block):  # the first server flushes and dies
            writer.write([block[: cut - written]])
            writer.flush()
            del writer
            writer = second.open_partial(ID, cut)
            writer.write([block[cut - written :]])
        else:
            writer.write([block])
        written += len(block)
    writer.flush()
    writer.close()
    second.finish_partial(ID, ID, written)
    assert written == 200 * 1024 * 1024
    assert first.hash_blob(ID) == digest.digest()
    assert leftovers(first) == ([], [])
