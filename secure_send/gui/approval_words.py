"""上長承認 in words, for the 承認待ち list, the Inbox, Sent and the confirm sheet.

The manifest signs the reasons as codes (``c3``, ``mynumber``, ``outside_department``:
:data:`~secure_send.core.envelope.manifest.APPROVAL_REASONS`); a person reads 機密性3,
個人番号を含む, 部署外への送信. A rejection's reason is text the approver typed: it is
shown as plain text with control, bidi and zero-width characters made visible
(``core.display.shown``) and filled in last (:func:`.text.fill`), so a ``%2`` in it is
never expanded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication

from secure_send.client.approval import APPROVED, PENDING, REJECTED, ApprovalStatus
from secure_send.core.directory.model import Entry
from secure_send.core.display import shown
from secure_send.gui.text import fill

REASONS = {
    "c1": QT_TRANSLATE_NOOP("Approval", "Confidentiality 1"),
    "c2": QT_TRANSLATE_NOOP("Approval", "Confidentiality 2"),
    "c3": QT_TRANSLATE_NOOP("Approval", "Confidentiality 3"),
    "mynumber": QT_TRANSLATE_NOOP("Approval", "contains My Numbers"),
    "outside_department": QT_TRANSLATE_NOOP("Approval", "sent outside the department"),
}
Lookup = Callable[[str], Entry | None]  # AppModel.entry


def reason_text(code: str) -> str:
    """One signed reason in words (an unknown code as it is: never hidden)."""
    return QCoreApplication.translate("Approval", str(REASONS[code])) if code in REASONS else code


def listed(texts: Iterable[str]) -> str:
    """Words as one list, with the UI language's separator (「、」 in Japanese)."""
    return QCoreApplication.translate("Approval", ", ").join(texts)


def reasons_text(codes: Iterable[str]) -> str:
    """The reasons as one phrase: 「機密性3、部署外への送信」."""
    return listed(reason_text(c) for c in codes)


def person_name(lookup: Lookup, user: str) -> str:
    """A person's name from the verified directory (the id if it does not know them)."""
    entry = lookup(user)
    return shown(entry.name_ja) if entry is not None else user


def approver_text(entry: Entry) -> str:
    """An approver as 「髙橋 次郎（課長）」: the title, or the department without one."""
    return fill(
        QCoreApplication.translate("Approval", "%1 (%2)"),
        shown(entry.name_ja),
        shown(entry.title or entry.department),
    )


def one_line(text: str) -> str:
    """A rejection's reason on one line of a list (line breaks as spaces), made visible."""
    return shown(" ".join(text.replace("\r\n", "\n").split("\n")))


def status_text(status: ApprovalStatus, lookup: Lookup, when: Callable[[str], str]) -> str:
    """A sent drop's approval: 「承認待ち（承認者：氏名）」, 「承認済み（氏名、日時）」,
    「差し戻し（氏名）：理由」 ("" when none was needed)."""
    if status.state == PENDING:
        return fill(
            QCoreApplication.translate("Approval", "Awaiting approval (approver: %1)"),
            person_name(lookup, status.by),
        )
    who = person_name(lookup, status.decided_by or status.by)
    if status.state == APPROVED:
        return fill(
            QCoreApplication.translate("Approval", "Approved (%1, %2)"), who, when(status.time)
        )
    if status.state == REJECTED:
        return fill(
            QCoreApplication.translate("Approval", "Returned (%1): %2"),
            who,
            one_line(status.reason),
        )
    return ""


def problem_text() -> str:
    """A decision the server showed that does not verify (``approval_problem``)."""
    return QCoreApplication.translate(
        "Approval",
        "⚠ The server shows an approval that does not verify: the drop is treated as not"
        " approved. Tell IT security.",
    )
