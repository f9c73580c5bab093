"""The LDAP mapping's 個人番号取扱 keys (issue 19) against a real ``slapd``.

This module's own slapd (the fixture is per module) gets, as its root, what IT would
set in a ministry's directory: ``employeeType`` on some people (``yes``, ``TRUE``,
``FALSE``), ``businessCategory: yes`` on the year-end desk, and a designation group
``cn=mynumber-handlers`` under the roles OU whose members are Sakura Ito and the
IT help desk role.
"""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

import ldap3
import pytest

from secure_send.org import ops
from secure_send.org.home import OrgHome
from secure_send.org.importing import ImportRow, ImportRowsError
from secure_send.org.ldap_import import PASSWORD_ENV, LdapImportError, LdapMapping, read_ldap
from secure_send.org.ldap_values import mynumber_value
from tests.admin.ldap.conftest import (
    HONSHO,
    IMPORTER_DN,
    IMPORTER_PW,
    PEOPLE,
    ROOT_DN,
    ROOT_PW,
    SUFFIX,
    Slapd,
)

ROLES = f"ou=roles,{HONSHO}"
GROUP = f"cn=mynumber-handlers,{ROLES}"
BAD = f"ou=mn-bad,{SUFFIX}"
# role mailboxes have a uid; the designation group has none (it is no mailbox)
MAILBOXES: dict[str, object] = {"role_filter": "(&(objectClass=groupOfNames)(uid=*))"}
BY_ATTRIBUTE: dict[str, object] = {
    **MAILBOXES,
    "mynumber_handler": "employeeType",
    "roles": {"mynumber_handler": "businessCategory"},
}


def _root(slapd: Slapd) -> ldap3.Connection:
    parts = urlsplit(slapd.url)
    tls = ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=str(slapd.ca))
    server = ldap3.Server(parts.hostname or "", port=parts.port, tls=tls)
    conn = ldap3.Connection(server, user=ROOT_DN, password=ROOT_PW, raise_exceptions=True)
    conn.open()
    conn.start_tls()
    conn.bind()
    return conn


def _set(conn: ldap3.Connection, dn: str, attribute: str, values: list[str]) -> None:
    conn.modify(dn, {attribute: [(ldap3.MODIFY_REPLACE, values)]})


@pytest.fixture(scope="module")
def ministry(slapd: Slapd) -> Slapd:
    conn = _root(slapd)
    _set(conn, f"uid=suzuki.ichiro,{PEOPLE}", "employeeType", ["yes"])
    _set(conn, f"uid=yamada.taro,{PEOPLE}", "employeeType", ["TRUE"])
    _set(conn, f"uid=watanabe.yuki,{PEOPLE}", "employeeType", ["FALSE"])
    _set(conn, f"uid=jinji-nenmatsu,{ROLES}", "businessCategory", [" Yes "])
    conn.add(GROUP, ["groupOfNames"], {
        "cn": "mynumber-handlers",
        # written as AD and hand-made LDIFs do: other case, spaces after commas
        "member": ["UID=Ito.Sakura, OU=People, OU=Honsho, DC=example, DC=go, DC=jp",
                   f"uid=joho-helpdesk,{ROLES}", f"uid=not-imported,{SUFFIX}"],
    })  # fmt: skip
    conn.add(BAD, ["organizationalUnit"], {"ou": "mn-bad"})
    bad = (("ok.person", ["yes"]), ("typo.person", ["maybe"]), ("two.values", ["yes", "no"]))
    for uid, value in bad:
        conn.add(f"uid={uid},{BAD}", ["inetOrgPerson"], {
            "uid": uid, "cn": uid, "cn;lang-ja": "試験 太郎", "sn": "x", "ou": "人事課",
            "mail": f"{uid}@example.go.jp", "employeeType": value,
        })  # fmt: skip
    conn.unbind()
    return slapd


def _read(slapd: Slapd, mapping: Mapping[str, object], base: str = HONSHO) -> list[ImportRow]:
    return read_ldap(
        slapd.url, base, bind_dn=IMPORTER_DN, password=IMPORTER_PW, ca_file=slapd.ca,
        mapping=LdapMapping.from_dict(mapping),
    )  # fmt: skip


def _handlers(rows: list[ImportRow]) -> dict[str, str | None]:
    return {r.id: r.mynumber_handler for r in rows}


def test_the_attribute_designates_people_and_roles(ministry: Slapd) -> None:
    got = _handlers(_read(ministry, BY_ATTRIBUTE))
    designated = {uid for uid, value in got.items() if value == "yes"}
    assert designated == {"suzuki.ichiro", "yamada.taro", "jinji-nenmatsu"}
    # everyone else is explicitly not designated (LDAP decides), FALSE and absent alike
    assert {got[uid] for uid in got if uid not in designated} == {""}
    assert got["watanabe.yuki"] == ""
    # an attribute for role mailboxes only: LDAP still decides for everyone
    roles_only = {**MAILBOXES, "roles": {"mynumber_handler": "businessCategory"}}
    got = _handlers(_read(ministry, roles_only))
    assert {uid for uid, value in got.items() if value == "yes"} == {"jinji-nenmatsu"}
    assert got["suzuki.ichiro"] == ""


def test_without_the_keys_rows_do_not_say(ministry: Slapd) -> None:
    rows = _read(ministry, MAILBOXES)
    assert {r.mynumber_handler for r in rows} == {None}


def test_the_group_designates_its_direct_members_and_is_no_mailbox(ministry: Slapd) -> None:
    # the default role filter matches the group (a groupOfNames): named, it is left out,
    # and its member outside the import (uid=not-imported) is no problem
    rows = _read(ministry, {"mynumber_handler_group": GROUP})
    assert GROUP not in {r.source for r in rows}
    assert [r.id for r in rows] == [r.id for r in _read(ministry, MAILBOXES)]
    designated = {r.id for r in rows if r.mynumber_handler == "yes"}
    assert designated == {"ito.sakura", "joho-helpdesk"}
    both = _read(ministry, {**BY_ATTRIBUTE, "mynumber_handler_group": GROUP})
    assert {r.id for r in both if r.mynumber_handler == "yes"} == {
        "ito.sakura", "joho-helpdesk", "suzuki.ichiro", "yamada.taro", "jinji-nenmatsu",
    }  # fmt: skip


def test_a_missing_group_stops_the_import(ministry: Slapd) -> None:
    missing = f"cn=no-such-group,{ROLES}"
    with pytest.raises(LdapImportError, match=f"mynumber_handler_group '{missing}' not found"):
        _read(ministry, {"mynumber_handler_group": missing})


def test_other_values_are_reported_with_line_and_dn(ministry: Slapd) -> None:
    with pytest.raises(ImportRowsError) as err:
        _read(ministry, BY_ATTRIBUTE, base=BAD)
    problems = sorted((p.message.split(":")[0], p.message) for p in err.value.problems)
    assert [dn for dn, _ in problems] == [f"uid=two.values,{BAD}", f"uid=typo.person,{BAD}"]
    assert problems[0][1].endswith(
        ": employeeType (mynumber_handler) must be one of yes, TRUE, no, FALSE"
    )
    assert all(p.line >= 1 for p in err.value.problems)


@pytest.mark.parametrize(
    ("values", "expected"),
    [([], False), ([b"yes"], True), ([b"TRUE"], True), ([b" True "], True), ([b"no"], False),
     ([b"FALSE"], False), ([b"1"], None), ([b"y"], None), ([b""], None), ([b"yes", b"yes"], None)],
)  # fmt: skip
def test_the_value_rule(values: list[bytes], expected: bool | None) -> None:
    assert mynumber_value(values) is expected


def test_mapping_keys_are_checked() -> None:
    with pytest.raises(LdapImportError, match="wrong type or content for 'mynumber_handler'"):
        LdapMapping.from_dict({"mynumber_handler": True})
    with pytest.raises(LdapImportError, match="'roles'"):
        LdapMapping.from_dict({"roles": {"mynumber": "x"}})
    mapping = LdapMapping.from_dict({"preset": "active_directory", **BY_ATTRIBUTE})
    assert (mapping.mynumber_handler, mapping.id) == ("employeeType", "sAMAccountName")


def _admin(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, PASSWORD_ENV: IMPORTER_PW}
    return subprocess.run(
        [sys.executable, "-m", "secure_send.admin.cli", "--home", str(home), *args],
        capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL, timeout=120,
        check=False,
    )  # fmt: skip


def test_cli_import_follows_ldap_and_a_mapping_without_the_keys_keeps(
    ministry: Slapd, tmp_path: Path
) -> None:
    home = tmp_path / "org"
    ops.init(OrgHome(home), "テスト省", roots=1, threshold=1)
    mapping = tmp_path / "map.json"
    mapping.write_text(json.dumps({**BY_ATTRIBUTE, "mynumber_handler_group": GROUP}))
    args = ("import", "--ldap", ministry.url, "--base", HONSHO, "--bind", IMPORTER_DN,
            "--ca-file", str(ministry.ca))  # fmt: skip

    def designated() -> set[str]:
        return {e.id for e in OrgHome(home).entries().values() if e.mynumber_handler}

    proc = _admin(home, *args, "--map", str(mapping))
    assert proc.returncode == 0, proc.stderr
    everyone = {"ito.sakura", "joho-helpdesk", "suzuki.ichiro", "yamada.taro", "jinji-nenmatsu"}
    assert designated() == everyone
    conn = _root(ministry)
    _set(conn, f"uid=yamada.taro,{PEOPLE}", "employeeType", ["FALSE"])
    conn.unbind()
    plain = tmp_path / "plain.json"
    plain.write_text(json.dumps(MAILBOXES))
    proc = _admin(home, *args, "--map", str(plain))  # says nothing: keeps
    assert proc.returncode == 0, proc.stderr
    assert designated() == everyone
    proc = _admin(home, *args, "--map", str(mapping))  # says: Yamada withdrawn
    assert proc.returncode == 0, proc.stderr
    assert "0 added, 1 changed" in proc.stdout
    assert designated() == everyone - {"yamada.taro"}
    conn = _root(ministry)
    _set(conn, f"uid=yamada.taro,{PEOPLE}", "employeeType", ["TRUE"])  # as the module had it
    conn.unbind()
