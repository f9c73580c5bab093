"""Where two look-alike names differ: the characters the picker marks."""

from __future__ import annotations

import pytest

from secure_send.core.directory.lookalike import (
    differing_from_any,
    differing_positions,
    skeleton,
)


@pytest.mark.parametrize(
    ("name", "other", "positions"),
    [
        ("髙橋 一郎", "高橋 一郎", [0]),  # variant kanji
        ("斎藤 花子", "斉藤 花子", [0]),
        ("齋藤 花子", "齊藤 花子", [0]),
        ("渡邊 洋子", "渡辺 洋子", [1]),
        ("渡邉 洋子", "渡邊 洋子", [1]),
        ("ｻﾄｳ ﾊﾅｺ", "サトウ ハナコ", [0, 1, 2, 4, 5, 6]),  # half width, spaces never marked
        ("ソノ ミカ", "ンノ ミカ", [0]),  # kana that look alike
        ("シノ", "ツノ", [0]),
        ("カトウ", "力トウ", [0]),  # katakana カ and the kanji 力
        ("佐々木 健", "佐佐木 健", [1]),  # the iteration mark
        ("大野 一郎", "小野 一郎", [0]),  # same reading (Ono), another kanji
        ("\uff21\uff22\uff25", "ABE", [0, 1, 2]),  # full-width Latin letters
    ],
)
def test_marks_only_the_characters_that_differ(name: str, other: str, positions: list[int]) -> None:
    assert differing_positions(name, other) == positions


def test_identical_names_and_spacing_mark_nothing() -> None:
    assert differing_positions("高橋 一郎", "高橋 一郎") == []
    assert differing_positions("高橋\u3000一郎", "高橋 一郎") == []  # ideographic space
    assert differing_positions("高橋・一郎", "高橋一郎") == []


def test_extra_characters_are_marked() -> None:
    assert differing_positions("高橋 一郎太", "高橋 一郎") == [5]
    assert differing_positions("高橋 一郎", "高橋 一郎太") == []  # nothing of mine is missing


def test_union_over_several_lookalikes() -> None:
    assert differing_from_any("斎藤 和也", ["斉藤 和也", "齋藤 和哉"]) == [0, 4]
    assert differing_from_any("斎藤 和也", []) == []


def test_skeleton_aligns_variants_and_lookalikes() -> None:
    assert [k for _, k in skeleton("髙橋")] == [k for _, k in skeleton("高橋")]
    assert [k for _, k in skeleton("ソ")] == [k for _, k in skeleton("ン")]
    assert [i for i, _ in skeleton("高橋 一郎")] == [0, 1, 3, 4]
