"""Client verification of the directory: every tamper and attack fails with its own error.

Each attack is built so that only the part under test is wrong (a tampered
entry is re-signed consistently when the check under test lies behind the
signature), and each failure is asserted with its exact class from errors.py.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import shutil
from pathlib import Path

import nacl.public
import nacl.signing
import pytest

from secure_send.core.directory.bundle import Bundle, Checkpoint
from secure_send.core.directory.errors import (
    DeviceKeyError,
    EntriesMismatchError,
    EntryOrderError,
    ForkError,
    HeaderSignatureError,
    RollbackError,
    RootRollbackError,
    RootSignatureError,
    SigningKeyError,
    StaleDirectoryError,
)
from secure_send.core.directory.log import Action
from secure_send.core.directory.trust import RootDocument, body_hash
from secure_send.core.encoding import b64u, format_time, parse_time, utc_now
from secure_send.org import ops
from secure_send.org.home import OrgHome
from tests.directory_kit import (
    HANAKO,
    JIRO,
    OPERATOR,
    ROLE,
    ROOT_VARIANTS,
    TARO,
    bundle_bytes,
    canonical_text,
    edit_entries,
    entry_obj,
    entry_texts,
    header_of,
    issued,
    new_org,
    next_epoch,
    next_root,
    org_rows,
    refresh,
    replace_in_entry,
    resign,
    rewrite_event,
    root_variant,
    seconds_before,
    verify,
    with_entry,
    with_roots,
)


@pytest.fixture
def home(tmp_path: Path) -> OrgHome:
    return new_org(tmp_path / "org")


def _republish(home: OrgHome) -> bytes:
    """A newer snapshot (Jiro departs) and its bytes."""
    ops.change(home, OPERATOR, Action.DEPART, {"user": JIRO})
    return bundle_bytes(home)


# ---------------------------------------------------------------- the good path


def test_verified_directory_has_every_entry_with_devices(home: OrgHome) -> None:
    result = verify(home)
    by_id = result.by_id()
    assert sorted(by_id) == sorted(r.id for r in org_rows())
    assert by_id["hanako.sato"].name_ja == "佐藤 花子"
    assert by_id[JIRO].name_ja == "髙橋 次郎"
    assert by_id[ROLE].members == (HANAKO, TARO)
    assert [d.id for d in by_id[HANAKO].devices] == ["laptop"]
    assert [d.id for d in by_id[TARO].devices] == ["desktop"]
    header = header_of(bundle_bytes(home))
    assert result.checkpoint.epoch == header.epoch
    assert result.checkpoint.log_size == len(home.events())
    assert result.checkpoint.header_hash == body_hash(header.body())


def test_each_persons_role_mailboxes_are_looked_up_without_a_scan(home: OrgHome) -> None:
    result = verify(home)
    roles = result.roles_of_member()
    assert roles[HANAKO] == (ROLE,)
    assert roles[TARO] == (ROLE,)
    assert JIRO not in roles
    assert result.roles_of_member() is roles  # built once per verified directory


def test_checkpoint_round_trips_through_json(home: OrgHome) -> None:
    checkpoint = verify(home).checkpoint
    assert Checkpoint.from_json(json.loads(json.dumps(checkpoint.to_json()))) == checkpoint


def test_same_snapshot_twice_with_its_own_checkpoint_is_accepted(home: OrgHome) -> None:
    first = verify(home)
    again = verify(home, state=first.checkpoint)
    assert again.checkpoint == first.checkpoint
    assert again.entries == first.entries


def test_successive_snapshots_are_accepted_with_consistency_proofs(home: OrgHome) -> None:
    checkpoint = verify(home).checkpoint
    _republish(home)
    newer = refresh(home, checkpoint)
    assert newer.checkpoint.epoch == checkpoint.epoch + 1
    assert newer.checkpoint.log_size == checkpoint.log_size + 1
    assert not newer.by_id()[JIRO].active


# ---------------------------------------------------------------- entries


def test_one_changed_name_character_mismatches_the_merkle_root(home: OrgHome) -> None:
    data = replace_in_entry(bundle_bytes(home), HANAKO, "花子", "華子")
    Bundle.from_bytes(data)  # still well-formed, still canonical: only the root can tell
    with pytest.raises(EntriesMismatchError):
        verify(home, data)


def test_substituted_enc_key_without_resigning_mismatches_the_root(home: OrgHome) -> None:
    data = bundle_bytes(home)
    obj = entry_obj(data, HANAKO)
    obj["devices"][0]["enc_key"] = b64u(bytes(nacl.public.PrivateKey.generate().public_key))
    with pytest.raises(EntriesMismatchError):
        verify(home, with_entry(data, home, HANAKO, obj, sign=False))


def test_dropped_entry_mismatches_the_count(home: OrgHome) -> None:
    data = edit_entries(bundle_bytes(home), lambda t: [x for x in t if f'"id":"{JIRO}"' not in x])
    assert len(entry_texts(data)) == len(org_rows()) - 1
    with pytest.raises(EntriesMismatchError):
        verify(home, data)


def test_swapped_in_entry_with_the_right_count_mismatches_the_root(home: OrgHome) -> None:
    data = bundle_bytes(home)
    forged = {**entry_obj(data, JIRO), "id": "jiro.takahashj", "email": "x@example.go.jp"}
    texts = [canonical_text(forged) if f'"id":"{JIRO}"' in t else t for t in entry_texts(data)]
    tampered = edit_entries(data, lambda _: texts)
    with pytest.raises(EntriesMismatchError):
        verify(home, tampered)


def test_reordered_entries_are_refused(home: OrgHome) -> None:
    data = edit_entries(bundle_bytes(home), lambda t: [t[1], t[0], *t[2:]])
    with pytest.raises(EntryOrderError):
        verify(home, data)


def test_duplicated_entry_is_refused(home: OrgHome) -> None:
    data = edit_entries(bundle_bytes(home), lambda t: [t[0], t[0], *t[1:]])
    with pytest.raises(EntryOrderError):
        verify(home, data)


@pytest.mark.parametrize(
    "rewrite",
    [
        pytest.param(lambda t: t.replace('"kind":', '"kind": ', 1), id="extra-space"),
        pytest.param(lambda t: t + " ", id="trailing-space"),
        pytest.param(
            lambda t: json.dumps(json.loads(t), separators=(",", ":"), sort_keys=True),
            id="ascii-escapes",
        ),
        pytest.param(
            lambda t: json.dumps(dict(reversed(json.loads(t).items())), ensure_ascii=False),
            id="unsorted-keys",
        ),
    ],
)
def test_non_canonical_entry_text_is_refused(home: OrgHome, rewrite: object) -> None:
    assert callable(rewrite)
    data = edit_entries(bundle_bytes(home), lambda t: [rewrite(t[0]), *t[1:]])
    assert entry_texts(data)[0] != entry_texts(bundle_bytes(home))[0]
    with pytest.raises(EntryOrderError):
        verify(home, data)


def test_role_listing_a_role_is_refused_even_when_signed(home: OrgHome) -> None:
    data = bundle_bytes(home)
    role = {**entry_obj(data, ROLE), "members": [HANAKO, ROLE]}
    with pytest.raises(EntriesMismatchError):
        verify(home, with_entry(data, home, ROLE, role))


def test_resigning_an_untouched_bundle_still_verifies(home: OrgHome) -> None:
    """The control for the re-signed attacks below: the helper itself is sound."""
    data = bundle_bytes(home)
    assert verify(home, resign(data, home.signing_key())).by_id()[HANAKO].devices


@pytest.mark.parametrize("swap", ["random-enc-key", "other-device-enc-key", "both-keys"])
def test_device_key_not_signed_by_its_own_signing_key(home: OrgHome, swap: str) -> None:
    data = bundle_bytes(home)
    obj = entry_obj(data, HANAKO)
    device, taro_device = obj["devices"][0], entry_obj(data, TARO)["devices"][0]
    if swap == "random-enc-key":
        device["enc_key"] = b64u(bytes(nacl.public.PrivateKey.generate().public_key))
    elif swap == "other-device-enc-key":
        device["enc_key"] = taro_device["enc_key"]
    else:  # Taro's key pair, with Hanako's binding signature left in place
        device["enc_key"], device["sign_key"] = taro_device["enc_key"], taro_device["sign_key"]
    with pytest.raises(DeviceKeyError):
        verify(home, with_entry(data, home, HANAKO, obj))


# ---------------------------------------------------------------- header and freshness


def test_header_signed_by_another_key(home: OrgHome) -> None:
    data = resign(bundle_bytes(home), nacl.signing.SigningKey.generate())
    with pytest.raises(HeaderSignatureError):
        verify(home, data)


def test_header_with_a_flipped_signature_bit(home: OrgHome) -> None:
    bundle = Bundle.from_bytes(bundle_bytes(home))
    sig = bytes([bundle.header.signature[0] ^ 1]) + bundle.header.signature[1:]
    header = dataclasses.replace(bundle.header, signature=sig)
    with pytest.raises(HeaderSignatureError):
        verify(home, dataclasses.replace(bundle, header=header).to_bytes())


def test_header_naming_another_root_version(home: OrgHome) -> None:
    data = resign(bundle_bytes(home), home.signing_key(), root_version=2)
    with pytest.raises(SigningKeyError):
        verify(home, data)


def test_expired_snapshot_is_stale(home: OrgHome) -> None:
    expires = parse_time(header_of(bundle_bytes(home)).expires)
    verify(home, now=expires - dt.timedelta(seconds=1))
    for late in (expires, expires + dt.timedelta(days=3)):
        with pytest.raises(StaleDirectoryError):
            verify(home, now=late)


def test_header_from_the_future_is_stale(home: OrgHome) -> None:
    when = issued(bundle_bytes(home))
    verify(home, now=when - dt.timedelta(minutes=4))  # within the allowed clock skew
    with pytest.raises(StaleDirectoryError):
        verify(home, now=when - dt.timedelta(minutes=6))


def test_signing_key_expired_at_verification_time(home: OrgHome) -> None:
    expires = parse_time(home.current_root().signing_key_expires)
    with pytest.raises(SigningKeyError):
        verify(home, now=expires + dt.timedelta(hours=1))


def test_header_issued_after_the_signing_key_expired(home: OrgHome) -> None:
    """A root document (properly signed 2-of-3) whose signing key expired before the
    snapshot was issued: the snapshot must not be trusted, even if still fresh."""
    data = bundle_bytes(home)
    expired = seconds_before(header_of(data).issued, 1)
    short = dataclasses.replace(
        home.current_root(), signing_key_expires=expired, signatures=()
    ).signed_by(home.root_keys()[:2])
    with pytest.raises(SigningKeyError):
        verify(home, with_roots(data, [short]), now=issued(data))


# ---------------------------------------------------------------- root documents


@pytest.mark.parametrize("variant", ROOT_VARIANTS)
def test_root_document_below_threshold_of_pinned_keys(home: OrgHome, variant: str) -> None:
    data = with_roots(bundle_bytes(home), [root_variant(home, variant)])
    with pytest.raises(RootSignatureError):
        verify(home, data)


def test_rotation_is_accepted_by_a_client_holding_the_old_checkpoint(home: OrgHome) -> None:
    old = verify(home).checkpoint
    old_key = home.signing_key()
    new_root = ops.rotate_signing_key(home, OPERATOR)
    result = refresh(home, old)
    assert result.checkpoint.root == new_root
    assert result.checkpoint.root.version == old.root.version + 1
    assert result.checkpoint.root.signing_key != bytes(old_key.verify_key)
    assert verify(home).checkpoint.root == new_root  # and on first use


def test_after_rotation_the_old_root_and_key_are_refused(home: OrgHome) -> None:
    old_data = bundle_bytes(home)
    old_key = home.signing_key()
    ops.rotate_signing_key(home, OPERATOR)
    current = verify(home).checkpoint
    with pytest.raises(RootRollbackError):  # a snapshot under the previous root document
        verify(home, old_data, state=current)
    forged = resign(bundle_bytes(home), old_key)  # the retired key signs under root v2
    with pytest.raises(HeaderSignatureError):
        verify(home, forged)


def test_crafted_next_root_is_accepted_when_it_chains(home: OrgHome) -> None:
    """Control for the chain attacks: :func:`next_root` builds a valid step."""
    data, state = bundle_bytes(home), verify(home).checkpoint
    signing = nacl.signing.SigningKey.generate()
    step = next_root(home, home.current_root(), signing)
    good = resign(
        data, signing, roots=[home.current_root(), step], root_version=2, **next_epoch(state)
    )
    assert verify(home, good, state=state).checkpoint.root == step


@pytest.mark.parametrize("fault", ["gap", "wrong-previous", "two-version-2s"])
def test_broken_root_chain_is_refused(home: OrgHome, fault: str) -> None:
    data, state = bundle_bytes(home), verify(home).checkpoint
    root = home.current_root()
    signing = nacl.signing.SigningKey.generate()
    if fault == "gap":
        roots = [root, next_root(home, root, signing, version=3)]
    elif fault == "wrong-previous":
        roots = [root, next_root(home, root, signing, prev_hash=b64u(bytes(32)))]
    else:
        other = nacl.signing.SigningKey.generate()
        roots = [root, next_root(home, root, signing), next_root(home, root, other)]
    tampered = resign(
        data, signing, roots=roots, root_version=roots[1].version, **next_epoch(state)
    )
    with pytest.raises(RootRollbackError):
        verify(home, tampered, state=state)
    with pytest.raises(RootRollbackError):
        verify(home, tampered)  # first use follows the chain from the pinned root too


def _one_key_root(home: OrgHome, signing: nacl.signing.SigningKey, *, step: bool) -> RootDocument:
    """A root document that lists only the first pinned root key, threshold 1, signed by
    that key alone: what someone holding one of the three root keys can make. ``step``:
    as version 2 chaining to the real root; otherwise in place of version 1."""
    root = home.current_root()
    held = home.root_keys()[0]
    doc = dataclasses.replace(
        root,
        version=root.version + 1 if step else root.version,
        issued=format_time(utc_now()),
        root_keys=(bytes(held.verify_key),),
        threshold=1,
        signing_key=bytes(signing.verify_key),
        previous=body_hash(root.body()) if step else root.previous,
        signatures=(),
    )
    return doc.signed_by([held])


@pytest.mark.parametrize("how", ["in-place-of-version-1", "as-version-2"])
def test_one_root_key_alone_cannot_publish_a_root_naming_only_itself(
    home: OrgHome, how: str
) -> None:
    """Issue 14, item 19: 2 of 3 pinned keys are needed; a root document that lowers the
    threshold to 1 over the one key its author holds does not count on its own say-so."""
    data, state = bundle_bytes(home), verify(home).checkpoint
    signing = nacl.signing.SigningKey.generate()
    if how == "in-place-of-version-1":
        roots = [_one_key_root(home, signing, step=False)]
    else:
        roots = [home.current_root(), _one_key_root(home, signing, step=True)]
    forged = resign(data, signing, roots=roots, root_version=roots[-1].version, **next_epoch(state))
    with pytest.raises(RootSignatureError):
        verify(home, forged)  # first use: only the pinned anchor decides
    with pytest.raises((RootSignatureError, RootRollbackError)):
        verify(home, forged, state=state)  # after a checkpoint: the trusted root decides


# ---------------------------------------------------------------- rollback and forks


def test_old_snapshot_replayed_after_a_newer_one(home: OrgHome) -> None:
    old_data, first = bundle_bytes(home), verify(home).checkpoint
    _republish(home)
    newer = refresh(home, first).checkpoint
    with pytest.raises(RollbackError):
        verify(home, old_data, state=newer)


def test_different_snapshot_with_the_same_epoch_is_refused(home: OrgHome) -> None:
    data, state = bundle_bytes(home), verify(home).checkpoint
    header = header_of(data)
    later = seconds_before(header.expires, -3600)
    twin = resign(data, home.signing_key(), expires=later)
    assert header_of(twin).epoch == state.epoch
    with pytest.raises(RollbackError):
        verify(home, twin, state=state)


def test_next_epoch_not_chaining_to_the_previous_header(home: OrgHome) -> None:
    state = verify(home).checkpoint
    data = _republish(home)
    broken = resign(data, home.signing_key(), previous=b64u(bytes(32)))
    with pytest.raises(ForkError):
        verify(home, broken, state=state, proof=home.consistency_proof(state.log_size))


def test_forked_log_is_detected(home: OrgHome, tmp_path: Path) -> None:
    """History rewritten under the same keys: neither the forger's own proof nor the
    honest log's proof makes the forked snapshot consistent with the checkpoint."""
    state = verify(home).checkpoint
    honest = OrgHome(tmp_path / "honest")
    shutil.copytree(home.path, honest.path)
    _republish(honest)
    assert refresh(honest, state).checkpoint.log_size == state.log_size + 1  # control

    def rename(event: dict[str, object]) -> None:
        data = event["data"]
        assert isinstance(data, dict)
        data["entry"]["name_ja"] = "佐藤 華子"

    seq = next(e.seq for e in home.events() if e.data.get("entry", {}).get("id") == HANAKO)
    rewrite_event(home, seq, rename)
    home.publish()  # the rewritten history at the same log size: sizes equal, roots differ
    with pytest.raises(ForkError):
        verify(home, state=state, proof=home.consistency_proof(state.log_size))
    forked = _republish(home)
    assert header_of(forked).log_size == header_of(bundle_bytes(honest)).log_size
    for proof in (home.consistency_proof(state.log_size), honest.consistency_proof(state.log_size)):
        with pytest.raises(ForkError):
            verify(home, forked, state=state, proof=proof)


def test_truncated_log_is_a_rollback(home: OrgHome) -> None:
    """The newest events (Taro's enrolment) dropped from the log, then a fresh,
    properly chained and signed snapshot: the log shrank."""
    state = verify(home).checkpoint
    lines = home.log_file.read_bytes().splitlines(keepends=True)
    home.log_file.write_bytes(b"".join(lines[:-1]))
    assert home.publish().header.log_size == state.log_size - 1
    with pytest.raises(RollbackError):
        verify(home, state=state)


# ---------------------------------------------------------------- nothing partially trusted


def test_failed_verification_leaves_the_checkpoint_untouched(home: OrgHome) -> None:
    state = verify(home).checkpoint
    before = json.dumps(state.to_json(), sort_keys=True)
    copy = dataclasses.replace(state)
    _republish(home)
    with pytest.raises(ForkError):
        verify(home, state=state, proof=())  # no proof: cannot show the log extends
    tampered = replace_in_entry(bundle_bytes(home), HANAKO, "花子", "華子")
    with pytest.raises(EntriesMismatchError):
        verify(home, tampered, state=state, proof=home.consistency_proof(state.log_size))
    assert state == copy
    assert json.dumps(state.to_json(), sort_keys=True) == before
    with pytest.raises(dataclasses.FrozenInstanceError):
        state.epoch = 99  # type: ignore[misc]
    assert refresh(home, state).checkpoint.epoch == state.epoch + 1
