"""The directory signer: the only process that holds the online signing key.

It runs on IT's side next to the organisation home (``secure-send-admin signer``,
or one round with ``sync``) and talks to the drop server outbound, signing its
requests with its own identity key (``online/signer-identity.key``), which the
server pins. Each round it

1. takes the enrolment and key-add requests the server queued (a long-poll, then a
   short batching window so a roll-out morning's requests share one snapshot),
2. decides them (:func:`secure_send.org.ops.enrol_batch`: possession proof,
   one-time code; :func:`secure_send.org.key_adds.add_key_batch`: an enrolled
   device's own signature; one log append, one new signed snapshot each),
3. republishes when the held snapshot is half-way to expiry, and
4. pushes to the server what it lacks: the new log events, the snapshot (as a
   delta of the changed entries, or whole when the server's copy is not ours),
   and each request's outcome.

Changes made meanwhile by other admin commands (import, depart, …) are in the
same log and published snapshot, so the next round pushes them too.

Limits: the signer trusts the organisation home it runs on. It does not trust
the server: a stale or refused push is retried from the server's own state, and
nothing the server says changes the log.
"""

from __future__ import annotations

import bisect
import contextlib
import json
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from secure_send.client.api import ServerApi, Signer
from secure_send.client.errors import ClientError, ServerError
from secure_send.core.directory.enrol import EnrolmentError, EnrolmentRequest
from secure_send.core.directory.key_add import KeyAddError, KeyAddRequest
from secure_send.core.directory.log import Event, touched_entry
from secure_send.core.directory.push import (
    TICKET,
    DirectoryKind,
    EnrolResult,
    EnrolStatus,
    Push,
    RefusalReason,
)
from secure_send.core.directory.refresh import Delta
from secure_send.core.directory.trust import RootDocument, SnapshotHeader, body_hash
from secure_send.core.encoding import parse_time, utc_now
from secure_send.core.error_codes import ErrorCode
from secure_send.org import ops
from secure_send.org.home import HomeError, OrgHome
from secure_send.org.key_adds import KeyAddOutcome, add_key_batch
from secure_send.org.replay_cache import log_lines

log = logging.getLogger("secure_send.signer")

SIGNER_USER, SIGNER_DEVICE = "secure-send-signer", "directory"  # keyid of its requests
OPERATOR = "directory-signer"
BATCH_WINDOW = 0.5  # seconds: requests arriving this soon after the first share a snapshot
POLL_SECONDS = 5.0  # a long-poll's length: also how soon an admin change is pushed


@dataclass
class Round:
    """What one round did (for logs, tests and ``sync``'s output)."""

    requests: int = 0
    enrolled: int = 0
    refused: int = 0
    pending: int = 0
    key_adds: int = 0  # key-add requests taken (issue 21)
    keys_added: int = 0  # of which added now or already listed ("done")
    published: bool = False
    pushed_epoch: int | None = None
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        """For ``--json``."""
        return dict(self.__dict__)


@dataclass
class DirectorySigner:
    """One organisation home, one drop server; see the module docstring."""

    home: OrgHome
    server_url: str
    batch_window: float = BATCH_WINDOW
    operator: str = OPERATOR
    _api: ServerApi = field(init=False)

    def __post_init__(self) -> None:
        self.home.require()
        key = self.home.signer_identity()
        self._api = ServerApi(self.server_url, Signer(SIGNER_USER, SIGNER_DEVICE, key))

    def close(self) -> None:
        """Release connections."""
        self._api.close()

    # ---------------------------------------------------------------- rounds

    def run_once(self, wait: float = 0.0) -> Round:
        """One round (see the module docstring); ``wait`` s for a first request.

        Raises:
            ClientError: the server is unreachable or refused the push.
        """
        started = time.monotonic()
        queued, key_adds = self._queued(wait)
        if (queued or key_adds) and self.batch_window:
            time.sleep(self.batch_window)
            queued, key_adds = self._queued(0)
        report = Round(requests=len(queued), key_adds=len(key_adds))
        results = self._decide(queued, report) + self._add_keys(key_adds, report)
        report.published = report.published or self._refresh_if_due()
        report.pushed_epoch = self._push(results)
        report.seconds = round(time.monotonic() - started, 3)
        if queued or key_adds or report.published:
            log.info("signer round: %s", report.to_json())
        return report

    def run_forever(self, stop: threading.Event, poll: float = POLL_SECONDS) -> None:
        """Rounds until ``stop`` is set; a failed round is logged and retried."""
        while not stop.is_set():
            try:
                self.run_once(wait=poll)
            except (ClientError, HomeError) as err:
                log.warning("signer round failed: %s", err)
                stop.wait(min(poll, 2.0))

    # ---------------------------------------------------------------- steps

    def _queued(self, wait: float) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        answer = self._api.signer_queue(wait)
        return list(answer["requests"]), list(answer.get("key_adds", []))

    def _add_keys(self, queued: list[dict[str, Any]], report: Round) -> list[EnrolResult]:
        """Decide key-add requests (:mod:`.key_adds`): ``done`` or ``refused``."""
        if not queued:  # an idle round does not read the directory for nothing
            return []
        parsed: list[tuple[str, KeyAddRequest]] = []
        results: list[EnrolResult] = []
        for item in queued:
            try:
                raw = json.loads(item["request"])
                parsed.append((str(item["ticket"]), KeyAddRequest.from_json(raw)))
            except (KeyAddError, KeyError, TypeError, ValueError):
                ticket = str(item.get("ticket", "")) if isinstance(item, dict) else ""
                reason = RefusalReason.BAD_KEY_ADD
                results.append(EnrolResult(ticket, EnrolStatus.REFUSED, reason))
        outcomes = add_key_batch(self.home, [r for _, r in parsed], self.operator)
        for (ticket, _), (outcome, _why) in zip(parsed, outcomes, strict=True):
            if outcome in (KeyAddOutcome.ADDED, KeyAddOutcome.DONE):
                results.append(EnrolResult(ticket, EnrolStatus.DONE))
                report.keys_added += 1
            else:
                reason = RefusalReason(outcome.value)  # bad_key_add or conflict
                results.append(EnrolResult(ticket, EnrolStatus.REFUSED, reason))
        report.refused += sum(r.status is EnrolStatus.REFUSED for r in results)
        if any(o is KeyAddOutcome.ADDED for o, _ in outcomes):
            report.published = True
        return [r for r in results if _valid_ticket(r.ticket)]

    def _decide(self, queued: list[dict[str, Any]], report: Round) -> list[EnrolResult]:
        parsed: list[tuple[str, EnrolmentRequest]] = []
        results: list[EnrolResult] = []
        for item in queued:
            try:
                parsed.append((item["ticket"], _parse(item["request"])))
            except (EnrolmentError, KeyError, TypeError, ValueError):
                results.append(
                    EnrolResult(
                        str(item.get("ticket", "")),
                        EnrolStatus.REFUSED,
                        RefusalReason.BAD_ENROLMENT,
                    )
                )
        outcomes = ops.enrol_batch(self.home, [r for _, r in parsed], self.operator)
        for (ticket, _), (outcome, _why) in zip(parsed, outcomes, strict=True):
            results.append(_result(ticket, outcome))
        report.enrolled = sum(r.status is EnrolStatus.ENROLLED for r in results)
        report.pending = sum(r.status is EnrolStatus.PENDING for r in results)
        report.refused = sum(r.status is EnrolStatus.REFUSED for r in results)
        report.published = report.enrolled > 0
        return [r for r in results if _valid_ticket(r.ticket)]

    def _refresh_if_due(self) -> bool:
        """Sign a fresh snapshot when the published one is half-way to expiry."""
        with self.home.locked():
            header = self.home.published_header()
            if header is None:
                return False
            issued = parse_time(header.issued)
            expires = parse_time(header.expires)
            if utc_now() < issued + (expires - issued) / 2:
                return False
            self.home.publish()
            return True

    def _push(self, results: list[EnrolResult]) -> int | None:
        """Push what the server lacks; returns the epoch it then holds."""
        for attempt in range(3):
            state = self._api.signer_state()
            push = self._make_push(state, results, full=attempt > 0)
            if push is None:
                return int(state["epoch"])
            try:
                answer = self._api.signer_push(push.to_bytes())
            except ServerError as err:
                if err.code in (ErrorCode.STALE_PUSH, ErrorCode.PUSH_REFUSED) and attempt < 2:
                    log.warning("push refused (%s); retrying from the server's state", err.code)
                    continue
                raise
            return int(answer["epoch"])
        return None  # pragma: no cover - the loop returns or raises

    def _make_push(
        self, state: dict[str, Any], results: list[EnrolResult], *, full: bool
    ) -> Push | None:
        with self.home.locked():
            header = self.home.published_header()
            if header is None:
                raise HomeError("nothing published yet (run: secure-send-admin publish)")
            server_size = int(state["log_size"])
            if state["header_hash"] == body_hash(header.body()):
                # the server holds this very snapshot: only results, if any (an idle
                # round reads no more than the bundle's head line)
                none = Push(server_size, (), DirectoryKind.NONE, b"", tuple(results))
                return none if results else None
            data = self.home.bundle_file.read_bytes()  # the header above is its head line
            lines = log_lines(self.home.log_file)
        if server_size > header.log_size:
            raise HomeError(
                f"the server holds a longer log ({server_size}) than this home "
                f"({header.log_size}): is this the right organisation home?"
            )
        events = tuple(lines[server_size : header.log_size])
        if full:
            return Push(server_size, events, DirectoryKind.BUNDLE, data, tuple(results))
        return Push(server_size, events, DirectoryKind.DELTA, _delta(data, events), tuple(results))


def _delta(bundle_data: bytes, events: tuple[bytes, ...]) -> bytes:
    """The published snapshot's entries touched by ``events``, under its header.

    The entry lines are sorted by id (the publisher writes them so; a bundle that
    is not would give a delta the server refuses, and the retry sends it whole),
    so each touched entry is found by bisection, parsing ~log2(n) lines instead of
    all of them; many touched entries are found in one pass instead.
    """
    touched = (touched_entry(Event.from_bytes(line)) for line in events)
    ids = {i for i in touched if i is not None}
    end = bundle_data.index(b"\n")
    head = json.loads(bundle_data[:end])
    rows = bundle_data[end + 1 : -1].split(b"\n") if head["entries"] else []
    if len(rows) != head["entries"]:
        raise HomeError("the published bundle has a wrong number of entries")
    if len(ids) * max(1, len(rows).bit_length()) < len(rows):
        found = (bisect.bisect_left(rows, i, key=_entry_id) for i in sorted(ids))
        picked = sorted({n for n in found if n < len(rows) and _entry_id(rows[n]) in ids})
    else:
        picked = [n for n, row in enumerate(rows) if _entry_id(row) in ids]
    roots = tuple(RootDocument.from_json(r) for r in head["roots"])
    changed = tuple(rows[n].decode("utf-8") for n in picked)
    return Delta(roots, SnapshotHeader.from_json(head["header"]), changed).to_bytes()


def _entry_id(row: bytes) -> str:
    return str(json.loads(row)["id"])


def _parse(raw: Any) -> EnrolmentRequest:
    return EnrolmentRequest.from_json(json.loads(raw))


def _result(ticket: str, outcome: ops.Outcome) -> EnrolResult:
    if outcome is ops.Outcome.ENROLLED:
        return EnrolResult(ticket, EnrolStatus.ENROLLED)
    if outcome is ops.Outcome.PENDING:
        return EnrolResult(ticket, EnrolStatus.PENDING)
    reason = (
        RefusalReason.CONFLICT if outcome is ops.Outcome.CONFLICT else RefusalReason.BAD_ENROLMENT
    )
    return EnrolResult(ticket, EnrolStatus.REFUSED, reason)


def _valid_ticket(ticket: str) -> bool:
    return bool(TICKET.fullmatch(ticket))


@contextlib.contextmanager
def embedded_signer(
    home: OrgHome, server_url: str, *, poll: float = 1.0, batch_window: float = 0.05
) -> Iterator[DirectorySigner]:
    """The signer on a thread of this process (``secure-send demo``, tests) until the
    ``with`` block ends; production runs ``secure-send-admin signer`` on IT's host."""
    signer = DirectorySigner(home, server_url, batch_window=batch_window)
    stop = threading.Event()
    thread = threading.Thread(
        target=signer.run_forever, args=(stop, poll), name="directory-signer", daemon=True
    )
    thread.start()
    try:
        yield signer
    finally:
        stop.set()
        thread.join(timeout=poll + 10)
        signer.close()
