"""Issue 16, item 7: the Japanese catalogue reads as one product written by one office.

Every Japanese translation in ``secure_send_ja.ts`` is checked for: half-width
punctuation ``( ) : ! ?`` (Japanese text uses （）：！？), English words, 保存期間 (in an
office that is the retention period of 公文書; a drop has a ダウンロード期限), フォルダ
without its ー, the English product name (セキュア送信 in Japanese), and 受け渡し as a
noun for a drop (送付; only the server is 受け渡しサーバー). Qt's own dialogs are
Japanese too: a non-native file dialog shows no English label.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QFileDialog,
    QLabel,
    QTreeView,
    QWidget,
)
from pytestqt.qtbot import QtBot

CATALOGUE = Path(__file__).resolve().parents[2] / "secure_send" / "gui" / "i18n"
CATALOGUE /= "secure_send_ja.ts"

# What may stay in Latin letters or half-width punctuation in a Japanese string, each
# for a reason (keep this list short: anything else is written in Japanese):
ALLOWED = [
    r"%[0-9n]",  # placeholders (ids, names, file names and numbers are filled in)
    r"\{[a-z_]+\}",  # Python format fields in a date pattern: {year}年{month}月{day}日
    r"\(&[A-Za-z0-9]\)",  # a mnemonic: 保存(&S), the Japanese Windows convention
    r"\(\*[^()]*\)",  # a file dialog filter: Qt reads the pattern inside "(*.json)"
    r"\*\.[A-Za-z0-9]+",  # a file pattern: *.json
    r"https?://",  # what a server address starts with
    r"--[a-z][a-z-]*",  # a command-line option: --help
    r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+(?:=\S+)?",  # environment variables: key names
    r"\bhanako\.sato\b",  # the example user id the enrolment wizard shows
    r"\bage\b",  # the file format's name (like PDF), in the CLI's decryption errors
    r"\b(?:ID|URL|PDF|OS|CSV)\b",  # written so in Japanese offices (CSV: 「CSV に書き出す」)
    # cipher and format names, written so in Japanese documents (CRYPTREC's own list):
    # 暗号方式 in the Inbox details, CMS in the CLI's decryption errors (issue 21)
    r"\b(?:CRYPTREC|CMS|AES-256-GCM|ECDH|P-256|ChaCha20-Poly1305|X25519)(?![A-Za-z0-9])",
    r"\b(?:Ctrl|Shift|Alt|Enter|Esc|Tab|Delete)\b",  # key names
]
HALF_WIDTH = re.compile(r"[():!?]")
WORD = re.compile(r"[A-Za-z]{2,}")


def _translations() -> list[tuple[str, str]]:
    """(English source, Japanese translation) for every translated message."""
    found = []
    tree = ET.parse(CATALOGUE)  # noqa: S314 - our own file
    for message in tree.iter("message"):
        translation = message.find("translation")
        if translation is None:
            continue
        forms = [f.text or "" for f in translation.findall("numerusform")]
        for text in [translation.text or "", *forms]:
            if text:
                found.append((message.findtext("source") or "", text))
    return found


def _without_allowed(text: str) -> str:
    for pattern in ALLOWED:  # ASCII: \b is a boundary between Latin and Japanese too
        text = re.sub(pattern, " ", text, flags=re.ASCII)
    return text


def problems(text: str) -> list[str]:
    """What is wrong with one Japanese string (empty: nothing)."""
    found = []
    rest = _without_allowed(text)
    if HALF_WIDTH.search(rest):
        found.append("half-width punctuation " + "".join(sorted(set(HALF_WIDTH.findall(rest)))))
    words = WORD.findall(rest)
    if words:
        found.append("English " + " ".join(words))
    if "保存期間" in text:
        found.append("保存期間 (say ダウンロード期限)")
    if re.search(r"フォルダ(?!ー)", text):
        found.append("フォルダ (say フォルダー)")
    if "Secure Send" in text:
        found.append("Secure Send (say セキュア送信)")
    if re.search(r"受け渡し(?!サーバー)", text):
        found.append("受け渡し as a noun (say 送付)")
    return found


def test_the_rules_catch_what_they_should() -> None:
    """Each rule finds a planted mistake and passes its fixed form."""
    assert problems("名簿の状態: %1 (更新)")[0].startswith("half-width")
    assert problems("本当に取り消しますか?")
    assert problems("完了!")
    assert problems("このdropを保存") == ["English drop"]
    assert problems("Secure Send へようこそ") == [
        "English Secure Send",
        "Secure Send (say セキュア送信)",
    ]
    assert problems("保存期間（日数）") == ["保存期間 (say ダウンロード期限)"]
    assert problems("フォルダを開く(&O)") == ["フォルダ (say フォルダー)"]
    assert problems("この受け渡しを取り消す") == ["受け渡し as a noun (say 送付)"]
    for good in [
        "セキュア送信へようこそ",
        "フォルダーを開く(&O)",
        "受け渡しサーバーに接続できません。",
        "%1 件のファイル（合計 %2）",
        "ダウンロード期限：%n 日",
        "端末 ID：%1",
        "組織の設定ファイル（*.json）",
        "SECURE_SEND_TEST_KEYSTORE=1 のとき",
        "本当に取り消しますか？",
    ]:
        assert problems(good) == [], good


def test_every_japanese_string_follows_the_rules() -> None:
    found = {f"{source!r} → {text!r}": problems(text) for source, text in _translations()}
    bad = {k: v for k, v in found.items() if v}
    assert bad == {}, "\n".join(f"{k}: {', '.join(v)}" for k, v in bad.items())


def test_qt_file_dialog_is_japanese(qtbot: QtBot, japanese: None) -> None:
    """Qt's own non-native file dialog in Japanese: "Look in:", "Files of type:" (which
    Qt's qtbase_ja lacks: ``language.QT_GAPS``), its buttons, tool tips and column
    headers (qtbase_ja, which the app installs with ours)."""
    dialog = QFileDialog(None, "", str(CATALOGUE.parent), "JSON (*.json)")
    dialog.setOption(QFileDialog.Option.DontUseNativeDialog, True)
    qtbot.addWidget(dialog)
    dialog.show()
    QApplication.processEvents()
    labels = {w.objectName(): w.text() for w in dialog.findChildren(QLabel) if w.text()}
    assert labels["lookInLabel"] == "場所(&L)：", labels
    assert labels["fileTypeLabel"] == "ファイルの種類(&T)：", labels
    assert "ファイル名" in labels["fileNameLabel"], labels
    shown = []
    for widget in dialog.findChildren(QWidget):
        if widget.isVisible():
            shown += [widget.toolTip(), widget.accessibleName()]
            shown.append(widget.text() if isinstance(widget, (QLabel, QAbstractButton)) else "")
    headers = dialog.findChild(QTreeView).header()  # type: ignore[union-attr]
    model = headers.model()
    columns = range(model.columnCount())
    shown += [str(model.headerData(i, Qt.Orientation.Horizontal)) for i in columns]
    english = [t for t in shown if re.search(r"[A-Za-z]{3,}", t)]
    assert english == []
    assert any("開く" in t for t in shown)  # the Open button
