"""Audit records about drops holding My Numbers (issue 19): ``true`` and the counts,
all three fields or none, never anything that could hold a number; logs written before
the fields existed read, verify and export byte for byte as they did."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from secure_send.core.audit import (
    ALL_FIELDS,
    FIELDS,
    SPI_FIELDS,
    AuditChainError,
    AuditLog,
    AuditRecord,
    AuditRecordError,
    audit_log_path,
)
from secure_send.core.envelope.manifest import MAX_MYNUMBER_COUNT
from tests.core.test_audit import DROP, START

# Two records exactly as the log wrote them before the SPI fields existed (main at
# 0df74cf): the compatibility this change must keep, so these bytes are the fixture.
OLD_LOG = (
    b'{"action":"drop_create","actor":"hanako.sato","device":"laptop",'
    b'"drop":"dRoP_0123456789abcdef","ip":"192.0.2.7","outcome":"ok","prev":"","seq":0,'
    b'"size":4096,"time":"2026-11-25T09:00:00Z"}\n'
    b'{"action":"download","actor":"taro.yamada","device":"desktop",'
    b'"drop":"dRoP_0123456789abcdef","ip":"2001:db8::1","outcome":"ok",'
    b'"prev":"er06SJ3CwiC238ogbLCSbQFrwI-Lf0mEjshbiH-cXe8","seq":1,"size":4096,'
    b'"time":"2026-11-25T09:00:00Z"}\n'
)


def _append(log: AuditLog, action: str = "download", **kw: Any) -> AuditRecord:
    fields: dict[str, Any] = {"drop": DROP, "size": 10, "time": START} | kw
    return log.append(action=action, actor="taro.yamada", device="desktop", **fields)


def _good() -> dict[str, Any]:
    """A valid record about a drop with My Numbers, as JSON."""
    return AuditRecord(
        0, "2026-11-25T09:00:00Z", "download", "", "", DROP, 1, "ok", "", "", True, 2, 37
    ).to_json()


def test_a_record_about_a_drop_with_my_numbers_says_so_and_round_trips(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.jsonl")
    plain = _append(log, "drop_create")
    spi = _append(log, specific_personal_info=(2, 37))
    line = json.loads(log.path.read_bytes().splitlines()[1])
    assert set(line) == set(ALL_FIELDS)
    assert (line["contains_specific_personal_info"], line["mynumber_files"]) == (True, 2)
    assert line["mynumber_count"] == 37
    assert set(json.loads(log.path.read_bytes().splitlines()[0])) == set(FIELDS)
    assert list(log.records()) == [plain, spi]
    assert (plain.specific_personal_info, spi.specific_personal_info) == (None, (2, 37))
    assert log.verify(expected_head=log.head()).records == 2


def test_a_log_written_before_the_fields_is_read_and_verified_unchanged(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.jsonl")
    log.path.write_bytes(OLD_LOG)
    report = log.verify()
    assert (report.records, report.head_seq) == (2, 1)
    records = list(log.records())
    # each record serialises to exactly the bytes it was read from: same hashes, chain
    assert b"".join(r.line() + b"\n" for r in records) == OLD_LOG
    assert all(r.specific_personal_info is None for r in records)
    _append(log, specific_personal_info=(1, 1))  # chains onto the old log
    assert log.path.read_bytes().startswith(OLD_LOG)
    assert log.verify().records == 3


BAD: dict[str, dict[str, Any]] = {
    "false": {"contains_specific_personal_info": False},
    "a string": {"contains_specific_personal_info": "true"},
    "1 for true": {"contains_specific_personal_info": 1},
    "count as a string": {"mynumber_count": "37"},
    "files as a bool": {"mynumber_files": True},
    "zero files": {"mynumber_files": 0},
    "more files than numbers": {"mynumber_files": 38},
    "a count of ten digits": {"mynumber_count": 10**9},
    "a hash where a count goes": {"mynumber_count": "q" * 43},
    "about no drop": {"drop": ""},
    "not about a drop": {"action": "enrol"},
}


@pytest.mark.parametrize("case", BAD)
def test_malformed_spi_fields_are_refused(case: str) -> None:
    with pytest.raises(AuditRecordError):
        AuditRecord.from_json(_good() | BAD[case])


@pytest.mark.parametrize("keep", [(0,), (1,), (2,), (0, 1), (0, 2), (1, 2)])
def test_one_or_two_of_the_three_fields_are_refused(keep: tuple[int, ...]) -> None:
    dropped = {SPI_FIELDS[i] for i in range(3) if i not in keep}
    partial = {k: v for k, v in _good().items() if k not in dropped}
    with pytest.raises(AuditRecordError, match="exactly the fields"):
        AuditRecord.from_json(partial)


@pytest.mark.parametrize("spi", [(None, 2, 37), (None, None, 37), (None, 2, None)])
def test_counts_without_the_flag_are_refused_not_dropped(spi: tuple[Any, ...]) -> None:
    """Made in code rather than parsed: counts without ``true`` would vanish from the
    line (only a record with the flag writes the fields), so they are refused."""
    with pytest.raises(AuditRecordError):
        AuditRecord(0, "2026-11-25T09:00:00Z", "download", "", "", DROP, 1, "ok", "", "", *spi)


def test_unknown_fields_are_still_refused_beside_the_spi_fields() -> None:
    with pytest.raises(AuditRecordError, match="exactly the fields"):
        AuditRecord.from_json(_good() | {"mynumber_sha256": "x"})
    assert AuditRecord.from_json(_good()).specific_personal_info == (2, 37)


def test_append_refuses_bad_counts_before_writing(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.jsonl")
    for spi in ((0, 5), (5, 4), (-1, 3)):
        with pytest.raises(AuditRecordError):
            _append(log, specific_personal_info=spi)
    with pytest.raises(AuditRecordError):
        _append(log, "enrol", specific_personal_info=(1, 1))
    assert not log.path.exists()


def test_removing_the_flag_from_a_record_breaks_the_chain(tmp_path: Path) -> None:
    """A server that rewrites history to hide who handled My Numbers is caught."""
    log = AuditLog(tmp_path / "audit.jsonl")
    _append(log, "drop_create", specific_personal_info=(2, 37))
    _append(log, specific_personal_info=(2, 37))
    _append(log, "receipt", specific_personal_info=(2, 37))  # the look-ahead names seq 0
    lines = log.path.read_bytes().splitlines(keepends=True)
    obj = json.loads(lines[0])
    for name in SPI_FIELDS:
        del obj[name]
    lines[0] = AuditRecord.from_json(obj).line() + b"\n"  # a valid record, minus the flag
    log.path.write_bytes(b"".join(lines))
    with pytest.raises(AuditChainError, match="record changed") as info:
        log.verify()
    assert info.value.seq == 0


def test_csv_export_has_the_three_columns_empty_when_absent(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.jsonl")
    _append(log, "drop_create")
    _append(log, specific_personal_info=(2, 37))
    out = io.StringIO()
    assert log.export_csv(out) == 2
    rows = list(csv.DictReader(io.StringIO(out.getvalue(), newline="")))
    assert [[r[n] for n in SPI_FIELDS] for r in rows] == [["", "", ""], ["true", "2", "37"]]
    assert [r["action"] for r in rows] == ["drop_create", "download"]


def test_cli_verifies_and_exports_spi_records(tmp_path: Path) -> None:
    """``secure-send-server audit verify|export`` over a log mixing old and new records."""
    home = tmp_path / "srv"
    log = AuditLog(audit_log_path(home))
    log.path.parent.mkdir(parents=True)
    log.path.write_bytes(OLD_LOG)
    _append(log, specific_personal_info=(2, 37))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "LANG"))}
    cli = [sys.executable, "-m", "secure_send.server.cli", "--home", str(home), "audit"]

    def run(*args: str) -> str:
        proc = subprocess.run([*cli, *args], capture_output=True, check=False, timeout=120, env=env)
        assert proc.returncode == 0, proc.stderr.decode(errors="replace")
        return proc.stdout.decode()

    assert run("verify").startswith("OK: 3 audit records")
    rows = list(csv.DictReader(io.StringIO(run("export", "--format", "csv"), newline="")))
    assert [r["contains_specific_personal_info"] for r in rows] == ["", "", "true"]
    assert [r["mynumber_count"] for r in rows] == ["", "", "37"]
    exported = json.loads(run("export", "--format", "json"))
    assert [r.get("mynumber_files") for r in exported] == [None, None, 2]


def test_the_longest_record_with_the_fields_is_read_back(tmp_path: Path) -> None:
    """Every field at its longest, counts at their largest: still one line the reader takes
    (``MAX_LINE``), appended after it and verified."""
    log = AuditLog(tmp_path / "audit.jsonl")
    top = MAX_MYNUMBER_COUNT
    ip = "fe80:ffff:ffff:ffff:ffff:ffff:ffff:fffe"
    for _ in range(2):
        log.append(
            action="upload_complete",
            actor="a" * 64,
            device="b" * 64,
            drop="D" * 64,
            outcome="z" * 32,
            size=2**53 - 1,
            ip=ip,
            specific_personal_info=(top, top),
        )
    assert log.verify().records == 2
    assert [r.specific_personal_info for r in log.records()] == [(top, top)] * 2
