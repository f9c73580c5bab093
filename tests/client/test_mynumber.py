"""Who may receive My Numbers, and what a send with them is forced to (client/mynumber.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from secure_send.client.mynumber import (
    DEFAULT_MAX_EXPIRY_DAYS,
    MyNumberCheck,
    MyNumberRules,
    designated,
    parse_rules,
)
from secure_send.client.policy import PolicyError, parse_policy
from secure_send.core.directory.model import Entry, Kind, Status
from secure_send.core.dlp.scan import Report
from secure_send.core.envelope.manifest import Classification


def _entry(entry_id: str, kind: Kind = Kind.PERSON, **changes: object) -> Entry:
    base = Entry(entry_id, kind, "名前", "", "", f"{entry_id}@example.go.jp", "人事課")
    return base.with_changes(**changes)


ENTRIES = {
    e.id: e
    for e in (
        _entry("sato"),  # a member of the designated role only
        _entry("suzuki", mynumber_handler=True),
        _entry("tanaka"),
        _entry("nenmatsu", Kind.ROLE, members=("sato",), mynumber_handler=True),
        _entry("madoguchi", Kind.ROLE, members=("tanaka",)),
        _entry(
            "old", Kind.ROLE, members=("tanaka",), mynumber_handler=True, status=Status.DEPARTED
        ),
        _entry("gone", mynumber_handler=True, status=Status.DEPARTED),
    )
}


@pytest.mark.parametrize(
    ("entry_id", "expected"),
    [
        ("suzuki", True),  # designated by name
        ("nenmatsu", True),  # a designated role mailbox
        ("sato", True),  # covered by the designated role she is a member of
        ("tanaka", False),  # a member of a role that is not designated (or no longer active)
        ("madoguchi", False),
        ("old", False),
        ("gone", False),
        ("nobody", False),
    ],
)
def test_who_is_designated(entry_id: str, expected: bool) -> None:
    assert designated(ENTRIES, entry_id) is expected


def _report(likely: int = 0, individual: int = 0, unreadable: str | None = None) -> Report:
    return Report("a.csv", individual=max(individual, likely), likely=likely, unreadable=unreadable)


def test_a_send_with_my_numbers_is_forced_to_c3_and_the_shorter_expiry() -> None:
    week = dt.timedelta(days=7)
    rules = MyNumberRules(max_expiry_days=2)
    holding = MyNumberCheck((_report(likely=3),), (), rules)
    assert holding.forced(week, Classification.C1) == (dt.timedelta(days=2), Classification.C3)
    hour = dt.timedelta(hours=1)  # a shorter choice stays
    assert holding.forced(hour, Classification.C2) == (hour, Classification.C3)
    clean = MyNumberCheck((_report(individual=2),), ("tanaka",), rules)  # look-alikes only
    assert clean.forced(week, Classification.C1) == (week, Classification.C1)
    assert not clean.blocked
    assert clean.warnings
    assert not clean.contains


def test_strict_counts_look_alikes_and_files_that_cannot_be_checked() -> None:
    reports = (_report(individual=2), _report(unreadable="encrypted"))
    on = MyNumberCheck(reports, ("tanaka",), MyNumberRules())
    strict = MyNumberCheck(reports, ("tanaka",), MyNumberRules(strict=True))
    assert not on.blocked
    assert on.unreadable
    assert on.warnings
    assert strict.blocked
    assert strict.numbers == 3  # two numbers, and one for the file nobody could read
    assert "could not be checked" in str(strict.refusal())


def test_the_refusal_names_files_counts_and_ids_never_a_number() -> None:
    check = MyNumberCheck(
        (Report("年末調整.xlsx", 40, 40, places=["row 2, column 2"]),), ("tanaka",)
    )
    text = str(check.refusal())
    assert "年末調整.xlsx: 40 number(s)" in text
    assert "not designated: tanaka" in text
    assert check.refusal().code == "mynumber_not_designated"


def test_policy_values() -> None:
    assert parse_rules(None, None) == MyNumberRules(False, DEFAULT_MAX_EXPIRY_DAYS)
    assert parse_rules("strict", 1) == MyNumberRules(True, 1)
    assert parse_policy({}, "test").mynumber == MyNumberRules()  # on without a policy
    assert parse_policy({"mynumber": "strict"}, "test").mynumber.strict
    for raw in ({"mynumber": "off"}, {"mynumber": False}, {"mynumber_max_expiry_days": 0}):
        with pytest.raises(PolicyError, match="mynumber"):
            parse_policy(raw, "test")
