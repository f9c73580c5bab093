"""The client profile folder, its documents, and the device key stores."""

from __future__ import annotations

import base64
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import keyring
import keyring.backend
import keyring.backends.chainer
import keyring.backends.fail
import keyring.errors
import platformdirs
import pytest

from secure_send.client.keystore import (
    FileKeyStore,
    KeyringStore,
    KeyStoreError,
    open_keystore,
)
from secure_send.client.profile import DeviceIdentity, OrgConfig, Profile, ProfileError
from secure_send.core.directory.enrol import DeviceKeys
from secure_send.core.encoding import b64u
from secure_send.org import ops
from tests.directory_kit import new_org

HANAKO = DeviceIdentity("hanako.sato", "laptop")
TARO = DeviceIdentity("taro.suzuki", "desktop")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def same_keys(a: DeviceKeys, b: DeviceKeys) -> bool:
    return (
        bytes(a.signing) == bytes(b.signing)
        and bytes(a.encryption) == bytes(b.encryption)
        and a.p256_public() == b.p256_public()
    )


def key_texts(keys: DeviceKeys) -> list[str]:
    """Forms in which key material could leak into a message."""
    raw = [bytes(keys.signing), bytes(keys.encryption)]
    return [b64u(k) for k in raw] + [k.hex() for k in raw] + [b64u(b"".join(raw))]


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A real keyring backend that keeps entries in a dict."""

    # 0: keyring registers every subclass; never auto-select or chain this one
    priority = 0

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.entries.pop((service, username), None) is None:
            raise keyring.errors.PasswordDeleteError("not found")


class LockedKeyring(MemoryKeyring):
    """A backend whose store is locked; its error text quotes what it was given."""

    def set_password(self, service: str, username: str, password: str) -> None:
        raise keyring.errors.KeyringLocked(f"locked, refusing {password}")


def use_keyring(backend: keyring.backend.KeyringBackend) -> Iterator[None]:
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    try:
        yield
    finally:
        keyring.set_keyring(previous)


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    backend = MemoryKeyring()
    yield from (backend for _ in use_keyring(backend))


@pytest.fixture
def fail_keyring() -> Iterator[None]:
    backend = keyring.backends.fail.Keyring()  # type: ignore[no-untyped-call]
    yield from use_keyring(backend)


# --- profile folder ---------------------------------------------------------------


def test_home_env_selects_the_folder(tmp_path: Path) -> None:
    profile = Profile.locate({"SECURE_SEND_HOME": str(tmp_path / "p")})
    assert profile.path == tmp_path / "p"
    assert profile.config_file == tmp_path / "p" / "config.json"
    assert profile.identity_file.name == "identity.json"
    assert profile.directory_file.name == "directory.bundle"
    assert profile.checkpoint_file.name == "checkpoint.json"
    assert profile.resume_dir.name == "resume"
    assert profile.outbox_dir.name == "outbox"
    assert profile.key_file.name == "device-keys.json"


def test_without_env_the_user_data_folder_is_used() -> None:
    expected = Path(platformdirs.user_data_dir("secure-send", appauthor=False))
    assert Profile.locate({}).path == expected


def test_ensure_creates_owner_only_folder(tmp_path: Path) -> None:
    profile = Profile(tmp_path / "a" / "profile").ensure()
    assert profile.path.is_dir()
    assert mode(profile.path) == 0o700


def test_write_json_is_atomic_and_owner_only(tmp_path: Path) -> None:
    profile = Profile(tmp_path / "p").ensure()
    profile.write_json(profile.identity_file, {"user": "a"})
    profile.write_json(profile.identity_file, HANAKO.to_json())  # replaces
    assert profile.read_json(profile.identity_file) == HANAKO.to_json()
    assert mode(profile.identity_file) == 0o600
    assert sorted(p.name for p in profile.path.iterdir()) == ["identity.json"]


def test_failed_write_leaves_old_file_and_no_temporary(tmp_path: Path) -> None:
    profile = Profile(tmp_path / "p").ensure()
    profile.write_json(profile.config_file, {"old": 1})
    with pytest.raises(TypeError):
        profile.write_json(profile.config_file, {"bad": object()})
    assert profile.read_json(profile.config_file) == {"old": 1}
    assert sorted(p.name for p in profile.path.iterdir()) == ["config.json"]


def test_missing_json_is_none(tmp_path: Path) -> None:
    assert Profile(tmp_path).read_json(tmp_path / "nope.json") is None


@pytest.mark.parametrize("content", [b"{not json", b"", b'{"a": 1', b"\xff\xfe"])
def test_corrupt_json_raises_profile_error(tmp_path: Path, content: bytes) -> None:
    profile = Profile(tmp_path)
    profile.checkpoint_file.write_bytes(content)
    with pytest.raises(ProfileError, match="corrupt"):
        profile.read_json(profile.checkpoint_file)


# --- organisation config and identity ---------------------------------------------


@pytest.fixture
def client_config(tmp_path: Path) -> dict[str, object]:
    return ops.client_config(new_org(tmp_path / "org"), "http://127.0.0.1:8080")


def test_client_config_round_trips(tmp_path: Path, client_config: dict[str, object]) -> None:
    org = OrgConfig.from_json(client_config)
    assert org.server_url == "http://127.0.0.1:8080"
    assert org.anchor.threshold == 2
    assert len(org.anchor.root_keys) == 3
    assert org.to_json() == client_config
    profile = Profile(tmp_path / "p").ensure()
    profile.write_json(profile.config_file, org.to_json())
    assert OrgConfig.from_json(profile.read_json(profile.config_file)) == org


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"format": "secure-send/client-config/v2"}, "format"),
        ({"format": None}, "format"),
        ({"server_url": "ftp://example.go.jp"}, "http"),
        ({"server_url": "example.go.jp"}, "http"),
        ({"server_url": "https://"}, "http"),
        ({"server_url": "http://host:99999"}, "valid URL"),
        ({"server_url": "https://a b.example"}, "spaces"),
        ({"server_url": 8080}, "server_url"),
        ({"threshold": 4}, "threshold"),
        ({"threshold": True}, "threshold"),
        ({"root_keys": ["short"]}, "anchor"),
        ({"org": 5}, "org"),
        ({"extra": 1}, "unknown"),
    ],
)
def test_org_config_is_strict(
    client_config: dict[str, object], change: dict[str, object], message: str
) -> None:
    with pytest.raises(ProfileError, match=message):
        OrgConfig.from_json({**client_config, **change})


def test_org_config_needs_every_field(client_config: dict[str, object]) -> None:
    for name in client_config:
        broken = {k: v for k, v in client_config.items() if k != name}
        with pytest.raises(ProfileError):
            OrgConfig.from_json(broken)
    with pytest.raises(ProfileError):
        OrgConfig.from_json([client_config])


def test_identity_round_trip_and_validation() -> None:
    assert DeviceIdentity.from_json(HANAKO.to_json()) == HANAKO
    for bad in [
        {"user": "Hanako", "device": "laptop"},
        {"user": "hanako", "device": "lap top"},
        {"user": "hanako"},
        {"user": "hanako", "device": "laptop", "x": 1},
        {"user": 1, "device": "laptop"},
        "hanako/laptop",
    ]:
        with pytest.raises(ProfileError):
            DeviceIdentity.from_json(bad)
    with pytest.raises(ProfileError):
        DeviceIdentity("../etc", "laptop")


# --- file key store (tests and demo only) -------------------------------------------


def test_file_store_round_trip_owner_only(tmp_path: Path) -> None:
    profile = Profile(tmp_path / "p").ensure()
    store = FileKeyStore(profile)
    hanako, taro = DeviceKeys.generate(), DeviceKeys.generate()
    store.save(HANAKO, hanako)
    store.save(TARO, taro)
    assert mode(profile.key_file) == 0o600
    assert same_keys(store.load(HANAKO), hanako)
    assert same_keys(FileKeyStore(profile).load(TARO), taro)
    store.delete(HANAKO)
    store.delete(HANAKO)  # already gone: fine
    with pytest.raises(KeyStoreError, match="no device keys"):
        store.load(HANAKO)
    assert same_keys(store.load(TARO), taro)
    assert [p.name for p in profile.path.iterdir()] == ["device-keys.json"]


def test_the_p256_key_is_kept_and_keys_stored_without_one_still_load(tmp_path: Path) -> None:
    """Issue 21: the P-256 scalar is the third 32 bytes; a device enrolled before it
    existed has 64 bytes stored and loads with ``p256`` None (its key-add comes later)."""
    profile = Profile(tmp_path / "p").ensure()
    store = FileKeyStore(profile)
    full = DeviceKeys.generate()
    store.save(HANAKO, full)
    loaded = store.load(HANAKO)
    assert loaded.p256 is not None
    assert loaded.p256_public() == full.p256_public()
    old = DeviceKeys(full.signing, full.encryption)  # as an older version stored them
    store.save(TARO, old)
    stored = profile.read_json(profile.key_file)
    assert stored is not None
    assert len(base64.urlsafe_b64decode(stored["taro.suzuki/desktop"])) == 64
    assert store.load(TARO).p256 is None
    assert same_keys(store.load(TARO), old)


@pytest.mark.parametrize("scalar", [0, 2**256 - 1])  # 0, and ≥ the group order
def test_a_stored_p256_scalar_out_of_range_is_damaged(tmp_path: Path, scalar: int) -> None:
    profile = Profile(tmp_path).ensure()
    keys = DeviceKeys.generate()
    raw = bytes(keys.signing) + bytes(keys.encryption) + scalar.to_bytes(32, "big")
    text = base64.urlsafe_b64encode(raw).decode()
    profile.write_json(profile.key_file, {"hanako.sato/laptop": text})
    with pytest.raises(KeyStoreError, match="damaged") as err:
        FileKeyStore(profile).load(HANAKO)
    assert text not in str(err.value)


def test_file_store_damaged_entry(tmp_path: Path) -> None:
    profile = Profile(tmp_path).ensure()
    profile.write_json(profile.key_file, {"hanako.sato/laptop": "AAAA"})
    with pytest.raises(KeyStoreError, match="damaged"):
        FileKeyStore(profile).load(HANAKO)
    profile.key_file.write_text("{oops")
    with pytest.raises(KeyStoreError, match="damaged"):
        FileKeyStore(profile).load(HANAKO)


def test_test_keystore_warns_every_call(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    profile = Profile(tmp_path).ensure()
    env = {"SECURE_SEND_TEST_KEYSTORE": "1"}
    warnings: list[str] = []
    for _ in range(3):
        assert isinstance(open_keystore(profile, env, warn=warnings.append), FileKeyStore)
    assert len(warnings) == 3
    assert all("never for real use" in w and "SECURE_SEND_TEST_KEYSTORE=1" in w for w in warnings)
    # the default warning goes to stderr, again on every call
    open_keystore(profile, env)
    open_keystore(profile, env)
    assert capsys.readouterr().err.count("WARNING: SECURE_SEND_TEST_KEYSTORE=1") == 2


def test_without_the_flag_the_os_keyring_is_used(tmp_path: Path) -> None:
    warnings: list[str] = []
    for env in [{}, {"SECURE_SEND_TEST_KEYSTORE": "0"}, {"SECURE_SEND_TEST_KEYSTORE": "yes"}]:
        store = open_keystore(Profile(tmp_path), env, warn=warnings.append)
        assert isinstance(store, KeyringStore)
    assert warnings == []


# --- OS keyring store -----------------------------------------------------------------


def test_keyring_round_trip(tmp_path: Path, memory_keyring: MemoryKeyring) -> None:
    profile = Profile(tmp_path / "p").ensure()
    store = open_keystore(profile, {}, warn=pytest.fail)
    keys = DeviceKeys.generate()
    store.save(HANAKO, keys)
    assert same_keys(store.load(HANAKO), keys)
    [(service, username)] = memory_keyring.entries
    assert service == "secure-send"
    assert username.startswith("hanako.sato/laptop@")
    assert not profile.key_file.exists()  # nothing in plain form
    store.delete(HANAKO)
    store.delete(HANAKO)
    assert memory_keyring.entries == {}
    with pytest.raises(KeyStoreError, match="no device keys"):
        store.load(HANAKO)


def test_two_profiles_do_not_collide(tmp_path: Path, memory_keyring: MemoryKeyring) -> None:
    first, second = KeyringStore(Profile(tmp_path / "a")), KeyringStore(Profile(tmp_path / "b"))
    k1, k2 = DeviceKeys.generate(), DeviceKeys.generate()
    first.save(HANAKO, k1)
    second.save(HANAKO, k2)
    assert len(memory_keyring.entries) == 2
    assert same_keys(first.load(HANAKO), k1)
    assert same_keys(second.load(HANAKO), k2)
    second.delete(HANAKO)
    assert same_keys(first.load(HANAKO), k1)
    # the same folder reached through another spelling is the same profile
    (tmp_path / "a" / "sub").mkdir(parents=True)
    alias = KeyringStore(Profile(tmp_path / "a" / "sub" / ".."))
    assert same_keys(alias.load(HANAKO), k1)


def test_fail_backend_is_refused(tmp_path: Path, fail_keyring: None) -> None:
    store = open_keystore(Profile(tmp_path), {}, warn=pytest.fail)
    keys = DeviceKeys.generate()
    for attempt in (lambda: store.save(HANAKO, keys), lambda: store.load(HANAKO)):
        with pytest.raises(KeyStoreError) as info:
            attempt()
        text = str(info.value)
        assert "no secure key store (OS keyring) is available" in text
        assert "GNOME Keyring" in text
        assert "Windows Credential Manager" in text
        assert not any(k in text for k in key_texts(keys))
    assert os.listdir(tmp_path) == []  # no plaintext fallback


def test_chainer_of_nothing_real_is_refused(tmp_path: Path, fail_keyring: None) -> None:
    # a chainer whose viable backends are none (e.g. a headless Linux box)
    chainer = keyring.backends.chainer.ChainerBackend()  # type: ignore[no-untyped-call]
    for _ in use_keyring(chainer):
        if chainer.backends:
            pytest.skip("this machine has a real keyring backend")
        with pytest.raises(KeyStoreError, match="no secure key store"):
            KeyringStore(Profile(tmp_path)).load(HANAKO)


def test_backend_errors_hide_key_material(tmp_path: Path) -> None:
    keys = DeviceKeys.generate()
    for _ in use_keyring(LockedKeyring()):
        with pytest.raises(KeyStoreError) as info:
            KeyringStore(Profile(tmp_path)).save(HANAKO, keys)
    text = str(info.value)
    assert "KeyringLocked" in text
    assert not any(k in text for k in key_texts(keys))
    assert info.value.__cause__ is None
    assert info.value.__suppress_context__


def test_damaged_keyring_entry(tmp_path: Path, memory_keyring: MemoryKeyring) -> None:
    store = KeyringStore(Profile(tmp_path))
    memory_keyring.set_password("secure-send", store.username(HANAKO), "secret-ish-value")
    with pytest.raises(KeyStoreError, match="damaged") as info:
        store.load(HANAKO)
    assert "secret-ish-value" not in str(info.value)
