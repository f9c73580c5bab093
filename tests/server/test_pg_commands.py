"""``secure-send-server --config FILE check|audit|repair`` for a server on PostgreSQL:
what IT runs on an installed server (/etc/secure-send/server.toml names the folder)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from secure_send.server import cli
from secure_send.server.config import config_home, load_config
from secure_send.server.metadata import open_postgres
from secure_send.server.pg_audit import PgAuditLog
from tests.engines.shared import postgres

# PostgreSQL/S3 only: run once, in the scale-out pass (make test; conftest.py)
pytestmark = pytest.mark.scale_out


def _config_file(tmp_path: Path, password_file: Path) -> Path:
    pg = postgres()
    url = pg.unique_database()
    home = tmp_path / "state"
    home.mkdir()
    path = tmp_path / "etc" / "server.toml"
    path.parent.mkdir()
    path.write_text(
        f'home = "{home}"\n[database]\nurl = "{url}"\npassword_file = "{password_file}"\n',
        encoding="utf-8",
    )
    return path


def test_check_and_audit_verify_read_the_shared_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_file = _config_file(tmp_path, postgres().password_file)
    config = load_config(config_home(config_file), config_file)
    meta = open_postgres(config)  # a server ran: the schema and three records exist
    log = PgAuditLog(meta)
    for size in range(3):
        log.append(action="download", actor="u1", drop="d" * 22, size=size)
    head = log.head()
    meta.close()
    assert cli.main(["--config", str(config_file), "check", "--json"]) == 0
    found = {f["topic"]: f for f in json.loads(capsys.readouterr().out)["findings"]}
    assert found["schema"]["level"] == "ok"
    assert found["audit"]["text"].startswith("3 records")
    assert cli.main(["--config", str(config_file), "--json", "audit", "verify"]) == 0
    assert json.loads(capsys.readouterr().out)["head"] == f"{head[0]}:{head[1]}"
    # repair and quarantine are PostgreSQL's own tools' job: said, nothing touched
    assert cli.main(["--config", str(config_file), "repair"]) == 1
    assert "pg_dump" in capsys.readouterr().err


def test_a_wrong_password_is_a_clear_problem_without_the_password(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong = tmp_path / "wrong-password"
    wrong.write_text("not-the-password-8c1f", encoding="utf-8")
    config_file = _config_file(tmp_path, wrong)
    assert cli.main(["--config", str(config_file), "check"]) == 1
    out = capsys.readouterr()
    assert "PROBLEM database" in out.out
    assert "password authentication failed" in out.out
    assert "not-the-password-8c1f" not in out.out + out.err


def test_a_config_file_must_name_the_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "server.toml"
    path.write_text("[database]\n", encoding="utf-8")
    assert cli.main(["--config", str(path), "check"]) == 1
    assert 'home = "/path"' in capsys.readouterr().err
