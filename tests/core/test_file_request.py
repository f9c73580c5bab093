"""Signed file requests (提出依頼), checked against a real (verified) directory; due
days in Asia/Tokyo; the desk's status from verified inbox items."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nacl.signing
import pytest

from secure_send.client.listing import InboxItem
from secure_send.client.request_status import status, to_csv
from secure_send.core.directory.enrol import DeviceKeys
from secure_send.core.directory.log import Action
from secure_send.core.directory.model import Entry
from secure_send.core.encoding import b64u, format_time, utc_now
from secure_send.core.envelope.manifest import AGE_SUITE, CMS_SUITE, EnvelopeError
from secure_send.core.envelope.request import (
    JST,
    FileRequest,
    SignedRequest,
    due_deadline,
    is_late,
    new_request_id,
)
from secure_send.org import ops
from secure_send.org.home import OrgHome
from tests.directory_kit import HANAKO, JIRO, OPERATOR, ROLE, TARO, enrol_device, new_org

NOW = utc_now()
Org = tuple[OrgHome, dict[str, DeviceKeys]]


@pytest.fixture
def org(tmp_path: Path) -> Org:
    home = new_org(tmp_path / "org", devices=False)
    keys = {
        HANAKO: enrol_device(home, HANAKO, "laptop"),
        TARO: enrol_device(home, TARO, "desktop"),
        JIRO: enrol_device(home, JIRO, "pc"),
    }
    return home, keys


def _request(**changes: object) -> FileRequest:
    base = FileRequest(
        request_id=new_request_id(),
        creator=HANAKO,
        creator_device="laptop",
        mailbox=ROLE,
        addressees=(JIRO, TARO),
        due="2026-12-24",
        created=format_time(NOW),
        expires=format_time(NOW + dt.timedelta(days=60)),
        text_sha256=hashlib.sha256(b"text").digest(),
        directory_epoch=1,
        directory_header="h",
        log_size=3,
        log_root=bytes(32),
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_the_due_day_ends_at_midnight_in_tokyo() -> None:
    assert due_deadline("2026-12-24") == dt.datetime(2026, 12, 25, tzinfo=JST)
    # 23:59:59 in Tokyo on the due day is 14:59:59 UTC: on time; a second later is late
    assert not is_late("2026-12-24T14:59:59Z", "2026-12-24")
    assert is_late("2026-12-24T15:00:00Z", "2026-12-24")
    assert not is_late("2030-01-01T00:00:00Z", None)
    for bad in ("2026-13-01", "2026-2-1", "24/12/2026", "2026-02-30"):
        with pytest.raises(EnvelopeError):
            due_deadline(bad)


def test_a_member_of_the_mailbox_signs_and_every_reader_verifies(org: Org) -> None:
    home, keys = org
    signed = _request().sign(keys[HANAKO].signing)
    again = SignedRequest.from_json(signed.to_json())
    assert again.verify(home.entries()) == signed.request
    assert again.request.is_addressee(JIRO)
    assert not again.request.is_addressee(HANAKO)
    assert again.text_matches(b"text")
    assert not again.text_matches(b"other text")


def test_a_request_not_signed_by_a_mailbox_member_is_refused(org: Org) -> None:
    home, keys = org
    # Jiro is not a member of the accounts desk: his request "from" it is a forgery
    forged = _request(creator=JIRO, creator_device="pc").sign(keys[JIRO].signing)
    with pytest.raises(EnvelopeError, match="not a member"):
        forged.verify(home.entries())
    # a person's own mailbox is only their own
    other = _request(creator=JIRO, creator_device="pc", mailbox=TARO).sign(keys[JIRO].signing)
    with pytest.raises(EnvelopeError, match="not an active role"):
        other.verify(home.entries())
    # Hanako's name on Jiro's signature
    with pytest.raises(EnvelopeError, match="signature"):
        SignedRequest(_request(), forged.signature).verify(home.entries())


def test_a_departed_or_revoked_requester_no_longer_verifies(org: Org) -> None:
    home, keys = org
    signed = _request().sign(keys[HANAKO].signing)
    ops.change(home, OPERATOR, Action.REVOKE_DEVICE, {"user": HANAKO, "device": "laptop"})
    with pytest.raises(EnvelopeError):
        signed.verify(home.entries())


def test_parsing_is_strict() -> None:
    good = _request().sign(nacl.signing.SigningKey.generate()).to_json()
    SignedRequest.from_json(good)  # parses (verification is another matter)
    edits: dict[str, Callable[[dict[str, Any]], None]] = {
        "unsorted addressees": lambda b: b.update(addressees=[TARO, JIRO]),
        "twice the same": lambda b: b.update(addressees=[JIRO, JIRO]),
        "nobody": lambda b: b.update(addressees=[]),
        "an extra field": lambda b: b.update(title="年末調整"),
        "a bad due day": lambda b: b.update(due="12/24"),
        "ends before it starts": lambda b: b.update(expires=b["created"]),
        "a short hash": lambda b: b.update(text_sha256=b64u(b"x")),
        "a drop id that is an option": lambda b: b.update(request_id="-" * 22),
        "an unknown suite": lambda b: b.update(suite="rot13-v1"),
        "a suite that is not a name": lambda b: b.update(suite=["cms-p256-aes256gcm-v1"]),
        # age is the field's absence: one request has one signed form
        "age named": lambda b: b.update(suite=AGE_SUITE),
    }
    for why, edit in edits.items():
        body = dict(good["body"])
        edit(body)
        with pytest.raises(EnvelopeError):  # noqa: PT012 - the message names the edit
            SignedRequest.from_json({"body": body, "sig": good["sig"]})
            pytest.fail(why)


def test_the_suite_of_the_text_is_signed_and_absent_for_age(org: Org) -> None:
    home, keys = org
    age = _request().sign(keys[HANAKO].signing)
    # a request before issue 21 had exactly these ten fields: an age one still does
    assert "suite" not in age.to_json()["body"]
    assert len(age.to_json()["body"]) == 10
    assert SignedRequest.from_json(age.to_json()).request.suite == AGE_SUITE
    cms = _request(suite=CMS_SUITE).sign(keys[HANAKO].signing)
    assert cms.to_json()["body"]["suite"] == CMS_SUITE
    parsed = SignedRequest.from_json(cms.to_json())
    assert parsed.verify(home.entries()).suite == CMS_SUITE
    # a hostile server that drops or adds the suite breaks the signature
    dropped = {k: v for k, v in cms.to_json()["body"].items() if k != "suite"}
    wrong = SignedRequest.from_json({"body": dropped, "sig": cms.to_json()["sig"]})
    assert wrong.request.suite == AGE_SUITE
    with pytest.raises(EnvelopeError, match="signature"):
        wrong.verify(home.entries())
    added = age.to_json()["body"] | {"suite": CMS_SUITE}
    with pytest.raises(EnvelopeError, match="signature"):
        SignedRequest.from_json({"body": added, "sig": age.to_json()["sig"]}).verify(home.entries())


def _item(drop_id: str, sender: str, created: str, request: str, **kw: object) -> InboxItem:
    return InboxItem(
        drop_id,
        1,
        True,
        sender=sender,
        created=created,
        request=request,
        **kw,  # type: ignore[arg-type]
    )


def test_the_desks_status_counts_only_verified_submissions_of_addressees(org: Org) -> None:
    home, _ = org
    ops.change(home, OPERATOR, Action.DEPART, {"user": TARO})
    entries: dict[str, Entry] = home.entries()
    request = _request(addressees=(HANAKO, JIRO, TARO))
    rid = request.request_id
    on_time, late = "2026-12-24T10:00:00Z", "2026-12-25T01:00:00Z"
    items = [
        _item("d1aaaaaaaaaaaaaaaa", JIRO, late, rid),  # late, then …
        _item("d2aaaaaaaaaaaaaaaa", JIRO, late, rid),  # … again late
        _item("d3aaaaaaaaaaaaaaaa", TARO, on_time, rid),  # departed: in no list
        _item("d4aaaaaaaaaaaaaaaa", JIRO, on_time, "another-request-id"),  # another request
        InboxItem("d5aaaaaaaaaaaaaaaa", 1, False, "forged", request=rid),  # dangerous
    ]
    result = status(request, items, entries)
    assert [p.user for p in result.people] == [HANAKO, JIRO]  # Taro left
    assert result.to_json() == {
        "request_id": rid,
        "due": "2026-12-24",
        "submitted": [{"id": JIRO, "submitted_at": late, "late": True}],
        "pending": [{"id": HANAKO}],
        "late": [JIRO],
    }
    assert len(result.people[1].submissions) == 2
    # one submission on time is enough: a later re-submission does not make it late
    items.append(_item("d6aaaaaaaaaaaaaaaa", JIRO, on_time, rid))
    again = status(request, items, entries).to_json()
    assert again["late"] == []
    assert again["submitted"] == [{"id": JIRO, "submitted_at": late, "late": False}]
    csv_lines = to_csv(status(request, items, entries)).splitlines()
    assert len(csv_lines) == 3
    assert TARO not in "".join(csv_lines)


def test_a_submission_from_someone_not_asked_is_not_counted(org: Org) -> None:
    home, _ = org
    request = _request(addressees=(JIRO,))
    stray = _item("d7aaaaaaaaaaaaaaaa", TARO, "2026-12-20T00:00:00Z", request.request_id)
    result = status(request, [stray], home.entries())
    assert result.strays == ("d7aaaaaaaaaaaaaaaa",)
    assert result.to_json()["pending"] == [{"id": JIRO}]
