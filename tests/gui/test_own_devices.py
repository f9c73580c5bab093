"""Self-monitoring in the app: a compromised directory signer adds a device to Hanako's
entry; her window shows a red banner after its next directory refresh, the tray tells
her once, Settings lists the device as unknown, and acknowledging it (after a clear
question) clears the alert. Taro's confirm sheet names the new device under Hanako.
Real server, real signer process; the "compromised signer" uses the org's signing key
directly (as in tests/client/test_self_monitoring.py)."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from PySide6.QtWidgets import QMessageBox, QTreeWidgetItem
from pytestqt.qtbot import QtBot

from secure_send.client.own_devices import OwnDevice
from secure_send.client.send import collect
from secure_send.core.envelope.manifest import Classification
from secure_send.gui.dates import MONTHS, short_date
from secure_send.gui.dialogs.confirm_send import ConfirmSendDialog
from secure_send.gui.dialogs.settings_dialog import SettingsDialog
from secure_send.gui.main_window import MainWindow
from secure_send.gui.model import AppModel, SendRequest
from secure_send.gui.settings import Settings
from secure_send.gui.text import fill
from secure_send.gui.tray import Tray
from secure_send.gui.widgets.device_alert import UnknownDeviceBanner
from secure_send.gui.widgets.own_device_list import OwnDeviceList
from tests.client.conftest import Enrol
from tests.client.test_self_monitoring import _compromised_signer_adds
from tests.directory_kit import HANAKO, ROLE, TARO
from tests.gui.conftest import SessionOf, loaded_model
from tests.server.conftest import Server

WAIT = 10_000


def _refresh(qtbot: QtBot, model: AppModel) -> None:
    with qtbot.waitSignal(model.own_devices_changed, timeout=WAIT):
        model.refresh_directory()


def _rows(devices: OwnDeviceList) -> dict[str, list[str]]:
    items: list[QTreeWidgetItem] = [
        devices.table.topLevelItem(i)  # type: ignore[misc]
        for i in range(devices.table.topLevelItemCount())
    ]
    return {item.text(1): [item.text(c) for c in range(4)] for item in items}


def _today() -> tuple[int, int]:
    now = dt.datetime.now().astimezone()
    return now.month, now.day


def test_a_device_added_by_a_compromised_signer_is_shown_until_acknowledged(
    qtbot: QtBot, enrol: Enrol, org_server: Server, session_of: SessionOf
) -> None:
    model = loaded_model(qtbot, session_of(enrol(HANAKO, "laptop")))
    window = MainWindow(model)
    qtbot.addWidget(window)
    window.show()
    tray = Tray(model, window, Settings())
    notes: list[tuple[str, str]] = []
    tray.notified.connect(lambda title, text: notes.append((title, text)))
    assert window.banner.isHidden()

    _compromised_signer_adds(org_server, HANAKO, "evil-pc")
    _refresh(qtbot, model)
    assert window.banner.isVisible()
    month, day = _today()
    text = window.banner.text.text()
    assert "“attacker” (evil-pc)" in text
    assert f"on {day} {MONTHS[month - 1]}." in text
    assert "report it to IT security" in text
    assert window.banner.review_button.accessibleName()
    (note,) = notes
    assert note[0] == "Unknown device on your account"
    assert "“attacker”" in note[1]
    _refresh(qtbot, model)
    assert len(notes) == 1  # once per device, not per refresh
    assert window.banner.isVisible()

    with qtbot.waitSignal(window.devices_requested, timeout=WAIT):
        window.banner.review_button.click()
    dialog = SettingsDialog(Settings(), window, model=model)
    qtbot.addWidget(dialog)
    dialog.show_devices()
    devices = dialog.devices
    assert devices is not None
    assert dialog.tabs is not None
    assert dialog.tabs.currentWidget() is devices
    rows = _rows(devices)
    assert rows["laptop"][3] == "This PC"
    assert rows["evil-pc"][0] == "attacker"
    assert rows["evil-pc"][2] == short_date(model.unknown_devices[0].enrolled)
    assert rows["evil-pc"][3].startswith("⚠ Unknown")
    selected = devices.selected()
    assert selected is not None
    assert selected.device == "evil-pc"
    assert devices.acknowledge_button.isEnabled()
    assert devices.acknowledge_button.accessibleName()

    box = devices.confirmation(selected)
    qtbot.addWidget(box)
    assert "“attacker” (evil-pc," in box.text()
    assert "report it to IT security" in box.informativeText()
    assert box.defaultButton() is box.button(QMessageBox.StandardButton.No)
    devices.confirm = lambda device: False  # type: ignore[method-assign]
    devices.acknowledge_button.click()
    assert window.banner.isVisible()  # "No": nothing recorded

    devices.confirm = lambda device: True  # type: ignore[method-assign]
    with qtbot.waitSignal(model.own_devices_changed, timeout=WAIT):
        devices.acknowledge_button.click()
    assert window.banner.isHidden()
    assert _rows(devices)["evil-pc"][3] == "Confirmed by you"
    assert not devices.acknowledge_button.isEnabled()
    _refresh(qtbot, model)
    assert window.banner.isHidden()
    assert len(notes) == 1
    model.stop()


def test_the_devices_tab_selects_nothing_to_acknowledge_when_all_is_known(
    qtbot: QtBot, model: AppModel
) -> None:
    dialog = SettingsDialog(Settings(), model=model)
    qtbot.addWidget(dialog)
    assert dialog.devices is not None
    assert list(_rows(dialog.devices)) == ["laptop"]
    dialog.show_devices()
    dialog.devices.select("laptop")
    assert not dialog.devices.acknowledge_button.isEnabled()


def _request(folder: Path, to: tuple[str, ...]) -> SendRequest:
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / "年末調整.xlsx"
    data.write_bytes(os.urandom(2000))
    files = tuple(collect([data]))
    return SendRequest(files, to, dt.timedelta(days=7), "", Classification.C2)


def _lines(dialog: ConfirmSendDialog) -> list[str]:
    return [dialog.recipients.item(i).text() for i in range(dialog.recipients.count())]


def test_the_confirm_sheet_names_a_recipients_new_device(
    qtbot: QtBot, enrol: Enrol, org_server: Server, session_of: SessionOf, tmp_path: Path
) -> None:
    enrol(HANAKO, "laptop")
    taro = enrol(TARO, "desktop")
    _compromised_signer_adds(org_server, HANAKO, "evil-pc")
    model = loaded_model(qtbot, session_of(taro))
    dialog = ConfirmSendDialog(model, _request(tmp_path / "out", (HANAKO, ROLE)))
    qtbot.addWidget(dialog)
    lines = _lines(dialog)
    when = short_date(model.entry(HANAKO).devices[-1].enrolled)  # type: ignore[union-attr]
    new = f"A new device was added on {when} (attacker)"
    assert lines[0].startswith("✓ 佐藤 花子")
    # both of Hanako's devices were enrolled this week; the attacker's is one of them
    assert any(line.strip() == f"⚠ {new}" for line in lines[1:3])
    role = lines.index(next(line for line in lines if line.startswith("✓ 会計")))
    member_lines = [line.strip() for line in lines[role + 1 :]]
    assert f"⚠ 佐藤 花子: a new device was added on {when} (attacker)" in member_lines
    assert not any("desktop" in line for line in lines)  # the sender's own devices: no
    model.stop()


def test_the_confirm_sheet_speaks_japanese_dates(
    japanese: None,
    qtbot: QtBot,
    enrol: Enrol,
    org_server: Server,
    session_of: SessionOf,
    tmp_path: Path,
) -> None:
    enrol(HANAKO, "laptop")
    model = loaded_model(qtbot, session_of(enrol(TARO, "desktop")))
    dialog = ConfirmSendDialog(model, _request(tmp_path / "out", (HANAKO,)))
    qtbot.addWidget(dialog)
    month, day = _today()
    name = model.entry(HANAKO).devices[0].name  # type: ignore[union-attr]
    assert [line.strip() for line in _lines(dialog)][1:] == [
        f"⚠ 新しい端末が {month}月{day}日 に追加されています（{name}）"
    ]
    model.stop()


def test_short_dates_and_placeholders() -> None:
    assert short_date("2025-12-03T01:00:00Z", dt.date(2025, 6, 1)) in ("3 Dec", "2 Dec")
    assert short_date("2024-12-03T12:00:00Z", dt.date(2025, 6, 1)) == "3 Dec 2024"
    assert short_date("not a time") == "not a time"
    assert fill("%1 (%2)", "name %2", "id") == "name %2 (id)"  # values are never expanded
    assert fill("%1 %3", "a") == "a %3"


def test_a_foreign_p256_key_on_this_pc_gets_its_own_warning(qtbot: QtBot) -> None:
    """Issue 21: this PC listed with a CRYPTREC key it never made says so (not "a device
    this PC did not enrol", which would point the person at the wrong thing)."""
    banner = UnknownDeviceBanner()
    qtbot.addWidget(banner)
    this = OwnDevice("laptop", "人事課の PC", "2026-04-01T09:00:00Z", None, True, False)
    banner.show_devices([this])
    assert banner.isHidden()
    banner.show_devices([OwnDevice(**{**this.__dict__, "foreign_key": True})])
    assert not banner.isHidden()
    assert "did not make" in banner.text.text()
    assert "人事課の PC" in banner.text.text()
    assert "did not enrol" not in banner.text.text()
