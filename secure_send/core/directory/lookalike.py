"""Which characters tell two look-alike names apart, for the picker's highlight.

The search index (:mod:`.search`) says *that* an entry could be confused with another
(髙橋/高橋, 斎藤/斉藤 fold to the same key). At the picker's font size those pairs look
identical, so the app marks *where* they differ: :func:`differing_positions` returns the
indices of the characters of one name that differ from the other once the two are
aligned character by character.

Alignment compares a per-character *skeleton*: the search folding of
:mod:`.textnorm` (NFKC, so full/half width agree; katakana as hiragana; variant kanji
such as 髙/高, 斎/斉/齋/齊, 邊/辺/邉 as their common form; ``々`` as the kanji before it)
plus kana and kanji that merely look alike (ソ/ン, シ/ツ, カ/力, ロ/口, ー/一 …). Two
characters with the same skeleton are aligned, and marked if they are not the very same
character; characters with no counterpart are marked too. Word separators (spaces,
``・``) are skipped, never marked.

Qt-free: the app draws the marks; this module only counts positions.
"""

from __future__ import annotations

from collections.abc import Iterable
from difflib import SequenceMatcher

from secure_send.core.directory import textnorm

__all__ = ["LOOKALIKE_GROUPS", "differing_from_any", "differing_positions", "skeleton"]

# Characters that differ but look alike at a small size: each group folds to its first.
# (Variant kanji of the same name are folded by textnorm.ITAIJI already.)
# Katakana are already hiragana here (ヘ/へ, リ/り agree), so ソ/ン is "そん", カ/力 "か力".
LOOKALIKE_GROUPS = (
    "そん", "しつ", "ー一", "か力", "ろ口", "に二", "え工", "た夕", "と卜", "は八", "ち千",
    "お才",
)  # fmt: skip
_LOOKALIKE = {c: group[0] for group in LOOKALIKE_GROUPS for c in group[1:]}


def _fold(char: str) -> str:
    """One character's search folding ("" for a separator), without romaji folding."""
    if char == "々":
        return char  # resolved by skeleton(): it repeats the kanji before it
    return textnorm.normalize(char)


def skeleton(name: str) -> list[tuple[int, str]]:
    """(index in ``name``, skeleton) of every character that is not a word separator."""
    out: list[tuple[int, str]] = []
    for i, char in enumerate(name):
        key = _fold(char)
        if key == "々":
            key = out[-1][1] if out else key
        key = "".join(_LOOKALIKE.get(c, c) for c in key)
        if key:
            out.append((i, key))
    return out


def differing_positions(name: str, other: str) -> list[int]:
    """Indices of the characters of ``name`` that differ from ``other``.

    ``differing_positions("髙橋 一郎", "高橋 一郎") == [0]``; identical names give ``[]``
    (then only the id and department tell the two apart). Positions are into ``name``
    as given (not its folded form), ascending, each once.
    """
    mine, theirs = skeleton(name), skeleton(other)
    matcher = SequenceMatcher(None, [k for _, k in mine], [k for _, k in theirs], autojunk=False)
    out: set[int] = set()
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            for (i, _), (j, _) in zip(mine[i1:i2], theirs[j1:j2], strict=True):
                if name[i] != other[j]:
                    out.add(i)
        else:  # replaced, or with no counterpart in ``other``
            out.update(i for i, _ in mine[i1:i2])
    return sorted(out)


def differing_from_any(name: str, others: Iterable[str]) -> list[int]:
    """The union of :func:`differing_positions` against each of ``others``."""
    out: set[int] = set()
    for other in others:
        out.update(differing_positions(name, other))
    return sorted(out)
