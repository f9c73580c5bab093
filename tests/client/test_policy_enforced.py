"""IT policy enforced by the client itself, so every front end obeys it (issue 14, item 7).

The app used to be the only one to check the pins: ``secure-send enrol``, ``send``,
``inbox``, ``receive`` and the rest ignored them. Here the real CLI runs against the
real server on 127.0.0.1 with a policy file (``SECURE_SEND_POLICY_FILE``, honoured
in a run from source) that pins something else, and is refused with
``policy_mismatch``, before anything is sent or kept.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from secure_send.client.policy import POLICY_FILE_ENV, PolicyError, parse_policy
from secure_send.client.profile import OrgConfig, Profile
from secure_send.client.session import Session
from secure_send.core.error_codes import ErrorCode
from secure_send.org import ops
from tests.client.conftest import Enrol, Person
from tests.directory_kit import HANAKO, TARO, new_org
from tests.server.conftest import Server

OTHER_SERVER = "https://drop.other.example.go.jp"


def set_policy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, policy: Any) -> Path:
    path = tmp_path / "policy.json"
    path.write_text(policy if isinstance(policy, str) else json.dumps(policy), encoding="utf-8")
    monkeypatch.setenv(POLICY_FILE_ENV, str(path))
    return path


def other_root_keys(tmp_path: Path) -> dict[str, Any]:
    """Pins of another organisation (its own root keys)."""
    home = new_org(tmp_path / "other-org")
    return {k: v for k, v in ops.client_config(home, OTHER_SERVER).items() if k != "format"}


def enrol_args(org_server: Server, tmp_path: Path) -> tuple[str, ...]:
    config = tmp_path / "org-config.json"
    config.write_text(json.dumps(ops.client_config(org_server.home, org_server.url)))
    return ("enrol", "--org-config", str(config), "--user", HANAKO, "--device", "laptop")


def assert_nothing_kept(person: Person) -> None:
    profile = Profile(person.home)
    assert not profile.identity_file.exists()
    assert not profile.config_file.exists()
    assert not profile.key_file.exists()


@pytest.mark.parametrize("pin", ["server", "root keys"])
def test_enrol_refuses_a_config_other_than_the_pins(
    pin: str, org_server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pins = {"server_url": OTHER_SERVER} if pin == "server" else other_root_keys(tmp_path)
    set_policy(tmp_path, monkeypatch, pins)
    person = Person(tmp_path / "profiles" / "hanako", HANAKO, "laptop", monkeypatch)
    code = ops.issue_code(org_server.home, HANAKO)
    rc, _, err = person.run(*enrol_args(org_server, tmp_path), stdin=code + "\n")
    assert rc == 1
    assert "(policy_mismatch)" in err
    assert "IT policy" in err
    assert_nothing_kept(person)
    # the server saw nothing either: the code is still unused, so enrolling works once
    # the policy agrees (here: none)
    monkeypatch.delenv(POLICY_FILE_ENV)
    assert person.ok(*enrol_args(org_server, tmp_path), stdin=code + "\n")["status"] == "enrolled"


def test_enrol_with_the_pinned_config_works(
    org_server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = ops.client_config(org_server.home, org_server.url)
    set_policy(tmp_path, monkeypatch, {k: v for k, v in config.items() if k != "format"})
    person = Person(tmp_path / "profiles" / "hanako", HANAKO, "laptop", monkeypatch)
    code = ops.issue_code(org_server.home, HANAKO)
    data = person.ok(*enrol_args(org_server, tmp_path), stdin=code + "\n")
    assert data["status"] == "enrolled"
    assert person.ok("inbox")["drops"] == []


@pytest.mark.parametrize("pin", ["server", "root keys"])
def test_every_command_refuses_a_profile_enrolled_elsewhere(
    pin: str, enrol: Enrol, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hanako = enrol(HANAKO, "laptop")
    enrol(TARO, "desktop")
    data = tmp_path / "a.txt"
    data.write_text("x")
    drop_id = hanako.ok("send", str(data), "--to", TARO)["drop_id"]
    pins = {"server_url": OTHER_SERVER} if pin == "server" else other_root_keys(tmp_path)
    set_policy(tmp_path, monkeypatch, pins)
    commands = [
        ("send", str(data), "--to", TARO),
        ("inbox",),
        ("receive", drop_id, "-o", str(tmp_path / "in")),
        ("sent",),
        ("recall", drop_id),
        ("directory", "search", "taro"),
        ("devices",),
        ("resume",),
    ]
    for argv in commands:
        err = hanako.fails(*argv)
        assert "(policy_mismatch)" in err, (argv, err)
    monkeypatch.delenv(POLICY_FILE_ENV)
    assert hanako.ok("sent")["drops"][0]["state"] == "committed"  # nothing was recalled


def test_the_session_refuses_before_any_request(
    enrol: Enrol, tmp_path: Path, org_server: Server
) -> None:
    hanako = enrol(HANAKO, "laptop")
    policy = parse_policy({"server_url": OTHER_SERVER}, "test")
    with pytest.raises(PolicyError) as caught:
        Session.open(Profile(hanako.home), policy=policy)
    assert caught.value.code == ErrorCode.POLICY_MISMATCH
    config = OrgConfig.from_json(json.loads(Profile(hanako.home).config_file.read_text()))
    assert config.server_url == org_server.url  # the profile was left as it was


def test_a_broken_policy_stops_the_cli(
    enrol: Enrol, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hanako = enrol(HANAKO, "laptop")
    set_policy(tmp_path, monkeypatch, '{"server_url": ')
    err = hanako.fails("inbox")
    assert "is not valid JSON" in err
    set_policy(tmp_path, monkeypatch, {"sevrer_url": OTHER_SERVER})  # misspelt: not ignored
    assert "unknown key(s) sevrer_url" in hanako.fails("inbox")


def test_the_policy_shortens_the_cli_s_longest_expiry(
    enrol: Enrol, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hanako = enrol(HANAKO, "laptop")
    enrol(TARO, "desktop")
    data = tmp_path / "a.txt"
    data.write_text("x")
    set_policy(tmp_path, monkeypatch, {"max_expiry_days": 2})
    err = hanako.fails("send", str(data), "--to", TARO, "--expires", "3d")
    assert "at most 2 days" in err
    assert hanako.ok("send", str(data), "--to", TARO, "--expires", "2d")["drop_id"]
