"""A fictional ministry for demos and tests, and a scale generator for benchmarks.

Everything here is invented: names are common Japanese names combined at
random (seeded, so every run makes the same organisation), addresses use the
reserved ``example.go.jp`` domain.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

from secure_send.admin.importing import CSV_COLUMNS, ImportRow

DOMAIN = "example.go.jp"

# (kanji, katakana reading, romaji)
SURNAMES = [
    ("佐藤", "サトウ", "Sato"),
    ("鈴木", "スズキ", "Suzuki"),
    ("高橋", "タカハシ", "Takahashi"),
    ("田中", "タナカ", "Tanaka"),
    ("伊藤", "イトウ", "Ito"),
    ("渡辺", "ワタナベ", "Watanabe"),
    ("山本", "ヤマモト", "Yamamoto"),
    ("中村", "ナカムラ", "Nakamura"),
    ("小林", "コバヤシ", "Kobayashi"),
    ("加藤", "カトウ", "Kato"),
    ("吉田", "ヨシダ", "Yoshida"),
    ("山田", "ヤマダ", "Yamada"),
    ("佐々木", "ササキ", "Sasaki"),
    ("山口", "ヤマグチ", "Yamaguchi"),
    ("松本", "マツモト", "Matsumoto"),
    ("井上", "イノウエ", "Inoue"),
    ("木村", "キムラ", "Kimura"),
    ("林", "ハヤシ", "Hayashi"),
    ("斎藤", "サイトウ", "Saito"),
    ("清水", "シミズ", "Shimizu"),
    ("山崎", "ヤマザキ", "Yamazaki"),
    ("森", "モリ", "Mori"),
    ("池田", "イケダ", "Ikeda"),
    ("橋本", "ハシモト", "Hashimoto"),
    ("阿部", "アベ", "Abe"),
    ("石川", "イシカワ", "Ishikawa"),
    ("山下", "ヤマシタ", "Yamashita"),
    ("中島", "ナカジマ", "Nakajima"),
    ("石井", "イシイ", "Ishii"),
    ("小川", "オガワ", "Ogawa"),
    ("前田", "マエダ", "Maeda"),
    ("岡田", "オカダ", "Okada"),
    ("長谷川", "ハセガワ", "Hasegawa"),
    ("藤田", "フジタ", "Fujita"),
    ("後藤", "ゴトウ", "Goto"),
    ("近藤", "コンドウ", "Kondo"),
    ("村上", "ムラカミ", "Murakami"),
    ("遠藤", "エンドウ", "Endo"),
    ("青木", "アオキ", "Aoki"),
    ("坂本", "サカモト", "Sakamoto"),
    ("斉藤", "サイトウ", "Saito"),
    ("福田", "フクダ", "Fukuda"),
    ("太田", "オオタ", "Ota"),
    ("西村", "ニシムラ", "Nishimura"),
    ("藤井", "フジイ", "Fujii"),
    ("金子", "カネコ", "Kaneko"),
    ("岡本", "オカモト", "Okamoto"),
    ("藤原", "フジワラ", "Fujiwara"),
    ("中野", "ナカノ", "Nakano"),
    ("三浦", "ミウラ", "Miura"),
    ("髙橋", "タカハシ", "Takahashi"),
    ("渡邊", "ワタナベ", "Watanabe"),
]
GIVEN = [
    ("翔太", "ショウタ", "Shota"),
    ("大輔", "ダイスケ", "Daisuke"),
    ("健太", "ケンタ", "Kenta"),
    ("拓也", "タクヤ", "Takuya"),
    ("直樹", "ナオキ", "Naoki"),
    ("誠", "マコト", "Makoto"),
    ("浩二", "コウジ", "Koji"),
    ("隆", "タカシ", "Takashi"),
    ("修", "オサム", "Osamu"),
    ("亮", "リョウ", "Ryo"),
    ("大樹", "ダイキ", "Daiki"),
    ("和也", "カズヤ", "Kazuya"),
    ("剛", "ツヨシ", "Tsuyoshi"),
    ("学", "マナブ", "Manabu"),
    ("悠斗", "ユウト", "Yuto"),
    ("花子", "ハナコ", "Hanako"),
    ("陽子", "ヨウコ", "Yoko"),
    ("恵子", "ケイコ", "Keiko"),
    ("美咲", "ミサキ", "Misaki"),
    ("由美", "ユミ", "Yumi"),
    ("真由美", "マユミ", "Mayumi"),
    ("久美子", "クミコ", "Kumiko"),
    ("智子", "トモコ", "Tomoko"),
    ("裕子", "ユウコ", "Yuko"),
    ("直美", "ナオミ", "Naomi"),
    ("彩", "アヤ", "Aya"),
    ("愛", "アイ", "Ai"),
    ("さくら", "サクラ", "Sakura"),
    ("結衣", "ユイ", "Yui"),
    ("千尋", "チヒロ", "Chihiro"),
]
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


def _person(rng: random.Random, line: int, seen: set[str]) -> ImportRow:
    sur, given = rng.choice(SURNAMES), rng.choice(GIVEN)
    dept = rng.choice(DEPARTMENTS)
    base = f"{given[2]}.{sur[2]}".lower()
    uid, n = base, 1
    while uid in seen:  # namesakes get a number, as real mail systems do
        n += 1
        uid = f"{base}{n}"
    seen.add(uid)
    return ImportRow(
        line=line,
        id=uid,
        kind="person",
        name_ja=f"{sur[0]} {given[0]}",
        name_kana=f"{sur[1]} {given[1]}",
        name_en=f"{given[2]} {sur[2]}",
        email=f"{uid}@{DOMAIN}",
        department=dept,
        title=rng.choice(TITLES),
    )


def demo_rows(people: int = 200, seed: int = 2025) -> list[ImportRow]:
    """The demo ministry: people in eight divisions and three role mailboxes.

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
            )
        )
    return rows


def scale_rows(count: int, seed: int = 7) -> list[ImportRow]:
    """``count`` synthetic people, for scale tests and benchmarks."""
    rng = random.Random(seed)  # noqa: S311 - repeatable fake data, not secrets
    seen: set[str] = set()
    return [_person(rng, i + 2, seen) for i in range(count)]


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
                ]
            )
