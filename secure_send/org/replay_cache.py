"""A cache of the log's replay, so admin commands need not replay every event each time.

At 100,000 entries a full replay takes over ten seconds. The cache keeps the
entries as they were after the first ``size`` events, with the Merkle root of
those event lines; it is used only if the log still starts with exactly those
lines (same root), and then only the newer events are replayed. Anything wrong
with the cache (missing, torn, stale, a different log) means a full replay.

A process also keeps its last replay of a log in memory (exact bytes, entries,
the lines' Merkle range) and, while the log still starts with exactly those bytes,
replays only what was appended: the directory signer's rounds then cost their new
events, not the whole log.

Limits: the cache is trusted for content once its root matches, so whoever can
write the organisation home could plant entries in it; ``secure-send-admin
verify`` therefore always replays the whole log without it.
"""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass
from pathlib import Path

from secure_send.core.atomic import AtomicOutput, private_dir
from secure_send.core.directory import merkle
from secure_send.core.directory.log import Event, LogError, apply
from secure_send.core.directory.model import Entry
from secure_send.core.encoding import b64u

CACHE_FORMAT = "secure-send/replay-cache/v1"
SAVE_AFTER = 1000  # new events since the cache before it is rewritten
MEMO_HOMES = 4  # logs whose last replay a process keeps in memory


@dataclass(frozen=True)
class LogState:
    """The directory as the log says it is now, the log's lines and their Merkle root.
    ``entries`` is the caller's own dict (changing it changes no cache)."""

    entries: dict[str, Entry]
    lines: list[bytes]
    log_root: bytes


@dataclass(frozen=True)
class _Memo:
    """One process's last replay of one log: its exact bytes (complete lines only),
    lines, entries, the compact Merkle range of the lines, and the size of the file
    cache on disk. Used only while the log still starts with exactly these bytes."""

    raw: bytes
    lines: tuple[bytes, ...]
    entries: dict[str, Entry]
    tree: merkle.CompactRange
    saved: int


# A long-running process (the directory signer) replays the same log every round:
# keeping the last replay in memory makes a round cost its new events, not the log.
_MEMO: dict[tuple[Path, Path], _Memo] = {}


def log_lines(log_file: Path) -> list[bytes]:
    """The log's event lines (canonical JSON), in order."""
    if not log_file.exists():
        return []
    return _split(log_file.read_bytes())


def _split(raw: bytes) -> list[bytes]:
    return [line for line in raw.split(b"\n") if line.strip()]


def current_entries(log_file: Path, cache_file: Path) -> tuple[dict[str, Entry], list[bytes]]:
    """The directory as the log says it is now, and the log's lines.

    Raises:
        LogError: an event is malformed, out of sequence, or does not apply.
    """
    state = current_state(log_file, cache_file)
    return state.entries, state.lines


def current_state(log_file: Path, cache_file: Path) -> LogState:
    """See :class:`LogState`; raises :class:`LogError` as :func:`current_entries`."""
    key = (log_file, cache_file)
    raw = log_file.read_bytes() if log_file.exists() else b""
    memo = _MEMO.get(key)
    if memo is not None and memo.raw and raw.startswith(memo.raw):
        # the bytes already replayed are unchanged: only the appended lines are new
        lines = [*memo.lines, *_split(raw[len(memo.raw) :])]
        entries, start, saved = dict(memo.entries), len(memo.lines), memo.saved
        tree = merkle.CompactRange(memo.tree.size, memo.tree.hashes)
    else:
        lines = _split(raw)
        entries, start = _load(cache_file, lines)
        saved, tree = start, merkle.CompactRange()
    tree.extend(merkle.leaf_hash(line) for line in lines[tree.size :])
    _replay(entries, lines, start)
    if len(lines) - saved >= SAVE_AFTER:
        _save(cache_file, lines, entries)
        saved = len(lines)
    if raw.endswith(b"\n"):  # a torn last line is read again next time
        _remember(key, _Memo(raw, tuple(lines), dict(entries), tree, saved))
    return LogState(entries, lines, tree.root())


def _remember(key: tuple[Path, Path], memo: _Memo) -> None:
    _MEMO.pop(key, None)
    _MEMO[key] = memo
    while len(_MEMO) > MEMO_HOMES:  # a process handling many homes (tests) stays small
        del _MEMO[next(iter(_MEMO))]


def _replay(entries: dict[str, Entry], lines: list[bytes], start: int) -> None:
    for seq, line in enumerate(lines[start:], start):
        event = Event.from_bytes(line)
        if event.seq != seq:
            raise LogError(f"event {seq} missing (found seq {event.seq})")
        apply(entries, event)


def _load(cache_file: Path, lines: list[bytes]) -> tuple[dict[str, Entry], int]:
    try:
        doc = json.loads(cache_file.read_bytes())
        size = doc["size"]
        if doc["format"] != CACHE_FORMAT or not 0 < size <= len(lines):
            return {}, 0
        if not hmac.compare_digest(doc["root"], b64u(merkle.root(lines[:size]))):
            return {}, 0
        entries = (Entry.from_checked_json(json.loads(t)) for t in doc["entries"])
        return {e.id: e for e in entries}, size
    except (OSError, ValueError, KeyError, TypeError):
        return {}, 0


def _save(cache_file: Path, lines: list[bytes], entries: dict[str, Entry]) -> None:
    doc = {
        "format": CACHE_FORMAT,
        "size": len(lines),
        "root": b64u(merkle.root(lines)),
        "entries": [e.canonical_bytes().decode("utf-8") for e in entries.values()],
    }
    private_dir(cache_file.parent)
    with AtomicOutput(cache_file, overwrite=True) as out:
        out.file.write(json.dumps(doc, ensure_ascii=False).encode("utf-8"))
        out.commit()
