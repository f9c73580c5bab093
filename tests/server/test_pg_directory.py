"""The published directory shared through PostgreSQL (issue 18): two real servers, each
with its own home (its own pinned anchor), over one real database. The signer pushes
to one of them, as it does through a load balancer; the other must follow within the
freshness window, refuse a forged copy, and never store two pushes of the same slot."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from secure_send.admin.server_home import write_server_home
from secure_send.client.api import ServerApi, Signer
from secure_send.client.errors import ServerError
from secure_send.core import httpsig
from secure_send.core.directory.enrol import DeviceKeys
from secure_send.core.directory.log import Action
from secure_send.core.directory.push import DirectoryKind, Push
from secure_send.core.error_codes import ErrorCode
from secure_send.org import ops
from secure_send.org.home import OrgHome
from secure_send.org.replay_cache import log_lines
from secure_send.org.signer import SIGNER_DEVICE, SIGNER_USER
from secure_send.server import enrol_routes, pg_directory, signer_routes
from secure_send.server.app import create_app
from secure_send.server.config import ConfigError, load_config
from secure_send.server.metadata import open_postgres
from secure_send.server.pg_directory import PgDocuments
from tests.directory_kit import OPERATOR, TARO, enrol_device, request_for
from tests.engines.shared import backend_overrides
from tests.server.conftest import Server, make_home, running_server

# PostgreSQL/S3 only: run once, in the scale-out pass (make test; conftest.py)
pytestmark = pytest.mark.scale_out

Pair = tuple[Server, Server]


@contextlib.contextmanager
def servers(tmp_path: Path, count: int = 2, **overrides: Any) -> Iterator[list[Server]]:
    """``count`` servers of one organisation over one fresh database: each its own
    folder (anchor, first copy of the documents) made by ``server-home``."""
    home, keys = make_home(tmp_path / "org")
    database = backend_overrides("postgres")
    with contextlib.ExitStack() as stack:
        running = []
        for n in range(count):
            folder = tmp_path / f"server-{n}"
            write_server_home(home, folder)
            config = load_config(folder, port=0, **(database | overrides))
            running.append(stack.enter_context(running_server(home, keys, config)))
        yield running


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[Pair]:
    with servers(tmp_path) as (a, b):
        yield a, b


def _whoami(server: Server, user: str, device: str, keys: DeviceKeys) -> httpx.Response:
    path = "/v1/whoami"
    headers = server.signed_headers("GET", path, keys=keys, key_id=httpsig.key_id(user, device))
    return httpx.get(server.url + path, headers=headers, timeout=10)


def _within(seconds: float, check: Callable[[], bool]) -> float:
    """How long until ``check()`` held (it must, within ``seconds``)."""
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < seconds, f"not within {seconds} s"
        time.sleep(0.01)
    return time.monotonic() - started


def _code(response: httpx.Response) -> str:
    return str(response.json().get("code", "")) if response.status_code != 200 else "ok"


def test_the_first_server_seeds_the_database_and_the_files_stay_as_they_were(
    pair: Pair,
) -> None:
    a, b = pair
    rows = a.sql("SELECT version, bundle FROM directory_bundle")
    assert [(r[0], bytes(r[1])) for r in rows] == [(1, a.home.bundle_file.read_bytes())]
    events = a.sql("SELECT COUNT(*) FROM directory_events")[0][0]
    assert events == len(log_lines(a.home.log_file))
    assert isinstance(b.app_state and b.app_state.directory.documents, PgDocuments)
    before = (b.config.home / "directory" / "directory.bundle").read_bytes()
    taro = enrol_device(a.home, TARO, "desktop")
    a.push()
    _within(1.0, lambda: _whoami(b, TARO, "desktop", taro).status_code == 200)
    # the push went to the database, not to either home's files
    assert (b.config.home / "directory" / "directory.bundle").read_bytes() == before
    assert a.sql("SELECT version FROM directory_bundle")[0][0] == 2


def test_servers_starting_at_once_both_hold_the_seeded_directory(tmp_path: Path) -> None:
    # both read "no directory yet" before either seeds (three servers of make cluster
    # start together): the one that loses the seeding race must hold the winner's copy,
    # not refuse to start with "the database holds no directory yet"
    home, _ = make_home(tmp_path / "org")
    write_server_home(home, tmp_path / "server")
    config = load_config(tmp_path / "server", port=0, **backend_overrides("postgres"))
    stores = [open_postgres(config) for _ in range(2)]
    try:
        first, second = (PgDocuments(store) for store in stores)
        data, lines = home.bundle_file.read_bytes(), tuple(log_lines(home.log_file))
        assert first.seed(data, lines) is True
        assert second.seed(data, lines) is False
        assert second.stamp() == first.stamp() == 1
        assert second.read()[0] == data
    finally:
        for store in stores:
            store.close()


def test_an_enrolment_pushed_to_a_counts_on_b_at_once(
    pair: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The NOTIFY path alone (the periodic re-read is pushed out of the way)."""
    a, b = pair
    monkeypatch.setattr(pg_directory, "POLL_SECONDS", 60.0)
    assert b.signed_get("/v1/whoami").status_code == 200  # B holds the first version
    time.sleep(1.2)  # the refreshers now sleep 60 s: only a notice wakes them
    taro = enrol_device(a.home, TARO, "desktop")
    assert _code(_whoami(b, TARO, "desktop", taro)) == "unknown_device"
    a.push()
    took = _within(1.0, lambda: _whoami(b, TARO, "desktop", taro).status_code == 200)
    assert took < 0.5


def test_a_revocation_pushed_to_a_refuses_the_device_on_b_within_a_second(pair: Pair) -> None:
    a, b = pair
    assert b.signed_get("/v1/whoami").status_code == 200
    ops.change(a.home, OPERATOR, Action.REVOKE_DEVICE, {"user": "hanako.sato", "device": "laptop"})
    a.push()
    _within(1.0, lambda: _code(b.signed_get("/v1/whoami")) == "revoked_device")
    assert _code(a.signed_get("/v1/whoami")) == "revoked_device"


def test_a_missed_notice_is_caught_by_the_periodic_read(
    pair: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = pair
    assert b.signed_get("/v1/whoami").status_code == 200
    monkeypatch.setattr(PgDocuments, "poke", lambda self: None)  # every notice lost
    ops.change(a.home, OPERATOR, Action.REVOKE_DEVICE, {"user": "hanako.sato", "device": "laptop"})
    a.push()
    took = _within(2.5, lambda: _code(b.signed_get("/v1/whoami")) == "revoked_device")
    assert took <= pg_directory.POLL_SECONDS + 0.5


def test_a_forged_bundle_in_the_database_is_never_served(pair: Pair) -> None:
    """The database is not trusted: each server verifies its copy against its own
    home's anchor, so an edited row makes them refuse (503), not serve it."""
    a, b = pair
    data = bytearray(a.home.bundle_file.read_bytes())
    data[300] ^= 4
    a.sql(
        "UPDATE directory_bundle SET bundle = ?, version = version + 1 WHERE id = 1",
        (bytes(data),),
    )
    for server in (a, b):

        def refused(server: Server = server) -> bool:
            return _code(server.signed_get("/v1/inbox")) == "server_directory_damaged"

        _within(1.5, refused)
        for path in ("/v1/whoami", "/v1/directory"):
            answer = server.signed_get(path)
            assert (answer.status_code, _code(answer)) == (503, "server_directory_damaged")
            assert bytes(data) not in answer.content
        head = server.get("/v1/directory/head")
        assert (head.status_code, _code(head)) == (503, "server_directory_damaged")


def test_a_deleted_directory_row_fails_closed(pair: Pair) -> None:
    a, b = pair
    assert b.signed_get("/v1/whoami").status_code == 200
    a.sql("DELETE FROM directory_bundle")
    for server in (a, b):
        _within(1.5, lambda s=server: _code(s.signed_get("/v1/whoami")) != "ok")  # type: ignore[misc]
        answer = server.signed_get("/v1/whoami")
        assert (answer.status_code, _code(answer)) == (503, "server_directory_damaged")


def test_a_server_starting_on_a_forged_copy_refuses_to_start(pair: Pair, tmp_path: Path) -> None:
    a = pair[0]
    data = bytearray(a.home.bundle_file.read_bytes())
    data[300] ^= 4
    a.sql("UPDATE directory_bundle SET bundle = ? WHERE id = 1", (bytes(data),))
    folder = tmp_path / "server-c"
    write_server_home(a.home, folder)  # its own files verify: it must not seed over the row
    config = load_config(
        folder,
        database_url=a.config.database_url,
        database_password_file=str(a.config.database_password_file),
    )
    with pytest.raises(ConfigError, match=r"the database .* does not verify"):
        create_app(config)
    assert bytes(a.sql("SELECT bundle FROM directory_bundle")[0][0]) == bytes(data)


def _push_now(home: OrgHome, held_size: int) -> bytes:
    """The whole push continuing a log of ``held_size`` events, as the signer sends it."""
    lines = log_lines(home.log_file)
    data = home.bundle_file.read_bytes()
    return Push(held_size, tuple(lines[held_size:]), DirectoryKind.BUNDLE, data, ()).to_bytes()


def test_two_pushes_racing_through_two_servers_store_one(
    pair: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = pair[0]
    read_version = pg_directory._PgWriter.stamp

    def slow(self: pg_directory._PgWriter) -> int:
        version = read_version(self)
        time.sleep(0.2)  # the other push arrives meanwhile: the race is certain
        return version

    monkeypatch.setattr(pg_directory._PgWriter, "stamp", slow)
    identity = a.home.signer_identity()
    apis = [ServerApi(s.url, Signer(SIGNER_USER, SIGNER_DEVICE, identity)) for s in pair]
    try:
        for round_ in range(4):
            size = int(apis[0].signer_state()["log_size"])
            enrol_device(a.home, TARO, f"desktop-{round_}")  # one more event to push
            push = _push_now(a.home, size)
            barrier = threading.Barrier(2)
            answers: list[str] = []

            def send(
                api: ServerApi,
                push: bytes = push,
                barrier: threading.Barrier = barrier,
                answers: list[str] = answers,
            ) -> None:
                barrier.wait()
                try:
                    api.signer_push(push)
                    answers.append("ok")
                except ServerError as err:
                    answers.append(str(err.code))

            threads = [threading.Thread(target=send, args=(api,)) for api in apis]
            for t in threads:
                t.start()
            for t in threads:
                t.join(20)
            assert sorted(answers) == sorted(["ok", ErrorCode.STALE_PUSH.value]), answers
        # the stored log is exactly the home's, once: no line twice, no gap
        stored = a.sql("SELECT pos, line FROM directory_events ORDER BY pos")
        assert [r[0] for r in stored] == list(range(len(stored)))
        assert [bytes(r[1]) for r in stored] == list(log_lines(a.home.log_file))
        assert a.sql("SELECT version FROM directory_bundle")[0][0] == 1 + 4
        for api in apis:  # both serve what the home published
            assert api.signer_state()["log_size"] == len(stored)
    finally:
        for api in apis:
            api.close()


def test_the_enrolment_queue_is_seen_across_servers(
    pair: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A request posted on A wakes the signer's long-poll on B; the signer's answer
    pushed through B wakes the device's ticket long-poll on A — by a notice between
    the servers (the long-polls' own re-reads are pushed out of the way)."""
    a, b = pair
    monkeypatch.setattr(signer_routes, "RECHECK_SECONDS", 60.0)
    monkeypatch.setattr(enrol_routes, "RECHECK_SECONDS", 60.0)
    signer = ServerApi(b.url, Signer(SIGNER_USER, SIGNER_DEVICE, a.home.signer_identity()))
    got: list[tuple[float, dict[str, Any]]] = []
    try:
        assert signer.signer_queue(0)["requests"] == []
        poll = threading.Thread(
            target=lambda: got.append((time.monotonic(), signer.signer_queue(20)))
        )
        poll.start()
        time.sleep(0.5)  # the long-poll waits on B
        _, request = request_for(TARO, "desktop", ops.issue_code(a.home, TARO))
        posted = time.monotonic()
        answer = httpx.post(a.url + "/v1/enrol", json=request.to_json(), timeout=10)
        assert answer.status_code == 202, answer.text
        ticket = answer.json()["ticket"]
        poll.join(20)
        woke, queued = got[0]
        assert [q["ticket"] for q in queued["requests"]] == [ticket]
        assert woke - posted < 2.0  # a notice, not the end of the 20 s wait
        status: list[tuple[float, dict[str, object]]] = []
        waiting = threading.Thread(
            target=lambda: status.append(
                (time.monotonic(), a.get(f"/v1/enrol/{ticket}?wait=20").json())
            )
        )
        waiting.start()
        time.sleep(0.5)
        pushed = time.monotonic()
        b.push()  # the real signer, through B: it decides and pushes the result
        waiting.join(20)
        done, body = status[0]
        assert body["status"] == "enrolled"
        assert done - pushed < 5.0  # woken by the push, not left to its 20 s wait
    finally:
        signer.close()
