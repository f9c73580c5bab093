"""Save all: every submission of a file request in one action, one folder per submitter.

The desk of a request (a member of its mailbox) saves what the addressees submitted
into ``TARGET/{name_ja without spaces}_{id}/{YYYYMMDD-HHMMSS}/``, the time being the
submission's signed ``created`` in Asia/Tokyo; a person who submitted twice gets two
such folders, and the newer is marked ``latest`` in the summary (nothing is replaced).

Guarantees:

* Only what :func:`request_status.status <secure_send.client.request_status.status>`
  counts is saved: verified drops whose signed manifest names the request, from
  active addressees. A drop from someone the request did not ask (a stray) and a
  dangerous drop (one that fails verification, now or while it is saved) are never
  saved; the summary lists them — every dangerous drop of the inbox, since which
  request an unverified manifest names cannot be believed.
* The directory is verified once, by the caller (``directory``), and every drop is
  checked against that one; each drop goes through :func:`receive.receive
  <secure_send.client.receive.receive>`, so each keeps its guarantees: manifest and
  hashes checked before anything is decrypted, files placed atomically (a cut leaves
  no partial plaintext), a signed receipt posted (or owed) for each.
* Resumable: a submission this device already saved (its receipt posted or owed)
  whose folder is still there is skipped; a cut run (cancel, a lost connection, a
  killed process) saved each drop whole or not at all, so the next run saves only
  what is missing.
* Downloads run on ``workers`` threads, each with its own :class:`ServerApi` (a
  ``requests.Session`` is not thread-safe); the progress callback is called from
  those threads (under one lock: never twice at once), with one overall figure.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import dataclasses
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from secure_send.client import receive, request_status
from secure_send.client.api import ServerApi
from secure_send.client.directory_sync import Directory
from secure_send.client.errors import Cancelled, ClientError, ConnectionLost, DangerousDrop
from secure_send.client.session import Session
from secure_send.core.encoding import parse_time
from secure_send.core.envelope.manifest import SignedManifest
from secure_send.core.envelope.request import JST
from secure_send.core.error_codes import ErrorCode
from secure_send.core.errors import SecureSendError

POLL_SECONDS = 0.2  # how often the caller's cancel event is looked at while drops save


@dataclass(frozen=True)
class SaveProgress:
    """One overall figure: bytes over all submissions saved in this run, and
    submissions finished (saved or failed) of those to save."""

    bytes_done: int
    bytes_total: int
    done: int
    total: int


Progress = Callable[[SaveProgress], None]


@dataclass(frozen=True)
class Submission:
    """One submission as the desk saves it (or saved it earlier)."""

    drop_id: str
    user: str
    created: str  # signed by the submitter's device
    folder: Path  # TARGET/{name}_{id}/{YYYYMMDD-HHMMSS}
    latest: bool  # the person's newest submission (the one to use)
    late: bool
    files: tuple[Path, ...] = ()  # what this run saved (none for a skipped one)
    programs: tuple[Path, ...] = ()  # saved files that run when opened
    receipt_pending: bool = False  # saved; the server is told at the next listing
    not_scanned: str | None = None  # saved without the virus scan policy "warn" asked for

    def to_json(self) -> dict[str, Any]:
        return {
            "drop_id": self.drop_id,
            "id": self.user,
            "created": self.created,
            "folder": str(self.folder),
            "latest": self.latest,
            "late": self.late,
            "files": [str(f) for f in self.files],
            "programs": [str(p) for p in self.programs],
            "receipt_pending": self.receipt_pending,
            "not_scanned": self.not_scanned,
        }


@dataclass(frozen=True)
class Problem:
    """A drop that was not saved, and why (``code`` is stable for scripts)."""

    drop_id: str
    code: str
    reason: str
    user: str = ""  # the submitter, when known (never for a drop that did not verify)

    def to_json(self) -> dict[str, str]:
        return {"drop_id": self.drop_id, "id": self.user, "code": self.code, "reason": self.reason}


@dataclass(frozen=True)
class SaveSummary:
    """What one run of :func:`save_all` did."""

    request_id: str
    target: Path
    saved: tuple[Submission, ...]  # saved by this run
    skipped: tuple[Submission, ...]  # saved by an earlier run, folder still there
    failed: tuple[Problem, ...]  # tried, not saved (run again)
    dangerous: tuple[Problem, ...]  # never saved: failed verification
    strays: tuple[str, ...]  # name the request, from someone it did not ask: not saved
    remaining: tuple[str, ...]  # not tried: cancelled, or stopped by a lost connection
    cancelled: bool = False

    @property
    def complete(self) -> bool:
        """Every submission of every addressee is saved in ``target``."""
        return not (self.failed or self.remaining)

    @property
    def people(self) -> int:
        """Submitters with at least one submission in ``target``."""
        return len({s.user for s in (*self.saved, *self.skipped)})

    def to_json(self) -> dict[str, Any]:
        return {
            "request_id": self.request_id,
            "target": str(self.target),
            "complete": self.complete,
            "cancelled": self.cancelled,
            "people": self.people,
            "saved": [s.to_json() for s in self.saved],
            "skipped": [s.to_json() for s in self.skipped],
            "failed": [p.to_json() for p in self.failed],
            "dangerous": [p.to_json() for p in self.dangerous],
            "strays": list(self.strays),
            "remaining": list(self.remaining),
        }


def person_folder(name_ja: str, user: str) -> str:
    """``{name_ja without spaces}_{id}`` as one safe path component (山田太郎_taro.yamada)."""
    return receive.safe_part("".join(name_ja.split()) + "_" + user)


def time_folder(created: str) -> str:
    """``YYYYMMDD-HHMMSS`` of a signed time, in Asia/Tokyo (the desk's day)."""
    return parse_time(created).astimezone(JST).strftime("%Y%m%d-%H%M%S")


def plan(state: request_status.RequestStatus, target: Path) -> list[Submission]:
    """Where each submission of each active addressee goes, oldest first per person.
    Two submissions in the same second get ``-2``, ``-3`` (the order is the signed one)."""
    out = []
    for person in state.people:
        base = target / person_folder(person.name_ja, person.user)
        used: dict[str, int] = {}
        for n, s in enumerate(person.submissions):
            name = time_folder(s.created)
            used[name] = used.get(name, 0) + 1
            folder = base / (name if used[name] == 1 else f"{name}-{used[name]}")
            latest = n == len(person.submissions) - 1
            out.append(Submission(s.drop_id, person.user, s.created, folder, latest, s.late))
    return out


def save_all(
    session: Session,
    directory: Directory,
    request_id: str,
    target: Path,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    workers: int = 4,
) -> SaveSummary:
    """Save every submission of ``request_id`` under ``target`` (see the module
    docstring); ``cancel`` stops it between and inside drops (what was saved stays).

    Raises:
        ClientError: the request does not verify (``unverified_request``), this person
            is not on its desk (``not_request_desk``), the inbox cannot be listed.
    """
    state = request_status.for_desk(session, directory, request_id)
    saved_here = {s.drop_id for p in state.people for s in p.submissions if s.saved}
    skipped, to_save = [], []
    for sub in plan(state, target):
        # saved by this device (receipt posted or owed) into this very folder: keep it
        if sub.drop_id in saved_here and _has_files(sub.folder):
            skipped.append(sub)
        else:
            to_save.append(sub)
    dangerous = [
        Problem(i.drop_id, str(i.problem_code or ErrorCode.UNVERIFIED_DROP), i.problem)
        for i in state.dangerous
    ]
    run = _Run(session, directory, to_save, progress, cancel, max(1, workers))
    run.go()
    return SaveSummary(
        request_id,
        target,
        tuple(run.saved),
        tuple(skipped),
        tuple(run.failed),
        tuple(dangerous + run.dangerous),
        state.strays,
        tuple(s.drop_id for s in to_save if s.drop_id in run.not_tried),
        cancelled=cancel is not None and cancel.is_set(),
    )


def _has_files(folder: Path) -> bool:
    try:
        return any(p.is_file() for p in folder.rglob("*"))
    except OSError:
        return False


@dataclass
class _Run:
    """One run's downloads on a pool of threads, and what became of each drop."""

    session: Session
    directory: Directory
    todo: list[Submission]
    progress: Progress | None
    cancel: threading.Event | None
    workers: int
    saved: list[Submission] = field(default_factory=list)
    failed: list[Problem] = field(default_factory=list)
    dangerous: list[Problem] = field(default_factory=list)
    not_tried: set[str] = field(default_factory=set)
    # set by the caller's cancel or a lost connection: the drops in flight stop, no
    # new one starts (receive's own cancel, which discards a drop's partial files)
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _local: threading.local = field(default_factory=threading.local)
    _apis: list[ServerApi] = field(default_factory=list)
    _sizes: dict[str, int] = field(default_factory=dict)  # drop id -> bytes to download
    _moved: dict[tuple[str, str], int] = field(default_factory=dict)  # (drop, blob) -> bytes
    _done: int = 0

    def go(self) -> None:
        self.not_tried = {s.drop_id for s in self.todo}
        if not self.todo:
            return
        pool = cf.ThreadPoolExecutor(self.workers, thread_name_prefix="save-all")
        try:
            # the sizes first (small signed manifests), so the bar has its total at once
            self._wait([pool.submit(self._size, s) for s in self.todo])
            self._report()
            self._wait([pool.submit(self._save, s) for s in self.todo])
        except BaseException:  # Ctrl-C in the CLI: stop the threads before leaving
            self._stop.set()
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            for api in self._apis:
                api.close()

    def _wait(self, futures: list[cf.Future[None]]) -> None:
        pending = set(futures)
        while pending:
            _, pending = cf.wait(pending, timeout=POLL_SECONDS)
            if self.cancel is not None and self.cancel.is_set():
                self._stop.set()
        for future in futures:
            future.result()  # a bug in a task is not swallowed

    def _worker(self) -> Session:
        """This thread's session: the caller's, with a connection pool of its own."""
        mine: Session | None = getattr(self._local, "session", None)
        if mine is None:
            shared = self.session.api
            api = ServerApi(shared.base_url, shared.signer, ca_bundle=shared.ca_bundle)
            with self._lock:
                self._apis.append(api)
            mine = dataclasses.replace(self.session, api=api)
            self._local.session = mine
        return mine

    def _size(self, sub: Submission) -> None:
        """The drop's download size, for the progress bar only (receive verifies the
        manifest itself; a size it cannot learn counts as 0)."""
        if self._stop.is_set():
            return
        try:
            signed = self._worker().api.drop(sub.drop_id)
            size = sum(b.size for b in SignedManifest.from_json(signed).manifest.blobs)
        except (SecureSendError, KeyError, TypeError, ValueError):
            size = 0
        with self._lock:
            self._sizes[sub.drop_id] = size

    def _save(self, sub: Submission) -> None:
        if self._stop.is_set():
            return
        with self._lock:
            self.not_tried.discard(sub.drop_id)

        def moved(blob: str, done: int, total: int) -> None:
            with self._lock:
                self._moved[(sub.drop_id, blob)] = done
                self._report_locked()

        try:
            got = receive.receive(
                self._worker(), self.directory, sub.drop_id, sub.folder, moved, self._stop
            )
        except DangerousDrop as err:
            self._end(sub, dangerous=Problem(sub.drop_id, str(err.code), str(err)))
        except Cancelled:
            with self._lock:
                self.not_tried.add(sub.drop_id)  # stopped inside: nothing of it was placed
            _remove_empty(sub.folder)
        except ClientError as err:
            if isinstance(err, ConnectionLost):  # the others would wait for the same server
                self._stop.set()
            self._end(sub, failed=Problem(sub.drop_id, str(err.code), str(err), sub.user))
        except OSError as err:  # this disk: full, or not writable; the others would fail too
            self._stop.set()
            reason = f"{err.strerror or err}: {err.filename or sub.folder}"
            code = str(ErrorCode.SAVE_INCOMPLETE)
            self._end(sub, failed=Problem(sub.drop_id, code, reason, sub.user))
        else:
            done = dataclasses.replace(
                sub,
                files=tuple(got.files),
                programs=tuple(got.programs),
                receipt_pending=got.receipt_pending,
                not_scanned=got.not_scanned,
            )
            self._end(sub, saved=done)

    def _end(
        self,
        sub: Submission,
        *,
        saved: Submission | None = None,
        failed: Problem | None = None,
        dangerous: Problem | None = None,
    ) -> None:
        if saved is None:
            _remove_empty(sub.folder)
        with self._lock:
            if saved is not None:
                self.saved.append(saved)
                # the whole drop counts once placed (the metadata blob included)
                self._moved = {k: v for k, v in self._moved.items() if k[0] != sub.drop_id}
                self._moved[(sub.drop_id, "")] = self._sizes.get(sub.drop_id, 0)
            if failed is not None:
                self.failed.append(failed)
            if dangerous is not None:
                self.dangerous.append(dangerous)
            self._done += 1
            self._report_locked()

    def _report(self) -> None:
        with self._lock:
            self._report_locked()

    def _report_locked(self) -> None:
        if self.progress is not None:
            total = sum(self._sizes.values())
            done = min(total, sum(self._moved.values()))
            self.progress(SaveProgress(done, total, self._done, len(self.todo)))


def _remove_empty(folder: Path) -> None:
    """The time folder of a drop that was not saved, if it is empty (receive removes
    the folders it made inside it). The person's folder stays: another thread may be
    saving their other submission into it right now."""
    with contextlib.suppress(OSError):
        folder.rmdir()  # only ever an empty folder
