"""Signed manifests and receipts, checked against a real (verified) directory."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import replace
from pathlib import Path

import pytest

from secure_send.core.directory.enrol import DeviceKeys
from secure_send.core.directory.log import Action
from secure_send.core.directory.model import Entry
from secure_send.core.encoding import b64u, format_time, utc_now
from secure_send.core.envelope.manifest import (
    DROP_ID,
    Blob,
    Classification,
    EnvelopeError,
    Manifest,
    RecipientRef,
    SignedManifest,
    new_drop_id,
)
from secure_send.core.envelope.receipt import Receipt
from secure_send.org import ops
from tests.directory_kit import HANAKO, JIRO, OPERATOR, ROLE, TARO, enrol_device, new_org

NOW = utc_now()


class Org:
    """A small organisation: Hanako (sender) and Taro (recipient) with devices."""

    def __init__(self, path: Path) -> None:
        self.home = new_org(path, devices=False)
        self.hanako = enrol_device(self.home, HANAKO, "laptop")
        self.taro = enrol_device(self.home, TARO, "desktop")

    def directory(self) -> dict[str, Entry]:
        return self.home.entries()


@pytest.fixture
def org(tmp_path: Path) -> Org:
    return Org(tmp_path / "org")


def _manifest(**changes: object) -> Manifest:
    blob = Blob("f0", "file", hashlib.sha256(b"ciphertext").digest(), 10)
    meta = Blob("meta", "metadata", hashlib.sha256(b"meta").digest(), 4)
    base = Manifest(
        drop_id=new_drop_id(),
        sender=HANAKO,
        sender_device="laptop",
        recipients=(RecipientRef(TARO, ("desktop",)), RecipientRef(HANAKO, ("laptop",))),
        blobs=(blob, meta),
        created=format_time(NOW),
        expires=format_time(NOW + dt.timedelta(days=7)),
        classification=Classification.C3,
        suite="age-x25519-v1",
        directory_epoch=3,
        directory_header="x" * 43,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def _round_trip(signed: SignedManifest) -> SignedManifest:
    return SignedManifest.from_json(signed.to_json())


def test_manifest_signed_by_the_sending_device_verifies(org: Org) -> None:
    manifest = _manifest()
    signed = _round_trip(manifest.sign(org.hanako.signing))
    assert signed.verify(org.directory()) == manifest


def test_manifest_carries_no_names_or_message(org: Org) -> None:
    text = str(_manifest().sign(org.hanako.signing).to_json())
    assert set(_manifest().body()) == {
        "type",
        "drop_id",
        "sender",
        "recipients",
        "blobs",
        "created",
        "expires",
        "classification",
        "suite",
        "directory",
    }
    assert "name" not in text


def test_signature_by_another_device_is_refused(org: Org) -> None:
    with pytest.raises(EnvelopeError, match="signature"):
        _manifest().sign(DeviceKeys.generate().signing).verify(org.directory())


def test_changed_manifest_is_refused(org: Org) -> None:
    signed = _manifest().sign(org.hanako.signing)
    swapped = Blob("f0", "file", hashlib.sha256(b"other").digest(), 10)
    tampered = SignedManifest(replace(signed.manifest, blobs=(swapped,)), signed.signature)
    with pytest.raises(EnvelopeError, match="signature"):
        tampered.verify(org.directory())


def test_revoked_sender_device_is_refused(org: Org) -> None:
    signed = _manifest().sign(org.hanako.signing)
    ops.change(org.home, OPERATOR, Action.REVOKE_DEVICE, {"user": HANAKO, "device": "laptop"})
    with pytest.raises(EnvelopeError, match="sender's device"):
        signed.verify(org.directory())


@pytest.mark.parametrize(
    "recipients",
    [
        pytest.param((RecipientRef(JIRO, ("desktop",)),), id="device-of-someone-else"),
        pytest.param((RecipientRef("nobody", ()),), id="unknown-person"),
        pytest.param((RecipientRef(ROLE, ()),), id="role-not-expanded"),
    ],
)
def test_recipients_must_be_active_people_with_those_devices(
    org: Org, recipients: tuple[RecipientRef, ...]
) -> None:
    signed = _manifest(recipients=recipients).sign(org.hanako.signing)
    with pytest.raises(EnvelopeError, match="recipient"):
        signed.verify(org.directory())


def test_departed_recipient_is_refused(org: Org) -> None:
    signed = _manifest().sign(org.hanako.signing)
    ops.change(org.home, OPERATOR, Action.DEPART, {"user": TARO})
    with pytest.raises(EnvelopeError, match="recipient"):
        signed.verify(org.directory())


@pytest.mark.parametrize(
    ("field", "value"),
    [("suite", "rot13-v1"), ("drop_id", "../../etc/passwd"), ("drop_id", "short")],
)
def test_malformed_manifest_is_refused(org: Org, field: str, value: str) -> None:
    obj = _manifest().sign(org.hanako.signing).to_json()
    obj["body"][field] = value
    with pytest.raises(EnvelopeError):
        SignedManifest.from_json(obj)


def test_expiry_before_creation_is_refused(org: Org) -> None:
    signed = _manifest(expires=format_time(NOW - dt.timedelta(seconds=1))).sign(org.hanako.signing)
    with pytest.raises(EnvelopeError, match="expires"):
        signed.verify(org.directory())


def _receipt(manifest: Manifest, keys: DeviceKeys, **changes: object) -> Receipt:
    base = Receipt(
        manifest.drop_id,
        TARO,
        "desktop",
        tuple(b.sha256 for b in manifest.blobs),
        format_time(NOW),
    )
    return replace(base, **changes).signed_by(keys.signing)  # type: ignore[arg-type]


def test_receipt_from_the_recipient_device_verifies(org: Org) -> None:
    manifest = _manifest()
    receipt = Receipt.from_json(_receipt(manifest, org.taro).to_json())
    receipt.verify(manifest, org.directory())


def test_receipt_checks(org: Org) -> None:
    manifest = _manifest()
    directory = org.directory()
    cases = {
        "another drop": _receipt(manifest, org.taro, drop_id=new_drop_id()),
        "other files": _receipt(manifest, org.taro, blob_hashes=(b"\0" * 32,)),
        "not sent to": _receipt(manifest, org.taro, user=JIRO),
        "signature": _receipt(manifest, DeviceKeys.generate()),
    }
    for message, receipt in cases.items():
        with pytest.raises(EnvelopeError, match=message):
            receipt.verify(manifest, directory)


def test_drop_ids_never_look_like_options() -> None:
    ids = [new_drop_id() for _ in range(2000)]  # ~1 in 32 raw tokens starts with - or _
    assert all(i[0].isalnum() and DROP_ID.fullmatch(i) for i in ids)
    assert len(set(ids)) == len(ids)


# ---------------------------------------------------------------- log heads (split views)

ROOT = hashlib.sha256(b"log root").digest()


def test_a_manifests_log_head_round_trips_under_its_signature(org: Org) -> None:
    signed = _manifest(log_size=42, log_root=ROOT).sign(org.hanako.signing)
    obj = signed.to_json()
    assert obj["body"]["directory"]["log_size"] == 42
    back = _round_trip(signed)
    assert back.manifest.log_head == (42, ROOT)
    back.verify(org.directory())  # the head is signed: the re-encoding verifies


def test_an_older_manifest_without_a_log_head_parses_with_none(org: Org) -> None:
    signed = _manifest().sign(org.hanako.signing)
    assert set(signed.to_json()["body"]["directory"]) == {"epoch", "header"}
    back = _round_trip(signed)
    assert back.manifest.log_head is None
    back.verify(org.directory())  # the server keeps it; recipients show it as dangerous


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda d: d.pop("log_root"), id="size-without-root"),
        pytest.param(lambda d: d.pop("log_size"), id="root-without-size"),
        pytest.param(lambda d: d.update(log_size="42"), id="size-as-string"),
        pytest.param(lambda d: d.update(log_size=True), id="size-as-bool"),
        pytest.param(lambda d: d.update(log_size=-1), id="negative-size"),
        pytest.param(lambda d: d.update(log_size=2**63), id="huge-size"),
        pytest.param(lambda d: d.update(log_root="AAAA"), id="short-root"),
        pytest.param(lambda d: d.update(log_root=None), id="null-root"),
        pytest.param(lambda d: d.update(extra=1), id="unknown-field"),
    ],
)
def test_a_malformed_log_head_in_a_manifest_is_refused(org: Org, change: object) -> None:
    obj = _manifest(log_size=42, log_root=ROOT).sign(org.hanako.signing).to_json()
    change(obj["body"]["directory"])  # type: ignore[operator]
    with pytest.raises(EnvelopeError):
        SignedManifest.from_json(obj)


def test_a_changed_log_head_breaks_the_manifest_signature(org: Org) -> None:
    obj = _manifest(log_size=42, log_root=ROOT).sign(org.hanako.signing).to_json()
    obj["body"]["directory"]["log_size"] = 41
    with pytest.raises(EnvelopeError, match="signature"):
        SignedManifest.from_json(obj).verify(org.directory())


def test_half_a_log_head_cannot_be_built() -> None:
    with pytest.raises(EnvelopeError, match="both"):
        _manifest(log_size=42)
    with pytest.raises(EnvelopeError, match="both"):
        Receipt("a" * 22, TARO, "desktop", (), format_time(NOW), log_root=ROOT)


def test_a_receipts_log_head_round_trips_under_its_signature(org: Org) -> None:
    manifest = _manifest(log_size=42, log_root=ROOT)
    receipt = _receipt(manifest, org.taro, log_size=43, log_root=ROOT)
    assert receipt.to_json()["body"]["log_size"] == 43
    back = Receipt.from_json(receipt.to_json())
    assert back.log_head == (43, ROOT)
    back.verify(manifest, org.directory())
    older = Receipt.from_json(_receipt(manifest, org.taro).to_json())
    assert older.log_head is None
    older.verify(manifest, org.directory())  # verifies; the sender does not trust it


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda b: b.pop("log_root"), id="size-without-root"),
        pytest.param(lambda b: b.pop("log_size"), id="root-without-size"),
        pytest.param(lambda b: b.update(log_size=1.5), id="size-as-float"),
        pytest.param(lambda b: b.update(log_size=False), id="size-as-bool"),
        pytest.param(lambda b: b.update(log_root=b64u(b"\0" * 31)), id="short-root"),
        pytest.param(lambda b: b.update(extra=1), id="unknown-field"),
    ],
)
def test_a_malformed_log_head_in_a_receipt_is_refused(org: Org, change: object) -> None:
    manifest = _manifest(log_size=42, log_root=ROOT)
    obj = _receipt(manifest, org.taro, log_size=43, log_root=ROOT).to_json()
    change(obj["body"])  # type: ignore[operator]
    with pytest.raises(EnvelopeError):
        Receipt.from_json(obj)


def test_a_changed_log_head_breaks_the_receipt_signature(org: Org) -> None:
    manifest = _manifest(log_size=42, log_root=ROOT)
    obj = _receipt(manifest, org.taro, log_size=43, log_root=ROOT).to_json()
    obj["body"]["log_root"] = b64u(hashlib.sha256(b"another history").digest())
    with pytest.raises(EnvelopeError, match="signature"):
        Receipt.from_json(obj).verify(manifest, org.directory())


def test_my_number_counts_round_trip_under_the_signature(org: Org) -> None:
    """Issue 19: the sender's counts travel signed; a drop without My Numbers keeps the
    bytes it had before the field existed."""
    assert "specific_personal_info" not in _manifest().body()
    signed = _manifest(mynumber_files=2, mynumber_count=120).sign(org.hanako.signing)
    obj = signed.to_json()
    assert obj["body"]["specific_personal_info"] == {"files": 2, "numbers": 120}
    back = _round_trip(signed)
    assert back.manifest.contains_specific_personal_info
    assert (back.manifest.mynumber_files, back.manifest.mynumber_count) == (2, 120)
    back.verify(org.directory())
    obj["body"]["specific_personal_info"]["numbers"] = 119  # a server changing the count
    with pytest.raises(EnvelopeError, match="signature"):
        SignedManifest.from_json(obj).verify(org.directory())
    obj["body"].pop("specific_personal_info")  # or dropping it
    with pytest.raises(EnvelopeError, match="signature"):
        SignedManifest.from_json(obj).verify(org.directory())


@pytest.mark.parametrize(
    "value",
    [
        {"files": 0, "numbers": 0},
        {"files": 1, "numbers": 0},
        {"files": 3, "numbers": 2},
        {"files": 1, "numbers": True},
        {"files": "1", "numbers": 5},
        {"files": 1, "numbers": 10**9},
        {"files": 1},
        {"files": 1, "numbers": 5, "hash": "x"},
        [1, 5],
    ],
)
def test_malformed_my_number_counts_are_refused(org: Org, value: object) -> None:
    obj = _manifest(mynumber_files=1, mynumber_count=5).sign(org.hanako.signing).to_json()
    obj["body"]["specific_personal_info"] = value
    with pytest.raises(EnvelopeError):
        SignedManifest.from_json(obj)
