"""Key transparency on the client: people watch their own entry, senders see key changes.

A compromised directory signer holds the online signing key, so it can publish a
snapshot every client verifies. What it cannot do unnoticed: the owner of the
entry sees a device this PC did not enrol (CLI warning on stderr and
``unknown_own_devices`` in every ``--json`` answer), and a sender sees the new
device of a recipient (``recipient_key_changes``). Real server, real signer
process, people driven through the CLI.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

from secure_send.client.key_changes import key_hashes, recipient_key_changes, remember_sent
from secure_send.client.profile import Profile
from secure_send.core.directory.enrol import DeviceKeys, make_request
from secure_send.core.directory.log import Action
from secure_send.core.encoding import format_time, utc_now
from secure_send.org import ops
from tests.client.conftest import Enrol, Person
from tests.directory_kit import HANAKO, OPERATOR, TARO
from tests.server.conftest import Server

ALERT = "a device this PC did not enrol"


def _compromised_signer_adds(server: Server, user: str, device: str) -> DeviceKeys:
    """What a thief of the signing key and the log can do: append an enrolment of
    their own device, sign a snapshot and push it (no code, no request)."""
    keys = DeviceKeys.generate()
    time = format_time(utc_now())
    request = make_request(keys, user, device, "attacker", None, utc_now())
    server.home.append(
        "mallory", Action.ENROL, {"user": user, "device": request.device(time).to_json()}, time
    )
    server.home.publish()
    server.push()
    return keys


def _run(person: Person, *argv: str) -> tuple[Any, str]:
    code, data, err = person.run(*argv)
    assert code == 0, err
    return data, err


def _file(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "年末調整.bin"
    path.write_bytes(os.urandom(5000))
    return path


def test_a_compromised_signer_adding_a_device_is_seen(
    enrol: Enrol, org_server: Server, tmp_path: Path
) -> None:
    hanako, taro = enrol(HANAKO, "laptop"), enrol(TARO, "desktop")
    data, err = _run(hanako, "inbox")
    assert data["unknown_own_devices"] == []
    assert ALERT not in err
    mine = hanako.ok("send", str(_file(tmp_path / "h")), "--to", TARO)["drop_id"]
    # taro has sent to hanako before: her devices then are what he knows
    sent = taro.ok("send", str(_file(tmp_path / "a")), "--to", HANAKO)
    assert [c["device"] for c in sent["recipient_key_changes"]] == ["laptop"]  # new this week

    _compromised_signer_adds(org_server, HANAKO, "evil-pc")

    # hanako's client alerts on its next sync, naming the device...
    data, err = _run(hanako, "inbox")
    (alert,) = data["unknown_own_devices"]
    assert (alert["device"], alert["name"], alert["unknown"]) == ("evil-pc", "attacker", True)
    assert ALERT in err
    assert "'evil-pc'" in err
    assert "IT security" in err
    # ...and keeps alerting, also in commands that do not sync the directory
    data, err = _run(hanako, "recall", mine)  # recall does not sync the directory
    assert [a["device"] for a in data["unknown_own_devices"]] == ["evil-pc"]
    assert "'evil-pc'" in err
    data, _ = _run(hanako, "sent")
    assert [a["device"] for a in data["unknown_own_devices"]] == ["evil-pc"]
    listed = {d["device"]: d for d in _run(hanako, "devices")[0]["devices"]}
    assert listed["laptop"]["this_device"]
    assert not listed["laptop"]["unknown"]
    assert listed["evil-pc"]["unknown"]

    # taro's next send to hanako names the new device
    sent = taro.ok("send", str(_file(tmp_path / "b")), "--to", HANAKO)
    changes = {c["device"]: c for c in sent["recipient_key_changes"]}
    assert changes["evil-pc"]["user"] == HANAKO
    assert changes["evil-pc"]["enrolled"].startswith(utc_now().strftime("%Y-%m-%d"))

    # IT revokes it: the alert ends
    ops.change(
        org_server.home, OPERATOR, Action.REVOKE_DEVICE, {"user": HANAKO, "device": "evil-pc"}
    )
    org_server.push()
    data, err = _run(hanako, "inbox")
    assert data["unknown_own_devices"] == []
    assert ALERT not in err


def test_a_device_the_person_enrolled_is_acknowledged_and_a_key_swap_alerts_again(
    enrol: Enrol, org_server: Server
) -> None:
    laptop = enrol(HANAKO, "laptop")
    enrol(HANAKO, "desktop")  # her own second PC
    data, err = _run(laptop, "inbox")
    assert [a["device"] for a in data["unknown_own_devices"]] == ["desktop"]
    acked = laptop.ok("devices", "ack", "desktop")
    assert acked["unknown_own_devices"] == []
    assert {d["device"]: d["acknowledged"] for d in acked["devices"]} == {
        "laptop": False,
        "desktop": True,
    }
    data, err = _run(laptop, "inbox")
    assert data["unknown_own_devices"] == []
    assert ALERT not in err
    assert "no active device" in laptop.fails("devices", "ack", "nope")

    # the compromised signer swaps the acknowledged device's keys: revoke + re-enrol
    ops.change(
        org_server.home, OPERATOR, Action.REVOKE_DEVICE, {"user": HANAKO, "device": "desktop"}
    )
    _compromised_signer_adds(org_server, HANAKO, "desktop2")
    data, _ = _run(laptop, "inbox")
    assert [a["device"] for a in data["unknown_own_devices"]] == ["desktop2"]


def test_this_devices_own_keys_swapped_is_an_alert(enrol: Enrol, org_server: Server) -> None:
    """The signer replaces the keys of the very device a person uses (revoke, then a
    device of the same id with other keys cannot be enrolled: the log refuses it), so
    the attacker adds a look-alike id instead — still an unknown device."""
    laptop = enrol(HANAKO, "laptop")
    _compromised_signer_adds(org_server, HANAKO, "laptop-2")
    data, _ = _run(laptop, "directory", "search", "sato")
    assert [a["device"] for a in data["unknown_own_devices"]] == ["laptop-2"]


def test_key_changes_since_the_last_send(enrol: Enrol, org_server: Server, tmp_path: Path) -> None:
    enrol(HANAKO, "laptop")
    enrol(TARO, "desktop")
    profile = Profile(tmp_path / "sender")
    profile.ensure()
    entries = org_server.home.entries()
    later = utc_now() + dt.timedelta(days=30)  # nothing is "recent" any more
    assert recipient_key_changes(profile, [entries[TARO]], later) == []  # never sent: no baseline
    remember_sent(profile, key_hashes([entries[TARO]]))
    assert recipient_key_changes(profile, [entries[TARO]], later) == []  # unchanged
    _compromised_signer_adds(org_server, TARO, "tablet")
    entries = org_server.home.entries()
    (change,) = recipient_key_changes(profile, [entries[TARO]], later)
    assert (change.user, change.device, change.name) == (TARO, "tablet", "attacker")
