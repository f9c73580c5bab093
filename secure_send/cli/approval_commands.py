"""``secure-send approvals | approve DROP_ID | reject DROP_ID --reason TEXT``: a superior's
approval (上長承認) from the command line.

``approvals`` lists the drops waiting for this person's decision, verified as the Inbox
verifies them (the files can be saved first with ``secure-send receive DROP_ID``: an
approver is a recipient). ``approve`` and ``reject`` sign the decision with this device's
key over the drop's exact manifest; a rejection's reason goes to the sender (and is
stored by the server: write no personal data in it).
"""

from __future__ import annotations

import argparse
from dataclasses import asdict
from typing import Any

from secure_send.cli.client_commands import _emit, _lines, _session


def configure(name: str, p: argparse.ArgumentParser) -> None:
    """Add the arguments of one command (see ``cli.main``)."""
    {"approvals": _approvals_arguments, "approve": _approve_arguments, "reject": _reject_arguments}[
        name
    ](p)


def _common(p: argparse.ArgumentParser, func: Any) -> None:
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=func)


def _approvals_arguments(p: argparse.ArgumentParser) -> None:
    _common(p, cmd_approvals)


def _approve_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("drop_id")
    _common(p, cmd_approve)


def _reject_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("drop_id")
    p.add_argument(
        "--reason",
        required=True,
        help="why, for the sender (up to 500 characters; no personal data: the server keeps it)",
    )
    _common(p, cmd_reject)


def cmd_approvals(args: argparse.Namespace) -> None:
    """The drops waiting for my decision."""
    from secure_send.client import listing

    session = _session()
    items, _ = listing.inbox(session, session.directory())
    waiting = listing.awaiting_my_approval(items)
    text = _lines(
        f"{i.drop_id}  {i.sender_name_ja} ({i.department})  {i.created}"
        f"  needs approval: {', '.join(i.reasons)}"
        for i in waiting
    )
    answer = {"approvals": [asdict(i) for i in waiting]}
    _emit(args, answer, text or "nothing waits for your approval", session)


def cmd_approve(args: argparse.Namespace) -> None:
    """Approve a drop: its recipients get it."""
    _decide(args, approve=True, reason="")


def cmd_reject(args: argparse.Namespace) -> None:
    """Return a drop to its sender with a reason: nobody else ever gets it."""
    _decide(args, approve=False, reason=args.reason)


def _decide(args: argparse.Namespace, *, approve: bool, reason: str) -> None:
    from secure_send.client import approval

    session = _session()
    state = approval.decide(session, session.directory(), args.drop_id, approve, reason)
    verb = "approved: its recipients can now receive it" if approve else "returned to its sender"
    _emit(args, {"drop_id": args.drop_id, "state": state}, f"{args.drop_id} {verb}", session)
