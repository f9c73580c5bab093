"""Translations: Japanese first, English second (Qt Linguist).

Source strings in the code are English (``self.tr("Send")``); ``i18n/secure_send_ja.ts``
holds the Japanese, and ``i18n/secure_send_en.ts`` the English plural forms (so that
``"%n file(s)"`` reads "1 file" and "2 files"). ``.qm`` files are compiled, not
committed: :func:`compile_all` runs ``pyside6-lrelease`` (``make translations``, the
tests and the packaging do).
Qt's own dialogs are translated with Qt's ``qtbase`` catalogue (``qtbase_ja.qm`` from
the PySide6 wheel's ``Qt/translations``, found through ``QLibraryInfo``; the frozen
bundle ships it, ``packaging/secure_send.spec``). The few labels of Qt's own dialogs that
``qtbase_ja`` lacks are translated in our catalogue instead (:data:`QT_GAPS`).
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QLibraryInfo, QLocale, QTranslator

log = logging.getLogger(__name__)
FOLDER = Path(__file__).resolve().parent / "i18n"  # .ts (committed), .qm (built)
DOMAIN = "secure_send"
# Labels of Qt's non-native file dialog that Qt 6's qtbase_ja has no Japanese for (its
# catalogue has "Look in:" and "Files of type:", the dialog asks for the forms with a
# mnemonic): marked here so that lupdate puts them, in Qt's own context, into our
# catalogue, which Qt consults when its own has no translation.
QT_GAPS = (
    QT_TRANSLATE_NOOP("QFileDialog", "&Look in:"),
    QT_TRANSLATE_NOOP("QFileDialog", "Files of &type:"),
)


def system_language() -> str:
    """``"ja"`` when the OS asks for Japanese, else ``"en"``."""
    return "ja" if QLocale.system().language() == QLocale.Language.Japanese else "en"


def resolve(setting: str) -> str:
    """The language to show for a settings value (``system``, ``ja``, ``en``)."""
    return system_language() if setting == "system" else setting


def compile_all() -> list[Path]:
    """Compile every ``.ts`` next to this module into ``.qm`` (when newer)."""
    tool = shutil.which("pyside6-lrelease") or str(Path(sys.executable).parent / "pyside6-lrelease")
    built = []
    for ts in sorted(FOLDER.glob("*.ts")):
        qm = ts.with_suffix(".qm")
        if not qm.exists() or qm.stat().st_mtime < ts.stat().st_mtime:
            subprocess.run([tool, "-silent", str(ts), "-qm", str(qm)], check=True)  # noqa: S603
        built.append(qm)
    return built


def install(app: QCoreApplication, language: str) -> list[QTranslator]:
    """Load our catalogue and Qt's for ``language``; returns the translators (keep them)."""
    translators: list[QTranslator] = []
    ours = QTranslator(app)
    if ours.load(str(FOLDER / f"{DOMAIN}_{language}.qm")):
        translators.append(ours)
    else:
        log.warning("no compiled %s translation (run `make translations`)", language)
    if language == "en":  # ours holds only the plural forms; Qt's own are English already
        for translator in translators:
            app.installTranslator(translator)
        return translators
    qt = QTranslator(app)
    if qt.load(f"qtbase_{language}", QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)):
        translators.append(qt)
    for translator in translators:
        app.installTranslator(translator)
    return translators
