"""Received files are virus-scanned after decryption and before any is revealed (issue
20), through the real server on 127.0.0.1 and a real ClamAV daemon (clamd_kit.py):
a threat leaves no file behind (the folder, the hidden temporary files, the profile) and
is audited without a name; a clean drop is saved; a scanner that is down saves nothing
under ``block`` and saves with a "not scanned" note under ``warn``. Defender sits behind
the same interface (a stand-in ``MpCmdRun.exe``: no Windows here)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from secure_send.client import receive as receiving
from secure_send.client.errors import ClientError, ConnectionLost
from secure_send.client.policy import POLICY_FILE_ENV
from secure_send.client.switches import CLAMD_CONFIG_ENV, DEFENDER_ENV
from tests.client.clamd_kit import EICAR, SIGNATURE, Clamd, clamd, defender_stand_in
from tests.client.conftest import Enrol, Person, open_session
from tests.directory_kit import HANAKO, TARO
from tests.server.conftest import Server

__all__ = ["clamd"]  # the fixture, used by name

NAME = "請求書_2026年度.pdf"  # a file name that must never reach the audit log
LETTER = b"%PDF-1.4 just a letter\n"


def _policy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str) -> None:
    policy = tmp_path / f"policy-{mode}.json"
    policy.write_text(json.dumps({"antivirus": mode}), encoding="utf-8")
    monkeypatch.setenv(POLICY_FILE_ENV, str(policy))


def _send(hanako: Person, tmp_path: Path, files: dict[str, bytes]) -> str:
    folder = tmp_path / "outgoing"
    folder.mkdir(exist_ok=True)
    paths = []
    for name, data in files.items():
        (folder / name).write_bytes(data)
        paths.append(str(folder / name))
    return str(hanako.ok("send", *paths, "--to", TARO)["drop_id"])


def _receive(person: Person, drop_id: str, target: Path) -> receiving.Received:
    person.monkeypatch.setenv("SECURE_SEND_HOME", str(person.home))
    session = open_session(person)
    try:
        return receiving.receive(session, session.directory(), drop_id, target)
    finally:
        session.api.close()


def _everything(*folders: Path) -> list[Path]:
    return [p for folder in folders if folder.exists() for p in folder.rglob("*") if p.is_file()]


def _nothing_left(taro: Person, target: Path) -> None:
    """No file in the chosen folder, no hidden temporary file, no byte of it anywhere."""
    assert _everything(target) == []
    for path in _everything(taro.home):
        assert EICAR not in path.read_bytes(), path
        assert not path.name.endswith(".partial"), path


def _detections(server: Server, drop_id: str) -> list[dict[str, object]]:
    return [
        r.to_json()
        for r in server.audit().records()
        if r.drop == drop_id and r.action == "malware_detected"
    ]


@pytest.mark.parametrize("mode", ["block", "warn"])
def test_a_threat_saves_nothing_and_is_audited_without_a_name(
    org_server: Server,
    enrol: Enrol,
    clamd: Clamd,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    mode: str,
) -> None:
    hanako, taro = enrol(HANAKO, "laptop"), enrol(TARO, "desktop")
    drop_id = _send(hanako, tmp_path, {"memo.txt": b"a clean letter", NAME: EICAR})
    _policy(tmp_path, monkeypatch, mode)
    monkeypatch.setenv(CLAMD_CONFIG_ENV, str(clamd.config))
    target = tmp_path / "received"
    with pytest.raises(ClientError) as err:
        _receive(taro, drop_id, target)
    assert err.value.code == "malware_found"
    assert f"{SIGNATURE}.UNOFFICIAL" in str(err.value)  # the person is told what was found
    _nothing_left(taro, target)  # not even the clean file of the same drop
    [record] = _detections(org_server, drop_id)
    assert (record["actor"], record["device"], record["outcome"]) == (TARO, "desktop", "clamav")
    text = org_server.audit_text()
    assert NAME not in text
    assert "memo.txt" not in text
    assert EICAR.decode() not in text
    assert "EICAR" not in text.upper()


def test_a_clean_drop_is_saved_after_the_scan(
    org_server: Server, enrol: Enrol, clamd: Clamd, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hanako, taro = enrol(HANAKO, "laptop"), enrol(TARO, "desktop")
    drop_id = _send(hanako, tmp_path, {NAME: LETTER})
    _policy(tmp_path, monkeypatch, "block")
    monkeypatch.setenv(CLAMD_CONFIG_ENV, str(clamd.config))
    got = _receive(taro, drop_id, tmp_path / "received")
    assert got.files == [tmp_path / "received" / NAME]
    assert got.files[0].read_bytes() == LETTER
    assert got.not_scanned is None
    assert _detections(org_server, drop_id) == []


def test_clamd_down_under_block_saves_nothing(
    org_server: Server, enrol: Enrol, clamd: Clamd, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hanako, taro = enrol(HANAKO, "laptop"), enrol(TARO, "desktop")
    drop_id = _send(hanako, tmp_path, {NAME: LETTER})
    _policy(tmp_path, monkeypatch, "block")
    monkeypatch.setenv(CLAMD_CONFIG_ENV, str(clamd.config))
    clamd.stop()
    target = tmp_path / "received"
    with pytest.raises(ClientError) as err:
        _receive(taro, drop_id, target)
    assert err.value.code == "scan_failed"
    _nothing_left(taro, target)
    assert _detections(org_server, drop_id) == []


def test_clamd_down_under_warn_saves_and_says_not_scanned(
    org_server: Server, enrol: Enrol, clamd: Clamd, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hanako, taro = enrol(HANAKO, "laptop"), enrol(TARO, "desktop")
    drop_id = _send(hanako, tmp_path, {NAME: LETTER})
    _policy(tmp_path, monkeypatch, "warn")
    monkeypatch.setenv(CLAMD_CONFIG_ENV, str(clamd.config))
    clamd.stop()
    target = tmp_path / "received"
    code, _out, err = taro.run_human("receive", drop_id, "-o", str(target))
    assert code == 0, err
    assert (target / NAME).read_bytes() == LETTER
    assert "WARNING: the files were NOT scanned for viruses (clamdscan failed (2)" in err
    assert NAME not in err.split("NOT scanned")[1]  # the reason names no file
    code, _, _ = taro.run("receive", drop_id, "-o", str(tmp_path / "again"))
    assert code == 0  # already saved: nothing scanned or saved again


def test_the_cli_names_the_threat_and_saves_nothing(
    org_server: Server, enrol: Enrol, clamd: Clamd, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hanako, taro = enrol(HANAKO, "laptop"), enrol(TARO, "desktop")
    drop_id = _send(hanako, tmp_path, {NAME: EICAR})
    _policy(tmp_path, monkeypatch, "warn")
    monkeypatch.setenv(CLAMD_CONFIG_ENV, str(clamd.config))
    target = tmp_path / "received"
    code, _out, err = taro.run_human("receive", drop_id, "-o", str(target))
    assert code == 1
    assert f"found {SIGNATURE}.UNOFFICIAL in a received file; nothing of this drop" in err
    _nothing_left(taro, target)


def test_off_does_not_scan(
    org_server: Server, enrol: Enrol, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No policy: no scanner is run (a stand-in that would find EICAR is set up)."""
    hanako, taro = enrol(HANAKO, "laptop"), enrol(TARO, "desktop")
    drop_id = _send(hanako, tmp_path, {NAME: EICAR})
    exe = defender_stand_in(tmp_path / "defender")
    monkeypatch.setenv(DEFENDER_ENV, str(exe))
    got = _receive(taro, drop_id, tmp_path / "received")
    assert [p.read_bytes() for p in got.files] == [EICAR]
    assert not exe.with_suffix(".args").exists()


def test_defender_finds_it_too_and_a_server_that_cannot_be_told_hides_nothing(
    org_server: Server, enrol: Enrol, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hanako, taro = enrol(HANAKO, "laptop"), enrol(TARO, "desktop")
    drop_id = _send(hanako, tmp_path, {NAME: EICAR})
    _policy(tmp_path, monkeypatch, "block")
    monkeypatch.setenv(DEFENDER_ENV, str(defender_stand_in(tmp_path / "defender")))
    target = tmp_path / "received"

    def server_gone(*_args: object) -> None:
        raise ConnectionLost

    # the report fails as if the server went away at that moment (the download worked)
    monkeypatch.setattr("secure_send.client.api.ServerApi.report_malware", server_gone)
    with pytest.raises(ClientError) as err:
        _receive(taro, drop_id, target)
    assert err.value.code == "malware_found"
    assert "(defender) found Virus:DOS/EICAR_Test_File" in str(err.value)
    _nothing_left(taro, target)
    assert _detections(org_server, drop_id) == []  # not told, and the person still was
    monkeypatch.undo()
    monkeypatch.setenv(POLICY_FILE_ENV, str(tmp_path / "policy-block.json"))
    monkeypatch.setenv(DEFENDER_ENV, str(tmp_path / "defender" / "MpCmdRun.exe"))
    with pytest.raises(ClientError):
        _receive(taro, drop_id, target)
    [record] = _detections(org_server, drop_id)  # told this time
    assert record["outcome"] == "defender"
