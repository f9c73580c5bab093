"""Split views are caught: a drop or a receipt signed over another directory history
than the reader's own is dangerous, never "verified" or "downloaded".

The real server on 127.0.0.1 and the real directory signer serve the organisation.
The fork is made as an attacker holding the real signing key would: the
organisation home is copied at one moment, other events are appended in the copy
and a snapshot over them is signed with the real key. The server then shows that
history to Taro only (its held directory swapped while Taro's commands run) and
the real one to Hanako; each client first sees only its own side, so neither
client's own rollback and consistency checks stop the scenario early.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from secure_send.client import listing
from secure_send.client import receive as receiving
from secure_send.client.api import ServerApi
from secure_send.client.errors import ConnectionLost
from secure_send.client.profile import Profile
from secure_send.client.session import Session
from secure_send.client.split_view import CACHE_FILE
from secure_send.core.directory.log import Action
from secure_send.core.encoding import b64u, unb64u
from secure_send.core.envelope.manifest import Manifest
from secure_send.core.envelope.receipt import Receipt
from secure_send.org import ops
from secure_send.org.home import OrgHome
from secure_send.server.directory_store import PublishedDirectory
from tests.client.conftest import Enrol, Person
from tests.directory_kit import HANAKO, OPERATOR, TARO, bundle_bytes
from tests.server.conftest import Server

FORKED = ("ichiro.tanaka", "saburo.ito", "yoko.watanabe")  # departures only Taro sees
REAL = ("kenji.yamamoto", "mika.nakamura", "ichiro.tanaka")  # the real history


def _file(folder: Path, name: str) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(os.urandom(4096))
    return str(path)


def _head(person: Person) -> tuple[int, bytes]:
    """The log head of the person's verified checkpoint."""
    checkpoint = json.loads((person.home / "checkpoint.json").read_text())
    return checkpoint["log_size"], unb64u(checkpoint["log_root"], 32)


def _depart(server: Server, *users: str) -> None:
    """Real events, signed and pushed by the real signer."""
    for user in users:
        ops.change(server.home, OPERATOR, Action.DEPART, {"user": user})
    server.push()


def _fork(server: Server, tmp_path: Path) -> PublishedDirectory:
    """Another history after the current one, signed with the real signing key: the
    organisation home copied as it is now, :data:`FORKED` appended in the copy, and
    a server directory folder holding that snapshot and its log."""
    home = OrgHome(shutil.copytree(server.home.path, tmp_path / "fork-org"))
    for user in FORKED:
        ops.change(home, OPERATOR, Action.DEPART, {"user": user})
    folder = tmp_path / "fork-server" / "directory"
    folder.mkdir(parents=True)
    shutil.copy(server.config.home / "directory" / "anchor.json", folder)
    (folder / "directory.bundle").write_bytes(bundle_bytes(home))
    shutil.copy(home.log_file, folder / "events.ndjson")
    return PublishedDirectory(folder.parent)


@contextlib.contextmanager
def _showing(server: Server, forked: PublishedDirectory) -> Iterator[None]:
    """While the block runs, the server holds and serves the forked history."""
    assert server.app_state is not None
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(server.app_state, "directory", forked)
        yield


def _inbox(person: Person) -> dict[str, dict[str, Any]]:
    return {d["drop_id"]: d for d in person.ok("inbox")["drops"]}


def _status(sender: Person, drop_id: str, user: str) -> dict[str, Any]:
    (drop,) = [d for d in sender.ok("sent")["drops"] if d["drop_id"] == drop_id]
    (status,) = [r for r in drop["recipients"] if r["user"] == user]
    return dict(status)


def _session(person: Person) -> Session:
    person.monkeypatch.setenv("SECURE_SEND_TEST_KEYSTORE", "1")
    return Session.open(Profile(person.home))


def _nothing_saved(folder: Path) -> None:
    assert not folder.exists() or not any(folder.rglob("*"))


def test_a_split_view_between_sender_and_recipient_is_caught(
    enrol: Enrol, org_server: Server, tmp_path: Path
) -> None:
    hanako, taro = enrol(HANAKO, "laptop"), enrol(TARO, "desktop")
    before = hanako.ok("send", _file(tmp_path / "out", "before.txt"), "--to", TARO)["drop_id"]
    taro.ok("inbox")
    assert _head(taro) == _head(hanako)  # one history so far
    forked = _fork(org_server, tmp_path)
    _depart(org_server, REAL[0])
    with _showing(org_server, forked):
        # the forked history extends what the drop was signed over: Taro accepts it
        assert _inbox(taro)[before]["verified"]
        taro.ok("receive", before, "--output", str(tmp_path / "in-before"))
    after = hanako.ok("send", _file(tmp_path / "out", "after.txt"), "--to", TARO)["drop_id"]
    (hanako_size, hanako_root), (taro_size, taro_root) = _head(hanako), _head(taro)
    assert hanako_size < taro_size  # a proof is needed, and the server offers one
    with _showing(org_server, forked):
        item = _inbox(taro)[after]
        assert not item["verified"]
        assert item["problem_code"] == "split_view"
        assert "split view" in item["problem"]
        assert "IT security" in item["problem"]
        err = taro.fails("receive", after, "--output", str(tmp_path / "in-after"))
        assert "split view" in err
    _nothing_saved(tmp_path / "in-after")
    # Taro's receipt for the first drop was signed over the forked history: Hanako's
    # server cannot prove it extends hers (it holds a shorter log) ...
    status = _status(hanako, before, TARO)
    assert status["downloaded"] is None
    assert status["problem_code"] == "split_view_unchecked"
    assert "IT security" in status["problem"]
    # ... and once her history is as long, the two roots differ
    _depart(org_server, *REAL[1:])
    status = _status(hanako, before, TARO)
    size, root = _head(hanako)
    assert size == taro_size
    assert root != taro_root
    assert hanako_root != taro_root
    assert status["downloaded"] is None
    assert status["problem_code"] == "split_view"


def test_heads_of_other_sizes_verify_in_either_direction(
    enrol: Enrol, org_server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hanako, taro = enrol(HANAKO, "laptop"), enrol(TARO, "desktop")
    sender, recipient = _session(hanako), _session(taro)
    sender_old, recipient_old = sender.directory(), recipient.directory()
    equal = hanako.ok("send", _file(tmp_path / "out", "equal.txt"), "--to", TARO)["drop_id"]
    _depart(org_server, REAL[0])
    newer = hanako.ok("send", _file(tmp_path / "out", "newer.txt"), "--to", TARO)["drop_id"]
    assert recipient_old.verified.checkpoint.log_size < _head(hanako)[0]
    # the sender's head is newer than the recipient's (proof old -> new), and equal
    items, _ = listing.inbox(recipient, recipient_old)
    assert {i.drop_id: i.verified for i in items} == {equal: True, newer: True}
    receiving.receive(recipient, recipient_old, newer, tmp_path / "in")
    # the sender's head is older than the recipient's (the recipient synced since)
    got = taro.ok("receive", equal, "--output", str(tmp_path / "in"))
    assert len(got["files"]) == 1
    # receipts: older than the sender (newer drop) and newer than the sender (equal drop)
    for directory in (sender.directory(), sender_old):
        by_id = {i.drop_id: i for i in listing.sent(sender, directory)}
        for drop_id in (equal, newer):
            (status,) = [r for r in by_id[drop_id].recipients if r.user == TARO]
            assert status.downloaded
            assert not status.problem
    # verified pairs are remembered: the proof is not asked for again
    assert json.loads((hanako.home / CACHE_FILE).read_text())["pairs"]
    monkeypatch.setattr(ServerApi, "json", _withholding(ServerApi.json, "error"))
    by_id = {i.drop_id: i for i in listing.sent(sender, sender_old)}
    assert all(r.downloaded for r in by_id[equal].recipients if r.user == TARO)
    sender.close()
    recipient.close()


def _withholding(real: Any, how: str) -> Any:
    """``ServerApi.json`` with the split-view proof withheld, garbled or wrong."""

    def json_(self: ServerApi, method: str, path: str, obj: Any = None, **kw: Any) -> Any:
        if not (path.startswith("/v1/directory/consistency") and "&to=" in path):
            return real(self, method, path, obj, **kw)
        if how == "error":
            raise ConnectionLost
        answer = real(self, method, path, obj, **kw)
        if how == "garbage":
            return {**answer, "proof": "AAAA" if answer["proof"] else {"x": 1}}
        if how == "other-sizes":
            return {**answer, "to": answer["to"] + 1}
        return {**answer, "proof": [b64u(bytes(32))] * max(1, len(answer["proof"]))}

    return json_


@pytest.mark.parametrize("how", ["error", "garbage", "other-sizes", "wrong-proof"])
def test_a_withheld_or_wrong_proof_is_dangerous_never_verified(
    enrol: Enrol, org_server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    hanako, taro = enrol(HANAKO, "laptop"), enrol(TARO, "desktop")
    drop_id = hanako.ok("send", _file(tmp_path / "out", "a.txt"), "--to", TARO)["drop_id"]
    _depart(org_server, REAL[0])  # Taro's next sync makes his head newer: a proof is needed
    monkeypatch.setattr(ServerApi, "json", _withholding(ServerApi.json, how))
    item = _inbox(taro)[drop_id]
    expected = "split_view" if how == "wrong-proof" else "split_view_unchecked"
    assert not item["verified"]
    assert item["problem_code"] == expected
    assert "do not open" in item["problem"]
    assert "IT security" in item["problem"]
    assert "IT security" in taro.fails("receive", drop_id, "--output", str(tmp_path / "in"))
    _nothing_saved(tmp_path / "in")
    assert not (taro.home / CACHE_FILE).exists()  # a failure is never remembered
    monkeypatch.undo()
    assert _status(hanako, drop_id, TARO)["downloaded"] is None  # no receipt was posted


def test_drops_and_receipts_from_older_clients_are_not_trusted(
    enrol: Enrol, org_server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hanako, taro = enrol(HANAKO, "laptop"), enrol(TARO, "desktop")

    def without_head(cls: type, **fields: Any) -> Any:
        fields.pop("log_size"), fields.pop("log_root")
        return cls(**fields)

    with monkeypatch.context() as patch:  # an older client's manifest: no log head
        patch.setattr("secure_send.client.send.Manifest", lambda **f: without_head(Manifest, **f))
        old = hanako.ok("send", _file(tmp_path / "out", "old.txt"), "--to", TARO)["drop_id"]
    new = hanako.ok("send", _file(tmp_path / "out", "new.txt"), "--to", TARO)["drop_id"]
    item = _inbox(taro)[old]
    assert not item["verified"]
    assert item["problem_code"] == "split_view_unchecked"
    assert "could not be checked" in taro.fails("receive", old, "--output", str(tmp_path / "x"))
    _nothing_saved(tmp_path / "x")
    with monkeypatch.context() as patch:  # an older client's receipt: no log head
        patch.setattr("secure_send.client.receive.Receipt", lambda **f: without_head(Receipt, **f))
        taro.ok("receive", new, "--output", str(tmp_path / "in"))
    status = _status(hanako, new, TARO)
    assert status["downloaded"] is None
    assert status["problem_code"] == "split_view_unchecked"
