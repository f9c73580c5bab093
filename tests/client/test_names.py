"""Sender-written names are made safe before anything is saved; durations parse."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from secure_send.cli.client_commands import parse_duration
from secure_send.client.api import key_fingerprint
from secure_send.client.errors import ClientError
from secure_send.client.receive import is_program, safe_part, safe_relative
from secure_send.client.send import collect


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("報告書.pdf", "報告書.pdf"),
        ("..", "_"),
        (".", "_"),
        ("", "_"),
        ("a/b", "a_b"),
        ("a\\b", "a_b"),
        ("CON", "_CON"),
        ("nul.txt", "_nul.txt"),
        ("com1", "_com1"),
        ("bell\x07.txt", "bell_.txt"),
        ("tab\tname", "tab_name"),
        ("trailing. ", "trailing"),
        ('q"<>|?*:', "q_______"),
        ("ｶﾞ", "ｶﾞ"),  # NFC keeps half-width kana as they are
        ("x" * 300, "x" * 200),
        # disguised names (security review): bidi, zero-width, C1, reserved variants
        ("invoice\u202efdp.exe", "invoice_fdp.exe"),
        ("report\u200b.pdf\u2066.exe", "report_.pdf_.exe"),
        ("bom\ufeff.txt", "bom_.txt"),
        ("c1\x85.txt", "c1_.txt"),
        ("rtl\u200f.txt", "rtl_.txt"),
        ("COM¹.txt", "_COM¹.txt"),
        ("lpt³", "_lpt³"),
        ("CON .txt", "_CON .txt"),
        ("conin$", "_conin$"),
    ],
)
def test_safe_part(name: str, safe: str) -> None:
    assert safe_part(name) == safe


@pytest.mark.parametrize(
    ("name", "parts"),
    [
        ("../../etc/passwd", ("_", "_", "etc", "passwd")),
        ("/abs/path.txt", ("abs", "path.txt")),
        ("C:\\Windows\\system32", ("C_", "Windows", "system32")),
        ("報告書/添付/図1.png", ("報告書", "添付", "図1.png")),
    ],
)
def test_safe_relative_never_leaves_the_folder(
    name: str, parts: tuple[str, ...], tmp_path: Path
) -> None:
    rel = safe_relative(name)
    assert rel.parts == parts
    assert (tmp_path / rel).resolve().is_relative_to(tmp_path.resolve())


def test_parse_duration() -> None:
    assert parse_duration("3d") == dt.timedelta(days=3)
    assert parse_duration("12h") == dt.timedelta(hours=12)
    assert parse_duration("30m") == dt.timedelta(minutes=30)
    for bad in ("3", "d", "-1d", "1w", "1.5d"):
        with pytest.raises(ClientError):
            parse_duration(bad)


def test_collect_expands_folders_and_refuses_missing(tmp_path: Path) -> None:
    (tmp_path / "f" / "sub").mkdir(parents=True)
    (tmp_path / "f" / "sub" / "b.txt").write_text("b")
    (tmp_path / "f" / "a.txt").write_text("a")
    (tmp_path / "single.txt").write_text("s")
    names = [f.name for f in collect([tmp_path / "f", tmp_path / "single.txt"])]
    assert names == ["f/a.txt", "f/sub/b.txt", "single.txt"]
    with pytest.raises(ClientError, match="no such file"):
        collect([tmp_path / "missing"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(ClientError, match="no files"):
        collect([tmp_path / "empty"])


def test_key_fingerprint_is_stable_and_short() -> None:
    code = key_fingerprint(b"\x01" * 32)
    assert code == key_fingerprint(b"\x01" * 32) != key_fingerprint(b"\x02" * 32)
    assert len(code.split("-")) == 5


@pytest.mark.parametrize(
    ("name", "program"),
    [
        ("setup.exe", True),
        ("report.pdf.exe", True),
        ("INVOICE.SCR", True),
        ("invoice_fdp.exe", True),
        ("shortcut.lnk", True),
        ("run.ps1", True),
        ("disk.iso", True),
        ("報告書.pdf", False),
        ("年末調整.xlsm", False),
        ("exe", False),
        ("notes.txt", False),
    ],
)
def test_programs_are_recognised(name: str, program: bool) -> None:
    assert is_program(name) is program
