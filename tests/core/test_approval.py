"""上長承認: the manifest's signed requirement and the approver's signed decision,
checked against a real (verified) directory of the test organisation."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from pathlib import Path
from typing import Any

import pytest

from secure_send.core.directory.enrol import DeviceKeys
from secure_send.core.directory.log import Action
from secure_send.core.directory.model import Entry, EntryError, Status
from secure_send.core.encoding import format_time, utc_now
from secure_send.core.envelope.approval import (
    Approval,
    ApproverError,
    Decision,
    approvers_for,
    manifest_digest,
    reachable_approvers,
)
from secure_send.core.envelope.manifest import (
    ApprovalRequired,
    Blob,
    Classification,
    EnvelopeError,
    Manifest,
    RecipientRef,
    SignedManifest,
    new_drop_id,
)
from secure_send.org.home import OrgHome
from tests.directory_kit import HANAKO, JIRO, OPERATOR, ROLE, TARO, enrol_device, new_org

NOW = utc_now()


def _set(home: OrgHome, entry_id: str, **changes: Any) -> None:
    """One signed update event, as ``secure-send-admin set`` writes it."""
    old = home.entries()[entry_id]
    new = old.with_changes(**changes, devices=(), status=Status.ACTIVE)
    home.append(OPERATOR, Action.UPDATE, {"entry": new.to_json()})
    home.publish()


class Org:
    """Hanako sends; her approver is Jiro (総務課); Taro (人事課) receives."""

    def __init__(self, path: Path) -> None:
        self.home = new_org(path, devices=False)
        self.hanako = enrol_device(self.home, HANAKO, "laptop")
        self.taro = enrol_device(self.home, TARO, "desktop")
        self.jiro = enrol_device(self.home, JIRO, "pc")
        _set(self.home, HANAKO, approver=JIRO)

    def entries(self) -> dict[str, Entry]:
        return self.home.entries()


@pytest.fixture
def org(tmp_path: Path) -> Org:
    return Org(tmp_path / "org")


def _manifest(approvers: tuple[str, ...] = (JIRO,), by: str = JIRO) -> Manifest:
    return Manifest(
        drop_id=new_drop_id(),
        sender=HANAKO,
        sender_device="laptop",
        recipients=(
            RecipientRef(TARO, ("desktop",)),
            RecipientRef(JIRO, ("pc",)),
            RecipientRef(HANAKO, ("laptop",)),
        ),
        blobs=(Blob("m", "metadata", hashlib.sha256(b"m").digest(), 1),),
        created=format_time(NOW),
        expires=format_time(NOW + dt.timedelta(days=3)),
        classification=Classification.C3,
        suite="age-x25519-v1",
        directory_epoch=1,
        directory_header="x" * 43,
        log_size=5,
        log_root=bytes(32),
        approval=ApprovalRequired(by, approvers, ("c3", "mynumber")),
        mynumber_files=1,
        mynumber_count=3,
    )


def _decision(
    m: Manifest, keys: DeviceKeys, *, who: str = JIRO, device: str = "pc", **changes: Any
) -> Approval:
    approval = Approval(
        drop_id=m.drop_id,
        manifest=manifest_digest(m),
        approver=who,
        device=device,
        decision=Decision.APPROVED,
        time=format_time(NOW),
        log_size=5,
        log_root=bytes(32),
    )
    return dataclasses.replace(approval, **changes).signed_by(keys.signing)


def test_the_requirement_is_signed_and_round_trips(org: Org) -> None:
    m = _manifest()
    signed = SignedManifest.from_json(m.sign(org.hanako.signing).to_json())
    assert signed.verify(org.entries()).approval == m.approval
    # the server cannot drop it: the signature no longer holds without it
    body = m.sign(org.hanako.signing).to_json()
    del body["body"]["approval_required"]
    with pytest.raises(EnvelopeError, match="signature"):
        SignedManifest.from_json(body).verify(org.entries())


def test_an_approver_must_be_a_recipient_and_not_the_sender(org: Org) -> None:
    absent = dataclasses.replace(_manifest(), recipients=(RecipientRef(TARO, ("desktop",)),)).sign(
        org.hanako.signing
    )
    with pytest.raises(EnvelopeError, match="not a recipient"):
        absent.verify(org.entries())
    selfish = _manifest(approvers=(HANAKO,)).sign(org.hanako.signing)
    with pytest.raises(EnvelopeError, match="the sender"):
        selfish.verify(org.entries())


@pytest.mark.parametrize(
    "requirement",
    [
        {"approvers": [], "by": JIRO, "reasons": ["c3"]},
        {"approvers": [JIRO, JIRO], "by": JIRO, "reasons": ["c3"]},
        {"approvers": [JIRO], "by": JIRO, "reasons": []},
        {"approvers": [JIRO], "by": JIRO, "reasons": ["mynumber", "c3"]},  # unsorted
        {"approvers": [JIRO], "by": JIRO, "reasons": ["secret"]},
        {"approvers": [JIRO], "by": "Bad Id", "reasons": ["c3"]},
        {"approvers": [JIRO], "by": JIRO},
        {"approvers": [JIRO], "by": JIRO, "reasons": ["c3"], "extra": 1},
        [JIRO],
    ],
)
def test_a_malformed_requirement_is_refused(org: Org, requirement: object) -> None:
    obj = _manifest().sign(org.hanako.signing).to_json()
    obj["body"]["approval_required"] = requirement
    with pytest.raises(EnvelopeError):
        SignedManifest.from_json(obj)


def test_the_approvers_decision_verifies(org: Org) -> None:
    m = _manifest()
    decision = Approval.from_json(_decision(m, org.jiro).to_json())
    decision.verify(m, org.entries())
    rejected = _decision(m, org.jiro, decision=Decision.REJECTED, reason="宛先を確認してください")
    parsed = Approval.from_json(rejected.to_json())
    assert parsed.reason == "宛先を確認してください"
    parsed.verify(m, org.entries())


def test_a_decision_over_another_manifest_is_refused(org: Org) -> None:
    m = _manifest()
    other = dataclasses.replace(m, classification=Classification.C2)  # same drop id
    with pytest.raises(EnvelopeError, match="another manifest"):
        _decision(other, org.jiro).verify(m, org.entries())
    with pytest.raises(EnvelopeError, match="another drop"):
        _decision(m, org.jiro, drop_id=new_drop_id()).verify(m, org.entries())


def test_a_decision_by_someone_else_is_refused(org: Org) -> None:
    m = _manifest()
    with pytest.raises(EnvelopeError, match="did not ask"):
        _decision(m, org.taro, who=TARO, device="desktop").verify(m, org.entries())
    # a forged signature: Taro's key under Jiro's name
    with pytest.raises(EnvelopeError, match="signature"):
        _decision(m, org.taro).verify(m, org.entries())


def test_a_decision_after_the_approver_changed_is_refused(org: Org) -> None:
    m = _manifest()
    _set(org.home, HANAKO, approver=TARO)
    with pytest.raises(EnvelopeError, match="no longer approves"):
        _decision(m, org.jiro).verify(m, org.entries())


def test_a_tampered_decision_does_not_verify(org: Org) -> None:
    m = _manifest()
    obj = _decision(m, org.jiro, decision=Decision.REJECTED, reason="no").to_json()
    obj["body"]["decision"] = "approved"
    with pytest.raises(EnvelopeError):  # an approval carries no reason
        Approval.from_json(obj)
    del obj["body"]["reason"]
    with pytest.raises(EnvelopeError, match="signature"):
        Approval.from_json(obj).verify(m, org.entries())


@pytest.mark.parametrize("reason", ["", "   ", "x" * 501, "bell\x07"])
def test_a_rejection_needs_a_plain_reason(org: Org, reason: str) -> None:
    with pytest.raises(EnvelopeError):
        _decision(_manifest(), org.jiro, decision=Decision.REJECTED, reason=reason)


def test_approvers_of_a_person_and_of_a_role(org: Org) -> None:
    assert approvers_for(org.entries(), HANAKO) == (JIRO, (JIRO,))
    _set(org.home, HANAKO, approver=ROLE)  # 会計課 窓口: Hanako and Taro
    assert approvers_for(org.entries(), HANAKO) == (ROLE, (TARO,))  # never herself
    by, people = reachable_approvers(org.entries(), HANAKO)
    assert (by, [p.id for p in people]) == (ROLE, [TARO])


def test_no_approver_departed_or_not_set_up(org: Org, tmp_path: Path) -> None:
    with pytest.raises(ApproverError, match="no approver"):
        approvers_for(org.entries(), TARO)
    org.home.append(OPERATOR, Action.DEPART, {"user": JIRO})
    org.home.publish()
    with pytest.raises(ApproverError, match="has left") as err:
        approvers_for(org.entries(), HANAKO)
    assert err.value.approver == JIRO
    fresh = new_org(tmp_path / "fresh", devices=False)  # Jiro never set the app up
    _set(fresh, HANAKO, approver=JIRO)
    assert approvers_for(fresh.entries(), HANAKO) == (JIRO, (JIRO,))
    with pytest.raises(ApproverError, match="not set up"):
        reachable_approvers(fresh.entries(), HANAKO)


def test_an_entry_cannot_approve_itself_and_a_role_has_no_approver(org: Org) -> None:
    hanako = org.entries()[HANAKO].to_json()
    with pytest.raises(EntryError, match="not themselves"):
        Entry.from_json({**hanako, "approver": HANAKO})
    role = org.entries()[ROLE].to_json()
    with pytest.raises(EntryError, match="only a person"):
        Entry.from_json({**role, "approver": JIRO})
    assert Entry.from_json(hanako).approver == JIRO
    without = {k: v for k, v in hanako.items() if k != "approver"}
    assert "approver" not in Entry.from_json(without).to_json()  # old bytes unchanged
