"""Reading values out of LDAP answers, for :mod:`secure_send.org.ldap_import`: attribute
values by exact description, DNs compared as LDAP compares them, one entry by its DN
and a DN's id, the rule that turns an attribute into the 個人番号取扱 designation
(issue 19), and the one that turns an attribute into an approver's id (issue 20)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ldap3
from ldap3.core import exceptions as lx
from ldap3.utils.dn import parse_dn

_NOT_FOUND = (lx.LDAPNoSuchObjectResult, lx.LDAPInvalidDnError, lx.LDAPInvalidDNSyntaxResult)
# LDAP's Boolean syntax (RFC 4517 §3.3.3) is TRUE / FALSE; IT also writes yes / no
_DESIGNATES = {"yes": True, "true": True, "no": False, "false": False}


def values(attrs: Any, name: str) -> list[bytes]:
    """Values stored under exactly ``name`` (options included), case-insensitively."""
    wanted = name.lower()
    for key, found in attrs.items() if name else ():
        if key.lower() == wanted:
            return [v if isinstance(v, bytes) else str(v).encode() for v in found]
    return []


def clean_dn(dn: str) -> str:
    """``dn`` without optional spaces around separators (``a=1, b=2`` → ``a=1,b=2``).

    Lowercased, it is a dictionary key: naming attributes match case-insensitively.
    """
    try:
        return "".join(f"{a}={v}{sep}" for a, v, sep in parse_dn(dn, strip=True))
    except lx.LDAPException:
        return dn.strip()


def read_one(conn: Any, dn: str, attribute: str) -> Any | None:
    """The raw attributes of the entry named ``dn`` (asking for ``attribute``), or None
    when there is no such entry or ``dn`` is not a DN."""
    try:
        conn.search(dn, "(objectClass=*)", ldap3.BASE, attributes=[attribute])
        found = [e for e in conn.response if e.get("type") == "searchResEntry"]
    except _NOT_FOUND:
        return None
    return found[0]["raw_attributes"] if found else None


def mynumber_value(found: list[bytes]) -> bool | None:
    """The attribute's rule: no value, ``no`` or ``FALSE`` → not designated; ``yes`` or
    ``TRUE`` → designated; in any case, spaces ignored. None for anything else, several
    values included: an error to report, not a guess (a typo must not grant it)."""
    if not found:
        return False
    text = found[0].decode("utf-8", errors="replace").strip().casefold()
    return _DESIGNATES.get(text) if len(found) == 1 else None


def entry_id(conn: Any, ids: Mapping[str, str], dn: str, id_attribute: str, lower: bool) -> str:
    """The id of the entry named ``dn``: one read in this import (``ids``: cleaned,
    lowercased DN → id), or else looked up; "" when there is no such entry or it has
    no id."""
    text = clean_dn(dn)
    if text.lower() in ids:
        return ids[text.lower()]
    attrs = read_one(conn, text, id_attribute)
    found = values(attrs, id_attribute) if attrs is not None else []
    if not found:
        return ""
    value = found[0].decode("utf-8", errors="replace").strip()
    return value.lower() if lower else value


def approver_id(
    conn: Any, ids: Mapping[str, str], found: list[bytes], id_attribute: str, lower: bool
) -> tuple[str, str]:
    """``(approver, problem)`` for an approver attribute's values: no value → "" (none);
    an id as it is; a DN — as the standard ``manager`` holds the superior's — the id of
    the entry it names (:func:`entry_id`). ``problem`` says why there is none instead:
    several values, or a DN that names no entry with an id (never a guess)."""
    if not found:
        return "", ""
    if len(found) > 1:
        return "", "has several values: name one approver"
    text = found[0].decode("utf-8", errors="replace").strip()
    if "=" not in text:  # no id has "=": this is an id, checked later as every id is
        return (text.lower() if lower else text), ""
    approver = entry_id(conn, ids, text, id_attribute, lower)
    return approver, "" if approver else f"names {text}, not found or without {id_attribute}"
