"""Refresh the Japanese catalogue from the code, fill it from the glossaries, compile.

    .venv/bin/python scripts/update_translations.py          # lupdate + fill + lrelease
    .venv/bin/python scripts/update_translations.py --check  # fail if anything is untranslated

``pyside6-lupdate`` collects every ``tr()``/``translate()``/``QT_TRANSLATE_NOOP``
string of ``secure_send/gui`` (and the error sentences the CLI shares,
``secure_send/core/error_sentences.py``) into ``secure_send/gui/i18n/secure_send_ja.ts`` (the
committed source of truth, editable in Qt Linguist). Messages still unfinished
there are filled from ``secure_send/gui/i18n/ja_*.json`` (English → Japanese
glossaries written with the code). The ``.qm`` files are build output.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUI = ROOT / "secure_send" / "gui"
I18N = GUI / "i18n"
TS = I18N / "secure_send_ja.ts"
# English needs a catalogue only for plurals: "%n file(s)" reads "1 file" / "2 files"
TS_EN = I18N / "secure_send_en.ts"
# Qt-free modules whose sentences the app shows (marked with QT_TRANSLATE_NOOP)
SHARED = [ROOT / "secure_send" / "core" / n for n in ("error_sentences.py", "error_actions.py")]


def _tool(name: str) -> str:
    return str(Path(sys.executable).parent / name)


def lupdate(ts: Path, language: str, *options: str) -> None:
    """Bring catalogue ``ts`` in line with the code (obsolete messages are dropped)."""
    sources = sorted(str(p.relative_to(ROOT)) for p in [*GUI.rglob("*.py"), *SHARED])
    command = [_tool("pyside6-lupdate"), "-no-obsolete", "-locations", "none", *options]
    command += [*sources, "-ts", str(ts.relative_to(ROOT)), "-target-language", language]
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True)  # noqa: S603 - our tool


def _translation(message: ET.Element) -> ET.Element:
    """The message's ``<translation>`` element (made if missing)."""
    found = message.find("translation")
    return found if found is not None else ET.SubElement(message, "translation")


def _set_forms(translation: ET.Element, forms: tuple[str, ...]) -> None:
    """Make ``translation`` finished with these plural forms."""
    for child in list(translation):
        translation.remove(child)
    translation.text = None
    translation.attrib.pop("type", None)
    for form in forms:
        ET.SubElement(translation, "numerusform").text = form


def _english_forms(source: str) -> tuple[str, str] | None:
    """(one, many) for a plural source: ``file(s)`` → file/files, ``%n entries`` →
    ``%n entry``/``%n entries``; a count that no noun follows (``Files (%n):``)
    reads the same either way. None if none of these applies."""
    if "(s)" in source:
        return source.replace("(s)", ""), source.replace("(s)", "s")
    singular = re.sub(r"%n (\w+)ies\b", r"%n \1y", source)
    if singular != source:
        return singular, source
    if re.search(r"\(%n\)", source):
        return source, source
    return None


def english_plurals() -> list[str]:
    """Give every plural message its two English forms (:func:`_english_forms`);
    returns the sources it cannot word (to be worded by hand)."""
    tree = ET.parse(TS_EN)  # noqa: S314 - our own committed catalogue
    odd = []
    for message in tree.iter("message"):
        source = message.findtext("source") or ""
        forms = _english_forms(source)
        if forms is None:
            odd.append(source)
            continue
        _set_forms(_translation(message), forms)
    tree.write(TS_EN, encoding="utf-8", xml_declaration=True)
    return odd


def glossary() -> dict[str, str]:
    """Every ``ja_*.json`` merged (English source → Japanese)."""
    merged: dict[str, str] = {}
    for path in sorted(I18N.glob("ja_*.json")):
        merged.update(json.loads(path.read_text(encoding="utf-8")))
    return merged


def fill(words: dict[str, str]) -> list[str]:
    """Translate unfinished messages from ``words``; returns those still missing."""
    tree = ET.parse(TS)  # noqa: S314 - our own committed catalogue
    missing = []
    for message in tree.iter("message"):
        source = message.findtext("source") or ""
        translation = _translation(message)
        if translation.get("type") != "unfinished" and (
            translation.text or message.find("translation/numerusform") is not None
        ):
            continue
        text = words.get(source)
        if text is None:
            missing.append(source)
            continue
        if message.get("numerus") == "yes":
            _set_forms(translation, (text,))  # Japanese has one form
        else:
            translation.text = text
            translation.attrib.pop("type", None)
    tree.write(TS, encoding="utf-8", xml_declaration=True)
    return missing


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if a message is untranslated")
    args = parser.parse_args()
    lupdate(TS, "ja_JP")
    missing = fill(glossary())
    lupdate(TS_EN, "en_GB", "-pluralonly")
    missing += english_plurals()
    sys.path.insert(0, str(ROOT))
    from secure_send.gui.language import compile_all  # after the path is set

    compile_all()
    for source in missing:
        print(f"untranslated: {source!r}", file=sys.stderr)
    print(f"{TS.relative_to(ROOT)}: {len(missing)} untranslated")
    return 1 if args.check and missing else 0


if __name__ == "__main__":
    sys.exit(main())
