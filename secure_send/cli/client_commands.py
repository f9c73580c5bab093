"""``secure-send enrol | directory search | send | resume | inbox | receive | sent | recall``
(``receive --request … --all`` is in :mod:`.request_commands`).

Each command prints for people, or with ``--json`` one JSON object for scripts.
Secrets (the enrolment code) are read from stdin when not given, so they can
stay out of argv.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from secure_send.core.display import terminal_safe
from secure_send.core.drop_state import DropState  # two enums of the core: cheap to load
from secure_send.core.error_codes import ErrorCode

if TYPE_CHECKING:
    from secure_send.client.profile import OrgConfig
    from secure_send.client.session import Session

# The client stack (requests, the directory, the key store) is imported inside each
# command: only the command that runs pays for what it uses (see ``cli.main``).


def configure(name: str, p: argparse.ArgumentParser) -> None:
    """Add the arguments of one client command (see ``cli.main``)."""
    _ARGUMENTS[name](p)


def _enrol_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--org-config", type=Path, metavar="FILE")
    p.add_argument("--user", metavar="ID")
    p.add_argument("--code", help="one-time code (default: read from stdin)")
    p.add_argument("--no-code", action="store_true", help="ask IT to approve instead")
    p.add_argument("--server", metavar="URL", help="override the server URL of the config")
    p.add_argument("--device", metavar="ID", help="device id (default: from the host name)")
    p.add_argument(
        "--wait", type=float, default=120, metavar="S", help="wait up to S seconds for IT"
    )
    _common(p, cmd_enrol)


def _directory_arguments(p: argparse.ArgumentParser) -> None:
    dsub = p.add_subparsers(dest="directory_command", required=True, metavar="COMMAND")
    s = dsub.add_parser("search", help="search people and role mailboxes")
    s.add_argument("text")
    _common(s, cmd_search)


def _send_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("files", nargs="+", type=Path, metavar="FILE")
    p.add_argument("--to", action="append", required=True, metavar="ID")
    p.add_argument("--expires", default=None, metavar="DURATION", help="e.g. 3d, 12h")
    p.add_argument("--message", default="")
    _common(p, cmd_send)


def _inbox_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--wait", type=float, default=0, help="wait up to S seconds for a new one")
    _common(p, cmd_inbox)


def _receive_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("drop_id", nargs="?", help="the drop to save (or --request … --all)")
    p.add_argument("--request", metavar="REQUEST_ID", help="with --all: a file request's")
    p.add_argument("--all", action="store_true", help="every submission, a folder per person")
    p.add_argument("-o", "--output", type=Path, default=Path.cwd(), metavar="DIR")
    _common(p, cmd_receive)


def _recall_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("drop_id")
    _common(p, cmd_recall)


def _devices_arguments(p: argparse.ArgumentParser) -> None:
    dsub = p.add_subparsers(dest="devices_command", metavar="COMMAND")
    a = dsub.add_parser("ack", help="confirm that you enrolled this device yourself")
    a.add_argument("device_id")
    _common(a, cmd_devices)
    _common(p, cmd_devices)


def _demo_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--keep", type=Path, metavar="DIR", help="keep the demo's files in DIR")
    p.add_argument(
        "--no-windows",
        action="store_true",
        help="only the narrated walkthrough, even when a display is available",
    )
    p.add_argument(
        "--server",
        metavar="URL",
        help="run against this drop server or cluster (make cluster) instead of an "
        "embedded one; needs --org",
    )
    p.add_argument(
        "--org",
        type=Path,
        metavar="DIR",
        help="the demo organisation home the --server serves (make cluster prints it)",
    )
    p.set_defaults(func=cmd_demo)


def _common(p: argparse.ArgumentParser, func: Any) -> None:
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=func)


def _emit(
    args: argparse.Namespace, obj: dict[str, Any], text: str, session: Session | None = None
) -> None:
    """Print the answer. With a session, every answer also carries the unknown devices
    of the person's own entry (``unknown_own_devices``), each warned about on stderr."""
    if session is not None:
        alerts = session.alerts()
        for device in alerts:
            print(terminal_safe(_ALERT.format(d=device)), file=sys.stderr)
        obj = {**obj, "unknown_own_devices": [d.to_json() for d in alerts]}
    # names, messages and reasons come from senders, enrolling devices and the server:
    # shown with their control and bidi characters escaped (JSON escapes its own)
    print(json.dumps(obj, ensure_ascii=False) if args.json else terminal_safe(text))


def _lines(lines: Iterable[str]) -> str:
    """One line per item: a newline inside an item (a drop id the server made up, a
    name) is escaped, so no item can print a line that looks like another (a fake
    verified drop under a DANGER one)."""
    return "\n".join(terminal_safe(line, keep_newlines=False) for line in lines)


_ALERT = (
    "secure-send: WARNING: your account lists a device this PC did not enrol: "
    "{d.device!r} ({d.name}), enrolled {d.enrolled}. If it is not yours, report it to "
    "IT security now. If you enrolled it yourself: secure-send devices ack {d.device}"
)


def _warn(line: str) -> None:
    """One warning line on stderr (the answer on stdout stays as scripts expect)."""
    print(terminal_safe(f"secure-send: {line}", keep_newlines=False), file=sys.stderr)


def _session() -> Session:
    from secure_send.client.profile import Profile
    from secure_send.client.session import Session

    return Session.open(Profile.locate())


def cmd_enrol(args: argparse.Namespace) -> None:
    """Enrol this device, or go on waiting for an enrolment an earlier run queued."""
    from secure_send.client.enrolment import enrol, open_ticket, resume
    from secure_send.client.errors import ClientError
    from secure_send.client.profile import Profile

    profile = Profile.locate()

    def waiting() -> None:
        print(
            "secure-send: waiting for IT (the directory signer has not answered yet)…",
            file=sys.stderr,
        )

    if open_ticket(profile) is not None and args.org_config is None:
        me, status = resume(profile, wait=args.wait, on_waiting=waiting)
    else:
        if args.org_config is None or args.user is None:
            raise ClientError(ErrorCode.USAGE, "give --org-config FILE and --user ID (from IT)")
        org = _org_config(args)
        code = None
        if not args.no_code:
            code = args.code or sys.stdin.readline().strip()
            if not code:
                raise ClientError(
                    ErrorCode.NO_CODE, "give the one-time code from IT (on stdin or --code)"
                )
        me, status = enrol(
            profile, org, args.user, code, device_id=args.device, wait=args.wait, on_waiting=waiting
        )
    text = {
        "enrolled": "enrolled",
        "pending": "waiting for IT approval",
    }.get(status, "waiting for IT: run `secure-send enrol` again later to finish")
    _emit(
        args,
        {"user": me.user, "device": me.device, "status": status},
        f"{me.user}/{me.device}: {text}",
    )


def _org_config(args: argparse.Namespace) -> OrgConfig:
    from secure_send.client.errors import ClientError
    from secure_send.client.profile import OrgConfig

    try:
        org = OrgConfig.from_json(json.loads(args.org_config.read_text(encoding="utf-8")))
    except ValueError as err:
        raise ClientError(
            ErrorCode.BAD_ORG_CONFIG, f"{args.org_config}: not an organisation config ({err})"
        ) from None
    if args.server:
        org = OrgConfig.from_json({**org.to_json(), "server_url": args.server})
    return org


def cmd_search(args: argparse.Namespace) -> None:
    """Search the verified directory."""

    session = _session()
    directory = session.directory()
    matches = directory.search_index().search(args.text, limit=20)
    rows = [
        {
            "id": m.entry.id,
            "kind": m.entry.kind.value,
            "name_ja": m.entry.name_ja,
            "name_en": m.entry.name_en,
            "department": m.entry.department,
            "title": m.entry.title,
        }
        for m in matches
    ]
    text = (
        _lines(
            f"{r['id']:<24} {r['name_ja']} ({r['name_en']})  {r['department']}"
            + ("  [role mailbox]" if r["kind"] == "role" else "")
            for r in rows
        )
        or "no match"
    )
    _emit(args, {"results": rows, "verified": True, "fresh": directory.fresh}, text, session)


_DURATION = re.compile(r"(\d+)([dhm])")


def parse_duration(text: str) -> dt.timedelta:
    """``7d``, ``12h``, ``30m``."""
    from secure_send.client.errors import ClientError

    found = _DURATION.fullmatch(text.strip())
    if not found:
        raise ClientError(ErrorCode.BAD_DURATION, f"{text!r}: use a number and d, h or m (e.g. 3d)")
    n = int(found[1])
    return {"d": dt.timedelta(days=n), "h": dt.timedelta(hours=n), "m": dt.timedelta(minutes=n)}[
        found[2]
    ]


def _progress(args: argparse.Namespace) -> Any:
    if args.json or not sys.stderr.isatty():
        return None

    def show(blob: str, done: int, total: int) -> None:
        pct = 100 if total == 0 else done * 100 // total
        print(f"\r  {blob}: {pct:3d}%", end="" if done < total else "\n", file=sys.stderr)

    return show


def cmd_send(args: argparse.Namespace) -> None:
    """Send files."""
    from secure_send.client import send as sending
    from secure_send.client.errors import ClientError
    from secure_send.client.key_changes import recipient_key_changes

    session = _session()
    for pending in sending.pending_sends(session.profile, _warn):  # an earlier run was cut off
        try:
            sending.finish(session, pending)
        except ClientError as err:
            if err.code == ErrorCode.CONNECTION_LOST:
                raise  # this send would fail the same way
            # an old send's problem must not block this one (it is forgotten if hopeless)
            line = f"secure-send: an earlier send was not finished: {err}"
            print(terminal_safe(line, keep_newlines=False), file=sys.stderr)
    policy = session.policy()
    expires = (
        parse_duration(args.expires)
        if args.expires
        else dt.timedelta(days=policy.default_expiry_days)
    )
    if expires > dt.timedelta(days=policy.max_expiry_days):
        raise ClientError(
            ErrorCode.BAD_EXPIRY, f"the server allows at most {policy.max_expiry_days} days"
        )
    files = sending.collect(args.files)
    directory = session.directory()
    people = sending.resolve_recipients(directory, args.to, session.me.user)
    changes = recipient_key_changes(session.profile, people)
    for change in changes:
        line = (
            f"secure-send: note: {change.user} has a device enrolled {change.enrolled}: "
            f"{change.device!r} ({change.name}); it can open this drop"
        )
        print(terminal_safe(line, keep_newlines=False), file=sys.stderr)
    from secure_send.cli.mynumber_notes import checked

    verdict = checked(session, directory, files, args.to, _warn)
    pending = sending.prepare(
        session,
        directory,
        files,
        args.to,
        expires=expires,
        message=args.message,
        mynumber=verdict,
    )
    drop_id = sending.finish(session, pending, _progress(args))
    answer: dict[str, Any] = {
        "drop_id": drop_id,
        "files": len(files),
        "to": args.to,
        "recipient_key_changes": [c.to_json() for c in changes],
    }
    if verdict.contains:  # counts only: a script learns how the send went, never a number
        answer["mynumber"] = {"files": len(verdict.holding), "numbers": verdict.numbers}
    text = f"sent {len(files)} file(s) to {', '.join(args.to)}: drop {drop_id}"
    _emit(args, answer, text, session)


def cmd_resume(args: argparse.Namespace) -> None:
    """Finish unfinished sends."""
    from secure_send.client import send as sending

    session = _session()
    done = []
    for pending in sending.pending_sends(session.profile, _warn):
        try:
            done.append(sending.finish(session, pending, _progress(args)))
        except sending.BrokenResumeFile as err:  # set aside: the others still go
            _warn(str(err))
    _emit(args, {"resumed": done}, f"finished {len(done)} unfinished send(s)", session)


def cmd_inbox(args: argparse.Namespace) -> None:
    """List drops for me (verified, or marked dangerous)."""
    from secure_send.client import listing

    session = _session()
    items, cursor = listing.inbox(session, session.directory(), wait=args.wait)
    text = _lines(
        f"{i.drop_id}  {i.sender_name_ja} ({i.department})  {i.created}"
        + ("  [saved]" if i.saved else "")
        + _approval_mark(i.approval, i.approving)
        if i.verified
        else f"{i.drop_id}  DANGER, do not open: {i.problem}"
        for i in items
    )
    answer = {"drops": [asdict(i) for i in items], "cursor": cursor}
    _emit(args, answer, text or "no drops", session)


def cmd_receive(args: argparse.Namespace) -> None:
    """Receive one drop, or (``--request … --all``) every submission to a file request."""
    from secure_send.client import receive as receiving

    if args.request is not None or args.all or args.drop_id is None:
        from secure_send.cli.request_commands import cmd_receive_all

        return cmd_receive_all(args)
    session = _session()
    got = receiving.receive(
        session, session.directory(), args.drop_id, args.output, _progress(args)
    )
    files = [str(p) for p in got.files]
    programs = [str(p) for p in got.programs]
    saved = "already saved earlier (nothing saved again)" if got.already_saved else "saved"
    text = _lines([f"from {got.sender}: {len(files)} file(s) {saved}", *files])
    if got.receipt_pending:  # saved: only the server's "saved" mark waits
        _warn(
            "the files are saved, but the drop server could not be told yet;"
            " it will be at the next inbox or receive"
        )
    for program in programs:  # a clerk expects documents: say so before anything is opened
        _warn(
            f"WARNING: {program} is a program (it runs when opened). "
            "Do not open it unless you expected a program from this sender."
        )
    if got.not_scanned is not None:  # IT asked for a scan ("warn"); it could not be done
        _warn(f"WARNING: the files were NOT scanned for viruses ({got.not_scanned}); tell IT")
    if got.message:  # a message of several lines stays one block, indented
        text += "\nmessage: " + got.message.replace("\n", "\n    ")
    _emit(
        args,
        {
            "drop_id": got.drop_id,
            "sender": got.sender,
            "message": got.message,
            "files": files,
            "programs": programs,
            "already_saved": got.already_saved,
            "receipt_pending": got.receipt_pending,
            "not_scanned": got.not_scanned,
        },
        text,
        session,
    )


def cmd_sent(args: argparse.Namespace) -> None:
    """My drops, with verified receipts per recipient."""
    from secure_send.client import listing

    session = _session()
    items = listing.sent(session, session.directory())
    lines = []
    for item in items:
        lines.append(f"{item.drop_id}  {item.state}  expires {item.expires}")
        lines += _approval_lines(item.approval, item.approval_problem)
        lines += [
            f"    {r.name_ja} ({r.department}): "
            + (
                f"⚠ receipt not trusted: {r.problem}"
                if r.problem
                else f"downloaded at {r.downloaded}"
                if r.downloaded
                else "not yet"
            )
            for r in item.recipients
        ]
    _emit(args, {"drops": [asdict(i) for i in items]}, _lines(lines) or "nothing sent", session)


def _approval_mark(state: str, approving: bool) -> str:
    if state != "pending":
        return ""
    return "  [awaiting your approval]" if approving else "  [awaiting approval]"


def _approval_lines(status: Any, problem: str) -> list[str]:
    """What a sent drop's approval (上長承認) says: only decisions that verified."""
    lines = [f"    ⚠ approval shown by the server does not verify: {problem}"] if problem else []
    if status.state == "pending":
        lines.append(f"    waiting for approval by {status.by} ({', '.join(status.reasons)})")
    elif status.state == "approved":
        lines.append(f"    approved by {status.decided_by} at {status.time}")
    elif status.state == "rejected":
        lines.append(f"    returned by {status.decided_by} at {status.time}: {status.reason}")
    return lines


def cmd_recall(args: argparse.Namespace) -> None:
    """Recall a drop."""
    session = _session()
    session.api.recall(args.drop_id)
    answer = {"drop_id": args.drop_id, "state": DropState.RECALLED}
    _emit(args, answer, f"recalled {args.drop_id}", session)


def cmd_devices(args: argparse.Namespace) -> None:
    """List this account's devices as this PC judges them, or acknowledge one."""
    from secure_send.client import own_devices

    session = _session()
    directory = session.directory()
    p, me, keys = session.profile, session.me, session.keys
    if getattr(args, "devices_command", None) == "ack":
        session.unknown_devices = own_devices.acknowledge(p, me, keys, directory, args.device_id)
    listed = own_devices.own_devices(p, me, keys, directory)
    lines = [
        f"{d.device:<20} {d.name}  enrolled {d.enrolled}"
        + (f"  revoked {d.revoked}" if d.revoked else "")
        + ("  (this PC)" if d.this_device else "")
        + ("  (confirmed by you)" if d.acknowledged else "")
        + (
            "  ⚠ A P-256 KEY THIS PC DID NOT MAKE: report it to IT security"
            if d.foreign_key
            else ""
        )
        + (
            "  ⚠ NOT ENROLLED BY THIS PC: report it to IT security"
            if d.unknown and not d.foreign_key
            else ""
        )
        for d in listed
    ]
    _emit(args, {"devices": [d.to_json() for d in listed]}, _lines(lines), session)


def cmd_demo(args: argparse.Namespace) -> None:
    """Run the demo walkthrough, then (with a display) both people's apps."""
    from secure_send import demo
    from secure_send.client.errors import ClientError

    if (args.server is None) != (args.org is None):
        raise ClientError(ErrorCode.USAGE, "give both --server URL and --org DIR, or neither")
    windows = demo.has_display() and not args.no_windows
    if demo.run(keep=args.keep, windows=windows, server=args.server, org=args.org) != 0:
        raise ClientError(ErrorCode.DEMO_FAILED, "the demo did not complete")


# the arguments of each command, in the order ``--help`` shows them
_ARGUMENTS: dict[str, Callable[[argparse.ArgumentParser], None]] = {
    "enrol": _enrol_arguments,
    "directory": _directory_arguments,
    "send": _send_arguments,
    "resume": lambda p: _common(p, cmd_resume),
    "inbox": _inbox_arguments,
    "receive": _receive_arguments,
    "sent": lambda p: _common(p, cmd_sent),
    "recall": _recall_arguments,
    "devices": _devices_arguments,
    "demo": _demo_arguments,
}
