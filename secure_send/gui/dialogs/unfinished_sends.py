"""Sends an earlier run left unfinished, offered at start-up: finish each, or discard it.

``AppModel.sends.check_unfinished`` finds them (the app's or ``secure-send send``'s);
this dialog names each — when it was made, to whom (names from the verified directory),
which files (decrypted in memory from the sender's own metadata copy) and how big — and
offers 送信を完了 (finished on a worker task, same drop id, retrying like any send) or
破棄 (after a confirmation). Resume files that could not be read were set aside; the
dialog says how many, in a sentence, never crashing on them.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFrame,
    QHBoxLayout,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from secure_send.client.errors import ClientError
from secure_send.client.retry import Retrying
from secure_send.client.unfinished import UnfinishedSend
from secure_send.core.encoding import EncodingError, parse_time
from secure_send.core.error_codes import ErrorCode
from secure_send.gui import threads
from secure_send.gui.dates import short_date
from secure_send.gui.errors import describe
from secure_send.gui.model import AppModel
from secure_send.gui.widgets.buttons import plain_label
from secure_send.gui.widgets.file_list import human_size


def confirm_discard(parent: QWidget) -> bool:
    """Ask before discarding a drop (a test answers the box as a person would)."""
    title = QCoreApplication.translate("UnfinishedSends", "Discard")
    box = QMessageBox(QMessageBox.Icon.Warning, title, "", parent=parent)
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.setText(
        QCoreApplication.translate(
            "UnfinishedSends", "Discard this drop? Nothing of it will be delivered."
        )
    )
    discard = box.addButton(
        QCoreApplication.translate("UnfinishedSends", "&Discard"),
        QMessageBox.ButtonRole.DestructiveRole,
    )
    box.addButton(
        QCoreApplication.translate("UnfinishedSends", "&Keep"), QMessageBox.ButtonRole.RejectRole
    )
    box.exec()
    return box.clickedButton() is discard


class UnfinishedRow(QFrame):
    """One unfinished send: what it is, its state, 送信を完了 and 破棄."""

    def __init__(self, model: AppModel, item: UnfinishedSend, parent: QWidget) -> None:
        super().__init__(parent)
        self.model, self.item = model, item
        self.task: threads.Task | None = None
        self.done: dict[str, int] = {}  # bytes done per blob
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAccessibleName(self.tr("Unfinished drop %1").replace("%1", item.drop_id))
        self.summary = plain_label(self._summary(), self)
        self.summary.setWordWrap(True)
        # names come from the verified directory, which may load after the dialog opened
        model.directory_changed.connect(self._on_model_directory_changed)
        self.status = plain_label(self)
        self.status.setWordWrap(True)
        self.status.setAccessibleName(self.tr("State"))
        self.bar = QProgressBar(self)
        self.bar.setRange(0, 100)
        self.bar.setAccessibleName(self.tr("Progress"))
        self.bar.hide()
        self.finish_button = QPushButton(self.tr("&Finish sending"), self)
        self.finish_button.setAccessibleName(self.tr("Finish sending this drop"))
        self.finish_button.clicked.connect(self._on_finish_button_clicked)
        self.discard_button = QPushButton(self.tr("&Discard"), self)
        self.discard_button.setAccessibleName(self.tr("Discard this drop"))
        self.discard_button.clicked.connect(self._on_discard_button_clicked)
        buttons = QHBoxLayout()
        buttons.addWidget(self.status, 1)
        buttons.addWidget(self.discard_button)
        buttons.addWidget(self.finish_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.bar)
        layout.addLayout(buttons)

    def _on_model_directory_changed(self, _state: object) -> None:
        self.summary.setText(self._summary())

    def _summary(self) -> str:
        item = self.item
        names = []
        for user in item.recipients:
            entry = self.model.entry(user)
            names.append(entry.name_ja if entry is not None else user)
        sized = self.tr("%1 (%2)")  # a file name and its size
        files = "、".join(
            sized.replace("%2", human_size(size)).replace("%1", name) for name, size in item.files
        )
        if not files:  # this device could not read its own copy of the names
            files = self.tr("(file names unavailable)")
        lines = [
            self.tr("Started: %1").replace("%1", _when(item.created)),
            self.tr("To: %1").replace("%1", "、".join(names)),
            self.tr("Files: %1").replace("%1", files),
            self.tr("Size: %1").replace("%1", human_size(item.size)),
        ]
        return "\n".join(lines)

    @property
    def settled(self) -> bool:
        """Finished or discarded (nothing left to do)."""
        return not self.finish_button.isVisible() and self.task is None

    def _busy(self, task: threads.Task) -> None:
        self.finish_button.setEnabled(False)
        self.discard_button.setEnabled(False)
        task.failed.connect(self._on_task_failed)
        self.task = threads.start(task)

    def _on_finish_button_clicked(self) -> None:
        task = self.model.sends.finish_send(self.item.pending)
        task.progressed.connect(self._on_task_progressed)
        task.noted.connect(self._on_task_noted)
        task.succeeded.connect(self._on_finished)
        self.status.setText(self.tr("Sending…"))
        self.bar.show()
        self._busy(task)

    def _on_discard_button_clicked(self) -> None:
        if not confirm_discard(self):
            return
        task = self.model.sends.discard_send(self.item.pending)
        task.succeeded.connect(self._on_discarded)
        self.status.setText(self.tr("Discarding…"))
        self._busy(task)

    def _on_task_progressed(self, label: str, done: int, total: int) -> None:
        self.done[label] = done
        size = max(1, self.item.size)
        self.bar.setValue(min(100, sum(self.done.values()) * 100 // size))
        self.status.setText(self.tr("Sending…"))

    def _on_task_noted(self, note: object) -> None:
        if isinstance(note, Retrying):
            text = self.tr("Connection lost. Retrying… (attempt %1, next in %2 seconds)")
            text = text.replace("%2", str(max(1, round(note.delay))))
            self.status.setText(text.replace("%1", str(note.attempt)))

    def _settle(self, text: str) -> None:
        self.task = None
        self.status.setText(text)
        self.finish_button.hide()
        self.discard_button.hide()

    def _on_finished(self, drop_id: str) -> None:
        self.bar.setValue(100)
        self._settle(self.tr("Sent. Drop ID: %1").replace("%1", drop_id))

    def _on_discarded(self, drop_id: str) -> None:
        self.bar.hide()
        self._settle(self.tr("Discarded. Nothing was delivered."))

    def _on_task_failed(self, err: BaseException) -> None:
        sentence, _ = describe(err)
        if self.model.sends.is_unfinished(self.item.drop_id):
            self.task = None
            self.status.setText(sentence)
            self.finish_button.setEnabled(True)
            self.discard_button.setEnabled(True)
        else:  # it can never finish (a file changed, the drop recalled): forgotten
            self._settle(sentence)


class UnfinishedSendsDialog(QDialog):
    """See the module docstring."""

    def __init__(
        self,
        model: AppModel,
        found: list[UnfinishedSend],
        broken: list[str],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Unfinished sends"))
        self.setAccessibleName(self.tr("Unfinished sends"))
        intro = plain_label(self)
        intro.setWordWrap(True)
        if found:
            intro.setText(
                self.tr(
                    "%n send(s) started earlier did not finish. Nothing of them has been "
                    "delivered yet. Finish or discard each.",
                    "",
                    len(found),
                )
            )
        elif not broken:  # File → Unfinished sends, with nothing left to finish
            intro.setText(self.tr("There are no unfinished sends."))
        self.broken_label = plain_label(self)
        self.broken_label.setWordWrap(True)
        self.broken_label.setAccessibleName(self.tr("Sends that cannot be resumed"))
        if broken:  # the sentence for resume_broken, not the client's English detail
            sentence, _ = describe(ClientError(ErrorCode.RESUME_BROKEN, ""))
            count = self.tr("%n unfinished send(s) could not be read.", "", len(broken))
            self.broken_label.setText(count + " " + sentence)
        else:
            self.broken_label.hide()
        self.rows = {item.drop_id: UnfinishedRow(model, item, self) for item in found}
        inner = QWidget(self)
        column = QVBoxLayout(inner)
        for row in self.rows.values():
            column.addWidget(row)
        column.addStretch()
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setWidget(inner)
        scroll.setVisible(bool(found))
        closing = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.close_button = closing.button(QDialogButtonBox.StandardButton.Close)
        self.close_button.setText(self.tr("&Close"))
        closing.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.broken_label)
        layout.addWidget(scroll, 1)
        layout.addWidget(closing)
        self.resize(640, 420)


def _when(created: str) -> str:
    """A drop's creation time as a short local date and time (as given if unreadable)."""
    try:
        clock = parse_time(created).astimezone().strftime("%H:%M")
    except EncodingError:
        return created
    return f"{short_date(created)} {clock}"
