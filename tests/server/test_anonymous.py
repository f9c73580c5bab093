"""What callers who prove nothing can read, cost and write (issue 14, items 11-14):
the real server on 127.0.0.1, the real directory signer."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute

from secure_send.core.atomic import exclusive_lock
from secure_send.core.directory import merkle
from secure_send.core.directory.enrol import DeviceKeys, make_request
from secure_send.core.directory.server_folder import directory_dir
from secure_send.core.directory.verify import verify_head
from secure_send.core.encoding import utc_now
from secure_send.org import ops
from secure_send.org.signer import DirectorySigner
from secure_send.server import (
    approvals,
    downloads,
    drops,
    enrol_routes,
    file_requests,
    key_add_routes,
    malware,
    routes,
    signer_routes,
    tus,
)
from secure_send.server.anonymous import SOURCE_FAILURES_BURST, TokenBuckets
from secure_send.server.app import create_app
from tests.directory_kit import HANAKO, JIRO, TARO
from tests.server.conftest import Server, running_server, server_config

WRONG = "ABCD-EFGH-JKLM-NPQR-STUV-WXYZ"
DIRECTORY_READS = (
    "/v1/directory",
    "/v1/directory/sync?from=0",
    "/v1/directory/frontier?size=1",
    "/v1/directory/consistency?from=1",
    "/v1/policy",
)


def _post(server: Server, user: str, device: str, code: str | None, name: str = "PC") -> Any:
    request = make_request(DeviceKeys.generate(), user, device, name, code, utc_now())
    return httpx.post(server.url + "/v1/enrol", json=request.to_json(), timeout=30)


def _signer_round(server: Server) -> None:
    signer = DirectorySigner(server.home, server.url, batch_window=0)
    try:
        signer.run_once()
    finally:
        signer.close()


# ------------------------------------------------------------------ item 13


def test_the_directory_is_for_enrolled_devices_only(server: Server) -> None:
    for path in DIRECTORY_READS:
        anonymous = server.get(path)
        assert anonymous.status_code == 401, path
        assert anonymous.json()["code"] == "unsigned"
        assert "hanako" not in anonymous.text
        assert "会計課" not in anonymous.text
        assert server.signed_get(path).status_code == 200, path


def test_anonymous_callers_get_the_root_chain_and_signed_header_only(server: Server) -> None:
    response = server.get("/v1/directory/head")
    assert response.status_code == 200
    header = verify_head(response.content, server.home.anchor(), now=utc_now())
    bundle = server.home.bundle_file.read_bytes()
    assert response.content == bundle[: bundle.index(b"\n") + 1]  # no entry
    assert header == server.home.published_header()
    assert "hanako" not in response.text
    tag = response.headers["etag"]
    unchanged = server.get("/v1/directory/head", headers={"If-None-Match": tag})
    assert unchanged.status_code == 304


def _dependencies(dependant: Any) -> Iterator[Any]:
    for sub in dependant.dependencies:
        yield sub.call
        yield from _dependencies(sub)


def test_every_route_but_the_listed_anonymous_ones_authenticates(server: Server) -> None:
    """The app's routes against ``routes.ANONYMOUS`` (docs/server.md lists the same)."""
    app = create_app(server.config)
    served = {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    }
    checks = {routes.caller, routes.streaming_caller, routes.signer_caller}
    seen, anonymous = set(), set()
    modules = (routes, enrol_routes, key_add_routes, signer_routes, drops, approvals)
    for module in (*modules, file_requests, malware, downloads, tus):
        for route in module.router.routes:
            assert isinstance(route, APIRoute)
            pairs = {(method, route.path) for method in route.methods or ()}
            seen |= pairs
            if not checks & set(_dependencies(route.dependant)):
                anonymous |= pairs
    assert seen - {("HEAD", path) for _, path in seen} >= served - {("HEAD", p) for _, p in served}
    assert anonymous == set(routes.ANONYMOUS)


# ------------------------------------------------------------------ item 12


def test_anonymous_requests_are_rate_limited_per_address(org: Any) -> None:
    home, keys = org
    config = server_config(home, port=0, anonymous_burst=5, anonymous_per_minute=1)
    with running_server(home, keys, config) as server:
        answers = [server.get("/v1/directory/head").status_code for _ in range(7)]
        assert answers == [200] * 5 + [429] * 2
        assert server.get("/v1/enrol/" + "A" * 22).json()["code"] == "rate_limited"
        assert server.get("/v1/health").status_code == 200  # costs nothing
        assert server.signed_get("/v1/directory").status_code == 200  # enrolled: not counted


def test_the_tables_of_addresses_are_bounded() -> None:
    now = [0.0]
    buckets = TokenBuckets(2, 60, max_keys=100, clock=lambda: now[0])
    for i in range(1000):
        buckets.spend(f"10.0.{i // 256}.{i % 256}")
    assert len(buckets) == 100
    assert [buckets.take("a") for _ in range(3)] == [True, True, False]
    now[0] += 1.0  # one token a second comes back
    assert [buckets.take("a") for _ in range(2)] == [True, False]


def test_directory_reads_take_no_writer_lock_and_are_computed_once(
    server: Server, taro: DeviceKeys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While a writer holds the directory folder's exclusive lock (what a push takes),
    reads are still served; a second identical proof is served from the cache."""
    computed: list[tuple[int, int]] = []
    real = merkle.consistency_proof

    def counting(leaves: list[bytes], old: int, new: int) -> list[bytes]:
        computed.append((old, new))
        return real(leaves, old, new)

    monkeypatch.setattr(merkle, "consistency_proof", counting)
    answers: list[int] = []

    def read() -> None:
        answers.append(server.get("/v1/directory/head").status_code)
        for _ in range(2):
            answers.append(server.signed_get("/v1/directory/consistency?from=1").status_code)
        answers.append(server.signed_get("/v1/directory/sync?from=1").status_code)

    with exclusive_lock(directory_dir(server.config.home)):
        reader = threading.Thread(target=read)
        reader.start()
        reader.join(timeout=20)
        assert not reader.is_alive(), "a directory read waited for the writer's lock"
    assert answers == [200] * 4
    assert len(computed) == 1  # the second identical request came from the cache


# ------------------------------------------------------------------ item 11


def test_wrong_codes_lock_out_the_address_and_person_not_everyone_behind_it(
    server: Server,
) -> None:
    ops.issue_code(server.home, TARO)
    refused = 0
    for i in range(server.config.auth_failures_burst + 2):
        response = _post(server, TARO, f"pc{i}", WRONG)
        if response.status_code == 429:
            break
        assert response.status_code == 202, response.text
        _signer_round(server)
        refused += 1
    assert refused == SOURCE_FAILURES_BURST  # then this address may not try for Taro
    assert _post(server, TARO, "again", WRONG).json()["code"] == "rate_limited"
    # ... but everyone else behind the same address still enrols and logs in
    assert _post(server, JIRO, "tablet", ops.issue_code(server.home, JIRO)).status_code == 202
    assert server.signed_get("/v1/whoami").status_code == 200


def test_requests_without_a_code_are_rate_limited_per_address(server: Server) -> None:
    answers = [_post(server, TARO, "pc", None).status_code for _ in range(12)]
    assert answers[:10] == [202] * 10  # the same device retrying replaces its request
    assert answers[10:] == [429, 429]
    # a request with a code is not held up by them
    assert _post(server, TARO, "pc2", ops.issue_code(server.home, TARO)).status_code == 202


def test_a_flood_of_anonymous_requests_writes_a_bounded_audit_trail(server: Server) -> None:
    for i in range(60):
        assert _post(server, f"nobody{i}", "pc", None).status_code == 403
    records = [r for r in server.audit().records()]
    enrol = [r.outcome for r in records if r.action == "enrol"]
    assert enrol.count("bad_enrolment") <= 20
    assert enrol.count("audit_suppressed") == 1


@pytest.mark.parametrize(
    "name",
    [
        "pc\x1b[2K\rOK: no pending requests",
        "pc\u202e\u2066（課長承認済み）",
        "pc\u200b",
        "\u2028",
        "  ",
    ],
)
def test_device_names_that_a_screen_would_obey_are_refused(server: Server, name: str) -> None:
    response = _post(server, TARO, "pc", None, name)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "invalid_request"


# ------------------------------------------------------------------ item 14


def test_the_audit_log_records_only_ids_the_directory_lists(server: Server) -> None:
    assert _post(server, TARO, "diagnosis-hiv-positive", None).status_code == 202
    assert _post(server, TARO, "diagnosis-cancer", WRONG).status_code == 202
    assert _post(server, "123456789012", "pc", None).status_code == 403
    _signer_round(server)
    text = server.audit_text()
    for chosen in ("diagnosis", "123456789012"):
        assert chosen not in text
    actors = {r.actor for r in server.audit().records()}
    assert actors <= {"", TARO, HANAKO}
