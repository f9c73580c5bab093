"""Parse a directory's entry texts fast, without loosening a single rule.

A client's cold load of 100,000 entries spent ~3 s in ``json.loads``, a canonical
re-serialisation and :meth:`Entry.from_json`'s field-by-field checks. Almost every
entry has one shape, so one compiled pattern (:data:`ENTRY`, built from the same
constants the strict parser uses) recognises the canonical text of a valid entry
and extracts its fields in a single C-speed pass. The pattern is *sound, not
complete*: a text it accepts is canonical and valid in every rule of
:meth:`Entry.from_json` (the few rules a pattern cannot say — a required field that
is only spaces, a real calendar date, unique device ids — are checked here after
the match); a text it does not recognise goes to the strict parser, which is the
authority: it names the problem, or accepts an entry the pattern is too narrow for
(``tests/core/directory/test_entry_scan.py`` checks both directions on mutated entries).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from secure_send.core.directory import canonical
from secure_send.core.directory.model import (
    MAX_TEXT,
    Device,
    Entry,
    EntryError,
    Kind,
    Status,
    b64_validated,
)
from secure_send.core.encoding import EncodingError, parse_time

# A JSON string as canonical JSON writes it, holding no control character (which
# Entry's text fields refuse): raw characters, or the escapes \" and \\ only.
_TEXT = r'"((?:[^"\\\x00-\x1f\x7f-\x9f]|\\["\\]){0,' + str(MAX_TEXT) + r'})"'
_ID = r'"([a-z0-9][a-z0-9._-]{0,63})"'  # model.ID_PATTERN
_ID_ANON = r'"[a-z0-9][a-z0-9._-]{0,63}"'
_EMAIL = (  # model.EMAIL_PATTERN, at most MAX_TEXT characters
    r'"((?=[^"]{1,' + str(MAX_TEXT) + r'}")[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)"'
)
# Canonical unpadded base64url of 32 and 64 bytes: the bits the last character
# carries beyond the data must be zero (see encoding.unb64u).
_KEY32 = r'"([A-Za-z0-9_-]{42}[AEIMQUYcgkosw048])"'
_SIG64 = r'"([A-Za-z0-9_-]{85}[AQgw])"'
# A P-256 point, uncompressed (65 bytes, the first 0x04); model.check_p256_point.
# "B" holds only the first byte's top six bits: its last two are the next character's
# top two, which must be zero ("A" to "P"), or the byte is 0x05, 0x06 or 0x07, which
# the strict parser refuses (red team, issue 21: the pattern once took "B" + any).
_POINT65 = r'"(B[A-P][A-Za-z0-9_-]{84}[AEIMQUYcgkosw048])"'
_TIME = r'"([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z)"'

# Keys in sorted order, as canonical JSON has them.
_DEVICE = (
    r'\{"enc_key":' + _KEY32 + r',"enc_key_sig":' + _SIG64 + r',"enrolled":' + _TIME
    + r',"id":' + _ID + r',"name":' + _TEXT
    + r'(?:,"p256_key":' + _POINT65 + r',"p256_key_sig":' + _SIG64 + r')?'
    + r'(?:,"revoked":' + _TIME + r')?'
    + r',"sign_key":' + _KEY32 + r"\}"
)  # fmt: skip
_DEVICE_ANON = re.sub(r"\((?!\?)", "(?:", _DEVICE)
DEVICE = re.compile(_DEVICE)
ENTRY = re.compile(
    r'\{(?:"approver":' + _ID + r',)?"department":' + _TEXT
    + r',"devices":\[((?:' + _DEVICE_ANON + r"(?:," + _DEVICE_ANON + r")*)?)\]"
    + r',"email":' + _EMAIL + r',"id":' + _ID + r',"kind":"(person|role)"'
    + r',"members":\[((?:' + _ID_ANON + r"(?:," + _ID_ANON + r")*)?)\]"
    + r'(,"mynumber_handler":true)?'
    + r',"name_en":' + _TEXT + r',"name_ja":' + _TEXT + r',"name_kana":' + _TEXT
    + r',"status":"(active|departed)","title":' + _TEXT + r"\}"
)  # fmt: skip
_MEMBER = re.compile(_ID)
_KINDS = {k.value: k for k in Kind}
_STATUSES = {s.value: s for s in Status}


def parse(texts: Sequence[str]) -> list[Entry]:
    """Parse and validate entry texts, each of which must be canonical JSON.

    Raises:
        EntryError: an entry is not canonical JSON or breaks a rule of
            :meth:`Entry.from_json` (the message names its position).
    """
    times: dict[str, None] = {}  # times already found valid (enrolments share seconds)
    out = []
    for i, text in enumerate(texts):
        match = ENTRY.fullmatch(text)
        entry = _recognised(match, times) if match else None
        out.append(entry if entry is not None else _strict(i, text))
    return out


def _recognised(match: re.Match[str], times: dict[str, None]) -> Entry | None:
    """The entry a match describes, or None to let the strict parser judge it."""
    (
        approver, dept, devs, email, id_, kind, members, handler,
        name_en, name_ja, name_kana, status, title,
    ) = match.groups()  # fmt: skip
    if not name_ja.strip() or not dept.strip():
        return None  # required fields (the strict parser says which)
    devices = tuple(_device(m, times) for m in DEVICE.finditer(devs)) if devs else ()
    if None in devices:
        return None  # an impossible date: the strict parser names it
    entry = Entry.validated(  # every field was validated by the match
        id=id_,
        kind=_KINDS[kind],
        name_ja=_plain(name_ja),
        name_kana=_plain(name_kana),
        name_en=_plain(name_en),
        email=email,
        department=_plain(dept),
        title=_plain(title),
        status=_STATUSES[status],
        devices=devices,
        members=tuple(_MEMBER.findall(members)) if members else (),
        mynumber_handler=handler is not None,
        approver=approver,
    )
    if approver is not None or members or len(devices) > 1 or (devices and kind == "role"):
        try:
            entry.check_shape()  # people without members, roles without devices, no twins
        except EntryError:
            return None
    return entry


def _device(match: re.Match[str], times: dict[str, None]) -> Device | None:
    enc, sig, enrolled, id_, name, p256, p256_sig, revoked, sign = match.groups()
    for when in (enrolled, revoked):
        if when is not None and when not in times:
            try:
                parse_time(when)  # the pattern fixed the form, not the calendar
            except EncodingError:
                return None
            times[when] = None
    return Device.validated(  # every field was validated by the match
        id=id_,
        name=_plain(name),
        sign_key=b64_validated(sign),
        enc_key=b64_validated(enc),
        enc_key_sig=b64_validated(sig),
        enrolled=enrolled,
        revoked=revoked,
        p256_key=b64_validated(p256) if p256 is not None else None,
        p256_key_sig=b64_validated(p256_sig) if p256_sig is not None else None,
    )


def _plain(text: str) -> str:
    """A matched JSON string's value (escapes are rare: decode only when present)."""
    return json.loads(f'"{text}"') if "\\" in text else text


def _strict(i: int, text: str) -> Entry:
    """The authority for a text the pattern did not recognise."""
    try:
        obj = canonical.loads(text.encode("utf-8"))
    except canonical.CanonicalError as err:
        raise EntryError(f"entry {i} is not canonical JSON ({err})") from None
    return Entry.from_json(obj)
