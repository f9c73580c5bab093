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
    if sum(reading_cost(f.path, f.name) for f in request.files) <= CHECK_HERE_BYTES:
        return _forced(request, _run_here(task))
    dialog = QProgressDialog(
        QCoreApplication.translate("MyNumberGate", "Checking the files for My Numbers…"),
        QCoreApplication.translate("MyNumberGate", "Cancel"),
        0,
        max(len(request.files), 1),
        parent,
    )
    dialog.setWindowTitle(QCoreApplication.translate("MyNumberGate", "Checking files"))
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    dialog.setMinimumDuration(SHOW_AFTER_MS)
    dialog.setAutoClose(False)
    dialog.setAutoReset(False)
    outcome: list[object] = []
    loop = QEventLoop()
    task.progressed.connect(lambda _label, done, _total: dialog.setValue(done))
    task.succeeded.connect(outcome.append)
    task.failed.connect(outcome.append)
    task.ended.connect(loop.quit)
    dialog.canceled.connect(task.cancel.set)
    threads.start(task)
    loop.exec()
    dialog.deleteLater()
    result = outcome[0] if outcome else None
    if task.cancel.is_set() or result is None:
        raise CheckCancelled
    if isinstance(result, BaseException):
        raise result
    return _forced(request, result)


def _run_here(task: threads.Task) -> object:
    """A small check on this thread: it ends sooner than a window could appear."""
    outcome: list[object] = []
    task.succeeded.connect(outcome.append)
    task.failed.connect(outcome.append)
    task.run()  # signals to this thread's own slots are delivered at once
    result = outcome[0] if outcome else None
    if isinstance(result, BaseException):
        raise result
    return result


def _forced(request: SendRequest, result: object) -> SendRequest:
    if not isinstance(result, MyNumberCheck):  # pragma: no cover - the task's one result
        raise TypeError("the My Number check returned no verdict")
    expires, classification = result.forced(request.expires, request.classification)
    return dataclasses.replace(
        request, mynumber=result, expires=expires, classification=classification
    )
