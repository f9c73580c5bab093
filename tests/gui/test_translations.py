"""The Japanese catalogue is complete and current: every string the GUI code marks for
translation is in ``secure_send_ja.ts`` with a Japanese translation, and nothing is
hidden from Qt Linguist behind a variable."""

from __future__ import annotations

import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
GUI = REPO / "secure_send" / "gui"
CATALOGUE = GUI / "i18n" / "secure_send_ja.ts"
ENGLISH = GUI / "i18n" / "secure_send_en.ts"
# what lupdate reads: the GUI, and the sentences it shares with the CLI
SHARED = [REPO / "secure_send" / "core" / n for n in ("error_sentences.py", "error_actions.py")]
SOURCES = sorted(str(p) for p in [*GUI.rglob("*.py"), *SHARED])


def _messages(ts: Path) -> dict[tuple[str, str], str | None]:
    tree = ET.parse(ts)  # noqa: S314 - our own files
    found = {}
    for context in tree.iter("context"):
        name = context.findtext("name") or ""
        for message in context.iter("message"):
            translation = message.find("translation")
            text = None
            if translation is not None and translation.get("type") != "unfinished":
                forms = [f.text for f in translation.findall("numerusform")]
                text = translation.text or (forms[0] if forms else None)
            found[(name, message.findtext("source") or "")] = text
    return found


def test_the_catalogue_matches_the_code_and_is_translated(tmp_path: Path) -> None:
    fresh = tmp_path / "fresh.ts"
    tool = str(Path(sys.executable).parent / "pyside6-lupdate")
    subprocess.run(
        [tool, "-no-obsolete", *SOURCES, "-ts", str(fresh)], check=True, capture_output=True
    )
    in_code = set(_messages(fresh))
    committed = _messages(CATALOGUE)
    assert in_code - set(committed) == set(), "run scripts/update_translations.py"
    untranslated = [key for key in in_code if not committed.get(key)]
    assert untranslated == []
    japanese = [text for key, text in committed.items() if key in in_code and text]
    assert sum(bool(re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", t)) for t in japanese) > 0.9 * len(
        japanese
    )


def test_no_string_is_hidden_from_linguist() -> None:
    """``translate(context, variable)`` cannot be collected (errors.py's table is marked
    with QT_TRANSLATE_NOOP instead, which is fine)."""
    hidden = []
    for path in GUI.rglob("*.py"):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"\btranslate\(\s*[A-Za-z_]", line) or re.search(
                r"\b(?:self\.)?tr\(\s*[A-Za-z_]", line
            ):
                hidden.append(f"{path.relative_to(REPO)}:{n}")
    allowed = "secure_send/gui/errors.py:"  # translates its QT_TRANSLATE_NOOP table
    assert [h for h in hidden if not h.startswith(allowed)] == []


def test_english_plurals_read_one_file_and_two_files(tmp_path: Path, qapp: object) -> None:
    """Every "%n …(s)" message has English singular and plural forms, and the app's
    English translator uses them."""
    from PySide6.QtCore import QCoreApplication, QTranslator

    from secure_send.gui.language import compile_all

    fresh = tmp_path / "plurals.ts"
    tool = str(Path(sys.executable).parent / "pyside6-lupdate")
    command = [tool, "-no-obsolete", "-pluralonly", *SOURCES, "-ts", str(fresh)]
    subprocess.run(command, check=True, capture_output=True)
    in_code = set(_messages(fresh))
    committed = _messages(ENGLISH)
    assert in_code
    assert in_code <= set(committed), "run scripts/update_translations.py"
    compile_all()
    english = QTranslator()
    assert english.load(str(ENGLISH.with_suffix(".qm")))
    app = QCoreApplication.instance()
    assert app is not None
    assert app is qapp
    app.installTranslator(english)
    try:
        text = "Sent to %1: %n file(s)"
        assert QCoreApplication.translate("SendPage", text, "", 1) == "Sent to %1: 1 file"
        assert QCoreApplication.translate("SendPage", text, "", 2) == "Sent to %1: 2 files"
    finally:
        app.removeTranslator(english)
