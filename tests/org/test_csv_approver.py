"""The import CSV's optional column ``approver`` (上長, issue 20), after ``mynumber_handler``.

A person's approver is an id of a person or role mailbox in the same import or already
in the directory; an empty cell names none. Bad values reject the whole import with
their line; a CSV without the column keeps every approver. Results are read back from
the signed, published directory (as a client verifies it).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from secure_send.core.directory.log import Action
from secure_send.org import ops
from secure_send.org.home import OrgHome
from secure_send.org.importing import (
    BASE_COLUMNS,
    CSV_COLUMNS,
    MYNUMBER_COLUMNS,
    ImportRowsError,
    parse_csv,
)
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


def _rows(approver: dict[str, str] | None = None, handler: str = "") -> list[list[str]]:
    """The kit's organisation (lines 2-5: Hanako, Taro, Jiro, the role) as CSV rows; with
    ``approver``, both optional columns (every ``mynumber_handler`` cell ``handler``)."""
    rows = [
        [r.id, r.kind, r.name_ja, r.name_kana, r.name_en, r.email, r.department, r.title,
         " ".join(r.members)]
        for r in org_rows()
    ]  # fmt: skip
    if approver is not None:
        rows = [[*row, handler, approver.get(row[0], "")] for row in rows]
    return rows


def _csv(rows: list[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(next(h for h in (BASE_COLUMNS, MYNUMBER_COLUMNS, CSV_COLUMNS)
                         if len(h) == len(rows[0])))  # fmt: skip
    writer.writerows(rows)
    return out.getvalue()


def _import(home: OrgHome, rows: list[list[str]]) -> tuple[int, int]:
    return ops.import_rows(home, parse_csv(_csv(rows)), OPERATOR)


def _approvers(home: OrgHome) -> dict[str, str]:
    """Who approves for whom, as the signed, published directory says (verified)."""
    return {e.id: e.approver for e in verify(home).entries if e.approver is not None}


def _state(home: OrgHome) -> tuple[bytes, bytes]:
    return home.log_file.read_bytes(), bundle_bytes(home)


def _problems(home: OrgHome, rows: list[list[str]]) -> list[tuple[int, str]]:
    """The import's problems; asserts nothing at all was imported."""
    before = _state(home)
    with pytest.raises(ImportRowsError) as err:
        _import(home, rows)
    assert "nothing imported" in str(err.value)
    assert _state(home) == before
    return [(p.line, p.message) for p in err.value.problems]


@pytest.fixture
def home(tmp_path: Path) -> OrgHome:
    return new_org(tmp_path / "org", devices=False)


def test_a_person_or_a_role_mailbox_can_be_named_and_approval_may_go_both_ways(
    home: OrgHome,
) -> None:
    """Approval is one level: Hanako approves Taro's sends and Taro hers (no loop)."""
    assert _approvers(home) == {}
    assert _import(home, _rows({HANAKO: TARO, TARO: HANAKO, JIRO: ROLE})) == (0, 3)
    assert _approvers(home) == {HANAKO: TARO, TARO: HANAKO, JIRO: ROLE}
    # the update events carry it, so a replay of the log agrees
    assert {e.id: e.approver for e in home.entries().values() if e.approver} == _approvers(home)


def test_spaces_around_the_id_are_ignored(home: OrgHome) -> None:
    _import(home, _rows({HANAKO: f"  {TARO} "}))
    assert _approvers(home) == {HANAKO: TARO}


def test_an_approver_new_in_the_same_import_is_known(tmp_path: Path) -> None:
    home = OrgHome(tmp_path / "org")
    ops.init(home, "テスト省", roots=1, threshold=1)
    assert _import(home, _rows({JIRO: HANAKO})) == (4, 0)
    assert _approvers(home) == {JIRO: HANAKO}


def test_a_csv_without_the_column_keeps_approvers(home: OrgHome) -> None:
    _import(home, _rows({HANAKO: TARO, JIRO: ROLE}))
    before = home.log_file.read_bytes()
    assert _import(home, _rows()) == (0, 0)  # nothing to change: no event
    assert home.log_file.read_bytes() == before
    changed = _rows()
    changed[0][7] = "係長"  # Hanako's title
    assert _import(home, changed) == (0, 1)
    assert _approvers(home) == {HANAKO: TARO, JIRO: ROLE}
    # a CSV with mynumber_handler only keeps them too
    assert _import(home, [[*row, ""] for row in changed]) == (0, 0)
    assert _approvers(home) == {HANAKO: TARO, JIRO: ROLE}


def test_a_csv_with_the_column_sets_it_and_an_empty_cell_clears_it(home: OrgHome) -> None:
    _import(home, _rows({HANAKO: TARO, JIRO: ROLE}))
    assert _import(home, _rows({HANAKO: JIRO})) == (0, 2)
    assert _approvers(home) == {HANAKO: JIRO}
    assert "approver" not in home.events()[-1].data["entry"]  # none is left out


@pytest.mark.parametrize(
    ("approver", "line", "message"),
    [
        ({JIRO: "nobody"}, 4, "unknown approver 'nobody'"),
        ({TARO: TARO}, 3, f"{TARO} cannot be their own approver"),
        ({ROLE: HANAKO}, 5, f"a role mailbox has no approver (found '{HANAKO}')"),
        ({HANAKO: "Taro Suzuki"}, 2, "invalid approver id: use a-z, 0-9, '.', '_', '-' (max 64)"),
    ],
)
def test_bad_approvers_reject_the_whole_import_with_their_line(
    home: OrgHome, approver: dict[str, str], line: int, message: str
) -> None:
    # a valid approver on another row: not imported either
    other = {TARO: HANAKO} if HANAKO not in approver and TARO not in approver else {JIRO: TARO}
    assert _problems(home, _rows({**other, **approver})) == [(line, message)]


def test_bad_approvers_are_reported_with_every_other_bad_row(home: OrgHome) -> None:
    rows = _rows({HANAKO: "nobody", ROLE: TARO}, handler="")
    rows[2][5] = "not-an-address"  # Jiro, line 4
    rows[1][9] = "no"  # Taro's mynumber_handler, line 3
    assert [(line, text.split(" ")[0]) for line, text in _problems(home, rows)] == [
        (2, "unknown"), (3, "mynumber_handler"), (4, "invalid"), (5, "a"),
    ]  # fmt: skip


def test_a_departed_entry_cannot_be_newly_named(home: OrgHome) -> None:
    _import(home, _rows({HANAKO: TARO}))
    ops.change(home, OPERATOR, Action.DEPART, {"user": TARO})
    assert _problems(home, _rows({HANAKO: TARO, JIRO: TARO})) == [
        (4, f"approver '{TARO}' has departed: cannot be named")
    ]
    # an old roster that already names the departed Taro still imports, and clearing is allowed
    assert _import(home, _rows({HANAKO: TARO})) == (0, 0)
    assert _import(home, _rows({HANAKO: ""})) == (0, 1)
    assert _approvers(home) == {}


def test_the_column_comes_after_mynumber_handler(home: OrgHome) -> None:
    swapped = ",".join((*BASE_COLUMNS, "approver", "mynumber_handler"))
    alone = ",".join((*BASE_COLUMNS, "approver"))
    for header in (swapped, alone):
        with pytest.raises(ImportRowsError) as err:
            parse_csv(header + "\n")
        assert err.value.problems[0].line == 1
        assert "[,mynumber_handler[,approver]]" in str(err.value)
    rows = _rows({})
    rows[1] = rows[1][:-1]
    assert _problems(home, rows) == [(3, "expected 11 fields, found 10")]
