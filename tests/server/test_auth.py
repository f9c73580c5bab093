"""Signed requests against the real server: whoami and every authentication failure."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from secure_send.core import httpsig
from secure_send.core.directory.enrol import DeviceKeys
from secure_send.core.directory.log import Action
from secure_send.core.directory.server_folder import BUNDLE_FILE, directory_dir
from secure_send.core.encoding import utc_now
from secure_send.org import ops
from secure_send.org.home import OrgHome
from secure_send.server.app import create_app
from secure_send.server.config import ConfigError, load_config
from tests.directory_kit import HANAKO, OPERATOR, TARO, enrol_device, entry_obj, with_entry
from tests.server.conftest import DEVICE, Server, running_server, server_config


def _code(response: httpx.Response, status: int = 401) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"code", "message"}
    return str(body["code"])


def test_whoami_signed(server: Server) -> None:
    response = server.signed_get("/v1/whoami")
    assert response.status_code == 200, response.text
    assert response.json()["user"] == HANAKO
    assert response.json()["device"] == DEVICE


def test_unsigned(server: Server) -> None:
    assert _code(server.get("/v1/whoami")) == "unsigned"


def test_wrong_key(server: Server) -> None:
    response = server.signed_get("/v1/whoami", keys=DeviceKeys.generate())
    assert _code(response) == "bad_signature"


def test_signed_for_another_path(server: Server) -> None:
    headers = server.signed_headers("GET", "/v1/policy")
    response = httpx.get(server.url + "/v1/whoami", headers=headers, timeout=10)
    assert _code(response) == "bad_signature"


def test_replayed_nonce(server: Server) -> None:
    headers = server.signed_headers("GET", "/v1/whoami")
    first = httpx.get(server.url + "/v1/whoami", headers=headers, timeout=10)
    assert first.status_code == 200
    again = httpx.get(server.url + "/v1/whoami", headers=headers, timeout=10)
    assert _code(again) == "replayed"


@pytest.mark.parametrize("offset", [-600, 600])
def test_clock_skew(server: Server, offset: int) -> None:
    response = server.signed_get("/v1/whoami", now=utc_now() + dt.timedelta(seconds=offset))
    assert _code(response) == "clock_skew"
    assert "clock skew" in response.json()["message"]


def test_unknown_device(server: Server) -> None:
    key_id = httpsig.key_id(HANAKO, "phone")
    assert _code(server.signed_get("/v1/whoami", key_id=key_id)) == "unknown_device"
    key_id = httpsig.key_id("nobody", DEVICE)
    assert _code(server.signed_get("/v1/whoami", key_id=key_id)) == "unknown_device"


def test_revoked_device_refused_on_next_request(server: Server) -> None:
    assert server.signed_get("/v1/whoami").status_code == 200
    ops.change(server.home, OPERATOR, Action.REVOKE_DEVICE, {"user": HANAKO, "device": DEVICE})
    server.push()
    assert _code(server.signed_get("/v1/whoami")) == "revoked_device"


def test_departed_user_refused(server: Server) -> None:
    keys = enrol_device(server.home, TARO, "desktop")
    server.push()
    taro = httpsig.key_id(TARO, "desktop")
    assert server.signed_get("/v1/whoami", keys=keys, key_id=taro).status_code == 200
    ops.change(server.home, OPERATOR, Action.DEPART, {"user": TARO})
    server.push()
    assert _code(server.signed_get("/v1/whoami", keys=keys, key_id=taro)) == "revoked_device"


def test_departed_user_whose_device_was_not_revoked_is_refused(server: Server) -> None:
    """Issue 14, item 27: a departure revokes the person's devices in the same event, but
    the server must not rely on that. A directory signed in the state "Hanako departed,
    her laptop still active" (the signing key's holder can sign any state) lets her in
    no more than a revoked device."""
    assert server.signed_get("/v1/whoami").status_code == 200
    data = server.home.bundle_file.read_bytes()
    hanako = entry_obj(data, HANAKO)
    hanako["status"] = "departed"
    assert all("revoked" not in d for d in hanako["devices"])  # the laptop stays active
    forged = with_entry(data, server.home, HANAKO, hanako)
    bundle = directory_dir(server.config.home) / BUNDLE_FILE
    swap = bundle.with_name(".forged")
    swap.write_bytes(forged)
    swap.replace(bundle)  # the server reloads a replaced file (another process's write)
    assert server.held_bundle() == forged  # held (it verifies): in force
    assert _code(server.signed_get("/v1/whoami")) == "revoked_device"


def test_repeated_signature_headers_refused(server: Server) -> None:
    headers = list(server.signed_headers("GET", "/v1/whoami").items())
    headers.append(("Signature", headers[-1][1]))
    response = httpx.get(server.url + "/v1/whoami", headers=headers, timeout=10)
    assert _code(response) == "bad_signature"


def test_failures_are_rate_limited(org: tuple[OrgHome, DeviceKeys]) -> None:
    home, _keys = org
    config = server_config(home, auth_failures_burst=3, auth_failures_per_minute=1)
    with TestClient(create_app(config)) as client:
        codes = [client.get("/v1/whoami").json()["code"] for _ in range(5)]
        assert codes == ["unsigned"] * 3 + ["rate_limited"] * 2
        limited = client.get("/v1/whoami")
        assert limited.status_code == 429


def _whoami_headers(url: str, keys: DeviceKeys) -> dict[str, str]:
    """A GET of ``url`` signed now as Hanako's laptop."""
    digest = httpsig.content_digest(b"")
    key_id = httpsig.key_id(HANAKO, DEVICE)
    return httpsig.sign_request("GET", url, {}, digest, key_id, keys.signing, utc_now())


def test_in_process_whoami(org: tuple[OrgHome, DeviceKeys]) -> None:
    home, keys = org
    with TestClient(create_app(server_config(home))) as client:
        url = "http://testserver/v1/whoami"
        headers = _whoami_headers(url, keys)
        assert client.get("/v1/whoami", headers=headers).json()["device"] == DEVICE


def test_public_url_is_what_clients_sign(org: tuple[OrgHome, DeviceKeys]) -> None:
    home, keys = org
    config = server_config(home, public_url="https://drop.example.go.jp/")
    with TestClient(create_app(config)) as client:
        url = "https://drop.example.go.jp/v1/whoami"
        headers = _whoami_headers(url, keys)
        assert client.get("/v1/whoami", headers=headers).status_code == 200


def test_directory_missing_is_503_json(org: tuple[OrgHome, DeviceKeys]) -> None:
    home, keys = org
    config = server_config(home)
    with TestClient(create_app(config)) as client:
        (config.home / "directory" / "directory.bundle").unlink()
        assert client.get("/v1/directory/head").json()["code"] == "directory_unavailable"
        headers = _whoami_headers("http://testserver/v1/whoami", keys)
        response = client.get("/v1/whoami", headers=headers)
        assert response.status_code == 503
        assert response.json()["code"] == "directory_unavailable"


def test_a_server_folder_without_a_directory_does_not_start(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="server-home"):
        create_app(load_config(tmp_path))


def test_an_expired_snapshot_lets_nobody_in(org: tuple[OrgHome, DeviceKeys]) -> None:
    home, keys = org
    home.publish(utc_now() - dt.timedelta(days=2))  # signed two days ago: expired
    config = server_config(home)
    with TestClient(create_app(config)) as client:
        headers = _whoami_headers("http://testserver/v1/whoami", keys)
        response = client.get("/v1/whoami", headers=headers)
        assert response.status_code == 503
        assert response.json()["code"] == "directory_unavailable"


def test_a_revocation_another_server_stored_counts_on_the_very_next_request(
    server: Server,
) -> None:
    """Issue 17, item 4: the event loop checks signed requests against the held
    directory without a worker thread — but only while the bundle file is the one it
    was read from. A revocation pushed to another server process over the same folder
    is in force here from the very next request, nothing else reloading it first."""
    assert server.signed_get("/v1/whoami").status_code == 200
    assert server.signed_get("/v1/whoami").status_code == 200  # on the loop, held
    ops.change(server.home, OPERATOR, Action.REVOKE_DEVICE, {"user": HANAKO, "device": DEVICE})
    with running_server(server.home, server.keys, server_config(server.home, port=0)) as other:
        other.push()  # the signer reaches the other process, which stores the push
    assert _code(server.signed_get("/v1/whoami")) == "revoked_device"


def test_a_nonce_one_server_recorded_is_refused_by_another(org: tuple[OrgHome, DeviceKeys]) -> None:
    """Two servers over one state folder (two processes behind a load balancer): a
    request recorded by one — on its event loop's own connection — is a replay to the
    other, whose own connection refuses it."""
    home, keys = org
    public = "https://drop.example.go.jp"
    config = server_config(home, port=0, public_url=public)
    with running_server(home, keys, config) as one, running_server(home, keys, config) as two:
        assert one.url != two.url
        for first, second in ((one, two), (two, one)):
            headers = _whoami_headers(public + "/v1/whoami", keys)
            answer = httpx.get(first.url + "/v1/whoami", headers=headers, timeout=10)
            assert answer.status_code == 200, answer.text
            again = httpx.get(second.url + "/v1/whoami", headers=headers, timeout=10)
            assert _code(again) == "replayed"


@pytest.mark.embedded_only
def test_signed_requests_pass_while_another_process_writes(server: Server) -> None:
    """A write transaction held by another connection: the loop's nonce write would
    wait, so the check moves to a worker thread (which waits for the lock) and the
    event loop goes on answering others meanwhile."""
    assert server.signed_get("/v1/whoami").status_code == 200
    other = sqlite3.connect(server.config.state_dir / "meta.sqlite", isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        answers: list[int] = []
        waiting = threading.Thread(
            target=lambda: answers.append(server.signed_get("/v1/whoami").status_code)
        )
        waiting.start()
        time.sleep(0.3)
        assert answers == []  # waits for the lock, on a worker thread
        started = time.monotonic()
        assert server.get("/v1/health").status_code == 200  # the loop is free
        assert time.monotonic() - started < 0.25
        other.execute("COMMIT")
        waiting.join(10)
        assert answers == [200]
    finally:
        other.close()
