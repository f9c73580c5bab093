"""Failure budgets shared by several servers (issue 18): three real servers over one
real PostgreSQL; failures spread over them spend ONE budget, and the lock-out holds on
every server — also on those that never saw the failure that tripped it."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from secure_send.core.directory.enrol import DeviceKeys, make_request
from secure_send.core.encoding import utc_now
from secure_send.server.anonymous import SOURCE_FAILURES_BURST
from secure_send.server.loop_db import WouldBlock
from secure_send.server.pg_limits import Lockouts, PgBuckets, key_text
from secure_send.server.pg_store import PostgresMetadataStore
from tests.engines.shared import postgres
from tests.server.conftest import Server
from tests.server.test_pg_directory import servers

# PostgreSQL/S3 only: run once, in the scale-out pass (make test; conftest.py)
pytestmark = pytest.mark.scale_out

BURST = 4


@pytest.fixture
def three(tmp_path: Path) -> Iterator[list[Server]]:
    with servers(tmp_path, 3, auth_failures_burst=BURST, auth_failures_per_minute=1) as running:
        yield running


def _code(response: httpx.Response) -> str:
    return str(response.json()["code"])


def _until(check: object, seconds: float = 1.0) -> None:
    started = time.monotonic()
    while not check():  # type: ignore[operator]
        assert time.monotonic() - started < seconds, "not within the time"
        time.sleep(0.01)


def test_failures_spread_over_three_servers_lock_the_address_out_on_all(
    three: list[Server],
) -> None:
    # BURST - 1 failures, round robin: no server saw more than two, none refuses yet
    for n in range(BURST - 1):
        assert _code(three[n % 3].get("/v1/whoami")) != "rate_limited"
    # the failure that empties the shared bucket, on one server ...
    assert _code(three[0].get("/v1/whoami")) != "rate_limited"
    # ... and every server refuses the address from now on (per process, each had
    # seen at most two failures of four)
    for server in three:
        assert _code(server.get("/v1/whoami")) == "rate_limited"
    # a valid signature is still served (the budget counts failures, not devices)
    assert three[1].signed_get("/v1/whoami").status_code == 200


def test_a_lockout_reaches_the_other_servers_by_a_notice(three: list[Server]) -> None:
    """The other servers learn the lock-out without a failure of their own and
    without reading the database on a request: their local table is filled."""
    limiters = [s.app_state.auth.limiter for s in three if s.app_state is not None]
    for _ in range(BURST):
        three[0].get("/v1/whoami")
    assert not limiters[0].allowed("127.0.0.1")  # the failure path's own answer
    _until(lambda: not limiters[1].allowed("127.0.0.1") and not limiters[2].allowed("127.0.0.1"))


def test_refused_enrolments_are_one_budget_across_servers(three: list[Server]) -> None:
    def post(server: Server) -> httpx.Response:
        request = make_request(DeviceKeys.generate(), "nobody", "pc", "PC", None, utc_now())
        return httpx.post(server.url + "/v1/enrol", json=request.to_json(), timeout=30)

    answers = [post(three[n % 3]).status_code for n in range(SOURCE_FAILURES_BURST)]
    assert answers == [403] * SOURCE_FAILURES_BURST  # refused: each spends the pair's budget
    for server in three:
        assert post(server).status_code == 429


@pytest.fixture
def stores() -> Iterator[list[PostgresMetadataStore]]:
    pg = postgres()
    url = pg.unique_database()
    made = [PostgresMetadataStore(url, pg.password_file) for _ in range(3)]
    yield made
    for store in made:
        store.close()


def test_concurrent_failures_each_spend_exactly_one_token(
    stores: list[PostgresMetadataStore],
) -> None:
    """Failures at once on three servers: the SQL bucket is atomic, none is lost —
    exactly ``burst`` of them fit, the next is over the budget."""
    budgets = [PgBuckets(s, "auth", 24, 0.001) for s in stores]
    barrier = threading.Barrier(3)
    within: list[bool] = []

    def fail(budget: PgBuckets) -> None:
        barrier.wait()
        within.extend(budget.spend("192.0.2.7") for _ in range(8))

    threads = [threading.Thread(target=fail, args=(b,)) for b in budgets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert within == [True] * 24
    assert budgets[1].spend("192.0.2.7") is False  # the 25th, on any server
    assert not all(b.allowed("192.0.2.7") for b in budgets)
    tokens = stores[0].query("SELECT tokens FROM rate_buckets WHERE key = ?", ("192.0.2.7",))
    assert tokens[0][0] == pytest.approx(0.0, abs=0.01)


def test_the_check_never_waits_and_a_notice_is_bounded(
    stores: list[PostgresMetadataStore],
) -> None:
    budget = PgBuckets(stores[0], "auth", 2, 1)
    with pytest.raises(WouldBlock):
        budget.spend("192.0.2.8", blocking=False)  # a round trip: not on the event loop
    assert stores[0].query("SELECT COUNT(*) FROM rate_buckets")[0][0] == 0
    board = Lockouts(budget)
    board.handle('{"k": "auth", "key": "192.0.2.9", "s": 1e9}')  # a hostile notice
    board.handle("not json")
    board.handle("")
    assert not budget.allowed("192.0.2.9")
    until = budget._locked[key_text("192.0.2.9")]
    assert until - time.monotonic() <= 60.0  # at most one token's refill
    assert budget.allowed("192.0.2.10")
    assert key_text(("192.0.2.1", "taro")) == '["192.0.2.1", "taro"]'
