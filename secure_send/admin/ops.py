"""What the IT administrator does to an organisation, as plain functions.

The admin CLI and the drop server (enrolment endpoint) both call these, so each
rule lives in one place. Every change is an event appended to the log, after
which the directory is republished.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import nacl.signing

from secure_send.admin.home import HomeError, OrgHome, OrgSettings, write_json
from secure_send.admin.importing import ImportRow, validate_rows
from secure_send.admin.keys import write_key
from secure_send.core.directory.enrol import (
    CODE_LIFETIME,
    EnrolmentError,
    EnrolmentRequest,
    code_mac_key,
    new_code,
)
from secure_send.core.directory.log import Action
from secure_send.core.directory.model import Kind, check_id
from secure_send.core.directory.trust import RootDocument, body_hash
from secure_send.core.encoding import b64u, format_time, parse_time, unb64u, utc_now


def init(home: OrgHome, org: str, roots: int = 3, threshold: int = 2, server_url: str = "") -> None:
    """Create an organisation: root keys, signing key, root document, empty log, snapshot."""
    if home.exists():
        raise HomeError(f"{home.path} already holds an organisation")
    if not 1 <= threshold <= roots:
        raise HomeError("threshold must be between 1 and the number of root keys")
    with home.locked():
        settings = OrgSettings(org=org, server_url=server_url)
        root_keys = home.create_root_keys(roots)
        signing = nacl.signing.SigningKey.generate()
        home.signing_key_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_key(home.signing_key_file, signing)
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


def accept_enrolment(home: OrgHome, request: EnrolmentRequest, operator: str) -> bool:
    """Process a device's request: enrol at once with a valid code, else keep it pending.

    Returns True if enrolled, False if left for approval.

    Raises:
        EnrolmentError: bad signature, or a code MAC that matches no valid code.
    """
    home.require()
    request.verify_possession()
    with home.locked():
        now = utc_now()
        codes = _codes(home)
        if request.code_mac is None:
            _keep_pending(home, request)
            return False
        for i, record in enumerate(codes):
            usable = not record.used and parse_time(record.expires) > now
            if usable and record.user == request.user and request.code_matches(record.mac_key):
                _add_device(home, request, operator, Action.ENROL)
                # Spent only once the device is in the log: a failed enrolment keeps it.
                codes[i] = CodeRecord(record.mac_key, record.user, record.expires, used=True)
                write_json(home.codes_file, [c.to_json() for c in codes])
                return True
        raise EnrolmentError("the one-time code is wrong, used or expired")


MAX_PENDING_PER_USER = 3


def _keep_pending(home: OrgHome, request: EnrolmentRequest) -> None:
    """Park a request without a code for approval: only for active people, and only a
    few per person, so that an anonymous caller cannot fill the disk or the queue."""
    entry = home.entries().get(request.user)
    if entry is None or entry.kind is not Kind.PERSON or not entry.active:
        raise EnrolmentError("enrolment is only for active people in the directory")
    home.pending_dir.mkdir(parents=True, exist_ok=True)
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
