"""Bulk import of people and role mailboxes (CSV, LDAP) into directory entries.

Every source produces :class:`ImportRow` objects; :func:`validate_rows` checks
them all and either returns the entries or raises :class:`ImportRowsError`
listing *every* bad row with its line number, so that nothing is imported from
a file that has any error in it.

The designation 個人番号取扱 (``mynumber_handler``, issue 19) is optional in a
source: a row whose source does not say (a CSV without the column, an LDAP mapping
without the attribute) keeps what the directory holds, so re-importing an old file
never silently removes or grants it; a source that says sets it, empty = not
designated. The approver (上長, ``approver``, issue 20) works the same way: a source
that does not say keeps the entry's, one that says sets it, empty = none. It names a
person or role mailbox in the same import or already in the directory; a departed one
cannot be newly named, nobody approves their own sends and a role mailbox has none.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from secure_send.core.directory.model import (
    APPROVER,
    DESCRIPTIVE_FIELDS,
    MYNUMBER_HANDLER,
    Entry,
    EntryError,
    Kind,
    Status,
    check_email,
    check_id,
)
from secure_send.core.errors import SecureSendError

# The columns every import CSV has, then the optional last ones, in this order: a file
# may stop after members or after mynumber_handler (``generate`` writes them all).
BASE_COLUMNS = (*DESCRIPTIVE_FIELDS, "members")
MYNUMBER_COLUMNS = (*BASE_COLUMNS, MYNUMBER_HANDLER)
CSV_COLUMNS = (*MYNUMBER_COLUMNS, APPROVER)
HEADERS = (BASE_COLUMNS, MYNUMBER_COLUMNS, CSV_COLUMNS)
YES = "yes"  # the one value that designates; case and surrounding spaces are ignored


@dataclass(frozen=True)
class ImportRow:
    """One person or role as a source describes it, before validation.

    ``line`` is where the row came from (a CSV line number, an LDAP entry's
    position) so that problems can be reported where the operator can find them.
    """

    line: int
    id: str
    kind: str
    name_ja: str
    name_kana: str = ""
    name_en: str = ""
    email: str = ""
    department: str = ""
    title: str = ""
    members: tuple[str, ...] = ()
    source: str = field(default="", compare=False)  # e.g. an LDAP DN, for messages
    problem: str = ""  # set by a reader when the row could not even be read
    # "yes" designates, "" does not; None: the source does not say (keep the current one)
    mynumber_handler: str | None = None
    # an id (a reader resolves LDAP DNs), "" for none; None: the source does not say
    approver: str | None = None


@dataclass(frozen=True)
class RowProblem:
    """What is wrong with one row."""

    line: int
    message: str


class ImportRowsError(SecureSendError):
    """Some rows are invalid; nothing was imported. ``problems`` lists them all."""

    def __init__(self, problems: list[RowProblem]) -> None:
        lines = "; ".join(f"line {p.line}: {p.message}" for p in problems[:5])
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        super().__init__(f"{len(problems)} invalid row(s), nothing imported: {lines}{more}")
        self.problems = problems


def _designated(value: str) -> bool:
    """``yes`` → True, empty → False; anything else (``no``, ``true``, ``1``) is an error
    rather than a guess: a typo must not grant, nor silently withdraw, the designation."""
    text = value.strip().casefold()
    if text not in (YES, ""):
        raise EntryError(
            f"{MYNUMBER_HANDLER} must be '{YES}' or empty (not designated), not {value!r}",
            MYNUMBER_HANDLER,
        )
    return text == YES


def _approver(row: ImportRow, kind: Kind, old: Entry | None) -> str | None:
    """The approver the row names (checked as an id), or the entry's when it does not say."""
    if row.approver is None:  # kept; a person who became a role mailbox loses it
        return old.approver if old is not None and kind is Kind.PERSON else None
    text = row.approver.strip()
    if not text:
        return None
    if kind is Kind.ROLE:  # a role mailbox sends nothing itself
        raise EntryError(f"a role mailbox has no approver (found {text!r})", APPROVER)
    if text == row.id.strip():
        raise EntryError(f"{text} cannot be their own approver", APPROVER)
    return check_id(text, "approver id")


def _entry(row: ImportRow, old: Entry | None) -> Entry:
    try:
        kind = Kind(row.kind.strip().lower())
    except ValueError:
        raise EntryError(f"kind must be 'person' or 'role', not {row.kind!r}", "kind") from None
    entry = Entry(
        id=check_id(row.id.strip()),
        kind=kind,
        name_ja=row.name_ja.strip(),
        name_kana=row.name_kana.strip(),
        name_en=row.name_en.strip(),
        email=check_email(row.email.strip()),
        department=row.department.strip(),
        title=row.title.strip(),
        members=tuple(check_id(m, "member id") for m in row.members),
        mynumber_handler=(
            _designated(row.mynumber_handler)
            if row.mynumber_handler is not None
            else old is not None and old.mynumber_handler
        ),
        approver=_approver(row, kind, old),
    )
    if (
        entry.mynumber_handler
        and old is not None
        and old.status is Status.DEPARTED
        and not old.mynumber_handler
    ):  # as `set` refuses; a departed entry that already holds it keeps it (an old roster)
        raise EntryError(f"{entry.id} has departed: cannot be designated", MYNUMBER_HANDLER)
    # Round-trip through the strict parser: one set of field rules for every source.
    return Entry.from_json(entry.to_json())


def validate_rows(rows: Iterable[ImportRow], existing: Mapping[str, Entry]) -> list[Entry]:
    """Turn rows into entries, or report every problem at once.

    Rules: each row valid on its own; ids unique within the import; members of a
    role must be people, in the import or already in the directory; an approver must
    be in the import or the directory, and not departed unless the entry already
    names them (an old roster).

    Raises:
        ImportRowsError: at least one row is bad; no entry is returned.
    """
    problems: list[RowProblem] = []
    entries: dict[str, tuple[int, Entry]] = {}
    for row in rows:
        if row.problem:
            problems.append(RowProblem(row.line, row.problem))
            continue
        try:
            entry = _entry(row, existing.get(row.id.strip()))
        except EntryError as err:
            problems.append(RowProblem(row.line, str(err)))
            continue
        if entry.id in entries:
            first = entries[entry.id][0]
            problems.append(
                RowProblem(row.line, f"duplicate id {entry.id!r} (first on line {first})")
            )
            continue
        entries[entry.id] = (row.line, entry)
    for line, entry in entries.values():
        for member in entry.members:
            target = entries[member][1] if member in entries else existing.get(member)
            if target is None:
                problems.append(RowProblem(line, f"unknown member {member!r}"))
            elif target.kind is not Kind.PERSON:
                problems.append(RowProblem(line, f"member {member!r} is not a person"))
        problem = _approver_problem(entry, entries, existing)
        if problem:
            problems.append(RowProblem(line, problem))
    if problems:
        raise ImportRowsError(sorted(problems, key=lambda p: p.line))
    return [entry for _, entry in entries.values()]


def _approver_problem(
    entry: Entry, entries: Mapping[str, tuple[int, Entry]], existing: Mapping[str, Entry]
) -> str:
    """What is wrong with the approver ``entry`` names ("" when nothing is)."""
    if entry.approver is None:
        return ""
    approver = entries[entry.approver][1] if entry.approver in entries else None
    known = existing.get(entry.approver)
    if approver is None and known is None:
        return f"unknown approver {entry.approver!r}"
    old = existing.get(entry.id)
    # status is the directory's (an import row does not carry it); an entry that
    # already names a departed approver keeps them, as it keeps a designation
    if known is not None and not known.active and (old is None or old.approver != entry.approver):
        return f"approver {entry.approver!r} has departed: cannot be named"
    return ""


def read_csv(path: Path) -> list[ImportRow]:
    """Read the import CSV (UTF-8, with or without Excel's BOM).

    Rows with the wrong number of fields come back marked with their problem, so
    that :func:`validate_rows` reports them together with every other bad row.

    Raises:
        ImportRowsError: a wrong header, or text that is not UTF-8.
    """
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as err:
        message = f"not UTF-8 (byte {err.start}); save the file as CSV UTF-8"
        raise ImportRowsError([RowProblem(1, message)]) from None
    return parse_csv(text)


def parse_csv(text: str) -> list[ImportRow]:
    """Parse CSV text whose header is :data:`BASE_COLUMNS`, optionally followed by
    ``mynumber_handler`` and then by ``approver`` (:data:`HEADERS`)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    names = tuple(h.strip() for h in header) if header is not None else ()
    if names not in HEADERS:
        message = f"header must be: {','.join(BASE_COLUMNS)}[,{MYNUMBER_HANDLER}[,{APPROVER}]]"
        raise ImportRowsError([RowProblem(1, message)])
    rows: list[ImportRow] = []
    for values in reader:
        line = reader.line_num
        if not any(v.strip() for v in values):
            continue  # blank lines, as spreadsheets leave them
        if len(values) != len(names):
            # Reported by validate_rows together with every other bad row.
            problem = f"expected {len(names)} fields, found {len(values)}"
            rows.append(ImportRow(line=line, id="", kind="", name_ja="", problem=problem))
            continue
        fields = dict(zip(names, values, strict=True))
        rows.append(
            ImportRow(
                line=line,
                id=fields["id"],
                kind=fields["kind"],
                name_ja=fields["name_ja"],
                name_kana=fields["name_kana"],
                name_en=fields["name_en"],
                email=fields["email"],
                department=fields["department"],
                title=fields["title"],
                members=tuple(fields["members"].split()),
                mynumber_handler=fields.get(MYNUMBER_HANDLER),
                approver=fields.get(APPROVER),
            )
        )
    return rows
