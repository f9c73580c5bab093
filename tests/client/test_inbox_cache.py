"""Issue 17, item 4: the client keeps the verified inbox in the profile.

Real server on 127.0.0.1 and real profiles. Verifications are *counted* by wrapping
``SignedManifest.verify`` (the real one still runs): each manifest is verified once,
the first time it is seen, and again only when the server sends other manifest JSON
for the same drop; a cached item is still re-judged against the directory (a revoked
sender device makes it dangerous); recalls and expiries after the cursor remove
items; a damaged cache file is discarded and rebuilt.
"""

from __future__ import annotations

import datetime as dt
import json
import stat
from pathlib import Path
from typing import Any

import pytest

from secure_send.client import listing
from secure_send.client.api import ServerApi
from secure_send.client.inbox_cache import CACHE_FILE, InboxCache
from secure_send.client.profile import Profile
from secure_send.core.directory.log import Action
from secure_send.core.encoding import utc_now
from secure_send.core.envelope.manifest import SignedManifest
from secure_send.org import ops
from secure_send.server.sweeper import sweep
from tests.client.conftest import Enrol, Person, open_session
from tests.client.inbox_kit import planted
from tests.directory_kit import HANAKO, JIRO, OPERATOR, TARO
from tests.server.conftest import Server


@pytest.fixture
def verified(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The drop ids of every manifest verification from now on (counted, not changed;
    the embedded server's own checks at create are counted too: clear before listing)."""
    calls: list[str] = []
    real = SignedManifest.verify

    def counting(self: SignedManifest, directory: Any) -> Any:
        calls.append(self.manifest.drop_id)
        return real(self, directory)

    monkeypatch.setattr(SignedManifest, "verify", counting)
    return calls


@pytest.fixture
def pages(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """(after, drops returned) of every inbox page the client asks for (counted)."""
    calls: list[tuple[int, int]] = []
    real = ServerApi.inbox

    def counting(self: ServerApi, wait: float, after: int, *args: Any) -> dict[str, Any]:
        answer = real(self, wait, after, *args)
        calls.append((after, len(answer["drops"])))
        return answer

    monkeypatch.setattr(ServerApi, "inbox", counting)
    return calls


def _list(person: Person) -> list[listing.InboxItem]:
    session = open_session(person)
    try:
        items, _ = listing.inbox(session, session.directory())
        return items
    finally:
        session.close()


def _cached(person: Person) -> InboxCache:
    return InboxCache.load(Profile(person.home), person.user, person.device)


def _send(sender: Person, tmp_path: Path, name: str, *to: str) -> str:
    source = tmp_path / "out" / name
    source.parent.mkdir(parents=True, exist_ok=True)
    source.write_bytes(name.encode() * 100)
    args = [arg for user in to for arg in ("--to", user)]
    return str(sender.ok("send", str(source), *args)["drop_id"])


def test_each_manifest_is_verified_once(enrol: Enrol, tmp_path: Path, verified: list[str]) -> None:
    hanako, taro = enrol(HANAKO, "laptop"), enrol(TARO, "desktop")
    first = _send(hanako, tmp_path, "a.txt", TARO)
    verified.clear()
    (item,) = _list(taro)
    assert (item.drop_id, item.verified, item.sender) == (first, True, HANAKO)
    assert verified == [first]
    mode = (taro.home / CACHE_FILE).stat().st_mode
    assert stat.S_IMODE(mode) == 0o600

    verified.clear()
    assert _list(taro) == [item]  # from the cache: nothing verified again
    assert verified == []

    second = _send(hanako, tmp_path, "b.txt", TARO)
    verified.clear()
    assert [i.drop_id for i in _list(taro)] == [first, second]
    assert verified == [second]  # only the new one

    # saved here: still listed as saved after the receipt was posted (no new page says so)
    assert taro.ok("receive", first, "-o", str(tmp_path / "in"))["files"]
    verified.clear()
    listed = {i.drop_id: i.saved for i in _list(taro)}
    assert listed == {first: True, second: False}
    assert verified == []
    assert {d["drop_id"] for d in taro.ok("inbox")["drops"]} == {first, second}  # the CLI too


def test_1200_drops_are_read_in_three_pages_and_verified_once(
    enrol: Enrol, org_server: Server, verified: list[str], pages: list[tuple[int, int]]
) -> None:
    sender, taro = enrol(HANAKO, "laptop"), enrol(TARO, "desktop")
    hanako = open_session(sender)
    assert org_server.app_state is not None
    try:
        ids = planted(org_server.app_state.drops, hanako, [TARO], 1200)
    finally:
        hanako.close()
    verified.clear()
    items = _list(taro)
    assert [i.drop_id for i in items] == ids
    assert all(i.verified and i.sender == HANAKO for i in items)
    assert [n for _, n in pages] == [500, 500, 200]
    assert sorted(verified) == sorted(ids)  # each once

    pages.clear()
    verified.clear()
    assert [i.drop_id for i in _list(taro)] == ids
    assert pages == [(_cached(taro).cursor, 0)]
    assert verified == []


def test_recall_and_expiry_remove_the_cached_item(
    enrol: Enrol, org_server: Server, tmp_path: Path
) -> None:
    hanako, taro, jiro = enrol(HANAKO, "laptop"), enrol(TARO, "desktop"), enrol(JIRO, "pc")
    recalled = _send(hanako, tmp_path, "a.txt", TARO)
    expiring = _send(hanako, tmp_path, "b.txt", TARO)
    assert [i.drop_id for i in _list(taro)] == [recalled, expiring]
    assert list(_cached(taro).records) == [recalled, expiring]
    assert _list(jiro) == []
    assert _cached(jiro).records == {}

    hanako.ok("recall", recalled)
    assert [i.drop_id for i in _list(taro)] == [expiring]
    assert list(_cached(taro).records) == [expiring]

    state = org_server.app_state
    assert state is not None
    # the sender's expiry (7 days) has passed; the rows are still kept (30 days)
    assert sweep(state, utc_now() + dt.timedelta(days=8)) == [expiring]
    assert _list(taro) == []
    assert _cached(taro).records == {}
    assert _list(jiro) == []
    assert _cached(jiro).records == {}


@pytest.mark.parametrize(
    "damage",
    [
        lambda text: text[: len(text) // 2],  # cut mid-write
        lambda text: text.replace('"committed",true,', '"committed",1,'),  # a field's type
        lambda text: text.replace('"device":"desktop"', '"device":"laptop"'),  # another device
        lambda text: text.replace("inbox-cache/v1", "inbox-cache/v9"),  # a newer format
    ],
)
def test_a_damaged_cache_is_rebuilt(
    enrol: Enrol, tmp_path: Path, verified: list[str], damage: Any
) -> None:
    hanako, taro = enrol(HANAKO, "laptop"), enrol(TARO, "desktop")
    ids = [_send(hanako, tmp_path, f"{n}.txt", TARO) for n in "ab"]
    before = _list(taro)
    path = taro.home / CACHE_FILE
    path.write_text(damage(path.read_text()))
    verified.clear()
    assert _list(taro) == before  # rebuilt from cursor 0, never trusted half-read
    assert sorted(verified) == sorted(ids)
    assert list(_cached(taro).records) == ids
    assert json.loads(path.read_text())["format"] == "secure-send/inbox-cache/v1"


def test_a_manifest_swapped_for_a_cached_drop_is_verified_again(
    enrol: Enrol, tmp_path: Path, verified: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server sends the drop again (a newer seq) with other manifest JSON under the
    same id — here the expiry pushed a year on, the sender's signature kept."""
    hanako, taro = enrol(HANAKO, "laptop"), enrol(TARO, "desktop")
    drop_id = _send(hanako, tmp_path, "a.txt", TARO)
    (item,) = _list(taro)
    assert item.verified
    real = ServerApi.inbox
    original: dict[str, Any] = {}

    def swapping(self: ServerApi, wait: float, after: int, *args: Any) -> dict[str, Any]:
        answer = real(self, 0, 0, *args)  # the real page, with the real manifest
        (drop,) = answer["drops"]
        original.update(drop)
        body = {**drop["manifest"]["body"], "expires": "2099-01-01T00:00:00Z"}
        swapped = {**drop, "seq": drop["seq"] + 1, "manifest": {**drop["manifest"], "body": body}}
        return {"drops": [swapped], "cursor": drop["seq"] + 1, "more": False}

    monkeypatch.setattr(ServerApi, "inbox", swapping)
    verified.clear()
    (item,) = _list(taro)
    assert (item.drop_id, item.verified, item.problem_code) == (drop_id, False, "unverified_drop")
    assert verified == [drop_id]
    monkeypatch.setattr(ServerApi, "inbox", real)
    (item,) = _list(taro)  # silence does not clear it: still the swapped manifest
    assert not item.verified


def test_a_revoked_sender_device_turns_a_cached_item_dangerous(
    enrol: Enrol, org_server: Server, tmp_path: Path, verified: list[str]
) -> None:
    hanako, taro = enrol(HANAKO, "laptop"), enrol(TARO, "desktop")
    enrol(HANAKO, "desktop")  # she keeps another device
    drop_id = _send(hanako, tmp_path, "a.txt", TARO)
    (item,) = _list(taro)
    assert item.verified
    ops.change(
        org_server.home, OPERATOR, Action.REVOKE_DEVICE, {"user": HANAKO, "device": "laptop"}
    )
    org_server.push()
    verified.clear()
    (item,) = _list(taro)  # taro's session syncs the directory that revokes it
    assert (item.drop_id, item.verified, item.problem_code) == (drop_id, False, "unverified_drop")
    assert "laptop" in item.problem
    assert verified == []  # judged from the cache, not verified again
    assert _cached(taro).records[drop_id].verified  # the record still says what it verified
