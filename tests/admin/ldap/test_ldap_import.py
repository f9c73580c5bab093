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
import ssl
import threading
import time
import traceback
from collections.abc import Callable, Iterator
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
    write_ca,
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
    rows = _read(slapd.url, ca_file=slapd.ca)
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
    roles = {r.id: r for r in _read(slapd.url, ca_file=slapd.ca) if r.kind == "role"}
    desk = roles["jinji-nenmatsu"]
    assert desk.name_ja == "人事課 年末調整受付"
    assert desk.name_kana == "ジンジカ ネンマツチョウセイウケツケ"
    assert (desk.email, desk.department) == ("nenmatsu@example.go.jp", "人事課")
    assert sorted(desk.members) == ["sato.hanako", "suzuki.ichiro", "yamada.taro"]
    # One member DN is written "UID=Ito.Sakura, OU=People, ..." in the LDIF.
    assert sorted(roles["joho-helpdesk"].members) == ["ito.sakura", "watanabe.yuki"]


def test_imported_rows_validate(slapd: Slapd) -> None:
    entries = {e.id: e for e in validate_rows(_read(slapd.url, ca_file=slapd.ca), {})}
    assert len(entries) == 10
    assert entries["jinji-nenmatsu"].kind is Kind.ROLE
    assert entries["yoshida.ken"].department == "総務課"


def test_members_outside_the_search_are_looked_up(slapd: Slapd) -> None:
    existing = {
        e.id: e
        for e in validate_rows(_read(slapd.url, ca_file=slapd.ca), {})
        if e.kind is Kind.PERSON
    }
    rows = _read(slapd.url, ca_file=slapd.ca, base=f"ou=roles,{HONSHO}")
    assert [r.id for r in rows] == ["jinji-nenmatsu", "joho-helpdesk"]
    assert [r.line for r in rows] == [1, 2]
    assert len(validate_rows(rows, existing)) == 2


def test_search_filter_narrows_people_and_roles(slapd: Slapd) -> None:
    rows = _read(slapd.url, ca_file=slapd.ca, search_filter="ou=人事課")
    assert sorted(r.id for r in rows) == [
        "jinji-nenmatsu", "sato.hanako", "suzuki.ichiro", "yamada.taro",
    ]  # fmt: skip


def test_dangling_member_is_reported(slapd: Slapd) -> None:
    with pytest.raises(ImportRowsError) as info:
        _read(slapd.url, ca_file=slapd.ca, base=f"ou=dangling,{SUFFIX}")
    [problem] = info.value.problems
    assert problem.line == 1
    assert "uid=nobody" in problem.message


def test_anonymous_bind_reads(slapd: Slapd) -> None:
    rows = _read(
        slapd.url, ca_file=slapd.ca, base=f"ou=people,{HONSHO}", bind_dn=None, password=None
    )
    assert len(rows) == 8


def test_wrong_password_error_never_shows_password(slapd: Slapd) -> None:
    wrong = "Wr0ng-Secret-Value-8842"
    for dn in (IMPORTER_DN, ROOT_DN):
        with pytest.raises(LdapImportError) as info:
            _read(slapd.url, ca_file=slapd.ca, bind_dn=dn, password=wrong)
        text = "".join(traceback.format_exception(info.value))
        assert wrong not in text
        assert "invalidCredentials" in str(info.value)
        assert dn in str(info.value)
        assert info.value.__cause__ is None
        assert info.value.__suppress_context__


def test_root_dn_binds_with_hashed_rootpw(slapd: Slapd) -> None:
    assert len(_read(slapd.url, ca_file=slapd.ca, bind_dn=ROOT_DN, password=ROOT_PW)) == 10


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
        with pytest.raises(LdapImportError, match="cannot start TLS"):
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
    tls = ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=str(slapd.ca))
    server = ldap3.Server(slapd.url.rstrip("/"), tls=tls)
    auto_bind = ldap3.AUTO_BIND_TLS_BEFORE_BIND
    conn = ldap3.Connection(server, IMPORTER_DN, IMPORTER_PW, auto_bind=auto_bind)
    conn.search(f"ou=bulk,{SUFFIX}", "(objectClass=inetOrgPerson)", attributes=["uid"])
    assert conn.result["description"] == "sizeLimitExceeded"  # the limit is real
    conn.unbind()
    rows = _read(slapd.url, ca_file=slapd.ca, base=f"ou=bulk,{SUFFIX}")
    assert len(rows) == BULK
    assert {r.id for r in rows} == {f"staff{i:04d}" for i in range(1, BULK + 1)}
    assert [r.line for r in rows] == list(range(1, BULK + 1))
    assert len(validate_rows(rows, {})) == BULK


def test_truncated_search_is_an_error_not_a_partial_import(slapd: Slapd) -> None:
    """Anonymous may not page past 500 (OpenLDAP's default): fail, import nothing."""
    with pytest.raises(LdapImportError, match="sizeLimitExceeded"):
        _read(slapd.url, ca_file=slapd.ca, base=f"ou=bulk,{SUFFIX}", bind_dn=None, password=None)


def test_ldaps_rejects_an_untrusted_certificate(
    slapd: Slapd, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    with pytest.raises(LdapImportError) as info:
        _read(slapd.ldaps_url, timeout=5)
    assert "certificate" in str(info.value).lower()
    assert IMPORTER_PW not in str(info.value)


def test_ldaps_with_trusted_certificate(slapd: Slapd, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(slapd.ca))  # as an internal CA would be
    assert len(_read(slapd.ldaps_url, timeout=5)) == 10


def test_ad_shaped_directory_through_mapping_file(slapd: Slapd) -> None:
    """AD preset plus ad-mapping.json, whose stock attributes stand in for AD's.

    Real AD schema cannot run here (see ad-shaped.ldif); what this proves is the
    preset's id lowercasing and the file's overrides, on a real server.
    """
    mapping = LdapMapping.from_file(DATA / "ad-mapping.json")
    rows = _read(slapd.url, ca_file=slapd.ca, base=f"ou=ad,{SUFFIX}", mapping=mapping)
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


# --- No bind in clear (issue 14, item 16) -------------------------------------------


class RecordingServer:
    """A plain TCP listener on 127.0.0.1 that records every byte one client sends.

    ``starttls``: how it answers an LDAP message (StartTLS is the first one a correct
    client sends): ``"refuse"`` (protocolError, as a StartTLS-stripping man in the
    middle would), ``"pretend"`` (success, then no TLS at all) or ``"silent"``.
    """

    def __init__(self, starttls: str) -> None:
        self.starttls = starttls
        self.received = bytearray()
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"ldap://127.0.0.1:{self._sock.getsockname()[1]}/"
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        self._sock.settimeout(10)
        conn, _ = self._sock.accept()
        with conn:
            conn.settimeout(3)
            answered = False
            while True:
                try:
                    chunk = conn.recv(65536)
                except OSError:
                    return
                if not chunk:
                    return
                self.received += chunk
                if not answered and self.starttls != "silent":
                    answered = True
                    conn.sendall(_extended_response(bytes(self.received), self.starttls))

    def close(self) -> bytes:
        self._thread.join(timeout=15)
        self._sock.close()
        return bytes(self.received)


def _extended_response(request: bytes, mode: str) -> bytes:
    """An LDAP ExtendedResponse to ``request`` (its messageID copied): success or
    protocolError (2)."""

    def header(at: int) -> tuple[int, int]:  # (content start, content length) of a TLV
        first = request[at + 1]
        if first < 0x80:
            return at + 2, first
        size = first & 0x7F
        return at + 2 + size, int.from_bytes(request[at + 2 : at + 2 + size], "big")

    start, _ = header(0)  # the LDAPMessage SEQUENCE
    id_start, id_len = header(start)  # messageID INTEGER
    message_id = request[start : id_start + id_len]
    code = 0 if mode == "pretend" else 2
    body = bytes([0x0A, 0x01, code, 0x04, 0x00, 0x04, 0x00])  # resultCode, matchedDN, message
    op = bytes([0x78, len(body)]) + body  # [APPLICATION 24] ExtendedResponse
    content = message_id + op
    return bytes([0x30, len(content)]) + content


@pytest.fixture
def recorder() -> Iterator[Callable[[str], RecordingServer]]:
    started: list[RecordingServer] = []

    def start(starttls: str) -> RecordingServer:
        started.append(RecordingServer(starttls))
        return started[-1]

    yield start
    for server in started:
        server.close()


@pytest.mark.parametrize("starttls", ["refuse", "pretend"])
def test_ldap_url_sends_no_bind_unless_starttls_succeeds(
    recorder: Callable[[str], RecordingServer], starttls: str
) -> None:
    """A server (or a man in the middle) that refuses StartTLS, or says yes and stays
    in clear, never receives the bind: not the password, not even the bind DN."""
    server = recorder(starttls)
    with pytest.raises(LdapImportError) as info:
        _read(server.url, timeout=3)
    received = server.close()
    assert received, "the client did connect"
    assert IMPORTER_PW.encode() not in received
    assert IMPORTER_DN.encode() not in received
    assert "StartTLS" in str(info.value)
    assert IMPORTER_PW not in str(info.value)


def test_anonymous_reads_need_tls_too(recorder: Callable[[str], RecordingServer]) -> None:
    """The directory read decides who can receive files: not over a clear channel either."""
    server = recorder("refuse")
    with pytest.raises(LdapImportError) as info:
        _read(server.url, bind_dn=None, password=None, timeout=3)
    assert HONSHO.encode() not in server.close()  # no search was sent
    assert "StartTLS" in str(info.value)


def test_only_the_lab_flag_binds_in_clear(recorder: Callable[[str], RecordingServer]) -> None:
    """The control for the tests above: the recorder does see a clear bind when asked for."""
    server = recorder("silent")
    with pytest.raises(LdapImportError, match="cannot bind"):
        _read(server.url, timeout=1, insecure_plaintext_bind_for_lab_only=True)
    assert IMPORTER_PW.encode() in server.close()


def test_starttls_with_the_pinned_ca(slapd: Slapd, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    assert len(_read(slapd.url, ca_file=slapd.ca, timeout=5)) == 10


def test_the_test_slapd_refuses_a_clear_simple_bind(slapd: Slapd) -> None:
    """slapd is set up as production should be (``security simple_bind=128``): the
    binding tests above can only pass because StartTLS ran."""
    with pytest.raises(LdapImportError, match="confidentialityRequired"):
        _read(slapd.url, timeout=5, insecure_plaintext_bind_for_lab_only=True)


def test_starttls_rejects_an_untrusted_certificate(
    slapd: Slapd, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    with pytest.raises(LdapImportError, match="StartTLS") as info:
        _read(slapd.url, timeout=5)
    assert "certificate" in str(info.value).lower()


@pytest.mark.parametrize("which", ["url", "ldaps_url"])
def test_the_ca_file_is_the_only_ca_trusted(
    slapd: Slapd, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, which: str
) -> None:
    """Pinned: even with slapd's CA trusted system-wide, another ``ca_file`` refuses it."""
    monkeypatch.setenv("SSL_CERT_FILE", str(slapd.ca))
    other, _ = write_ca(tmp_path, "other")
    with pytest.raises(LdapImportError) as info:
        _read(getattr(slapd, which), ca_file=other, timeout=5)
    assert "certificate" in str(info.value).lower()
    assert len(_read(slapd.ldaps_url, ca_file=slapd.ca, timeout=5)) == 10


def test_a_missing_ca_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(LdapImportError, match="CA file"):
        _read("ldaps://127.0.0.1:1/", ca_file=tmp_path / "nope.pem")


def test_no_bind_when_starttls_quietly_does_nothing(
    recorder: Callable[[str], RecordingServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    """ldap3's ``start_tls()`` can return False without raising (e.g. an operation
    outstanding): the socket itself is checked before the bind. That path cannot be
    provoked from outside, so ``start_tls`` is replaced by one that does nothing."""
    monkeypatch.setattr(ldap3.Connection, "start_tls", lambda self, read_server_info=True: False)
    server = recorder("silent")
    with pytest.raises(LdapImportError, match="not encrypted"):
        _read(server.url, timeout=3)
    assert IMPORTER_PW.encode() not in server.close()
