"""The attack of the security review, replayed: the drop server cannot redirect a send.

Before the directory signing key left the drop server, an attacker holding only the
server's files could add a device to a colleague's entry, sign a new epoch, and
senders then encrypted to the attacker. Now the server's folder holds public
material only (``secure-send-admin server-home``). Here the attacker has exactly
that folder — the anchor, the signed bundle, the event log, ``server.toml`` — plus
keys of their own, and the real server serves whatever bundle they forge
(:meth:`Server.serve_directory`). Whatever they forge, Hanako's ``send --to
taro.suzuki`` must refuse ("failed verification", "do not send") with nothing
uploaded and no outbox, and Taro's own client must refuse the forged directory too.

The server's push endpoint is attacked as well: a caller that is not the pinned
signer gets 401, and even the pinned signer's key cannot make the server hold a
snapshot that the organisation's roots did not vouch for (422 ``push_refused``; the
old snapshot is still served).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nacl.signing
import pytest

from secure_send.client.api import ServerApi, Signer
from secure_send.client.directory_sync import DirectoryUnverified, sync
from secure_send.client.errors import ServerError
from secure_send.client.keystore import FileKeyStore
from secure_send.client.profile import DeviceIdentity, OrgConfig, Profile
from secure_send.core.directory.bundle import Bundle, TrustAnchor
from secure_send.core.directory.push import DirectoryKind, Push
from secure_send.core.directory.trust import RootDocument, body_hash
from secure_send.core.encoding import format_time, utc_now
from secure_send.org import ops
from secure_send.org.signer import SIGNER_DEVICE, SIGNER_USER
from tests.client.conftest import Enrol, Person, blob_files
from tests.directory_kit import (
    HANAKO,
    TARO,
    canonical_text,
    edit_entries,
    entry_obj,
    index_of,
    request_for,
    resign,
)
from tests.server.conftest import Server

# ---------------------------------------------------------------- what the attacker has


@dataclasses.dataclass(frozen=True)
class Loot:
    """Everything the server's folder gives an attacker (and nothing else)."""

    bundle: bytes  # directory/directory.bundle: what the server holds and serves
    anchor: TrustAnchor  # directory/anchor.json: root *public* keys
    events: bytes  # directory/events.ndjson
    server_toml: str  # pins the signer's *public* key


def _loot(server: Server) -> Loot:
    folder = server.config.home
    assert not folder.resolve().is_relative_to(server.home.path.resolve())
    directory = folder / "directory"
    return Loot(
        bundle=(directory / "directory.bundle").read_bytes(),
        anchor=TrustAnchor.from_json(json.loads((directory / "anchor.json").read_text())),
        events=(directory / "events.ndjson").read_bytes(),
        server_toml=(folder / "server.toml").read_text(),
    )


def _attacker_device(device_id: str) -> dict[str, Any]:
    """A device listed under Taro's id with keys the attacker made (its key binding
    is valid: the attacker signs it with their own device key)."""
    _, request = request_for(TARO, device_id, None, "人事課のデスクトップ")
    return request.device(format_time(utc_now())).to_json()


# Changes to Taro's entry (the entry object is edited in place).
def _add_device(entry: dict[str, Any]) -> None:
    entry["devices"].append(_attacker_device("desktop-2"))


def _swap_keys(entry: dict[str, Any]) -> None:
    (device,) = entry["devices"]
    forged = _attacker_device(device["id"])
    for field in ("sign_key", "enc_key", "enc_key_sig"):
        if field in device:
            device[field] = forged[field]


def _remove_device(entry: dict[str, Any]) -> None:
    entry["devices"] = []


CHANGES: dict[str, Callable[[dict[str, Any]], None]] = {
    "add-device": _add_device,
    "swap-keys": _swap_keys,
    "remove-device": _remove_device,
}


def _next_header(data: bytes, **more: Any) -> dict[str, Any]:
    """Header fields of a plausible next epoch (chains to the held snapshot, fresh)."""
    header = Bundle.from_bytes(data).header
    now = utc_now()
    return {
        "epoch": header.epoch + 1,
        "previous": body_hash(header.body()),
        "issued": format_time(now),
        "expires": format_time(now + dt.timedelta(hours=24)),
        **more,
    }


def _attacker_root(
    previous: RootDocument | None, org: str, version: int, signing: nacl.signing.SigningKey
) -> RootDocument:
    """A root document naming the attacker's signing key, signed by the attacker's own
    root key (which the organisation never vouched for)."""
    stranger = nacl.signing.SigningKey.generate()
    now = utc_now()
    doc = RootDocument(
        org=org,
        version=version,
        issued=format_time(now),
        root_keys=(bytes(stranger.verify_key),),
        threshold=1,
        signing_key=bytes(signing.verify_key),
        signing_key_expires=format_time(now + dt.timedelta(days=30)),
        previous=body_hash(previous.body()) if previous else "",
    )
    return doc.signed_by([stranger])


def forge(loot: Loot, change: str, how: str) -> bytes:
    """The served bundle with Taro's entry changed, made to look as valid as the
    attacker can make it without the organisation's keys.

    ``how``:
      * ``entries-only`` — the header left exactly as the signer signed it;
      * ``attacker-key`` — a new epoch signed by the attacker's key;
      * ``attacker-root-appended`` — a newer root document naming the attacker's
        signing key (signed by an attacker root key) appended to the real chain;
      * ``attacker-roots`` — the root documents replaced by the attacker's own
        (same organisation name and version: the anchor as the server serves it).
    """
    data = loot.bundle
    entry = entry_obj(data, TARO)
    CHANGES[change](entry)
    texts = list(Bundle.from_bytes(data).entries)
    texts[index_of(data, TARO)] = canonical_text(entry)
    if how == "entries-only":
        return edit_entries(data, lambda _: texts)
    signing = nacl.signing.SigningKey.generate()
    bundle = Bundle.from_bytes(data)
    current = max(bundle.roots, key=lambda r: r.version)
    if how == "attacker-key":
        return resign(data, signing, entries=texts, **_next_header(data))
    if how == "attacker-root-appended":
        root = _attacker_root(current, current.org, current.version + 1, signing)
        return resign(
            data,
            signing,
            entries=texts,
            roots=(*bundle.roots, root),
            **_next_header(data, root_version=root.version),
        )
    assert how == "attacker-roots"
    roots = tuple(_attacker_root(None, r.org, r.version, signing) for r in [current])
    return resign(data, signing, entries=texts, roots=roots, **_next_header(data))


HOWS = ("entries-only", "attacker-key", "attacker-root-appended", "attacker-roots")
REASONS = {  # the check that catches each forgery (named in the client's error)
    "entries-only": "entries do not match the signed Merkle root",
    "attacker-key": "snapshot header signature does not verify",
    "attacker-root-appended": "valid root-key signatures",
    "attacker-roots": "two different root documents with the same version",
}


# ---------------------------------------------------------------- checks


def _db(server: Server) -> sqlite3.Connection:
    return sqlite3.connect(server.config.state_dir / "meta.sqlite")


def _counts(server: Server) -> tuple[int, int]:
    db = _db(server)
    try:
        (drops,) = db.execute("SELECT COUNT(*) FROM drops").fetchone()
        (uploads,) = db.execute("SELECT COUNT(*) FROM uploads").fetchone()
    finally:
        db.close()
    return drops, uploads


def _empty(folder: Path) -> bool:
    return not folder.exists() or not any(folder.iterdir())


def _secret(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "人事評価.xlsx"
    path.write_bytes(os.urandom(50_000))
    return path


def _refused_everywhere(server: Server, hanako: Person, taro: Person, data: Path, how: str) -> None:
    before_blobs, before_counts = sorted(blob_files(server)), _counts(server)
    err = hanako.fails("send", str(data), "--to", TARO)
    assert "failed verification" in err, err
    assert REASONS[how] in err, err
    assert "do not send" in err, err
    assert sorted(blob_files(server)) == before_blobs  # nothing uploaded
    assert _counts(server) == before_counts
    assert _empty(hanako.home / "outbox")
    assert _empty(hanako.home / "resume")
    assert "failed verification" in taro.fails("inbox")
    assert "failed verification" in hanako.fails("directory", "search", "suzuki")


@pytest.fixture
def pair(enrol: Enrol) -> tuple[Person, Person]:
    """Hanako and Taro, enrolled, each having verified the directory once."""
    hanako, taro = enrol(HANAKO, "laptop"), enrol(TARO, "desktop")
    hanako.ok("directory", "search", "suzuki")
    taro.ok("directory", "search", "sato")
    return hanako, taro


# ---------------------------------------------------------------- forged directories


@pytest.mark.parametrize("how", HOWS)
@pytest.mark.parametrize("change", sorted(CHANGES))
def test_a_server_cannot_change_a_recipients_devices(
    org_server: Server, pair: tuple[Person, Person], tmp_path: Path, change: str, how: str
) -> None:
    hanako, taro = pair
    forged = forge(_loot(org_server), change, how)
    assert entry_obj(forged, TARO) != entry_obj(_loot(org_server).bundle, TARO)
    org_server.serve_directory(forged)
    _refused_everywhere(org_server, hanako, taro, _secret(tmp_path / "out"), how)


@pytest.mark.parametrize("how", ["attacker-key", "attacker-root-appended", "attacker-roots"])
def test_attacker_roots_alone_are_refused(
    org_server: Server, pair: tuple[Person, Person], tmp_path: Path, how: str
) -> None:
    """(iv) Only the root documents/signing key are the attacker's; every entry is the
    real one — the bundle is still refused, so nothing can ride on such roots."""
    hanako, taro = pair
    loot = _loot(org_server)
    signing = nacl.signing.SigningKey.generate()
    bundle = Bundle.from_bytes(loot.bundle)
    current = max(bundle.roots, key=lambda r: r.version)
    if how == "attacker-key":
        forged = resign(loot.bundle, signing, **_next_header(loot.bundle))
    elif how == "attacker-root-appended":
        root = _attacker_root(current, current.org, current.version + 1, signing)
        fields = _next_header(loot.bundle, root_version=root.version)
        forged = resign(loot.bundle, signing, roots=(*bundle.roots, root), **fields)
    else:
        root = _attacker_root(None, current.org, current.version, signing)
        forged = resign(loot.bundle, signing, roots=(root,), **_next_header(loot.bundle))
    org_server.serve_directory(forged)
    _refused_everywhere(org_server, hanako, taro, _secret(tmp_path / "out"), how)


@pytest.mark.parametrize("how", HOWS)
def test_a_device_without_a_checkpoint_refuses_the_forgery_too(
    org_server: Server, enrol: Enrol, tmp_path: Path, how: str
) -> None:
    """A new device (first sync: only the roots pinned in its configuration, no
    checkpoint yet) is where replaced roots would matter most; it refuses them too."""
    taro = enrol(TARO, "desktop")
    org_server.serve_directory(forge(_loot(org_server), "add-device", how))
    profile = Profile(tmp_path / "new-device")
    profile.ensure()
    org = OrgConfig.from_json(ops.client_config(org_server.home, org_server.url))
    # only enrolled devices read the directory: Taro's keys, a profile without a checkpoint
    keys = FileKeyStore(Profile(taro.home)).load(DeviceIdentity(TARO, "desktop"))
    api = ServerApi(org_server.url, Signer(TARO, "desktop", keys.signing))
    try:
        with pytest.raises(DirectoryUnverified) as refused:
            sync(profile, org, api)
    finally:
        api.close()
    assert "failed verification" in str(refused.value)
    assert not profile.directory_file.exists()
    assert not profile.checkpoint_file.exists()


def test_the_real_directory_served_again_works(
    org_server: Server, pair: tuple[Person, Person], tmp_path: Path
) -> None:
    """Control: the same steps with the server's own bundle served back succeed (the
    refusals above come from the forgery, not from serving bytes this way)."""
    hanako, _ = pair
    org_server.serve_directory(_loot(org_server).bundle)
    drop = hanako.ok("send", str(_secret(tmp_path / "out")), "--to", TARO)
    assert drop["drop_id"]


def test_the_server_folder_holds_no_key_that_signs_a_directory(org_server: Server) -> None:
    """The premise of the attacks above: only public keys are in what the attacker has
    (the exhaustive scan of the folder is tests/server/test_server_folder.py)."""
    loot = _loot(org_server)
    home = org_server.home
    assert bytes(home.signing_key().verify_key) not in loot.anchor.root_keys
    assert bytes(home.signing_key()) not in loot.bundle + loot.events
    assert home.signing_key_file.read_text() not in loot.server_toml
    assert not list(org_server.config.home.rglob("*.key"))


# ---------------------------------------------------------------- pushes


def _push_forged(loot: Loot) -> bytes:
    """A push that continues the held log exactly, carrying a snapshot with an attacker
    device in Taro's entry, signed by a key no root document names."""
    forged = forge(loot, "add-device", "attacker-key")
    size = Bundle.peek_header(loot.bundle).log_size
    return Push(size, (), DirectoryKind.BUNDLE, forged).to_bytes()


def _push_forged_roots(loot: Loot) -> bytes:
    forged = forge(loot, "add-device", "attacker-root-appended")
    size = Bundle.peek_header(loot.bundle).log_size
    return Push(size, (), DirectoryKind.BUNDLE, forged).to_bytes()


def _post_push(server: Server, body: bytes, signer: Signer | None) -> ServerError:
    """POST the push as ``signer`` (None: unsigned); the server's refusal."""
    api = ServerApi(server.url, signer)
    try:
        with pytest.raises(ServerError) as refused:
            api.request("POST", "/v1/signer/push", body, signed=signer is not None)
    finally:
        api.close()
    return refused.value


@pytest.mark.parametrize("caller", ["attacker-key-as-signer", "a-staff-device", "unsigned"])
def test_a_push_from_anyone_but_the_pinned_signer_is_refused(
    org_server: Server, enrol: Enrol, caller: str
) -> None:
    hanako = enrol(HANAKO, "laptop")
    loot = _loot(org_server)
    audit_before = (org_server.config.home / "server" / "audit.jsonl").read_text()
    signer: Signer | None = None
    if caller == "attacker-key-as-signer":  # the signer's keyid, the attacker's key
        signer = Signer(SIGNER_USER, SIGNER_DEVICE, nacl.signing.SigningKey.generate())
    elif caller == "a-staff-device":  # a real, enrolled device of the directory
        keys = FileKeyStore(Profile(hanako.home)).load(DeviceIdentity(HANAKO, "laptop"))
        signer = Signer(HANAKO, "laptop", keys.signing)
    refused = _post_push(org_server, _push_forged(loot), signer)
    assert refused.status == 401, refused
    assert _loot(org_server) == loot  # nothing stored
    audit = (org_server.config.home / "server" / "audit.jsonl").read_text()
    new = [json.loads(line) for line in audit[len(audit_before) :].splitlines()]
    assert [r["action"] for r in new] == ["auth_failure"], new
    assert not any(r["action"] == "directory_push" for r in new)


@pytest.mark.parametrize("make", [_push_forged, _push_forged_roots])
def test_the_pinned_signer_cannot_push_a_snapshot_the_roots_did_not_vouch_for(
    org_server: Server,
    pair: tuple[Person, Person],
    tmp_path: Path,
    make: Callable[[Loot], bytes],
) -> None:
    hanako, taro = pair
    loot = _loot(org_server)
    served = org_server.held_bundle()
    api = ServerApi(
        org_server.url, Signer(SIGNER_USER, SIGNER_DEVICE, org_server.home.signer_identity())
    )
    try:
        with pytest.raises(ServerError) as refused:
            api.request("POST", "/v1/signer/push", make(loot))
    finally:
        api.close()
    assert (refused.value.status, refused.value.code) == (422, "push_refused")
    assert _loot(org_server).bundle == loot.bundle  # nothing stored
    assert _loot(org_server).events == loot.events
    assert org_server.held_bundle() == served  # the old one is served
    # and the organisation works on as before
    drop = hanako.ok("send", str(_secret(tmp_path / "out")), "--to", TARO)
    assert drop["drop_id"] in {d["drop_id"] for d in taro.ok("inbox")["drops"]}
