"""上長承認 as each reader judges it (client/approval.py, approval_rules.py), against a
real verified directory: the sender's plan, and every recipient's recomputation."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest

from secure_send.client.approval import judge, plan
from secure_send.client.approval_rules import ApprovalRules
from secure_send.client.errors import ClientError, DangerousDrop
from secure_send.core.encoding import format_time
from secure_send.core.envelope.approval import Decision
from secure_send.core.envelope.manifest import Classification, new_drop_id
from secure_send.core.envelope.request import FileRequest
from secure_send.core.error_codes import ErrorCode
from tests.core.test_approval import NOW, Org, _decision, _manifest
from tests.directory_kit import HANAKO, JIRO, ROLE, TARO

OUTSIDE = ApprovalRules(frozenset({"outside_department"}))
C3 = ApprovalRules(frozenset({"c3"}))


@pytest.fixture
def org(tmp_path: Path) -> Org:
    return Org(tmp_path / "org")


def test_reasons_follow_the_policy() -> None:
    rules = ApprovalRules(frozenset({"c3", "mynumber", "outside_department"}))
    assert rules.reasons(Classification.C2, False, None, []) == ()
    assert rules.reasons(Classification.C3, True, None, []) == ("c3", "mynumber")
    assert ApprovalRules().reasons(Classification.C3, True, None, [None]) == ()


def test_outside_the_department_and_an_unknown_recipient(org: Org) -> None:
    e = org.entries()
    hanako, taro, role = e[HANAKO], e[TARO], e[ROLE]  # 会計課, 人事課, 会計課 窓口
    assert OUTSIDE.reasons(Classification.C2, False, hanako, [taro]) == ("outside_department",)
    colleague = dataclasses.replace(taro, department=hanako.department)
    assert OUTSIDE.reasons(Classification.C2, False, hanako, [colleague, role]) == ()
    assert OUTSIDE.reasons(Classification.C2, False, hanako, [None]) == ("outside_department",)


def test_the_sender_plan_adds_the_approver(org: Org) -> None:
    e = org.entries()
    asked = plan(e, C3, HANAKO, [e[TARO]], Classification.C3, False)
    assert asked is not None
    assert (asked.requirement.by, asked.requirement.approvers) == (JIRO, (JIRO,))
    assert [a.id for a in asked.approvers] == [JIRO]
    assert plan(e, C3, HANAKO, [e[TARO]], Classification.C2, False) is None
    with pytest.raises(ClientError) as err:  # Taro has no approver
        plan(e, C3, TARO, [e[HANAKO]], Classification.C3, False)
    assert err.value.code == ErrorCode.NO_APPROVER


def test_without_a_decision_only_the_sender_and_approvers_may_open_it(org: Org) -> None:
    m, e = _manifest(), org.entries()
    assert judge(m, {"state": "pending", "decision": None}, e, C3, JIRO).approving
    assert judge(m, None, e, C3, HANAKO).state == "pending"
    with pytest.raises(DangerousDrop) as err:
        judge(m, {"state": "approved", "decision": None}, e, C3, TARO)  # the server's word
    assert err.value.code == ErrorCode.APPROVAL_MISSING


def test_an_approved_decision_releases_it_and_a_rejection_does_not(org: Org) -> None:
    m, e = _manifest(), org.entries()
    approved = {"state": "approved", "decision": _decision(m, org.jiro).to_json()}
    status = judge(m, approved, e, ApprovalRules(), TARO)  # even without a policy here
    assert (status.state, status.decided_by) == ("approved", JIRO)
    rejected = _decision(m, org.jiro, decision=Decision.REJECTED, reason="宛先違い").to_json()
    assert judge(m, {"decision": rejected}, e, C3, HANAKO).reason == "宛先違い"
    with pytest.raises(DangerousDrop):
        judge(m, {"decision": rejected}, e, C3, TARO)


def test_a_decision_that_does_not_verify_is_an_alert_for_everyone(org: Org) -> None:
    m, e = _manifest(), org.entries()
    forged = {"decision": _decision(m, org.taro).to_json()}  # Taro's key, Jiro's name
    for reader in (TARO, JIRO, HANAKO):
        with pytest.raises(DangerousDrop, match="does not verify"):
            judge(m, forged, e, C3, reader)


def test_a_drop_that_should_have_asked_is_refused_by_its_recipients(org: Org) -> None:
    m, e = dataclasses.replace(_manifest(), approval=None), org.entries()
    with pytest.raises(DangerousDrop, match="sent without asking"):
        judge(m, None, e, C3, TARO)
    assert judge(m, None, e, C3, HANAKO).state == ""  # the sender's own list still shows it
    assert judge(m, None, e, ApprovalRules(), TARO).state == ""  # no policy: nothing needed


def test_an_approver_of_my_numbers_must_be_designated_to_handle_them(org: Org) -> None:
    from tests.core.test_approval import _set

    e = org.entries()
    mynumber = ApprovalRules(frozenset({"mynumber"}))
    with pytest.raises(ClientError) as err:  # Jiro would read the numbers undesignated
        plan(e, mynumber, HANAKO, [e[TARO]], Classification.C3, True)
    assert err.value.code == ErrorCode.APPROVER_NOT_DESIGNATED
    assert JIRO in str(err.value)
    _set(org.home, JIRO, mynumber_handler=True)
    asked = plan(org.entries(), mynumber, HANAKO, [e[TARO]], Classification.C3, True)
    assert asked is not None
    assert asked.requirement.reasons == ("mynumber",)


def test_a_recipient_the_sender_lists_as_approver_is_no_approver_unless_the_directory_says(
    org: Org,
) -> None:
    """A modified sender client may list any recipient as an approver (the manifest
    only requires approvers to be recipients): that recipient's own client must not
    then treat the undecided drop as theirs to read."""
    e = org.entries()
    for by in (JIRO, TARO):  # Hanako's approver is Jiro, not Taro
        m = _manifest(approvers=(TARO,), by=by)
        with pytest.raises(DangerousDrop) as err:
            judge(m, None, e, C3, TARO)
        assert err.value.code == ErrorCode.APPROVAL_MISSING
        assert "not the sender's approver" in str(err.value)
    with pytest.raises(DangerousDrop):  # Jiro, but for a mailbox that is not her approver
        judge(_manifest(by=ROLE), None, e, C3, JIRO)
    # listed with her real approver, Taro reads it once Jiro approved (as any recipient)
    both = _manifest(approvers=(JIRO, TARO))
    approved = {"decision": _decision(both, org.jiro).to_json()}
    status = judge(both, approved, e, C3, TARO)
    assert (status.state, status.approving) == ("approved", False)
    # her real approver still reads it pending, and the sender still sees it pending
    assert judge(_manifest(), None, e, C3, JIRO).approving
    assert judge(_manifest(approvers=(TARO,)), None, e, C3, HANAKO).state == "pending"


def _request(mailbox: str, addressees: tuple[str, ...], creator: str = TARO) -> FileRequest:
    return FileRequest(
        request_id=new_drop_id(),
        creator=creator,
        creator_device="desktop",
        mailbox=mailbox,
        addressees=addressees,
        due=None,
        created=format_time(NOW),
        expires=format_time(NOW + dt.timedelta(days=30)),
        text_sha256=bytes(32),
        directory_epoch=1,
        directory_header="x" * 43,
    )


def test_a_drop_that_only_claims_a_file_request_is_judged_as_any_send(org: Org) -> None:
    """The request exemption holds only for a request the reader verified: one that
    asked the sender and collects into the reader's mailbox. A modified sender client
    (with a server that does not check) cannot skip approval by naming an id."""
    e = org.entries()
    asked = _request(TARO, (HANAKO,))  # Taro collects; Hanako was asked
    m = dataclasses.replace(_manifest(), approval=None, request=asked.request_id)

    def finder(found: FileRequest | None) -> Callable[[str], FileRequest | None]:
        return lambda request_id: found  # a lookup that answers with another id too

    same = asked.request_id
    for found in (
        None,  # no such request, or it does not verify
        dataclasses.replace(asked, request_id=new_drop_id()),  # another request
        dataclasses.replace(_request(TARO, (JIRO,)), request_id=same),  # Hanako not asked
        # it collects into Jiro's mailbox, not the reader's
        dataclasses.replace(_request(JIRO, (HANAKO,), creator=JIRO), request_id=same),
    ):
        with pytest.raises(DangerousDrop, match="sent without asking"):
            judge(m, None, e, C3, TARO, requests=finder(found))
    with pytest.raises(DangerousDrop, match="sent without asking"):
        judge(m, None, e, C3, TARO)  # nothing to look it up with
    assert judge(m, None, e, C3, TARO, requests=finder(asked)).state == ""
    assert judge(m, None, e, C3, HANAKO).state == ""  # the sender's own list
