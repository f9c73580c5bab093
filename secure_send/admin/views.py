"""Output and glue for the admin CLI: human-readable (Japanese names intact) or JSON."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from secure_send.admin import approvers, p256_report
from secure_send.core.directory.bundle import Bundle
from secure_send.core.directory.enrol import EnrolmentRequest
from secure_send.core.directory.log import replay
from secure_send.core.directory.model import Entry, Kind
from secure_send.core.directory.trust import RootDocument
from secure_send.core.directory.verify import verify_directory
from secure_send.core.display import shown
from secure_send.core.encoding import b64u, utc_now
from secure_send.org.attributes import Changes
from secure_send.org.attributes import Outcome as SetOutcome
from secure_send.org.home import HomeError, OrgHome
from secure_send.org.importing import ImportRow, read_csv
from secure_send.org.signer import Round as SignerRound


def import_source(args: argparse.Namespace) -> list[ImportRow]:
    """Rows from ``--csv`` or ``--ldap``."""
    if args.csv is not None:
        return read_csv(args.csv)
    from secure_send.org import ldap_import

    if not args.base:
        raise HomeError("--ldap needs --base DN")
    if args.map is not None:
        mapping = ldap_import.LdapMapping.from_file(args.map)
    elif args.ad:
        mapping = ldap_import.LdapMapping.active_directory()
    else:
        mapping = ldap_import.LdapMapping.openldap()
    password = ldap_import.password_from_env_or_prompt() if args.bind else None
    lab = args.insecure_plaintext_bind_for_lab_only
    if lab:
        print(
            "WARNING: --insecure-plaintext-bind-for-lab-only: no StartTLS on ldap://, the bind"
            " DN, password and directory cross the network in clear. Never on a real network.",
            file=sys.stderr,
        )
    return ldap_import.read_ldap(
        args.ldap,
        args.base,
        bind_dn=args.bind,
        password=password,
        mapping=mapping,
        search_filter=args.filter,
        ca_file=args.ca_file,
        insecure_plaintext_bind_for_lab_only=lab,
    )


def generate(path: Path, demo: bool, scale: int | None) -> int:
    """Write a demo or scale organisation as import CSV; returns the row count."""
    from secure_send.org import demo_org

    rows = demo_org.demo_rows() if demo else demo_org.scale_rows(scale or 0)
    demo_org.write_csv(path, rows)
    return len(rows)


def verify_home(home: OrgHome) -> dict[str, Any]:
    """Admin-side check: the log replays, the bundle verifies as a client would, and
    the published entries equal the replay of the log."""
    home.require()
    bundle = home.published()
    if bundle is None:
        raise HomeError("nothing published yet (run: secure-send-admin publish)")
    events = home.events()
    entries = replay(events)
    data = home.bundle_file.read_bytes()
    verified = verify_directory(data, home.anchor(), now=utc_now())
    expected = [e.canonical_bytes().decode("utf-8") for e in sorted(entries.values(), key=_id)]
    if list(bundle.entries) != expected or bundle.header.log_size != len(events):
        raise HomeError("published snapshot is not the replay of the log: run publish")
    return {
        "org": bundle.header.org,
        "epoch": bundle.header.epoch,
        "entries": len(verified.entries),
        "log_size": bundle.header.log_size,
        "expires": bundle.header.expires,
        "root_version": verified.checkpoint.root.version,
    }


def _id(entry: Entry) -> str:
    return entry.id


@dataclass
class Output:
    """Prints results for people, or as JSON with ``--json``."""

    json_mode: bool

    def _emit(self, value: Any, text: str) -> None:
        if self.json_mode:
            print(json.dumps(value, ensure_ascii=False, indent=2))
        else:
            print(text)

    def done(self, message: str) -> None:
        """A one-line confirmation."""
        self._emit({"ok": True, "message": message}, message)

    def init(self, home: OrgHome) -> None:
        """After ``init``."""
        root = home.current_root()
        self._emit(
            {
                "org": root.org,
                "home": str(home.path),
                "root_keys": len(root.root_keys),
                "threshold": root.threshold,
            },
            f"Created organisation {root.org!r} in {home.path}\n"
            f"  root keys: {len(root.root_keys)} (threshold {root.threshold}) in "
            f"{home.offline_dir} — move them offline\n"
            f"  signing key expires {root.signing_key_expires}",
        )

    def imported(self, added: int, changed: int) -> None:
        """After ``import``."""
        self._emit(
            {"added": added, "changed": changed},
            f"Imported: {added} added, {changed} changed; directory republished",
        )

    def generated(self, count: int) -> None:
        """After ``generate``."""
        self._emit({"rows": count}, f"Wrote {count} rows")

    def enrolled(self, request: EnrolmentRequest, at_once: bool) -> None:
        """After ``enrol-request``."""
        state = "enrolled" if at_once else "pending approval"
        self._emit(
            {"user": request.user, "device": request.device_id, "state": state},
            f"{request.user} / {request.device_id}: {state}",
        )

    def pending(self, requests: list[EnrolmentRequest]) -> None:
        """``approve`` without arguments."""
        rows = [
            {
                "user": r.user,
                "device": r.device_id,
                "name": shown(r.device_name),
                "time": r.time,
                "sign_key": b64u(r.sign_key),
            }
            for r in requests
        ]
        # the name is an anonymous caller's text: quoted, and shown without anything a
        # terminal would obey (it could otherwise print a fake "No pending enrolments.")
        text = (
            "\n".join(
                f"{r['user']}  {r['device']}  「{r['name']}」  {r['time']}  key {r['sign_key']}"
                for r in rows
            )
            or "No pending enrolments."
        )
        self._emit(rows, text)

    def rotated(self, root: RootDocument) -> None:
        """After ``rotate-signing-key``."""
        self._emit(
            {"root_version": root.version, "signing_key": b64u(root.signing_key)},
            f"New signing key (root document version {root.version}); "
            f"expires {root.signing_key_expires}",
        )

    def published(self, bundle: Bundle) -> None:
        """After ``publish``."""
        h = bundle.header
        self._emit(
            {"epoch": h.epoch, "entries": h.entry_count, "expires": h.expires},
            f"Published epoch {h.epoch}: {h.entry_count} entries, expires {h.expires}",
        )

    def verified(self, report: dict[str, Any]) -> None:
        """After ``verify``."""
        self._emit(
            report,
            f"OK: {report['org']} epoch {report['epoch']}, {report['entries']} "
            f"entries, log {report['log_size']} events, expires {report['expires']}",
        )

    def server_home(self, done: dict[str, str]) -> None:
        """After ``server-home``."""
        self._emit(
            done,
            f"Server folder {done['folder']}: directory {done['directory']}; "
            f"server.toml {done['server_toml']}\n"
            f"  signer key {done['signer_public_key']}\n"
            f"  run: secure-send-server --home {done['folder']}",
        )

    def signer_round(self, report: SignerRound) -> None:
        """After ``sync`` / ``signer --once``."""
        self._emit(
            report.to_json(),
            f"{report.requests} request(s): {report.enrolled} enrolled, {report.pending} "
            f"pending, {report.refused} refused; {report.key_adds} key-add request(s),"
            f" {report.keys_added} done; server at epoch {report.pushed_epoch}",
        )

    def set_done(self, outcome: SetOutcome, changes: Changes, entries: dict[str, Entry]) -> None:
        """After ``set``: the attributes asked for, as they are now."""
        entry = outcome.entry
        verb = "now" if outcome.changed else "unchanged,"
        value: dict[str, Any] = {"id": entry.id, "changed": outcome.changed}
        said = []
        if changes.mynumber_handler is not None:
            value["mynumber_handler"] = entry.mynumber_handler
            state = "designated" if entry.mynumber_handler else "not designated"
            said.append(f"{state} 個人番号取扱 (may receive specific personal information)")
        if changes.approver is not None:
            value["approver"] = entry.approver
            said.append(approvers.describe(entries, entry).strip())
        self._emit(
            value,
            f"{entry.id}: {verb} "
            + "; ".join(said)
            + ("; directory republished" if outcome.changed else ""),
        )

    def approvers(self, entries: dict[str, Entry]) -> None:
        """``show --approvers``: every active person and their approver, for IT's audit."""
        listed = approvers.rows(entries)
        self._emit(listed, approvers.text(entries, listed))

    def p256(self, entries: dict[str, Entry]) -> None:
        """``show --p256``: who is ready for the CRYPTREC suite (issue 21)."""
        found = p256_report.report(entries)
        self._emit(found, p256_report.text(found))

    def mynumber_handlers(self, entries: dict[str, Entry]) -> None:
        """``show --mynumber-handlers``: who may receive My Numbers, for IT's audit; a
        designated role lists its members, whom it covers."""
        chosen = sorted((e for e in entries.values() if e.mynumber_handler), key=_id)
        rows = [
            {
                "id": e.id,
                "kind": e.kind.value,
                "name_ja": e.name_ja,
                "department": e.department,
                "status": e.status.value,
                "members": list(e.members),
            }
            for e in chosen
        ]
        count = f"{len(rows)} {'entry' if len(rows) == 1 else 'entries'}"
        lines = [f"個人番号取扱 (may receive specific personal information): {count}"]
        for e in chosen:
            departed = ", departed" if not e.active else ""
            lines.append(f"  {e.id:<24} {e.name_ja}  ({e.department}; {e.kind.value}{departed})")
            lines += [f"    member: {m}{_who(entries.get(m))}" for m in e.members]
        self._emit(rows, "\n".join(lines))

    def show(self, home: OrgHome, entry_id: str | None) -> None:
        """One entry in full, or a summary of the organisation."""
        entries = home.entries()
        if entry_id is not None:
            if entry_id not in entries:
                raise HomeError(f"no entry {entry_id!r}")
            entry = entries[entry_id]
            self._emit(entry.to_json(), _describe(entry, entries))
            return
        settings = home.settings()
        people = sum(e.kind is Kind.PERSON for e in entries.values())
        summary = {
            "org": settings.org,
            "people": people,
            "roles": len(entries) - people,
            "devices": sum(len(e.active_devices()) for e in entries.values()),
        }
        lines = [
            f"{settings.org}: {people} people, {summary['roles']} roles, "
            f"{summary['devices']} active devices"
        ]
        lines += [
            f"  {e.id:<24} {e.name_ja}  ({e.department})"
            for e in sorted(entries.values(), key=_id)[:50]
        ]
        if len(entries) > 50:
            lines.append(f"  … and {len(entries) - 50} more (use --json for all)")
        self._emit(
            {**summary, "entries": [e.id for e in entries.values()]} if self.json_mode else summary,
            "\n".join(lines),
        )


def _describe(entry: Entry, entries: dict[str, Entry]) -> str:
    kind = "role mailbox" if entry.kind is Kind.ROLE else "person"
    lines = [
        f"{entry.name_ja}  {entry.name_kana}  {entry.name_en}".rstrip(),
        f"  id: {entry.id} ({kind}, {entry.status.value})",
        f"  {entry.department}  {entry.title}".rstrip(),
        f"  email (informational): {entry.email}",
    ]
    lines.append(
        f"  個人番号取扱 (may receive specific personal information): {_handler(entry, entries)}"
    )
    if entry.kind is Kind.PERSON:
        lines.append(approvers.describe(entries, entry))
    lines += [f"  member: {m}{_who(entries.get(m))}" for m in entry.members]
    for d in entry.devices:
        state = f"revoked {d.revoked}" if d.revoked else "active"
        p256 = "P-256 key: yes" if d.has_p256 else "P-256 key: no"
        lines.append(f"  device {d.id} '{shown(d.name)}': enrolled {d.enrolled}, {state}, {p256}")
    return "\n".join(lines)


def _who(member: Entry | None) -> str:
    return f" ({member.name_ja}, {member.department})" if member else ""


def _handler(entry: Entry, entries: dict[str, Entry]) -> str:
    """yes, or no — and for a person, the designated role mailboxes that cover them."""
    if entry.mynumber_handler:
        return "yes"
    roles = sorted(e.id for e in entries.values() if e.mynumber_handler and entry.id in e.members)
    return f"no (covered as a member of {', '.join(roles)})" if roles else "no"
