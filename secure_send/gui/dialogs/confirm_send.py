"""The last look before sending: who gets what, for how long, at which classification.

Cancel is the default button, so pressing Enter by habit does not send. Under a
recipient whose name looks like another entry's, a warning names both with their ids
and departments (the picker's warning, repeated at the last moment); under a role
mailbox, how many of its members have no device. Under a recipient, a line also names
each device that can newly open the files (new since the last send to that person, or
enrolled this week; the model asks the client library): usually a colleague's new PC,
but a second person should notice one nobody expected. Above everything, what the My
Number check found (:mod:`..widgets.mynumber_notes`): a send it blocks has no Send button;
then whether the send waits for a superior's approval (上長承認, :mod:`..widgets.approval_notes`),
the approvers listed among the recipients — or why it cannot get one: no Send button either.
A send IT's policy puts in the CRYPTREC suite says so; one that cannot be (a recipient's
PC has no P-256 key yet: ``suite_unavailable``) says whose, and has no Send button.
"""

from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QListWidget,
    QListWidgetItem,
    QScrollArea,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from secure_send.client import send as sending
from secure_send.client.approval import ApprovalPlan
from secure_send.client.errors import ClientError
from secure_send.client.key_changes import KeyChange
from secure_send.client.suite_crypto import SuiteUnavailable
from secure_send.core.directory.errors import DirectoryError
from secure_send.core.directory.model import Entry, Kind
from secure_send.core.envelope.manifest import AGE_SUITE, CMS_SUITE, Classification
from secure_send.core.error_actions import Action
from secure_send.gui import errors
from secure_send.gui.dates import short_date
from secure_send.gui.model import AppModel, SendRequest
from secure_send.gui.text import fill
from secure_send.gui.widgets.approval_notes import STYLE_BLOCKED, ApprovalNotes
from secure_send.gui.widgets.buttons import plain_label, plain_tip
from secure_send.gui.widgets.file_list import human_size
from secure_send.gui.widgets.mynumber_notes import MyNumberNotes
from secure_send.gui.widgets.recipient_rows import MAX_LOOKALIKES, more_line, refusal

# Labels of the Japanese government standard (translated in the catalogue).
CLASSIFICATION_LABELS = {
    Classification.C1: QT_TRANSLATE_NOOP("Classification", "Confidentiality 1 (public)"),
    Classification.C2: QT_TRANSLATE_NOOP("Classification", "Confidentiality 2 (internal)"),
    Classification.C3: QT_TRANSLATE_NOOP("Classification", "Confidentiality 3 (secret)"),
}


# The cipher suites as a person reads them (the Inbox's details and this sheet).
SUITE_LABELS = {
    AGE_SUITE: QT_TRANSLATE_NOOP("Suite", "age (ChaCha20-Poly1305, X25519)"),
    CMS_SUITE: QT_TRANSLATE_NOOP("Suite", "CRYPTREC (AES-256-GCM, ECDH P-256)"),
}


def suite_label(suite: str) -> str:
    """The human label for a cipher suite, in the UI language (its name if unknown)."""
    label = SUITE_LABELS.get(suite)
    return QCoreApplication.translate("Suite", str(label)) if label is not None else suite


NOTICE = QColor("#8a4b00")  # dark amber: worth a look, not an error (6:1 on white)


def classification_label(value: Classification) -> str:
    """The human label for a classification, in the UI language."""
    return QCoreApplication.translate("Classification", str(CLASSIFICATION_LABELS[value]))


class ConfirmSendDialog(QDialog):
    """Lists each recipient (with department), every file with its size, and the options."""

    def __init__(self, model: AppModel, request: SendRequest, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(self.tr("Confirm sending"))
        self.setAccessibleName(self.tr("Confirm sending"))
        self.recipients = QListWidget(self)
        self.recipients.setAccessibleName(self.tr("Recipients"))
        plan, refusal = self._approval_plan(model, request)
        self._fill_recipients(model, request, plan)
        self.files = QListWidget(self)
        self.files.setAccessibleName(self.tr("Files"))
        for item in request.files:
            self.files.addItem(f"{item.name}  —  {human_size(item.size)}")
        total = sum(item.size for item in request.files)
        self._fit(self.files)
        self.total_label = plain_label(human_size(total), self)
        self.total_label.setAccessibleName(self.tr("Total size"))
        days = request.expires.days
        self.expiry_label = plain_label(self.tr("%n day(s)", "", days), self)
        self.class_label = plain_label(classification_label(request.classification), self)
        form = QFormLayout()
        form.addRow(self.tr("Recipients:"), self.recipients)
        form.addRow(self.tr("Files (%n):", "", len(request.files)), self.files)
        form.addRow(self.tr("Total size:"), self.total_label)
        form.addRow(self.tr("Available for:"), self.expiry_label)
        form.addRow(self.tr("Classification:"), self.class_label)
        self.suite, self.suite_refusal = self._suite(model, request, plan)
        self.suite_label = plain_label(suite_label(self.suite), self)
        self.suite_label.setAccessibleName(self.tr("Encryption"))
        if self.suite == CMS_SUITE:  # the usual age is not worth a line
            form.addRow(self.tr("Encryption:"), self.suite_label)
        else:  # outside any layout it would be painted over the sheet's first line
            self.suite_label.hide()
        if request.message:
            message = plain_label(request.message, self)
            message.setWordWrap(True)
            form.addRow(self.tr("Message:"), message)
        self.buttons = QDialogButtonBox(self)
        self.send_button = self.buttons.addButton(
            self.tr("&Send"), QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.send_button.setAccessibleName(self.tr("Send now"))
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button.setAccessibleName(self.tr("Cancel"))
        self.send_button.setAutoDefault(False)
        self.cancel_button.setDefault(True)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.mynumber = self._mynumber_section(model, request)
        self.approval = self._approval_section(plan, refusal)
        layout = QVBoxLayout(self)
        layout.addWidget(plain_label(self.tr("Please check before sending:"), self))
        if self.mynumber is not None:
            layout.addWidget(_NotesArea(self.mynumber), 1)
        if self.approval is not None:
            layout.addWidget(self.approval)
        if self.suite_refusal is not None:
            self._block()
            layout.addWidget(self.suite_refusal)
        layout.addLayout(form)
        layout.addWidget(self.buttons)
        self.cancel_button.setFocus()

    def _mynumber_section(self, model: AppModel, request: SendRequest) -> MyNumberNotes | None:
        """What the My Number check found; a blocked send offers no Send button at all
        (the sender goes back and changes the recipients), a forced classification and
        expiry are marked as required."""
        check = request.mynumber
        if check is None:
            return None
        notes = MyNumberNotes(check, model.entry, self)
        if check.blocked:
            self._block()
        elif check.contains:
            required = self.tr("(required for files with My Numbers)")
            self.expiry_label.setText(f"{self.expiry_label.text()} {required}")
            self.class_label.setText(f"{self.class_label.text()} {required}")
        return notes if notes.lines else None

    def _approval_plan(
        self, model: AppModel, request: SendRequest
    ) -> tuple[ApprovalPlan | None, ClientError | None]:
        """The superior's approval this send will ask for, or why it cannot get one."""
        try:
            return model.approvals.plan(request), None
        except ClientError as err:  # no_approver, approver_unavailable
            return None, err

    def _suite(
        self, model: AppModel, request: SendRequest, plan: ApprovalPlan | None
    ) -> tuple[str, QWidget | None]:
        """The suite this send goes in (at the classification My Numbers may force), and
        a refusal to show when a device it must be encrypted to has no P-256 key."""
        final = request.classification
        if request.mynumber is not None:
            _, final = request.mynumber.forced(request.expires, request.classification)
        suite = model.session.it_policy.suite.for_classification(final)
        if model.directory is None:
            return suite, None
        approvers = [a.id for a in plan.approvers] if plan is not None else []
        try:
            sending.suite_for(model.session, model.directory, request.to, final, approvers)
        except SuiteUnavailable as err:
            frame = QFrame(self)  # framed as a refused approval is: no Send button
            frame.setObjectName("approvalBlocked")
            frame.setStyleSheet(STYLE_BLOCKED)
            self.suite_notice = plain_label(errors.sentence_for(err, Action.SEND), frame)
            self.suite_notice.setWordWrap(True)
            self.suite_notice.setAccessibleName(self.tr("Encryption"))
            QVBoxLayout(frame).addWidget(self.suite_notice)
            return suite, frame
        except (ClientError, DirectoryError):
            pass  # recipients that do not resolve: the send itself says why
        return suite, None

    def _approval_section(
        self, plan: ApprovalPlan | None, refusal: ClientError | None
    ) -> ApprovalNotes | None:
        """The 上長承認 notice; a send that cannot get approval has no Send button
        (as a send the My Number check blocks)."""
        if plan is None and refusal is None:
            return None
        if refusal is not None:
            self._block()
        return ApprovalNotes(plan, refusal, self)

    def _block(self) -> None:
        self.send_button.setEnabled(False)
        self.send_button.hide()
        self.cancel_button.setText(self.tr("&Back"))
        self.cancel_button.setAccessibleName(self.tr("Back to the form"))

    def _fill_recipients(
        self, model: AppModel, request: SendRequest, plan: ApprovalPlan | None
    ) -> None:
        changes = model.key_changes(request.to)
        self.recipients.setWordWrap(True)  # the warnings are sentences: never cut off
        for entry_id in request.to:
            self.recipients.addItem(self._recipient_text(model, entry_id))
            entry = model.entry(entry_id)
            if entry is not None:
                self._add_warnings(model, entry)
            for person, change in changes.get(entry_id, []):
                self._add_key_change(entry_id, person, change)
        # 上長承認: the approver reads the files too, so is a recipient (prepare adds them)
        for approver in plan.approvers if plan is not None else []:
            label = self.tr("approver")
            self.recipients.addItem(f"{self._recipient_text(model, approver.id)} [{label}]")
        self._fit(self.recipients)

    def _add_warnings(self, model: AppModel, entry: Entry) -> None:
        """The picker's warnings again, in full: each look-alike name with its id and
        department, and a role's members who have no device."""
        index = model.index
        others = index.lookalikes(entry.id) if index and entry.id in index.lookalike_ids else []
        for other in others[:MAX_LOOKALIKES]:
            template = self.tr(
                "%1 (%2, %3) has a colleague with a similar name, %4 (%5, %6). "
                "Check that the recipient is right."
            )
            values = (entry.name_ja, entry.id, entry.department)
            self._add_note(fill(template, *values, other.name_ja, other.id, other.department))
        if len(others) > MAX_LOOKALIKES:
            self._add_note(more_line(len(others) - MAX_LOOKALIKES).text.removeprefix("⚠ "))
        _label, _reason, note = refusal(entry, model.entry, model.session.me.user)
        if note:
            self._add_note(note)

    def _add_note(self, text: str, tip: str = "") -> None:
        item = QListWidgetItem("    ⚠ " + text)
        item.setFlags(Qt.ItemFlag.ItemIsEnabled)  # a note, not a choice
        item.setForeground(QBrush(NOTICE))
        if tip:
            item.setToolTip(plain_tip(tip))
        item.setData(Qt.ItemDataRole.AccessibleTextRole, text)
        self.recipients.addItem(item)

    def _recipient_text(self, model: AppModel, entry_id: str) -> str:
        entry = model.entry(entry_id)
        if entry is None:
            return entry_id
        text = f"✓ {entry.name_ja} ({entry.name_en}) — {entry.department}"
        if entry.kind is Kind.ROLE:
            members = self.tr("role mailbox, %n member(s)", "", len(entry.members))
            text += f" [{members}]"
        return text

    def _add_key_change(self, entry_id: str, person: Entry, change: KeyChange) -> None:
        """The line under a recipient naming a device that can newly open the files."""
        when = short_date(change.enrolled)
        if person.id == entry_id:
            text = fill(self.tr("A new device was added on %1 (%2)"), when, change.name)
        else:  # a member of a role mailbox
            name = person.name_ja or person.name_en or person.id
            template = self.tr("%1: a new device was added on %2 (%3)")
            text = fill(template, name, when, change.name)
        self._add_note(text, fill(self.tr("Device ID: %1"), change.device))

    def _fit(self, view: QListWidget) -> None:
        """Show every line whole where the screen allows (no clipped names or notes)."""
        frame = 2 * view.frameWidth()
        bar = view.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
        limit = self.fontMetrics().averageCharWidth() * 110
        view.setMinimumWidth(min(view.sizeHintForColumn(0) + frame + bar, limit))
        rows = [max(view.sizeHintForRow(i), 1) for i in range(min(view.count(), 10))]
        rows += [rows[0] if rows else 1] * (2 - len(rows))  # at least two rows high
        view.setMinimumHeight(sum(rows) + frame)


class _NotesArea(QScrollArea):
    """The My Number notes in a scroll area: as tall as the notes where the screen has
    room; on a small, scaled screen (1280x720 at 150 %) at most 45 % of it, the sentences
    then scrolling instead of being clipped mid-line (the lists below give way first)."""

    def __init__(self, notes: QWidget) -> None:
        super().__init__(notes.parentWidget())
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setWidget(notes)
        width = self.fontMetrics().averageCharWidth() * 80  # about the sheet's width
        full = notes.heightForWidth(width) if notes.hasHeightForWidth() else -1
        full = full if full > 0 else notes.sizeHint().height()
        screen = notes.screen().availableGeometry().height()
        margin = 2 * self.fontMetrics().lineSpacing()  # the frame's own margins, roughly
        self.setMinimumHeight(min(full + margin, int(screen * 0.45)))
