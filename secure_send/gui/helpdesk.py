"""What a helpdesk asks for, gathered once: for Help → About and Help → Diagnostics.

Facts are (label, value) pairs, labels translated, values as they are (ids, versions,
a host, a folder) so IT can search for them. Nothing secret goes in — no key, no token,
no file or drop name, no message — only what identifies this installation and its state.
"""

from __future__ import annotations

import platform
import sys

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import QCoreApplication, qVersion

from secure_send.core.error_sentences import QT_TRANSLATE_NOOP
from secure_send.gui.errors import app_version, host_of
from secure_send.gui.model import AppModel

Facts = list[tuple[str, str]]

VERSION = QT_TRANSLATE_NOOP("Helpdesk", "Version")
SERVER = QT_TRANSLATE_NOOP("Helpdesk", "Server")
ORGANISATION = QT_TRANSLATE_NOOP("Helpdesk", "Organisation")
EPOCH = QT_TRANSLATE_NOOP("Helpdesk", "Directory epoch")
NOT_LOADED = QT_TRANSLATE_NOOP("Helpdesk", "not loaded")
VERIFIED = QT_TRANSLATE_NOOP("Helpdesk", "Directory last verified")
NOT_YET = QT_TRANSLATE_NOOP("Helpdesk", "not yet")
USER = QT_TRANSLATE_NOOP("Helpdesk", "User ID")
DEVICE = QT_TRANSLATE_NOOP("Helpdesk", "Device ID")
SYSTEM = QT_TRANSLATE_NOOP("Helpdesk", "Operating system")
RUNTIME = QT_TRANSLATE_NOOP("Helpdesk", "Runtime")
KEY_STORE = QT_TRANSLATE_NOOP("Helpdesk", "Key store")
TEST_STORE = QT_TRANSLATE_NOOP("Helpdesk", "test file store (not protected)")
OS_STORE = QT_TRANSLATE_NOOP("Helpdesk", "the operating system's key store")
PROFILE = QT_TRANSLATE_NOOP("Helpdesk", "Profile folder")
PENDING = QT_TRANSLATE_NOOP("Helpdesk", "Unfinished sends")
LINE = QT_TRANSLATE_NOOP("Helpdesk", "%1: %2")  # one fact, as copied


def _t(text: str) -> str:
    return QCoreApplication.translate("Helpdesk", text)


def about_facts(model: AppModel) -> Facts:
    """Version, server, organisation, directory epoch and last verification, user, device."""
    directory = model.directory
    epoch = str(directory.verified.checkpoint.epoch) if directory is not None else ""
    when = model.state.verified_at
    checked = when.isoformat(timespec="seconds") if when is not None else ""
    session = model.session
    return [
        (_t(VERSION), app_version()),
        (_t(SERVER), host_of(session.org.server_url)),
        (_t(ORGANISATION), session.org.anchor.org),
        (_t(EPOCH), epoch or _t(NOT_LOADED)),
        (_t(VERIFIED), checked or _t(NOT_YET)),
        (_t(USER), session.me.user),
        (_t(DEVICE), session.me.device),
    ]


def pending_sends(model: AppModel) -> int:
    """How many sends are unfinished (their resume files, counted without opening them)."""
    folder = model.session.profile.resume_dir
    return sum(1 for _ in folder.glob("*.json")) if folder.is_dir() else 0


def diagnostic_facts(model: AppModel) -> Facts:
    """The About facts, then the platform, Python and Qt, the key store, the profile
    folder and the unfinished sends."""
    store = TEST_STORE if model.session.test_keystore else OS_STORE
    python = sys.version.split()[0]
    return [
        *about_facts(model),
        (_t(SYSTEM), platform.platform()),
        (_t(RUNTIME), f"Python {python}, Qt {qVersion()}, PySide6 {pyside_version}"),
        (_t(KEY_STORE), _t(store)),
        (_t(PROFILE), str(model.session.profile.path)),
        (_t(PENDING), str(pending_sends(model))),
    ]


def as_text(facts: Facts) -> str:
    """One "label: value" line per fact (what "Copy" puts on the clipboard)."""
    return "\n".join(_t(LINE).replace("%1", k).replace("%2", v) for k, v in facts)
