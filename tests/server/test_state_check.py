"""Issue 15, items 1, 4 and 8: the server never starts over silently.

A real server (uvicorn on 127.0.0.1, :func:`running_server`) makes real state — a
committed drop's blob, audit records — and is stopped; then its folder is damaged
the way the fault injection did (database deleted or overwritten, a torn or cut
audit log, a corrupt directory) and the real ``secure-send-server`` entry point is
run as a process, as an operator would, with its exit code and message checked.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from secure_send.core.audit import AuditLog, audit_log_path
from secure_send.core.directory.enrol import DeviceKeys
from secure_send.core.directory.server_folder import BUNDLE_FILE, directory_dir
from secure_send.org.home import OrgHome
from secure_send.server.config import ServerConfig
from tests.directory_kit import TARO, enrol_device
from tests.server.conftest import Server, running_server, server_config
from tests.server.drop_kit import hanako, sent_drop

# about the embedded backend's own files (SQLite, audit.jsonl)
pytestmark = pytest.mark.embedded_only

PREFIX = "secure-send-server: "


def _cli(home: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """The real entry point as its own process. Starting a server that should refuse
    but does not runs until the timeout kills it (``TimeoutExpired``: the test fails)."""
    command = [sys.executable, "-m", "secure_send.server.cli", "--home", str(home), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)


def _start(home: Path) -> subprocess.CompletedProcess[str]:
    """``secure-send-server --home DIR --listen 127.0.0.1:0``: must refuse, and quickly."""
    proc = _cli(home, "--listen", "127.0.0.1:0", timeout=20)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


@pytest.fixture
def used(org: tuple[OrgHome, DeviceKeys]) -> tuple[ServerConfig, str]:
    """A server folder that served one committed drop (Hanako → Taro), now stopped."""
    home, keys = org
    config = server_config(home, port=0)
    with running_server(home, keys, config) as server:
        enrol_device(server.home, TARO, "desktop", "人事課のデスクトップ")
        server.push()
        drop_id = sent_drop(hanako(server), {"f1": b"ciphertext"})
    return config, drop_id


def _db(config: ServerConfig) -> Path:
    return config.state_dir / "meta.sqlite"


def test_a_missing_database_refuses_to_start_and_says_what_is_there(
    used: tuple[ServerConfig, str], org: tuple[OrgHome, DeviceKeys]
) -> None:
    """Item 1: without meta.sqlite the server used to start with a new empty database
    and every drop vanished; now it refuses, naming the file and what is there, and
    ``check`` says the same; ``quarantine`` sets it all aside (nothing deleted), after
    which starting empty is what the operator chose."""
    config, _ = used
    for name in ("meta.sqlite", "meta.sqlite-wal", "meta.sqlite-shm"):
        (config.state_dir / name).unlink(missing_ok=True)
    proc = _start(config.home)
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.startswith(PREFIX)
    assert proc.stderr.count("\n") == 1
    assert f"{_db(config)} is missing" in proc.stderr
    assert "1 blob file(s)" in proc.stderr
    assert "audit log" in proc.stderr
    assert "check" in proc.stderr
    assert "quarantine" in proc.stderr
    assert not _db(config).exists()  # nothing was created

    check = _cli(config.home, "--json", "check")
    assert check.returncode == 1, check.stdout
    found = json.loads(check.stdout)
    assert found["ok"] is False
    assert any(f["topic"] == "database" and f["level"] == "problem" for f in found["findings"]), (
        found
    )

    moved = _cli(config.home, "quarantine")
    assert moved.returncode == 0, moved.stderr
    folders = list((config.home / "quarantine").iterdir())
    assert len(folders) == 1
    assert {p.name for p in folders[0].iterdir()} >= {"blobs", "audit.jsonl"}
    assert any(folders[0].joinpath("blobs").rglob("*"))  # the blob is kept, not deleted
    assert _cli(config.home, "check").returncode == 0

    home, keys = org
    with running_server(home, keys, config) as server:  # an explicit fresh start
        assert server.get("/v1/health").status_code == 200


def test_a_corrupt_database_is_a_clear_start_up_error(used: tuple[ServerConfig, str]) -> None:
    """Item 8: an overwritten meta.sqlite gave tracebacks; now one line names the file
    and points to check and quarantine, and ``check`` reports it."""
    config, _ = used
    for name in ("meta.sqlite-wal", "meta.sqlite-shm"):
        (config.state_dir / name).unlink(missing_ok=True)
    _db(config).write_bytes(b"this is not a database, it was overwritten\n" * 200)
    proc = _start(config.home)
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.startswith(PREFIX)
    assert proc.stderr.count("\n") == 1
    assert f"{_db(config)} is damaged" in proc.stderr
    assert "check" in proc.stderr
    assert "quarantine" in proc.stderr
    check = _cli(config.home, "check")
    assert check.returncode == 1
    assert "PROBLEM database" in check.stdout


def _torn(config: ServerConfig) -> Path:
    path = audit_log_path(config.home)
    with path.open("ab") as f:
        f.write(b'{"action":"download","actor":"hanako')  # power lost mid-write
    return path


def _auth_failure(server: Server) -> httpx.Response:
    """An audited request: a bad signature is recorded as ``auth_failure``."""
    headers = server.signed_headers("GET", "/v1/inbox")
    key = next(k for k in headers if k.lower() == "signature")
    headers[key] = headers[key][:-4] + "AAA="
    return httpx.get(server.url + "/v1/inbox", headers=headers, timeout=10)


def test_a_torn_audit_line_is_repaired_at_start_up(
    used: tuple[ServerConfig, str], org: tuple[OrgHome, DeviceKeys]
) -> None:
    """Item 4: a torn last line made every audited action 500; the server now cuts it at
    start-up, says so in the audit log, and audited actions work."""
    config, _ = used
    path = _torn(config)
    home, keys = org
    with running_server(home, keys, config) as server:
        response = _auth_failure(server)
        assert response.status_code == 401, response.text
    records = list(AuditLog(path).records())
    repair = [r for r in records if r.action == "audit_repair"]
    assert [(r.outcome, r.size) for r in repair] == [("torn_line_removed", 36)]
    assert records[-1].action == "auth_failure"
    AuditLog(path).verify()
    check = _cli(config.home, "check")
    assert check.returncode == 0, check.stdout
    assert "matches the head stored in the database" in check.stdout


def test_repair_cuts_a_torn_audit_line_and_records_it(used: tuple[ServerConfig, str]) -> None:
    """Item 4: ``secure-send-server --home DIR repair`` does the same by hand."""
    config, _ = used
    path = _torn(config)
    assert _cli(config.home, "check").returncode == 1
    proc = _cli(config.home, "repair")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "cut a torn final line (36 bytes)" in proc.stdout
    last = list(AuditLog(path).records())[-1]
    assert (last.action, last.outcome) == ("audit_repair", "torn_line_removed")
    assert _cli(config.home, "audit", "verify").returncode == 0
    assert "nothing to repair" in _cli(config.home, "repair").stdout


def test_a_cut_audit_tail_is_found_by_the_head_in_the_database(
    used: tuple[ServerConfig, str], org: tuple[OrgHome, DeviceKeys]
) -> None:
    """Item 4: ``audit verify`` without ``--expect-head`` could not notice deleted tail
    lines. The head is now kept in the database too: verify fails, the server refuses
    to start, and only ``repair --accept-audit-loss`` (recorded) lets it go on."""
    config, _ = used
    path = audit_log_path(config.home)
    lines = path.read_bytes().splitlines(keepends=True)
    assert len(lines) >= 3
    path.write_bytes(b"".join(lines[:-2]))  # two whole records gone: the chain still holds

    verify = _cli(config.home, "audit", "verify")
    assert verify.returncode == 1, verify.stdout
    assert "log ends before the recorded head" in verify.stderr
    proc = _start(config.home)
    assert proc.returncode == 1
    assert "2 record(s) were removed from its end" in proc.stderr
    assert "--accept-audit-loss" in proc.stderr
    assert _cli(config.home, "repair").returncode == 1  # not without saying so

    accepted = _cli(config.home, "repair", "--accept-audit-loss")
    assert accepted.returncode == 0, accepted.stdout
    assert "accepted the loss of 2 audit record(s)" in accepted.stdout
    last = list(AuditLog(path).records())[-1]
    assert (last.action, last.outcome, last.size) == ("audit_repair", "tail_lost", 2)
    assert _cli(config.home, "audit", "verify").returncode == 0
    home, keys = org
    with running_server(home, keys, config) as server:
        assert _auth_failure(server).status_code == 401


def test_repair_and_quarantine_refuse_while_a_server_runs(
    used: tuple[ServerConfig, str], org: tuple[OrgHome, DeviceKeys]
) -> None:
    config, _ = used
    home, keys = org
    with running_server(home, keys, config):
        for command in ("repair", "quarantine"):
            proc = _cli(config.home, command)
            assert proc.returncode == 1
            assert "a server is running" in proc.stderr
    assert not (config.home / "quarantine").exists()


def test_a_damaged_directory_is_a_clear_503(
    server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    """Item 8: a corrupt published directory gave clients an unclear error; now every
    request gets ``503 server_directory_damaged`` (a sentence: tell IT) and the log
    says what is damaged, once."""
    assert server.signed_get("/v1/inbox").status_code == 200
    bundle = directory_dir(server.config.home) / BUNDLE_FILE
    data = bytearray(bundle.read_bytes())
    data[300] ^= 4  # one flipped bit on the disk
    swap = bundle.with_name(".damaged")
    swap.write_bytes(bytes(data))
    with caplog.at_level(logging.ERROR, logger="secure_send.server"):
        swap.replace(bundle)
        for path in ("/v1/inbox", "/v1/whoami", "/v1/directory"):
            response = server.signed_get(path)
            assert response.status_code == 503, response.text
            assert response.json()["code"] == "server_directory_damaged"
        head = server.get("/v1/directory/head")
        assert (head.status_code, head.json()["code"]) == (503, "server_directory_damaged")
    damaged = [r for r in caplog.records if "is damaged" in r.getMessage()]
    assert len(damaged) == 1, caplog.text
    assert str(directory_dir(server.config.home)) in damaged[0].getMessage()
