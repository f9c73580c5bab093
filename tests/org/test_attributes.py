"""``attributes.set_attributes``: IT designates 個人番号取扱 on one entry (issue 19).

Each change is one ``update`` event in the log and a new signed snapshot that a
client verifies; nothing else about the entry (devices, status) moves.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from secure_send.core.directory.log import Action
from secure_send.core.directory.model import EntryError
from secure_send.org import ops
from secure_send.org.attributes import Changes, set_attributes
from secure_send.org.home import HomeError, OrgHome
from tests.directory_kit import HANAKO, JIRO, OPERATOR, ROLE, TARO, bundle_bytes, new_org, verify

YES, NO = Changes(mynumber_handler=True), Changes(mynumber_handler=False)


@pytest.fixture
def home(tmp_path: Path) -> OrgHome:
    return new_org(tmp_path / "org")  # Hanako and Taro have one device each


def _state(home: OrgHome) -> tuple[bytes, bytes]:
    return home.log_file.read_bytes(), bundle_bytes(home)


def test_designating_is_one_signed_update_and_keeps_devices(home: OrgHome) -> None:
    before = verify(home)
    events = len(home.events())
    outcome = set_attributes(home, TARO, YES, "it-kachou")
    assert outcome.changed
    assert outcome.entry.mynumber_handler
    after = verify(home)  # the new snapshot, verified as a client does
    assert after.checkpoint.epoch == before.checkpoint.epoch + 1
    taro = after.by_id()[TARO]
    assert taro.mynumber_handler
    assert taro.devices == before.by_id()[TARO].devices
    assert taro.active_devices()
    assert taro.with_changes(mynumber_handler=False) == before.by_id()[TARO]
    [event] = home.events()[events:]
    assert (event.action, event.operator) == (Action.UPDATE, "it-kachou")
    assert event.data["entry"]["mynumber_handler"] is True
    assert event.data["entry"]["devices"] == []  # as an import writes it: keys have own events
    assert outcome.entry == taro


def test_a_role_mailbox_can_be_designated_and_withdrawn(home: OrgHome) -> None:
    set_attributes(home, ROLE, YES, OPERATOR)
    assert verify(home).by_id()[ROLE].mynumber_handler
    assert set_attributes(home, ROLE, NO, OPERATOR).changed
    assert not verify(home).by_id()[ROLE].mynumber_handler
    assert "mynumber_handler" not in home.events()[-1].data["entry"]  # false is left out


def test_setting_what_is_already_so_writes_nothing(home: OrgHome) -> None:
    set_attributes(home, HANAKO, YES, OPERATOR)
    before = _state(home)
    assert not set_attributes(home, HANAKO, YES, OPERATOR).changed
    assert not set_attributes(home, JIRO, NO, OPERATOR).changed
    assert _state(home) == before


def test_a_departed_person_cannot_be_designated_but_can_be_withdrawn(home: OrgHome) -> None:
    set_attributes(home, TARO, YES, OPERATOR)
    for user in (TARO, JIRO):
        ops.change(home, OPERATOR, Action.DEPART, {"user": user})
    before = _state(home)
    for user in (TARO, JIRO):
        with pytest.raises(HomeError, match=f"{user} has departed: cannot be designated"):
            set_attributes(home, user, YES, OPERATOR)
    assert _state(home) == before
    assert set_attributes(home, TARO, NO, OPERATOR).changed
    taro = verify(home).by_id()[TARO]
    assert not taro.mynumber_handler
    assert not taro.active  # still departed


@pytest.mark.parametrize(
    ("entry_id", "changes", "error", "message"),
    [
        ("nobody", YES, HomeError, "no entry 'nobody' in the directory"),
        ("Bad Id", YES, EntryError, "invalid id"),
        (HANAKO, Changes(), HomeError, "nothing to set: give --mynumber-handler yes|no"),
    ],
)
def test_bad_requests_change_nothing(
    home: OrgHome, entry_id: str, changes: Changes, error: type[Exception], message: str
) -> None:
    before = _state(home)
    with pytest.raises(error, match=message.replace("|", r"\|")):
        set_attributes(home, entry_id, changes, OPERATOR)
    assert _state(home) == before


# ---------------------------------------------------------------- approver (issue 20)


def _to(approver: str) -> Changes:
    return Changes(approver=approver)


def test_an_approver_is_one_signed_update_and_keeps_devices(home: OrgHome) -> None:
    before = verify(home)
    events = len(home.events())
    outcome = set_attributes(home, TARO, _to(HANAKO), "it-kachou")
    assert outcome.changed
    taro = verify(home).by_id()[TARO]
    assert taro.approver == HANAKO
    assert taro.with_changes(approver=None) == before.by_id()[TARO]  # devices and all
    [event] = home.events()[events:]
    assert (event.action, event.operator) == (Action.UPDATE, "it-kachou")
    assert event.data["entry"]["approver"] == HANAKO
    # a role mailbox can be named; the same again writes nothing; "" clears
    assert set_attributes(home, TARO, _to(ROLE), OPERATOR).changed
    state = _state(home)
    assert not set_attributes(home, TARO, _to(ROLE), OPERATOR).changed
    assert _state(home) == state
    assert set_attributes(home, TARO, _to(""), OPERATOR).changed
    assert verify(home).by_id()[TARO].approver is None
    assert "approver" not in home.events()[-1].data["entry"]


def test_both_attributes_in_one_event(home: OrgHome) -> None:
    events = len(home.events())
    outcome = set_attributes(home, JIRO, Changes(mynumber_handler=True, approver=TARO), OPERATOR)
    assert (outcome.entry.mynumber_handler, outcome.entry.approver) == (True, TARO)
    assert len(home.events()) == events + 1
    jiro = verify(home).by_id()[JIRO]
    assert (jiro.mynumber_handler, jiro.approver) == (True, TARO)


@pytest.mark.parametrize(
    ("entry_id", "approver", "message"),
    [
        (HANAKO, "nobody", "no entry 'nobody' in the directory to be the approver"),
        (HANAKO, HANAKO, f"{HANAKO} cannot be their own approver"),
        (ROLE, HANAKO, f"{ROLE} is a role mailbox: only a person has an approver"),
        (HANAKO, JIRO, f"{JIRO} has departed: cannot be named approver"),
        (JIRO, HANAKO, f"{JIRO} has departed: cannot be given an approver"),
    ],
)
def test_bad_approvers_change_nothing(
    home: OrgHome, entry_id: str, approver: str, message: str
) -> None:
    ops.change(home, OPERATOR, Action.DEPART, {"user": JIRO})
    before = _state(home)
    with pytest.raises(HomeError, match=message):
        set_attributes(home, entry_id, _to(approver), OPERATOR)
    # nor when the other attribute is good: the call is all or nothing
    with pytest.raises(HomeError, match=message):
        set_attributes(home, entry_id, Changes(mynumber_handler=False, approver=approver), OPERATOR)
    assert _state(home) == before
    with pytest.raises(EntryError, match="invalid approver id"):
        set_attributes(home, HANAKO, _to("Taro Suzuki"), OPERATOR)


def test_a_departed_approver_already_named_stays_and_can_be_cleared(home: OrgHome) -> None:
    set_attributes(home, HANAKO, _to(TARO), OPERATOR)
    ops.change(home, OPERATOR, Action.DEPART, {"user": TARO})
    assert not set_attributes(home, HANAKO, _to(TARO), OPERATOR).changed
    assert set_attributes(home, HANAKO, _to(""), OPERATOR).changed
    assert verify(home).by_id()[HANAKO].approver is None
