"""The directory as the drop server keeps it on disk: one layout, two writers.

``secure-send-admin server-home`` writes the first copy (public material only: the
trust anchor, the signed bundle, the log's events) and the server replaces the
bundle and appends events as the directory signer pushes. Both sides use these
names, so the layout lives here rather than in either of them.
"""

from __future__ import annotations

import json
from pathlib import Path

from secure_send.core.atomic import AtomicOutput
from secure_send.core.directory.bundle import TrustAnchor

DIRECTORY_DIR = "directory"
ANCHOR_FILE = "anchor.json"
BUNDLE_FILE = "directory.bundle"
EVENTS_FILE = "events.ndjson"


def directory_dir(home: Path) -> Path:
    """``HOME/directory``."""
    return home / DIRECTORY_DIR


def write_initial(home: Path, anchor: TrustAnchor, bundle: bytes, events: bytes) -> None:
    """Create ``HOME/directory`` (used by ``secure-send-admin server-home``)."""
    folder = directory_dir(home)
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in (
        (ANCHOR_FILE, json.dumps(anchor.to_json(), ensure_ascii=False, indent=2).encode()),
        (EVENTS_FILE, events),
        (BUNDLE_FILE, bundle),
    ):
        with AtomicOutput(folder / name, overwrite=True) as out:
            out.file.write(data)
            out.commit()
