"""A real OpenLDAP ``slapd`` for the LDAP import tests (see test_ldap_import.py)."""

from __future__ import annotations

import datetime
import ipaddress
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from string import Template

import ldap3
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

SLAPD = Path("/usr/sbin/slapd")
DATA = Path(__file__).resolve().parents[2] / "data" / "ldap"
SUFFIX = "dc=example,dc=go,dc=jp"
HONSHO = f"ou=honsho,{SUFFIX}"
PEOPLE = f"ou=people,{HONSHO}"
IMPORTER_DN = f"cn=importer,ou=service,{SUFFIX}"
IMPORTER_PW = "Importer-Pass-7319"  # userPassword in ministry.ldif
ROOT_DN = f"cn=admin,{SUFFIX}"
ROOT_PW = "Root-Secret-5521"
BULK = 1200


@dataclass(frozen=True)
class Slapd:
    url: str  # ldap://127.0.0.1:PORT/: StartTLS before any bind (slapd refuses a clear one)
    ldaps_url: str  # ldaps://localhost:PORT/
    ca: Path  # the throw-away CA that signed slapd's certificate (localhost, 127.0.0.1)


def free_ports(count: int) -> list[int]:
    """Ports on 127.0.0.1 that nothing listens on now (held together, so all differ)."""
    socks = [socket.socket() for _ in range(count)]
    for sock in socks:
        sock.bind(("127.0.0.1", 0))
    ports = [int(sock.getsockname()[1]) for sock in socks]
    for sock in socks:
        sock.close()
    return ports


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


_CA_USAGE = x509.KeyUsage(
    digital_signature=False, content_commitment=False, key_encipherment=False,
    data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
    encipher_only=False, decipher_only=False,
)  # fmt: skip


def write_ca(work: Path, stem: str = "ca") -> tuple[Path, ec.EllipticCurvePrivateKey]:
    """A self-signed CA, as an organisation's internal one: ``WORK/STEM.pem`` and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(f"Test LDAP CA {stem}"))
        .issuer_name(_name(f"Test LDAP CA {stem}"))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_CA_USAGE, critical=True)
        .sign(key, hashes.SHA256())
    )
    path = work / f"{stem}.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path, key


def _write_cert(work: Path) -> Path:
    """slapd's certificate (``cert.pem``, ``key.pem``), signed by a new CA; returns the CA."""
    ca_path, ca_key = write_ca(work)
    ca_cert = x509.load_pem_x509_certificate(ca_path.read_bytes())
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    san = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("localhost"))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(san), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
        .sign(ca_key, hashes.SHA256())
    )
    (work / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (work / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return ca_path


def _write_config(work: Path) -> Path:
    hashed = subprocess.run(
        ["/usr/sbin/slappasswd", "-s", ROOT_PW], capture_output=True, text=True, check=True
    ).stdout.strip()
    (work / "db").mkdir()
    module = "moduleload back_mdb" if Path("/usr/lib/ldap/back_mdb.so").exists() else ""
    template = Template((DATA / "slapd.conf.in").read_text(encoding="utf-8"))
    conf = work / "slapd.conf"
    conf.write_text(template.substitute(work=work, rootpw=hashed, moduleload=module))
    return conf


def _bulk_ldif(work: Path) -> Path:
    path = work / "bulk.ldif"
    parts = [f"dn: ou=bulk,{SUFFIX}\nobjectClass: organizationalUnit\nou: bulk\n"]
    for i in range(1, BULK + 1):
        parts.append(
            f"dn: uid=staff{i:04d},ou=bulk,{SUFFIX}\nobjectClass: inetOrgPerson\n"
            f"uid: staff{i:04d}\ncn: Staff {i}\ncn;lang-ja: 職員 {i}号\nsn: Staff\n"
            f"mail: staff{i:04d}@example.go.jp\nou: 大量課\n"
        )
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


def _wait_until_up(proc: subprocess.Popen[bytes], url: str, log: Path) -> None:
    for _ in range(100):  # at most ~10 s
        if proc.poll() is not None:
            pytest.fail(f"slapd exited with {proc.returncode}: {log.read_text(errors='replace')}")
        try:
            ldap3.Connection(url, auto_bind=True).unbind()
            return
        except ldap3.core.exceptions.LDAPException:
            time.sleep(0.1)
    pytest.fail(f"slapd did not answer on {url}: {log.read_text(errors='replace')}")


@pytest.fixture(scope="module")
def slapd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Slapd]:
    if not SLAPD.exists():
        pytest.skip("slapd not installed: run scripts/system-packages.sh (slapd, ldap-utils)")
    work = tmp_path_factory.mktemp("slapd")
    ca = _write_cert(work)
    conf = _write_config(work)
    ldifs = [DATA / n for n in ("ministry.ldif", "ad-shaped.ldif", "dangling.ldif")]
    for ldif in [*ldifs, _bulk_ldif(work)]:
        subprocess.run(["/usr/sbin/slapadd", "-q", "-f", str(conf), "-l", str(ldif)], check=True)
    port, tls_port = free_ports(2)
    urls = f"ldap://127.0.0.1:{port}/ ldaps://127.0.0.1:{tls_port}/"
    log = work / "slapd.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(SLAPD), "-h", urls, "-f", str(conf), "-d", "0"], stdout=out, stderr=out
        )
    try:
        _wait_until_up(proc, f"ldap://127.0.0.1:{port}", log)
        yield Slapd(f"ldap://127.0.0.1:{port}/", f"ldaps://localhost:{tls_port}/", ca)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
