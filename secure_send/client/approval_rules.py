"""When a send needs a superior's approval (上長承認): IT policy ``approval_for``.

The policy lists reasons: a classification's value (``c1``, ``c2``, ``c3``), ``mynumber``
(the files hold My Numbers: the manifest's signed counts) and ``outside_department``
(a recipient's department is not the sender's). The sender's client asks for approval
when any applies; every recipient's client computes the same from the signed manifest,
its own directory and its own policy (:func:`reasons_for`), and refuses a drop that
needed approval but has none — so neither the server nor a sender's modified client
can skip it. Without a policy nothing needs approval. Qt-free.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from secure_send.core.directory.model import Entry
from secure_send.core.envelope.manifest import APPROVAL_REASONS, Classification

ANTIVIRUS_MODES = ("off", "warn", "block")


@dataclass(frozen=True)
class ApprovalRules:
    """The reasons IT's policy asks for approval for (empty: never)."""

    approval_for: frozenset[str] = frozenset()

    def reasons(
        self,
        classification: Classification,
        holds_mynumbers: bool,
        sender: Entry | None,
        recipients: Iterable[Entry | None],
    ) -> tuple[str, ...]:
        """Which of the policy's reasons apply to a send (sorted, as the manifest signs
        them); ``recipients`` are the persons chosen, approvers not counted. A recipient
        the directory does not know counts as outside the department (fail closed)."""
        found: set[str] = set()
        if classification.value in self.approval_for:
            found.add(classification.value)
        if holds_mynumbers and "mynumber" in self.approval_for:
            found.add("mynumber")
        if "outside_department" in self.approval_for:
            home = sender.department if sender is not None else None
            if any(r is None or home is None or r.department != home for r in recipients):
                found.add("outside_department")
        return tuple(sorted(found))


def parse_approval_for(value: object) -> ApprovalRules:
    """The policy value: a list of reasons, or (Windows REG_SZ, macOS string) the same
    comma-separated. Raises :class:`ValueError` naming what is wrong."""
    if value is None:
        return ApprovalRules()
    if isinstance(value, str):
        items: list[object] = [v.strip() for v in value.split(",") if v.strip()]
    elif isinstance(value, list):
        items = list(value)
    else:
        raise ValueError("approval_for must be a list of reasons")
    unknown = [str(v) for v in items if not isinstance(v, str) or v not in APPROVAL_REASONS]
    if unknown:
        allowed = ", ".join(sorted(APPROVAL_REASONS))
        raise ValueError(f"approval_for: unknown reason(s) {', '.join(unknown)}; use {allowed}")
    return ApprovalRules(frozenset(str(v) for v in items))


def parse_antivirus(value: object) -> str:
    """``off`` (the default), ``warn`` or ``block``; raises :class:`ValueError`."""
    if value is None:
        return "off"
    if isinstance(value, str) and value in ANTIVIRUS_MODES:
        return value
    raise ValueError(f"antivirus must be one of {', '.join(ANTIVIRUS_MODES)}")


def chosen_persons(entries: Mapping[str, Entry], ids: Iterable[str]) -> list[Entry | None]:
    """The directory entries of person ids (None for one it does not know)."""
    return [entries.get(i) for i in ids]
