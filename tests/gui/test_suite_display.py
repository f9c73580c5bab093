"""The cipher suite in the app (issue 21), real widgets and the real server: the Inbox's
details say a drop's suite (暗号方式) from its signed manifest, and the confirm sheet says
when a send goes in the CRYPTREC suite, or, when a recipient's PC has no P-256 key yet,
why it cannot go (no Send button) — before anything is uploaded."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from secure_send.client.policy import POLICY_FILE_ENV
from secure_send.core.envelope.manifest import CMS_SUITE, SignedManifest
from secure_send.gui.model import AppModel
from secure_send.gui.views.inbox_page import InboxPage
from secure_send.gui.views.send_page import RESULT
from tests.client.conftest import Enrol, Person, blob_files, enrol_without_p256
from tests.directory_kit import HANAKO, TARO
from tests.gui.conftest import SessionOf, loaded_model
from tests.gui.test_mynumber_confirm import _page, _press_send
from tests.server.conftest import Server

WAIT = 20_000
CMS_LABEL = "CRYPTREC (AES-256-GCM, ECDH P-256)"


@pytest.fixture
def cms_policy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """This machine's IT policy: every send in the CRYPTREC suite."""
    path = tmp_path / "policy.json"
    path.write_text(json.dumps({"suite": "cms"}), encoding="utf-8")
    monkeypatch.setenv(POLICY_FILE_ENV, str(path))
    return path


def _data(folder: Path, size: int = 5000) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "決算書.pdf"
    path.write_bytes(os.urandom(size))
    return path


@pytest.fixture
def taro_model(
    qtbot: QtBot, enrol: Enrol, session_of: SessionOf
) -> Iterator[tuple[AppModel, Person]]:
    hanako = enrol(HANAKO, "laptop")
    model = loaded_model(qtbot, session_of(enrol(TARO, "desktop")))
    yield model, hanako
    model.stop()


def _details_suite(qtbot: QtBot, model: AppModel, drop_id: str, tmp_path: Path) -> str:
    page = InboxPage(model, downloads=lambda: tmp_path / "downloads")
    qtbot.addWidget(page)
    model.start()
    qtbot.waitUntil(lambda: page.row_count() == 1, timeout=WAIT)
    assert page.select(drop_id)
    qtbot.waitUntil(lambda: page.details.files.rowCount() > 0, timeout=WAIT)
    return page.details.suite_label.text()


def test_the_inbox_details_say_a_cms_drop_is_cryptrec(
    qtbot: QtBot,
    taro_model: tuple[AppModel, Person],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    cms_policy: Path,
) -> None:
    model, hanako = taro_model  # Taro's app: no policy of its own was read (age)
    drop_id = hanako.ok("send", str(_data(tmp_path / "out")), "--to", TARO)["drop_id"]
    assert _details_suite(qtbot, model, drop_id, tmp_path) == CMS_LABEL


def test_the_suite_reads_in_japanese(
    japanese: None,
    qtbot: QtBot,
    taro_model: tuple[AppModel, Person],
    tmp_path: Path,
    cms_policy: Path,
) -> None:
    model, hanako = taro_model
    drop_id = hanako.ok("send", str(_data(tmp_path / "out")), "--to", TARO)["drop_id"]
    shown = _details_suite(qtbot, model, drop_id, tmp_path)
    assert shown == "CRYPTREC（AES-256-GCM、ECDH P-256）"


def test_the_confirm_sheet_says_cryptrec_and_the_send_goes_in_it(
    cms_policy: Path,  # first: the model's session reads it
    qtbot: QtBot,
    model: AppModel,
    enrol: Enrol,
    org_server: Server,
    tmp_path: Path,
) -> None:
    enrol(TARO, "desktop")
    with qtbot.waitSignal(model.directory_changed, timeout=WAIT):
        model.refresh_directory()
    page = _page(qtbot, model, _data(tmp_path / "out"), TARO)
    seen = _press_send(page, accept=True)
    qtbot.waitUntil(lambda: len(seen) == 1, timeout=WAIT)
    sheet = seen[0]
    assert sheet.suite_label.text() == CMS_LABEL
    assert sheet.suite_refusal is None
    assert not sheet.send_button.isHidden()
    qtbot.waitUntil(lambda: page.stack.currentIndex() == RESULT, timeout=WAIT)
    drop = model.session.api.sent()[0]
    manifest = SignedManifest.from_json(model.session.api.drop(drop["drop_id"])).manifest
    assert manifest.suite == CMS_SUITE


def test_a_recipient_without_a_p256_key_blocks_the_sheet_by_name(
    cms_policy: Path,  # first: the model's session reads it
    qtbot: QtBot,
    model: AppModel,
    enrol: Enrol,
    org_server: Server,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    enrol_without_p256(enrol, monkeypatch, TARO, "old-pc")  # Taro's PC predates P-256 keys
    with qtbot.waitSignal(model.directory_changed, timeout=WAIT):
        model.refresh_directory()
    page = _page(qtbot, model, _data(tmp_path / "out"), TARO)
    seen = _press_send(page, accept=False)
    qtbot.waitUntil(lambda: len(seen) == 1, timeout=WAIT)
    sheet = seen[0]
    assert sheet.suite_refusal is not None
    assert sheet.suite_notice.text() == (
        "This send must use the CRYPTREC cipher suite, but a PC of 鈴木 太郎 (taro.suzuki) "
        "has no key for it yet, so nothing was sent. Ask them to start Secure Send once "
        "(it adds the key), then send again."
    )
    assert sheet.send_button.isHidden()
    assert blob_files(org_server) == []
