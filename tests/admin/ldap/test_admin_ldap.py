"""``secure-send-admin import --ldap`` end to end against the real slapd fixture.

The bind password travels only in ``SECURE_SEND_LDAP_PASSWORD``: never on argv,
never in any output, never in the organisation's files.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from secure_send.core.directory.model import Kind
from secure_send.org import ops
from secure_send.org.home import OrgHome
from secure_send.org.ldap_import import PASSWORD_ENV
from tests.admin.ldap.conftest import HONSHO, IMPORTER_DN, IMPORTER_PW, Slapd


def _admin(home: Path, *args: str, password: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != PASSWORD_ENV}
    if password is not None:
        env[PASSWORD_ENV] = password
    return subprocess.run(
        [sys.executable, "-m", "secure_send.admin.cli", "--home", str(home), *args],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=120,
        check=False,
    )


def test_import_from_ldap_through_the_cli(slapd: Slapd, tmp_path: Path) -> None:
    home = tmp_path / "org"
    ops.init(OrgHome(home), "テスト省", roots=1, threshold=1)
    args = ("import", "--ldap", slapd.url, "--base", HONSHO, "--bind", IMPORTER_DN)
    proc = _admin(home, *args, password=IMPORTER_PW)
    assert proc.returncode == 0, proc.stderr
    assert "10 added" in proc.stdout
    assert "ldap:// sends the bind password unencrypted" in proc.stderr
    entries = OrgHome(home).entries()
    assert entries["takahashi.misaki"].name_ja == "髙橋 美咲"
    assert entries["jinji-nenmatsu"].kind is Kind.ROLE
    for path in home.rglob("*"):
        if path.is_file():
            assert IMPORTER_PW.encode() not in path.read_bytes(), path
    assert IMPORTER_PW not in proc.stdout + proc.stderr


def test_wrong_ldap_password_is_one_line_and_imports_nothing(slapd: Slapd, tmp_path: Path) -> None:
    home = tmp_path / "org"
    ops.init(OrgHome(home), "テスト省", roots=1, threshold=1)
    args = ("import", "--ldap", slapd.url, "--base", HONSHO, "--bind", IMPORTER_DN)
    proc = _admin(home, *args, password="Wrong-Secret-0000")
    assert proc.returncode == 1
    errors = [line for line in proc.stderr.splitlines() if line.startswith("secure-send-admin:")]
    assert len(errors) == 1, proc.stderr
    assert "Wrong-Secret-0000" not in proc.stderr
    assert OrgHome(home).entries() == {}
