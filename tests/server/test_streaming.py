"""Streamed uploads against the real server: bodies beyond the request cap, the signed
digest checked after the body, the running blob hash, the HTTP body path, the audit
records of enrolment and failed authentication, proxies, and inbox wake-ups across
server processes."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import random
import socket
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from secure_send.core.audit_record import AuditRecord
from secure_send.core.directory.enrol import DeviceKeys
from secure_send.core.encoding import utc_now
from secure_send.server import upload_sink
from secure_send.server.http_protocol import uvicorn_options
from secure_send.server.storage import FolderBlobStore
from secure_send.server.upload_sink import HashCache, UploadSink
from tests.directory_kit import TARO, enrol_device
from tests.server.conftest import Server, make_home, running_server, server_config
from tests.server.drop_kit import (
    OFFSET_TYPE,
    TUS,
    Device,
    create_drop,
    hanako,
    manifest,
    new_upload,
    patch,
    sent_drop,
    taro_device,
)

BIG = os.urandom(300_000)  # over the test server's 64 KiB body cap, under its 1 MiB quota


def _records(server: Server) -> list[AuditRecord]:
    return list(server.audit().records())


def _offset(sender: Device, path: str) -> int:
    response = sender.request("HEAD", path, headers=TUS)
    assert response.status_code == 200, response.text
    return int(response.headers["upload-offset"])


def _upload(server: Server, data: bytes) -> tuple[Device, str, str]:
    sender = hanako(server)
    signed = manifest(sender, {"f1": data})
    assert create_drop(sender, signed).status_code == 201
    drop_id = signed.manifest.drop_id
    return sender, drop_id, new_upload(sender, drop_id, "f1", len(data))


def _download(server: Server, taro: DeviceKeys, drop_id: str) -> bytes:
    got = taro_device(server, taro).request("GET", f"/v1/drops/{drop_id}/blobs/f1")
    assert got.status_code == 200, got.text
    return got.content


def test_one_patch_beyond_the_request_cap(server: Server, taro: DeviceKeys) -> None:
    assert len(BIG) > server.config.max_body_bytes
    sender, drop_id, path = _upload(server, BIG)
    assert patch(sender, path, 0, BIG, checksum=False).status_code == 204
    assert sender.request("POST", f"/v1/drops/{drop_id}/commit").status_code == 200
    assert _download(server, taro, drop_id) == BIG
    # other requests keep the cap
    too_big = sender.request("POST", "/v1/drops", b"x" * (server.config.max_body_bytes + 1))
    assert too_big.status_code == 413


@pytest.mark.folder_store
def test_streamed_body_must_match_the_signed_digest(server: Server, taro: DeviceKeys) -> None:
    sender, drop_id, path = _upload(server, BIG)
    assert patch(sender, path, 0, BIG[:1000]).status_code == 204
    headers = {**TUS, **OFFSET_TYPE, "Upload-Offset": "1000"}
    signed = server.signed_headers("PATCH", path, BIG[1000:])  # signs the real bytes …
    forged = b"\0" + BIG[1001:]  # … but a different body of the same length arrives
    response = httpx.patch(
        server.url + path, content=forged, headers={**headers, **signed}, timeout=30
    )
    assert response.status_code == 401
    assert response.json()["code"] == "bad_signature"
    assert _offset(sender, path) == 1000  # nothing of the forged body kept
    assert (
        server.config.state_dir.joinpath("partial", path.rsplit("/", 1)[1]).stat().st_size == 1000
    )
    failure = _records(server)[-1]
    assert (failure.action, failure.outcome, failure.drop) == (
        "auth_failure",
        "bad_signature",
        drop_id,
    )
    assert patch(sender, path, 1000, BIG[1000:]).status_code == 204  # the real body still fits


def test_resume_after_the_running_hash_is_lost(server: Server, taro: DeviceKeys) -> None:
    """A restart (or another server process) has no running hash: the prefix is re-read."""
    sender, drop_id, path = _upload(server, BIG)
    assert patch(sender, path, 0, BIG[:123_457], checksum=False).status_code == 204
    assert server.app_state is not None
    server.app_state.hashes = HashCache()
    assert patch(sender, path, 123_457, BIG[123_457:], checksum=False).status_code == 204
    assert sender.request("POST", f"/v1/drops/{drop_id}/commit").status_code == 200
    assert _download(server, taro, drop_id) == BIG


@pytest.mark.folder_store
def test_wrong_blob_is_refused_even_when_every_patch_is_signed(
    server: Server, taro: DeviceKeys
) -> None:
    sender, _, path = _upload(server, BIG)
    other = bytes(reversed(BIG))
    assert patch(sender, path, 0, other[:5000]).status_code == 204
    response = patch(sender, path, 5000, other[5000:])
    assert response.status_code == 400
    assert response.json()["code"] == "hash_mismatch"
    assert sender.request("HEAD", path, headers=TUS).status_code == 404
    assert not any(server.config.state_dir.joinpath("partial").iterdir())


def test_patch_needs_content_length(server: Server, taro: DeviceKeys) -> None:
    sender, _, path = _upload(server, BIG)
    headers = {**TUS, **OFFSET_TYPE, "Upload-Offset": "0"}
    signed = server.signed_headers("PATCH", path, BIG)
    response = httpx.patch(
        server.url + path,
        content=iter([BIG[:1000], BIG[1000:]]),  # chunked transfer encoding
        headers={**headers, **signed},
        timeout=30,
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_request"
    assert _offset(sender, path) == 0


def test_body_in_many_small_pieces_arrives_whole(server: Server, taro: DeviceKeys) -> None:
    """The HTTP layer joins socket reads itself: pieces of 1 B to 9 kB, with pauses."""
    assert uvicorn_options(server.config)["http"] != "h11"  # the chunked body path is used
    sender, drop_id, path = _upload(server, BIG)
    headers = {**TUS, **OFFSET_TYPE, "Upload-Offset": "0", "Content-Length": str(len(BIG))}
    headers |= server.signed_headers("PATCH", path, BIG)
    url = urlsplit(server.url)
    head = f"PATCH {path} HTTP/1.1\r\nHost: {url.netloc}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    rng = random.Random(7)  # noqa: S311 - sizes, not secrets
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.sendall(head.encode())
        at = 0
        while at < len(BIG):
            step = rng.choice((1, 7, 100, 4096, 9000))
            sock.sendall(BIG[at : at + step])
            at += step
            if rng.random() < 0.02:
                time.sleep(0.01)
        reply = sock.recv(4096)
    assert reply.startswith(b"HTTP/1.1 204"), reply[:200]
    assert sender.request("POST", f"/v1/drops/{drop_id}/commit").status_code == 200
    assert _download(server, taro, drop_id) == BIG


def test_sink_checkpoints_and_discards(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(upload_sink, "CHECKPOINT", 100)
    blobs = FolderBlobStore(tmp_path / "blobs")
    cache = HashCache()
    marks: list[int] = []
    sink = UploadSink(blobs, cache, "U" * 22, 0, marks.append)
    sink.write([b"a" * 60, b"b" * 60])
    sink.write([b"c" * 30])
    sink.write([b"d" * 90])
    assert marks == [120, 240]
    written = b"a" * 60 + b"b" * 60 + b"c" * 30 + b"d" * 90
    assert sink.body_sha256() == hashlib.sha256(written).digest()
    sink.keep(durable=True)
    assert blobs.partial_size("U" * 22) == 240
    # the next PATCH continues the cached hash; a failed one cuts the file back
    nxt = UploadSink(blobs, cache, "U" * 22, 240)
    nxt.write([b"e" * 10])
    assert nxt.body_sha256() == hashlib.sha256(b"e" * 10).digest()
    nxt.discard()
    assert blobs.partial_size("U" * 22) == 240
    assert cache.take("U" * 22, 240) is None  # a discarded PATCH leaves no running hash
    again = UploadSink(blobs, cache, "U" * 22, 240)  # so it is rebuilt from the file
    again.write([b"f"])
    assert again.blob_sha256() == hashlib.sha256(written + b"f").digest()
    again.keep(durable=False)


def test_hash_cache_matches_offsets_and_is_bounded() -> None:
    cache = HashCache(limit=2)
    first, second, third = (hashlib.sha256(bytes([i])) for i in range(3))
    cache.put("a", 1, first)
    cache.put("b", 1, second)
    cache.put("c", 1, third)
    assert cache.take("a", 1) is None  # evicted
    assert cache.take("b", 2) is None  # wrong offset: not usable (and dropped)
    assert cache.take("b", 1) is None
    assert cache.take("c", 1) is third


@pytest.mark.folder_store
def test_recovery_resumes_from_what_the_disk_kept(server: Server, taro: DeviceKeys) -> None:
    """After a power loss a recorded offset can exceed the partial file: resume from the file."""
    from secure_send.server.sweeper import recover

    sender, drop_id, path = _upload(server, BIG)
    assert patch(sender, path, 0, BIG[:200_000], checksum=False).status_code == 204
    upload_id = path.rsplit("/", 1)[1]
    os.truncate(server.config.state_dir / "partial" / upload_id, 150_000)
    assert server.app_state is not None
    server.app_state.hashes = HashCache()
    recover(server.app_state)
    assert _offset(sender, path) == 150_000
    assert patch(sender, path, 150_000, BIG[150_000:], checksum=False).status_code == 204
    assert sender.request("POST", f"/v1/drops/{drop_id}/commit").status_code == 200
    assert _download(server, taro, drop_id) == BIG


def test_upload_complete_is_audited_once_with_its_size(server: Server, taro: DeviceKeys) -> None:
    sender, drop_id, path = _upload(server, BIG)
    assert patch(sender, path, 0, BIG[:70_000]).status_code == 204
    assert patch(sender, path, 70_000, BIG[70_000:]).status_code == 204
    done = [r for r in _records(server) if r.action == "upload_complete"]
    assert [(r.drop, r.size, r.actor, r.outcome) for r in done] == [
        (drop_id, len(BIG), sender.user, "ok")
    ]


def test_failed_authentication_is_audited_without_identity(server: Server) -> None:
    unsigned = server.get("/v1/whoami")
    assert unsigned.status_code == 401
    stale = server.signed_get("/v1/whoami", now=utc_now() - dt.timedelta(hours=1))
    assert stale.status_code == 401
    failures = [r for r in _records(server) if r.action == "auth_failure"]
    assert [r.outcome for r in failures] == [unsigned.json()["code"], stale.json()["code"]]
    assert all(r.ip == "127.0.0.1" and r.actor == "" and r.device == "" for r in failures)


@pytest.mark.parametrize("trusted", ["", "127.0.0.1"])
def test_forwarded_client_only_from_trusted_proxies(tmp_path: Path, trusted: str) -> None:
    home, keys = make_home(tmp_path / "org")
    config = server_config(home, port=0, trusted_proxies=trusted, auth_failures_burst=2)
    with running_server(home, keys, config) as server:
        forwarded = {"X-Forwarded-For": "203.0.113.7"}
        codes = [server.get("/v1/whoami", headers=forwarded).status_code for _ in range(3)]
        assert codes == [401, 401, 429]
        # the limit was spent by the forwarded address when the proxy is trusted,
        # else by the proxy's own address
        other = server.get("/v1/whoami", headers={"X-Forwarded-For": "198.51.100.9"})
        assert other.status_code == (401 if trusted else 429)
        ips = {r.ip for r in _records(server) if r.action == "auth_failure"}
    assert ips == ({"203.0.113.7", "198.51.100.9"} if trusted else {"127.0.0.1"})


def test_inbox_wakes_for_a_commit_in_another_server_process(tmp_path: Path) -> None:
    """Two servers over one home and database (as scale-out runs them): a long-poll on
    one sees a drop committed through the other within 5 s."""
    home, keys = make_home(tmp_path / "org")
    taro = enrol_device(home, TARO, "desktop", "taro")
    config = server_config(home, port=0)
    with running_server(home, keys, config) as one, running_server(home, keys, config) as two:
        recipient = taro_device(one, taro)
        seen: dict[str, object] = {}

        def poll() -> None:
            start = time.monotonic()
            response = recipient.request("GET", "/v1/inbox?wait=20")
            seen["elapsed"] = time.monotonic() - start
            seen["drops"] = [d["drop_id"] for d in response.json()["drops"]]

        waiting = threading.Thread(target=poll)
        waiting.start()
        time.sleep(0.5)
        committed_at = time.monotonic()
        drop_id = sent_drop(hanako(two), {"f1": b"ciphertext"})
        waiting.join(timeout=25)
        assert seen["drops"] == [drop_id]
        assert time.monotonic() - committed_at < 5
