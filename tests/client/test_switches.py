"""Test switches (secure_send/client/switches.py): honoured when running from source,
ignored by a frozen build (issue 14, item 6).

A frozen build is what PyInstaller makes (``sys.frozen``); these tests set that
attribute on this interpreter, which is exactly what the switches read. The real
frozen bundle is smoke-tested in tests/packaging/test_frozen.py.
"""

from __future__ import annotations

import json
import plistlib
import sys
from pathlib import Path

import pytest

from secure_send.client.keystore import (
    TEST_KEYSTORE_WARNING,
    FileKeyStore,
    KeyringStore,
    open_keystore,
)
from secure_send.client.policy import LINUX_POLICY_FILE, MAC_POLICY_FILE, load_policy
from secure_send.client.profile import Profile
from secure_send.client.switches import (
    MAC_POLICY_ENV,
    POLICY_FILE_ENV,
    SWITCHES,
    TEST_KEYSTORE_ENV,
    honoured,
    set_switches,
)

PINNED = "https://attacker.example.com"


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    """This interpreter as a PyInstaller build sees itself."""
    monkeypatch.setattr(sys, "frozen", True, raising=False)


def test_from_source_the_test_keystore_is_used_with_a_warning(tmp_path: Path) -> None:
    warnings: list[str] = []
    store = open_keystore(Profile(tmp_path), {TEST_KEYSTORE_ENV: "1"}, warnings.append)
    assert isinstance(store, FileKeyStore)
    assert warnings == [TEST_KEYSTORE_WARNING]


def test_a_frozen_build_ignores_the_test_keystore(tmp_path: Path, frozen: None) -> None:
    warnings: list[str] = []
    store = open_keystore(Profile(tmp_path), {TEST_KEYSTORE_ENV: "1"}, warnings.append)
    assert isinstance(store, KeyringStore)  # the OS key store, whatever the user set
    assert warnings == []


def _user_policy(tmp_path: Path) -> tuple[Path, Path]:
    linux = tmp_path / "mine.json"
    linux.write_text(json.dumps({"server_url": PINNED}), encoding="utf-8")
    mac = tmp_path / "mine.plist"
    mac.write_bytes(plistlib.dumps({"ServerUrl": PINNED}))
    return linux, mac


def test_from_source_the_policy_path_switches_are_honoured(tmp_path: Path) -> None:
    linux, mac = _user_policy(tmp_path)
    assert load_policy("linux", {POLICY_FILE_ENV: str(linux)}).server_url == PINNED
    assert load_policy("darwin", {MAC_POLICY_ENV: str(mac)}).server_url == PINNED


@pytest.mark.skipif(
    LINUX_POLICY_FILE.exists() or MAC_POLICY_FILE.exists(),
    reason="this machine has an IT policy installed",
)
def test_a_frozen_build_reads_only_it_policy(tmp_path: Path, frozen: None) -> None:
    linux, mac = _user_policy(tmp_path)
    # the user's file is not read: IT's place is (absent here: no policy)
    linux_policy = load_policy("linux", {POLICY_FILE_ENV: str(linux)})
    assert linux_policy.server_url is None
    assert linux_policy.source == ""
    mac_policy = load_policy("darwin", {MAC_POLICY_ENV: str(mac)})
    assert mac_policy.server_url is None


def test_switches_are_listed_whether_honoured_or_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env = {name: "x" for name in SWITCHES} | {"OTHER": "1"}
    assert set_switches(env) == list(SWITCHES)
    assert set_switches({POLICY_FILE_ENV: ""}) == []  # empty is unset
    assert honoured(POLICY_FILE_ENV, env) == "x"
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    assert set_switches(env) == list(SWITCHES)
    assert all(honoured(name, env) is None for name in SWITCHES)
    with pytest.raises(ValueError, match="not a test switch"):
        honoured("OTHER", env)
