"""A fictional ministry for demos and tests, and a scale generator for benchmarks.

Everything here is invented: names are common Japanese names combined at
random (seeded, so every run makes the same organisation), addresses use the
reserved ``example.go.jp`` domain.
"""

from __future__ import annotations

import csv
import dataclasses
import random
from pathlib import Path

from secure_send.core.directory.model import Kind
from secure_send.org import names_ja
from secure_send.org.importing import CSV_COLUMNS, ImportRow

DOMAIN = names_ja.DOMAIN

DEPARTMENTS = [
    "人事課",
    "会計課",
    "総務課",
    "情報システム課",
    "企画課",
    "法令審査室",
    "広報室",
    "監査室",
]
TITLES = ["課長", "課長補佐", "係長", "主任", "主査", "係員", "係員", "係員"]
HEAD_TITLE = "課長"  # the first 課長 of a division is its head: everyone else's approver
ROLES = [
    (
        "nenmatsu",
        "人事課 年末調整受付",
        "ジンジカ ネンマツチョウセイウケツケ",
        "HR Year-End Tax Adjustment",
        "人事課",
    ),
    ("kyuyo", "会計課 給与担当", "カイケイカ キュウヨタントウ", "Accounting Payroll", "会計課"),
    (
        "helpdesk",
        "情報システム課 ヘルプデスク",
        "ジョウホウシステムカ ヘルプデスク",
        "IT Helpdesk",
        "情報システム課",
    ),
]
DESIGNATED_ROLE = "nenmatsu"  # the one 個人番号取扱 entry of the demo ministry

# The demo uses the first surnames and given names of names_ja (the most common ones)
# and, on purpose, some look-alikes: variant kanji (髙橋/高橋, 渡邊/渡辺) and
# same-sounding names (斎藤/斉藤).
_DEMO_SURNAMES = [*names_ja.SURNAMES[:50], ("髙橋", "タカハシ"), ("渡邊", "ワタナベ")]
_DEMO_GIVEN = names_ja.GIVEN_NAMES[:30]


def _person(rng: random.Random, line: int, seen: set[str]) -> ImportRow:
    (sur, sur_kana), (given, given_kana) = rng.choice(_DEMO_SURNAMES), rng.choice(_DEMO_GIVEN)
    sur_en, given_en = names_ja.romaji_name(sur_kana), names_ja.romaji_name(given_kana)
    base = f"{given_en}.{sur_en}".lower()
    uid, n = base, 1
    while uid in seen:  # namesakes get a number, as real mail systems do
        n += 1
        uid = f"{base}{n}"
    seen.add(uid)
    return ImportRow(
        line=line,
        id=uid,
        kind="person",
        name_ja=f"{sur} {given}",
        name_kana=f"{sur_kana} {given_kana}",
        name_en=f"{given_en} {sur_en}",
        email=f"{uid}@{DOMAIN}",
        department=rng.choice(DEPARTMENTS),
        title=rng.choice(TITLES),
    )


def demo_rows(people: int = 200, seed: int = 2025) -> list[ImportRow]:
    """The demo ministry: people in eight divisions and three role mailboxes, of which
    ``nenmatsu`` (人事課 年末調整受付) is designated 個人番号取扱. Every person but a
    division's head has that head as approver (上長承認, :func:`with_approvers`).

    The first two people are fixed (the demo's sender and recipient), and some
    look-alike names (佐藤/斉藤/斎藤, 高橋/髙橋, 渡辺/渡邊) occur on purpose.
    """
    rng = random.Random(seed)  # noqa: S311 - repeatable fake data, not secrets
    rows = [
        ImportRow(
            2,
            "hanako.sato",
            "person",
            "佐藤 花子",
            "サトウ ハナコ",
            "Hanako Sato",
            f"hanako.sato@{DOMAIN}",
            "会計課",
            "主任",
        ),
        ImportRow(
            3,
            "taro.suzuki",
            "person",
            "鈴木 太郎",
            "スズキ タロウ",
            "Taro Suzuki",
            f"taro.suzuki@{DOMAIN}",
            "人事課",
            "係長",
        ),
    ]
    seen = {r.id for r in rows}
    while len(rows) < people:
        rows.append(_person(rng, len(rows) + 2, seen))
    for role_id, name_ja, kana, name_en, dept in ROLES:
        members = [r.id for r in rows if r.department == dept][:3]
        if role_id == "nenmatsu":
            members = ["taro.suzuki", *[m for m in members if m != "taro.suzuki"][:2]]
        rows.append(
            ImportRow(
                len(rows) + 2,
                role_id,
                "role",
                name_ja,
                kana,
                name_en,
                f"{role_id}@{DOMAIN}",
                dept,
                "",
                tuple(members),
                # 人事課 年末調整受付 receives My Number papers (issue 19); no person is
                # designated on their own, so the demo's sender and first recipient
                # (pick_people in secure_send.demo) are not
                mynumber_handler="yes" if role_id == DESIGNATED_ROLE else "",
            )
        )
    return with_approvers(rows)


def with_approvers(rows: list[ImportRow]) -> list[ImportRow]:
    """``rows`` with approvers: each division's first 課長 (in row order) is its head and
    approves for everyone else in it, other 課長 included; the head has none (the demo
    ministry has no 部長 above), nor has a role mailbox. Set after the random draw, so the
    people and their ids stay those of the demo before approvers existed."""
    heads: dict[str, str] = {}
    for r in rows:
        if r.kind == "person" and r.title == HEAD_TITLE:
            heads.setdefault(r.department, r.id)

    def approver(r: ImportRow) -> str:
        head = heads.get(r.department, "") if r.kind == "person" else ""
        return "" if head == r.id else head

    return [dataclasses.replace(r, approver=approver(r)) for r in rows]


def scale_rows(count: int, seed: int = 7) -> list[ImportRow]:
    """``count`` synthetic people (``names_ja.synthetic_entries``), as import rows."""
    # synthetic_entries(n) holds n // 1000 role mailboxes (at least one); ask for enough.
    total = count + count // 999 + 2
    people = [e for e in names_ja.synthetic_entries(total, seed=seed) if e.kind is Kind.PERSON]
    return [
        ImportRow(
            i + 2, e.id, "person", e.name_ja, e.name_kana, e.name_en, e.email, e.department, e.title
        )
        for i, e in enumerate(people[:count])
    ]


def write_csv(path: Path, rows: list[ImportRow]) -> None:
    """Write rows in the import CSV format (UTF-8 with a BOM, as Excel saves it)."""
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(CSV_COLUMNS)
        for r in rows:
            writer.writerow(
                [
                    r.id,
                    r.kind,
                    r.name_ja,
                    r.name_kana,
                    r.name_en,
                    r.email,
                    r.department,
                    r.title,
                    " ".join(r.members),
                    r.mynumber_handler or "",
                    r.approver or "",
                ]
            )
