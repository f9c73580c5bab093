"""The client syncs by the log: 304 when nothing changed, the appended events otherwise,
a whole bundle only on first use or when far behind. Real server, real signer."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from nacl.public import PrivateKey
from nacl.signing import SigningKey

from secure_send.client.api import ServerApi
from secure_send.client.directory_sync import DirectoryUnverified
from secure_send.client.keystore import FileKeyStore
from secure_send.client.session import Session
from secure_send.core.directory import sync_delta
from secure_send.core.directory.log import Action
from secure_send.core.directory.trust import body_hash
from secure_send.core.encoding import b64u
from secure_send.core.error_codes import ErrorCode
from secure_send.org import ops
from tests.client.conftest import Enrol, open_session
from tests.directory_kit import (
    HANAKO,
    JIRO,
    OPERATOR,
    TARO,
    entry_obj,
    header_of,
    resign,
    with_entry,
)
from tests.server.conftest import Server

Seen = list[tuple[str, int, int]]


@pytest.fixture
def seen(monkeypatch: pytest.MonkeyPatch) -> Seen:
    """(path, status, body bytes) of every request the client makes."""
    calls: Seen = []
    real = ServerApi.request

    def spy(self: ServerApi, method: str, path: str, *a: Any, **kw: Any) -> requests.Response:
        response = real(self, method, path, *a, **kw)
        calls.append((path.split("?")[0], response.status_code, len(response.content)))
        return response

    monkeypatch.setattr(ServerApi, "request", spy)
    return calls


def _session(enrol: Enrol, user: str) -> Session:
    return open_session(enrol(user, "pc"))


def test_nothing_changed_is_a_304_of_no_body(enrol: Enrol, org_server: Server, seen: Seen) -> None:
    session = _session(enrol, HANAKO)
    session.directory()
    seen.clear()
    directory = session.directory()
    assert seen == [("/v1/directory/sync", 304, 0)]
    assert directory.fresh
    session.close()


def test_lookups_last_as_long_as_the_verified_directory(enrol: Enrol, org_server: Server) -> None:
    """A 304 keeps the verified directory, so its id lookup and search index are not
    built again; a change makes a new verified directory with its own."""
    session = _session(enrol, HANAKO)
    first = session.directory()
    entries, index = first.by_id(), first.search_index()
    again = session.directory()  # 304
    assert again.by_id() is entries
    assert again.search_index() is index
    ops.change(org_server.home, OPERATOR, Action.DEPART, {"user": JIRO})
    org_server.push()
    changed = session.directory()
    assert changed.by_id() is not entries
    assert changed.search_index() is not index
    assert not changed.by_id()[JIRO].active
    assert entries[JIRO].active  # the old lookup still answers for the old directory
    session.close()


def test_changes_arrive_as_events_and_match_the_server(
    enrol: Enrol, org_server: Server, seen: Seen
) -> None:
    session = _session(enrol, HANAKO)
    before = session.directory()
    ops.change(org_server.home, OPERATOR, Action.DEPART, {"user": JIRO})
    org_server.push()
    seen.clear()
    after = session.directory()
    assert [(p, s) for p, s, _ in seen] == [("/v1/directory/sync", 200)]
    assert seen[0][2] < 5000  # one event and a header, not the directory
    assert not after.by_id()[JIRO].active
    assert after.verified.checkpoint.epoch > before.verified.checkpoint.epoch
    full = org_server.held_bundle()
    assert after.verified.texts == tuple(full.decode().split("\n")[1:-1])
    # a new process (the CLI) starts from the stored copy and gets the same
    fresh = Session.open(session.profile, FileKeyStore(session.profile))
    seen.clear()
    assert fresh.directory().verified.texts == after.verified.texts
    assert seen == [("/v1/directory/sync", 304, 0)]
    session.close()
    fresh.close()


def test_far_behind_gets_the_whole_bundle(
    enrol: Enrol, org_server: Server, seen: Seen, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = _session(enrol, HANAKO)
    session.directory()
    monkeypatch.setattr(sync_delta, "MAX_SYNC_EVENTS", 0)  # every client is "far behind"
    ops.change(org_server.home, OPERATOR, Action.DEPART, {"user": TARO})
    org_server.push()
    seen.clear()
    directory = session.directory()
    paths = [p for p, _, _ in seen]
    assert paths == ["/v1/directory/sync", "/v1/directory/consistency", "/v1/directory/frontier"]
    assert not directory.by_id()[TARO].active
    seen.clear()
    session.directory()
    assert seen == [("/v1/directory/sync", 304, 0)]
    session.close()


def test_a_forged_binding_is_never_used_after_a_lazy_first_load(
    enrol: Enrol, org_server: Server, tmp_path: Path
) -> None:
    """A compromised signer and the server swap Hanako's encryption key; a device that
    loads the directory for the first time (bindings checked on use) neither encrypts
    to the forged key nor trusts a drop signed by that entry's device."""
    hanako, taro = enrol(HANAKO, "laptop"), enrol(TARO, "desktop")
    data = tmp_path / "a.bin"
    data.write_bytes(b"x" * 1000)
    drop = hanako.ok("send", str(data), "--to", TARO)["drop_id"]
    bundle = org_server.held_bundle()
    forged_entry = entry_obj(bundle, HANAKO)
    forged_entry["devices"][0]["enc_key"] = b64u(bytes(PrivateKey.generate().public_key))
    org_server.serve_directory(with_entry(bundle, org_server.home, HANAKO, forged_entry))
    for name in ("checkpoint.json", "log-range.json", "directory.bundle"):
        (taro.home / name).unlink()  # taro's device starts over: a first, lazy load
    assert taro.ok("directory", "search", "sato")["results"]  # loads: display only
    (item,) = [i for i in taro.ok("inbox")["drops"] if i["drop_id"] == drop]
    assert not item["verified"]
    assert "failed verification" in item["problem"]
    err = taro.fails("send", str(data), "--to", HANAKO)
    assert "failed verification" in err
    assert "do not send" in err


def test_a_whole_bundle_where_events_were_due_is_refused(
    enrol: Enrol, org_server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server that answers a sync with the whole (genuinely signed) directory skips
    the replay that justifies each change: refused, and nothing stored."""
    session = _session(enrol, HANAKO)
    session.directory()
    ops.change(org_server.home, OPERATOR, Action.DEPART, {"user": TARO})
    org_server.push()
    real = ServerApi.request

    def whole(self: ServerApi, method: str, path: str, *a: Any, **kw: Any) -> requests.Response:
        if path.startswith("/v1/directory/sync"):
            return real(self, "GET", "/v1/directory")
        return real(self, method, path, *a, **kw)

    monkeypatch.setattr(ServerApi, "request", whole)
    stored = session.profile.checkpoint_file.read_bytes()
    with pytest.raises(DirectoryUnverified, match="log's changes were due"):
        session.directory()
    assert session.profile.checkpoint_file.read_bytes() == stored
    monkeypatch.setattr(ServerApi, "request", real)  # an honest answer is taken again
    assert not session.directory().by_id()[TARO].active
    session.close()


def _fork_at_the_same_epoch(server: Server, old_key: SigningKey | None) -> tuple[bytes, str]:
    """The directory this device holds, changed (Jiro departed) and re-signed at the same
    epoch, log size and log root by the organisation's (compromised) signing key."""
    bundle = server.home.bundle_file.read_bytes()
    jiro = entry_obj(bundle, JIRO)
    jiro["status"] = "departed"
    return with_entry(bundle, server.home, JIRO, jiro), "does not advance past"


def _root_rolled_back(server: Server, old_key: SigningKey | None) -> tuple[bytes, str]:
    """After a key rotation (root version 2, seen by this device), a newer snapshot under
    root version 1, signed by the retired key: it chains to the held header and keeps the
    log size, so only the root version in the stored checkpoint refuses it."""
    assert old_key is not None
    bundle = server.home.bundle_file.read_bytes()
    header = header_of(bundle)
    (first, *_) = server.home.roots()
    forged = resign(
        bundle,
        old_key,
        roots=[first],
        root_version=first.version,
        epoch=header.epoch + 1,
        previous=body_hash(header.body()),
    )
    return forged, "older than the one already trusted"


@pytest.mark.parametrize("answer", ["whole-bundle-for-a-sync", "full-fetch-after-a-crash"])
@pytest.mark.parametrize("attack", [_fork_at_the_same_epoch, _root_rolled_back])
def test_a_fork_or_a_rolled_back_root_is_refused_by_the_stored_checkpoint(
    enrol: Enrol,
    org_server: Server,
    attack: Callable[[Server, SigningKey | None], tuple[bytes, str]],
    answer: str,
) -> None:
    """Issue 14, item 21: neither forgery shrinks the log, so the log-size check
    (``_refuse_older``) lets both through; the checkpoint this device stored refuses them,
    whether the whole bundle comes as the answer to a sync or as the full fetch after a
    crash lost the stored log range (no "events were due" check on that path)."""
    old_key = None
    if attack is _root_rolled_back:
        old_key = org_server.home.signing_key()
        ops.rotate_signing_key(org_server.home, OPERATOR)
        org_server.push()
    session = _session(enrol, HANAKO)
    held = session.directory().verified.checkpoint
    assert held.root.version == (2 if old_key else 1)
    forged, why = attack(org_server, old_key)
    assert header_of(forged).log_size == held.log_size  # the log-size check cannot see it
    org_server.serve_directory(forged)
    if answer == "full-fetch-after-a-crash":
        (session.profile.path / "log-range.json").unlink()
    stored = session.profile.checkpoint_file.read_bytes()
    with pytest.raises(DirectoryUnverified, match=why) as refused:
        session.directory()
    assert refused.value.code is ErrorCode.DIRECTORY_UNVERIFIED
    assert session.profile.checkpoint_file.read_bytes() == stored  # nothing stored
    session.close()
