"""The import CSV's optional column ``mynumber_handler`` (個人番号取扱, issue 19).

``yes`` designates, empty does not, anything else rejects the whole import with its
line; a CSV without the column leaves every designation as it is. Results are read
back from the signed, published directory (as a client verifies it).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from secure_send.core.directory.log import Action
from secure_send.org import ops
from secure_send.org.home import OrgHome
from secure_send.org.importing import BASE_COLUMNS, HEADERS, ImportRowsError, parse_csv
from tests.directory_kit import (
    HANAKO,
    JIRO,
    OPERATOR,
    ROLE,
    TARO,
    bundle_bytes,
    new_org,
    org_rows,
    verify,
)

COLUMN = "mynumber_handler"


def _rows(handler: dict[str, str] | None = None) -> list[list[str]]:
    """The kit's organisation as CSV rows (lines 2-5: Hanako, Taro, Jiro, the role),
    with a ``mynumber_handler`` value per id when ``handler`` is given."""
    rows = [
        [r.id, r.kind, r.name_ja, r.name_kana, r.name_en, r.email, r.department, r.title,
         " ".join(r.members)]
        for r in org_rows()
    ]  # fmt: skip
    if handler is not None:
        rows = [[*row, handler.get(row[0], "")] for row in rows]
    return rows


def _csv(rows: list[list[str]], header: tuple[str, ...] | None = None) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if header is None:
        header = next((h for h in HEADERS if rows and len(h) == len(rows[0])), BASE_COLUMNS)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def _import(home: OrgHome, rows: list[list[str]]) -> tuple[int, int]:
    return ops.import_rows(home, parse_csv(_csv(rows)), OPERATOR)


def _designated(home: OrgHome) -> set[str]:
    """Who the signed, published directory says is designated (verified as a client)."""
    return {e.id for e in verify(home).entries if e.mynumber_handler}


def _state(home: OrgHome) -> tuple[bytes, bytes]:
    return home.log_file.read_bytes(), bundle_bytes(home)


@pytest.fixture
def home(tmp_path: Path) -> OrgHome:
    return new_org(tmp_path / "org", devices=False)


def test_yes_designates_people_and_roles_and_empty_does_not(home: OrgHome) -> None:
    assert _designated(home) == set()
    assert _import(home, _rows({TARO: "yes", ROLE: "yes", JIRO: ""})) == (0, 2)
    assert _designated(home) == {TARO, ROLE}
    # the update events carry the attribute, so a replay of the log agrees
    assert {e.id for e in home.entries().values() if e.mynumber_handler} == {TARO, ROLE}


@pytest.mark.parametrize("value", ["YES", " yes ", "Yes"])
def test_yes_ignores_case_and_surrounding_spaces(home: OrgHome, value: str) -> None:
    """As every other field is trimmed and ``kind`` is case-insensitive."""
    _import(home, _rows({HANAKO: value}))
    assert _designated(home) == {HANAKO}


@pytest.mark.parametrize(
    "value", ["no", "true", "1", "y", "はい", "\uff59\uff45\uff53", "yes yes", "x"]
)
def test_any_other_value_rejects_the_whole_import_with_its_line(home: OrgHome, value: str) -> None:
    before = _state(home)
    with pytest.raises(ImportRowsError) as err:
        _import(home, _rows({HANAKO: "yes", JIRO: value}))  # Jiro is on line 4
    [problem] = err.value.problems
    assert problem.line == 4
    assert (
        problem.message
        == f"mynumber_handler must be 'yes' or empty (not designated), not {value!r}"
    )
    assert "line 4: mynumber_handler must be" in str(err.value)
    assert "nothing imported" in str(err.value)
    assert _state(home) == before  # Hanako's valid "yes" was not imported either


def test_bad_values_are_reported_with_every_other_bad_row(home: OrgHome) -> None:
    rows = _rows({TARO: "no", ROLE: "true"})
    rows[2][5] = "not-an-address"  # Jiro, line 4
    with pytest.raises(ImportRowsError) as err:
        _import(home, rows)
    assert [(p.line, p.message.split(" must")[0]) for p in err.value.problems] == [
        (3, COLUMN), (4, "invalid email address"), (5, COLUMN),
    ]  # fmt: skip


def test_a_csv_without_the_column_keeps_designations(home: OrgHome) -> None:
    _import(home, _rows({TARO: "yes", ROLE: "yes"}))
    before = home.log_file.read_bytes()
    assert _import(home, _rows()) == (0, 0)  # nothing to change: no event
    assert home.log_file.read_bytes() == before
    changed = _rows()
    changed[1][7] = "課長"  # Taro's title
    assert _import(home, changed) == (0, 1)
    assert _designated(home) == {TARO, ROLE}
    assert verify(home).by_id()[TARO].title == "課長"


def test_a_csv_with_the_column_sets_it_and_empty_withdraws_it(home: OrgHome) -> None:
    """As ``title`` and ``members``: the file says how the entry is."""
    _import(home, _rows({TARO: "yes", ROLE: "yes"}))
    assert _import(home, _rows({TARO: "yes", ROLE: ""})) == (0, 1)
    assert _designated(home) == {TARO}
    assert _import(home, _rows({TARO: "yes"})) == (0, 0)


def test_new_entries_without_the_column_are_not_designated(tmp_path: Path) -> None:
    home = OrgHome(tmp_path / "org")
    ops.init(home, "テスト省", roots=1, threshold=1)
    assert _import(home, _rows()) == (4, 0)
    assert _designated(home) == set()


def test_a_departed_person_cannot_be_newly_designated(home: OrgHome) -> None:
    _import(home, _rows({TARO: "yes"}))
    for user in (TARO, JIRO):
        ops.change(home, OPERATOR, Action.DEPART, {"user": user})
    before = _state(home)
    with pytest.raises(ImportRowsError) as err:
        _import(home, _rows({TARO: "yes", JIRO: "yes"}))
    assert [(p.line, p.message) for p in err.value.problems] == [
        (4, f"{JIRO} has departed: cannot be designated")
    ]
    assert _state(home) == before
    # an old roster that already designated the departed Taro still imports
    assert _import(home, _rows({TARO: "yes"})) == (0, 0)
    assert _import(home, _rows({TARO: ""})) == (0, 1)  # and withdrawing is allowed
    assert _designated(home) == set()


def test_the_column_is_last_and_its_rows_have_ten_fields(home: OrgHome) -> None:
    swapped = (*BASE_COLUMNS[:-1], COLUMN, "members")
    with pytest.raises(ImportRowsError) as err:
        parse_csv(_csv(_rows({}), header=swapped))
    assert err.value.problems[0].line == 1
    assert "header must be: id,kind,name_ja,name_kana,name_en,email,department,title," \
        "members[,mynumber_handler[,approver]]" in str(err.value)  # fmt: skip
    rows = _rows({})
    rows[1] = rows[1][:-1]
    with pytest.raises(ImportRowsError) as err:
        _import(home, rows)
    assert [(p.line, p.message) for p in err.value.problems] == [(3, "expected 10 fields, found 9")]
