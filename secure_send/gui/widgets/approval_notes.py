"""The confirm sheet's 上長承認 section (issue 20), beside the My Number one.

* **Needed** (amber): 「この送信には上長の承認が必要です（理由：…）。承認者：氏名（役職）。
  承認されるまで相手には届きません。」 — what :func:`.send.prepare` will sign.
* **Cannot go** (red): no approver is set for the sender, or the approver cannot approve
  now; the sentence of the error code (what the send itself would say), and the dialog
  then offers no Send button.
"""

from __future__ import annotations

from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout, QWidget

from secure_send.client.approval import ApprovalPlan
from secure_send.client.errors import ClientError
from secure_send.core.error_actions import Action
from secure_send.gui import errors
from secure_send.gui.approval_words import approver_text, listed, reasons_text
from secure_send.gui.text import fill
from secure_send.gui.widgets.buttons import plain_label

STYLE_BLOCKED = """
QFrame#approvalBlocked { background: #fde7e9; border: 1px solid #a4000f; }
QFrame#approvalBlocked QLabel { color: #5c0008; }
"""
STYLE_NOTICE = """
QFrame#approvalNotice { background: #fff4ce; border: 1px solid #c19c00; }
QFrame#approvalNotice QLabel { color: #3b2f00; }
"""


class ApprovalNotes(QFrame):
    """The section for a send that needs approval (``plan``) or cannot get it
    (``refusal``); ``blocked`` tells the dialog to offer no Send button."""

    def __init__(
        self,
        plan: ApprovalPlan | None,
        refusal: ClientError | None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.blocked = refusal is not None
        self.setObjectName("approvalBlocked" if self.blocked else "approvalNotice")
        self.setStyleSheet(STYLE_BLOCKED if self.blocked else STYLE_NOTICE)
        self.label = plain_label(self)
        self.label.setWordWrap(True)
        self.label.setAccessibleName(self.tr("Superior's approval"))
        if refusal is not None:
            self.label.setText(errors.sentence_for(refusal, Action.SEND))
        elif plan is not None:
            names = listed(approver_text(a) for a in plan.approvers)
            template = self.tr(
                "This send needs your superior's approval (reason: %1). Approver: %2. "
                "The recipients receive nothing until it is approved."
            )
            self.label.setText(fill(template, reasons_text(plan.requirement.reasons), names))
        QVBoxLayout(self).addWidget(self.label)
        self.setVisible(bool(self.label.text()))

    @property
    def lines(self) -> list[QLabel]:
        """The section's sentences (one label)."""
        return [self.label] if self.label.text() else []

    def text(self) -> str:
        """What the section says (tests, the accessible description)."""
        return self.label.text()
