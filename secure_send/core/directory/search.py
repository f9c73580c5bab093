"""Search of the verified directory for the recipient picker, with look-alike warnings.

The picker lets staff choose recipients only from directory entries, so this index must
find a colleague however the name is typed and must say when a result could be confused
with another entry. Fields searched: kanji name, kana reading (any script or width),
the reading in Hepburn romaji, English name, email, department and title, all compared
in the folded form of :mod:`.textnorm`. Words are separated by spaces, middle dots and
hyphens; an email's local part also at ``.``, ``_`` and ``+``; a department after each
unit (総務部人事課: 総務部, 人事課).

What is guaranteed:

* Only entries passed to :class:`SearchIndex` are returned (the caller passes the
  entries of a verified snapshot); departed entries only with ``include_departed=True``.
  Role mailboxes are searched exactly like people.
* Results are ordered by :class:`Rank` (exact, then prefix, then substring), then by the
  folded kana reading, then by id: the same query on the same entries gives the same
  list, and no better-ranked match is left out of the ``limit`` for a worse one.
* ``Match.lookalike`` is true when another indexed entry (active or departed) has the
  same kanji name after folding variant kanji and spaces (髙橋/高橋, 渡邊/渡辺), or the
  same romanised name with long vowels folded: reading or English name (同姓同名;
  same-sounding such as 斉藤/斎藤 or 大野/小野, both "Ono"). The picker must then show
  department and email.

Not guaranteed: finding misspellings, kunrei romaji (``si``, ``tu``), or names typed in
another word order (those may still match as substrings).

Performance: no per-entry Python loop at query time. Exact and field-start matches come
from sorted keys (bisect); word-start and substring matches from ``str.find`` over each
field's texts joined in result order, stopping after ``limit`` new entries. Building is
batch string work at C speed plus a few sorts (see ``benchmarks/bench_search.py``).
"""

from __future__ import annotations

import enum
import heapq
import operator
import threading
from bisect import bisect_left, bisect_right
from collections import Counter, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import chain, compress, count, islice, repeat
from operator import attrgetter
from typing import Any

from secure_send.core.directory import textnorm
from secure_send.core.directory.model import Entry, Status
from secure_send.core.directory.textnorm import RS, US, search_key

__all__ = ["Field", "Match", "Rank", "SearchIndex"]

_TOP = "\U0010ffff"  # sorts after every character that can follow a prefix


class Field(enum.Enum):
    """The entry field a match was found in, in display priority."""

    NAME_JA = "name_ja"
    NAME_KANA = "name_kana"
    ROMAJI = "romaji"  # the kana reading in Hepburn romaji
    NAME_EN = "name_en"
    EMAIL = "email"  # whole address, or its local part
    DEPARTMENT = "department"
    TITLE = "title"


_COLUMNS = ("name_ja", "name_en", "email", "department", "title")


class Rank(enum.IntEnum):
    """How well a field matched the query; lower is better."""

    EXACT = 0  # a whole field equals the query
    PREFIX = 1  # a field, or a word in it, starts with the query
    SUBSTRING = 2  # the query occurs elsewhere in a field


@dataclass(frozen=True)
class Match:
    """One search result.

    Attributes:
        entry: The directory entry.
        rank: The best :class:`Rank` over its fields.
        field: The field that matched at that rank: the first in :class:`Field` order
            whose whole value matched, else the first with a matching word or substring.
        lookalike: Another indexed entry reads or looks the same; show department and
            email beside this one.
    """

    entry: Entry
    rank: Rank
    field: Field
    lookalike: bool


class _Keys:
    """One field's whole keys, sorted, for exact and field-start matches (bisect).

    ``values[i]`` is entry ``i``'s key ("" if none). With few distinct values
    (departments, titles) ``keys`` is distinct and ``groups[k]`` lists the entries with
    ``keys[k]`` in ascending order; otherwise ``keys`` holds every non-empty value and
    ``perm[k]`` is its entry. ``presorted`` values (the readings, in result order) are
    used as they are.
    """

    def __init__(self, fld: Field, values: list[str], presorted: bool = False) -> None:
        self.field, self.values = fld, values
        self.groups: list[Sequence[int]] | None = None
        self.perm: Sequence[int] = range(len(values))
        self.keys = values
        if presorted:
            return
        distinct = set(values)
        distinct.discard("")
        present = len(values) - values.count("") if len(distinct) < len(values) else len(values)
        if len(distinct) * 20 <= present and present * 2 > len(values):
            by_value: dict[str, list[int]] = {v: [] for v in distinct}
            by_value[""] = []
            # Append each entry to its value's list, at C speed (no Python loop).
            deque(map(list.append, map(by_value.__getitem__, values), count()), maxlen=0)
            self.keys = sorted(distinct)
            self.groups = list(map(by_value.__getitem__, self.keys))
        else:  # mostly distinct, or mostly empty
            indices = compress(count(), values) if present < len(values) else range(len(values))
            self.perm = sorted(indices, key=values.__getitem__)
            self.keys = list(map(values.__getitem__, self.perm))

    def chunks(self, lo: int, hi: int) -> list[Sequence[int]]:
        """The entries of ``keys[lo:hi]``."""
        return self.groups[lo:hi] if self.groups is not None else [self.perm[lo:hi]]


class _Haystack:
    """One field's per-entry texts joined by RS in result order, for ``str.find``.

    Entry ``i``'s text is record ``i``; a scan stops after the first ``need`` new
    entries, which are the best-ranked ones.
    """

    def __init__(self, text: str) -> None:
        self.text = text

    def find(self, needle: str, need: int, seen: set[int]) -> list[int]:
        """The first ``need`` entries not in ``seen`` whose record contains ``needle``."""
        if needle[-1] not in self.text:  # a one-character scan is much faster than find
            return []
        text, record, start = self.text, 0, 0
        hits: list[int] = []
        pos = text.find(needle)
        while pos >= 0 and len(hits) < need:
            record += text.count(RS, start, pos)
            if record not in seen:
                hits.append(record)
            start = text.find(RS, pos)
            if start < 0:
                break
            pos = text.find(needle, start)
        return hits


@dataclass
class _State:
    """One immutable build; searches read it while an update builds the next one."""

    entries: list[Entry]
    keys: list[_Keys]
    words: list[_Haystack]  # word texts: US + query finds a word start
    texts: list[_Haystack]  # whole texts: the query anywhere
    departed: frozenset[int]
    flagged: frozenset[int]
    lookalike_keys: list[list[str]]  # romanised reading, kanji name, English name
    position: dict[str, int] | None = None
    # flagged entries by kanji key and by romanised key (reading or English name)
    groups: tuple[dict[str, list[int]], dict[str, list[int]]] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


class SearchIndex:
    """An in-memory search index over directory entries (people and role mailboxes).

    Build it once per verified snapshot; :meth:`search` is then safe to call from any
    thread, also while :meth:`update` replaces the contents (a search sees either the old
    or the new entries, never a mix). Entries with the same id: the last one wins.
    """

    def __init__(self, entries: Iterable[Entry]) -> None:
        self._state = _build(entries)

    def __len__(self) -> int:
        return len(self._state.entries)

    @property
    def entries(self) -> tuple[Entry, ...]:
        """The indexed entries, in the order of equally ranked results."""
        return tuple(self._state.entries)

    def update(self, changed: Iterable[Entry], removed_ids: Iterable[str] = ()) -> None:
        """Add or replace ``changed`` entries (by id) and drop ``removed_ids``.

        Rebuilds the whole index, which takes about as long as building it; searches in
        the meantime see the previous contents.
        """
        by_id = {e.id: e for e in self._state.entries}
        by_id.update((e.id, e) for e in changed)
        for entry_id in removed_ids:
            by_id.pop(entry_id, None)
        self._state = _build(by_id.values())

    def search(self, query: str, limit: int = 50, include_departed: bool = False) -> list[Match]:
        """The best ``limit`` matches for ``query``, best first.

        Args:
            query: What the user typed, folded by :func:`.textnorm.search_key`. Empty or
                whitespace-only queries return no results.
            limit: At most this many results.
            include_departed: Also return departed entries (never choosable as
                recipients; for admin views).

        Returns:
            Matches ordered by rank, then kana reading, then id; each entry once.
        """
        state = self._state
        q = search_key(query)
        if not q or limit <= 0:
            return []
        seen = set() if include_departed else set(state.departed)  # grows with each tier
        exact, prefix = _key_chunks(state, q)
        found = [(Rank.EXACT, i) for i in _smallest(exact, limit, seen)]
        if len(found) < limit:
            need = limit - len(found)
            prefix += [h.find(US + q, need, seen) for h in state.words]
            found += [(Rank.PREFIX, i) for i in _smallest(prefix, need, seen)]
        if len(found) < limit:
            need = limit - len(found)
            inside = [h.find(q, need, seen) for h in state.texts]
            found += [(Rank.SUBSTRING, i) for i in _smallest(inside, need, seen)]
        return [_match(state, rank, i, q) for rank, i in found]

    @property
    def lookalike_ids(self) -> frozenset[str]:
        """Ids of entries that read or look like another indexed entry."""
        state = self._state
        return frozenset(state.entries[i].id for i in state.flagged)

    def prepare_lookalikes(self) -> None:
        """Build what :meth:`lookalikes` looks up (once per index; later calls return at
        once), so that a caller's first question is as fast as the others."""
        _positions(self._state)
        _groups(self._state)

    def lookalikes(self, entry_id: str) -> list[Entry]:
        """The other entries that ``entry_id`` could be confused with (empty if none).

        Raises:
            KeyError: ``entry_id`` is not indexed.
        """
        state = self._state
        i = _positions(state)[entry_id]
        if i not in state.flagged:
            return []
        kanji, romanised = _groups(state)
        romaji, name_ja, english = state.lookalike_keys
        similar: set[int] = set(kanji.get(name_ja[i], ()) if name_ja[i] else ())
        for key in {romaji[i], english[i]} - {""}:
            similar.update(romanised[key])
        similar.discard(i)
        return [state.entries[j] for j in sorted(similar)]


def _build(entries: Iterable[Entry]) -> _State:
    unique = list({e.id: e for e in entries}.values())
    kana = textnorm.pre_batch(_column(unique, "name_kana"))
    ids = _column(unique, "id")
    by_id = range(len(ids)) if _ascending(ids) else sorted(range(len(ids)), key=ids.__getitem__)
    order = sorted(by_id, key=textnorm.keys(kana).__getitem__)  # stable: then by id
    raw = {name: _column(unique, name, order) for name in _COLUMNS}
    rank = [0] * len(order)
    deque(map(rank.__setitem__, order, count()), maxlen=0)
    gone = compress(count(), map(operator.is_, _column(unique, "status"), repeat(_DEPARTED)))
    texts = _field_texts(raw, textnorm.reorder(kana, order))
    english = texts[Field.NAME_EN].values
    # An English name equal to the romanised reading adds nothing: leave it out.
    differs = map(operator.ne, english, texts[Field.ROMAJI].values)
    texts[Field.NAME_EN] = textnorm.names(list(map(operator.mul, raw["name_en"], differs)))
    keys = {f: _Keys(f, t.values, f is Field.NAME_KANA) for f, t in texts.items()}
    return _State(
        entries=list(map(unique.__getitem__, order)),
        keys=list(keys.values()),
        words=[_Haystack(t.words) for t in texts.values() if t.words],
        texts=[_Haystack(t.text) for t in texts.values()],
        departed=frozenset(map(rank.__getitem__, gone)),
        flagged=_flag_lookalikes(keys[Field.ROMAJI], keys[Field.NAME_JA], keys[Field.NAME_EN]),
        lookalike_keys=[texts[Field.ROMAJI].values, texts[Field.NAME_JA].values, english],
    )


_DEPARTED = Status.DEPARTED


def _ascending(values: list[str]) -> bool:  # directories usually come sorted by id
    return all(map(operator.le, values, islice(values, 1, None)))


def _column(entries: list[Entry], name: str, order: list[int] | None = None) -> list[Any]:
    """Attribute ``name`` of each entry, or of ``entries[i] for i in order``.

    Read in the entries' own order (shuffled reads miss the CPU caches); no per-entry
    containers are made, so building does not set off the garbage collector.
    """
    values = list(map(attrgetter(name), entries))
    return values if order is None else list(map(values.__getitem__, order))


def _field_texts(raw: dict[str, list[Any]], kana_pre: str) -> dict[Field, textnorm.FieldTexts]:
    """Every field's texts; ``raw`` maps :data:`_COLUMNS` to values, the reading is given
    as a :func:`.textnorm.pre_batch` string."""
    kana, romaji = textnorm.readings(kana_pre)
    return {
        Field.NAME_JA: textnorm.names(raw["name_ja"]),
        Field.NAME_KANA: kana,
        Field.ROMAJI: romaji,
        Field.NAME_EN: textnorm.names(raw["name_en"]),
        Field.EMAIL: textnorm.emails(raw["email"]),
        Field.DEPARTMENT: textnorm.departments(raw["department"]),
        Field.TITLE: textnorm.titles(raw["title"]),
    }


def _flag_lookalikes(romaji: _Keys, name_ja: _Keys, english: _Keys) -> frozenset[int]:
    """Entries sharing their kanji name, or a romanised name, with another entry.

    An entry's romanised names are its romanised reading and its English name; ``english``
    holds only English names that differ from the reading (the rest are in ``romaji``).
    """
    flagged: set[int] = set()
    for keys in (romaji, name_ja):
        if keys.groups is not None:
            flagged.update(chain.from_iterable(g for g in keys.groups if len(g) > 1))
        else:  # sorted keys: equal neighbours share a key
            same = list(map(operator.eq, keys.keys, keys.keys[1:]))
            flagged.update(compress(keys.perm, same), compress(keys.perm[1:], same))
    if english.keys:
        distinct = set(english.keys)
        shared = {v for v, n in Counter(english.values).items() if n > 1 and v}
        shared.update(compress(romaji.values, map(distinct.__contains__, romaji.values)))
        for values in (english.values, romaji.values):
            flagged.update(compress(count(), map(shared.__contains__, values)))
    return frozenset(flagged)


def _key_chunks(state: _State, q: str) -> tuple[list[Sequence[int]], list[Sequence[int]]]:
    """Entries whose whole key equals ``q``, and those whose key starts with it."""
    exact: list[Sequence[int]] = []
    prefix: list[Sequence[int]] = []
    top = q + _TOP
    for keys in state.keys:
        lo = bisect_left(keys.keys, q)
        hi = bisect_left(keys.keys, top, lo)
        if lo < hi:
            mid = bisect_right(keys.keys, q, lo, hi)
            exact += keys.chunks(lo, mid)
            prefix += keys.chunks(mid, hi)
    return exact, prefix


def _smallest(chunks: Iterable[Iterable[int]], k: int, seen: set[int]) -> list[int]:
    """The ``k`` smallest entry indices in ``chunks`` not in ``seen`` (which grows)."""
    heap = list(chain.from_iterable(chunks))
    heapq.heapify(heap)
    out: list[int] = []
    while heap and len(out) < k:
        i = heapq.heappop(heap)
        if i not in seen:
            seen.add(i)
            out.append(i)
    return out


def _match(state: _State, rank: Rank, i: int, q: str) -> Match:
    return Match(state.entries[i], rank, _field_of(state, rank, i, q), i in state.flagged)


def _field_of(state: _State, rank: Rank, i: int, q: str) -> Field:
    """See :attr:`Match.field`."""
    for keys in state.keys:
        key = keys.values[i]
        if key == q or (rank is Rank.PREFIX and key.startswith(q)):
            return keys.field
    entry = state.entries[i]
    raw = {c: [getattr(entry, c)] for c in _COLUMNS}
    for fld, texts in _field_texts(raw, textnorm.pre_batch([entry.name_kana])).items():
        if (US + q in texts.words) if rank is Rank.PREFIX else (q in texts.text):
            return fld
    raise AssertionError("a match without a matching field")  # pragma: no cover


def _positions(state: _State) -> dict[str, int]:
    """Entry id -> index; built on first use (only :meth:`SearchIndex.lookalikes` needs it)."""
    with state.lock:
        if state.position is None:
            state.position = dict(zip(map(attrgetter("id"), state.entries), count()))
        return state.position


def _groups(state: _State) -> tuple[dict[str, list[int]], dict[str, list[int]]]:
    """Flagged entries grouped by kanji key and by romanised key; built on first use.

    Two entries share a key only if both are flagged, so the groups hold every
    look-alike; :meth:`SearchIndex.lookalikes` is then a few dictionary lookups instead
    of a scan of the whole directory (the picker asks for each result it shows).
    """
    with state.lock:
        if state.groups is None:
            romaji, name_ja, english = state.lookalike_keys
            kanji: dict[str, list[int]] = {}
            romanised: dict[str, list[int]] = {}
            for i in sorted(state.flagged):
                if name_ja[i]:
                    kanji.setdefault(name_ja[i], []).append(i)
                for key in {romaji[i], english[i]} - {""}:
                    romanised.setdefault(key, []).append(i)
            state.groups = (kanji, romanised)
        return state.groups
