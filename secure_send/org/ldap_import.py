"""Import people and role mailboxes from LDAP / Active Directory.

:func:`read_ldap` binds (simple or anonymous), runs paged searches for people and
for roles (groups) under a base DN and makes each entry an :class:`ImportRow`:
people first, then roles, ``line`` = 1-based position, ``source`` = the DN; a
role's member DNs become ids. :class:`LdapMapping` says which attribute feeds
which field. The password never comes from argv nor appears in a message.

Nothing is bound before the connection is encrypted (issue 14, item 16): ``ldaps://``
is TLS from the start, ``ldap://`` must complete StartTLS first, and the server's
certificate must chain to the system's CAs or to a pinned ``ca_file`` and name the
host. A server (or a man in the middle) that refuses StartTLS gets an error, not the
bind DN and password in clear. Only ``insecure_plaintext_bind_for_lab_only`` skips
StartTLS, for a lab server without a certificate.
"""

from __future__ import annotations

import contextlib
import dataclasses
import getpass
import json
import os
import ssl
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import ldap3
from ldap3.core import exceptions as lx

from secure_send.core.errors import SecureSendError
from secure_send.org.importing import ImportRow, ImportRowsError, RowProblem
from secure_send.org.ldap_values import approver_id, entry_id, mynumber_value, read_one
from secure_send.org.ldap_values import clean_dn as _clean_dn
from secure_send.org.ldap_values import values as _values

PASSWORD_ENV = "SECURE_SEND_LDAP_PASSWORD"  # noqa: S105 (a variable's name, not a secret)
PAGE_SIZE = 500  # within AD's MaxPageSize (1000) and OpenLDAP's default size limit (500)
FIELDS = ("id", "name_ja", "name_kana", "name_en", "email", "department", "title")
_PAGED_OID = "1.2.840.113556.1.4.319"  # RFC 2696 simple paged results
_AD_ENABLED_USERS = (
    "(&(objectClass=user)(!(objectClass=computer))"
    "(!(userAccountControl:1.2.840.113556.1.4.803:=2)))"  # flag 2: account disabled
)


class LdapImportError(SecureSendError):
    """Connect, bind or search failed, or a bad mapping; never shows the password."""


@dataclasses.dataclass(frozen=True)
class LdapMapping:
    """Which LDAP attribute feeds which :class:`ImportRow` field.

    Names may carry options (``cn;lang-ja``): only values stored under exactly
    that description are used. An empty name leaves the field empty. ``roles``
    overrides fields for roles only, e.g. ``{"department": "description"}``.
    With neither ``mynumber_handler`` nor ``mynumber_handler_group`` set, an import
    leaves every entry's designation as it is; with either, the directory follows LDAP.
    ``approver`` likewise: unset, people keep their approvers; set, each person's is the
    id or DN that attribute holds (``manager``), none when it holds nothing.
    """

    person_filter: str = "(objectClass=inetOrgPerson)"
    role_filter: str = "(objectClass=groupOfNames)"
    id: str = "uid"
    lowercase_id: bool = False
    name_ja: str = "cn;lang-ja"
    name_kana: str = "cn;lang-ja-kana"  # BCP 47 "ja-Kana": Japanese written in katakana
    name_en: str = "cn"
    email: str = "mail"
    department: str = "ou"
    title: str = "title"
    member: str = "member"
    # 個人番号取扱 (issue 19), off unless named: an attribute whose value designates
    # (see mynumber_value), and/or a group whose direct members are designated
    mynumber_handler: str = ""
    mynumber_handler_group: str = ""
    approver: str = ""  # people only (issue 20): an id or a DN, e.g. "manager"
    roles: Mapping[str, str] = dataclasses.field(default_factory=dict)

    @classmethod
    def openldap(cls) -> LdapMapping:
        """inetOrgPerson people, groupOfNames roles, language-tagged Japanese names."""
        return cls()

    @classmethod
    def active_directory(cls) -> LdapMapping:
        """Enabled AD user accounts and groups; the id is ``sAMAccountName`` lowercased.

        Japanese ADs have no standard English-name attribute and groups have no
        ``department``: set ``name_en`` and ``roles`` in a mapping file if needed.
        """
        return cls(
            person_filter=_AD_ENABLED_USERS, role_filter="(objectClass=group)",
            id="sAMAccountName", lowercase_id=True, name_ja="displayName",
            name_kana="msDS-PhoneticDisplayName", name_en="", department="department",
        )  # fmt: skip

    @classmethod
    def from_file(cls, path: Path) -> LdapMapping:
        """Read a JSON mapping: an optional ``"preset"`` ("openldap", the default, or
        "active_directory") and any fields to override. ``_``-keys are comments.

        Raises:
            LdapImportError: unreadable file, bad JSON, unknown key or wrong type.
        """
        try:
            obj = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
            raise LdapImportError(f"cannot read LDAP mapping {path}: {err}") from None
        return cls.from_dict(obj, origin=str(path))

    @classmethod
    def from_dict(cls, obj: object, origin: str = "LDAP mapping") -> LdapMapping:
        """Build from a parsed JSON object (see :meth:`from_file`)."""
        if not isinstance(obj, dict):
            raise LdapImportError(f"{origin}: must be a JSON object")
        changes = {k: v for k, v in obj.items() if not k.startswith("_")}
        presets = {"openldap": cls.openldap, "active_directory": cls.active_directory}
        preset = changes.pop("preset", "openldap")
        if preset not in presets:
            raise LdapImportError(f"{origin}: preset must be one of {sorted(presets)}")
        names = {f.name for f in dataclasses.fields(cls)}
        for key, value in changes.items():
            if key not in names:
                raise LdapImportError(f"{origin}: unknown key {key!r}")
            if key == "roles":
                ok = isinstance(value, dict) and all(
                    k in (*FIELDS, "mynumber_handler") and isinstance(v, str)
                    for k, v in value.items()
                )
            else:
                ok = isinstance(value, bool if key == "lowercase_id" else str)
            if not ok:
                raise LdapImportError(f"{origin}: wrong type or content for {key!r}")
        return dataclasses.replace(presets[preset](), **changes)


def password_from_env_or_prompt(prompt_fn: Callable[[str], str] = getpass.getpass) -> str | None:
    """The bind password from ``$SECURE_SEND_LDAP_PASSWORD``, else asked for.

    Returns None (bind anonymously) for an empty answer or no terminal (EOF).
    """
    value = os.environ.get(PASSWORD_ENV)
    if value:
        return value
    try:
        answer = prompt_fn("LDAP bind password: ")
    except EOFError:
        return None
    return answer or None


def _error(what: str, err: Exception, password: str | None) -> LdapImportError:
    if isinstance(err, lx.LDAPOperationResult):  # e.g. "invalidCredentials (49): <server text>"
        detail = f"{err.description} ({err.result})" + (f": {err.message}" if err.message else "")
    else:
        detail = str(err) or type(err).__name__
    if password:
        detail = detail.replace(password, "***")
    return LdapImportError(f"{what}: {detail}")


def _connect(
    url: str, bind_dn: str | None, password: str | None, timeout: float, *,
    ca_file: Path | None, plaintext: bool,
) -> Any:  # fmt: skip
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = -1
    if parts.scheme.lower() not in ("ldap", "ldaps") or not parts.hostname or port == -1:
        raise LdapImportError(f"LDAP URL must be ldap://HOST[:PORT] or ldaps://…, not {url!r}")
    if bind_dn and not password:  # would be an "unauthenticated" bind (RFC 4513 §5.1.2)
        raise LdapImportError(f"no password given for bind DN {bind_dn!r}")
    ldaps = parts.scheme.lower() == "ldaps"
    if ca_file is not None and not ca_file.is_file():
        raise LdapImportError(f"CA file {ca_file} does not exist or is not a file")
    # ca_file: only that CA is trusted (pinned); else the system's (or $SSL_CERT_FILE).
    # Either way the certificate must name the host (ldap3 checks after the handshake).
    tls = ldap3.Tls(
        validate=ssl.CERT_REQUIRED, ca_certs_file=str(ca_file) if ca_file is not None else None
    )
    server = ldap3.Server(
        parts.hostname, port=port, use_ssl=ldaps, tls=tls, get_info=ldap3.NONE,
        connect_timeout=timeout,
    )  # fmt: skip
    conn = ldap3.Connection(
        server, user=bind_dn or None, password=password if bind_dn else None,
        authentication=ldap3.SIMPLE if bind_dn else ldap3.ANONYMOUS, read_only=True,
        auto_referrals=False, raise_exceptions=True, receive_timeout=timeout,
    )  # fmt: skip
    step = f"cannot connect to {url}"
    try:
        conn.open()
        if not ldaps and not plaintext:
            step = f"cannot start TLS (StartTLS) on {url}; nothing was sent in clear"
            conn.start_tls(read_server_info=False)
        if not plaintext and not isinstance(conn.socket, ssl.SSLSocket):
            # start_tls() may also just return False (ldap3): never bind in clear then
            raise LdapImportError(f"{url}: the connection is not encrypted; refusing to bind")
        step = f"cannot bind to {url} " + (f"as {bind_dn!r}" if bind_dn else "anonymously")
        conn.bind()
    except LdapImportError:
        with contextlib.suppress(lx.LDAPException):
            conn.unbind()
        raise
    except lx.LDAPException as err:
        with contextlib.suppress(lx.LDAPException):
            conn.unbind()
        raise _error(step, err, password) from None
    return conn


def read_ldap(
    url: str,
    base: str,
    *,
    bind_dn: str | None,
    password: str | None,
    mapping: LdapMapping,
    search_filter: str | None = None,
    timeout: float = 10,
    ca_file: Path | None = None,
    insecure_plaintext_bind_for_lab_only: bool = False,
) -> list[ImportRow]:
    """Read people and roles under ``base`` from an ``ldap://`` or ``ldaps://`` server.

    ``search_filter`` (optional) is ANDed with both the person and the role filter.
    ``timeout`` bounds connecting and each response, in seconds. ``ldap://`` runs
    StartTLS before the bind; ``ca_file`` pins the CA the server's certificate must
    chain to. ``insecure_plaintext_bind_for_lab_only`` binds and reads ``ldap://`` in
    clear (the password too): a lab server only.

    Raises:
        LdapImportError: connection, StartTLS, certificate, bind or search failed
            (never shows the password).
        ImportRowsError: values that are not UTF-8, or member DNs that do not exist.
    """
    conn = _connect(
        url, bind_dn, password, timeout, ca_file=ca_file,
        plaintext=insecure_plaintext_bind_for_lab_only,
    )  # fmt: skip
    try:
        return read_entries(conn, base, mapping=mapping, search_filter=search_filter)
    except lx.LDAPException as err:
        raise _error(f"LDAP search under {base!r} on {url} failed", err, password) from None
    finally:
        with contextlib.suppress(lx.LDAPException):
            conn.unbind()


def read_entries(
    conn: Any, base: str, *, mapping: LdapMapping, search_filter: str | None = None
) -> list[ImportRow]:
    """:func:`read_ldap` on a bound ``ldap3.Connection`` (LDAP errors are not wrapped)."""
    extra = (search_filter or "").strip()
    if extra and not extra.startswith("("):
        extra = f"({extra})"
    # a role mailbox has no approver: its attribute is never read
    role_map = dataclasses.replace(mapping, **dict[str, Any](mapping.roles), approver="")
    searches = (("person", mapping, mapping.person_filter), ("role", role_map, mapping.role_filter))
    group_dn = _clean_dn(mapping.mynumber_handler_group).lower()
    found = [
        (kind, kind_map, dn, attrs)
        for kind, kind_map, query in searches
        for dn, attrs in _search(conn, base, f"(&{query}{extra})", kind_map)
        if not group_dn or _clean_dn(dn).lower() != group_dn  # a grant, not a mailbox
    ]
    problems: list[RowProblem] = []  # reported together, like validate_rows does
    rows = [
        _row(line, kind, dn, attrs, kind_map, problems)
        for line, (kind, kind_map, dn, attrs) in enumerate(found, start=1)
    ]
    ids = {_clean_dn(row.source).lower(): row.id for row in rows}
    if mapping.mynumber_handler or role_map.mynumber_handler or group_dn:
        handlers = _group_members(conn, mapping) if group_dn else set()
        rows = [
            _designate(row, attrs, kind_map, handlers, problems)
            for row, (_, kind_map, _, attrs) in zip(rows, found, strict=True)
        ]
    for index, (kind, _, _, attrs) in enumerate(found):
        if kind == "role":
            line, dns = rows[index].line, _values(attrs, mapping.member)
            members = [_member_id(conn, ids, dn, mapping, line, problems) for dn in dns]
            rows[index] = dataclasses.replace(rows[index], members=tuple(m for m in members if m))
        elif mapping.approver:
            rows[index] = _approver(conn, ids, rows[index], attrs, mapping, problems)
    if problems:
        raise ImportRowsError(problems)
    return rows


def _search(conn: Any, base: str, query: str, mapping: LdapMapping) -> Iterator[tuple[str, Any]]:
    """Every entry matching ``query``, page by page; never a truncated list."""
    names = [getattr(mapping, name) for name in FIELDS]
    names += [mapping.member, mapping.mynumber_handler, mapping.approver]
    attrs = sorted({n for n in names if n})
    cookie: bytes | None = None
    while True:
        conn.search(
            base, query, ldap3.SUBTREE, attributes=attrs, paged_size=PAGE_SIZE, paged_cookie=cookie
        )
        if conn.result["result"] != 0:  # e.g. sizeLimitExceeded, which ldap3 does not raise
            code, text = conn.result["result"], conn.result["description"]
            raise LdapImportError(f"search {query} under {base!r} stopped: {text} ({code})")
        for entry in conn.response:
            if entry.get("type") == "searchResEntry":
                yield entry["dn"], entry["raw_attributes"]
        controls = conn.result.get("controls") or {}
        cookie = controls.get(_PAGED_OID, {}).get("value", {}).get("cookie")
        if not cookie:
            return


def _row(
    line: int, kind: str, dn: str, attrs: Any, mapping: LdapMapping, problems: list[RowProblem]
) -> ImportRow:
    text: dict[str, Any] = {}
    for name in FIELDS:
        attribute = getattr(mapping, name)
        values = _values(attrs, attribute)
        try:
            text[name] = values[0].decode("utf-8").strip() if values else ""
        except UnicodeDecodeError:
            problems.append(RowProblem(line, f"{dn}: {attribute} is not UTF-8 text"))
            text[name] = ""
    if mapping.lowercase_id:
        text["id"] = text["id"].lower()
    return ImportRow(line=line, kind=kind, source=dn, **text)


def _member_id(
    conn: Any, ids: dict[str, str], dn: bytes, mapping: LdapMapping, line: int,
    problems: list[RowProblem],
) -> str:  # fmt: skip
    """The id of the entry a member DN names: one read above, or else looked up."""
    text = dn.decode("utf-8", errors="replace")
    found = entry_id(conn, ids, text, mapping.id, mapping.lowercase_id)
    if not found:
        problems.append(
            RowProblem(line, f"member {_clean_dn(text)} not found or has no {mapping.id}")
        )
    return found


def _approver(
    conn: Any, ids: dict[str, str], row: ImportRow, attrs: Any, mapping: LdapMapping,
    problems: list[RowProblem],
) -> ImportRow:  # fmt: skip
    """``row`` with the approver its attribute names (validate_rows checks who it is)."""
    found = _values(attrs, mapping.approver)
    approver, problem = approver_id(conn, ids, found, mapping.id, mapping.lowercase_id)
    if problem:
        problems.append(
            RowProblem(row.line, f"{row.source}: {mapping.approver} (approver) {problem}")
        )
    return dataclasses.replace(row, approver=approver)


def _designate(
    row: ImportRow, attrs: Any, mapping: LdapMapping, group: set[str],
    problems: list[RowProblem],
) -> ImportRow:  # fmt: skip
    """``row`` with its mynumber_handler: yes by the attribute or by the group."""
    by_attribute = mynumber_value(_values(attrs, mapping.mynumber_handler))
    if by_attribute is None:
        name = mapping.mynumber_handler
        message = f"{row.source}: {name} (mynumber_handler) must be one of yes, TRUE, no, FALSE"
        problems.append(RowProblem(row.line, message))
    designated = bool(by_attribute) or _clean_dn(row.source).lower() in group
    return dataclasses.replace(row, mynumber_handler="yes" if designated else "")


def _group_members(conn: Any, mapping: LdapMapping) -> set[str]:
    """The cleaned, lowercased member DNs of the designation group (direct members only).

    Raises:
        LdapImportError: no such group: every designation would silently go.
    """
    dn = mapping.mynumber_handler_group
    attrs = read_one(conn, dn, mapping.member)
    if attrs is None:
        raise LdapImportError(f"mynumber_handler_group {dn!r} not found; nothing imported")
    members = _values(attrs, mapping.member)
    return {_clean_dn(v.decode("utf-8", errors="replace")).lower() for v in members}
