"""Text folding for directory search: one matching form for kanji, kana and romaji.

The picker must find a colleague however their name is typed, so the directory and the
query are both reduced to the same *search key*, character by character:

* NFKC: half-width katakana (``ｻﾄｳ``, ``ｶﾞ``, ``ｰ``) become full-width, full-width Latin
  letters and digits (U+FF01..U+FF5E) become ASCII, compatibility ideographs that have a
  canonical twin (e.g. U+FA10) become that twin.
* ``casefold()``; Latin accents are stripped (``satō`` and ``satô`` -> ``sato``).
* Katakana -> hiragana (``サトウ`` == ``さとう``); small ヵ/ヶ -> か/け (三ヶ島 == 三ケ島).
* Variant kanji (itaiji) -> their common form (髙 -> 高, 邊/邉 -> 辺, 﨑/嵜 -> 崎, ...), so
  typing 高橋 finds 髙橋; ``々`` repeats the kanji before it (佐々木 == 佐佐木).
* Whitespace (including U+3000), middle dots (``・``, ``･``, U+00B7) and hyphens/dashes
  (``-``, U+2010..U+2015, U+2212 ...) separate words and are dropped from the key. The
  long-vowel mark ``ー`` is kept as a character (half-width ``ｰ`` folds to it via NFKC).
  Apostrophes are dropped (``Shin'ichi`` == ``shinichi``); control characters are removed.
* Romaji long vowels are folded: ``ou``, ``oo``, ``oh`` (not before a vowel) -> ``o`` and
  ``uu`` -> ``u``, so ``sato``, ``satou``, ``satoh`` and ``satō`` give the same key. This
  touches ASCII letters only, is applied to every field and query alike, and is no IME:
  ``si``/``tu``-style (kunrei) spellings are not mapped to Hepburn.

Kana readings are also converted to Hepburn romaji (:func:`kana_to_romaji`), so a reading
of さとう is found by ``sato``. The batch helpers work on many values joined into one string
so that the folding runs at C speed when an index of 100,000 entries is built.
"""

from __future__ import annotations

import operator
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise, repeat

RS = "\x1e"  # separates values in batch strings; never part of a key
US = "\x1f"  # separates words inside a value; never part of a key
_SOKUON = "\x1c"  # internal marker for っ while romanising

# Variant (itaiji) -> common form, for matching and look-alike checks. Only forms that
# are the same name in practice; distinct kanji that merely look alike are not folded.
ITAIJI: dict[str, str] = {
    "髙": "高", "﨑": "崎", "嵜": "崎", "碕": "崎", "邊": "辺", "邉": "辺", "澤": "沢",
    "濱": "浜", "齋": "斎", "齊": "斎", "斉": "斎", "嶋": "島", "嶌": "島", "國": "国",
    "櫻": "桜", "廣": "広", "眞": "真", "惠": "恵", "德": "徳", "瀨": "瀬", "槇": "槙",
    "冨": "富", "栁": "柳", "淺": "浅", "實": "実", "榮": "栄", "龜": "亀", "藏": "蔵",
    "壽": "寿", "兒": "児", "曾": "曽", "會": "会", "萬": "万", "邨": "村", "靜": "静",
    "彌": "弥", "瀧": "滝", "條": "条", "黑": "黒", "增": "増", "驛": "駅", "傳": "伝",
}  # fmt: skip

# whitespace; middle dots; hyphen-minus, U+2010..U+2015 hyphens and dashes, minus signs
_WORD_BREAKS = (
    " \t\n\r\v\f\x85\u3000\u30fb\u00b7\u2027-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe63"
)
_DROPPED = "'\u2018\u2019`"  # apostrophes


def _latin_accents() -> dict[int, str]:
    """Accented Latin letters (after casefold) -> their base letters, via NFKD."""
    table: dict[int, str] = {}
    for cp in [*range(0xC0, 0x250), *range(0x1E00, 0x1F00)]:
        base = "".join(
            c for c in unicodedata.normalize("NFKD", chr(cp)) if not unicodedata.combining(c)
        )
        if base and base != chr(cp) and base.isascii():
            table[cp] = base
    return table


def _build_table() -> dict[int, int | str | None]:
    table: dict[int, int | str | None] = {cp: None for cp in range(0x20)}
    table.update({ord(RS): RS, ord(US): US})
    table.update({ord(c): US for c in _WORD_BREAKS})
    table.update({ord(c): None for c in _DROPPED})
    table.update(_latin_accents())
    table.update({cp: cp - 0x60 for cp in range(0x30A1, 0x30F7)})  # katakana -> hiragana
    table.update({0x30FD: 0x309D, 0x30FE: 0x309E})  # ヽヾ -> ゝゞ
    table.update({ord(k): v for k, v in {"ヵ": "か", "ヶ": "け", "ゕ": "か", "ゖ": "け"}.items()})
    table.update({ord(k): v for k, v in ITAIJI.items()})
    return table


_TABLE = _build_table()
_LONG_O = re.compile(r"o(?:[ou]|h(?![aiueoy]))+")
_LONG_U = re.compile(r"uu+")
_BEFORE = operator.itemgetter(0)
_LOCAL_BREAKS = str.maketrans("._+", "   ")  # word breaks in an email's local part
# A department's units are words: 総務部人事課 -> 総務部 / 人事課.
_UNIT_END = re.compile(r"[省庁局部課室係班所](?=[^\x1e\x1f])")


def _pre(text: str) -> str:
    """Character-level folding; word breaks become US, RS is kept (batch use)."""
    text = unicodedata.normalize("NFKC", text).casefold().translate(_TABLE)
    if "々" in text:  # the iteration mark repeats the character before it
        parts = text.split("々")
        text = parts[0] + "".join(
            (prev[-1:] if prev[-1:] not in (RS, US) else "") + part
            for prev, part in pairwise(parts)
        )
    return text


def fold_romaji(text: str) -> str:
    """Fold romaji long-vowel spellings: ``ou``/``oo``/``oh`` -> ``o``, ``uu`` -> ``u``."""
    return _LONG_U.sub("u", _LONG_O.sub("o", text))


def normalize(text: str) -> str:
    """The character-level folding described in the module docstring, without spaces.

    Guarantees: the result contains no whitespace, middle dots, hyphens or control
    characters; katakana appear as hiragana; equal inputs give equal outputs. Romaji
    long vowels are *not* folded here (see :func:`search_key`).
    """
    return _pre(text.replace(RS, " ").replace(US, " ")).replace(US, "")


def search_key(text: str) -> str:
    """The form in which a query or a field is compared: :func:`normalize` + romaji folding."""
    return fold_romaji(normalize(text))


_MONO_ROWS = {
    "あいうえお": "a i u e o", "かきくけこ": "ka ki ku ke ko", "がぎぐげご": "ga gi gu ge go",
    "さしすせそ": "sa shi su se so", "ざじずぜぞ": "za ji zu ze zo",
    "たちつてと": "ta chi tsu te to", "だぢづでど": "da ji zu de do",
    "なにぬねの": "na ni nu ne no", "はひふへほ": "ha hi fu he ho",
    "ばびぶべぼ": "ba bi bu be bo", "ぱぴぷぺぽ": "pa pi pu pe po",
    "まみむめも": "ma mi mu me mo", "やゆよ": "ya yu yo", "らりるれろ": "ra ri ru re ro",
    "わゐゑを": "wa i e o", "んゔゕゖゎ": "n vu ka ke wa", "ヷヸヹヺ": "va vi ve vo",
    # Small kana are marked and merged with the kana before them below.
    "ゃゅょ": "\x01a \x01u \x01o", "ぁぃぅぇぉ": "\x02a \x02i \x02u \x02e \x02o",
}  # fmt: skip
_MONO: dict[int, str | None] = {
    ord(k): r for ks, rs in _MONO_ROWS.items() for k, r in zip(ks, rs.split(), strict=True)
}
_MONO.update({ord("っ"): _SOKUON, ord("ー"): None, ord("ゝ"): None, ord("ゞ"): None})
# Plain string replacements, in order: きゃ ki+ya -> kya, しゃ -> sha, ふぁ -> fa, ティ -> ti ...
_SMALL_YA = (
    ("shi\x01", "sh"), ("chi\x01", "ch"), ("ji\x01", "j"), ("te\x01", "ty"), ("de\x01", "dy"),
    ("i\x01", "y"), ("\x01", "y"),
)  # fmt: skip
_SMALL_A = (
    ("fu\x02", "f"), ("vu\x02", "v"), ("tsu\x02", "ts"), ("te\x02", "t"), ("de\x02", "d"),
    ("to\x02", "t"), ("do\x02", "d"), ("shi\x02", "sh"), ("chi\x02", "ch"), ("ji\x02", "j"),
    ("u\x02", "w"), ("i\x02", "y"), ("\x02", ""),
)  # fmt: skip
_SOKUON_RE = re.compile(_SOKUON + r"(?:(?=ch)|([bcdfghjkmnpqrstvwxyz]))")


def _romanize(hira: str) -> str:
    """Hepburn romaji of hiragana; other characters (RS, US, kanji) pass through."""
    text = hira.translate(_MONO)
    for marker, pairs in (("\x01", _SMALL_YA), ("\x02", _SMALL_A)):
        if marker in text:
            for old, new in pairs:
                text = text.replace(old, new)
    if _SOKUON in text:  # っ doubles the next consonant (っち -> tchi); else it is dropped
        text = _SOKUON_RE.sub(lambda m: m.group(1) * 2 if m.group(1) else "t", text)
        text = text.replace(_SOKUON, "")
    return text


def kana_to_romaji(text: str) -> str:
    """Simple Hepburn romaji of a kana reading (hiragana, katakana or half-width).

    ``サトウ ハナコ`` -> ``satouhanako``; ``しょうこ`` -> ``shouko``; ``ッ`` doubles the next
    consonant; ``ん`` is always ``n``; ``ー`` is dropped. Long vowels are spelled out as
    the kana are (``ou``); :func:`fold_romaji` makes them match ``o``. Characters that
    are not kana are kept as :func:`normalize` leaves them.
    """
    return _romanize(normalize(text))


# ---- batch helpers: many values at C speed -------------------------------------------


def join(values: Sequence[str]) -> str:
    """``values`` joined by RS, after replacing any RS or US inside them by a space."""
    joined = RS.join(values)
    if joined.count(RS) != max(len(values) - 1, 0) or US in joined:
        joined = RS.join(v.replace(RS, " ").replace(US, " ") for v in values)
    return joined


def pre_batch(values: Sequence[str]) -> str:
    """:func:`normalize` of every value at once, joined by RS, words separated by US."""
    return _pre(join(values))


@dataclass(frozen=True)
class FieldTexts:
    """One field of many entries, folded for search (``values[i]`` is entry ``i``'s).

    Attributes:
        values: Each value's :func:`search_key` (no spaces).
        text: The part searched for substrings, per value, joined by RS.
        words: The values with US before each word but the first, joined by RS; ``""``
            if no value has more than one word.
    """

    values: list[str]
    text: str
    words: str


def _texts(pre: str) -> FieldTexts:
    whole = fold_romaji(pre.replace(US, ""))
    return FieldTexts(whole.split(RS), whole, fold_romaji(pre) if US in pre else "")


def names(values: Sequence[str]) -> FieldTexts:
    """Names, readings, titles: words are separated by spaces, ``・`` or hyphens."""
    return _texts(pre_batch(values))


def keys(pre: str) -> list[str]:
    """The search key of each value of a :func:`pre_batch` string."""
    return fold_romaji(pre.replace(US, "")).split(RS)


def reorder(pre: str, order: Sequence[int]) -> str:
    """A :func:`pre_batch` string with its values taken in ``order`` (of indices)."""
    return RS.join(map(pre.split(RS).__getitem__, order))


def readings(pre: str) -> tuple[FieldTexts, FieldTexts]:
    """Kana readings (a :func:`pre_batch` string) as :func:`names`, and their Hepburn
    romaji (:func:`kana_to_romaji`)."""
    return _texts(pre), _texts(_romanize(pre))


def emails(addresses: Sequence[str]) -> FieldTexts:
    """Whole addresses as keys; substrings and words (split at ``. _ + -``) of the local
    part only, so that typing a domain does not match everyone."""
    whole = fold_romaji(pre_batch(addresses).replace(US, "")).split(RS)
    local = join(list(map(_BEFORE, map(str.partition, addresses, repeat("@")))))
    text = fold_romaji(_pre(local).replace(US, ""))
    words = _pre(local.translate(_LOCAL_BREAKS))
    return FieldTexts(whole, text, fold_romaji(words) if US in words else "")


def departments(values: Sequence[str]) -> FieldTexts:
    """Like :func:`names`; each organisational unit is a word (総務部人事課: 総務部, 人事課)."""
    return _few_distinct(values, _UNIT_END)


def titles(values: Sequence[str]) -> FieldTexts:
    """Like :func:`names`, for a field with few distinct values."""
    return _few_distinct(values, None)


def _few_distinct(values: Sequence[str], breaks: re.Pattern[str] | None) -> FieldTexts:
    distinct = list(dict.fromkeys(values))
    pre = pre_batch(distinct)
    if breaks is not None:
        pre = breaks.sub(lambda m: m.group() + US, pre)
    texts = _texts(pre)
    whole = list(map(dict(zip(distinct, texts.values, strict=True)).__getitem__, values))
    words = ""
    if texts.words:
        of_value = dict(zip(distinct, texts.words.split(RS), strict=True))
        words = RS.join(map(of_value.__getitem__, values))
    return FieldTexts(whole, RS.join(whole), words)
