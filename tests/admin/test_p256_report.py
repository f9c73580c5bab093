"""``secure-send-admin show --p256`` and the P-256 mark of ``show ID`` (issue 21), run as a
subprocess: IT checks who is ready before switching the policy's suite to CRYPTREC."""

from __future__ import annotations

from pathlib import Path

import nacl.public
import nacl.signing

from secure_send.core.directory.enrol import DeviceKeys, make_request
from secure_send.core.directory.key_add import make_request as make_key_add
from secure_send.core.encoding import utc_now
from secure_send.org import key_adds, ops
from secure_send.org.home import OrgHome
from tests.admin.test_admin_cli import fails, ok, ok_json
from tests.directory_kit import HANAKO, JIRO, OPERATOR, TARO, enrol_device, new_org


def _old_device(home: OrgHome, user: str, device: str) -> DeviceKeys:
    keys = DeviceKeys(nacl.signing.SigningKey.generate(), nacl.public.PrivateKey.generate())
    code = ops.issue_code(home, user)
    assert ops.accept_enrolment(
        home, make_request(keys, user, device, "古い端末", code, utc_now()), OPERATOR
    )
    return keys


def test_show_p256_counts_and_names_who_is_not_ready(tmp_path: Path) -> None:
    home = new_org(tmp_path / "org", devices=False)
    enrol_device(home, HANAKO, "laptop")  # enrolled now: has a key
    old = _old_device(home, TARO, "desktop")  # enrolled before issue 21: none
    enrol_device(home, TARO, "tablet")
    found = ok_json(home.path, "show", "--p256")
    assert found == {
        "active_people": 3,
        "people_with_p256": 2,
        "people_without_devices": 1,
        "active_devices": 3,
        "devices_with_p256": 2,
        "missing": [
            {"id": TARO, "name_ja": "鈴木 太郎", "department": "人事課", "devices": ["desktop"]}
        ],
    }
    text = ok(home.path, "show", "--p256")
    assert "2 of 3 active devices" in text
    assert f"  {TARO:<24} 鈴木 太郎  (人事課)  devices: desktop" in text
    assert JIRO not in text  # no device: nothing to add
    device_lines = [x for x in ok(home.path, "show", TARO).splitlines() if "device " in x]
    assert [line.rsplit(", ", 1)[1] for line in device_lines] == [
        "P-256 key: no",
        "P-256 key: yes",
    ]
    # the old desktop adds its key (as the signer does it): everyone is ready
    keys = DeviceKeys(old.signing, old.encryption, DeviceKeys.generate().p256)
    [(outcome, _)] = key_adds.add_key_batch(
        home, [make_key_add(keys, TARO, "desktop", utc_now())], OPERATOR
    )
    assert outcome is key_adds.KeyAddOutcome.ADDED
    assert ok_json(home.path, "show", "--p256")["missing"] == []
    assert "Every active device has a P-256 key." in ok(home.path, "show", "--p256")


def test_revoked_devices_and_departed_people_do_not_count(tmp_path: Path) -> None:
    home = new_org(tmp_path / "org", devices=False)
    _old_device(home, TARO, "desktop")
    _old_device(home, HANAKO, "laptop")
    ok(home.path, "revoke-device", TARO, "desktop")
    ok(home.path, "depart", HANAKO)
    found = ok_json(home.path, "show", "--p256")
    assert (found["active_people"], found["active_devices"], found["missing"]) == (2, 0, [])


def test_show_p256_takes_no_id(tmp_path: Path) -> None:
    home = new_org(tmp_path / "org", devices=False)
    assert "--p256" in fails(home.path, "show", TARO, "--p256")
    assert "--p256" in fails(home.path, "show", "--approvers", "--p256")
