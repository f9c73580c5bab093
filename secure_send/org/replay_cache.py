"""A cache of the log's replay, so admin commands need not replay every event each time.

At 100,000 entries a full replay takes over ten seconds. The cache keeps the
entries as they were after the first ``size`` events, with the Merkle root of
those event lines; it is used only if the log still starts with exactly those
lines (same root), and then only the newer events are replayed. Anything wrong
with the cache (missing, torn, stale, a different log) means a full replay.

Limits: the cache is trusted for content once its root matches, so whoever can
write the organisation home could plant entries in it; ``secure-send-admin
verify`` therefore always replays the whole log without it.
"""

from __future__ import annotations

import hmac
import json
from pathlib import Path

from secure_send.core.atomic import AtomicOutput
from secure_send.core.directory import merkle
from secure_send.core.directory.log import Event, LogError, apply
from secure_send.core.directory.model import Entry
from secure_send.core.encoding import b64u

CACHE_FORMAT = "secure-send/replay-cache/v1"
SAVE_AFTER = 1000  # new events since the cache before it is rewritten


def log_lines(log_file: Path) -> list[bytes]:
    """The log's event lines (canonical JSON), in order."""
    if not log_file.exists():
        return []
    return [line for line in log_file.read_bytes().split(b"\n") if line.strip()]


def current_entries(log_file: Path, cache_file: Path) -> tuple[dict[str, Entry], list[bytes]]:
    """The directory as the log says it is now, and the log's lines.

    Raises:
        LogError: an event is malformed, out of sequence, or does not apply.
    """
    lines = log_lines(log_file)
    entries, start = _load(cache_file, lines)
    for seq, line in enumerate(lines[start:], start):
        event = Event.from_bytes(line)
        if event.seq != seq:
            raise LogError(f"event {seq} missing (found seq {event.seq})")
        apply(entries, event)
    if len(lines) - start >= SAVE_AFTER:
        _save(cache_file, lines, entries)
    return entries, lines


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
    cache_file.parent.mkdir(parents=True, exist_ok=True)
    with AtomicOutput(cache_file, overwrite=True) as out:
        out.file.write(json.dumps(doc, ensure_ascii=False).encode("utf-8"))
        out.commit()
