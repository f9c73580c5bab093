"""A malicious server is caught, and nothing is decrypted or saved.

The real server on 127.0.0.1 plays the attacker: between send and receive its
state on disk is tampered with (a stored ciphertext swapped or damaged, the
stored signed manifest edited in ``meta.sqlite``), or the directory bundle it
serves byte for byte is replaced (a recipient's key substituted, an older
snapshot replayed). Each time the client must refuse with a clear error that
carries no key material, save no file (no partial plaintext, no temporary
file), post no receipt, and upload nothing.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import re
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import nacl.signing
import pytest

from secure_send.client import send
from secure_send.client.api import ServerApi
from secure_send.client.errors import ClientError, ConnectionLost
from secure_send.client.keystore import FileKeyStore
from secure_send.client.profile import Profile
from secure_send.client.send import METADATA_TYPE
from secure_send.client.session import Session
from secure_send.client.transfer import StreamingDownload
from secure_send.core.age.api import encrypt as age_encrypt
from secure_send.core.age.x25519 import X25519Recipient
from secure_send.core.encoding import b64u, format_time, unb64u, utc_now
from secure_send.core.envelope.manifest import SignedManifest
from secure_send.core.envelope.receipt import Receipt
from secure_send.core.error_codes import ErrorCode
from tests.client.conftest import Enrol, Person, blob_files
from tests.directory_kit import (
    HANAKO,
    JIRO,
    TARO,
    enrol_device,
    entry_obj,
    header_of,
    replace_in_entry,
    resign,
    with_entry,
)
from tests.server.conftest import Server

SIZE = 200_000


def _data(folder: Path, name: str = "secret.bin", size: int = SIZE) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(os.urandom(size))
    return path


def _db(server: Server) -> sqlite3.Connection:
    return sqlite3.connect(server.config.state_dir / "meta.sqlite")


def _stored_blob(server: Server, drop_id: str, blob_id: str) -> Path:
    """The file on the server's disk holding one blob of a drop."""
    with _db(server) as db:
        (store_id,) = db.execute(
            "SELECT store_id FROM drop_blobs WHERE drop_id = ? AND blob_id = ?", (drop_id, blob_id)
        ).fetchone()
    (path,) = [p for p in blob_files(server) if p.name == store_id]
    return path


def _edit_manifest(server: Server, drop_id: str, change: Callable[[dict], None]) -> None:  # type: ignore[type-arg]
    """Rewrite the stored signed manifest of a drop (its signature is kept as it was)."""
    with _db(server) as db:
        (text,) = db.execute("SELECT manifest FROM drops WHERE id = ?", (drop_id,)).fetchone()
        signed = json.loads(text)
        change(signed["body"])
        db.execute("UPDATE drops SET manifest = ? WHERE id = ?", (json.dumps(signed), drop_id))
    db.close()


def _everything_under(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*")] if folder.exists() else []


def _no_plaintext_anywhere(plain: bytes, *folders: Path) -> None:
    """No file under ``folders`` holds (a piece of) the plaintext."""
    probe = plain[SIZE // 2 : SIZE // 2 + 64]
    for folder in folders:
        for path in _everything_under(folder):
            if path.is_file():
                assert probe not in path.read_bytes(), f"plaintext found in {path}"


def _no_secrets(text: str, *people: Person) -> None:
    """An error message names no key: no 32-byte value in base64 (a key, public or
    private), and no long string stored in the people's profiles (key store, config)."""
    assert not re.search(r"[A-Za-z0-9_+/-]{43}", text), text
    for person in people:
        for path in _everything_under(person.home):
            if path.is_file() and path.suffix in ("", ".json", ".key", ".keys"):
                try:
                    obj = json.loads(path.read_text())
                except (UnicodeDecodeError, ValueError):
                    continue
                for value in _strings(obj):
                    if len(value) >= 32:
                        assert value not in text, f"{path.name} material in the error"


def _strings(obj: object) -> list[str]:
    if isinstance(obj, str):
        return [obj]
    if isinstance(obj, dict):
        return [s for v in obj.values() for s in _strings(v)]
    if isinstance(obj, list):
        return [s for v in obj for s in _strings(v)]
    return []


def _downloaded(sender: Person, drop_id: str, user: str) -> object:
    (drop,) = [d for d in sender.ok("sent")["drops"] if d["drop_id"] == drop_id]
    return {r["user"]: r["downloaded"] for r in drop["recipients"]}[user]


# ---------------------------------------------------------------- (a) blobs


@pytest.mark.parametrize("how", ["flip-a-byte", "another-valid-ciphertext"])
def test_a_swapped_blob_is_refused_and_nothing_is_saved(
    enrol: Enrol, org_server: Server, tmp_path: Path, how: str
) -> None:
    hanako, taro = enrol(HANAKO, "laptop"), enrol(TARO, "desktop")
    data = _data(tmp_path / "out")
    drop_id = hanako.ok("send", str(data), "--to", TARO)["drop_id"]
    stored = _stored_blob(org_server, drop_id, "f1")
    original = stored.read_bytes()
    if how == "flip-a-byte":
        damaged = bytearray(original)
        damaged[len(damaged) // 2] ^= 0x01
        stored.write_bytes(bytes(damaged))
    else:
        # a second drop to Taro with a file of the same size: a ciphertext that is valid
        # for Taro's key and decrypts fine; only the signed manifest's hash tells them apart
        other = _data(tmp_path / "other", "other.bin")
        other_id = hanako.ok("send", str(other), "--to", TARO)["drop_id"]
        substitute = _stored_blob(org_server, other_id, "f1").read_bytes()
        assert len(substitute) == len(original)
        assert substitute != original
        stored.write_bytes(substitute)
    target = tmp_path / "in"
    err = taro.fails("receive", drop_id, "-o", str(target))
    assert "does not match the sender's signed manifest" in err
    assert "nothing was saved" in err
    assert _everything_under(target) == []  # no file, no partial plaintext, no temp file
    # the refused ciphertext is not kept for a later "resume" either
    assert not (taro.home / "downloads" / drop_id / "f1").exists()
    _no_plaintext_anywhere(data.read_bytes(), target, taro.home)
    _no_secrets(err, hanako, taro)
    assert _downloaded(hanako, drop_id, TARO) is None  # no receipt was posted
    # the server puts the right bytes back: the same drop is received intact
    stored.write_bytes(original)
    got = taro.ok("receive", drop_id, "-o", str(target))
    assert Path(got["files"][0]).read_bytes() == data.read_bytes()
    assert _downloaded(hanako, drop_id, TARO)


def test_a_truncated_blob_is_refused(
    enrol: Enrol, org_server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A blob cut short: the server's answer ends early, and again at the same place when
    asked for the rest: said as an incomplete file from the server (issue 15, item 8),
    not a lost connection; nothing is decrypted or saved either way."""
    monkeypatch.setattr(
        "secure_send.client.transfer.time", SimpleNamespace(sleep=lambda s: time.sleep(0.01))
    )
    hanako, taro = enrol(HANAKO, "laptop"), enrol(TARO, "desktop")
    data = _data(tmp_path / "out")
    drop_id = hanako.ok("send", str(data), "--to", TARO)["drop_id"]
    stored = _stored_blob(org_server, drop_id, "f1")
    stored.write_bytes(stored.read_bytes()[: SIZE // 2])
    target = tmp_path / "in"
    err = taro.fails("receive", drop_id, "-o", str(target))
    assert "sent an incomplete file" in err
    assert _everything_under(target) == []
    _no_plaintext_anywhere(data.read_bytes(), target, taro.home)
    assert _downloaded(hanako, drop_id, TARO) is None


def test_a_body_announced_longer_than_the_manifest_is_refused_unread(
    enrol: Enrol, org_server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The review's attack: the server serves 200 MiB of its own choosing for a blob the
    signed manifest says is a few hundred bytes. The client refuses when the response
    announces that length — before it reads, decrypts or writes a byte of it."""
    hanako, taro = enrol(HANAKO, "laptop"), enrol(TARO, "desktop")
    data = _data(tmp_path / "out", "small.txt", size=100)
    drop_id = hanako.ok("send", str(data), "--to", TARO)["drop_id"]
    stored = _stored_blob(org_server, drop_id, "f1")
    with _db(org_server) as db:
        (signed_size,) = db.execute(
            "SELECT size FROM drop_blobs WHERE drop_id = ? AND blob_id = 'f1'", (drop_id,)
        ).fetchone()
        assert signed_size < 400  # the manifest's size: a small file
        db.execute(
            "UPDATE drop_blobs SET size = ? WHERE drop_id = ? AND blob_id = 'f1'",
            (200 * 1024 * 1024, drop_id),
        )
    db.close()
    with stored.open("r+b") as f:  # attacker bytes, then a sparse 200 MiB
        f.write(os.urandom(signed_size))
        f.truncate(200 * 1024 * 1024)
    read: list[int] = []  # what each download of the receive took from the network
    original_close = StreamingDownload.close

    def counting_close(self: StreamingDownload) -> None:
        read.append(self.have)
        original_close(self)

    monkeypatch.setattr(StreamingDownload, "close", counting_close)
    target = tmp_path / "in"
    err = taro.fails("receive", drop_id, "-o", str(target))
    assert "another size than the sender's signed manifest" in err
    assert read[-1] == 0  # the file's download: refused before its body was read
    assert _everything_under(target) == []
    assert _downloaded(hanako, drop_id, TARO) is None


def _forged_metadata(server: Server, length: int, name: str, message: str) -> bytes:
    """What a server can make without any private key: new metadata (another file name,
    another message) encrypted to the drop's recipients' public keys from the directory,
    its message padded so that the ciphertext is exactly ``length`` bytes (the size the
    signed manifest names): only the manifest's hash can tell it from the real one."""
    bundle = server.home.bundle_file.read_bytes()
    recipients = [
        X25519Recipient(unb64u(d["enc_key"], 32))
        for user in (TARO, HANAKO)
        for d in entry_obj(bundle, user)["devices"]
    ]

    def sealed(text: str) -> bytes:
        files = [{"blob": "f1", "name": name, "size": SIZE}]
        body = {"type": METADATA_TYPE, "files": files, "message": text, "classification": "C2"}
        out = io.BytesIO()
        age_encrypt(io.BytesIO(json.dumps(body, ensure_ascii=False).encode()), out, recipients)
        return out.getvalue()

    padding = length - len(sealed(message))
    assert padding >= 0, "the real metadata is shorter than the forgery's minimum"
    forged = sealed(message + " " * padding)
    assert len(forged) == length
    return forged


def test_a_swapped_metadata_blob_is_refused_and_nothing_is_saved(
    enrol: Enrol, org_server: Server, tmp_path: Path
) -> None:
    """Issue 14, item 20: anyone can encrypt to a public key, so the server can replace
    the metadata blob ``m`` (file names, message) with its own of the same size; the
    hash in the sender's signed manifest refuses it: nothing saved, exit 1, no receipt."""
    hanako, taro = enrol(HANAKO, "laptop"), enrol(TARO, "desktop")
    data = _data(tmp_path / "out", "report.pdf")
    message = "Quarterly report attached; please check the totals before Friday."
    drop_id = hanako.ok("send", str(data), "--to", TARO, "--message", message)["drop_id"]
    stored = _stored_blob(org_server, drop_id, "m")
    original = stored.read_bytes()
    stored.write_bytes(_forged_metadata(org_server, len(original), "invoice.exe", "Pay now"))
    target = tmp_path / "in"
    code, _, err = taro.run("receive", drop_id, "-o", str(target))
    assert code == 1, err
    assert "does not match the sender's signed manifest" in err
    assert "invoice" not in err
    assert "Pay now" not in err
    assert _everything_under(target) == []
    _no_plaintext_anywhere(data.read_bytes(), target, taro.home)
    _no_secrets(err, hanako, taro)
    assert _downloaded(hanako, drop_id, TARO) is None  # no receipt was posted
    # control: the real metadata gives the real name and message
    stored.write_bytes(original)
    got = taro.ok("receive", drop_id, "-o", str(target))
    assert [Path(f).name for f in got["files"]] == ["report.pdf"]
    assert got["message"] == message


# ---------------------------------------------------------------- (b) manifest


def _later_expiry(body: dict) -> None:  # type: ignore[type-arg]
    body["expires"] = body["expires"].replace(
        body["expires"][:4], str(int(body["expires"][:4]) + 1)
    )


def _other_hash(body: dict) -> None:  # type: ignore[type-arg]
    blob = next(b for b in body["blobs"] if b["id"] == "f1")
    blob["sha256"] = b64u(bytes(32))


def _extra_recipient(body: dict) -> None:  # type: ignore[type-arg]
    body["recipients"].append({"user": JIRO, "devices": ["pc"]})


@pytest.mark.parametrize("change", [_later_expiry, _other_hash, _extra_recipient])
def test_an_altered_manifest_is_refused_and_shown_as_dangerous(
    enrol: Enrol,
    org_server: Server,
    tmp_path: Path,
    change: Callable[[dict], None],  # type: ignore[type-arg]
) -> None:
    hanako, taro = enrol(HANAKO, "laptop"), enrol(TARO, "desktop")
    enrol(JIRO, "pc")
    data = _data(tmp_path / "out")
    drop_id = hanako.ok("send", str(data), "--to", TARO)["drop_id"]
    good_id = hanako.ok("send", str(_data(tmp_path / "out2")), "--to", TARO)["drop_id"]
    _edit_manifest(org_server, drop_id, change)
    target = tmp_path / "in"
    err = taro.fails("receive", drop_id, "-o", str(target))
    assert "failed verification" in err
    assert "signature does not verify" in err
    assert _everything_under(target) == []
    assert not (taro.home / "downloads" / drop_id).exists()  # nothing was even downloaded
    _no_plaintext_anywhere(data.read_bytes(), target, taro.home)
    _no_secrets(err, hanako, taro)
    rows = {r["drop_id"]: r for r in taro.ok("inbox")["drops"]}
    assert rows[drop_id]["verified"] is False
    problem = rows[drop_id].get("problem") or rows[drop_id].get("error")
    assert "failed verification" in problem
    assert rows[good_id]["verified"] is True  # the other drop is unaffected
    # the sender's own list does not take the server's copy as fact either
    sent = {d["drop_id"]: d for d in hanako.ok("sent")["drops"]}
    assert sent[drop_id]["state"] == "damaged"
    assert sent[drop_id]["recipients"] == []  # no Jiro, no other expiry shown
    assert sent[good_id]["state"] == "committed"


def test_a_drop_past_its_signed_expiry_is_refused(
    enrol: Enrol, org_server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server keeps serving a drop after the expiry the sender signed (its clock, or
    its will): the recipient's client refuses it by the signed time."""
    hanako, taro = enrol(HANAKO, "laptop"), enrol(TARO, "desktop")
    data = _data(tmp_path / "out")
    drop_id = hanako.ok("send", str(data), "--to", TARO, "--expires", "1d")["drop_id"]
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=2)
    monkeypatch.setattr("secure_send.client.receive.utc_now", lambda: later)
    target = tmp_path / "in"
    err = taro.fails("receive", drop_id, "-o", str(target))
    assert "time limit" in err
    assert _everything_under(target) == []
    (row,) = [r for r in taro.ok("inbox")["drops"] if r["drop_id"] == drop_id]
    assert row["verified"] is False
    assert _downloaded(hanako, drop_id, TARO) is None
    receipts = {d["drop_id"]: d for d in hanako.ok("sent")["drops"]}
    assert all(r["downloaded"] is None for r in receipts[drop_id]["recipients"])


# ---------------------------------------------------------------- (c) directory keys


def _attacker_key() -> str:
    return b64u(nacl.signing.SigningKey.generate().to_curve25519_private_key().public_key.encode())


def _substitute_key(server: Server, how: str) -> None:
    """Rewrite the served bundle so that Taro's desktop has an attacker's enc_key."""
    data = server.home.bundle_file.read_bytes()
    entry = entry_obj(data, TARO)
    (device,) = entry["devices"]
    attacker = _attacker_key()
    if how == "entries-only":  # header as signed: the Merkle root no longer matches
        forged = replace_in_entry(data, TARO, device["enc_key"], attacker)
    elif how == "resigned-by-attacker":  # a new root and header, signed by a stranger
        device["enc_key"] = attacker
        forged = resign(
            with_entry(data, server.home, TARO, entry, sign=False),
            nacl.signing.SigningKey.generate(),
        )
    else:  # "resigned-with-org-key": only the device's own key binding catches it
        device["enc_key"] = attacker
        forged = with_entry(data, server.home, TARO, entry, sign=True)
    server.serve_directory(forged)


@pytest.mark.parametrize("how", ["entries-only", "resigned-by-attacker", "resigned-with-org-key"])
def test_a_substituted_recipient_key_stops_the_send(
    enrol: Enrol, org_server: Server, tmp_path: Path, how: str
) -> None:
    hanako, taro = enrol(HANAKO, "laptop"), enrol(TARO, "desktop")
    hanako.ok("directory", "search", "suzuki")  # both have synced once
    taro.ok("directory", "search", "sato")
    data = _data(tmp_path / "out")
    before = sorted(blob_files(org_server))
    _substitute_key(org_server, how)
    err = hanako.fails("send", str(data), "--to", TARO)
    assert "failed verification" in err
    assert "do not send" in err
    _no_secrets(err, hanako, taro)
    assert sorted(blob_files(org_server)) == before
    with _db(org_server) as db:
        assert db.execute("SELECT COUNT(*) FROM drops").fetchone() == (0,)
        assert db.execute("SELECT COUNT(*) FROM uploads").fetchone() == (0,)
    assert (
        not any((hanako.home / "outbox").glob("*")) if (hanako.home / "outbox").exists() else True
    )
    assert (
        not any((hanako.home / "resume").glob("*")) if (hanako.home / "resume").exists() else True
    )
    # the recipient refuses the forged directory too
    assert "failed verification" in taro.fails("inbox")


# ---------------------------------------------------------------- (d) rollback


@pytest.mark.parametrize("server_answers", ["its-real-log", "a-forged-proof"])
@pytest.mark.parametrize("command", ["send", "search"])
def test_an_older_directory_replayed_is_refused(
    enrol: Enrol,
    org_server: Server,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    command: str,
    server_answers: str,
) -> None:
    hanako, taro = enrol(HANAKO, "laptop"), enrol(TARO, "desktop")
    hanako.ok("directory", "search", "x")
    old = org_server.home.bundle_file.read_bytes()
    enrol_device(org_server.home, TARO, "laptop")  # a newer snapshot is published
    org_server.push()
    assert org_server.home.bundle_file.read_bytes() != old
    hanako.ok("directory", "search", "x")  # ...and seen
    org_server.serve_directory(old)  # the server replays the old one
    if server_answers == "a-forged-proof":
        # a fully malicious server also answers the consistency request (with an empty
        # proof) instead of refusing it: only the client's own rollback check is left
        real = ServerApi.json

        def forged(self: ServerApi, method: str, path: str, obj: object = None, **kw: object):  # type: ignore[no-untyped-def]
            if path.startswith("/v1/directory/consistency"):
                return {"proof": []}
            return real(self, method, path, obj, **kw)

        monkeypatch.setattr(ServerApi, "json", forged)
    data = _data(tmp_path / "out")
    before = sorted(blob_files(org_server))
    if command == "send":
        err = hanako.fails("send", str(data), "--to", TARO)
    else:
        err = hanako.fails("directory", "search", "suzuki")
    # whatever the server answers about consistency, the client names the replay
    # (verify_directory's own epoch check stands behind it:
    # tests/core/directory/test_directory_verify.py)
    assert "older directory than this device has already verified" in err
    assert "do not send" in err
    _no_secrets(err, hanako, taro)
    assert sorted(blob_files(org_server)) == before
    with _db(org_server) as db:
        assert db.execute("SELECT COUNT(*) FROM drops").fetchone() == (0,)
    assert (
        not any((hanako.home / "resume").glob("*")) if (hanako.home / "resume").exists() else True
    )


# ---------------------------------------------------------------- (e) receipts


def _forge_receipt(server: Server, drop_id: str, how: str, genuine: str) -> None:
    """The server stores a receipt for Taro's desktop on ``drop_id`` that Taro never
    signed: made up and signed by a stranger's key (everything else right, the current
    log head included), or Taro's real receipt for the drop ``genuine`` replayed."""
    with _db(server) as db:
        if how == "signed-by-a-stranger":
            (text,) = db.execute("SELECT manifest FROM drops WHERE id = ?", (drop_id,)).fetchone()
            manifest = SignedManifest.from_json(json.loads(text)).manifest
            head = header_of(server.home.bundle_file.read_bytes())
            forged = Receipt(
                drop_id=drop_id,
                user=TARO,
                device="desktop",
                blob_hashes=tuple(b.sha256 for b in manifest.blobs),
                time=format_time(utc_now()),
                log_size=head.log_size,
                log_root=head.log_root,
            ).signed_by(nacl.signing.SigningKey.generate())
            receipt = json.dumps(forged.to_json())
        else:  # "replayed-from-another-drop"
            (receipt,) = db.execute(
                "SELECT receipt FROM receipts WHERE drop_id = ?", (genuine,)
            ).fetchone()
        db.execute("INSERT INTO receipts VALUES (?, ?, ?, ?)", (drop_id, TARO, "desktop", receipt))
    db.close()


@pytest.mark.parametrize("how", ["signed-by-a-stranger", "replayed-from-another-drop"])
def test_a_forged_receipt_is_never_shown_as_downloaded(
    enrol: Enrol, org_server: Server, tmp_path: Path, how: str
) -> None:
    """Issue 14, item 24: the server serves a receipt Taro's device never signed for this
    drop; the sender's list counts it as unverified and never shows a download time."""
    hanako, taro = enrol(HANAKO, "laptop"), enrol(TARO, "desktop")
    opened = hanako.ok("send", str(_data(tmp_path / "a")), "--to", TARO)["drop_id"]
    unopened = hanako.ok("send", str(_data(tmp_path / "b")), "--to", TARO)["drop_id"]
    taro.ok("receive", opened, "-o", str(tmp_path / "in"))
    _forge_receipt(org_server, unopened, how, genuine=opened)
    rows = {d["drop_id"]: d for d in hanako.ok("sent")["drops"]}
    assert _downloaded(hanako, unopened, TARO) is None
    assert rows[unopened]["unverified_receipts"] == 1  # served, and not believed
    assert _downloaded(hanako, opened, TARO)  # control: Taro's real receipt is shown


# ---------------------------------------------------------------- (f) a withheld directory


def test_a_send_from_a_stale_offline_copy_is_refused(
    enrol: Enrol, org_server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 14, item 26: the server cuts every directory request (so the client falls
    back to its last verified copy, still unexpired) yet accepts uploads; a newer
    directory (Taro's new laptop) exists. The copy may be read, but no send is prepared
    from it: ``directory_stale``, nothing uploaded, nothing left to resume."""
    hanako, _ = enrol(HANAKO, "laptop"), enrol(TARO, "desktop")
    hanako.ok("directory", "search", "x")  # a verified copy is stored
    enrol(TARO, "laptop")  # ...and then becomes stale
    real = ServerApi.request

    def withheld(self: ServerApi, method: str, path: str, *a: Any, **kw: Any) -> Any:
        if path.startswith("/v1/directory"):
            raise ConnectionLost
        return real(self, method, path, *a, **kw)

    monkeypatch.setattr(ServerApi, "request", withheld)
    assert hanako.ok("directory", "search", "suzuki")["results"]  # offline reading is fine
    code, _, err = hanako.run("send", str(_data(tmp_path / "out")), "--to", TARO)
    assert code == 1, err
    assert "directory could not be refreshed" in err, err  # send.py's directory_stale
    with _db(org_server) as db:
        assert db.execute("SELECT COUNT(*) FROM drops").fetchone() == (0,)
    db.close()
    assert not any((hanako.home / "resume").glob("*"))
    assert not any((hanako.home / "outbox").glob("*"))
    profile = Profile(hanako.home)  # the same through the library: the code itself
    session = Session.open(profile, FileKeyStore(profile))
    stale = session.directory()
    assert not stale.fresh
    files = send.collect([_data(tmp_path / "out")])
    with pytest.raises(ClientError) as refused:
        send.prepare(session, stale, files, [TARO], expires=dt.timedelta(days=1))
    assert refused.value.code is ErrorCode.DIRECTORY_STALE
    session.close()
    monkeypatch.setattr(ServerApi, "request", real)  # control: with the directory, it goes
    hanako.ok("send", str(_data(tmp_path / "out")), "--to", TARO)


def test_one_bad_blob_saves_none_of_the_drop(
    enrol: Enrol, org_server: Server, tmp_path: Path
) -> None:
    """All or nothing: the first file is authentic, the second swapped — neither appears."""
    hanako, taro = enrol(HANAKO, "laptop"), enrol(TARO, "desktop")
    first = _data(tmp_path / "out", "a.bin")
    second = _data(tmp_path / "out", "b.bin")
    drop_id = hanako.ok("send", str(first), str(second), "--to", TARO)["drop_id"]
    stored = _stored_blob(org_server, drop_id, "f2")
    damaged = bytearray(stored.read_bytes())
    damaged[-100] ^= 1
    stored.write_bytes(bytes(damaged))
    out = tmp_path / "in"
    err = taro.fails("receive", drop_id, "-o", str(out))
    assert "does not match the sender's signed manifest" in err
    assert _everything_under(out) == []  # not a.bin either, and no hidden temporary file
    _no_plaintext_anywhere(first.read_bytes(), out, taro.home)
    assert _downloaded(hanako, drop_id, TARO) is None


def test_an_unreadable_manifest_does_not_hide_the_senders_other_drops(
    enrol: Enrol, org_server: Server, tmp_path: Path
) -> None:
    hanako, _ = enrol(HANAKO, "laptop"), enrol(TARO, "desktop")
    good = hanako.ok("send", str(_data(tmp_path / "a")), "--to", TARO)["drop_id"]
    bad = hanako.ok("send", str(_data(tmp_path / "b")), "--to", TARO)["drop_id"]
    _edit_manifest(org_server, bad, lambda body: body.update(expires="not a time"))
    states = {d["drop_id"]: d["state"] for d in hanako.ok("sent")["drops"]}
    assert states == {good: "committed", bad: "damaged"}


def test_a_bad_blob_in_a_folder_leaves_no_empty_folders(
    enrol: Enrol, org_server: Server, tmp_path: Path
) -> None:
    hanako, taro = enrol(HANAKO, "laptop"), enrol(TARO, "desktop")
    folder = tmp_path / "報告書"
    _data(folder / "添付", "a.bin")
    drop_id = hanako.ok("send", str(folder), "--to", TARO)["drop_id"]
    stored = _stored_blob(org_server, drop_id, "f1")
    stored.write_bytes(b"\0" * stored.stat().st_size)
    out = tmp_path / "in"
    assert "does not match" in taro.fails("receive", drop_id, "-o", str(out))
    assert _everything_under(out) == []  # not even 報告書/添付/
