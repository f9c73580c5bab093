"""LDAP import against a real OpenLDAP ``slapd`` started for this module.

The fixture fills in tests/data/ldap/slapd.conf.in (stock schemas, one mdb
database for dc=example,dc=go,dc=jp, a 500-entry size limit), loads the LDIFs there
plus 1,200 generated people with ``slapadd``, and runs ``slapd -d 0`` on free ports
of 127.0.0.1 (ldap:// and ldaps:// with a throw-away self-signed certificate).

Active Directory cannot run here. Its *attribute names* are tested against an
ldap3 MOCK_SYNC server; the AD-shaped *directory* test uses stock attributes that
stand in for AD's, named in tests/data/ldap/ad-mapping.json.
"""

from __future__ import annotations

import socket
import time
import traceback
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import ldap3
import pytest

from secure_send.core.directory.model import Kind
from secure_send.org.importing import ImportRow, ImportRowsError, validate_rows
from secure_send.org.ldap_import import (
    PASSWORD_ENV,
    LdapImportError,
    LdapMapping,
    password_from_env_or_prompt,
    read_entries,
    read_ldap,
)
from tests.admin.ldap.conftest import (
    BULK,
    DATA,
    HONSHO,
    IMPORTER_DN,
    IMPORTER_PW,
    PEOPLE,
    ROOT_DN,
    ROOT_PW,
    SUFFIX,
    Slapd,
    free_ports,
)


def _read(url: str, base: str = HONSHO, **kwargs: object) -> list[ImportRow]:
    """read_ldap as the importer account with the OpenLDAP preset, unless told otherwise."""
    options: dict[str, object] = {"bind_dn": IMPORTER_DN, "password": IMPORTER_PW}
    options.update({"mapping": LdapMapping.openldap(), **kwargs})
    return read_ldap(url, base, **options)  # type: ignore[arg-type]


# id | name_ja | name_kana | name_en (mail is given.family@) | department | title
EXPECTED_PEOPLE = """
yamada.taro      | 山田 太郎   | ヤマダ タロウ   | Taro Yamada      | 人事課         | 課長
sato.hanako      | 佐藤 花子   | サトウ ハナコ   | Hanako Sato      | 人事課         | 係長
suzuki.ichiro    | 鈴木 一郎   | スズキ イチロウ | Ichiro Suzuki    | 人事課         | 主事
takahashi.misaki | 髙橋 美咲   | タカハシ ミサキ | Misaki Takahashi | 会計課         | 課長補佐
tanaka.kenji     | 田中 健二   | タナカ ケンジ   | Kenji Tanaka     | 会計課         | 主査
watanabe.yuki    | 渡邊 由紀   | ワタナベ ユキ   | Yuki Watanabe    | 情報システム室 | 室長
ito.sakura       | 伊藤 さくら | イトウ サクラ   | Sakura Ito       | 情報システム室 |
yoshida.ken      | 𠮷田 健     | ヨシダ ケン     | Ken Yoshida      | 総務課         | 係員
"""


def _expected_people() -> dict[str, list[str]]:
    lines = EXPECTED_PEOPLE.strip().splitlines()
    return {f[0]: f[1:] for f in ([v.strip() for v in line.split("|")] for line in lines)}


def test_import_yields_people_then_roles_with_exact_fields(slapd: Slapd) -> None:
    rows = _read(slapd.url)
    assert [r.line for r in rows] == list(range(1, 11))
    assert [r.kind for r in rows] == ["person"] * 8 + ["role"] * 2
    people = {r.id: r for r in rows[:8]}
    expected = _expected_people()
    assert set(people) == set(expected)
    for uid, (ja, kana, en, dept, title) in expected.items():
        row = people[uid]
        assert row.name_ja.encode("utf-8") == ja.encode("utf-8")
        assert (row.name_kana, row.name_en, row.department, row.title) == (kana, en, dept, title)
        assert row.email == en.lower().replace(" ", ".") + "@example.go.jp"
        assert row.members == ()
        assert row.source == f"uid={uid},{PEOPLE}"
    assert people["yoshida.ken"].name_ja.encode() == b"\xf0\xa0\xae\xb7\xe7\x94\xb0 \xe5\x81\xa5"


def test_roles_resolve_member_dns_to_ids(slapd: Slapd) -> None:
    roles = {r.id: r for r in _read(slapd.url) if r.kind == "role"}
    desk = roles["jinji-nenmatsu"]
    assert desk.name_ja == "人事課 年末調整受付"
    assert desk.name_kana == "ジンジカ ネンマツチョウセイウケツケ"
    assert (desk.email, desk.department) == ("nenmatsu@example.go.jp", "人事課")
    assert sorted(desk.members) == ["sato.hanako", "suzuki.ichiro", "yamada.taro"]
    # One member DN is written "UID=Ito.Sakura, OU=People, ..." in the LDIF.
    assert sorted(roles["joho-helpdesk"].members) == ["ito.sakura", "watanabe.yuki"]


def test_imported_rows_validate(slapd: Slapd) -> None:
    entries = {e.id: e for e in validate_rows(_read(slapd.url), {})}
    assert len(entries) == 10
    assert entries["jinji-nenmatsu"].kind is Kind.ROLE
    assert entries["yoshida.ken"].department == "総務課"


def test_members_outside_the_search_are_looked_up(slapd: Slapd) -> None:
    existing = {e.id: e for e in validate_rows(_read(slapd.url), {}) if e.kind is Kind.PERSON}
    rows = _read(slapd.url, base=f"ou=roles,{HONSHO}")
    assert [r.id for r in rows] == ["jinji-nenmatsu", "joho-helpdesk"]
    assert [r.line for r in rows] == [1, 2]
    assert len(validate_rows(rows, existing)) == 2


def test_search_filter_narrows_people_and_roles(slapd: Slapd) -> None:
    rows = _read(slapd.url, search_filter="ou=人事課")
    assert sorted(r.id for r in rows) == [
        "jinji-nenmatsu", "sato.hanako", "suzuki.ichiro", "yamada.taro",
    ]  # fmt: skip


def test_dangling_member_is_reported(slapd: Slapd) -> None:
    with pytest.raises(ImportRowsError) as info:
        _read(slapd.url, base=f"ou=dangling,{SUFFIX}")
    [problem] = info.value.problems
    assert problem.line == 1
    assert "uid=nobody" in problem.message


def test_anonymous_bind_reads(slapd: Slapd) -> None:
    rows = _read(slapd.url, base=f"ou=people,{HONSHO}", bind_dn=None, password=None)
    assert len(rows) == 8


def test_wrong_password_error_never_shows_password(slapd: Slapd) -> None:
    wrong = "Wr0ng-Secret-Value-8842"
    for dn in (IMPORTER_DN, ROOT_DN):
        with pytest.raises(LdapImportError) as info:
            _read(slapd.url, bind_dn=dn, password=wrong)
        text = "".join(traceback.format_exception(info.value))
        assert wrong not in text
        assert "invalidCredentials" in str(info.value)
        assert dn in str(info.value)
        assert info.value.__cause__ is None
        assert info.value.__suppress_context__


def test_root_dn_binds_with_hashed_rootpw(slapd: Slapd) -> None:
    assert len(_read(slapd.url, bind_dn=ROOT_DN, password=ROOT_PW)) == 10


def test_unreachable_port_fails_quickly(slapd: Slapd) -> None:
    url = f"ldap://127.0.0.1:{free_ports(1)[0]}/"
    started = time.monotonic()
    with pytest.raises(LdapImportError) as info:
        _read(url, timeout=2)
    assert time.monotonic() - started < 3
    assert url in str(info.value)
    assert IMPORTER_PW not in str(info.value)


def test_server_that_never_answers_times_out() -> None:
    with socket.socket() as silent:  # the kernel accepts connections; nobody replies
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"ldap://127.0.0.1:{silent.getsockname()[1]}"
        started = time.monotonic()
        with pytest.raises(LdapImportError, match="cannot bind"):
            _read(url, timeout=1)
        assert time.monotonic() - started < 5


def test_password_required_with_bind_dn() -> None:
    with pytest.raises(LdapImportError, match="no password"):
        _read("ldap://127.0.0.1:1/", password="")


@pytest.mark.parametrize("url", ["http://127.0.0.1/", "ldap://", "ldap://127.0.0.1:port/"])
def test_url_checked(url: str) -> None:
    with pytest.raises(LdapImportError, match="LDAP URL must be"):
        _read(url, bind_dn=None, password=None)


def test_paged_search_returns_more_than_the_size_limit(slapd: Slapd) -> None:
    conn = ldap3.Connection(slapd.url.rstrip("/"), IMPORTER_DN, IMPORTER_PW, auto_bind=True)
    conn.search(f"ou=bulk,{SUFFIX}", "(objectClass=inetOrgPerson)", attributes=["uid"])
    assert conn.result["description"] == "sizeLimitExceeded"  # the limit is real
    conn.unbind()
    rows = _read(slapd.url, base=f"ou=bulk,{SUFFIX}")
    assert len(rows) == BULK
    assert {r.id for r in rows} == {f"staff{i:04d}" for i in range(1, BULK + 1)}
    assert [r.line for r in rows] == list(range(1, BULK + 1))
    assert len(validate_rows(rows, {})) == BULK


def test_truncated_search_is_an_error_not_a_partial_import(slapd: Slapd) -> None:
    """Anonymous may not page past 500 (OpenLDAP's default): fail, import nothing."""
    with pytest.raises(LdapImportError, match="sizeLimitExceeded"):
        _read(slapd.url, base=f"ou=bulk,{SUFFIX}", bind_dn=None, password=None)


def test_ldaps_rejects_an_untrusted_certificate(
    slapd: Slapd, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    with pytest.raises(LdapImportError) as info:
        _read(slapd.ldaps_url, timeout=5)
    assert "certificate" in str(info.value).lower()
    assert IMPORTER_PW not in str(info.value)


def test_ldaps_with_trusted_certificate(slapd: Slapd, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(slapd.cert))  # as an internal CA would be
    assert len(_read(slapd.ldaps_url, timeout=5)) == 10


def test_ad_shaped_directory_through_mapping_file(slapd: Slapd) -> None:
    """AD preset plus ad-mapping.json, whose stock attributes stand in for AD's.

    Real AD schema cannot run here (see ad-shaped.ldif); what this proves is the
    preset's id lowercasing and the file's overrides, on a real server.
    """
    mapping = LdapMapping.from_file(DATA / "ad-mapping.json")
    rows = _read(slapd.url, base=f"ou=ad,{SUFFIX}", mapping=mapping)
    assert [r.id for r in rows] == ["kobayashi.jun", "nakamura.aoi", "saito.ren", "soumu-uketsuke"]
    assert rows[0] == ImportRow(
        line=1, id="kobayashi.jun", kind="person", name_ja="小林 潤", name_kana="コバヤシ ジュン",
        name_en="Kobayashi Jun", email="jun.kobayashi@example.go.jp", department="総務課",
        title="課長",
    )  # fmt: skip
    assert (rows[3].kind, rows[3].department) == ("role", "総務課")
    assert rows[3].members == ("kobayashi.jun", "nakamura.aoi")
    assert len(validate_rows(rows, {})) == 4


# --- Active Directory attribute names: mocked, because AD cannot run here. ---

AD_BASE = "DC=ad,DC=example,DC=go,DC=jp"


@pytest.fixture
def mock_ad() -> Iterator[ldap3.Connection]:
    """An ldap3 MOCK_SYNC server with the AD 2012 R2 schema, seeded from ad-mock.json."""
    server = ldap3.Server("fake_ad", get_info=ldap3.OFFLINE_AD_2012_R2)
    conn = ldap3.Connection(server, client_strategy=ldap3.MOCK_SYNC, raise_exceptions=True)
    conn.strategy.entries_from_json(str(DATA / "ad-mock.json"))
    conn.bind()
    yield conn
    conn.unbind()


def test_active_directory_preset_attribute_names() -> None:
    ad = LdapMapping.active_directory()
    assert (ad.id, ad.lowercase_id) == ("sAMAccountName", True)
    assert (ad.name_ja, ad.name_kana) == ("displayName", "msDS-PhoneticDisplayName")
    assert (ad.email, ad.department, ad.title) == ("mail", "department", "title")
    assert ad.member == "member"
    assert ad.role_filter == "(objectClass=group)"
    assert "(!(objectClass=computer))" in ad.person_filter
    assert "(!(userAccountControl:1.2.840.113556.1.4.803:=2))" in ad.person_filter  # disabled


def test_active_directory_preset_on_mock(mock_ad: ldap3.Connection) -> None:
    """Mocked: ldap3's mock cannot evaluate the preset's extensible match that skips
    disabled accounts, so only that clause is dropped from the person filter here."""
    preset = {"preset": "active_directory", "roles": {"department": "description"}}
    mapping = replace(
        LdapMapping.from_dict(preset),
        person_filter="(&(objectClass=user)(!(objectClass=computer)))",
    )
    rows = read_entries(mock_ad, AD_BASE, mapping=mapping)  # the mock's order is arbitrary
    assert [(r.line, r.kind) for r in rows] == [(1, "person"), (2, "person"), (3, "role")]
    by_id = {r.id: r for r in rows}
    assert list(by_id)[2] == "jinji-madoguchi"
    assert sorted(by_id) == ["jinji-madoguchi", "sato.hanako", "yamada.taro"]  # no PC0001$
    assert replace(by_id["yamada.taro"], line=0) == ImportRow(
        line=0, id="yamada.taro", kind="person", name_ja="山田 太郎", name_kana="ヤマダ タロウ",
        email="yamada.taro@example.go.jp", department="人事課", title="係長",  # was "  係長 "
    )  # fmt: skip
    assert sorted(rows[2].members) == ["sato.hanako", "yamada.taro"]
    assert len(validate_rows(rows, {})) == 3


def test_non_utf8_value_is_reported(mock_ad: ldap3.Connection) -> None:
    bad = {"objectClass": ["user"], "sAMAccountName": "bad", "title": b"\xff\xfe"}
    mock_ad.strategy.add_entry(f"CN=Bad,OU=Staff,{AD_BASE}", bad)
    mapping = replace(LdapMapping.active_directory(), person_filter="(sAMAccountName=bad)")
    with pytest.raises(ImportRowsError, match="title is not UTF-8"):
        read_entries(mock_ad, AD_BASE, mapping=mapping)


# --- Mapping files and the password helper. ---


def test_mapping_file_overrides_preset() -> None:
    mapping = LdapMapping.from_file(DATA / "ad-mapping.json")
    assert mapping.lowercase_id  # from the preset
    assert (mapping.id, mapping.department) == ("uid", "departmentNumber")
    assert mapping.roles == {"department": "description"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[]", "JSON object"),
        ('{"preset": "novell"}', "preset"),
        ('{"uid": "cn"}', "unknown key"),
        ('{"lowercase_id": "yes"}', "wrong type"),
        ('{"roles": {"members": "x"}}', "wrong type"),
        ("{", "cannot read"),
    ],
)
def test_bad_mapping_file(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "mapping.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(LdapImportError, match=message):
        LdapMapping.from_file(path)


def test_password_from_env_or_prompt(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []

    def prompt(text: str) -> str:
        asked.append(text)
        return "typed"

    def no_terminal(_: str) -> str:
        raise EOFError

    monkeypatch.setenv(PASSWORD_ENV, "from-env")
    assert password_from_env_or_prompt(prompt) == "from-env"
    assert asked == []  # the environment wins: no prompt
    monkeypatch.delenv(PASSWORD_ENV)
    assert password_from_env_or_prompt(prompt) == "typed"
    assert asked == ["LDAP bind password: "]
    assert password_from_env_or_prompt(lambda _: "") is None
    assert password_from_env_or_prompt(no_terminal) is None
