"""Device key bindings checked on first use: a cold load skips them, but no device key is
handed out for encryption or signature checks before its binding verified."""

from __future__ import annotations

from pathlib import Path

import nacl.public
import pytest

from secure_send.core.directory.bundle import TrustAnchor
from secure_send.core.directory.errors import DeviceKeyError, EntriesMismatchError
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
