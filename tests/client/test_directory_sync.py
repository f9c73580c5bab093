"""The client syncs by the log: 304 when nothing changed, the appended events otherwise,
a whole bundle only on first use or when far behind. Real server, real signer."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from secure_send.client.api import ServerApi
from secure_send.client.keystore import FileKeyStore
from secure_send.client.profile import Profile
from secure_send.client.session import Session
from secure_send.core.directory.log import Action
from secure_send.org import ops
from tests.client.conftest import Enrol
from tests.directory_kit import HANAKO, JIRO, OPERATOR, TARO
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
    person = enrol(user, "pc")
    profile = Profile(person.home)
    return Session.open(profile, FileKeyStore(profile))


def test_nothing_changed_is_a_304_of_no_body(enrol: Enrol, org_server: Server, seen: Seen) -> None:
    session = _session(enrol, HANAKO)
    session.directory()
    seen.clear()
    directory = session.directory()
    assert seen == [("/v1/directory/sync", 304, 0)]
    assert directory.fresh
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
    full = org_server.get("/v1/directory").content
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
    assert org_server.app_state is not None
    config = org_server.app_state.config
    monkeypatch.setattr(
        org_server.app_state, "config", type(config)(**{**config.__dict__, "max_sync_events": 0})
    )
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
