"""The detail pane beside the Inbox and Sent lists: what a drop holds.

It shows the sender's message, every file with its size, the total, 機密性, to
whom (persons, and which role mailbox), the download deadline and the cipher suite
(暗号方式: age or CRYPTREC, from the signed manifest) — all of it
plain text: a message or file name holding markup (``<b>x</b>``, ``<a href>``) is
shown literally, and control, bidi and zero-width characters are made visible
(``core.display.shown``). A drop that failed verification shows no details,
only why it is dangerous. The page tells the pane which drop is selected
(``follow``); the pane shows what the model's memory holds or asks the model
(``AppModel.details``, a worker task) and shows the answer when it comes.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from secure_send.client.chosen import ROLE, Chosen
from secure_send.client.drop_details import DropDetails
from secure_send.client.listing import RecipientStatus
from secure_send.core.display import shown
from secure_send.core.encoding import parse_time
from secure_send.core.errors import SecureSendError
from secure_send.gui.dates import short_date
from secure_send.gui.dialogs.confirm_send import classification_label, suite_label
from secure_send.gui.errors import describe
from secure_send.gui.model import AppModel
from secure_send.gui.text import fill
from secure_send.gui.widgets.buttons import plain_label, plain_tip
from secure_send.gui.widgets.file_list import human_size
from secure_send.gui.widgets.tables import row_table


def shown_message(text: str) -> str:
    """A sender's message for display: line breaks kept, tabs as spaces, every other
    control, bidi or zero-width character made visible (U+FFFD)."""
    text = text.replace("\r\n", "\n").replace("\t", "    ")
    return "\n".join(shown(line) for line in text.split("\n"))


class DropDetailsPane(QWidget):
    """See the module docstring. ``show_sender``: the Inbox names the sender; in Sent
    that is oneself."""

    def __init__(
        self, model: AppModel, parent: QWidget | None = None, *, show_sender: bool = True
    ) -> None:
        super().__init__(parent)
        self.model = model
        self._drop_id: str | None = None  # the drop followed
        self._danger = ""
        self._receipts: Sequence[RecipientStatus] | None = None
        model.details.ready.connect(self._on_details_ready)
        model.details.failed.connect(self._on_details_failed)
        self.setAccessibleName(self.tr("Drop details"))
        self.status_label = plain_label(self)
        self.status_label.setWordWrap(True)
        self.status_label.setAccessibleName(self.tr("Drop details status"))
        self.body = QWidget(self)
        form = QFormLayout(self.body)
        form.setContentsMargins(0, 0, 0, 0)
        self.sender_label = self._value(self.tr("Sender"))
        self.to_label = self._value(self.tr("Recipients"))
        self.classification_label = self._value(self.tr("Confidentiality"))
        self.expiry_label = self._value(self.tr("Download deadline"))
        self.suite_label = self._value(self.tr("Encryption"))
        self.total_label = self._value(self.tr("Total size"))
        self.files = self._files_table()
        self.message = QPlainTextEdit(self.body)
        self.message.setReadOnly(True)  # plain text, never markup
        self.message.setAccessibleName(self.tr("Message from the sender"))
        if show_sender:
            form.addRow(self.tr("From:"), self.sender_label)
        form.addRow(self.tr("To:"), self.to_label)
        form.addRow(self.tr("Confidentiality:"), self.classification_label)
        form.addRow(self.tr("Download deadline:"), self.expiry_label)
        form.addRow(self.tr("Encryption:"), self.suite_label)
        form.addRow(self.tr("Files:"), self.files)
        form.addRow(self.tr("Total:"), self.total_label)
        form.addRow(self.tr("Message:"), self.message)
        self.sender_label.setVisible(show_sender)
        # the details scroll within the pane: at 1280x720 and 150 % its files table and
        # message would otherwise make the page taller than the window, and the page's own
        # buttons (保存, 承認) would scroll out of sight below them
        scroll = QScrollArea(self)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.body)
        layout = QVBoxLayout(self)
        layout.addWidget(self.status_label)
        layout.addWidget(scroll, 1)
        self.show_nothing()

    def _value(self, name: str) -> QLabel:
        label = plain_label(self.body)
        label.setWordWrap(True)
        label.setAccessibleName(name)
        return label

    def _files_table(self) -> QTableWidget:
        labels = [self.tr("File name"), self.tr("Size")]
        table = row_table(self.body, labels, self.tr("Files in this drop"))
        header = table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        return table

    # ---------------------------------------------------------------- following
    def follow(
        self,
        drop_id: str | None,
        *,
        danger: str = "",
        receipts: Sequence[RecipientStatus] | None = None,
    ) -> None:
        """Show the selected drop: nothing, only why it is ``danger``ous, its details from
        memory, or "loading" while the model fetches them (once: following the same drop
        again, e.g. after a list refresh, asks nothing new)."""
        same = drop_id == self._drop_id and danger == self._danger
        self._drop_id, self._danger, self._receipts = drop_id, danger, receipts
        known = self.model.details.cached(drop_id) if drop_id else None
        if drop_id is None:
            self.show_nothing()
        elif danger:
            self.show_danger(danger)
        elif known is not None:
            self.show_details(known, receipts)
        elif not same:  # else: loading, or the failure, is on screen already
            self.show_loading()
            self.model.details.load([drop_id])

    def _on_details_ready(self, drop_id: str, details: DropDetails) -> None:
        if drop_id == self._drop_id and not self._danger:
            self.show_details(details, self._receipts)

    def _on_details_failed(self, drop_id: str, err: BaseException) -> None:
        known = self.model.details.cached(drop_id)
        if drop_id == self._drop_id and not self._danger and known is None:
            self.show_failed(err)

    # ---------------------------------------------------------------- states
    def show_nothing(self) -> None:
        """Nothing selected."""
        self._say(self.tr("Select a drop to see what it holds."))

    def show_loading(self) -> None:
        """The selected drop's details are being fetched."""
        self._say(self.tr("Loading the details…"))

    def show_failed(self, err: BaseException) -> None:
        """No details: the reason in one translated sentence (the technical one for IT
        in the tooltip)."""
        sentence, technical = describe(err)
        self._say(fill(self.tr("The details cannot be shown. %1"), sentence))
        self.status_label.setToolTip(plain_tip(technical))

    def show_danger(self, sentence: str) -> None:
        """A drop that failed verification: only why it is dangerous, no details."""
        self._say(sentence)

    def _say(self, text: str) -> None:
        self.status_label.setText(text)
        self.status_label.setToolTip("")
        self.status_label.setVisible(True)
        self.body.setVisible(False)
        self.files.setRowCount(0)
        self.message.clear()

    def show_details(
        self, details: DropDetails, receipts: Sequence[RecipientStatus] | None = None
    ) -> None:
        """A verified drop's details; ``receipts`` (Sent) adds each role's download count."""
        self.status_label.clear()
        self.status_label.setVisible(False)
        self.body.setVisible(True)
        self.sender_label.setText(self.person_text(details.sender))
        self.to_label.setText("\n".join(self.chosen_text(c, receipts) for c in details.to))
        self.classification_label.setText(classification_label(details.classification))
        self.expiry_label.setText(short_date(details.expires) + " " + _clock(details.expires))
        self.suite_label.setText(suite_label(details.suite))
        self.files.setRowCount(len(details.files))
        for row, info in enumerate(details.files):
            name = QTableWidgetItem(shown(info.name))
            name.setToolTip(plain_tip(shown(info.name)))
            self.files.setItem(row, 0, name)
            self.files.setItem(row, 1, QTableWidgetItem(human_size(info.size)))
        count = self.tr("%1 in %n file(s)", "", len(details.files))
        self.total_label.setText(fill(count, human_size(details.total)))
        self.message.setPlainText(shown_message(details.message) or self.tr("(no message)"))

    # ---------------------------------------------------------------- words
    def person_text(self, user: str) -> str:
        """A person as 「鈴木 太郎(人事課)」, from the verified directory (the id if unknown)."""
        entry = self.model.entry(user)
        if entry is None:
            return user
        return fill(self.tr("%1 (%2)"), shown(entry.name_ja), shown(entry.department))

    def role_name(self, role: str) -> str:
        """A role mailbox as 「会計課 窓口(共用窓口)」."""
        entry = self.model.entry(role)
        return fill(self.tr("%1 (role mailbox)"), shown(entry.name_ja if entry else role))

    def chosen_text(self, chosen: Chosen, receipts: Sequence[RecipientStatus] | None) -> str:
        """One line of "To": a person, or a role (with its download count in Sent)."""
        if chosen.kind != ROLE:
            return self.person_text(chosen.id)
        if receipts is None:
            return self.role_name(chosen.id)
        return fill(self.tr("%1: %2"), self.role_name(chosen.id), self.role_count(chosen, receipts))

    def role_count(self, chosen: Chosen, receipts: Sequence[RecipientStatus]) -> str:
        """「3 名中 1 名がダウンロード済み、2 名は端末未登録」."""
        done = sum(1 for r in receipts if r.user in chosen.members and r.downloaded)
        everyone = str(len(chosen.members) + len(chosen.no_device))
        if chosen.no_device:
            text = self.tr("%1 of %2 members downloaded, %3 without a registered device")
            return fill(text, str(done), everyone, str(len(chosen.no_device)))
        return fill(self.tr("%1 of %2 members downloaded"), str(done), everyone)


def _clock(stamp: str) -> str:
    # short_date gives the day; the hour matters on the last day
    try:
        return parse_time(stamp).astimezone().strftime("%H:%M")
    except SecureSendError:
        return ""
