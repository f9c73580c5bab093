"""IT policy (secure_send/client/policy.py): precedence, tightening, pins, sources.

Every source is read for real (a JSON file, a plist written with plistlib) except
the Windows registry: ``winreg`` exists only on Windows, so the Windows path is
tested through :func:`from_vendor_values`, which turns registry-like values (names
and REG_SZ / REG_DWORD values as ``winreg.EnumValue`` returns them) into a policy.
"""

from __future__ import annotations

import dataclasses
import json
import plistlib
from pathlib import Path
from typing import Any

import nacl.signing
import pytest

from secure_send.client.policy import (
    LANGUAGES,
    MAC_POLICY_ENV,
    POLICY_FILE_ENV,
    SETTINGS_KEYS,
    ItPolicy,
    PolicyError,
    check_enrolled,
    effective_org,
    effective_settings,
    from_vendor_values,
    load_policy,
    parse_policy,
    user_part,
)
from secure_send.client.profile import CLIENT_CONFIG_FORMAT, OrgConfig
from secure_send.client.server_policy import ServerPolicy
from secure_send.core.encoding import b64u
from secure_send.core.envelope.manifest import AGE_SUITE, CMS_SUITE
from secure_send.core.envelope.manifest import Classification as C
from secure_send.gui import settings as gui_settings
from secure_send.gui.settings import Settings


def _keys(n: int) -> list[str]:
    return [b64u(bytes(nacl.signing.SigningKey.generate().verify_key)) for _ in range(n)]


def _pins(org: str = "デモ省", n: int = 3, threshold: int = 2) -> dict[str, Any]:
    return {"org": org, "root_keys": _keys(n), "threshold": threshold}


def _client_config(url: str = "https://it.example.go.jp") -> dict[str, Any]:
    return {"format": CLIENT_CONFIG_FORMAT, "server_url": url, **_pins("IT設定")}


FULL = {
    "language": "ja",
    "close_to_tray": False,
    "download_folder": "/srv/受信",
    "notify": False,
}


# ---------------------------------------------------------------- precedence


@pytest.mark.parametrize("field", SETTINGS_KEYS)
def test_defaults_then_user_then_policy_for_every_setting(field: str) -> None:
    defaults = Settings()
    user = Settings(language="en", close_to_tray=True, download_folder="/home/u/dl", notify=True)
    assert effective_settings(defaults, None, ItPolicy()) == defaults  # nothing stored
    assert effective_settings(defaults, user, ItPolicy()) == user  # user beats defaults
    policy = parse_policy({field: FULL[field]}, "test")
    result = effective_settings(defaults, user, policy)
    assert getattr(result, field) == FULL[field]  # policy beats user
    # and only that field: everything else is still the user's
    others = {f.name for f in dataclasses.fields(Settings)} - {field}
    assert all(getattr(result, n) == getattr(user, n) for n in others)
    assert policy.locked == {field}


def test_locked_lists_exactly_the_fields_the_policy_sets() -> None:
    assert ItPolicy().locked == frozenset()
    assert parse_policy({"max_expiry_days": 3, **_pins()}, "t").locked == frozenset()
    assert parse_policy({"notify": True, "language": "en"}, "t").locked == {"notify", "language"}
    assert parse_policy(FULL, "t").locked == set(FULL)
    # every lockable item is a real Settings field and a language the app ships
    assert set(SETTINGS_KEYS) == {f.name for f in dataclasses.fields(Settings)}
    assert LANGUAGES == gui_settings.LANGUAGES


def test_saving_keeps_the_users_own_value_for_locked_items() -> None:
    policy = parse_policy({"notify": False}, "t")
    stored = Settings(notify=True, language="ja")
    edited = effective_settings(Settings(), stored, policy)
    edited.language = "en"
    saved = user_part(edited, stored, policy)
    assert saved == Settings(notify=True, language="en")  # lifting the policy gives it back


# ---------------------------------------------------------------- expiry


def test_policy_only_shortens_expiry() -> None:
    server = ServerPolicy(1 << 20, 1 << 30, 14, 30, 1 << 40, 300)
    assert server.capped(ItPolicy().max_expiry_days) == server
    seven = server.capped(ItPolicy(max_expiry_days=7).max_expiry_days)
    assert (seven.max_expiry_days, seven.default_expiry_days) == (7, 7)  # default follows
    assert server.capped(90) == server  # never loosens
    assert server.capped(20) == dataclasses.replace(server, max_expiry_days=20)


@pytest.mark.parametrize("bad", [0, -1, "7", 7.0, True])
def test_expiry_must_be_a_positive_whole_number(bad: object) -> None:
    with pytest.raises(PolicyError, match="max_expiry_days"):
        parse_policy({"max_expiry_days": bad}, "t")


# ---------------------------------------------------------------- pins


def test_pins_win_over_the_it_client_config() -> None:
    it = OrgConfig.from_json(_client_config())
    pins = _pins("本省")
    policy = parse_policy({"server_url": "https://drop.example.go.jp", **pins}, "t")
    org = effective_org(it, policy)
    assert org is not None
    assert org.server_url == "https://drop.example.go.jp"
    assert org.anchor.org == "本省"
    assert [b64u(k) for k in org.anchor.root_keys] == pins["root_keys"]
    assert effective_org(None, policy) == org  # no file from IT needed


def test_partial_pins_override_only_their_part() -> None:
    it = OrgConfig.from_json(_client_config())
    url_only = parse_policy({"server_url": "https://drop.example.go.jp"}, "t")
    org = effective_org(it, url_only)
    assert org is not None
    assert org.server_url == "https://drop.example.go.jp"
    assert org.anchor == it.anchor
    assert effective_org(None, url_only) is None  # cannot invent root keys
    assert effective_org(it, ItPolicy()) == it


def test_a_profile_enrolled_elsewhere_is_refused() -> None:
    it = OrgConfig.from_json(_client_config())
    check_enrolled(it, ItPolicy())
    with pytest.raises(PolicyError, match="re-enrol"):
        check_enrolled(it, parse_policy({"server_url": "https://drop.example.go.jp"}, "t"))
    with pytest.raises(PolicyError, match="root keys"):
        check_enrolled(it, parse_policy(_pins(), "t"))
    check_enrolled(it, parse_policy({"server_url": it.server_url}, "t"))


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"org": "x", "root_keys": _keys(1)}, "go together"),
        ({**_pins(), "threshold": 4}, "root keys"),
        ({**_pins(), "root_keys": ["short"]}, "root keys"),
        ({"server_url": "ftp://x"}, "server_url"),
        ({"language": "fr"}, "language"),
        ({"notify": "yes"}, "notify"),
        ({"download_folder": "relative/dir"}, "absolute"),
        ({"max_expiry": 3}, "unknown key"),  # a misspelt restriction is not ignored
    ],
)
def test_invalid_policies_are_refused(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        parse_policy(raw, "t")


# ---------------------------------------------------------------- Linux


def test_linux_file(tmp_path: Path) -> None:
    path = tmp_path / "policy.json"
    pins = _pins()
    doc = {"server_url": "https://drop.example.go.jp", **pins, "max_expiry_days": 7, **FULL}
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    policy = load_policy("linux", {POLICY_FILE_ENV: str(path)})
    assert policy.max_expiry_days == 7
    assert policy.org_config is not None
    assert policy.org_config.server_url == "https://drop.example.go.jp"
    assert policy.settings == FULL
    assert policy.source == str(path)


def test_the_packaged_template_is_an_empty_policy(tmp_path: Path) -> None:
    """The .deb installs packaging/linux/policy.json: "_…" comments and nulls only."""
    template = Path(__file__).parents[2] / "packaging" / "linux" / "policy.json"
    if not template.exists():
        pytest.skip("no packaged policy template in this checkout")
    assert load_policy("linux", {POLICY_FILE_ENV: str(template)}).locked == set()
    assert parse_policy({"_comment": "x", "server_url": None, "root_keys": None}, "t") == (
        ItPolicy(source="t")
    )


def test_linux_missing_file_is_an_empty_policy(tmp_path: Path) -> None:
    assert load_policy("linux", {POLICY_FILE_ENV: str(tmp_path / "none.json")}) == ItPolicy()


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"{not json", "not valid JSON"), (b"[1, 2]", "JSON object"), (b"\xff\xfe", "not valid")],
)
def test_linux_malformed_file_fails_closed(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "policy.json"
    path.write_bytes(content)
    with pytest.raises(PolicyError, match=message) as info:
        load_policy("linux", {POLICY_FILE_ENV: str(path)})
    assert str(path) in str(info.value)  # IT can see which file to fix


def test_linux_a_folder_instead_of_a_file_fails_closed(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot be read"):
        load_policy("linux", {POLICY_FILE_ENV: str(tmp_path)})


def test_download_folder_expands_per_user(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    policy = parse_policy({"download_folder": "~/SecureSend"}, "t")
    assert policy.download_folder == str(tmp_path / "SecureSend")


# ---------------------------------------------------------------- macOS


def test_macos_managed_preferences(tmp_path: Path) -> None:
    path = tmp_path / "jp.go.securesend.plist"
    config = _client_config("https://drop.example.go.jp")
    values = {"RootKeys": config, "MaxExpiryDays": 14, "Notify": False, "Language": "en"}
    path.write_bytes(plistlib.dumps(values))
    policy = load_policy("darwin", {MAC_POLICY_ENV: str(path)})
    assert policy.server_url == "https://drop.example.go.jp"  # from the client-config form
    assert policy.org_config == OrgConfig.from_json(config)
    assert policy.max_expiry_days == 14
    assert policy.locked == {"notify", "language"}


def test_macos_missing_and_broken(tmp_path: Path) -> None:
    assert load_policy("darwin", {MAC_POLICY_ENV: str(tmp_path / "none")}).locked == set()
    broken = tmp_path / "broken.plist"
    broken.write_bytes(b"<?xml version='1.0'?><plist><dict><key>x")
    with pytest.raises(PolicyError, match="property list"):
        load_policy("darwin", {MAC_POLICY_ENV: str(broken)})


# ---------------------------------------------------------------- Windows


def test_windows_registry_values() -> None:
    """winreg cannot run here: the values are given as winreg.EnumValue returns them."""
    pins = _pins()
    values = {
        "ServerUrl": "https://drop.example.go.jp",  # REG_SZ
        "RootKeys": json.dumps(pins),  # REG_SZ holding JSON
        "MaxExpiryDays": 7,  # REG_DWORD
        "DownloadFolder": "/srv/dl",
        "CloseToTray": 0,  # REG_DWORD 0/1 for booleans
        "notify": 1,  # the registry ignores case
        "Language": "ja",
        "Notes": "",  # empty values count as not set, whatever the name
    }
    policy = parse_policy(from_vendor_values(values, "HKLM"), "HKLM")
    assert policy.org_config is not None
    assert policy.org_config.anchor.org == pins["org"]
    assert (policy.max_expiry_days, policy.close_to_tray, policy.notify) == (7, False, True)
    assert policy.locked == set(FULL)


def test_windows_msi_without_properties_is_an_empty_policy() -> None:
    """The MSI always writes ServerUrl and RootKeys, empty when not given."""
    raw = from_vendor_values({"ServerUrl": "", "RootKeys": ""}, "HKLM")
    assert parse_policy(raw, "HKLM") == ItPolicy(source="HKLM")


def test_windows_root_keys_as_a_whole_client_config() -> None:
    config = _client_config("https://drop.example.go.jp")
    raw = from_vendor_values({"RootKeys": json.dumps(config)}, "HKLM")
    assert parse_policy(raw, "HKLM").org_config == OrgConfig.from_json(config)
    with pytest.raises(PolicyError, match="disagree"):
        from_vendor_values({"ServerUrl": "https://x.go.jp", "RootKeys": json.dumps(config)}, "H")


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"RootKeys": "{oops"}, "not valid JSON"),
        ({"RootKeys": "[]"}, "JSON object"),
        ({"MaxExpiryDay": 7}, "unknown value"),
        ({"CloseToTray": 2}, "true or false"),
    ],
)
def test_windows_bad_values_fail_closed(values: dict[str, Any], message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        parse_policy(from_vendor_values(values, "HKLM"), "HKLM")


# ---------------------------------------------------------------- 上長承認 and antivirus


def test_approval_for_and_antivirus() -> None:
    policy = parse_policy({"approval_for": ["mynumber", "c3"], "antivirus": "block"}, "t")
    assert policy.approval.approval_for == {"mynumber", "c3"}
    assert policy.antivirus == "block"
    empty = parse_policy({}, "t")  # nothing needs approval and nothing is scanned by default
    assert (empty.approval.approval_for, empty.antivirus) == (frozenset(), "off")
    # Windows REG_SZ and macOS strings: comma-separated
    raw = from_vendor_values({"ApprovalFor": "c3, outside_department", "Antivirus": "warn"}, "H")
    vendor = parse_policy(raw, "HKLM")
    assert vendor.approval.approval_for == {"c3", "outside_department"}
    assert vendor.antivirus == "warn"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"approval_for": ["c4"]}, "unknown reason"),
        ({"approval_for": "mynumber;c3"}, "unknown reason"),
        ({"approval_for": {"c3": True}}, "list of reasons"),
        ({"approval_for": [3]}, "unknown reason"),
        ({"antivirus": "on"}, "antivirus must be one of off, warn, block"),
        ({"antivirus": True}, "antivirus"),
    ],
)
def test_bad_approval_or_antivirus_values_fail_closed(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        parse_policy(raw, "t")


# ---------------------------------------------------------------- cipher suite (issue 21)


def test_suite_by_organisation_and_classification() -> None:
    assert parse_policy({}, "t").suite.for_classification(C.C3) == AGE_SUITE  # the default
    whole = parse_policy({"suite": CMS_SUITE}, "t").suite
    assert [whole.for_classification(c) for c in C] == [CMS_SUITE] * 3
    per = parse_policy({"suite": {"c3": "cms"}}, "t").suite  # 機密性3 → CRYPTREC
    assert [per.for_classification(c) for c in C] == [AGE_SUITE, AGE_SUITE, CMS_SUITE]
    inverse = parse_policy({"suite": {"default": "cms", "c1": AGE_SUITE}}, "t").suite
    assert [inverse.for_classification(c) for c in C] == [AGE_SUITE, CMS_SUITE, CMS_SUITE]
    # Windows REG_SZ and macOS strings: the object as one line
    raw = from_vendor_values({"Suite": "c3=cms, default=age"}, "HKLM")
    vendor = parse_policy(raw, "HKLM").suite
    assert [vendor.for_classification(c) for c in C] == [AGE_SUITE, AGE_SUITE, CMS_SUITE]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("aes", "suite must be one of"),  # a typo must not silently send in another suite
        ("age-x25519-v2", "suite must be one of"),
        ({"c4": "cms"}, "unknown classification"),
        ({"c3": "cms", "default": "rsa"}, "suite must be one of"),
        ({}, "suite must be a suite name"),
        (["cms"], "suite must be a suite name"),
        ("c3=cms,c3=age", "cannot read"),
        ("c3:cms", "suite must be one of"),
    ],
)
def test_a_bad_suite_stops_the_app(value: object, message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        parse_policy({"suite": value}, "t")
