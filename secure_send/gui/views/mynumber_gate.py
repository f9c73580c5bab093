"""The My Number check between pressing Send and the confirm sheet (issue 19).

Up to :data:`CHECK_HERE_BYTES` to read (:func:`.files.reading_cost`: a photo or a program
costs nothing, it is only sniffed) the files are scanned at once; more off the main
thread (:meth:`AppModel.check_mynumber`), and a small window says so, with Cancel, if it
takes longer than half a second (a workbook of 20 MB takes about that). The call returns
once the check is done, like the confirm dialog's own ``exec()``: the Send page stays a
simple sequence (check → confirm → send).
"""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import QCoreApplication, QEventLoop, Qt
from PySide6.QtWidgets import QProgressDialog, QWidget

from secure_send.client.mynumber import MyNumberCheck
from secure_send.core.dlp.files import reading_cost
from secure_send.gui import threads
from secure_send.gui.model import AppModel, SendRequest

SHOW_AFTER_MS = 500
# files this small are checked on the main thread, in well under a tenth of a second
CHECK_HERE_BYTES = 1024 * 1024


class CheckCancelled(Exception):
    """The sender cancelled the check: nothing happens, the form stays as it was."""


def checked_request(model: AppModel, request: SendRequest, parent: QWidget) -> SendRequest:
    """``request`` with its My Number check, its expiry and classification as the check
    forces them (機密性3 and the policy's shorter expiry when the files hold My Numbers).

    Raises:
        CheckCancelled: the sender pressed Cancel.
        Exception: the check's own error (a file vanished, the directory unverified).
    """
    task = model.check_mynumber(request)
    outcome: list[object] = []  # the task's one result: a verdict or an exception
    task.succeeded.connect(outcome.append)
    task.failed.connect(outcome.append)
    if sum(reading_cost(f.path, f.name) for f in request.files) <= CHECK_HERE_BYTES:
        task.run()  # a small check on this thread: signals to its own slots arrive at once
    else:
        _run_with_window(task, len(request.files), parent)
    if task.cancel.is_set() or not outcome:
        raise CheckCancelled
    if isinstance(outcome[0], BaseException):
        raise outcome[0]
    return _forced(request, outcome[0])


def _run_with_window(task: threads.Task, files: int, parent: QWidget) -> None:
    """Run ``task`` on the pool and wait for it here, a window with Cancel appearing if
    it takes longer than :data:`SHOW_AFTER_MS`."""
    dialog = QProgressDialog(
        QCoreApplication.translate("MyNumberGate", "Checking the files for My Numbers…"),
        QCoreApplication.translate("MyNumberGate", "Cancel"),
        0,
        max(files, 1),
        parent,
    )
    dialog.setWindowTitle(QCoreApplication.translate("MyNumberGate", "Checking files"))
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    dialog.setMinimumDuration(SHOW_AFTER_MS)
    dialog.setAutoClose(False)
    dialog.setAutoReset(False)
    loop = QEventLoop()
    task.progressed.connect(lambda _label, done, _total: dialog.setValue(done))
    task.ended.connect(loop.quit)
    dialog.canceled.connect(task.cancel.set)
    threads.start(task)
    loop.exec()
    dialog.deleteLater()


def _forced(request: SendRequest, result: object) -> SendRequest:
    if not isinstance(result, MyNumberCheck):  # pragma: no cover - the task's one result
        raise TypeError("the My Number check returned no verdict")
    expires, classification = result.forced(request.expires, request.classification)
    return dataclasses.replace(
        request, mynumber=result, expires=expires, classification=classification
    )
