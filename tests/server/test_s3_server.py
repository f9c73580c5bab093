"""The drop server with its blobs in S3 (SeaweedFS; SQLite metadata): nothing is left in
the bucket after commit, recall, expiry or termination; a PATCH served after another
server's (no running hash here) is finished by hashing the stored blob; start-up repair
leaves other servers' uploads alone."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest

from secure_send.core.directory.enrol import DeviceKeys
from secure_send.core.encoding import utc_now
from secure_send.server.s3_store import S3BlobStore
from secure_send.server.state import ServerState
from secure_send.server.sweeper import recover, sweep
from secure_send.server.tus import complete_stored
from secure_send.server.upload_sink import HashCache
from tests.server.conftest import Server
from tests.server.drop_kit import (
    create_drop,
    hanako,
    manifest,
    new_upload,
    patch,
    sent_drop,
    taro_device,
)

# PostgreSQL/S3 only: run once, in the scale-out pass (make test; conftest.py)
pytestmark = pytest.mark.scale_out

DATA = hashlib.shake_256(b"blob").digest(40_000)


@pytest.fixture
def server(s3_server: Server) -> Server:
    """The S3-backed server (so ``taro`` enrols into this one)."""
    return s3_server


def _state(server: Server) -> tuple[ServerState, S3BlobStore]:
    assert server.app_state is not None
    assert isinstance(server.app_state.blobs, S3BlobStore)
    return server.app_state, server.app_state.blobs


def _bucket(server: Server) -> tuple[list[str], list[str]]:
    """Every object key, and every multipart upload's key, in the server's bucket."""
    _, store = _state(server)
    objects = store.client.list_objects_v2(Bucket=store.bucket).get("Contents", [])
    uploads = store.client.list_multipart_uploads(Bucket=store.bucket).get("Uploads", [])
    return sorted(o["Key"] for o in objects), [u["Key"] for u in uploads]


def _upload(server: Server, data: bytes = DATA) -> tuple[str, str]:
    """A new drop of one blob and its upload's path."""
    sender = hanako(server)
    signed = manifest(sender, {"f1": data})
    assert create_drop(sender, signed).status_code == 201
    drop_id = signed.manifest.drop_id
    return drop_id, new_upload(sender, drop_id, "f1", len(data))


def test_commit_recall_expiry_and_termination_leave_nothing(
    server: Server, taro: DeviceKeys
) -> None:
    state, _ = _state(server)
    sender, recipient = hanako(server), taro_device(server, taro)
    recalled = sent_drop(sender, {"f1": DATA, "f2": DATA[:10]})
    expiring = sent_drop(sender, {"f1": DATA[:99]})
    objects, uploads = _bucket(server)
    assert (len(objects), uploads) == (3, [])  # the blobs only: no tails, no parts
    answer = recipient.request(
        "GET", f"/v1/drops/{recalled}/blobs/f1", headers={"Range": "bytes=5-"}
    )
    assert answer.content == DATA[5:]
    assert sender.request("DELETE", f"/v1/drops/{recalled}").status_code == 204
    assert sweep(state, utc_now() + dt.timedelta(days=2)) == [expiring]
    assert _bucket(server) == ([], [])
    # an upload in progress, recalled with its drop
    drop_id, path = _upload(server)
    assert patch(sender, path, 0, DATA[:100], checksum=False).status_code == 204
    assert _bucket(server) != ([], [])
    assert sender.request("DELETE", f"/v1/drops/{drop_id}").status_code == 204
    assert _bucket(server) == ([], [])


def test_a_patch_after_another_servers_is_checked_on_the_stored_blob(
    server: Server, taro: DeviceKeys
) -> None:
    state, _ = _state(server)
    sender = hanako(server)
    for data, wrong in ((DATA, False), (DATA, True)):
        signed = manifest(sender, {"f1": data})
        assert create_drop(sender, signed).status_code == 201
        path = new_upload(sender, signed.manifest.drop_id, "f1", len(data))
        assert patch(sender, path, 0, data[:1000]).status_code == 204
        state.hashes = HashCache()  # the first PATCH was another server's: no running hash
        rest = (b"\xff" if wrong else data[1000:1001]) + data[1001:]
        answer = patch(sender, path, 1000, rest)
        if wrong:
            assert (answer.status_code, answer.json()["code"]) == (400, "hash_mismatch")
            assert [k for k in _bucket(server)[0] if path.rsplit("/", 1)[1] in k] == []
            assert _bucket(server)[1] == []
        else:
            assert answer.status_code == 204
            commit = sender.request("POST", f"/v1/drops/{signed.manifest.drop_id}/commit")
            assert commit.status_code == 200
            got = taro_device(server, taro).request(
                "GET", f"/v1/drops/{signed.manifest.drop_id}/blobs/f1"
            )
            assert got.content == data


def test_two_servers_finishing_the_same_upload_keep_the_blob(
    server: Server, taro: DeviceKeys
) -> None:
    state, store = _state(server)
    sender = hanako(server)
    signed = manifest(sender, {"f1": DATA})
    assert create_drop(sender, signed).status_code == 201
    upload_id = new_upload(sender, signed.manifest.drop_id, "f1", len(DATA)).rsplit("/", 1)[1]
    writer = store.open_partial(upload_id, 0)
    writer.write([DATA])
    writer.flush()
    assert state.drops.set_received(upload_id, len(DATA))
    upload = state.drops.upload(upload_id)
    assert upload is not None
    assert complete_stored(state, upload) is None  # one server
    assert complete_stored(state, upload) == "not_found"  # another, a moment later
    assert store.read(upload_id) == DATA  # the first one's blob is kept
    assert sender.request("POST", f"/v1/drops/{signed.manifest.drop_id}/commit").status_code == 200


def test_start_up_repair_leaves_other_servers_uploads_alone(
    server: Server, taro: DeviceKeys
) -> None:
    state, store = _state(server)
    sender = hanako(server)
    signed = manifest(sender, {"f1": DATA, "f2": DATA[::-1]})
    made = create_drop(sender, signed)
    assert made.status_code == 201, made.text
    drop_id = signed.manifest.drop_id
    path = new_upload(sender, drop_id, "f1", len(DATA))
    busy = path.rsplit("/", 1)[1]
    assert patch(sender, path, 0, DATA[:100], checksum=False).status_code == 204
    # the tail is gone from the listing's point of view: an older server's leftovers only
    store.delete_partial(busy)
    store.open_partial(busy, 0).close()
    fresh = new_upload(sender, drop_id, "f2", len(DATA)).rsplit("/", 1)[1]
    store.delete_partial(fresh)  # its row is made, its multipart upload not yet
    orphan = "O" * 22
    store.open_partial(orphan, 0).close()

    recover(state)

    assert state.drops.upload(busy).received == 100  # type: ignore[union-attr]
    assert state.drops.upload(fresh) is not None
    assert orphan not in store.partial_ids()


def test_an_upload_whose_parts_are_gone_is_forgotten_not_retried_for_ever(
    server: Server, taro: DeviceKeys
) -> None:
    # a restored bucket copy holds the tail but not the multipart upload (a copy has no
    # uploads in progress): the PATCH answers 404 and forgets it, so the client starts
    # the blob over in a new upload (a 500 would be retried by the client for ever)
    state, store = _state(server)
    sender = hanako(server)
    drop_id, path = _upload(server)
    upload_id = path.rsplit("/", 1)[1]
    assert patch(sender, path, 0, DATA[:30_000], checksum=False).status_code == 204
    for lost in store.client.list_multipart_uploads(Bucket=store.bucket)["Uploads"]:
        store.client.abort_multipart_upload(
            Bucket=store.bucket, Key=lost["Key"], UploadId=lost["UploadId"]
        )
    answer = patch(sender, path, 30_000, DATA[30_000:], checksum=False)
    assert (answer.status_code, answer.json()["code"]) == (404, "not_found")
    assert state.drops.upload(upload_id) is None
    assert _bucket(server) == ([], [])  # its tail went with it
    again = new_upload(sender, drop_id, "f1", len(DATA))
    assert patch(sender, again, 0, DATA).status_code == 204
    assert sender.request("POST", f"/v1/drops/{drop_id}/commit").status_code == 200
    got = taro_device(server, taro).request("GET", f"/v1/drops/{drop_id}/blobs/f1")
    assert got.content == DATA
