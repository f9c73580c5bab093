"""The scanners behind client/antivirus.py (issue 20): the real ClamAV daemon through
``clamdscan --fdpass`` (tests/client/clamd_kit.py), Windows Defender's ``MpCmdRun.exe``
through a stand-in with its exit codes and output, the choice by platform and switch,
and what each policy mode makes of their verdicts."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from secure_send.client import antivirus
from secure_send.client.antivirus import (
    ClamdScanner,
    DefenderScanner,
    MalwareFound,
    Verdict,
    check,
    defender_path,
    platform_scanner,
)
from secure_send.client.errors import ClientError
from secure_send.client.switches import CLAMD_CONFIG_ENV, DEFENDER_ENV
from secure_send.core.atomic import AtomicOutput
from tests.client.clamd_kit import EICAR, SIGNATURE, Clamd, clamd, defender_stand_in

__all__ = ["clamd"]  # the fixture, used by name


def _hidden(folder: Path, name: str, data: bytes) -> Path:
    """A sealed receive output: a hidden 0600 temporary file, as receive scans it."""
    out = AtomicOutput(folder / name)
    out.file.write(data)
    out.seal()
    assert out.temp_path.stat().st_mode & 0o777 == 0o600
    return out.temp_path


def test_clamd_finds_eicar_in_a_0600_file_and_names_the_signature(
    clamd: Clamd, tmp_path: Path
) -> None:
    scanner = ClamdScanner(config_file=str(clamd.config))
    infected = _hidden(tmp_path, "請求書: 2026.pdf", EICAR)
    assert scanner.scan(infected) == Verdict("infected", f"{SIGNATURE}.UNOFFICIAL")
    assert scanner.scan(_hidden(tmp_path, "clean.txt", b"just a letter\n")) == Verdict.clean()


def test_without_fdpass_clamd_running_as_another_user_could_not_read_it(
    clamd: Clamd, tmp_path: Path
) -> None:
    """Why ``--fdpass``: clamd is not the person, and the file is 0600."""
    import os

    if os.geteuid() != 0:
        pytest.skip("clamd runs as this user here; only under root does it drop to nobody")
    import subprocess

    path = _hidden(tmp_path, "a.txt", EICAR)
    argv = ["clamdscan", "--no-summary", "--stdout", f"--config-file={clamd.config}", str(path)]
    assert subprocess.run(argv, capture_output=True, check=False).returncode == 2


def test_clamd_down_is_a_failed_scan_without_the_files_name(clamd: Clamd, tmp_path: Path) -> None:
    clamd.stop()
    verdict = ClamdScanner(config_file=str(clamd.config)).scan(
        _hidden(tmp_path, "給与明細.xlsx", b"x")
    )
    assert verdict.status == "failed"
    assert "clamdscan failed (2)" in verdict.detail
    assert "給与明細" not in verdict.detail


def test_a_missing_scanner_is_a_failed_scan(tmp_path: Path) -> None:
    verdict = ClamdScanner(executable=str(tmp_path / "clamdscan")).scan(tmp_path)
    assert verdict == Verdict.failed("clamdscan is not installed")


def test_a_scanner_that_hangs_is_a_failed_scan(tmp_path: Path) -> None:
    hang = tmp_path / "MpCmdRun.exe"
    hang.write_text(f"#!{sys.executable}\nimport time\ntime.sleep(30)\n")
    hang.chmod(0o755)
    verdict = DefenderScanner(str(hang), timeout=0.5).scan(tmp_path / "a")
    assert verdict == Verdict.failed("MpCmdRun.exe gave no answer within 0.5 s")


def test_defender_clean_threat_and_error(tmp_path: Path) -> None:
    exe = defender_stand_in(tmp_path / "defender")
    scanner = DefenderScanner(str(exe))
    clean = _hidden(tmp_path, "memo.txt", b"nothing here")
    assert scanner.scan(clean) == Verdict.clean()
    args = exe.with_suffix(".args").read_text().splitlines()
    assert args == ["-Scan", "-ScanType", "3", "-File", str(clean), "-DisableRemediation"]
    assert scanner.scan(_hidden(tmp_path, "x.com", EICAR)) == Verdict(
        "infected", "Virus:DOS/EICAR_Test_File"
    )
    gone = tmp_path / "secret-name.docx"
    verdict = scanner.scan(gone)
    assert verdict.status == "failed"
    assert verdict.detail.startswith("MpCmdRun.exe failed (0x23): CmdTool: Failed with hr")


def test_a_threat_name_is_cut_to_printable_ascii() -> None:
    name = Verdict.infected("Win.Trojan\x1b[31m.日本" + "A" * 200).detail
    assert name.startswith("Win.Trojan_[31m.__")
    assert len(name) == antivirus.MAX_THREAT


def test_the_platform_decides_and_switches_count_only_from_source(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env = {CLAMD_CONFIG_ENV: "/tmp/clamd.conf", DEFENDER_ENV: "", "ProgramFiles": r"D:\Apps"}
    assert platform_scanner(env, "linux") == ClamdScanner(config_file="/tmp/clamd.conf")
    windows = platform_scanner(env, "win32")
    assert windows == DefenderScanner(r"D:\Apps\Windows Defender\MpCmdRun.exe")
    assert defender_path({}) == r"C:\Program Files\Windows Defender\MpCmdRun.exe"
    stand_in = platform_scanner({DEFENDER_ENV: "/opt/MpCmdRun.exe"}, "linux")
    assert stand_in == DefenderScanner("/opt/MpCmdRun.exe")
    monkeypatch.setattr(sys, "frozen", True, raising=False)  # an installed build
    assert platform_scanner(env, "linux") == ClamdScanner()  # the system's clamd.conf
    assert platform_scanner({DEFENDER_ENV: "/opt/MpCmdRun.exe"}, "linux") == ClamdScanner()


class _Fixed:
    """A scanner answering from a list, one verdict per file (the modes' logic only)."""

    name = "clamav"

    def __init__(self, *verdicts: Verdict) -> None:
        self.verdicts = list(verdicts)
        self.scanned: list[Path] = []

    def scan(self, path: Path) -> Verdict:
        self.scanned.append(path)
        return self.verdicts.pop(0)


FAILED = Verdict.failed("clamd is not running")
FILES = [Path("a"), Path("b")]


def test_off_scans_nothing() -> None:
    scanner = _Fixed()
    assert check(FILES, "off", lambda: scanner) is None
    assert scanner.scanned == []


def test_warn_saves_unscanned_files_with_the_reason_and_block_refuses() -> None:
    assert check(FILES, "warn", lambda: _Fixed(Verdict.clean(), Verdict.clean())) is None
    assert check(FILES, "warn", lambda: _Fixed(FAILED, Verdict.clean())) == FAILED.detail
    with pytest.raises(ClientError) as err:
        check(FILES, "block", lambda: _Fixed(Verdict.clean(), FAILED))
    assert err.value.code == "scan_failed"


def test_a_threat_after_a_failed_scan_is_still_a_threat_in_every_mode() -> None:
    for mode in ("warn", "block"):
        scanner = _Fixed(FAILED, Verdict.infected("Eicar"))
        with pytest.raises(MalwareFound) as err:
            check(FILES, mode, lambda s=scanner: s)  # type: ignore[misc]
        assert (err.value.code, err.value.scanner, err.value.threat) == (
            "malware_found",
            "clamav",
            "Eicar",
        )
        assert scanner.scanned == FILES
