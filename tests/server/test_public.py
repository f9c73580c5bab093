"""Anonymous endpoints against the real server: health, directory, policy, enrolment."""

from __future__ import annotations

import base64
import json

import httpx

from secure_send.core.directory import merkle
from secure_send.core.directory.enrol import DeviceKeys, make_request
from secure_send.core.directory.log import Action
from secure_send.core.directory.sync_delta import apply_sync
from secure_send.core.directory.verify import verify_directory
from secure_send.core.encoding import unb64u, utc_now
from secure_send.org import ops
from tests.directory_kit import OPERATOR, TARO
from tests.server.conftest import Server


def _error(response: httpx.Response, status: int, code: str) -> dict[str, str]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, str] = response.json()
    assert set(body) == {"code", "message"}
    assert body["code"] == code
    return body


def test_health(server: Server) -> None:
    response = server.get("/v1/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_directory_is_the_published_bundle_and_verifies(server: Server) -> None:
    response = server.signed_get("/v1/directory")
    assert response.status_code == 200
    assert response.content == server.home.bundle_file.read_bytes()  # what the signer pushed
    verified = verify_directory(response.content, server.home.anchor(), now=utc_now())
    assert "hanako.sato" in verified.by_id()


def test_sync_frontier_and_consistency(server: Server) -> None:
    response = server.signed_get("/v1/directory")
    tag = response.headers["etag"]
    first = verify_directory(response.content, server.home.anchor(), now=utc_now())
    old_size = first.checkpoint.log_size
    frontier = server.signed_get(f"/v1/directory/frontier?size={old_size}").json()["hashes"]
    log = merkle.CompactRange(old_size, [unb64u(h, 32) for h in frontier])
    assert log.root() == first.checkpoint.log_root
    unchanged = server.signed_get(
        f"/v1/directory/sync?from={old_size}", headers={"If-None-Match": tag}
    )
    assert (unchanged.status_code, unchanged.content) == (304, b"")
    ops.change(server.home, OPERATOR, Action.DEPART, {"user": TARO})
    server.push()
    proof_json = server.signed_get(f"/v1/directory/consistency?from={old_size}").json()
    assert (proof_json["from"], proof_json["to"]) == (old_size, old_size + 1)
    sync = server.signed_get(f"/v1/directory/sync?from={old_size}", headers={"If-None-Match": tag})
    assert sync.status_code == 200
    assert sync.headers["etag"] != tag
    refreshed, _ = apply_sync(first, log, sync.content, server.home.anchor(), now=utc_now())
    assert not refreshed.by_id()[TARO].active


def test_sync_bad_parameters(server: Server) -> None:
    _error(server.signed_get("/v1/directory/sync?from=-1"), 400, "invalid_request")
    _error(server.signed_get("/v1/directory/sync?from=abc"), 400, "invalid_request")
    _error(server.signed_get("/v1/directory/sync?from=99999"), 400, "invalid_request")
    _error(server.signed_get("/v1/directory/sync"), 400, "invalid_request")
    _error(server.signed_get("/v1/directory/frontier?size=99999"), 400, "invalid_request")
    _error(server.signed_get("/v1/directory/consistency?from=99999"), 400, "invalid_request")


def test_policy(server: Server) -> None:
    policy = server.signed_get("/v1/policy").json()
    assert policy["max_body_bytes"] == 64 * 1024
    assert policy["clock_skew_seconds"] == 300
    assert policy["default_expiry_days"] <= policy["max_expiry_days"]


def test_enrol_malformed(server: Server) -> None:
    post = httpx.post
    _error(post(server.url + "/v1/enrol", content=b"not json", timeout=10), 400, "invalid_request")
    _error(post(server.url + "/v1/enrol", json={"body": {}}, timeout=10), 400, "invalid_request")
    request = make_request(DeviceKeys.generate(), TARO, "desktop", "x", None, utc_now()).to_json()
    request["proof"] = base64.urlsafe_b64encode(bytes(64)).rstrip(b"=").decode()
    # a bad possession proof is refused by the server already (it costs it nothing)
    _error(post(server.url + "/v1/enrol", json=request, timeout=10), 400, "invalid_request")


def test_unknown_paths_and_traversal_are_json_404(server: Server) -> None:
    for path in (
        "/nope",
        "/v1/%2e%2e/org.json",
        "/v1/directory/..%2f..%2forg.json",
        "/v1/../online/signing.key",
        "/v1/directory%2f..%2f..%2fcodes.json",
    ):
        response = httpx.get(server.url + path, timeout=10)
        body = _error(response, 404, "not_found")
        assert "mac_key" not in response.text
        assert "PRIVATE" not in json.dumps(body)


def test_method_not_allowed_is_json(server: Server) -> None:
    _error(httpx.delete(server.url + "/v1/directory", timeout=10), 405, "method_not_allowed")


def test_body_over_cap_is_413_json(server: Server) -> None:
    big = b"x" * (64 * 1024 + 1)
    _error(httpx.post(server.url + "/v1/enrol", content=big, timeout=10), 413, "too_large")

    streamed = httpx.post(
        server.url + "/v1/enrol", content=iter([big[:40000], big[40000:]]), timeout=10
    )
    _error(streamed, 413, "too_large")


def test_consistency_between_any_two_sizes(server: Server) -> None:
    from secure_send.core.directory import merkle

    for user in (TARO, "jiro.takahashi"):
        ops.change(server.home, OPERATOR, Action.DEPART, {"user": user})
    server.push()
    lines = server.home.log_file.read_bytes().split(b"\n")[:-1]
    roots = [merkle.root(lines[:n]) for n in range(len(lines) + 1)]
    size = len(lines)
    for old, new in ((1, size - 1), (size - 2, size), (3, 3), (0, size)):
        answer = server.signed_get(f"/v1/directory/consistency?from={old}&to={new}").json()
        assert (answer["from"], answer["to"]) == (old, new)
        proof = [unb64u(h, 32) for h in answer["proof"]]
        if old:  # a proof from the empty tree is empty and proves nothing
            merkle.verify_consistency(old, new, roots[old], roots[new], proof)
    assert server.signed_get(f"/v1/directory/consistency?from=3&to={size + 1}").status_code == 400
    assert server.signed_get("/v1/directory/consistency?from=3&to=2").status_code == 400
