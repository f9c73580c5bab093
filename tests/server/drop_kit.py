"""Helpers for drop tests: signed requests as any enrolled device, manifests, tus calls."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import json
from dataclasses import dataclass
from typing import Any

import httpx

from secure_send.core import httpsig
from secure_send.core.age import X25519Recipient, encrypt
from secure_send.core.directory.enrol import DeviceKeys
from secure_send.core.encoding import format_time, parse_time, utc_now
from secure_send.core.envelope.manifest import (
    Blob,
    Classification,
    Manifest,
    RecipientRef,
    SignedManifest,
    new_drop_id,
)
from secure_send.server.drop_store import DropStore, UploadRow
from tests.directory_kit import HANAKO, TARO
from tests.server.conftest import DEVICE, Server

TUS = {"Tus-Resumable": "1.0.0"}
OFFSET_TYPE = {"Content-Type": "application/offset+octet-stream"}


@dataclass
class Device:
    """A device that signs its requests to the server."""

    server: Server
    user: str
    device: str
    keys: DeviceKeys

    def request(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> httpx.Response:
        """A signed request."""
        signed = self.server.signed_headers(
            method, path, body, keys=self.keys, key_id=httpsig.key_id(self.user, self.device)
        )
        return httpx.request(
            method,
            self.server.url + path,
            content=body,
            headers={**(headers or {}), **signed},
            timeout=30,
        )


def hanako(server: Server) -> Device:
    """The sender."""
    return Device(server, HANAKO, DEVICE, server.keys)


def taro_device(server: Server, keys: DeviceKeys) -> Device:
    """The recipient."""
    return Device(server, TARO, "desktop", keys)


def age_blob(keys: DeviceKeys, plaintext: bytes) -> bytes:
    """``plaintext`` age-encrypted to the device's X25519 key."""
    out = io.BytesIO()
    encrypt(io.BytesIO(plaintext), out, [X25519Recipient(bytes(keys.encryption.public_key))])
    return out.getvalue()


def manifest(
    sender: Device,
    blobs: dict[str, bytes],
    *,
    recipients: tuple[RecipientRef, ...] = (RecipientRef(TARO, ("desktop",)),),
    expires: dt.timedelta = dt.timedelta(days=1),
    sizes: dict[str, int] | None = None,
    spi: tuple[int, int] | None = None,
    request: str | None = None,
) -> SignedManifest:
    """A manifest signed by ``sender`` announcing ``blobs`` (id → ciphertext); ``spi``:
    the My Number counts (files, numbers) the sender's check found; ``request``: the
    file request it answers."""
    now = utc_now()
    entries = tuple(
        Blob(
            name,
            "file",
            hashlib.sha256(data).digest(),
            (sizes or {}).get(name, len(data)),
        )
        for name, data in blobs.items()
    )
    return Manifest(
        drop_id=new_drop_id(),
        sender=sender.user,
        sender_device=sender.device,
        recipients=recipients,
        blobs=entries,
        created=format_time(now),
        expires=format_time(now + expires),
        classification=Classification.C2,
        suite="age-x25519-v1",
        directory_epoch=1,
        directory_header="test",
        request=request,
        mynumber_files=spi[0] if spi else 0,
        mynumber_count=spi[1] if spi else 0,
    ).sign(sender.keys.signing)


def create_drop(sender: Device, signed: SignedManifest) -> httpx.Response:
    """POST /v1/drops."""
    return sender.request("POST", "/v1/drops", json_bytes(signed.to_json()))


def json_bytes(obj: Any) -> bytes:
    """JSON as bytes."""
    return json.dumps(obj).encode()


def b64(data: bytes) -> str:
    """Standard base64 (tus headers)."""
    return base64.b64encode(data).decode("ascii")


def new_upload(sender: Device, drop_id: str, blob_id: str, length: int) -> str:
    """POST /v1/uploads; returns the upload path."""
    headers = {
        **TUS,
        "Upload-Length": str(length),
        "Upload-Metadata": f"drop {b64(drop_id.encode())},blob {b64(blob_id.encode())}",
    }
    response = sender.request("POST", "/v1/uploads", headers=headers)
    assert response.status_code == 201, response.text
    return response.headers["location"]


def patch(
    sender: Device, path: str, offset: int, data: bytes, checksum: bool = True
) -> httpx.Response:
    """PATCH one chunk (with a sha256 Upload-Checksum unless told not to)."""
    headers = {**TUS, **OFFSET_TYPE, "Upload-Offset": str(offset)}
    if checksum:
        headers["Upload-Checksum"] = f"sha256 {b64(hashlib.sha256(data).digest())}"
    return sender.request("PATCH", path, data, headers)


def upload_all(sender: Device, drop_id: str, blobs: dict[str, bytes]) -> None:
    """Upload every blob in one PATCH each."""
    for blob_id, data in blobs.items():
        path = new_upload(sender, drop_id, blob_id, len(data))
        response = patch(sender, path, 0, data)
        assert response.status_code == 204, response.text


def sent_drop(sender: Device, blobs: dict[str, bytes], **kw: Any) -> str:
    """A committed drop from ``sender`` holding ``blobs``; returns its id."""
    signed = manifest(sender, blobs, **kw)
    response = create_drop(sender, signed)
    assert response.status_code == 201, response.text
    drop_id = str(response.json()["drop_id"])
    upload_all(sender, drop_id, blobs)
    assert sender.request("POST", f"/v1/drops/{drop_id}/commit").status_code == 200
    return drop_id


def plant_drops(drops: DropStore, signed: list[SignedManifest]) -> list[str]:
    """Store each manifest's drop straight through the server's :class:`DropStore` and
    commit it — create, every blob marked complete, commit: the store's own steps
    without the HTTP round trips or the ciphertext (an inbox listing needs neither), for
    volume. Returns the drop ids in commit order."""
    done = []
    for s in signed:
        m = s.manifest
        expires = int(parse_time(m.expires).timestamp())
        assert drops.create(m, json.dumps(s.to_json()), expires, 1 << 62) == "ok"
        for blob in m.blobs:
            upload = UploadRow(new_drop_id(), m.drop_id, blob.id, blob.size, blob.size, expires)
            drops.add_upload(upload)
            assert drops.complete(upload)
        assert drops.commit(m.drop_id)
        done.append(m.drop_id)
    return done
