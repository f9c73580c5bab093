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
from tests.admin.ldap.conftest import HONSHO, IMPORTER_DN, IMPORTER_PW, Slapd, write_ca


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
    proc = _admin(home, *args, "--ca-file", str(slapd.ca), password=IMPORTER_PW)
    assert proc.returncode == 0, proc.stderr
    assert "10 added" in proc.stdout
    assert "WARNING" not in proc.stderr  # StartTLS against the pinned CA: nothing in clear
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
    proc = _admin(home, *args, "--ca-file", str(slapd.ca), password="Wrong-Secret-0000")
    assert proc.returncode == 1
    errors = [line for line in proc.stderr.splitlines() if line.startswith("secure-send-admin:")]
    assert len(errors) == 1, proc.stderr
    assert "Wrong-Secret-0000" not in proc.stderr
    assert OrgHome(home).entries() == {}


def test_an_ldap_server_outside_the_pinned_ca_gets_no_bind(slapd: Slapd, tmp_path: Path) -> None:
    """``--ca-file`` pins the CA: slapd's certificate is refused under another CA, and
    the import stops before the bind (issue 14, item 16)."""
    home = tmp_path / "org"
    ops.init(OrgHome(home), "テスト省", roots=1, threshold=1)
    other_ca, _ = write_ca(tmp_path, "other")
    args = ("import", "--ldap", slapd.url, "--base", HONSHO, "--bind", IMPORTER_DN)
    proc = _admin(home, *args, "--ca-file", str(other_ca), password=IMPORTER_PW)
    assert proc.returncode == 1
    assert "StartTLS" in proc.stderr
    assert "certificate" in proc.stderr.lower()
    assert IMPORTER_PW not in proc.stderr
    assert OrgHome(home).entries() == {}


def test_the_lab_flag_reads_in_clear_and_says_so_loudly(slapd: Slapd, tmp_path: Path) -> None:
    home = tmp_path / "org"
    ops.init(OrgHome(home), "テスト省", roots=1, threshold=1)
    args = ("import", "--ldap", slapd.url, "--base", f"ou=people,{HONSHO}")
    proc = _admin(home, *args, "--insecure-plaintext-bind-for-lab-only", password=None)
    assert proc.returncode == 0, proc.stderr
    assert "8 added" in proc.stdout
    warning = proc.stderr.splitlines()[0]
    assert warning.startswith("WARNING: --insecure-plaintext-bind-for-lab-only")
    assert "in clear" in warning
