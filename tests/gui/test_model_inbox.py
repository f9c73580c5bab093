"""Issue 17, item 4: the app's inbox loop reads the inbox the profile keeps.

Real server, real model, Qt offscreen. Opening the app over a kept inbox verifies
nothing again; a drop that arrives is verified once and announced once
(``new_drops_arrived``), however many polls and refreshes see it afterwards; a
recall leaves the inbox at once (the waiting long-poll is told).
Verifications are counted by wrapping ``SignedManifest.verify`` (the real one runs).
"""

from __future__ import annotations

import traceback
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from secure_send.client import listing
from secure_send.core.envelope.manifest import SignedManifest
from secure_send.gui.model import AppModel
from tests.client.conftest import Enrol, Person
from tests.directory_kit import HANAKO, TARO
from tests.gui.conftest import SessionOf, loaded_model


def _send(sender: Person, folder: Path, name: str) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(b"x" * 1000)
    return str(sender.ok("send", str(folder / name), "--to", TARO)["drop_id"])


def test_the_app_opens_on_the_kept_inbox_and_announces_a_new_drop_once(
    qtbot: QtBot,
    enrol: Enrol,
    session_of: SessionOf,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hanako, taro = enrol(HANAKO, "laptop"), enrol(TARO, "desktop")
    earlier = _send(hanako, tmp_path / "out", "a.txt")
    assert [d["drop_id"] for d in taro.ok("inbox")["drops"]] == [earlier]  # kept by the CLI

    verified: list[str] = []
    real = SignedManifest.verify

    def counting(self: SignedManifest, directory: Any) -> Any:
        # the embedded server verifies each manifest it is sent too: count the app's only
        if not any("secure_send/server/" in f.filename for f in traceback.extract_stack()):
            verified.append(self.manifest.drop_id)
        return real(self, directory)

    monkeypatch.setattr(SignedManifest, "verify", counting)
    model: AppModel = loaded_model(qtbot, session_of(taro))
    announced: list[list[listing.InboxItem]] = []
    model.new_drops_arrived.connect(announced.append)
    try:
        with qtbot.waitSignal(model.inbox_changed, timeout=10_000):
            model.start()
        assert [i.drop_id for i in model.inbox] == [earlier]
        assert all(i.verified for i in model.inbox)
        assert verified == []  # opened from the profile's inbox: nothing verified again
        assert announced == []  # what was there before is not "new"

        later = _send(hanako, tmp_path / "out", "b.txt")
        qtbot.waitUntil(lambda: len(model.inbox) == 2, timeout=15_000)
        assert [[i.drop_id for i in items] for items in announced] == [[later]]
        for _ in range(2):
            with qtbot.waitSignal(model.inbox_changed, timeout=10_000):
                model.refresh_inbox()
        assert [i.drop_id for i in model.inbox] == [earlier, later]
        assert len(announced) == 1  # once, not once per poll
        assert [d for d in verified if d in (earlier, later)] == [later]  # the new one, once

        # a recall reaches the running long-poll at once, and the drop leaves the inbox
        hanako.ok("recall", earlier)
        qtbot.waitUntil(lambda: [i.drop_id for i in model.inbox] == [later], timeout=10_000)
        assert len(announced) == 1
    finally:
        model.stop()
