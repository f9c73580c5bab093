"""上長承認 in words: reasons, and a sent drop's approval with the approver's reason
shown as plain text, never expanded or hidden."""

from __future__ import annotations

from secure_send.client.approval import ApprovalStatus
from secure_send.core.directory.model import Entry
from secure_send.gui.approval_words import reasons_text, status_text


def _nobody(_user: str) -> Entry | None:
    return None


def test_reasons_read_as_words() -> None:
    assert reasons_text(("c3", "mynumber", "outside_department")) == (
        "Confidentiality 3, contains My Numbers, sent outside the department"
    )


def test_each_state_in_words_with_the_reason_as_plain_text() -> None:
    times = {"2026-12-05T10:00:00Z": "12/05 19:00"}
    pending = ApprovalStatus("pending", "jiro")
    assert status_text(pending, _nobody, str) == "Awaiting approval (approver: jiro)"
    approved = ApprovalStatus("approved", "jiro", (), "jiro", "2026-12-05T10:00:00Z")
    assert status_text(approved, _nobody, times.__getitem__) == "Approved (jiro, 12/05 19:00)"
    reason = "%1 は誤り\n<b>再送</b>\u202e"
    rejected = ApprovalStatus("rejected", "jiro", (), "jiro", "", reason)
    assert status_text(rejected, _nobody, str) == "Returned (jiro): %1 は誤り <b>再送</b>\ufffd"
    assert status_text(ApprovalStatus(), _nobody, str) == ""
