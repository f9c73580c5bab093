"""The decide step of 上長承認 (a superior's approval) in the drop tables.

Guarantees: a pending drop is decided at most once — the change from ``pending`` is
one write transaction whose ``UPDATE … WHERE approval_state = 'pending'`` is the
guard, so of two approvers deciding at once exactly one changes the row and the other
is told it was already decided. Approving releases the held recipients and gives the
drop a new ``seq`` in that same transaction, so their next inbox page lists it (with
the decision) and no reader sees a released row without its sequence number.
Rejecting only records the decision: the caller then purges the ciphertext as a
recall does (:func:`.drop_access.purge`), and the held rows stay held for good.
"""

from __future__ import annotations

import enum

from secure_send.core.drop_state import DropState
from secure_send.server.drop_store import PENDING, DropStore, next_seq


class Outcome(enum.StrEnum):
    """What :func:`decide` did."""

    DECIDED = "decided"
    ALREADY = "already_decided"  # another decision came first
    ENDED = "ended"  # recalled or expired meanwhile: it stays as it ended


def decide(drops: DropStore, drop_id: str, state: str, decision_json: str) -> Outcome:
    """Move the committed drop from ``pending`` to ``state`` (``approved`` or
    ``rejected``) and store ``decision_json`` (the signed decision as the server wrote
    it from the parsed one)."""
    if state not in ("approved", "rejected"):
        raise ValueError("a decision is approved or rejected")
    with drops.db.transaction() as db:
        changed = db.execute(
            "UPDATE drops SET approval_state = ?, approval = ?"
            " WHERE id = ? AND approval_state = ? AND state = ?",
            (state, decision_json, drop_id, PENDING, DropState.COMMITTED),
        )
        if changed.rowcount != 1:
            # a drop recalled meanwhile is not released: its held recipients would then
            # learn of a drop that ended before they could have had it
            still = db.execute(
                "SELECT 1 FROM drops WHERE id = ? AND approval_state = ?", (drop_id, PENDING)
            ).fetchone()
            return Outcome.ENDED if still else Outcome.ALREADY
        if state == "approved":
            db.execute("UPDATE drop_recipients SET held = 0 WHERE drop_id = ?", (drop_id,))
            next_seq(db, drop_id)
    return Outcome.DECIDED
