"""HTTPS only, except to this machine (secure_send/client/urls.py; issue 14, item 9).

Plain http:// used to be accepted for any host. Now every way to a server refuses
it for anything but loopback — the API object, enrolment (before any key is made)
and IT policy's pin — while the test suite and the demo keep using
http://127.0.0.1. An IT-pinned CA (policy key ``ca_bundle``) is tested against a
real TLS server on 127.0.0.1 whose certificate only that CA signed.
"""

from __future__ import annotations

import datetime as dt
import http.server
import ipaddress
import json
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import nacl.signing
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from secure_send.client.api import ServerApi, Signer
from secure_send.client.errors import ClientError, ConnectionLost
from secure_send.client.policy import POLICY_FILE_ENV, PolicyError, load_policy, parse_policy
from secure_send.client.profile import Profile
from secure_send.client.urls import insecure, is_loopback, require_secure
from secure_send.core.error_codes import ErrorCode
from secure_send.org import ops
from tests.client.conftest import Person
from tests.directory_kit import HANAKO
from tests.server.conftest import Server

SECURE = [
    "https://drop.example.go.jp",
    "https://drop.example.go.jp:8443/base",
    "http://127.0.0.1:8080",
    "http://127.1.2.3",
    "http://[::1]:9000",
    "http://localhost:8080",
    "http://LOCALHOST",
    "http://[::1%25lo]:9000",
]
INSECURE = [
    "http://drop.example.go.jp",
    "http://192.0.2.10:8080",
    "http://[2001:db8::1]",
    "http://localhost.example.com",
    "http://127.0.0.1.nip.io",
    "http://0.0.0.0:8080",
    "ftp://127.0.0.1",
    # not in the hosts file for glibc: "localhost." is asked of DNS, which may answer anything
    "http://localhost.",
    "http://LOCALHOST.:8080",
]
# urlsplit reads the host after the "@"; requests (urllib3) connects to the one before it
PARSER_TRICKS = [
    "http://drop.example.go.jp\\@127.0.0.1:8080",
    "http://192.0.2.10:8080\\@127.0.0.1/",
    "http://drop.example.go.jp\\@localhost",
    "http://user@127.0.0.1:8080",
    "http://drop.example.go.jp\t@127.0.0.1",
]


@pytest.mark.parametrize("url", SECURE)
def test_https_and_loopback_http_are_accepted(url: str) -> None:
    assert not insecure(url)
    assert require_secure(url) == url
    ServerApi(url).close()


@pytest.mark.parametrize("url", INSECURE)
def test_plain_http_to_another_machine_is_refused(url: str) -> None:
    assert insecure(url)
    with pytest.raises(ClientError) as caught:
        ServerApi(url)
    assert caught.value.code == ErrorCode.INSECURE_URL
    assert "https://" in str(caught.value)


@pytest.mark.parametrize("url", PARSER_TRICKS)
def test_a_url_that_parsers_read_differently_is_refused(url: str) -> None:
    """issue 14 follow-up: the check read the host with urlsplit while requests connects
    wherever urllib3 reads it: ``http://evil\\@127.0.0.1`` went in clear text to evil."""
    assert insecure(url)
    with pytest.raises(ClientError) as caught:
        ServerApi(url)
    assert caught.value.code == ErrorCode.INSECURE_URL


def test_loopback_is_exactly_127_8_and_1_and_localhost() -> None:
    assert all(is_loopback(h) for h in ("127.255.255.254", "::1", "localhost"))
    assert not any(
        is_loopback(h) for h in ("128.0.0.1", "::2", "", "localhost.example", "localhost.")
    )


def test_it_policy_cannot_pin_a_clear_text_server() -> None:
    with pytest.raises(PolicyError) as caught:
        parse_policy({"server_url": "http://drop.example.go.jp"}, "test")
    assert caught.value.code == ErrorCode.INSECURE_URL
    assert parse_policy({"server_url": "http://127.0.0.1:8080"}, "t").server_url


def test_enrol_refuses_a_clear_text_server_before_making_keys(
    org_server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = ops.client_config(org_server.home, "http://drop.example.go.jp")
    path = tmp_path / "org-config.json"
    path.write_text(json.dumps(config))
    person = Person(tmp_path / "hanako", HANAKO, "laptop", monkeypatch)
    argv = ("enrol", "--org-config", str(path), "--user", HANAKO, "--device", "laptop")
    rc, _, err = person.run(*argv, stdin="ABCD-EFGH\n")
    assert rc == 1
    assert "(insecure_url)" in err
    profile = Profile(person.home)
    assert not profile.key_file.exists()
    assert not profile.identity_file.exists()
    # --server cannot switch a good config to a clear-text one either
    path.write_text(json.dumps(ops.client_config(org_server.home, org_server.url)))
    rc, _, err = person.run(*argv, "--server", "http://192.0.2.10", stdin="ABCD-EFGH\n")
    assert rc == 1
    assert "(insecure_url)" in err


# ---------------------------------------------------------------- an IT-pinned CA


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _certificate(
    subject: str, issuer: str, key: ec.EllipticCurvePrivateKey, signer: ec.EllipticCurvePrivateKey
) -> x509.CertificateBuilder:
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
    )


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """``(url, ca_bundle)``: an HTTPS server on 127.0.0.1 answering ``GET /v1/policy``,
    its certificate issued by a private CA that no system trusts."""
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = (
        _certificate("Test ministry CA", "Test ministry CA", ca_key, ca_key)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    leaf = (
        _certificate("127.0.0.1", "Test ministry CA", key, ca_key)
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    bundle = tmp_path / "ca.pem"
    bundle.write_bytes(ca.public_bytes(pem))
    chain = tmp_path / "server.pem"
    chain.write_bytes(
        leaf.public_bytes(pem)
        + key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    limits = {
        "max_body_bytes": 1,
        "max_file_bytes": 1,
        "default_expiry_days": 7,
        "max_expiry_days": 30,
        "quota_bytes": 1,
        "clock_skew_seconds": 300,
    }

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps(limits).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(chain)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{httpd.server_address[1]}", bundle
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_the_it_pinned_ca_is_what_the_certificate_is_checked_against(
    tls_server: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, bundle = tls_server
    # requests lets this variable replace a session's CA setting: it must not win over IT's
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", ssl.get_default_verify_paths().openssl_cafile)
    # /v1/policy is for enrolled devices: any signer will do for this stand-in server
    signer = Signer("u", "d", nacl.signing.SigningKey.generate())
    with pytest.raises(ConnectionLost):  # the system's CAs do not know this one
        ServerApi(url, signer).policy()
    policy_file = tmp_path / "policy.json"
    policy_file.write_text(json.dumps({"ca_bundle": str(bundle)}))
    monkeypatch.setenv(POLICY_FILE_ENV, str(policy_file))
    policy = load_policy("linux")
    assert policy.ca_bundle == str(bundle)
    api = ServerApi(url, signer, ca_bundle=policy.ca_bundle)
    assert api.policy().max_expiry_days == 30
    api.close()


def test_a_ca_bundle_must_exist() -> None:
    with pytest.raises(PolicyError, match="does not exist") as caught:
        parse_policy({"ca_bundle": "/nonexistent/ca.pem"}, "test")
    assert caught.value.code == ErrorCode.BAD_POLICY
    with pytest.raises(PolicyError, match="absolute path"):
        parse_policy({"ca_bundle": "ca.pem"}, "test")
