"""The LDAP mapping's ``approver`` key (上長承認, issue 20) against a real ``slapd``.

This module's own slapd (the fixture is per module) gets what a ministry's directory
holds: the standard ``manager`` attribute with the superior's DN (Hanako's written in
another case and spacing, Ichiro's naming the year-end desk, a role mailbox), and
``employeeNumber`` holding an id, for a mapping that names ids. The help desk role has a
``manager`` too (its owner, as AD's ``managedBy``): a role mailbox has no approver, so
it is never read. Under ``ou=ap-bad``:
a person whose manager does not exist and one with two managers; under ``ou=ap-out``:
a person whose manager is outside that search base.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import ldap3
import pytest

from secure_send.org import ops
from secure_send.org.home import OrgHome
from secure_send.org.importing import ImportRow, ImportRowsError, validate_rows
from secure_send.org.ldap_import import PASSWORD_ENV, LdapImportError, LdapMapping, read_ldap
from tests.admin.ldap.conftest import HONSHO, IMPORTER_DN, IMPORTER_PW, PEOPLE, SUFFIX, Slapd
from tests.admin.ldap.test_ldap_mynumber import _root, _set

ROLES = f"ou=roles,{HONSHO}"
BAD, OUT = f"ou=ap-bad,{SUFFIX}", f"ou=ap-out,{SUFFIX}"
MANAGER: dict[str, object] = {"approver": "manager"}
NOBODY = f"uid=nobody,{PEOPLE}"
# who has which manager in the fixture (by id), as the import must resolve them
EXPECTED = {
    "sato.hanako": "yamada.taro",
    "suzuki.ichiro": "jinji-nenmatsu",
    "tanaka.kenji": "takahashi.misaki",
    "ito.sakura": "watanabe.yuki",
}


def _person(conn: ldap3.Connection, uid: str, ou: str, manager: list[str]) -> None:
    conn.add(f"uid={uid},{ou}", ["inetOrgPerson"], {
        "uid": uid, "cn": uid, "cn;lang-ja": "試験 太郎", "sn": "x", "ou": "監査室",
        "mail": f"{uid}@example.go.jp", "manager": manager,
    })  # fmt: skip


@pytest.fixture(scope="module")
def ministry(slapd: Slapd) -> Slapd:
    conn = _root(slapd)
    _set(conn, f"uid=sato.hanako,{PEOPLE}", "manager",
         ["UID=Yamada.Taro, OU=People, OU=Honsho, DC=example, DC=go, DC=jp"])  # fmt: skip
    _set(conn, f"uid=suzuki.ichiro,{PEOPLE}", "manager", [f"uid=jinji-nenmatsu,{ROLES}"])
    _set(conn, f"uid=tanaka.kenji,{PEOPLE}", "manager", [f"uid=takahashi.misaki,{PEOPLE}"])
    _set(conn, f"uid=ito.sakura,{PEOPLE}", "manager", [f"uid=watanabe.yuki,{PEOPLE}"])
    _set(conn, f"uid=joho-helpdesk,{ROLES}", "manager", [f"uid=watanabe.yuki,{PEOPLE}"])
    _set(conn, f"uid=watanabe.yuki,{PEOPLE}", "employeeNumber", ["ito.sakura"])
    _set(conn, f"uid=yamada.taro,{PEOPLE}", "employeeNumber", [" sato.hanako "])
    for ou in (BAD, OUT):
        conn.add(ou, ["organizationalUnit"], {"ou": ou.split(",")[0][3:]})
    _person(conn, "lost.manager", BAD, [NOBODY])
    _person(conn, "two.managers", BAD, [f"uid=yamada.taro,{PEOPLE}", f"uid=ito.sakura,{PEOPLE}"])
    _person(conn, "outside.ok", OUT, [f"uid=yamada.taro,{PEOPLE}"])
    conn.unbind()
    return slapd


def _read(slapd: Slapd, mapping: Mapping[str, object], base: str = HONSHO) -> list[ImportRow]:
    return read_ldap(
        slapd.url, base, bind_dn=IMPORTER_DN, password=IMPORTER_PW, ca_file=slapd.ca,
        mapping=LdapMapping.from_dict(mapping),
    )  # fmt: skip


def test_manager_dns_become_ids_of_people_and_role_mailboxes(ministry: Slapd) -> None:
    rows = _read(ministry, MANAGER)
    got = {r.id: r.approver for r in rows}
    assert {uid: a for uid, a in got.items() if a} == EXPECTED
    # everyone else: none, said explicitly (LDAP decides); role mailboxes are not read
    kinds = {r.id: r.kind for r in rows}
    assert {got[u] for u in got if u not in EXPECTED and kinds[u] == "person"} == {""}
    assert {got[u] for u in got if kinds[u] == "role"} == {None}
    entries = {e.id: e.approver for e in validate_rows(rows, {})}
    assert {uid: a for uid, a in entries.items() if a} == EXPECTED


def test_an_attribute_holding_ids_is_taken_as_ids(ministry: Slapd) -> None:
    got = {r.id: r.approver for r in _read(ministry, {"approver": "employeeNumber"})}
    assert {uid: a for uid, a in got.items() if a} == {
        "watanabe.yuki": "ito.sakura", "yamada.taro": "sato.hanako",
    }  # fmt: skip


def test_without_the_key_rows_do_not_say(ministry: Slapd) -> None:
    assert {r.approver for r in _read(ministry, {})} == {None}


def test_a_manager_outside_the_search_is_looked_up(ministry: Slapd) -> None:
    [row] = _read(ministry, MANAGER, base=OUT)
    assert (row.id, row.approver) == ("outside.ok", "yamada.taro")


def test_an_unknown_dn_or_several_managers_name_the_entry(ministry: Slapd) -> None:
    with pytest.raises(ImportRowsError) as err:
        _read(ministry, MANAGER, base=BAD)
    assert sorted(p.message for p in err.value.problems) == [
        f"uid=lost.manager,{BAD}: manager (approver) names {NOBODY}, not found or without uid",
        f"uid=two.managers,{BAD}: manager (approver) has several values: name one approver",
    ]


def test_roles_cannot_map_an_approver() -> None:
    with pytest.raises(LdapImportError, match="wrong type or content for 'roles'"):
        LdapMapping.from_dict({"roles": {"approver": "manager"}})
    assert LdapMapping.from_dict(MANAGER).approver == "manager"
    assert LdapMapping.active_directory().approver == ""  # off unless named


def _admin(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, PASSWORD_ENV: IMPORTER_PW}
    return subprocess.run(
        [sys.executable, "-m", "secure_send.admin.cli", "--home", str(home), *args],
        capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL, timeout=120,
        check=False,
    )  # fmt: skip


def test_cli_import_follows_ldap_and_a_mapping_without_the_key_keeps(
    ministry: Slapd, tmp_path: Path
) -> None:
    home = tmp_path / "org"
    ops.init(OrgHome(home), "テスト省", roots=1, threshold=1)
    mapping, plain = tmp_path / "map.json", tmp_path / "plain.json"
    mapping.write_text(json.dumps(MANAGER))
    plain.write_text("{}")
    args = ("import", "--ldap", ministry.url, "--base", HONSHO, "--bind", IMPORTER_DN,
            "--ca-file", str(ministry.ca))  # fmt: skip

    def approvers() -> dict[str, str]:
        return {e.id: e.approver for e in OrgHome(home).entries().values() if e.approver}

    proc = _admin(home, *args, "--map", str(mapping))
    assert proc.returncode == 0, proc.stderr
    assert approvers() == EXPECTED
    conn = _root(ministry)
    try:
        _set(conn, f"uid=ito.sakura,{PEOPLE}", "manager", [])  # Sakura's manager removed
        assert _admin(home, *args, "--map", str(plain)).returncode == 0
        assert approvers() == EXPECTED  # the mapping does not say: kept
        assert _admin(home, *args, "--map", str(mapping)).returncode == 0
        assert approvers() == {k: v for k, v in EXPECTED.items() if k != "ito.sakura"}
        # naming oneself is refused by the import's rules, with the entry's position
        _set(conn, f"uid=tanaka.kenji,{PEOPLE}", "manager", [f"uid=tanaka.kenji,{PEOPLE}"])
        before = OrgHome(home).log_file.read_bytes()
        proc = _admin(home, *args, "--map", str(mapping))
        assert proc.returncode == 1
        assert "tanaka.kenji cannot be their own approver" in proc.stderr
        assert OrgHome(home).log_file.read_bytes() == before
    finally:
        _set(conn, f"uid=ito.sakura,{PEOPLE}", "manager", [f"uid=watanabe.yuki,{PEOPLE}"])
        _set(conn, f"uid=tanaka.kenji,{PEOPLE}", "manager", [f"uid=takahashi.misaki,{PEOPLE}"])
        conn.unbind()
