"""What the IT administrator does to an organisation, as plain functions.

The admin CLI and the directory signer both call these, so each rule lives in
one place; all of it runs on IT's side, never inside the drop server. Every
change is an event appended to the log, after which the directory is
republished.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import nacl.signing

from secure_send.core.atomic import private_dir
from secure_send.core.directory.enrol import (
    CODE_LIFETIME,
    EnrolmentError,
    EnrolmentRequest,
    code_mac_key,
    new_code,
)
from secure_send.core.directory.log import Action, Event, LogError, apply
from secure_send.core.directory.model import Entry, Kind, check_id
from secure_send.core.directory.trust import RootDocument, body_hash
from secure_send.core.encoding import b64u, format_time, parse_time, unb64u, utc_now
from secure_send.org.home import HomeError, OrgHome, OrgSettings, write_json
from secure_send.org.importing import ImportRow, validate_rows
from secure_send.org.keys import write_key


def init(home: OrgHome, org: str, roots: int = 3, threshold: int = 2, server_url: str = "") -> None:
    """Create an organisation: root keys, signing key, root document, empty log, snapshot."""
    if home.exists():
        raise HomeError(f"{home.path} already holds an organisation")
    if not 1 <= threshold <= roots:
        raise HomeError("threshold must be between 1 and the number of root keys")
    private_dir(home.path)  # 0700 (its files are 0600): keys, codes, the log
    with home.locked():
        settings = OrgSettings(org=org, server_url=server_url)
        root_keys = home.create_root_keys(roots)
        signing = nacl.signing.SigningKey.generate()
        private_dir(home.signing_key_file.parent)
        write_key(home.signing_key_file, signing)
        home.signer_identity()
        now = utc_now()
        root = RootDocument(
            org=org,
            version=1,
            issued=format_time(now),
            root_keys=tuple(bytes(k.verify_key) for k in root_keys),
            threshold=threshold,
            signing_key=bytes(signing.verify_key),
            signing_key_expires=format_time(now + dt.timedelta(days=settings.signing_key_days)),
            previous="",
        ).signed_by(root_keys)
        home.save_root(root)
        home.save_settings(settings)
        home.publish(now)


def import_rows(home: OrgHome, rows: Sequence[ImportRow], operator: str) -> tuple[int, int]:
    """Add or update entries from an import; all or nothing. Returns (added, changed)."""
    home.require()
    with home.locked():
        existing = home.entries()
        entries = validate_rows(rows, existing)
        added = changed = 0
        changes: list[tuple[Action, dict[str, Any]]] = []
        # People first, so that roles can name people created by the same import.
        for entry in sorted(entries, key=lambda e: e.kind is Kind.ROLE):
            old = existing.get(entry.id)
            data = entry.to_json()
            if (
                old is not None
                and old.with_changes(devices=(), status=entry.status).to_json() == data
            ):
                continue
            changes.append((Action.UPDATE, {"entry": data}))
            added += old is None
            changed += old is not None
        home.append_all(operator, changes)
        home.publish()
        return added, changed


@dataclass(frozen=True)
class CodeRecord:
    """A one-time code as stored: only its derived MAC key, never the code."""

    mac_key: bytes
    user: str
    expires: str
    used: bool = False

    def to_json(self) -> dict[str, Any]:
        """For ``codes.json``."""
        return {
            "mac_key": b64u(self.mac_key),
            "user": self.user,
            "expires": self.expires,
            "used": self.used,
        }


def _codes(home: OrgHome) -> list[CodeRecord]:
    if not home.codes_file.exists():
        return []
    raw = json.loads(home.codes_file.read_text(encoding="utf-8"))
    return [CodeRecord(unb64u(r["mac_key"], 32), r["user"], r["expires"], r["used"]) for r in raw]


def issue_code(home: OrgHome, user: str, lifetime: dt.timedelta = CODE_LIFETIME) -> str:
    """A one-time enrolment code for an active person (returned once, stored as a hash)."""
    home.require()
    with home.locked():
        entry = home.entries().get(check_id(user, "user id"))
        if entry is None or entry.kind is not Kind.PERSON or not entry.active:
            raise HomeError(f"{user!r} is not an active person in the directory")
        code = new_code()
        expires = format_time(utc_now() + lifetime)
        now = utc_now()
        keep = [c for c in _codes(home) if not c.used and parse_time(c.expires) > now]
        keep.append(CodeRecord(code_mac_key(code), user, expires))
        write_json(home.codes_file, [c.to_json() for c in keep])
        return code


class Outcome(enum.Enum):
    """What became of one enrolment request."""

    ENROLLED = "enrolled"  # in the log (now, or already with these very keys)
    PENDING = "pending"  # no code: parked for an operator's approval
    BAD_ENROLMENT = "bad_enrolment"  # bad proof, or a wrong, used or expired code
    CONFLICT = "conflict"  # the device id is taken, or the person cannot enrol


def accept_enrolment(home: OrgHome, request: EnrolmentRequest, operator: str) -> bool:
    """Process one device's request (see :func:`enrol_batch`). Returns True if
    enrolled, False if left for approval.

    Raises:
        EnrolmentError: bad signature, or a code MAC that matches no valid code.
        HomeError: the device cannot be enrolled (its id is taken).
    """
    outcome, why = enrol_batch(home, [request], operator)[0]
    if outcome is Outcome.BAD_ENROLMENT:
        raise EnrolmentError(why)
    if outcome is Outcome.CONFLICT:
        raise HomeError(f"{request.user} / {request.device_id} cannot be enrolled: {why}")
    return outcome is Outcome.ENROLLED


def enrol_batch(
    home: OrgHome, requests: Sequence[EnrolmentRequest], operator: str
) -> list[tuple[Outcome, str]]:
    """Decide a batch of requests under one lock: one log append and one new snapshot
    for all that enrol (a roll-out morning costs one republish per batch).

    A request enrols only with a proof of possession and a code issued for its
    user, unused and unexpired, whose MAC matches (compared in constant time);
    a code is spent only once its device is in the log. A request whose device is
    already listed with the same keys is ``ENROLLED`` again (a retried batch).
    Each outcome comes with a sentence for the operator (never the code).
    """
    home.require()
    with home.locked():
        entries = home.entries()
        codes = _codes(home)
        now = utc_now()
        time = format_time(now)
        outcomes: list[tuple[Outcome, str]] = []
        changes: list[tuple[Action, dict[str, Any]]] = []
        for request in requests:
            outcome, why, change = _decide(home, entries, codes, request, now, time)
            outcomes.append((outcome, why))
            if change is not None:
                changes.append(change)
        if changes:  # one append, one snapshot for the whole batch
            home.append_all(operator, changes, time)
            # Spent only now that the devices are in the log: a failed batch keeps them.
            write_json(home.codes_file, [c.to_json() for c in codes])
            home.publish(now)
        return outcomes


def _decide(
    home: OrgHome,
    entries: dict[str, Entry],
    codes: list[CodeRecord],
    request: EnrolmentRequest,
    now: dt.datetime,
    time: str,
) -> tuple[Outcome, str, tuple[Action, dict[str, Any]] | None]:
    """One request against the working copy ``entries`` (and ``codes``), updated in place."""
    try:
        request.verify_possession()
    except EnrolmentError as err:
        return Outcome.BAD_ENROLMENT, str(err), None
    entry = entries.get(request.user)
    listed = entry is not None and any(
        d.id == request.device_id and d.sign_key == request.sign_key for d in entry.devices
    )
    if listed:
        return Outcome.ENROLLED, "already enrolled with these keys", None
    if request.code_mac is None:
        try:
            _keep_pending(home, request, entries)
        except EnrolmentError as err:
            return Outcome.CONFLICT, str(err), None
        return Outcome.PENDING, "waiting for approval", None
    for i, record in enumerate(codes):
        if record.user != request.user or record.used:  # cheap checks first: big batches
            continue
        if parse_time(record.expires) > now and request.code_matches(record.mac_key):
            data = {"user": request.user, "device": request.device(time).to_json()}
            try:
                apply(entries, Event(0, time, "check", Action.ENROL, data))
            except LogError as err:
                return Outcome.CONFLICT, str(err), None  # the code stays usable
            codes[i] = CodeRecord(record.mac_key, record.user, record.expires, used=True)
            return Outcome.ENROLLED, "enrolled", (Action.ENROL, data)
    return Outcome.BAD_ENROLMENT, "the one-time code is wrong, used or expired", None


# as many as the drop server lets wait per person (enrol_queue.MAX_CODELESS_PER_USER),
# which allows only three of them from one address: a stranger naming someone cannot
# take every slot that person's own devices need
MAX_PENDING_PER_USER = 10


def _keep_pending(home: OrgHome, request: EnrolmentRequest, entries: dict[str, Entry]) -> None:
    """Park a request without a code for approval: only for active people, and only a
    few per person, so that an anonymous caller cannot fill the disk or the queue."""
    entry = entries.get(request.user)
    if entry is None or entry.kind is not Kind.PERSON or not entry.active:
        raise EnrolmentError("enrolment is only for active people in the directory")
    private_dir(home.pending_dir)
    path = home.pending_dir / f"{request.user}--{request.device_id}.json"
    waiting = list(home.pending_dir.glob(f"{request.user}--*.json"))
    if not path.exists() and len(waiting) >= MAX_PENDING_PER_USER:
        raise EnrolmentError("too many enrolments are waiting for approval for this person")
    write_json(path, request.to_json())


def _add_device(home: OrgHome, request: EnrolmentRequest, operator: str, action: Action) -> None:
    time = format_time(utc_now())
    device = request.device(time).to_json()
    home.append(operator, action, {"user": request.user, "device": device}, time)
    home.publish()


def pending(home: OrgHome) -> list[EnrolmentRequest]:
    """Requests that arrived without a code."""
    return [
        EnrolmentRequest.from_json(json.loads(p.read_text(encoding="utf-8")))
        for p in sorted(home.pending_dir.glob("*.json"))
    ]


def approve(home: OrgHome, user: str, device: str, operator: str) -> None:
    """Enrol a pending device after an operator checked it out of band."""
    home.require()
    path = home.pending_dir / f"{check_id(user)}--{check_id(device, 'device id')}.json"
    if not path.exists():
        raise HomeError(f"no pending enrolment for {user} / {device}")
    request = EnrolmentRequest.from_json(json.loads(path.read_text(encoding="utf-8")))
    request.verify_possession()
    with home.locked():
        _add_device(home, request, operator, Action.APPROVE)
        path.unlink()


def change(home: OrgHome, operator: str, action: Action, data: dict[str, Any]) -> None:
    """Append one event (revoke-device, depart, members) and republish."""
    home.require()
    with home.locked():
        home.append(operator, action, data)
        home.publish()


def rotate_signing_key(home: OrgHome, operator: str) -> RootDocument:
    """New online signing key, named by a new root document signed by the root keys."""
    home.require()
    with home.locked():
        settings = home.settings()
        old = home.current_root()
        keys = [k for k in home.root_keys() if bytes(k.verify_key) in old.root_keys]
        if len(keys) < old.threshold:
            raise HomeError(
                f"need {old.threshold} root keys in {home.offline_dir} for this ceremony, "
                f"found {len(keys)}"
            )
        signing = nacl.signing.SigningKey.generate()
        now = utc_now()
        new = RootDocument(
            org=old.org,
            version=old.version + 1,
            issued=format_time(now),
            root_keys=old.root_keys,
            threshold=old.threshold,
            signing_key=bytes(signing.verify_key),
            signing_key_expires=format_time(now + dt.timedelta(days=settings.signing_key_days)),
            previous=body_hash(old.body()),
        ).signed_by(keys[: old.threshold])
        retired = home.signing_key_file.with_name(f"signing-{old.version}.key.retired")
        home.signing_key_file.rename(retired)
        write_key(home.signing_key_file, signing)
        home.save_root(new)
        home.append(
            operator,
            Action.ROTATE_SIGNING_KEY,
            {"key": b64u(bytes(signing.verify_key)), "root_version": new.version},
        )
        home.publish(now)
        return new


def client_config(home: OrgHome, server_url: str | None = None) -> dict[str, Any]:
    """What installers embed and ``secure-send enrol --org-config`` reads."""
    settings = home.settings()
    anchor = home.anchor()
    return {
        "format": "secure-send/client-config/v1",
        "server_url": server_url or settings.server_url,
        **anchor.to_json(),
    }


__all__ = ["EnrolmentError"]
