"""My Numbers go only to designated handlers (issue 19, item 2), through the real CLI and
the real server on 127.0.0.1: a blocked send leaves nothing anywhere; an allowed one goes
at 機密性3 and the policy's shorter expiry with its signed counts; nothing — server folder,
organisation home, client profiles — ever holds a number or its SHA-256 hex.

Every number here is generated (valid check digits on random digits), never a real one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import random
import zipfile
from pathlib import Path

import pytest

from secure_send.client.policy import POLICY_FILE_ENV
from secure_send.client.profile import Profile
from secure_send.core.directory.log import Action
from secure_send.core.encoding import parse_time
from secure_send.core.envelope.manifest import Classification, SignedManifest
from secure_send.org import ops
from secure_send.org.home import OrgHome
from tests.client.conftest import Enrol, Person, blob_files
from tests.core.dlp.test_numbers import make_individual
from tests.directory_kit import HANAKO, JIRO, OPERATOR, ROLE, TARO
from tests.server.conftest import Server


def designate(server: Server, entry_id: str, on: bool = True) -> None:
    """IT designates (or undesignates) an entry: one signed ``update`` event, pushed."""
    home: OrgHome = server.home
    entry = home.entries()[entry_id].with_changes(mynumber_handler=on)
    ops.change(home, OPERATOR, Action.UPDATE, {"entry": entry.to_json()})
    server.push()


def numbers(seed: int, count: int) -> list[str]:
    rng = random.Random(seed)  # noqa: S311 - reproducible test data
    return [make_individual(rng) for _ in range(count)]


def nenmatsu_csv(path: Path, found: list[str]) -> Path:
    """A 年末調整 list: names and a 個人番号 column (CP932, as Excel writes it)."""
    lines = ["氏名,個人番号,扶養"] + [f"職員{i},{n},0" for i, n in enumerate(found)]
    path.write_bytes("\r\n".join(lines).encode("cp932"))
    return path


def leftovers(person: Person) -> list[Path]:
    profile = Profile(person.home)
    return [p for d in (profile.outbox_dir, profile.resume_dir) if d.exists() for p in d.iterdir()]


def test_a_list_of_my_numbers_to_someone_not_designated_is_stopped(
    org_server: Server, enrol: Enrol, tmp_path: Path
) -> None:
    hanako, _taro = enrol(HANAKO, "laptop"), enrol(TARO, "desktop")
    found = numbers(1, 30)
    table = nenmatsu_csv(tmp_path / "年末調整.csv", found)
    code, out, err = hanako.run_human("send", str(table), "--to", TARO)
    assert code == 1
    assert "mynumber" not in out
    assert "年末調整.csv: 30 number(s)" in err
    assert "not designated: taro.suzuki" in err
    assert blob_files(org_server) == []  # nothing uploaded
    assert leftovers(hanako) == []  # and nothing prepared
    assert hanako.ok("sent")["drops"] == []
    for n in found:
        assert n not in err


def test_the_same_list_to_a_designated_role_goes_at_c3_and_the_shorter_expiry(
    org_server: Server, enrol: Enrol, tmp_path: Path
) -> None:
    hanako, taro = enrol(HANAKO, "laptop"), enrol(TARO, "desktop")
    designate(org_server, ROLE)  # 会計課 窓口 (Hanako and Taro)
    table = nenmatsu_csv(tmp_path / "年末調整.csv", numbers(2, 12))
    code, out, err = hanako.run("send", str(table), "--to", ROLE, "--expires", "14d")
    assert code == 0, err
    assert out["mynumber"] == {"files": 1, "numbers": 12}
    assert "sent at 機密性3 (c3), available for at most 3 day(s)" in err
    signed = SignedManifest.from_json(_session_drop(taro, out["drop_id"]))
    manifest = signed.manifest
    assert manifest.classification is Classification.C3
    assert (manifest.mynumber_files, manifest.mynumber_count) == (1, 12)
    life = parse_time(manifest.expires) - parse_time(manifest.created)
    assert life <= dt.timedelta(days=3)
    # a member of a designated role is covered when chosen by name, too
    assert hanako.ok("send", str(table), "--to", TARO)["mynumber"]["numbers"] == 12


def _session_drop(person: Person, drop_id: str) -> dict[str, object]:
    from tests.client.conftest import open_session

    session = open_session(person)
    try:
        return session.api.drop(drop_id)
    finally:
        session.close()


def test_files_without_my_numbers_go_as_chosen_with_a_note_for_look_alikes(
    org_server: Server, enrol: Enrol, tmp_path: Path
) -> None:
    hanako, _taro = enrol(HANAKO, "laptop"), enrol(TARO, "desktop")
    invoices = tmp_path / "請求書一覧.txt"  # numbers that pass the check digit by chance
    invoices.write_text("\n".join(f"請求書 No. {n} 円" for n in numbers(3, 5)), encoding="utf-8")
    code, out, err = hanako.run("send", str(invoices), "--to", TARO)
    assert code == 0, err
    assert "mynumber" not in out
    assert "請求書一覧.txt: 5 number(s) pass the My Number check digit" in err
    manifest = SignedManifest.from_json(_session_drop(hanako, out["drop_id"])).manifest
    assert manifest.classification is Classification.C2
    assert not manifest.contains_specific_personal_info


def _encrypted_zip(path: Path) -> Path:
    """A password ZIP ("PPAP"): the flag bit an encrypted entry carries."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.csv", "x")
    data = bytearray(buffer.getvalue())
    for header in (b"PK\x03\x04", b"PK\x01\x02"):
        at = data.index(header)
        flag = at + (6 if header == b"PK\x03\x04" else 8)
        data[flag] |= 0x1
    path.write_bytes(bytes(data))
    return path


def test_strict_policy_counts_a_file_that_cannot_be_checked(
    org_server: Server, enrol: Enrol, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hanako, _taro = enrol(HANAKO, "laptop"), enrol(TARO, "desktop")
    ppap = _encrypted_zip(tmp_path / "資料.zip")
    code, _out, err = hanako.run("send", str(ppap), "--to", TARO)
    assert code == 0, err  # "on": said, not blocked
    assert "資料.zip could not be checked for My Numbers" in err
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"mynumber": "strict"}), encoding="utf-8")
    monkeypatch.setenv(POLICY_FILE_ENV, str(policy))
    err = hanako.fails("send", str(ppap), "--to", TARO)
    assert "資料.zip: could not be checked" in err
    assert "not designated: taro.suzuki" in err
    policy.write_text(json.dumps({"mynumber": "off"}), encoding="utf-8")
    assert "cannot be turned off" in hanako.fails("send", str(ppap), "--to", TARO)


def _every_file(*folders: Path) -> list[Path]:
    return [p for folder in folders for p in folder.rglob("*") if p.is_file()]


def test_no_number_or_its_hash_is_kept_anywhere(
    org_server: Server, enrol: Enrol, tmp_path: Path
) -> None:
    """The issue's grep: the server folder, the organisation home and both profiles,
    after a blocked send, an allowed one and its download."""
    hanako, taro = enrol(HANAKO, "laptop"), enrol(TARO, "desktop")
    _jiro = enrol(JIRO, "pc")
    found = numbers(4, 40)
    (tmp_path / "in").mkdir()
    table = nenmatsu_csv(tmp_path / "in" / "年末調整.csv", found)
    hanako.fails("send", str(table), "--to", JIRO)  # blocked
    designate(org_server, TARO)
    drop_id = hanako.ok("send", str(table), "--to", TARO)["drop_id"]
    taro.ok("receive", drop_id, "-o", str(tmp_path / "received"))
    assert (tmp_path / "received" / "年末調整.csv").read_bytes() == table.read_bytes()
    needles = [n.encode() for n in found]
    needles += [hashlib.sha256(n.encode()).hexdigest().encode() for n in found]
    needles += [hashlib.sha256(n.encode()).hexdigest().upper().encode() for n in found]
    searched = _every_file(org_server.config.home, org_server.home.path, hanako.home, taro.home)
    assert len(searched) > 20  # the places exist and hold files
    # the audit log is among them, and it did record the drop as holding My Numbers
    audit = [p for p in searched if p.name == "audit.jsonl"]
    assert audit
    assert b'"contains_specific_personal_info":true' in audit[0].read_bytes()
    assert b'"mynumber_count":40' in audit[0].read_bytes()
    for path in searched:
        data = path.read_bytes()
        for needle in needles:
            assert needle not in data, f"{path} holds a number or its hash"


def test_the_library_blocks_whoever_calls_it(
    org_server: Server, enrol: Enrol, tmp_path: Path
) -> None:
    """``send.prepare`` checks the files itself when no front end did (a submission, a
    script using the library): the CLI's own check is not the only gate."""
    from secure_send.client import send as sending
    from secure_send.client.mynumber import MyNumberBlocked
    from tests.client.conftest import open_session

    hanako, _taro = enrol(HANAKO, "laptop"), enrol(TARO, "desktop")
    table = nenmatsu_csv(tmp_path / "年末調整.csv", numbers(5, 3))
    session = open_session(hanako)
    try:
        files = sending.collect([table])
        with pytest.raises(MyNumberBlocked) as caught:
            sending.prepare(
                session, session.directory(), files, [TARO], expires=dt.timedelta(days=7)
            )
        assert caught.value.check.not_designated == (TARO,)
        assert leftovers(hanako) == []
    finally:
        session.close()
