"""Downloads when the server lost a committed blob's stored file (issue 15, item 8):
the answer says so (``500 blob_lost``), not "no such drop", which would tell the
recipient the sender recalled it when the server is at fault and IT must act."""

from __future__ import annotations

import pytest

from secure_send.core.directory.enrol import DeviceKeys
from tests.server.conftest import STORES, Server, on_each_store
from tests.server.drop_kit import hanako, sent_drop, taro_device


@pytest.fixture(params=STORES)
def server(request: pytest.FixtureRequest) -> Server:
    """Each test on the server's folder and on S3 (SeaweedFS)."""
    return on_each_store(request)


def _lose_every_blob(server: Server) -> int:
    """Delete every stored blob behind the server's back; returns how many."""
    if server.config.storage_kind == "s3":
        assert server.app_state is not None
        s3, bucket = server.app_state.blobs.client, server.config.storage_bucket  # type: ignore[attr-defined]
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="blobs/")["Contents"]]
        for key in keys:
            s3.delete_object(Bucket=bucket, Key=key)
        return len(keys)
    stored = [p for p in (server.config.state_dir / "blobs").rglob("*") if p.is_file()]
    for path in stored:
        path.unlink()
    return len(stored)


def test_a_committed_blob_whose_file_is_gone_answers_blob_lost(
    server: Server, taro: DeviceKeys
) -> None:
    sender, recipient = hanako(server), taro_device(server, taro)
    drop_id = sent_drop(sender, {"f1": b"ciphertext one", "f2": b"ciphertext two"})
    assert _lose_every_blob(server) == 2  # a restore without the blobs, a disk problem

    answer = recipient.request("GET", f"/v1/drops/{drop_id}/blobs/f1")

    assert answer.status_code == 500
    assert answer.json()["code"] == "blob_lost"
    assert "tell IT" in answer.json()["message"]
    # the drop itself is still there: only its file is missing
    assert recipient.request("GET", f"/v1/drops/{drop_id}").status_code == 200
    unknown = recipient.request("GET", f"/v1/drops/{drop_id}/blobs/f9")
    assert (unknown.status_code, unknown.json()["code"]) == (404, "not_found")
