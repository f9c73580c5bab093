"""The fast entry recogniser is sound: it accepts nothing the strict parser refuses.

``entry_scan.parse`` must give, for every text, exactly the verdict of the strict
path (canonical JSON + ``Entry.from_json``): the same entry, or an error. The
mutation test edits valid entries one character at a time (seeded, so a failure
reproduces) and compares the two; the named cases are the rules a pattern cannot
say, each checked after the match (delete one of those checks and its case fails).
"""

from __future__ import annotations

import random

import nacl.signing
import pytest

from secure_send.core.directory import canonical, entry_scan, merkle
from secure_send.core.directory.model import (
    Device,
    Entry,
    EntryError,
    Kind,
    Status,
    device_key_message,
    device_p256_message,
)
from secure_send.core.encoding import b64u, unb64u

_ALPHABET = 'aA0_-"\\{}[],:.@ 髙\x00\x7f\u2028=+/\n'


def _device(
    user: str, device_id: str = "pc1", revoked: str | None = None, p256: bool = False
) -> Device:
    key = nacl.signing.SigningKey(bytes(range(32)))
    enc = bytes(range(32, 64))
    sig = key.sign(device_key_message(user, device_id, enc)).signature
    when = "2026-04-01T09:00:00Z"
    point = bytes([4, *range(64, 128)]) if p256 else None  # the form only (on-curve: at use)
    point_sig = key.sign(device_p256_message(user, device_id, point)).signature if point else None
    return Device(
        device_id, "人事課の PC", bytes(key.verify_key), enc, sig, when, revoked, point, point_sig
    )


def _entries() -> list[Entry]:
    person = Entry(
        "taro.suzuki", Kind.PERSON, "鈴木 太郎", "スズキ タロウ", "Taro Suzuki",
        "taro.suzuki@example.go.jp", "人事課", "係長",
        devices=(_device("taro.suzuki"), _device("taro.suzuki", "pc2", "2026-05-01T09:00:00Z")),
    )  # fmt: skip
    quoted = Entry(
        "a.b-c_d", Kind.PERSON, 'say "hi" \\ 髙橋', "", "", "x+y%z@sub.example.go.jp",
        "総務課", "", Status.DEPARTED,
    )  # fmt: skip
    role = Entry(
        "kaikei", Kind.ROLE, "会計課 窓口", "カイケイカ", "Accounts", "kaikei@example.go.jp",
        "会計課", members=("hanako.sato", "taro.suzuki"),
    )  # fmt: skip
    designated = Entry(
        "nenmatsu", Kind.ROLE, "年末調整受付", "", "", "nenmatsu@example.go.jp", "人事課",
        members=("taro.suzuki",), mynumber_handler=True,
    )  # fmt: skip
    approved = Entry(  # 上長承認 (issue 20): Taro approves; the key sorts first
        "hanako.sato", Kind.PERSON, "佐藤 花子", "サトウ ハナコ", "Hanako Sato",
        "hanako.sato@example.go.jp", "会計課", "主任", approver="taro.suzuki",
        devices=(_device("hanako.sato", p256=True),),  # issue 21: a P-256 key
    )  # fmt: skip
    return [person, quoted, role, designated, approved]


# The Merkle root of the first four entries above, computed by the code of issue 19
# (commit 06ec9fe, before the approver existed): entries without one keep their bytes.
_ROOT_BEFORE_APPROVERS = "6f15c335bc27428ac6801ec4809cd9ccc014b3912f3bac0e0b48d1defbd78ed0"


def _strict(text: str) -> Entry | None:
    try:
        return Entry.from_json(canonical.loads(text.encode("utf-8")))
    except (EntryError, canonical.CanonicalError, UnicodeEncodeError):
        return None


def _scanned(text: str) -> Entry | None:
    try:
        return entry_scan.parse([text])[0]
    except (EntryError, UnicodeEncodeError):
        return None


def test_valid_entries_take_the_fast_path_and_equal_the_strict_parse() -> None:
    for entry in _entries():
        text = entry.canonical_bytes().decode()
        assert entry_scan.ENTRY.fullmatch(text), text  # recognised, not just accepted
        assert entry_scan.parse([text]) == [entry] == [_strict(text)]


def test_the_designated_handler_flag_is_true_or_absent() -> None:
    """個人番号取扱: an entry without it keeps the bytes it had before the attribute
    existed; ``false`` is not a second way to say "not designated"."""
    plain, designated = _entries()[2], _entries()[3]
    assert "mynumber_handler" not in plain.canonical_bytes().decode()
    text = designated.canonical_bytes().decode()
    assert '"mynumber_handler":true' in text
    assert entry_scan.parse([text])[0].mynumber_handler is True
    assert _strict(text) == designated
    for wrong in ("false", '"yes"', "1"):
        edited = text.replace('"mynumber_handler":true', f'"mynumber_handler":{wrong}')
        assert _strict(edited) is None
        assert _scanned(edited) is None


def test_entries_without_an_approver_keep_their_bytes() -> None:
    plain = _entries()[:4]
    assert all('"approver"' not in e.canonical_bytes().decode() for e in plain)
    root = merkle.root([e.canonical_bytes() for e in plain])
    assert root.hex() == _ROOT_BEFORE_APPROVERS


def test_the_approver_is_an_id_or_absent_and_both_parsers_agree() -> None:
    approved = _entries()[4]
    text = approved.canonical_bytes().decode()
    assert text.startswith('{"approver":"taro.suzuki","department":')  # sorted first
    assert entry_scan.ENTRY.fullmatch(text)  # the fast path, not the fallback
    assert entry_scan.parse([text]) == [approved] == [_strict(text)]
    for wrong in ('"Taro"', '""', "null", "1", '["taro.suzuki"]', '"hanako.sato"'):
        edited = text.replace('"approver":"taro.suzuki"', f'"approver":{wrong}')
        assert _strict(edited) is None, wrong  # hanako.sato: nobody approves for themselves
        assert _scanned(edited) is None, wrong
    role = _entries()[2].to_json()  # a role mailbox has none: the pattern alone takes it
    on_role = canonical.dumps({**role, "approver": "taro.suzuki"}).decode()
    assert entry_scan.ENTRY.fullmatch(on_role)
    assert _strict(on_role) is None
    assert _scanned(on_role) is None


def test_one_character_edits_get_the_strict_verdict() -> None:
    rng = random.Random(1234)  # noqa: S311 - reproducible edits, not keys
    accepted = refused = 0
    for _ in range(4000):
        text = rng.choice(_entries()).canonical_bytes().decode()
        i = rng.randrange(len(text) + 1)
        op = rng.randrange(3)
        c = rng.choice(_ALPHABET)
        edited = text[:i] + c + text[i + (op == 0) :] if op < 2 else text[:i] + text[i + 1 :]
        want = _strict(edited)
        assert _scanned(edited) == want, edited
        if want is None:
            refused += 1
        elif entry_scan.ENTRY.fullmatch(edited):
            accepted += 1
    # both verdicts were exercised on the fast path
    assert accepted > 100
    assert refused > 1000


@pytest.mark.parametrize(
    "edit",
    [
        ('"name_ja":"鈴木 太郎"', '"name_ja":"   "'),  # required, only spaces
        ('"department":"人事課"', '"department":" "'),
        ('"enrolled":"2026-04-01T09:00:00Z"', '"enrolled":"2026-02-30T09:00:00Z"'),  # no such day
        ('"revoked":"2026-05-01T09:00:00Z"', '"revoked":"2026-05-01T24:00:00Z"'),
        ('"id":"pc2"', '"id":"pc1"'),  # two devices with one id
        ('"members":[]', '"members":["hanako.sato"]'),  # a person with members
    ],
)
def test_rules_a_pattern_cannot_say_are_still_enforced(edit: tuple[str, str]) -> None:
    text = _entries()[0].canonical_bytes().decode()
    assert edit[0] in text
    edited = text.replace(edit[0], edit[1], 1)
    assert entry_scan.ENTRY.fullmatch(edited)  # the pattern alone would take it
    with pytest.raises(EntryError):
        entry_scan.parse([edited])


def test_a_role_with_a_device_or_a_member_twice_is_refused() -> None:
    role = _entries()[2]
    for bad in (
        role.with_changes(devices=(_device("kaikei"),)),
        role.with_changes(members=("hanako.sato", "hanako.sato")),
    ):
        text = canonical.dumps(bad.to_json()).decode()
        assert entry_scan.ENTRY.fullmatch(text)
        with pytest.raises(EntryError):
            entry_scan.parse([text])


def test_non_canonical_keys_are_refused_by_the_strict_path() -> None:
    text = _entries()[0].canonical_bytes().decode()
    sign = b64u(bytes(nacl.signing.SigningKey(bytes(range(32))).verify_key))
    # The same key with its unused low bits set decodes to the same bytes: not canonical.
    last = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".index(sign[-1])
    twin = sign[:-1] + "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[last | 1]
    edited = text.replace(sign, twin)
    assert edited != text
    assert not entry_scan.ENTRY.fullmatch(edited)
    with pytest.raises(EntryError):
        entry_scan.parse([edited])


@pytest.mark.parametrize(
    ("field", "at_limit", "over"),
    [
        ("id", "a" * 64, "a" * 65),
        ("name_ja", "髙" * 200, "髙" * 201),
        ("title", '"' * 200, '"' * 201),  # an escape counts as one character
        ("email", "a" * 186 + "@example.go.jp", "a" * 187 + "@example.go.jp"),
    ],
)
def test_length_limits_agree(field: str, at_limit: str, over: str) -> None:
    base = _entries()[1]
    ok = canonical.dumps({**base.to_json(), field: at_limit}).decode()
    bad = canonical.dumps({**base.to_json(), field: over}).decode()
    assert entry_scan.ENTRY.fullmatch(ok)
    assert entry_scan.parse([ok]) == [_strict(ok)]
    assert _strict(bad) is None
    assert _scanned(bad) is None


# ---------------------------------------------------------------- red team, issue 21


def _p256_text() -> str:
    text = _entries()[4].canonical_bytes().decode()
    assert '"p256_key":"' in text
    assert entry_scan.ENTRY.fullmatch(text)
    return text


def _point_field(text: str) -> str:
    start = text.index('"p256_key":"') + len('"p256_key":"')
    return text[start : text.index('"', start)]


@pytest.mark.parametrize("prefix", [0x00, 0x02, 0x03, 0x05, 0x06, 0x07, 0x14, 0x44, 0xFF])
def test_a_p256_point_with_another_prefix_byte_gets_the_strict_verdict(prefix: int) -> None:
    """0x05, 0x06 and 0x07 also encode to a leading "B" in base64url (the first
    character holds only six of the prefix byte's bits): the pattern once took them,
    which the strict parser refuses (only 0x04, uncompressed)."""
    text = _p256_text()
    point = _point_field(text)
    raw = bytes([prefix]) + unb64u(point, 65)[1:]
    edited = text.replace(point, b64u(raw))
    assert _strict(edited) is None
    assert _scanned(edited) is None


@pytest.mark.parametrize(
    "edit",
    [
        "key-only",
        "sig-only",
        "point-64",
        "point-66",
        "point-33",
        "sig-63",
        "sig-65",
        "non-canonical-point",
        "after-revoked",
    ],
)
def test_p256_field_mutations_get_the_strict_verdict(edit: str) -> None:
    text = _p256_text()
    point = _point_field(text)
    raw = unb64u(point, 65)
    obj = canonical.loads(text.encode())
    device = obj["devices"][0]
    if edit == "key-only":
        del device["p256_key_sig"]
    elif edit == "sig-only":
        del device["p256_key"]
    elif edit == "point-64":
        device["p256_key"] = b64u(raw[:64])
    elif edit == "point-66":
        device["p256_key"] = b64u(raw + b"\x00")
    elif edit == "point-33":
        device["p256_key"] = b64u(b"\x02" + raw[1:33])  # compressed form
    elif edit == "sig-63":
        device["p256_key_sig"] = b64u(unb64u(device["p256_key_sig"], 64)[:63])
    elif edit == "sig-65":
        device["p256_key_sig"] = b64u(unb64u(device["p256_key_sig"], 64) + b"\x00")
    elif edit == "non-canonical-point":  # unused low bits of the last character set
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        device["p256_key"] = point[:-1] + alphabet[alphabet.index(point[-1]) | 1]
    else:  # revoked sorts after p256_key: both present keep canonical order
        device["revoked"] = "2026-05-01T09:00:00Z"
    edited = canonical.dumps(obj).decode()
    assert edited != text
    assert _scanned(edited) == _strict(edited)
    if edit == "after-revoked":
        assert entry_scan.ENTRY.fullmatch(edited)
        assert _strict(edited) is not None
    else:
        assert _strict(edited) is None


def test_one_character_edits_of_the_p256_fields_get_the_strict_verdict() -> None:
    """Every position of the point and its signature, every base64url character."""
    text = _p256_text()
    point_at = text.index('"p256_key":"') + len('"p256_key":"')
    sig_at = text.index('"p256_key_sig":"') + len('"p256_key_sig":"')
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    rng = random.Random(21)  # noqa: S311 - reproducible edits, not keys
    positions = [point_at, point_at + 1, point_at + 86, sig_at, sig_at + 85]
    positions += [rng.randrange(point_at, point_at + 87) for _ in range(10)]
    for i in positions:
        for c in alphabet:
            edited = text[:i] + c + text[i + 1 :]
            assert _scanned(edited) == _strict(edited), (i - point_at, c)
