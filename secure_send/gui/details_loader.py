"""Drop details for the Inbox and Sent pages, fetched as :mod:`.threads` tasks.

The :class:`~secure_send.client.drop_details.DetailsCache` (memory only: file
names and messages never reach the disk in clear) is filled on worker threads;
the views read it and connect to ``ready``/``failed``. A view asks for the
selected drop (``load``) and may prefetch the listed ones (``prefetch``, each
drop once per run) so that search finds file names and messages.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from secure_send.client.drop_details import DetailsCache, DropDetails
from secure_send.gui import threads

if TYPE_CHECKING:  # the model owns this loader
    from secure_send.gui.model import AppModel

Outcome = DropDetails | Exception


class DetailsLoader(QObject):
    """See the module docstring."""

    ready = Signal(str, object)  # drop id, DropDetails
    failed = Signal(str, object)  # drop id, why no details can be shown (an exception)

    def __init__(self, model: AppModel) -> None:
        super().__init__(model)
        self._model = model
        self.cache = DetailsCache()
        self._prefetched: set[str] = set()  # drops whose details were asked for once

    def cached(self, drop_id: str) -> DropDetails | None:
        """A drop's details if already fetched (no network)."""
        return self.cache.get(drop_id)

    def load(self, drop_ids: list[str]) -> threads.Task:
        """A started task fetching these drops' details one after the other (known ones
        come from memory); each drop ends in ``ready`` or ``failed``."""
        model = self._model

        def work(task: threads.Task) -> list[tuple[str, Outcome]]:
            directory = model.directory or model.session.directory()
            done: list[tuple[str, Outcome]] = []
            for drop_id in drop_ids:
                if task.cancel.is_set():
                    break
                try:
                    got = self.cache.fetch(model.session, directory, drop_id, task.cancel)
                except Exception as err:
                    done.append((drop_id, err))
                else:
                    done.append((drop_id, got))
            return done

        task = threads.Task(work)
        task.read_only = True  # nothing written: quitting need not wait for it
        task.succeeded.connect(self._on_loaded)
        task.failed.connect(lambda err: self._on_loaded([(d, err) for d in drop_ids]))
        return threads.start(task)

    def prefetch(self, drop_ids: list[str]) -> threads.Task | None:
        """Fetch the details of listed drops not asked for before in this run; None when
        there is nothing new."""
        new = [d for d in drop_ids if d not in self._prefetched and self.cache.get(d) is None]
        if not new:
            return None
        self._prefetched.update(new)
        return self.load(new)

    def _on_loaded(self, results: list[tuple[str, Outcome]]) -> None:
        for drop_id, got in results:
            if isinstance(got, DropDetails):
                self.ready.emit(drop_id, got)
            else:
                self.failed.emit(drop_id, got)
