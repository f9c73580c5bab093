"""My Numbers go only to designated handlers (個人番号取扱, issue 19, item 2).

The My Number Act lets only designated staff (事務取扱担当者) handle specific personal
information. The server sees only ciphertext, so the check runs here, on the sender's
machine, before anything is encrypted: :func:`check` scans the files
(:mod:`secure_send.core.dlp`) and compares the chosen recipients with the directory's
``mynumber_handler`` attribute. A send whose files hold My Numbers

* goes only to designated entries — a designated person, a designated role mailbox, or a
  person who is a member of a designated role mailbox (the role's designation covers its
  members); otherwise it is **blocked** (:class:`MyNumberBlocked`, before any upload);
* is forced to 機密性3 and to the policy's shorter expiry (:meth:`MyNumberCheck.forced`);
* carries the signed counts in its manifest, which the server's audit log records
  (never a number or its hash: a :class:`~secure_send.core.dlp.scan.Report` holds none).

IT policy (``mynumber``, tighten-only, on without a policy): ``"on"`` counts the numbers the
scanner finds *likely* (a context word, or a column of valid numbers); ``"strict"`` also
counts files that could not be checked (an encrypted ZIP, a damaged workbook) and numbers
that only pass the check digit. ``mynumber_max_expiry_days`` is the shorter expiry (default
:data:`DEFAULT_MAX_EXPIRY_DAYS`). There is no ``"off"``: IT may tighten the rule, not lift it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from secure_send.client.errors import ClientError
from secure_send.core.directory.model import Entry, Kind
from secure_send.core.dlp.files import scan_files
from secure_send.core.dlp.scan import Report
from secure_send.core.envelope.manifest import Classification
from secure_send.core.error_codes import ErrorCode

MODES = ("on", "strict")
DEFAULT_MAX_EXPIRY_DAYS = 3  # a 年末調整 hand-over is picked up within days, not weeks


@dataclass(frozen=True)
class MyNumberRules:
    """What IT policy says (``mynumber``, ``mynumber_max_expiry_days``)."""

    strict: bool = False
    max_expiry_days: int = DEFAULT_MAX_EXPIRY_DAYS


def parse_rules(mode: object, days: object) -> MyNumberRules:
    """The rules from the policy's two values (None: not set). Raises ValueError with a
    sentence for IT; the policy module turns it into a ``bad_policy`` error."""
    if mode is not None and mode not in MODES:
        raise ValueError(
            'mynumber must be "on" or "strict" (the My Number check cannot be turned off)'
        )
    if days is not None and (type(days) is not int or days < 1):
        raise ValueError("mynumber_max_expiry_days must be a whole number ≥ 1")
    return MyNumberRules(
        strict=mode == "strict",
        max_expiry_days=DEFAULT_MAX_EXPIRY_DAYS if days is None else int(days),
    )


def designated_roles(entries: Mapping[str, Entry]) -> list[Entry]:
    """The active role mailboxes IT designated, by id."""
    found = (e for e in entries.values() if e.kind is Kind.ROLE and e.active and e.mynumber_handler)
    return sorted(found, key=lambda e: e.id)


def designated(
    entries: Mapping[str, Entry], entry_id: str, roles: Sequence[Entry] | None = None
) -> bool:
    """Whether ``entry_id`` may receive specific personal information: it is designated,
    or it is a person in a designated role mailbox (``roles``: :func:`designated_roles`,
    when the caller has them already)."""
    entry = entries.get(entry_id)
    if entry is None or not entry.active:
        return False
    if entry.mynumber_handler:
        return True
    if entry.kind is not Kind.PERSON:
        return False
    roles = designated_roles(entries) if roles is None else roles
    return any(entry_id in role.members for role in roles)


@dataclass(frozen=True)
class MyNumberCheck:
    """One send's files and recipients, judged. ``reports`` are in the files' order."""

    reports: tuple[Report, ...]
    not_designated: tuple[str, ...]  # chosen ids that may not receive My Numbers
    rules: MyNumberRules = field(default_factory=MyNumberRules)
    # designated role mailboxes, where a blocked sender may send instead (the app says so)
    designated_roles: tuple[str, ...] = ()

    def counts(self, report: Report) -> bool:
        """Whether this file counts as holding My Numbers under the rules."""
        if report.blocking:
            return True
        return self.rules.strict and (report.warning or report.unreadable is not None)

    @property
    def holding(self) -> tuple[Report, ...]:
        """The files that hold My Numbers (as the rules count them)."""
        return tuple(r for r in self.reports if self.counts(r))

    @property
    def warnings(self) -> tuple[Report, ...]:
        """Files with numbers that only pass the check digit (not counted): the sender is told."""
        return tuple(r for r in self.reports if r.warning and not self.counts(r))

    @property
    def unreadable(self) -> tuple[Report, ...]:
        """Files that could not be checked (not counted unless strict): the sender is told."""
        return tuple(r for r in self.reports if r.unreadable and not self.counts(r))

    @property
    def contains(self) -> bool:
        """The send holds specific personal information."""
        return bool(self.holding)

    @property
    def blocked(self) -> bool:
        """It holds My Numbers and a recipient is not designated: it may not go."""
        return self.contains and bool(self.not_designated)

    def found(self, report: Report) -> int:
        """How many numbers of this file count under the rules (every valid one when
        strict, the likely ones otherwise)."""
        return report.individual if self.rules.strict else report.likely

    @property
    def numbers(self) -> int:
        """How many My Numbers the counted files hold (at least one per counted file)."""
        # max(…, 1): a file that could not be checked counts as one in strict mode
        return sum(max(self.found(r), 1) for r in self.holding)

    def forced(
        self, expires: dt.timedelta, classification: Classification
    ) -> tuple[dt.timedelta, Classification]:
        """The expiry and classification the send goes with: 機密性3 and at most the
        policy's shorter expiry when it holds My Numbers, as chosen otherwise."""
        if not self.contains:
            return expires, classification
        return min(expires, dt.timedelta(days=self.rules.max_expiry_days)), Classification.C3

    def refusal(self) -> MyNumberBlocked:
        """The error that stops a blocked send (names files, counts and ids only)."""
        files = "; ".join(f"{r.name}: {self._count(r)}" for r in self.holding)
        return MyNumberBlocked(
            f"the files hold My Numbers (個人番号) — {files} — and may go only to designated"
            f" handlers (個人番号取扱); not designated: {', '.join(self.not_designated)}",
            self,
        )

    def _count(self, report: Report) -> str:
        if report.unreadable and not report.individual:
            return f"could not be checked ({report.unreadable})"
        return f"{self.found(report)} number(s)"


class MyNumberBlocked(ClientError):
    """A send with My Numbers to someone not designated (``mynumber_not_designated``)."""

    def __init__(self, message: str, check: MyNumberCheck) -> None:
        super().__init__(ErrorCode.MYNUMBER_NOT_DESIGNATED, message)
        self.check = check


def check(
    items: Sequence[tuple[Path, str]],
    entries: Mapping[str, Entry],
    to: Sequence[str],
    rules: MyNumberRules,
    *,
    cancelled: Callable[[], bool] = lambda: False,
    progress: Callable[[int, int], None] | None = None,
) -> MyNumberCheck:
    """Scan ``items`` ((path, name shown)) and judge them against the chosen ids ``to``."""
    reports = scan_files(items, cancelled=cancelled, progress=progress)
    roles = designated_roles(entries)
    outsiders = tuple(i for i in to if not designated(entries, i, roles))
    return MyNumberCheck(tuple(reports), outsiders, rules, tuple(r.id for r in roles))
