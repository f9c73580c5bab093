"""The settings dialog: edits round-trip through the settings file; Cancel keeps the old."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from PySide6.QtWidgets import QDialogButtonBox
from pytestqt.qtbot import QtBot

from secure_send.client.profile import Profile
from secure_send.gui import settings as gui_settings
from secure_send.gui.dialogs.settings_dialog import SettingsDialog
from secure_send.gui.settings import Settings


def _dialog(qtbot: QtBot, settings: Settings, locked: Iterable[str] = ()) -> SettingsDialog:
    dialog = SettingsDialog(settings, locked=locked)
    qtbot.addWidget(dialog)
    return dialog


def test_every_field_round_trips_through_the_file(qtbot: QtBot, tmp_path: Path) -> None:
    profile = Profile(tmp_path / "profile")
    dialog = _dialog(qtbot, gui_settings.load(profile))
    dialog.language.setCurrentIndex(dialog.language.findData("ja"))
    dialog.close_to_tray.setChecked(False)
    dialog.set_download_folder(str(tmp_path / "recv"))
    dialog.notify.setChecked(False)
    assert str(tmp_path / "recv") in dialog.folder.text()
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    edited = dialog.settings()
    expected = Settings("ja", False, str(tmp_path / "recv"), False)
    assert edited == expected
    gui_settings.save(profile, edited)
    assert gui_settings.load(profile) == expected
    # and the dialog opens on what was saved
    again = _dialog(qtbot, gui_settings.load(profile))
    assert again.language.currentData() == "ja"
    assert not again.close_to_tray.isChecked()
    assert not again.notify.isChecked()


def test_empty_folder_shows_the_effective_downloads_folder(qtbot: QtBot) -> None:
    dialog = _dialog(qtbot, Settings(download_folder="/somewhere"))
    dialog.set_download_folder("")
    assert str(Settings().downloads()) in dialog.folder.text()
    assert dialog.folder.isReadOnly()


def test_cancel_returns_the_original(qtbot: QtBot) -> None:
    original = Settings("en", True, "/data/in", True)
    dialog = _dialog(qtbot, original)
    dialog.language.setCurrentIndex(dialog.language.findData("system"))
    dialog.close_to_tray.setChecked(False)
    dialog.set_download_folder("")
    dialog.notify.setChecked(False)
    dialog.buttons.button(QDialogButtonBox.StandardButton.Cancel).click()
    assert dialog.settings() == original


def test_locked_items_are_disabled_and_explained(qtbot: QtBot) -> None:
    dialog = _dialog(qtbot, Settings(), locked={"download_folder", "notify"})
    assert not dialog.choose_folder.isEnabled()
    assert not dialog.notify.isEnabled()
    assert dialog.language.isEnabled()
    assert dialog.close_to_tray.isEnabled()
    assert not dialog.lock_note.isHidden()
    dialog.set_download_folder("/elsewhere")  # ignored: IT decides
    dialog.accept()
    assert dialog.settings().download_folder == ""
    unlocked = _dialog(qtbot, Settings())
    assert unlocked.lock_note.isHidden()


def test_controls_have_accessible_names(qtbot: QtBot) -> None:
    dialog = _dialog(qtbot, Settings())
    for widget in (
        dialog.language,
        dialog.close_to_tray,
        dialog.folder,
        dialog.choose_folder,
        dialog.default_folder,
        dialog.notify,
    ):
        assert widget.accessibleName(), widget
