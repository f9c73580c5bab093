"""``secure-send-admin``: the IT administrator's command line.

All state of one organisation lives under ``--home``. Secrets never go on the
command line: the LDAP password comes from ``SECURE_SEND_LDAP_PASSWORD`` or a
prompt; enrolment codes are printed once and stored only as hashes.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

import platformdirs

from secure_send.admin import views
from secure_send.admin.server_home import write_server_home
from secure_send.core.directory.enrol import EnrolmentRequest
from secure_send.core.directory.log import Action
from secure_send.core.errors import SecureSendError
from secure_send.org import attributes, ops
from secure_send.org.home import HomeError, OrgHome
from secure_send.org.signer import DirectorySigner

PROG = "secure-send-admin"
HOME_ENV = "SECURE_SEND_ADMIN_HOME"


def default_home() -> Path:
    """``$SECURE_SEND_ADMIN_HOME`` or the platform's data folder."""
    env = os.environ.get(HOME_ENV)
    return Path(env) if env else Path(platformdirs.user_data_dir("secure-send-admin"))


def default_operator() -> str:
    """Who is acting: the login name, made into a valid id."""
    raw = (os.environ.get("USER") or os.environ.get("USERNAME") or "admin").lower()
    cleaned = "".join(c if c.isalnum() or c in "._-" else "-" for c in raw).strip("-._")
    return cleaned[:64] or "admin"


def build_parser() -> argparse.ArgumentParser:
    """The full parser."""
    p = argparse.ArgumentParser(prog=PROG, description="Secure Send administration.")
    p.add_argument("--home", type=Path, default=None, help=f"organisation folder (${HOME_ENV})")
    p.add_argument("--operator", default=None, help="who is acting (default: login name)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_setup(sub)
    _add_people(sub)
    _add_server(sub)
    return p


_Sub = argparse._SubParsersAction  # the type argparse gives subcommand registries


def _add_setup(sub: _Sub[argparse.ArgumentParser]) -> None:
    """Organisation set-up, import and publishing."""
    s = sub.add_parser("init", help="create an organisation")
    s.add_argument("--org", required=True)
    s.add_argument("--roots", type=int, default=3, help="number of root keys (default 3)")
    s.add_argument("--threshold", type=int, default=2, help="signatures needed (default 2)")
    s.add_argument("--server-url", default="")

    s = sub.add_parser("import", help="add or update people and roles")
    src = s.add_mutually_exclusive_group(required=True)
    src.add_argument("--csv", type=Path, metavar="FILE")
    src.add_argument("--ldap", metavar="URL")
    s.add_argument("--base", metavar="DN")
    s.add_argument("--bind", metavar="DN", help="bind DN; password from $SECURE_SEND_LDAP_PASSWORD")
    s.add_argument("--map", type=Path, metavar="FILE", help="attribute mapping (JSON)")
    s.add_argument("--ad", action="store_true", help="use Active Directory attribute names")
    s.add_argument("--filter", default=None, help="LDAP search filter")
    s.add_argument(
        "--ca-file", type=Path, metavar="PEM", help="trust only this CA for the LDAP server"
    )
    s.add_argument(
        "--insecure-plaintext-bind-for-lab-only", action="store_true",
        help="ldap:// without StartTLS: bind DN, password and directory in clear (lab only)",
    )  # fmt: skip

    s = sub.add_parser("generate", help="write a demo or scale organisation as import CSV")
    kind = s.add_mutually_exclusive_group(required=True)
    kind.add_argument("--demo", action="store_true", help="a fictional ministry (~200 people)")
    kind.add_argument("--scale", type=int, metavar="N", help="N synthetic entries")
    s.add_argument("-o", "--output", type=Path, required=True)

    s = sub.add_parser("client-config", help="print the client configuration (JSON)")
    s.add_argument("--server-url", default=None)
    sub.add_parser("rotate-signing-key", help="new directory signing key (root-key ceremony)")
    sub.add_parser("publish", help="sign and publish a fresh snapshot")
    s = sub.add_parser("show", help="show the organisation, or one entry")
    s.add_argument("id", nargs="?")
    s.add_argument(
        "--mynumber-handlers", action="store_true",
        help="list the entries designated 個人番号取扱 (may receive My Numbers)",
    )  # fmt: skip
    s.add_argument(
        "--approvers", action="store_true",
        help="list every active person and their approver (上長), marking any who could not"
        " approve now",
    )  # fmt: skip
    s.add_argument(
        "--p256", action="store_true",
        help="count active devices with a P-256 key (CRYPTREC suite) and list the active"
        " people with a device without one",
    )  # fmt: skip
    sub.add_parser("verify", help="check the log, the snapshot and the trust chain")


def _add_people(sub: _Sub[argparse.ArgumentParser]) -> None:
    """Enrolment and changes to people and roles."""
    s = sub.add_parser("enrol-code", help="print a one-time enrolment code for a person")
    s.add_argument("user")
    s.add_argument("--hours", type=int, default=72)

    s = sub.add_parser("enrol-request", help="process an enrolment request file")
    s.add_argument("file", type=Path)

    s = sub.add_parser("approve", help="list pending enrolments, or approve one")
    s.add_argument("user", nargs="?")
    s.add_argument("device", nargs="?")

    s = sub.add_parser("revoke-device", help="revoke one device of a person")
    s.add_argument("user")
    s.add_argument("device")

    s = sub.add_parser("depart", help="mark a person departed (revokes all devices)")
    s.add_argument("user")

    s = sub.add_parser("members", help="set the members of a role mailbox")
    s.add_argument("role")
    s.add_argument("members", nargs="+")

    # One subcommand for an entry's attributes, each an option (at least one given).
    s = sub.add_parser("set", help="set attributes of a person or role mailbox")
    s.add_argument("id")
    s.add_argument(
        "--mynumber-handler", choices=("yes", "no"), default=None,
        help="designate (yes) or not (no) as 個人番号取扱: may receive specific personal"
        " information",
    )  # fmt: skip
    s.add_argument(
        "--approver", metavar="ID|none", default=None,
        help="whose approval (上長承認) this person's sends need where policy asks: a person"
        " or role mailbox id; none clears it",
    )  # fmt: skip


def _add_server(sub: _Sub[argparse.ArgumentParser]) -> None:
    """The drop server's folder and the directory signer."""
    s = sub.add_parser("server-home", help="write the drop server's folder (public material)")
    s.add_argument("--to", type=Path, required=True, metavar="DIR")
    s = sub.add_parser("signer", help="run the directory signer against the drop server")
    s.add_argument("--server", metavar="URL", help="default: the organisation's server URL")
    s.add_argument("--once", action="store_true", help="process what is queued, then exit")
    s.add_argument("--poll", type=float, default=5.0, metavar="S", help="long-poll length")
    s = sub.add_parser("sync", help="one signer round (for cron): same as signer --once")
    s.add_argument("--server", metavar="URL", help="default: the organisation's server URL")


def run(args: argparse.Namespace) -> int:
    """Dispatch one command; returns the exit status."""
    home = OrgHome(args.home or default_home())
    operator = args.operator or default_operator()
    out = views.Output(json_mode=args.json)
    cmd = args.command
    if cmd == "init":
        ops.init(home, args.org, args.roots, args.threshold, args.server_url)
        out.init(home)
    elif cmd == "import":
        rows = views.import_source(args)
        out.imported(*ops.import_rows(home, rows, operator))
    elif cmd == "generate":
        out.generated(views.generate(args.output, args.demo, args.scale))
    elif cmd == "enrol-code":
        from datetime import timedelta

        code = ops.issue_code(home, args.user, timedelta(hours=args.hours))
        print(json.dumps({"user": args.user, "code": code}) if args.json else code)
    elif cmd == "enrol-request":
        request = EnrolmentRequest.from_json(json.loads(args.file.read_text(encoding="utf-8")))
        out.enrolled(request, ops.accept_enrolment(home, request, operator))
    elif cmd == "client-config":
        print(json.dumps(ops.client_config(home, args.server_url), ensure_ascii=False, indent=2))
    elif cmd == "approve":
        if args.user is None:
            out.pending(ops.pending(home))
        else:
            ops.approve(home, args.user, args.device or "", operator)
            out.done(f"approved {args.user} / {args.device}")
    elif cmd in ("revoke-device", "depart", "members"):
        action, data = _change(args)
        ops.change(home, operator, action, data)
        out.done(f"{cmd}: done")
    elif cmd == "set":
        changes = _changes(args)
        outcome = attributes.set_attributes(home, args.id, changes, operator)
        out.set_done(outcome, changes, home.entries())
    elif cmd == "rotate-signing-key":
        out.rotated(ops.rotate_signing_key(home, operator))
    elif cmd == "publish":
        home.require()
        out.published(home.publish())
    elif cmd == "show" and (args.mynumber_handlers or args.approvers or args.p256):
        if args.id is not None or args.mynumber_handlers + args.approvers + args.p256 > 1:
            raise HomeError("give either an id, --mynumber-handlers, --approvers or --p256")
        if args.p256:
            out.p256(home.entries())
        elif args.approvers:
            out.approvers(home.entries())
        else:
            out.mynumber_handlers(home.entries())
    elif cmd == "show":
        out.show(home, args.id)
    elif cmd == "verify":
        out.verified(views.verify_home(home))
    elif cmd == "server-home":
        out.server_home(write_server_home(home, args.to))
    elif cmd in ("signer", "sync"):
        _signer(home, args, out)
    return 0


def _signer(home: OrgHome, args: argparse.Namespace, out: views.Output) -> None:
    url = args.server or home.settings().server_url
    if not url:
        raise HomeError("give --server URL (the organisation has no server URL)")
    signer = DirectorySigner(home, url)
    try:
        if args.command == "sync" or args.once:
            out.signer_round(signer.run_once())
            return
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        signer.run_forever(stop, args.poll)
    finally:
        signer.close()


def _changes(args: argparse.Namespace) -> attributes.Changes:
    """``set``'s options; ``--approver none`` clears (an empty value is refused: an unset
    shell variable must not clear an approver by accident)."""
    if args.approver == "":
        raise HomeError("--approver needs an id, or none to clear it")
    return attributes.Changes(
        mynumber_handler=None if args.mynumber_handler is None else args.mynumber_handler == "yes",
        approver="" if args.approver == "none" else args.approver,
    )


def _change(args: argparse.Namespace) -> tuple[Action, dict[str, object]]:
    if args.command == "revoke-device":
        return Action.REVOKE_DEVICE, {"user": args.user, "device": args.device}
    if args.command == "depart":
        return Action.DEPART, {"user": args.user}
    return Action.MEMBERS, {"role": args.role, "members": list(args.members)}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; one line on stderr per failure."""
    args = build_parser().parse_args(argv)
    try:
        return run(args)
    except (SecureSendError, OSError) as err:
        print(f"{PROG}: error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
