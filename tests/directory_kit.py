"""Helpers for the directory tests: a small organisation on disk, and bundle tampering.

The organisation (``テスト省``) has three people with Japanese names and one role
mailbox; two of the people have one enrolled device each. Everything is built
fresh under a test's ``tmp_path``: nothing here keeps state between tests.

Tamper helpers work on published bundle bytes. :func:`edit_entries` changes the
entry texts only (the signed header is left alone, so the entries no longer
match it); :func:`resign` also recomputes the Merkle root and count and signs a
new header with the home's real signing key, so that only the deliberately
broken part is wrong.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import nacl.signing

from secure_send.core.directory import canonical, merkle
from secure_send.core.directory.bundle import Bundle, Checkpoint
from secure_send.core.directory.enrol import DeviceKeys, EnrolmentRequest, make_request
from secure_send.core.directory.model import Device, Entry, Kind
from secure_send.core.directory.trust import RootDocument, SnapshotHeader, body_hash
from secure_send.core.directory.verify import VerifiedDirectory, verify_directory
from secure_send.core.encoding import format_time, parse_time, utc_now
from secure_send.org import ops
from secure_send.org.home import OrgHome
from secure_send.org.importing import ImportRow

ORG = "テスト省"
DOMAIN = "example.go.jp"
OPERATOR = "it-admin"
HANAKO = "hanako.sato"
TARO = "taro.suzuki"
JIRO = "jiro.takahashi"
ROLE = "kaikei"


def person_row(line: int, user: str, name_ja: str, kana: str, name_en: str, dept: str) -> ImportRow:
    """One person as an import row, with an ``example.go.jp`` address."""
    return ImportRow(line, user, "person", name_ja, kana, name_en, f"{user}@{DOMAIN}", dept, "主任")


def org_rows() -> list[ImportRow]:
    """Three people (one with the variant kanji 髙) and one role with two members."""
    return [
        person_row(2, HANAKO, "佐藤 花子", "サトウ ハナコ", "Hanako Sato", "会計課"),
        person_row(3, TARO, "鈴木 太郎", "スズキ タロウ", "Taro Suzuki", "人事課"),
        person_row(4, JIRO, "髙橋 次郎", "タカハシ ジロウ", "Jiro Takahashi", "総務課"),
        ImportRow(
            5,
            ROLE,
            "role",
            "会計課 窓口",
            "カイケイカ マドグチ",
            "Accounts desk",
            f"{ROLE}@{DOMAIN}",
            "会計課",
            "",
            (HANAKO, TARO),
        ),
    ]


def new_org(path: Path, *, devices: bool = True) -> OrgHome:
    """Initialise, import :func:`org_rows`, and (optionally) enrol one device each
    for Hanako (``laptop``) and Taro (``desktop``)."""
    home = OrgHome(path)
    ops.init(home, ORG, roots=3, threshold=2)
    ops.import_rows(home, org_rows(), OPERATOR)
    if devices:
        enrol_device(home, HANAKO, "laptop", "会計課の端末")
        enrol_device(home, TARO, "desktop", "人事課のデスクトップ")
    return home


def request_for(
    user: str, device_id: str, code: str | None, name: str = "端末", keys: DeviceKeys | None = None
) -> tuple[DeviceKeys, EnrolmentRequest]:
    """A device's enrolment request (made now), and the keys it was made with."""
    keys = keys or DeviceKeys.generate()
    return keys, make_request(keys, user, device_id, name, code, utc_now())


def enrol_device(home: OrgHome, user: str, device_id: str, name: str = "端末") -> DeviceKeys:
    """Enrol a device the normal way: issue a code, send a request with it."""
    code = ops.issue_code(home, user)
    keys, request = request_for(user, device_id, code, name)
    if not ops.accept_enrolment(home, request, OPERATOR):
        raise AssertionError("a request with a valid code was left pending")
    return keys


def bundle_bytes(home: OrgHome) -> bytes:
    """The published bundle as a client downloads it."""
    return home.bundle_file.read_bytes()


def verify(
    home: OrgHome,
    data: bytes | None = None,
    state: Checkpoint | None = None,
    *,
    proof: Sequence[bytes] = (),
    now: dt.datetime | None = None,
) -> VerifiedDirectory:
    """Verify ``data`` (default: the home's published bundle) as a client would."""
    return verify_directory(
        bundle_bytes(home) if data is None else data,
        home.anchor(),
        state,
        consistency_proof=proof,
        now=now or utc_now(),
    )


def refresh(home: OrgHome, state: Checkpoint) -> VerifiedDirectory:
    """Verify the current bundle after ``state``, with the home's consistency proof."""
    return verify(home, state=state, proof=home.consistency_proof(state.log_size))


def issued(data: bytes) -> dt.datetime:
    """When the snapshot in ``data`` was issued."""
    return parse_time(Bundle.from_bytes(data).header.issued)


# ---------------------------------------------------------------- tampering


def entry_texts(data: bytes) -> list[str]:
    """The entry texts of a bundle, in order."""
    return list(Bundle.from_bytes(data).entries)


def index_of(data: bytes, entry_id: str) -> int:
    """Position of the entry ``entry_id`` in the bundle."""
    ids = [json.loads(t)["id"] for t in entry_texts(data)]
    return ids.index(entry_id)


def edit_entries(data: bytes, change: Callable[[list[str]], list[str]]) -> bytes:
    """Re-serialise the bundle with its entry texts changed; the header stays as signed."""
    bundle = Bundle.from_bytes(data)
    return Bundle(bundle.roots, bundle.header, tuple(change(list(bundle.entries)))).to_bytes()


def replace_in_entry(data: bytes, entry_id: str, old: str, new: str) -> bytes:
    """Replace the first ``old`` in one entry's text by ``new`` (header untouched)."""
    at = index_of(data, entry_id)

    def change(texts: list[str]) -> list[str]:
        if old not in texts[at]:
            raise AssertionError(f"{old!r} not in entry {entry_id}")
        texts[at] = texts[at].replace(old, new, 1)
        return texts

    return edit_entries(data, change)


def entry_obj(data: bytes, entry_id: str) -> dict[str, Any]:
    """One entry of the bundle as a JSON object."""
    obj: dict[str, Any] = json.loads(entry_texts(data)[index_of(data, entry_id)])
    return obj


def canonical_text(obj: dict[str, Any]) -> str:
    """The canonical text of an entry object."""
    return canonical.dumps(obj).decode("utf-8")


def resign(
    data: bytes,
    key: nacl.signing.SigningKey,
    *,
    entries: Sequence[str] | None = None,
    roots: Sequence[RootDocument] | None = None,
    **header_changes: Any,
) -> bytes:
    """A bundle with new entries/roots/header fields, its Merkle root and count
    recomputed over the entries, and the header signed by ``key``."""
    bundle = Bundle.from_bytes(data)
    texts = tuple(bundle.entries if entries is None else entries)
    header = dataclasses.replace(
        bundle.header,
        entry_count=len(texts),
        entries_root=merkle.root(t.encode("utf-8") for t in texts),
        signature=b"",
        **header_changes,
    ).signed_by(key)
    return Bundle(tuple(bundle.roots if roots is None else roots), header, texts).to_bytes()


def with_entry(
    data: bytes, home: OrgHome, entry_id: str, obj: dict[str, Any], *, sign: bool = True
) -> bytes:
    """The bundle with one entry replaced by ``obj``: consistently re-signed with the
    home's signing key, or (``sign=False``) under the old header."""
    texts = entry_texts(data)
    texts[index_of(data, entry_id)] = canonical_text(obj)
    if not sign:
        return edit_entries(data, lambda _: texts)
    return resign(data, home.signing_key(), entries=texts)


def with_roots(data: bytes, roots: Sequence[RootDocument]) -> bytes:
    """The bundle with its root documents replaced (header untouched)."""
    bundle = Bundle.from_bytes(data)
    return Bundle(tuple(roots), bundle.header, bundle.entries).to_bytes()


def header_of(data: bytes) -> SnapshotHeader:
    """The bundle's snapshot header."""
    return Bundle.from_bytes(data).header


def next_root(
    home: OrgHome,
    previous: RootDocument,
    signing: nacl.signing.SigningKey,
    *,
    version: int | None = None,
    prev_hash: str | None = None,
    expires: dt.datetime | None = None,
) -> RootDocument:
    """A root document after ``previous`` naming ``signing``, signed by the home's
    root keys (2 of 3); version, previous hash and expiry can be made wrong."""
    now = utc_now()
    doc = RootDocument(
        org=previous.org,
        version=previous.version + 1 if version is None else version,
        issued=format_time(now),
        root_keys=previous.root_keys,
        threshold=previous.threshold,
        signing_key=bytes(signing.verify_key),
        signing_key_expires=format_time(expires or now + dt.timedelta(days=30)),
        previous=body_hash(previous.body()) if prev_hash is None else prev_hash,
    )
    return doc.signed_by(home.root_keys()[: previous.threshold])


def next_epoch(state: Checkpoint) -> dict[str, Any]:
    """Header fields of a snapshot that directly follows ``state`` (same log)."""
    return {"epoch": state.epoch + 1, "previous": state.header_hash}


def seconds_before(when: str, seconds: int) -> str:
    """A stored time ``seconds`` earlier (negative: later)."""
    return format_time(parse_time(when) - dt.timedelta(seconds=seconds))


ROOT_VARIANTS = (
    "one-of-two",
    "one-plus-unpinned",
    "same-key-twice",
    "signature-under-wrong-key",
    "none",
    "attacker-root-keys",
)


def root_variant(home: OrgHome, variant: str) -> RootDocument:
    """The home's root document with too few valid signatures by pinned keys
    (2 of 3 are needed); see :data:`ROOT_VARIANTS`."""
    root = home.current_root()
    (k1, s1), (k2, _) = root.signatures[:2]
    stranger = nacl.signing.SigningKey.generate()
    unsigned = dataclasses.replace(root, signatures=())
    one = dataclasses.replace(root, signatures=((k1, s1),))
    variants = {
        "one-of-two": one,
        "one-plus-unpinned": one.signed_by([stranger]),
        "same-key-twice": dataclasses.replace(root, signatures=((k1, s1), (k1, s1))),
        "signature-under-wrong-key": dataclasses.replace(root, signatures=((k1, s1), (k2, s1))),
        "none": unsigned,
        "attacker-root-keys": dataclasses.replace(
            unsigned, root_keys=(bytes(stranger.verify_key),), threshold=1
        ).signed_by([stranger]),
    }
    return variants[variant]


def rewrite_event(home: OrgHome, seq: int, change: Callable[[dict[str, Any]], None]) -> None:
    """Rewrite one past event in the home's log file (canonically), as a forger would."""
    lines = home.log_file.read_bytes().splitlines()
    obj = json.loads(lines[seq])
    change(obj)
    lines[seq] = canonical.dumps(obj)
    home.log_file.write_bytes(b"".join(line + b"\n" for line in lines))


def device_of(entry: Entry, device_id: str) -> Device:
    """One device of an entry."""
    return next(d for d in entry.devices if d.id == device_id)


def people(entries: Sequence[Entry]) -> set[str]:
    """Ids of the person entries."""
    return {e.id for e in entries if e.kind is Kind.PERSON}
