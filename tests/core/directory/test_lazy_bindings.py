"""Device key bindings checked on first use: a cold load skips them, but no device key is
handed out for encryption or signature checks before its binding verified."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import nacl.public
import pytest

from secure_send.client.directory_sync import Directory
from secure_send.core.directory import verify
from secure_send.core.directory.bundle import TrustAnchor
from secure_send.core.directory.errors import DeviceKeyError, EntriesMismatchError
from secure_send.core.directory.model import Entry
from secure_send.core.directory.search import SearchIndex
from secure_send.core.directory.verify import CheckedEntries, verify_directory
from secure_send.core.encoding import b64u, utc_now
from tests.directory_kit import HANAKO, TARO, entry_obj, new_org, with_entry


def _forged(tmp_path: Path) -> tuple[bytes, TrustAnchor]:
    """A snapshot signed with the real signing key in which Taro's device has an
    encryption key its signing key never signed (a compromised signer's substitution)."""
    home = new_org(tmp_path / "org")
    data = home.bundle_file.read_bytes()
    taro = entry_obj(data, TARO)
    taro["devices"][0]["enc_key"] = b64u(bytes(nacl.public.PrivateKey.generate().public_key))
    return with_entry(data, home, TARO, taro, sign=True), home.anchor()


def test_eager_verification_refuses_it(tmp_path: Path) -> None:
    data, anchor = _forged(tmp_path)
    with pytest.raises(DeviceKeyError):
        verify_directory(data, anchor, now=utc_now())


def test_a_lazy_load_never_hands_out_the_forged_device(tmp_path: Path) -> None:
    data, anchor = _forged(tmp_path)
    verified = verify_directory(data, anchor, now=utc_now(), lazy_bindings=True)
    entries = CheckedEntries(verified)
    assert entries[HANAKO].id == HANAKO  # an honest entry: checked, handed out
    with pytest.raises(DeviceKeyError):
        entries[TARO]
    with pytest.raises(DeviceKeyError):
        entries.get(TARO)
    with pytest.raises(DeviceKeyError):
        verified.require_bindings([verified.by_id()[TARO]])
    # the honest entry's check is remembered; the forged one never enters the ledger
    leaves = verified.leaf_hashes
    assert len(leaves) == 1


def test_an_entry_of_another_directory_is_refused(tmp_path: Path) -> None:
    data, anchor = _forged(tmp_path)
    verified = verify_directory(data, anchor, now=utc_now(), lazy_bindings=True)
    taro = verified.by_id()[TARO]
    moved = type(taro)(**{**taro.__dict__, "title": "課長"})
    with pytest.raises(EntriesMismatchError, match="not an entry of this directory"):
        verified.require_bindings([moved])


def test_the_cached_lookups_never_hand_out_the_forged_device(tmp_path: Path) -> None:
    """The id lookups are built once per verified directory; the one shared mapping still
    checks each entry as it is handed out, every time (a refusal is never remembered)."""
    data, anchor = _forged(tmp_path)
    verified = verify_directory(data, anchor, now=utc_now(), lazy_bindings=True)
    directory = Directory(verified, fresh=True)
    entries = directory.by_id()
    assert entries is directory.by_id() is verified.checked_entries()
    assert Directory(verified, fresh=False).by_id() is entries  # a 304 rewraps: same one
    assert entries[HANAKO].id == HANAKO
    for _ in range(2):
        with pytest.raises(DeviceKeyError):
            entries[TARO]
        with pytest.raises(DeviceKeyError):
            directory.by_id().get(TARO)
    assert len(verified.leaf_hashes) == 1  # Hanako's check only


def test_lookups_are_built_once_per_verified_directory(tmp_path: Path) -> None:
    home = new_org(tmp_path / "org")
    data, anchor = home.bundle_file.read_bytes(), home.anchor()
    verified = verify_directory(data, anchor, now=utc_now(), lazy_bindings=True)
    directory = Directory(verified, fresh=True)
    assert verified.by_id() is verified.by_id()
    assert directory.search_index() is directory.search_index() is verified.search_index()
    assert [m.entry.id for m in directory.search_index().search(TARO)] == [TARO]
    with pytest.raises(TypeError):  # shared by every caller: nobody may change it
        verified.by_id()[TARO] = verified.by_id()[HANAKO]  # type: ignore[index]
    again = verify_directory(data, anchor, now=utc_now(), lazy_bindings=True)
    assert again == verified  # the same directory's content, but a new verification:
    assert again.by_id() is not verified.by_id()  # new lookups (and binding checks)
    assert again.checked_entries() is not verified.checked_entries()
    assert again.search_index() is not verified.search_index()
    copied = replace(verified, checkpoint=verified.checkpoint)
    assert copied.search_index() is not verified.search_index()


def test_threads_asking_at_once_get_one_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = new_org(tmp_path / "org")
    verified = verify_directory(home.bundle_file.read_bytes(), home.anchor(), now=utc_now())
    builds: list[int] = []
    building, release = threading.Event(), threading.Event()

    def slow(entries: Iterable[Entry]) -> SearchIndex:
        builds.append(1)
        building.set()
        release.wait(timeout=10)  # held until the main thread has looked someone up
        return SearchIndex(entries)

    monkeypatch.setattr(verify, "SearchIndex", slow)
    with ThreadPoolExecutor(max_workers=4) as pool:
        asked = [pool.submit(verified.search_index) for _ in range(4)]
        assert building.wait(timeout=10)
        # a cheap lookup is answered while the index is still being built
        assert verified.by_id()[TARO].id == TARO
        assert not any(future.done() for future in asked)
        release.set()
        got = [future.result() for future in asked]
    assert builds == [1]
    assert all(index is got[0] for index in got)


# ---------------------------------------------------------------- red team, issue 21


def _p256_forged(tmp_path: Path, how: str) -> tuple[bytes, TrustAnchor, bytes]:
    """A snapshot signed with the real signing key in which Taro's device lists a P-256
    key its signing key never vouched for, while its X25519 binding stays genuine (a
    compromised signer adding a key it holds the private half of). Also returns the
    genuine point where there is one."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from secure_send.core.directory.enrol import DeviceKeys
    from secure_send.core.directory.model import device_p256_message

    home = new_org(tmp_path / "org")
    data = home.bundle_file.read_bytes()
    taro = entry_obj(data, TARO)
    device = taro["devices"][0]
    assert "p256_key" in device  # enrolled with one (issue 21)
    signer_point = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )
    genuine = device["p256_key"]
    if how == "swap-key":  # the signer's key, the device's genuine signature (of another key)
        device["p256_key"] = b64u(signer_point)
    elif how == "signer-signed":  # the signer signs the binding itself (not the device's key)
        stranger = DeviceKeys.generate().signing
        device["p256_key"] = b64u(signer_point)
        message = device_p256_message(TARO, device["id"], signer_point)
        device["p256_key_sig"] = b64u(stranger.sign(message).signature)
    else:  # "hanakos-binding": a genuine binding lifted from another person's device
        hanako = entry_obj(data, HANAKO)["devices"][0]
        device["p256_key"], device["p256_key_sig"] = hanako["p256_key"], hanako["p256_key_sig"]
    return with_entry(data, home, TARO, taro, sign=True), home.anchor(), genuine.encode()


@pytest.mark.parametrize("how", ["swap-key", "signer-signed", "hanakos-binding"])
def test_a_p256_key_without_a_valid_binding_is_never_handed_out(tmp_path: Path, how: str) -> None:
    """A sender's lazy load: the X25519 binding verifies, the P-256 one does not. The
    entry (and so its P-256 key, which a CMS sender would encrypt to) is refused at its
    first use, exactly like a forged X25519 key; an eager load refuses the snapshot."""
    data, anchor, _ = _p256_forged(tmp_path, how)
    with pytest.raises(DeviceKeyError, match="P-256 key not signed"):
        verify_directory(data, anchor, now=utc_now())
    verified = verify_directory(data, anchor, now=utc_now(), lazy_bindings=True)
    entries = CheckedEntries(verified)
    assert entries[HANAKO].id == HANAKO
    with pytest.raises(DeviceKeyError, match="P-256 key not signed"):
        entries[TARO]
    directory = Directory(verified, fresh=True)
    with pytest.raises(DeviceKeyError):
        directory.by_id()[TARO]
