"""tus uploads against the real server: offsets, checksums, hashes, termination, cut connections."""

from __future__ import annotations

import hashlib
import queue
import socket
import time
from urllib.parse import urlsplit

import httpx
import pytest

from secure_send.core.directory.enrol import DeviceKeys
from secure_send.org.home import OrgHome
from secure_send.server.state import ServerState
from tests.directory_kit import JIRO, TARO, enrol_device
from tests.server.conftest import Server, running_server, server_config
from tests.server.drop_kit import (
    OFFSET_TYPE,
    TUS,
    Device,
    b64,
    create_drop,
    hanako,
    manifest,
    new_upload,
    patch,
    taro_device,
)

DATA = bytes(range(256)) * 200  # 51200 bytes, under the test server's 64 KiB body limit


def _code(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    return str(response.json()["code"])


def _drop(server: Server, data: bytes = DATA) -> tuple[Device, str]:
    sender = hanako(server)
    signed = manifest(sender, {"f1": data})
    assert create_drop(sender, signed).status_code == 201
    return sender, signed.manifest.drop_id


def _offset(sender: Device, path: str) -> int:
    response = sender.request("HEAD", path, headers=TUS)
    assert response.status_code == 200
    return int(response.headers["upload-offset"])


def _files(server: Server, folder: str) -> list[str]:
    root = server.config.state_dir / folder
    return [p.name for p in root.rglob("*") if p.is_file()]


def test_options(server: Server) -> None:
    response = hanako(server).request("OPTIONS", "/v1/uploads")
    assert response.status_code == 204
    assert response.headers["tus-version"] == "1.0.0"
    assert "checksum" in response.headers["tus-extension"].split(",")
    assert response.headers["tus-checksum-algorithm"] == "sha256"
    assert "tus-max-size" in response.headers
    assert _code(server.get("/v1/uploads"), 405) == "method_not_allowed"


def test_wrong_offset_and_bad_checksum(server: Server, taro: DeviceKeys) -> None:
    sender, drop_id = _drop(server)
    path = new_upload(sender, drop_id, "f1", len(DATA))
    assert patch(sender, path, 0, DATA[:1000]).status_code == 204
    assert _code(patch(sender, path, 500, DATA[500:1500]), 409) == "offset_mismatch"
    headers = {**TUS, **OFFSET_TYPE, "Upload-Offset": "1000"}
    headers["Upload-Checksum"] = f"sha256 {b64(hashlib.sha256(b'other').digest())}"
    bad = sender.request("PATCH", path, DATA[1000:2000], headers)
    assert _code(bad, 460) == "checksum_mismatch"
    assert _offset(sender, path) == 1000
    assert patch(sender, path, 1000, DATA[1000:]).status_code == 204
    assert sender.request("POST", f"/v1/drops/{drop_id}/commit").status_code == 200


def test_hash_mismatch_on_completion(server: Server, taro: DeviceKeys) -> None:
    sender, drop_id = _drop(server)
    path = new_upload(sender, drop_id, "f1", len(DATA))
    wrong = b"\xff" + DATA[1:]
    assert _code(patch(sender, path, 0, wrong), 400) == "hash_mismatch"
    assert _files(server, "blobs") == []
    assert _files(server, "partial") == []
    assert _code(sender.request("POST", f"/v1/drops/{drop_id}/commit"), 409) == "incomplete"


def test_termination(server: Server, taro: DeviceKeys) -> None:
    sender, drop_id = _drop(server)
    path = new_upload(sender, drop_id, "f1", len(DATA))
    assert patch(sender, path, 0, DATA[:100]).status_code == 204
    assert len(_files(server, "partial")) == 1
    assert sender.request("DELETE", path, headers=TUS).status_code == 204
    assert _files(server, "partial") == []
    assert sender.request("HEAD", path, headers=TUS).status_code == 404


@pytest.mark.parametrize("who", ["recipient", "bystander"])
def test_another_users_upload_is_not_found(
    server: Server, taro: DeviceKeys, jiro: DeviceKeys, who: str
) -> None:
    """Issue 14, item 22: an upload id is no capability. Another enrolled user who knows
    it (the drop's recipient, or anyone else) gets 404 on HEAD, PATCH and DELETE, exactly
    as for an id that does not exist, and the upload is left as it was."""
    sender, drop_id = _drop(server)
    path = new_upload(sender, drop_id, "f1", len(DATA))
    assert patch(sender, path, 0, DATA[:100]).status_code == 204
    other = (
        taro_device(server, taro) if who == "recipient" else Device(server, JIRO, "tablet", jiro)
    )
    answers = [
        other.request("HEAD", path, headers=TUS),
        patch(other, path, 100, DATA[100:200]),
        other.request("DELETE", path, headers=TUS),
    ]
    assert [r.status_code for r in answers] == [404, 404, 404]
    assert [r.json()["code"] for r in answers[1:]] == ["not_found"] * 2  # HEAD has no body
    assert _offset(sender, path) == 100  # neither written to nor deleted
    assert len(_files(server, "partial")) == 1
    assert patch(sender, path, 100, DATA[100:]).status_code == 204  # the sender finishes
    assert sender.request("POST", f"/v1/drops/{drop_id}/commit").status_code == 200


def test_creation_with_upload_and_rules(server: Server, taro: DeviceKeys) -> None:
    sender, drop_id = _drop(server)
    meta = f"drop {b64(drop_id.encode())},blob {b64(b'f1')}"
    headers = {**TUS, **OFFSET_TYPE, "Upload-Length": str(len(DATA)), "Upload-Metadata": meta}
    response = sender.request("POST", "/v1/uploads", DATA, headers)
    assert response.status_code == 201, response.text
    assert response.headers["upload-offset"] == str(len(DATA))
    assert sender.request("POST", f"/v1/drops/{drop_id}/commit").status_code == 200
    wrong_length = {**headers, "Upload-Length": "5"}
    assert _code(sender.request("POST", "/v1/uploads", b"", wrong_length), 409) == "not_uploading"
    _, other_drop = _drop(server)
    meta2 = f"drop {b64(other_drop.encode())},blob {b64(b'f1')}"
    bad = {**TUS, "Upload-Length": "5", "Upload-Metadata": meta2}
    assert _code(sender.request("POST", "/v1/uploads", b"", bad), 400) == "bad_length"
    recipient = taro_device(server, taro)
    bad["Upload-Length"] = str(len(DATA))
    assert _code(recipient.request("POST", "/v1/uploads", b"", bad), 404) == "not_found"
    no_version = {k: v for k, v in bad.items() if k != "Tus-Resumable"}
    assert _code(sender.request("POST", "/v1/uploads", b"", no_version), 412) == "tus_version"


def test_locked_upload(server: Server, taro: DeviceKeys) -> None:
    sender, drop_id = _drop(server)
    path = new_upload(sender, drop_id, "f1", len(DATA))
    state = server.app_state
    assert state is not None
    upload_id = path.rsplit("/", 1)[1]
    assert state.busy.claim(upload_id)
    try:
        assert _code(patch(sender, path, 0, DATA[:10]), 423) == "locked"
    finally:
        state.busy.release(upload_id)
    assert patch(sender, path, 0, DATA[:10]).status_code == 204


def _send_part(
    sender: Device, path: str, offset: int, body: bytes, sent: int, checksum: bool = False
) -> socket.socket:
    """Start a PATCH of ``body`` on a raw socket but send only ``sent`` bytes of it."""
    headers = {**TUS, **OFFSET_TYPE, "Upload-Offset": str(offset)}
    if checksum:
        headers["Upload-Checksum"] = "sha256 " + b64(hashlib.sha256(body).digest())
    signed = sender.server.signed_headers(
        "PATCH", path, body, keys=sender.keys, key_id=f"{sender.user}/{sender.device}"
    )
    url = urlsplit(sender.server.url)
    lines = [f"PATCH {path} HTTP/1.1", f"Host: {url.netloc}", f"Content-Length: {len(body)}"]
    lines += [f"{k}: {v}" for k, v in {**headers, **signed}.items()]
    sock = socket.create_connection((url.hostname, url.port), timeout=10)
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body[:sent])
    return sock


class Releases:
    """Which uploads' locks the server gave back, in order: a PATCH has been dealt with
    (its lock is released last) when its upload id comes out of :meth:`next`."""

    def __init__(self, state: ServerState) -> None:
        self._ids: queue.Queue[str] = queue.Queue()
        release = state.busy.release

        def spy(upload_id: str) -> None:
            release(upload_id)
            self._ids.put(upload_id)

        state.busy.release = spy  # type: ignore[method-assign]

    def next(self, timeout: float = 10) -> str:
        return self._ids.get(timeout=timeout)


def test_connection_cut_mid_patch_resumes(server: Server, taro: DeviceKeys) -> None:
    assert server.app_state is not None
    released = Releases(server.app_state)
    sender, drop_id = _drop(server)
    path = new_upload(sender, drop_id, "f1", len(DATA))
    upload_id = path.rsplit("/", 1)[1]
    assert patch(sender, path, 0, DATA[:20000]).status_code == 204
    assert released.next() == upload_id
    # tus core: what arrived before the cut is kept (closed at once: the server may not
    # have read any of it yet) …
    _send_part(sender, path, 20000, DATA[20000:], 10000).close()
    assert released.next() == upload_id
    assert _offset(sender, path) == 30000
    # … but a body with Upload-Checksum cannot be checked when cut: nothing kept
    _send_part(sender, path, 30000, DATA[30000:], 5000, checksum=True).close()
    assert released.next() == upload_id
    offset = _offset(sender, path)
    assert offset == 30000
    assert patch(sender, path, offset, DATA[offset:]).status_code == 204
    assert sender.request("POST", f"/v1/drops/{drop_id}/commit").status_code == 200
    recipient = taro_device(server, taro)
    got = recipient.request("GET", f"/v1/drops/{drop_id}/blobs/f1")
    assert got.status_code == 200
    assert got.content == DATA
    bad = recipient.request("GET", f"/v1/drops/{drop_id}/blobs/f1", headers={"Range": "bytes=9-2"})
    assert _code(bad, 416) == "bad_range"
    assert bad.headers["content-range"] == f"bytes */{len(DATA)}"
    tail = recipient.request("GET", f"/v1/drops/{drop_id}/blobs/f1", headers={"Range": "bytes=-10"})
    assert tail.status_code == 206
    assert tail.content == DATA[-10:]
    records = list(server.audit().records())
    completes = [r for r in records if r.action == "upload_complete"]
    assert [(r.drop, r.size) for r in completes] == [(drop_id, len(DATA))]


def test_a_stalled_patch_frees_its_upload_in_time(org: tuple[OrgHome, DeviceKeys]) -> None:
    """A PATCH whose body stops arriving (client gone silent, no FIN) no longer holds the
    upload's lock: after ``body_timeout_seconds`` the server closes the connection, keeps
    what arrived and the owner's resume goes through (it got 423 for 30 s and more)."""
    home, keys = org
    config = server_config(home, port=0, max_body_bytes=64 * 1024, body_timeout_seconds=1)
    with running_server(home, keys, config) as server:
        enrol_device(home, TARO, "desktop", "人事課のデスクトップ")
        server.push()
        assert server.app_state is not None
        released = Releases(server.app_state)
        sender, drop_id = _drop(server)
        path = new_upload(sender, drop_id, "f1", len(DATA))
        stalled = _send_part(sender, path, 0, DATA, 10000)
        started = time.monotonic()
        with stalled:
            assert released.next() == path.rsplit("/", 1)[1]
            elapsed = time.monotonic() - started
            assert stalled.recv(1) == b""  # the server closed the stalled connection
        assert elapsed < 3, elapsed  # 1 s of silence, then the lock is free
        offset = _offset(sender, path)
        assert offset == 10000  # what arrived was kept (tus core)
        assert patch(sender, path, offset, DATA[offset:]).status_code == 204


def test_recover_after_crash_between_rename_and_commit(server: Server, taro: DeviceKeys) -> None:
    from secure_send.server.sweeper import recover

    state = server.app_state
    assert state is not None
    sender, drop_id = _drop(server)
    upload_id = new_upload(sender, drop_id, "f1", len(DATA)).rsplit("/", 1)[1]
    # what a PATCH and complete_stored do, stopping right after the rename (as a crash would)
    writer = state.blobs.open_partial(upload_id, 0)
    writer.write([DATA])
    writer.flush()
    writer.close()
    assert state.drops.set_received(upload_id, len(DATA))
    state.blobs.finish_partial(upload_id, upload_id, len(DATA))
    orphan = "O" * 22
    state.blobs.open_partial(orphan, 0).close()
    recover(state)
    assert _files(server, "partial") == []
    assert sender.request("POST", f"/v1/drops/{drop_id}/commit").status_code == 200
    got = taro_device(server, taro).request("GET", f"/v1/drops/{drop_id}/blobs/f1")
    assert got.content == DATA
