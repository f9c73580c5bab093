"""The drop server's audit log: chaining, tamper detection, schema, concurrency, export, CLI."""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import json
import multiprocessing
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from secure_send.core.audit import (
    ALL_FIELDS,
    AuditAction,
    AuditChainError,
    AuditLog,
    AuditRecord,
    AuditRecordError,
    audit_log_path,
)

DROP = "dRoP_0123456789abcdef"
START = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)
CLI = [sys.executable, "-m", "secure_send.server.cli"]
PREFIX = "secure-send-server: error: "


def _fill(log: AuditLog, count: int = 6) -> list[AuditRecord]:
    """``count`` records, 12 hours apart from ``START``."""
    actions = list(AuditAction)
    return [
        log.append(
            action=actions[i % len(actions)],
            actor="taro.yamada" if i % 2 else "",
            device="laptop-1" if i % 2 else "",
            drop=DROP,
            size=1000 * i,
            outcome="ok" if i % 3 else "quota_exceeded",
            ip="192.0.2.7" if i % 2 else "2001:db8::1",
            time=START + dt.timedelta(hours=12 * i),
        )
        for i in range(count)
    ]


@pytest.fixture
def log(tmp_path: Path) -> AuditLog:
    audit = AuditLog(tmp_path / "server" / "audit.jsonl")
    _fill(audit)
    return audit


def _lines(log: AuditLog) -> list[bytes]:
    return log.path.read_bytes().splitlines(keepends=True)


def _rewrite(log: AuditLog, lines: list[bytes]) -> None:
    log.path.write_bytes(b"".join(lines))


# ------------------------------------------------------------------ round trip


def test_append_and_verify_round_trip(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "a" / "audit.jsonl")
    assert log.head() == (-1, "")
    assert log.verify().records == 0
    written = _fill(log)
    assert list(log.records()) == written
    assert [r.seq for r in written] == list(range(6))
    assert written[0].prev == ""
    assert all(b.prev == a.digest() for a, b in itertools.pairwise(written))
    report = log.verify(expected_head=log.head())
    assert (report.records, report.head_seq, report.head_hash) == (6, 5, written[-1].digest())
    assert (report.first_time, report.last_time) == ("2026-11-25T09:00:00Z", "2026-11-27T21:00:00Z")
    assert log.path.stat().st_mode & 0o777 == 0o600
    line = log.path.read_bytes().splitlines()[1]
    assert line == written[1].line()
    assert json.loads(line)["ip"] == "192.0.2.7"


# ------------------------------------------------------------------ tampering


def _change_size(lines: list[bytes]) -> None:
    lines[2] = lines[2].replace(b'"size":2000', b'"size":9000')


def _break_json(lines: list[bytes]) -> None:
    lines[3] = b"[" + lines[3][1:]


def _swap(lines: list[bytes]) -> None:
    lines[2], lines[3] = lines[3], lines[2]


def _edit_prev(lines: list[bytes]) -> None:
    old, new = (json.loads(lines[i])["prev"].encode() for i in (3, 1))
    lines[3] = lines[3].replace(old, new)


def _truncate_last(lines: list[bytes]) -> None:
    lines[-1] = lines[-1][:-10]


def _duplicate(lines: list[bytes]) -> None:
    lines.insert(3, lines[2])


TAMPER: dict[str, tuple[Callable[[list[bytes]], None], int, str]] = {
    "changed byte, still valid JSON": (_change_size, 2, "record changed"),
    "changed byte, invalid JSON": (_break_json, 3, "not a canonical JSON record"),
    "deleted middle record": (lambda lines: lines.__delitem__(2), 2, "a record is missing"),
    "swapped records": (_swap, 2, "found seq 3 where 2 belongs"),
    "edited prev": (_edit_prev, 3, "record changed"),
    "truncated last line": (_truncate_last, 5, "torn final line"),
    "appended garbage line": (lambda lines: lines.append(b"garbage\n"), 6, "not a canonical"),
    "appended torn garbage": (lambda lines: lines.append(b'{"seq":6'), 6, "torn final line"),
    "duplicate seq": (_duplicate, 3, "duplicate or reordered"),
    "whitespace added": (lambda lines: lines.__setitem__(1, b" " + lines[1]), 1, "canonical"),
    "unknown field": (
        lambda lines: lines.__setitem__(0, lines[0].replace(b'"ip"', b'"filename":"x","ip"')),
        0,
        "invalid record",
    ),
}


@pytest.mark.parametrize("case", TAMPER)
def test_tampering_is_detected_at_the_right_seq(log: AuditLog, case: str) -> None:
    tamper, seq, reason = TAMPER[case]
    lines = _lines(log)
    tamper(lines)
    _rewrite(log, lines)
    with pytest.raises(AuditChainError, match=reason) as info:
        log.verify()
    assert info.value.seq == seq
    assert f"seq {seq}:" in str(info.value)


def test_edited_prev_of_the_last_record_names_it(log: AuditLog) -> None:
    lines = _lines(log)
    old, new = (json.loads(lines[i])["prev"].encode() for i in (5, 1))
    lines[5] = lines[5].replace(old, new)
    _rewrite(log, lines)
    with pytest.raises(AuditChainError, match="one of them changed") as info:
        log.verify()
    assert info.value.seq == 5


def test_an_earlier_break_wins_over_a_later_one(log: AuditLog) -> None:
    lines = _lines(log)
    _change_size(lines)  # seq 2, detected at seq 3 awaiting look-ahead …
    lines[4] = b"garbage\n"  # … which then fails to parse
    _rewrite(log, lines)
    with pytest.raises(AuditChainError) as info:
        log.verify()
    assert info.value.seq == 3


def test_tail_changes_need_a_recorded_head(log: AuditLog) -> None:
    head = log.head()
    lines = _lines(log)
    _rewrite(log, [*lines[:-1], lines[-1].replace(b'"size":5000', b'"size":1')])
    log.verify()  # a change to the very last record is invisible to the chain alone …
    with pytest.raises(AuditChainError, match="differs from the recorded head") as info:
        log.verify(expected_head=head)  # … but not to a head recorded elsewhere
    assert info.value.seq == 5
    _rewrite(log, lines[:-2])
    assert log.verify().records == 4  # truncation of the tail, likewise
    with pytest.raises(AuditChainError, match="ends before the recorded head seq 5") as info:
        log.verify(expected_head=head)
    assert info.value.seq == 4


def test_torn_tail_blocks_appends_until_repaired(log: AuditLog) -> None:
    with log.path.open("ab") as f:
        f.write(b'{"action":"downl')  # a crash in the middle of a write
    with pytest.raises(AuditChainError, match="torn final line") as info:
        log.append(action="download")
    assert info.value.seq == 6
    assert log.repair() == b'{"action":"downl'
    assert log.repair() == b""
    assert log.append(action="download").seq == 6
    assert log.verify().records == 7


# ------------------------------------------------------------------ schema


def test_unknown_fields_are_refused(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.jsonl")
    with pytest.raises(TypeError):
        log.append(action="upload_complete", filename="給与明細.xlsx")  # type: ignore[call-arg]
    good = AuditRecord(0, "2026-11-27T09:00:00Z", "download", "", "", "", 0, "ok", "", "")
    with pytest.raises(AuditRecordError, match="exactly the fields"):
        AuditRecord.from_json({**good.to_json(), "message": "hello"})
    with pytest.raises(AuditRecordError, match="exactly the fields"):
        AuditRecord.from_json({k: v for k, v in good.to_json().items() if k != "ip"})
    assert not log.path.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("outcome", "report.pdf"),
        ("outcome", "090-1234-5678"),
        ("outcome", "Denied"),
        ("outcome", "x" * 33),
        ("outcome", ""),
        ("actor", "Taro Yamada"),
        ("actor", "山田"),
        ("device", "../etc"),
        ("drop", "short"),
        ("drop", "has space in it 0123"),
        ("ip", "not-an-ip"),
        ("ip", "::FFFF:192.0.2.1"),  # not the normal form
        ("action", "upload_file"),
        ("size", -1),
        ("size", True),
        ("size", "10"),
    ],
)
def test_values_outside_their_pattern_are_refused(
    tmp_path: Path, field: str, value: object
) -> None:
    log = AuditLog(tmp_path / "audit.jsonl")
    fields: dict[str, object] = {"action": "download", field: value}
    with pytest.raises(AuditRecordError):
        log.append(**fields)  # type: ignore[arg-type]
    assert not log.path.exists()  # validated before any I/O


# ------------------------------------------------------------------ concurrency


def _worker(path: str, device: str, count: int) -> None:
    log = AuditLog(Path(path))
    for i in range(count):
        log.append(action="download", actor="taro.yamada", device=device, size=i)


def test_concurrent_appends_from_processes_keep_the_chain(tmp_path: Path) -> None:
    path = tmp_path / "server" / "audit.jsonl"
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_worker, args=(str(path), f"pc-{n}", 150)) for n in range(2)]
    for p in procs:
        p.start()
    _worker(str(path), "main", 50)
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    log = AuditLog(path)
    assert log.verify().records == 350
    by_device: dict[str, list[int]] = {}
    for r in log.records():
        by_device.setdefault(r.device, []).append(r.size)
    assert by_device == {
        "pc-0": list(range(150)),
        "pc-1": list(range(150)),
        "main": list(range(50)),
    }


# ------------------------------------------------------------------ export


def test_concurrent_appends_from_threads_keep_the_chain(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    threads = [threading.Thread(target=_worker, args=(str(path), f"t-{n}", 50)) for n in range(4)]
    for t in threads:
        t.start()
    for r in AuditLog(path).records():  # reading while others append
        assert r.action == "download"
    for t in threads:
        t.join()
    assert AuditLog(path).verify().records == 200


def test_export_csv_with_since_and_until(log: AuditLog) -> None:
    out = io.StringIO()
    since = dt.datetime(2026, 11, 26, tzinfo=dt.UTC)
    until = dt.datetime(2026, 11, 27, 9, tzinfo=dt.UTC)  # exclusive
    assert log.export_csv(out, since, until) == 2
    rows = list(csv.reader(io.StringIO(out.getvalue(), newline="")))
    assert rows[0] == list(ALL_FIELDS)
    assert [r[1] for r in rows[1:]] == ["2026-11-26T09:00:00Z", "2026-11-26T21:00:00Z"]
    # a record without My Number counts: its SPI columns are empty
    assert rows[1] == [str(v) for v in list(log.records())[2].to_json().values()] + [""] * 3
    empty = io.StringIO()
    assert log.export_csv(empty, until=START) == 0
    assert empty.getvalue() == ",".join(ALL_FIELDS) + "\r\n"


def test_export_json_with_since_and_until(log: AuditLog) -> None:
    out = io.StringIO()
    assert log.export_json(out, since=dt.datetime(2026, 11, 27, tzinfo=dt.UTC)) == 2
    records = json.loads(out.getvalue())
    assert records == [r.to_json() for r in list(log.records())[4:]]
    out = io.StringIO()
    assert log.export_json(out, until=START) == 0
    assert json.loads(out.getvalue()) == []


# ------------------------------------------------------------------ secure-send-server audit


def _cli(home: Path, *args: str | Path) -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "LANG"))}
    env.update(LC_ALL="C.UTF-8", USER="it-admin")
    return subprocess.run(
        [*CLI, "--home", str(home), *(str(a) for a in args)],
        capture_output=True,
        check=False,
        timeout=120,
        env=env,
    )


def _ok(home: Path, *args: str | Path) -> str:
    proc = _cli(home, *args)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    assert proc.stderr == b""
    return proc.stdout.decode("utf-8")


def _fails(home: Path, *args: str | Path) -> str:
    proc = _cli(home, *args)
    message = proc.stderr.decode("utf-8")
    assert (proc.returncode, proc.stdout) == (1, b""), message
    assert message.startswith(PREFIX)
    assert message.count("\n") == 1
    assert message.endswith("\n")
    return message


@pytest.fixture(scope="module")
def org(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("server") / "home"  # the drop server's own folder
    _fill(AuditLog(audit_log_path(path)))
    return path


def test_cli_audit_verify(org: Path) -> None:
    head = "5:" + AuditLog(audit_log_path(org)).head()[1]
    text = _ok(org, "audit", "verify")
    assert text.startswith("OK: 6 audit records, 2026-11-25T09:00:00Z to 2026-11-27T21:00:00Z\n")
    assert head in text
    report = json.loads(_ok(org, "--json", "audit", "verify", "--expect-head", head))
    assert (report["records"], report["head"]) == (6, head)
    assert "seq 5" in _fails(org, "audit", "verify", "--expect-head", "5:" + "A" * 43)
    assert "SEQ:HASH" in _fails(org, "audit", "verify", "--expect-head", "five")


def test_cli_audit_export(org: Path, tmp_path: Path) -> None:
    text = _ok(org, "audit", "export", "--format", "csv", "--since", "2026-11-26")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == list(ALL_FIELDS)
    assert [r[0] for r in rows[1:]] == ["2", "3", "4", "5"]
    args = ("--until", "2026-11-26T09:00:00Z", "-o", tmp_path / "out.json")
    assert _ok(org, "audit", "export", "--format", "json", *args).startswith("Exported 2 records")
    assert [r["seq"] for r in json.loads((tmp_path / "out.json").read_bytes())] == [0, 1]
    assert "already exists" in _fails(org, "audit", "export", "--format", "json", *args)
    assert "--since" in _fails(org, "audit", "export", "--format", "csv", "--since", "27/11/2026")


def test_cli_audit_verify_fails_on_a_tampered_log(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    assert "no audit log" in _fails(home, "audit", "verify")
    log = AuditLog(audit_log_path(home))
    _fill(log)
    lines = _lines(log)
    del lines[3]
    _rewrite(log, lines)
    message = _fails(home, "audit", "verify")
    assert message.startswith(f"{PREFIX}audit log broken at seq 3: "), message
    export = _ok(home, "audit", "export", "--format", "json")  # export reads, verify judges
    assert [r["seq"] for r in json.loads(export)] == [0, 1, 2, 4, 5]
