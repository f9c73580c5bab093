"""``secure-send-admin`` driven as a subprocess, as an IT administrator would use it."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from secure_send.core.directory.bundle import TrustAnchor
from secure_send.org.home import OrgHome
from tests.directory_kit import ORG, request_for

CLI = [sys.executable, "-m", "secure_send.admin.cli"]
PREFIX = "secure-send-admin: error: "
CODE_LINE = r"[A-HJ-NP-Z2-9]{4}(-[A-HJ-NP-Z2-9]{4}){5}\n"


def run(
    home: Path, *args: str | Path, json_mode: bool = False
) -> subprocess.CompletedProcess[bytes]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("PYTHONIOENCODING", "LC_", "LANG"))
    }
    env.update(LC_ALL="C.UTF-8", USER="it-admin")
    flags = ["--json"] if json_mode else []
    return subprocess.run(
        [*CLI, "--home", str(home), *flags, *(str(a) for a in args)],
        capture_output=True,
        check=False,
        timeout=120,
        env=env,
    )


def ok(home: Path, *args: str | Path) -> str:
    """Run a command that must succeed; its stdout, strictly UTF-8."""
    proc = run(home, *args)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    assert proc.stderr == b""
    return proc.stdout.decode("utf-8")


def ok_json(home: Path, *args: str | Path) -> Any:
    """Run with ``--json``; stdout must be one JSON document."""
    proc = run(home, *args, json_mode=True)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    return json.loads(proc.stdout.decode("utf-8"))


def fails(home: Path, *args: str | Path) -> str:
    """Run a command that must fail: exit 1, nothing on stdout, one line on stderr."""
    proc = run(home, *args)
    message = proc.stderr.decode("utf-8")
    assert proc.returncode == 1, (proc.returncode, message)
    assert proc.stdout == b""
    assert message.startswith(PREFIX), message
    assert message.endswith("\n"), message
    assert message.count("\n") == 1, message
    return message


def _snapshot(home: Path) -> dict[str, bytes]:
    """Every file under the home (the lock file aside), for 'nothing changed' checks."""
    return {
        str(p.relative_to(home)): p.read_bytes()
        for p in sorted(home.rglob("*"))
        if p.is_file() and p.name != ".lock"
    }


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """An organisation with the demo ministry imported."""
    path = tmp_path / "org"
    ok(path, "init", "--org", ORG)
    csv_path = tmp_path / "demo.csv"
    assert ok(path, "generate", "--demo", "-o", csv_path) == "Wrote 203 rows\n"
    assert csv_path.read_bytes().startswith(b"\xef\xbb\xbfid,kind,")  # Excel's BOM
    assert ok(path, "import", "--csv", csv_path).startswith("Imported: 203 added, 0 changed")
    return path


def test_init_writes_key_files_readable_only_by_the_owner(tmp_path: Path) -> None:
    path = tmp_path / "org"
    report = ok_json(path, "init", "--org", ORG, "--roots", "5", "--threshold", "3")
    assert report == {"org": ORG, "home": str(path), "root_keys": 5, "threshold": 3}
    keys = sorted((path / "offline-root").glob("*.key"))
    assert [k.name for k in keys] == [f"root-{i}.key" for i in range(1, 6)]
    for key in [*keys, path / "online" / "signing.key"]:
        assert stat.S_IMODE(key.stat().st_mode) == 0o600, key
    for folder in ("offline-root", "online"):
        assert stat.S_IMODE((path / folder).stat().st_mode) == 0o700, folder


def test_init_twice_fails_and_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "org"
    ok(path, "init", "--org", ORG)
    before = _snapshot(path)
    assert "already holds an organisation" in fails(path, "init", "--org", "別の省")
    assert _snapshot(path) == before
    assert "threshold" in fails(tmp_path / "other", "init", "--org", ORG, "--threshold", "4")


def test_show_prints_japanese_names_as_utf8(home: Path) -> None:
    out = ok(home, "show")
    assert out.startswith(f"{ORG}: 200 people, 3 roles, 0 active devices\n")
    assert "  hanako.sato              佐藤 花子  (会計課)\n" in out
    one = ok(home, "show", "hanako.sato")
    assert one.splitlines()[:4] == [
        "佐藤 花子  サトウ ハナコ  Hanako Sato",
        "  id: hanako.sato (person, active)",
        "  会計課  主任",
        "  email (informational): hanako.sato@example.go.jp",
    ]
    summary = ok_json(home, "show")
    assert (summary["org"], summary["people"], summary["roles"]) == (ORG, 200, 3)
    assert len(summary["entries"]) == 203
    entry = ok_json(home, "show", "taro.suzuki")
    assert (entry["name_ja"], entry["department"]) == ("鈴木 太郎", "人事課")


def test_enrol_code_then_request_then_lifecycle(home: Path, tmp_path: Path) -> None:
    proc = run(home, "enrol-code", "hanako.sato")
    assert (proc.returncode, proc.stderr) == (0, b"")
    out = proc.stdout.decode("ascii")
    assert re.fullmatch(CODE_LINE, out), out
    code = out.strip()
    for name, content in _snapshot(home).items():
        assert code.encode() not in content, name
        assert code.replace("-", "").encode() not in content, name

    _, request = request_for("hanako.sato", "laptop", code, "会計課の端末")
    request_file = tmp_path / "request.json"
    request_file.write_text(json.dumps(request.to_json()), encoding="utf-8")
    assert ok(home, "enrol-request", request_file) == "hanako.sato / laptop: enrolled\n"
    # the same request again (a retried batch) is answered, not enrolled twice
    assert ok(home, "enrol-request", request_file) == "hanako.sato / laptop: enrolled\n"
    _, other = request_for("hanako.sato", "tablet", code, "会計課の端末")  # the code is spent
    request_file.write_text(json.dumps(other.to_json()), encoding="utf-8")
    assert "the one-time code is wrong, used or expired" in fails(
        home, "enrol-request", request_file
    )
    assert code not in fails(home, "enrol-request", request_file)

    entry = ok_json(home, "show", "hanako.sato")
    assert [d["id"] for d in entry["devices"]] == ["laptop"]
    assert "device laptop '会計課の端末': enrolled" in ok(home, "show", "hanako.sato")
    assert ok_json(home, "verify")["entries"] == 203

    assert ok(home, "revoke-device", "hanako.sato", "laptop") == "revoke-device: done\n"
    assert ok_json(home, "show", "hanako.sato")["devices"][0]["revoked"]
    assert "no active device" in fails(home, "revoke-device", "hanako.sato", "laptop")
    assert ok_json(home, "depart", "taro.suzuki") == {"ok": True, "message": "depart: done"}
    assert "already departed" in fails(home, "depart", "taro.suzuki")
    assert ok(home, "members", "nenmatsu", "hanako.sato") == "members: done\n"
    assert ok_json(home, "show", "nenmatsu")["members"] == ["hanako.sato"]
    assert "is not a person" in fails(home, "members", "nenmatsu", "hanako.sato", "nenmatsu")

    first = ok_json(home, "verify")
    rotated = ok_json(home, "rotate-signing-key")
    assert rotated["root_version"] == 2
    after = ok_json(home, "verify")
    assert (after["root_version"], after["epoch"]) == (2, first["epoch"] + 1)
    assert after["log_size"] == first["log_size"] + 1
    assert ok(home, "verify").startswith(f"OK: {ORG} epoch {after['epoch']}, 203 entries")
    retired = home / "online" / "signing-1.key.retired"
    for key in (retired, home / "online" / "signing.key"):
        assert stat.S_IMODE(key.stat().st_mode) == 0o600


def test_request_without_code_is_pending_until_approved(home: Path, tmp_path: Path) -> None:
    _, request = request_for("taro.suzuki", "desktop", None, "人事課のPC")
    request_file = tmp_path / "request.json"
    request_file.write_text(json.dumps(request.to_json()), encoding="utf-8")
    state = ok_json(home, "enrol-request", request_file)
    assert state == {"user": "taro.suzuki", "device": "desktop", "state": "pending approval"}
    assert ok_json(home, "show", "taro.suzuki")["devices"] == []
    listed = ok_json(home, "approve")
    assert [(r["user"], r["device"], r["name"]) for r in listed] == [
        ("taro.suzuki", "desktop", "人事課のPC")
    ]
    assert ok(home, "approve", "taro.suzuki", "desktop") == "approved taro.suzuki / desktop\n"
    assert ok(home, "approve") == "No pending enrolments.\n"
    assert [d["id"] for d in ok_json(home, "show", "taro.suzuki")["devices"]] == ["desktop"]
    assert "no pending enrolment" in fails(home, "approve", "taro.suzuki", "desktop")


def test_client_config_has_the_anchor_and_no_private_keys(home: Path) -> None:
    out = ok(home, "client-config", "--server-url", "https://drop.example.go.jp")
    config = json.loads(out)
    assert config["format"] == "secure-send/client-config/v1"
    assert config["server_url"] == "https://drop.example.go.jp"
    assert (config["org"], config["threshold"], len(config["root_keys"])) == (ORG, 2, 3)
    assert TrustAnchor.from_json(config) == OrgHome(home).anchor()
    secrets = [
        p.read_text(encoding="ascii").strip()
        for folder in ("offline-root", "online")
        for p in (home / folder).iterdir()
        if p.suffix != ".txt"
    ]
    assert len(secrets) == 5  # 3 root keys, the signing key, the signer identity
    published = (home / "published" / "directory.json").read_text(encoding="utf-8")
    for secret in secrets:
        assert secret not in out
        assert secret not in published


def test_json_output_of_every_reporting_command_parses(home: Path, tmp_path: Path) -> None:
    assert ok_json(home, "publish")["entries"] == 203
    assert ok_json(home, "generate", "--scale", "5", "-o", tmp_path / "s.csv") == {"rows": 5}
    imported = ok_json(home, "import", "--csv", tmp_path / "s.csv")
    assert imported["added"] + imported["changed"] == 5  # a synthetic id may exist already
    assert ok_json(home, "approve") == []
    assert ok_json(home, "client-config")["threshold"] == 2
    assert ok_json(home, "verify")["entries"] == 203 + imported["added"]


def test_enrol_code_with_json_prints_json(home: Path) -> None:
    """``--json`` promises machine-readable output for every command."""
    report = ok_json(home, "enrol-code", "hanako.sato")
    assert isinstance(report, dict)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("enrol-code", "nobody"), "'nobody' is not an active person"),
        (("enrol-code", "nenmatsu"), "is not an active person"),
        (("show", "nobody"), "no entry 'nobody'"),
        (("revoke-device", "hanako.sato", "laptop"), "no active device"),
        (("members", "hanako.sato", "taro.suzuki"), "is not a role"),
        (("approve", "hanako.sato", "laptop"), "no pending enrolment"),
        (("import", "--csv", "/nonexistent/people.csv"), "people.csv"),
    ],
)
def test_errors_are_one_line_and_change_nothing(
    home: Path, args: tuple[str, ...], needle: str
) -> None:
    before = _snapshot(home)
    assert needle in fails(home, *args)
    assert _snapshot(home) == before


def test_bad_csv_import_reports_every_line_and_imports_nothing(home: Path, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        "id,kind,name_ja,name_kana,name_en,email,department,title,members\n"
        "new.person,person,新規 太郎,,,new.person@example.go.jp,総務課,,\n"
        ",person,名無し,,,x@example.go.jp,総務課,,\n"
        "bad.mail,person,山田 一郎,,,not-an-address,総務課,,\n"
        "desk2,group,窓口,,,desk2@example.go.jp,総務課,,\n",
        encoding="utf-8",
    )
    before = _snapshot(home)
    message = fails(home, "import", "--csv", path)
    assert "3 invalid row(s), nothing imported" in message
    for line in ("line 3:", "line 4:", "line 5:"):
        assert line in message
    assert _snapshot(home) == before


def test_shift_jis_csv_is_refused_in_one_line(home: Path, tmp_path: Path) -> None:
    path = tmp_path / "sjis.csv"
    path.write_bytes(
        "id,kind,name_ja,name_kana,name_en,email,department,title,members\n"
        "new.person,person,新規 太郎,,,new.person@example.go.jp,総務課,,\n".encode("cp932")
    )
    before = _snapshot(home)
    assert "UTF-8" in fails(home, "import", "--csv", path)
    assert _snapshot(home) == before


def test_import_into_a_home_without_an_organisation_writes_nothing(tmp_path: Path) -> None:
    """A failed command leaves no state: no log that a later ``init`` would inherit."""
    path = tmp_path / "not-yet"
    csv_path = tmp_path / "demo.csv"
    ok(path, "generate", "--demo", "-o", csv_path)
    assert "no organisation" in fails(path, "import", "--csv", csv_path)
    assert not path.exists() or _snapshot(path) == {}
    ok(path, "init", "--org", ORG)
    assert ok_json(path, "show")["people"] == 0
