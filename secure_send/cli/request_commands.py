"""``secure-send request create | status | remind``, ``requests``, ``submit`` and
``receive --request REQUEST_ID --all``: file requests (提出依頼) from the command line.

Like the other client commands: one JSON object with ``--json``, lines for people
otherwise; titles and messages come from other people and are printed with their
control characters escaped.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from secure_send.cli.client_commands import _emit, _lines, _progress, _session, _warn


def configure(name: str, p: argparse.ArgumentParser) -> None:
    """Add the arguments of one command (see ``cli.main``)."""
    {"request": _request_arguments, "requests": _requests_arguments, "submit": _submit_arguments}[
        name
    ](p)


def _common(p: argparse.ArgumentParser, func: Any) -> None:
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=func)


def _request_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="request_command", required=True, metavar="COMMAND")
    c = sub.add_parser("create", help="ask people to submit files to a mailbox")
    c.add_argument(
        "--into", required=True, metavar="ROLE_OR_ME", help="the role mailbox that collects, or me"
    )
    c.add_argument("--to", action="append", default=[], metavar="ID", help="a person (repeat)")
    c.add_argument(
        "--to-department", action="append", default=[], metavar="DEPT", help="everyone in DEPT"
    )
    c.add_argument("--to-all", action="store_true", help="everyone in the directory")
    c.add_argument("--title", required=True, metavar="TEXT")
    c.add_argument("--due", metavar="YYYY-MM-DD", help="the due day (Asia/Tokyo)")
    c.add_argument("--message", default="", metavar="TEXT")
    _common(c, cmd_create)
    s = sub.add_parser("status", help="who submitted, who has not, who was late")
    s.add_argument("request_id")
    s.add_argument("--csv", type=Path, metavar="FILE", help="also write the list as CSV")
    _common(s, cmd_status)
    r = sub.add_parser("remind", help="remind those who have not submitted")
    r.add_argument("request_id")
    r.add_argument("--only", action="append", metavar="ID", help="remind only these (repeat)")
    _common(r, cmd_remind)


def _requests_arguments(p: argparse.ArgumentParser) -> None:
    _common(p, cmd_requests)


def _submit_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("request_id")
    p.add_argument("files", nargs="+", type=Path, metavar="FILE")
    _common(p, cmd_submit)


def cmd_create(args: argparse.Namespace) -> None:
    """Create a file request."""
    from secure_send.client import file_requests
    from secure_send.client.errors import ClientError
    from secure_send.core.error_codes import ErrorCode

    if not (args.to or args.to_department or args.to_all):
        raise ClientError(ErrorCode.USAGE, "say whom to ask: --to, --to-department or --to-all")
    session = _session()
    request_id = file_requests.create(
        session,
        session.directory(),
        into=args.into,
        to=args.to,
        departments=args.to_department,
        everyone=args.to_all,
        title=args.title,
        due=args.due,
        message=args.message,
    )
    _emit(args, {"request_id": request_id}, f"file request {request_id} created", session)


def cmd_requests(args: argparse.Namespace) -> None:
    """Open file requests for me (verified, or marked dangerous)."""
    from secure_send.client import file_requests

    session = _session()
    views = file_requests.listing_with_problems(session, session.directory())
    rows, lines = [], []
    for view in views:
        if isinstance(view, file_requests.UnverifiedRequest):
            request_id = view.request_id
            rows.append({"request_id": request_id, "verified": False, "problem": str(view)})
            lines.append(f"{request_id}  DANGER, do not submit: {view}")
            continue
        r = view.request
        rows.append(
            {
                "request_id": r.request_id,
                "from": r.mailbox,
                "title": view.title,
                "due": r.due,
                "submitted": view.submitted,
                "addressed": view.addressed,
                "desk": view.desk,
                "reminded": view.reminded,
                "verified": True,
            }
        )
        mark = "  [submitted]" if view.submitted else "  [reminded]" if view.reminded else ""
        role = "" if view.addressed else "  (your desk)"
        lines.append(
            f"{r.request_id}  {view.title or '(title not readable on this device)'}"
            f"  from {r.mailbox}  due {r.due or '-'}{mark}{role}"
        )
    _emit(args, {"requests": rows}, _lines(lines) or "no open file requests", session)


def cmd_submit(args: argparse.Namespace) -> None:
    """Submit files to a file request."""
    from secure_send.client import file_requests
    from secure_send.client import send as sending

    session = _session()
    pending = file_requests.submit(session, session.directory(), args.request_id, args.files)
    drop_id = sending.finish(session, pending, _progress(args))
    answer = {"drop_id": drop_id, "request_id": args.request_id, "files": len(args.files)}
    _emit(args, answer, f"submitted {len(args.files)} file(s): drop {drop_id}", session)


def cmd_status(args: argparse.Namespace) -> None:
    """The desk's view of one request."""
    from secure_send.client import request_status

    session = _session()
    directory = session.directory()
    state = request_status.for_desk(session, directory, args.request_id)
    if args.csv is not None:
        args.csv.write_text("\ufeff" + request_status.to_csv(state), encoding="utf-8")
    for drop_id in state.strays:
        _warn(f"drop {drop_id} names this request but its sender was not asked; not counted")
    lines = [
        f"{len(state.submitted)} submitted ({len(state.late)} late), {len(state.pending)} not yet"
    ]
    lines += [
        f"{p.user}  {p.name_ja} ({p.department})  "
        + (
            f"submitted {p.submitted_at}" + ("  LATE" if p.late else "")
            if p.submitted
            else "not yet"
        )
        for p in state.people
    ]
    _emit(args, state.to_json(), _lines(lines), session)


def cmd_remind(args: argparse.Namespace) -> None:
    """Remind those who have not submitted."""
    from secure_send.client import file_requests

    session = _session()
    reminded = file_requests.remind(session, args.request_id, args.only)
    _emit(args, {"reminded": reminded}, f"reminded {len(reminded)} person(s)", session)


def cmd_receive_all(args: argparse.Namespace) -> None:
    """``receive --request REQUEST_ID --all -o DIR``: save every submission, one folder
    per submitter; a second run saves only what the first did not."""
    from secure_send.client import save_all
    from secure_send.client.errors import ClientError
    from secure_send.core.error_codes import ErrorCode

    if args.drop_id is not None or args.request is None or not args.all:
        raise ClientError(ErrorCode.USAGE, "give a DROP_ID, or --request REQUEST_ID --all")
    session = _session()
    summary = save_all.save_all(
        session, session.directory(), args.request, args.output, _save_progress(args)
    )
    lines = [
        f"saved {len(summary.saved)} submission(s) into {summary.target}"
        f" ({len(summary.skipped)} already saved earlier);"
        f" {summary.people} person(s) have a folder there"
    ]
    lines += [f"{p.drop_id}  {p.user}  not saved: {p.reason}" for p in summary.failed]
    lines += [f"{p.drop_id}  DANGER, not saved: {p.reason}" for p in summary.dangerous]
    lines += [f"{d}  not saved: its sender was not asked" for d in summary.strays]
    if summary.remaining:
        lines.append(f"{len(summary.remaining)} submission(s) not tried yet")
    if any(s.receipt_pending for s in summary.saved):
        _warn("some receipts could not be sent yet; they will be at the next inbox or receive")
    for sub in (s for s in summary.saved if s.not_scanned is not None):
        _warn(f"WARNING: {sub.folder} was NOT scanned for viruses ({sub.not_scanned}); tell IT")
    for program in (p for s in summary.saved for p in s.programs):
        _warn(
            f"WARNING: {program} is a program (it runs when opened). "
            "Do not open it unless you expected a program from this sender."
        )
    _emit(args, summary.to_json(), _lines(lines), session)
    if not summary.complete:  # after the summary: scripts see what was saved, and exit 1
        missing = len(summary.failed) + len(summary.remaining)
        raise ClientError(
            ErrorCode.SAVE_INCOMPLETE,
            f"{missing} submission(s) not saved; run the same command again:"
            " it saves only those still missing",
        )


def _save_progress(args: argparse.Namespace) -> Any:
    """One progress line on a terminal (stderr), rewritten in place."""
    if args.json or not sys.stderr.isatty():
        return None
    shown: list[tuple[int, int]] = []

    def show(p: Any) -> None:
        pct = 100 if p.bytes_total == 0 else p.bytes_done * 100 // p.bytes_total
        if shown and shown[-1] == (pct, p.done):
            return
        shown[:] = [(pct, p.done)]
        mb = p.bytes_total / 1e6
        end = "\n" if p.done == p.total else ""
        print(
            f"\r  {p.done}/{p.total} submissions, {pct:3d}% of {mb:.1f} MB",
            end=end,
            file=sys.stderr,
        )

    return show
