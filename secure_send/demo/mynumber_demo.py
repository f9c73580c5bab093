"""The demo's My Number scene (issue 19): a spreadsheet of (fictional) My Numbers sent to a
colleague who is not a designated handler is stopped before anything leaves the PC; the
same file to 人事課 年末調整受付, a designated role mailbox, goes — at 機密性3 and for
the policy's shorter time.

The numbers are made up here: random digits with a valid check digit, in a workbook whose
name says it is dummy data. Part of ``secure-send demo`` (:mod:`secure_send.demo`).
"""

from __future__ import annotations

import datetime as dt
import secrets
import zipfile
from collections.abc import Callable
from pathlib import Path
from xml.sax.saxutils import escape

from secure_send.client import send as sending
from secure_send.client.errors import ClientError
from secure_send.client.mynumber import MyNumberBlocked
from secure_send.client.session import Session
from secure_send.core.dlp.numbers import individual_check_digit
from secure_send.core.encoding import parse_time
from secure_send.core.envelope.manifest import SignedManifest
from secure_send.core.error_codes import ErrorCode

Say = Callable[[str], None]
Step = Callable[[Say, str, str], None]
WORKBOOK = "扶養控除等申告書_個人番号一覧（ダミー）.xlsx"
_SHEET_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def fictional_number() -> str:
    """Twelve digits with a valid check digit: the form of a My Number, made up."""
    first = f"{secrets.randbelow(9) + 1}{secrets.randbelow(10**10):010d}"
    return first + str(individual_check_digit(first))


def write_workbook(path: Path, rows: list[list[str]]) -> Path:
    """A minimal .xlsx (one sheet, inline strings): enough for Excel and for the check."""

    def cell(text: str) -> str:
        return f'<c t="inlineStr"><is><t>{escape(text)}</t></is></c>'

    body = "".join(f"<row>{''.join(cell(t) for t in row)}</row>" for row in rows)
    parts = {
        "[Content_Types].xml": (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package'
            '.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.'
            'openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.'
            'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'
        ),
        "_rels/.rels": (
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
            'relationships"><Relationship Id="r1" Type="http://schemas.openxmlformats.org/'
            'officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>"
        ),
        "xl/workbook.xml": (
            f'<workbook xmlns="{_SHEET_NS}" xmlns:r="http://schemas.openxmlformats.org/'
            'officeDocument/2006/relationships"><sheets><sheet name="一覧" sheetId="1" '
            'r:id="r1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
            'relationships"><Relationship Id="r1" Type="http://schemas.openxmlformats.org/'
            'officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
            "</Relationships>"
        ),
        "xl/worksheets/sheet1.xml": (
            f'<worksheet xmlns="{_SHEET_NS}"><sheetData>{body}</sheetData></worksheet>'
        ),
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as book:
        for name, xml in parts.items():
            book.writestr(name, '<?xml version="1.0" encoding="UTF-8"?>' + xml)
    return path


def dependants_workbook(folder: Path, people: int = 40) -> Path:
    """扶養控除等申告書's list: staff, dependants and their (fictional) My Numbers."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = [["氏名", "続柄", "個人番号", "備考"]]
    for i in range(1, people + 1):
        rows.append([f"デモ 職員{i:03d}", "本人", fictional_number(), "架空のデータ"])
        rows.append([f"デモ 家族{i:03d}", "配偶者", fictional_number(), "架空のデータ"])
    return write_workbook(folder / WORKBOOK, rows)


def run_mynumber_scene(
    say: Say,
    step: Step,
    work: Path,
    sender: Session,
    colleague: str,
    desk: str,
    *,
    quiet: bool = False,
) -> str:
    """The scene; returns the drop id of the allowed send. Raises if a step goes wrong.
    ``quiet``: only the allowed send, unnarrated (the demo's second one, left waiting for
    the superior's approval in his app)."""
    workbook = dependants_workbook(work / ("個人番号の送信" if not quiet else "個人番号の送信2"))
    directory = sender.directory()
    entries = directory.by_id()
    files = sending.collect([workbook])
    week = dt.timedelta(days=7)
    if quiet:
        return sending.finish(
            sender, sending.prepare(sender, directory, files, [desk], expires=week)
        )
    step(
        say,
        f"個人番号（ダミー）入りの表を、個人番号取扱者ではない {entries[colleague].name_ja}"
        "（同僚）に送ろうとします",
        "the sender tries to send a spreadsheet of My Numbers to a colleague who is not a"
        " designated handler",
    )
    try:
        sending.prepare(sender, directory, files, [colleague], expires=week)
    except MyNumberBlocked as blocked:
        for report in blocked.check.holding:
            say(
                f"   ✋ {report.name}: 個人番号 {report.likely} 件"
                f"（{' / '.join(report.places[:2])} …）"
            )
        say(
            f"   ✋ 送信できません（何もアップロードしていません）: {entries[colleague].name_ja}"
            " は個人番号取扱者に指定されていません"
        )
        say(f"   ({blocked})")
    else:
        raise ClientError(ErrorCode.DEMO_FAILED, "a send of My Numbers was not stopped")
    step(
        say,
        f"同じ表を、個人番号取扱者に指定された窓口「{entries[desk].name_ja}」に送ります",
        "the same file goes to the designated role mailbox, forced to 機密性3 and a short expiry",
    )
    pending = sending.prepare(sender, directory, files, [desk], expires=week)
    drop_id = sending.finish(sender, pending)
    manifest = SignedManifest.from_json(sender.api.drop(drop_id)).manifest
    days = (parse_time(manifest.expires) - parse_time(manifest.created)).days
    level = {"c1": "機密性1", "c2": "機密性2", "c3": "機密性3"}[manifest.classification.value]
    say(
        f"   drop {drop_id}: {level}、有効 {days} 日（7 日を選んでも短縮）、"
        f"個人番号 {manifest.mynumber_count} 件を含む旨が署名付きで監査ログへ"
        "（番号そのものは残りません）"
    )
    return drop_id
