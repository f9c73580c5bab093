"""上長承認 as each reader judges it (client/approval.py, approval_rules.py), against a
real verified directory: the sender's plan, and every recipient's recomputation."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from secure_send.client.approval import judge, plan
from secure_send.client.approval_rules import ApprovalRules
from secure_send.client.errors import ClientError, DangerousDrop
from secure_send.core.envelope.approval import Decision
from secure_send.core.envelope.manifest import Classification
from secure_send.core.error_codes import ErrorCode
from tests.core.test_approval import Org, _decision, _manifest
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
