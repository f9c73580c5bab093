"""Directory search for the recipient picker: folding, ranking, filters, look-alikes.

The last tests compare the index with a brute-force reference on a synthetic directory,
so the fast paths (bisect, early-stopping scans, heaps) are checked against the rules.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from secure_send.core.directory import textnorm
from secure_send.core.directory.model import Entry, Kind, Status
from secure_send.core.directory.search import Field, Rank, SearchIndex
from secure_send.core.directory.textnorm import kana_to_romaji, normalize, search_key
from secure_send.org.names_ja import synthetic_entries


def person(
    entry_id: str, name_ja: str, kana: str, en: str = "", *, dept: str = "総務部総務課", **more: str
) -> Entry:
    email = more.get("email", f"{entry_id}@example.go.jp")
    return Entry(entry_id, Kind.PERSON, name_ja, kana, en, email, dept, more.get("title", "主事"))


HANAKO = person(
    "sato-hanako", "佐藤 花子", "サトウ ハナコ", "Sato Hanako",
    dept="総務部人事課", email="hanako.sato@example.go.jp", title="主任",
)  # fmt: skip
ICHIRO = person("suzuki-ichiro", "鈴木 一郎", "すずき いちろう", "Suzuki Ichiro")
NENMATSU = replace(
    person(
        "jinji-nenmatsu", "人事課 年末調整受付", "ジンジカ ネンマツチョウセイウケツケ",
        "Personnel Year-end Adjustment", dept="総務部人事課",
        email="jinji-nenmatsu@example.go.jp", title="",
    ),
    kind=Kind.ROLE,
    members=("sato-hanako",),
)  # fmt: skip


def ids(
    index: SearchIndex, query: str, limit: int = 50, include_departed: bool = False
) -> list[str]:
    return [m.entry.id for m in index.search(query, limit, include_departed)]


@pytest.fixture
def index() -> SearchIndex:
    return SearchIndex([HANAKO, ICHIRO, NENMATSU])


# ---- folding ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("ｻﾄｳ ﾊﾅｺ", "さとうはなこ"),  # half-width katakana, space dropped
        ("サトウ\u3000ハナコ", "さとうはなこ"),  # ideographic space
        ("\uff33\uff21\uff34\uff2f\uff11\uff12\uff13", "sato123"),  # full-width Latin and digits
        ("ジョン・スミス", "じょんすみす"),  # middle dot
        ("ｽﾐｽ･ｼﾞｮﾝ", "すみすじょん"),  # half-width middle dot and voiced mark
        ("ﾒｱﾘｰ", "めありー"),  # half-width long-vowel mark folds to ー, which is kept
        ("Anne-Marie O'Neil", "annemarieoneil"),
        ("髙橋 渡邊 山﨑 齋藤", "高橋渡辺山崎斎藤"),  # variant kanji
        ("佐々木", "佐佐木"),
    ],
)
def test_normalize(text: str, folded: str) -> None:
    assert normalize(text) == folded


@pytest.mark.parametrize(
    ("kana", "romaji"),
    [
        ("サトウ", "satou"),
        ("しょうこ", "shouko"),
        ("イッペイ", "ippei"),
        ("マッチャン", "matchan"),
        ("じゅんいち", "junichi"),
        ("ﾁﾋﾛ", "chihiro"),
        ("フジ ツヨシ", "fujitsuyoshi"),
        ("ファン", "fan"),
    ],
)
def test_kana_to_romaji(kana: str, romaji: str) -> None:
    assert kana_to_romaji(kana) == romaji


def test_romaji_long_vowel_spellings_share_a_key() -> None:
    assert {search_key(s) for s in ("sato", "satou", "satoh", "satō", "SATŌ", "Satô")} == {"sato"}
    assert search_key("ohno") == search_key("oono") == search_key("ōno") == "ono"
    assert search_key("yuuko") == "yuko"
    assert search_key("ohashi") == "ohashi"  # h before a vowel is a consonant


# ---- what each kind of query finds ---------------------------------------------------


@pytest.mark.parametrize(
    "query",
    ["さとう", "サトウ", "ｻﾄｳ", "ｻﾄｳ ﾊﾅｺ", "さとう　はなこ", "はなこ", "ハナコ"],
)
def test_kana_in_any_script_or_width_finds_the_reading(index: SearchIndex, query: str) -> None:
    assert ids(index, query) == ["sato-hanako"]


def test_hiragana_reading_found_by_katakana_query(index: SearchIndex) -> None:
    assert ids(index, "スズキ") == ["suzuki-ichiro"]
    assert index.search("スズキ")[0].field is Field.NAME_KANA


FULL_WIDTH_SATO = "\uff33\uff21\uff34\uff2f"


@pytest.mark.parametrize(
    "query", ["sato", "satou", "satoh", "satō", FULL_WIDTH_SATO, "Sato Hanako"]
)
def test_romaji_and_full_width_latin_find_the_name(index: SearchIndex, query: str) -> None:
    assert ids(index, query) == ["sato-hanako"]


@pytest.mark.parametrize("query", ["satou", "sato", "satoh", "satouha"])
def test_romaji_of_the_reading_without_english_name(query: str) -> None:
    index = SearchIndex([person("p1", "佐藤 花子", "サトウ ハナコ", email="p1@x.go.jp")])
    [match] = index.search(query)
    assert match.field is Field.ROMAJI
    assert match.rank in (Rank.EXACT, Rank.PREFIX)


def test_kanji_prefix_word_prefix_and_substring(index: SearchIndex) -> None:
    assert [(m.rank, m.field) for m in index.search("佐")] == [(Rank.PREFIX, Field.NAME_JA)]
    assert [(m.rank, m.field) for m in index.search("花子")] == [(Rank.PREFIX, Field.NAME_JA)]
    assert [(m.rank, m.entry.id) for m in index.search("藤")] == [(Rank.SUBSTRING, "sato-hanako")]
    assert ids(index, "佐藤花") == ["sato-hanako"]  # across the space


def test_variant_kanji_found_by_common_form() -> None:
    index = SearchIndex([person("t1", "髙橋 誠", "タカハシ マコト"), person("w1", "渡邊 剛", "")])
    assert ids(index, "高橋") == ["t1"]
    assert ids(index, "渡辺") == ["w1"]


def test_department_title_and_email(index: SearchIndex) -> None:
    # 総務部人事課: each unit is a word, so 人事 is a word prefix.
    assert [(m.entry.id, m.rank, m.field) for m in index.search("人事")] == [
        ("sato-hanako", Rank.PREFIX, Field.DEPARTMENT),
        ("jinji-nenmatsu", Rank.PREFIX, Field.NAME_JA),
    ]
    assert index.search("事課")[0].rank is Rank.SUBSTRING
    assert [(m.rank, m.field) for m in index.search("hanako.sato@example.go.jp")] == [
        (Rank.EXACT, Field.EMAIL)
    ]
    assert ids(index, "hanako.sa") == ["sato-hanako"]
    assert [(m.rank, m.field) for m in index.search("ko.sat")] == [(Rank.SUBSTRING, Field.EMAIL)]
    assert ids(index, "主任") == ["sato-hanako"]
    assert ids(index, "example") == []  # the shared domain matches nobody


def test_role_mailboxes_are_found_like_people(index: SearchIndex) -> None:
    assert ids(index, "年末") == ["jinji-nenmatsu"]
    assert ids(index, "nenmatsu") == ["jinji-nenmatsu"]
    assert ids(index, "jinji")[0] == "jinji-nenmatsu"


def test_departed_entries_only_on_request(index: SearchIndex) -> None:
    index.update([replace(HANAKO, status=Status.DEPARTED)])
    assert ids(index, "さとう") == []
    assert ids(index, "さとう", include_departed=True) == ["sato-hanako"]


@pytest.mark.parametrize("query", ["", "   ", "\u3000", "・", "-"])
def test_empty_queries_find_nothing(index: SearchIndex, query: str) -> None:
    assert index.search(query) == []


def test_limit(index: SearchIndex) -> None:
    assert len(index.search("o", limit=50)) == 3
    assert len(index.search("o", limit=2)) == 2
    assert index.search("o", limit=0) == []


# ---- ranking -------------------------------------------------------------------------


def test_exact_before_prefix_before_substring() -> None:
    entries = [
        person("a-sub", "中佐藤", "ナカサトウ"),  # substring
        person("b-prefix", "佐藤 一", "サトウ ハジメ"),  # prefix
        person("c-exact", "佐藤", "ワタシ"),  # exact, reading sorts last
    ]
    ranked = SearchIndex(entries).search("佐藤")
    assert [(m.entry.id, m.rank) for m in ranked] == [
        ("c-exact", Rank.EXACT),
        ("b-prefix", Rank.PREFIX),
        ("a-sub", Rank.SUBSTRING),
    ]


def test_ties_ordered_by_reading_then_id() -> None:
    entries = [
        person("z", "佐藤 B", "サトウ イ"),
        person("y", "佐藤 A", "さとう あ"),
        person("x", "佐藤 C", "サトウ イ"),
    ]
    assert ids(SearchIndex(entries), "佐藤") == ["y", "x", "z"]


def test_a_prefix_match_is_not_lost_behind_many_substring_matches() -> None:
    many = [person(f"s{n:03d}", f"中田{n}", f"アナタ{n:03d}") for n in range(200)]
    late = person("zz", "田中 実", "ンン")  # reading sorts after all the others
    assert ids(SearchIndex([*many, late]), "田", limit=1) == ["zz"]


def test_each_entry_once_with_its_best_rank() -> None:
    entry = person("p", "佐藤 聡子", "サトウ サトコ", "Sato Satoko", email="sato@x.go.jp")
    other = person("q", "里", "サト")
    matches = SearchIndex([entry, other]).search("sato")  # prefix of 4 fields of "p"
    assert [(m.entry.id, m.rank, m.field) for m in matches] == [
        ("q", Rank.EXACT, Field.ROMAJI),
        ("p", Rank.PREFIX, Field.ROMAJI),
    ]


def test_the_reported_field_matches_at_the_reported_rank() -> None:
    # The name starts with the query, but the title *is* the query.
    entry = person("p", "人事課長室 代表", "ジンジカチョウシツ", title="人事課長")
    assert [(m.rank, m.field) for m in SearchIndex([entry]).search("人事課長")] == [
        (Rank.EXACT, Field.TITLE)
    ]


def test_update_replaces_adds_and_removes(index: SearchIndex) -> None:
    index.update(
        [
            replace(HANAKO, name_ja="田中 花子", name_kana="タナカ ハナコ"),
            person("n", "森 陸", "モリ リク"),
        ],
        removed_ids=["suzuki-ichiro"],
    )
    assert ids(index, "たなか") == ["sato-hanako"]
    assert ids(index, "佐藤") == []
    assert ids(index, "もり") == ["n"]
    assert ids(index, "すずき") == []
    assert len(index) == 3


def test_duplicate_ids_last_one_wins() -> None:
    index = SearchIndex([HANAKO, replace(HANAKO, name_ja="山田 花子")])
    assert len(index) == 1
    assert ids(index, "山田") == ["sato-hanako"]
    assert ids(index, "佐藤") == []


# ---- look-alikes ---------------------------------------------------------------------


def flagged(*entries: Entry) -> set[str]:
    return set(SearchIndex(entries).lookalike_ids)


def test_variant_kanji_look_alike_even_with_other_readings() -> None:
    # Readings differ on purpose: only the folded kanji can make these look alike.
    taka = person("a", "髙橋 誠", "タカハシ マコト")
    kou = person("b", "高橋 誠", "コウハシ マコト")
    assert flagged(taka, kou, ICHIRO) == {"a", "b"}
    nabe = person("c", "渡邊 一郎", "ワタナベ イチロウ")
    nabe2 = person("d", "渡辺　一郎", "ワタベ イチロウ")  # ideographic space
    assert flagged(nabe, nabe2, HANAKO) == {"c", "d"}


def test_same_reading_different_kanji_look_alike() -> None:
    sai = person("a", "斉藤 花子", "サイトウ ハナコ")
    sai2 = person("b", "斎藤 花子", "さいとう はなこ")
    sato = person("c", "佐東 花子", "サトウ ハナコ")  # reads like 佐藤 花子
    assert flagged(sai, sai2, sato, HANAKO, ICHIRO) == {"a", "b", "c", "sato-hanako"}


def test_same_sounding_in_romaji_look_alike() -> None:
    # 大野 (おおの) and 小野 (おの) are both "Ono" in romaji.
    assert flagged(person("a", "大野 愛", "オオノ アイ"), person("b", "小野 愛", "オノ アイ")) == {
        "a",
        "b",
    }


def test_same_english_name_look_alike() -> None:
    a = person("a", "ジョン スミス", "", "John Smith")
    b = person("b", "ジョン・スミス二世", "", "JOHN SMITH")
    assert flagged(a, b, HANAKO) == {"a", "b"}


def test_english_name_reads_like_another_reading() -> None:
    a = person("a", "大野 愛", "", "Ono Ai")  # no reading on file
    b = person("b", "小野 愛", "オノ アイ")  # romanised reading: "onoai"
    index = SearchIndex([a, b, HANAKO])
    assert set(index.lookalike_ids) == {"a", "b"}
    assert index.lookalikes("a") == [b]


def test_unrelated_names_are_not_look_alikes() -> None:
    assert flagged(HANAKO, ICHIRO, NENMATSU, person("x", "佐藤 花", "サトウ ハナ")) == set()


def test_matches_carry_the_flag_and_lookalikes_lists_the_others() -> None:
    sai = person("a", "斉藤 花子", "サイトウ ハナコ", dept="財政部財政課")
    sai2 = person("b", "斎藤 花子", "サイトウ ハナコ", dept="税務部納税課")
    index = SearchIndex([sai, sai2, HANAKO])
    assert [(m.entry.id, m.lookalike) for m in index.search("はなこ")] == [
        ("a", True),
        ("b", True),
        ("sato-hanako", False),
    ]
    assert index.lookalikes("a") == [sai2]
    assert index.lookalikes("sato-hanako") == []
    with pytest.raises(KeyError):
        index.lookalikes("nobody")


# ---- the fast paths agree with brute force --------------------------------------------


def _entry_texts(entry: Entry) -> list[textnorm.FieldTexts]:
    """Each field of one entry, folded exactly as the index folds it."""
    kana, romaji = textnorm.readings(textnorm.pre_batch([entry.name_kana]))
    return [
        textnorm.names([entry.name_ja]),
        kana,
        romaji,
        textnorm.names([entry.name_en]),
        textnorm.emails([entry.email]),
        textnorm.departments([entry.department]),
        textnorm.titles([entry.title]),
    ]


def _best_rank(texts: list[textnorm.FieldTexts], q: str) -> Rank | None:
    if any(t.values[0] == q for t in texts):
        return Rank.EXACT
    if any(t.values[0].startswith(q) or textnorm.US + q in t.words for t in texts):
        return Rank.PREFIX
    if any(q in t.text for t in texts):
        return Rank.SUBSTRING
    return None


Folded = dict[str, tuple[Entry, list[textnorm.FieldTexts]]]


def _brute_force(folded: Folded, query: str) -> list[tuple[Rank, str, bool]]:
    """Every match as (rank, id, active), in the promised order."""
    q = search_key(query)
    found = []
    for entry, texts in folded.values() if q else []:
        rank = _best_rank(texts, q)
        if rank is not None:
            found.append((rank, search_key(entry.name_kana), entry.id, entry.active))
    return [(rank, entry_id, active) for rank, _, entry_id, active in sorted(found)]


@pytest.fixture(scope="module")
def directory() -> list[Entry]:
    return synthetic_entries(1500, seed=7)


@pytest.fixture(scope="module")
def folded(directory: list[Entry]) -> Folded:
    return {e.id: (e, _entry_texts(e)) for e in directory}


def _queries(entries: list[Entry]) -> list[str]:
    """As-you-type prefixes and inner pieces of real fields, and a few misses."""
    queries = ["", "xq", "ぬぬ", "課", "人", "代表", "jinji-n", "k.", "@", "ー"]
    for entry in entries[::97]:
        for text in (entry.name_ja, entry.name_kana, entry.name_en, entry.email):
            queries += [text[:n] for n in (1, 2, 3, 5)] + [text[1:3], text[-3:]]
        queries.append(entry.department[2:5])
    return queries


def test_search_agrees_with_brute_force(directory: list[Entry], folded: Folded) -> None:
    index = SearchIndex(directory)
    for query in _queries(directory):
        every = _brute_force(folded, query)
        for limit, departed in ((50, False), (7, True), (1, False)):
            got = [(m.rank, m.entry.id) for m in index.search(query, limit, departed)]
            expected = [(rank, i) for rank, i, active in every if active or departed]
            assert got == expected[:limit], query


def test_match_field_is_a_field_that_matches(directory: list[Entry], folded: Folded) -> None:
    index = SearchIndex(directory)
    order = list(Field)
    for query in _queries(directory):
        q = search_key(query)
        for match in index.search(query):
            texts = folded[match.entry.id][1][order.index(match.field)]
            assert _best_rank([texts], q) is match.rank, (query, match)


def test_lookalike_flags_agree_with_brute_force(directory: list[Entry]) -> None:
    def keys(entry: Entry) -> set[tuple[str, str]]:
        texts = _entry_texts(entry)
        romanised = {texts[2].values[0], texts[3].values[0]} - {""}
        return {("ja", texts[0].values[0])} | {("romaji", k) for k in romanised}

    sample = directory[::3]
    all_keys = [keys(e) for e in sample]
    expected = {
        e.id
        for e, mine in zip(sample, all_keys, strict=True)
        if any(
            mine & theirs for other, theirs in zip(sample, all_keys, strict=True) if other is not e
        )
    }
    assert expected  # the synthetic names repeat, so some must be flagged
    assert set(SearchIndex(sample).lookalike_ids) == expected


def test_lookalikes_agree_with_brute_force(directory: list[Entry]) -> None:
    """The grouped lookup lists exactly the entries sharing a kanji or romanised key."""

    def keys(entry: Entry) -> tuple[str, set[str]]:
        texts = _entry_texts(entry)
        return texts[0].values[0], {texts[2].values[0], texts[3].values[0]} - {""}

    sample = directory[::3]
    index = SearchIndex(sample)
    index.prepare_lookalikes()  # what the app does in its worker; the lookups agree either way
    all_keys = {e.id: keys(e) for e in sample}
    checked = 0
    for entry in sample[:400]:
        kanji, romanised = all_keys[entry.id]
        expected = [
            other.id
            for other in index.entries
            if other.id != entry.id
            and ((kanji and all_keys[other.id][0] == kanji) or romanised & all_keys[other.id][1])
        ]
        assert [e.id for e in index.lookalikes(entry.id)] == expected, entry.id
        checked += bool(expected)
    assert checked  # some of the sample do have look-alikes
