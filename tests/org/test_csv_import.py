"""CSV import: every bad row reported with its line, nothing imported; encodings and quoting."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from pathlib import Path

import pytest

from secure_send.core.directory.bundle import Bundle
from secure_send.core.directory.model import Kind
from secure_send.core.errors import SecureSendError
from secure_send.org import ops
from secure_send.org.home import OrgHome
from secure_send.org.importing import (
    BASE_COLUMNS,
    ImportRow,
    ImportRowsError,
    parse_csv,
    read_csv,
    validate_rows,
)
from tests.directory_kit import OPERATOR, bundle_bytes, new_org, verify

HEADER = list(BASE_COLUMNS)  # without the optional columns (test_csv_mynumber/approver.py)
ID_MESSAGE = "invalid id: use a-z, 0-9, '.', '_', '-' (max 64)"
HEADER_MESSAGE = "header must be: " + ",".join(BASE_COLUMNS) + "[,mynumber_handler[,approver]]"


def _person(user: str, name_ja: str = "佐藤 花子", email: str = "", **more: str) -> list[str]:
    fields = {
        "id": user,
        "kind": "person",
        "name_ja": name_ja,
        "name_kana": "サトウ ハナコ",
        "name_en": "Hanako Sato",
        "email": email or f"{user or 'x'}@example.go.jp",
        "department": "会計課",
        "title": "主任",
        "members": "",
        **more,
    }
    return [fields[c] for c in BASE_COLUMNS]


def _role(role: str, members: str) -> list[str]:
    return _person(role, "会計課 窓口", kind="role", title="", members=members)


def _csv(rows: list[list[str]], *, crlf: bool = False, header: list[str] = HEADER) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n" if crlf else "\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def _problems(err: pytest.ExceptionInfo[ImportRowsError]) -> list[tuple[int, str]]:
    return [(p.line, p.message) for p in err.value.problems]


def _bad_rows() -> list[list[str]]:
    """Lines 2-9: one good person, then one bad row per rule (line 9 is a valid role)."""
    return [
        _person("hanako.sato"),  # 2
        _person(""),  # 3: missing id
        _person("hanako.sato", "佐藤 華子"),  # 4: duplicate id
        _person("taro.suzuki", email="taro.suzuki@"),  # 5: bad email
        _role("jinji", "hanako.sato nobody"),  # 6: unknown member
        _person("group1", kind="group"),  # 7: wrong kind
        _role("somu", "kaikei"),  # 8: a member that is a role
        _role("kaikei", "hanako.sato"),  # 9
    ]


EXPECTED = [
    (3, ID_MESSAGE),
    (4, "duplicate id 'hanako.sato' (first on line 2)"),
    (5, "invalid email address"),
    (6, "unknown member 'nobody'"),
    (7, "kind must be 'person' or 'role', not 'group'"),
    (8, "member 'kaikei' is not a person"),
]


@pytest.fixture
def home(tmp_path: Path) -> OrgHome:
    return new_org(tmp_path / "org", devices=False)


def _write(path: Path, text: str, *, bom: bool = False) -> Path:
    path.write_bytes(("\ufeff" if bom else "").encode() + text.encode("utf-8"))
    return path


def _unchanged(home: OrgHome) -> tuple[bytes, bytes]:
    return home.log_file.read_bytes(), bundle_bytes(home)


# ---------------------------------------------------------------- bad rows


def test_every_bad_row_is_reported_with_its_line(home: OrgHome, tmp_path: Path) -> None:
    before = _unchanged(home)
    rows = read_csv(_write(tmp_path / "bad.csv", _csv(_bad_rows())))
    with pytest.raises(ImportRowsError) as err:
        ops.import_rows(home, rows, OPERATOR)
    assert _problems(err) == EXPECTED
    assert "6 invalid row(s), nothing imported" in str(err.value)
    assert _unchanged(home) == before


def test_wrong_field_counts_are_reported_with_their_lines() -> None:
    rows = [_person("a.b"), _person("c.d")[:-1], _person("e.f"), [*_person("g.h"), "extra"]]
    with pytest.raises(ImportRowsError) as err:
        validate_rows(parse_csv(_csv(rows)), {})
    assert _problems(err) == [(3, "expected 9 fields, found 8"), (5, "expected 9 fields, found 10")]


def test_wrong_field_count_and_bad_values_are_reported_together(
    home: OrgHome, tmp_path: Path
) -> None:
    """One pass over the file names every bad row, whatever is wrong with it."""
    before = _unchanged(home)
    rows = [*_bad_rows(), _person("jiro.takahashi")[:-2]]  # line 10: 7 fields
    with pytest.raises(ImportRowsError) as err:
        ops.import_rows(home, read_csv(_write(tmp_path / "bad.csv", _csv(rows))), OPERATOR)
    assert _problems(err) == [*EXPECTED, (10, "expected 9 fields, found 7")]
    assert _unchanged(home) == before


@pytest.mark.parametrize(
    "header",
    [
        pytest.param(HEADER[:-1], id="missing-column"),
        pytest.param([*HEADER, "phone"], id="extra-column"),
        pytest.param([HEADER[1], HEADER[0], *HEADER[2:]], id="swapped-columns"),
        pytest.param(["ID", *HEADER[1:]], id="upper-case"),
        pytest.param(["氏名", *HEADER[1:]], id="japanese-header"),
    ],
)
def test_wrong_header_is_reported_on_line_1(
    home: OrgHome, tmp_path: Path, header: list[str]
) -> None:
    before = _unchanged(home)
    path = _write(tmp_path / "h.csv", _csv([_person("a.b")], header=header))
    with pytest.raises(ImportRowsError) as err:
        ops.import_rows(home, read_csv(path), OPERATOR)
    assert _problems(err) == [(1, HEADER_MESSAGE)]
    assert _unchanged(home) == before


def test_empty_file_is_a_wrong_header(tmp_path: Path) -> None:
    with pytest.raises(ImportRowsError) as err:
        read_csv(_write(tmp_path / "empty.csv", "", bom=True))
    assert _problems(err) == [(1, HEADER_MESSAGE)]


def test_blank_lines_are_skipped_and_lines_still_count(tmp_path: Path) -> None:
    header, first, second = _csv([_person("a.b"), _person("c.d", email="bad")]).splitlines()
    text = "\n".join([header, first, "", ",,,,,,,,", second]) + "\n"
    rows = read_csv(_write(tmp_path / "blank.csv", text))
    assert [(r.line, r.id) for r in rows] == [(2, "a.b"), (5, "c.d")]
    with pytest.raises(ImportRowsError) as err:
        validate_rows(rows, {})
    assert _problems(err) == [(5, "invalid email address")]


def test_members_can_be_existing_people_but_not_existing_roles(home: OrgHome) -> None:
    desk = ImportRow(
        2,
        "desk",
        "role",
        "窓口",
        email="desk@example.go.jp",
        department="会計課",
        members=("hanako.sato", "kaikei"),
    )
    with pytest.raises(ImportRowsError) as err:
        ops.import_rows(home, [desk], OPERATOR)
    assert _problems(err) == [(2, "member 'kaikei' is not a person")]
    fixed = dataclasses.replace(desk, members=("hanako.sato", "jiro.takahashi"))
    assert ops.import_rows(home, [fixed], OPERATOR) == (1, 0)
    assert home.entries()["desk"].members == ("hanako.sato", "jiro.takahashi")


# ---------------------------------------------------------------- encodings and quoting


def _good_rows() -> list[list[str]]:
    return [
        _person("mika.watanabe", "渡邊 美香", name_kana="ﾜﾀﾅﾍﾞ ﾐｶ", title="課長, 兼 室長"),
        _person("ken.saito", "齋藤 健", department='総務課 "第一係"'),
        _person("yui.hasegawa", "長谷川 ゆい", name_en="Yui Hasegawa, Ph.D."),
        _role("somu.desk", "ken.saito mika.watanabe"),
    ]


@pytest.mark.parametrize("bom", [True, False], ids=["bom", "no-bom"])
@pytest.mark.parametrize("crlf", [True, False], ids=["crlf", "lf"])
def test_utf8_with_or_without_bom_and_any_line_ending(
    tmp_path: Path, bom: bool, crlf: bool
) -> None:
    path = _write(tmp_path / "people.csv", _csv(_good_rows(), crlf=crlf), bom=bom)
    if crlf:
        assert b"\r\n" in path.read_bytes()
    rows = read_csv(path)
    assert [r.line for r in rows] == [2, 3, 4, 5]
    assert rows[0].id == "mika.watanabe"  # the BOM did not stick to the first column
    assert rows[0].title == "課長, 兼 室長"
    assert rows[1].department == '総務課 "第一係"'
    assert rows[2].name_en == "Yui Hasegawa, Ph.D."
    assert (rows[3].kind, rows[3].members) == ("role", ("ken.saito", "mika.watanabe"))
    assert not any("\r" in str(value) for r in rows for value in r.__dict__.values())


def test_japanese_text_is_byte_exact_after_import(home: OrgHome, tmp_path: Path) -> None:
    combining = "か\u3099"  # が as か + combining dakuten: must not be normalised
    rows = [*_good_rows(), _person("nagisa.sato", f"佐藤 なぎさ{combining}", title="𠮷田課 係員")]
    path = _write(tmp_path / "people.csv", _csv(rows, crlf=True), bom=True)
    assert ops.import_rows(home, read_csv(path), OPERATOR) == (5, 0)
    data = bundle_bytes(home)
    entries = verify(home).by_id()
    for text in (
        "渡邊 美香",
        "ﾜﾀﾅﾍﾞ ﾐｶ",
        "齋藤 健",
        f"佐藤 なぎさ{combining}",
        "𠮷田課 係員",
        "課長, 兼 室長",
    ):
        assert text.encode("utf-8") in data
    assert entries["mika.watanabe"].name_ja == "渡邊 美香"
    assert entries["mika.watanabe"].name_kana == "ﾜﾀﾅﾍﾞ ﾐｶ"
    assert entries["nagisa.sato"].name_ja == f"佐藤 なぎさ{combining}"
    assert entries["nagisa.sato"].title == "𠮷田課 係員"
    assert entries["ken.saito"].department == '総務課 "第一係"'
    assert entries["somu.desk"].kind is Kind.ROLE
    raw = [json.loads(t) for t in Bundle.from_bytes(data).entries]
    assert {r["id"]: r["name_ja"] for r in raw}["nagisa.sato"] == f"佐藤 なぎさ{combining}"


def test_shift_jis_file_is_refused_with_an_import_error(tmp_path: Path) -> None:
    """Excel's plain "CSV" in Japan is Shift_JIS (cp932): the import must refuse it as a
    product error (one line from the CLI), not an unexpected UnicodeDecodeError."""
    path = tmp_path / "sjis.csv"
    path.write_bytes(_csv([_person("a.b")]).encode("cp932"))
    with pytest.raises(SecureSendError) as err:
        read_csv(path)
    assert "UTF-8" in str(err.value)


def test_fields_are_trimmed_and_kind_is_case_insensitive(tmp_path: Path) -> None:
    rows = read_csv(
        _write(
            tmp_path / "p.csv",
            _csv([_person(" a.b ", kind=" Person ", email=" a.b@example.go.jp ")]),
        )
    )
    (entry,) = validate_rows(rows, {})
    assert entry.id == "a.b"
    assert entry.kind is Kind.PERSON


def test_import_without_an_organisation_writes_nothing(tmp_path: Path) -> None:
    """``import_rows`` must check the home before appending: a failed import may not
    leave a log behind for a later ``init`` to publish."""
    home = OrgHome(tmp_path / "not-initialised")
    rows = read_csv(_write(tmp_path / "people.csv", _csv(_good_rows())))
    with pytest.raises(SecureSendError):
        ops.import_rows(home, rows, OPERATOR)
    assert not home.log_file.exists()
