"""P-256 identities made by the real ``openssl`` command line, in a temp folder."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import NamedTuple

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec


class Ident(NamedTuple):
    key_path: Path
    cert_path: Path
    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate
    ski: bytes

    @property
    def public(self) -> ec.EllipticCurvePublicKey:
        return self.key.public_key()


def make_ident(folder: Path, name: str) -> Ident:
    key_path, cert_path = folder / f"{name}.key", folder / f"{name}.crt"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-keyout", str(key_path), "-out", str(cert_path), "-days", "2",
         "-subj", f"/CN={name}", "-addext", "subjectKeyIdentifier=hash"],
        check=True, capture_output=True,
    )  # fmt: skip
    key = serialization.load_pem_private_key(key_path.read_bytes(), None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    return Ident(key_path, cert_path, key, cert, ski)


@pytest.fixture(scope="session")
def idents(tmp_path_factory: pytest.TempPathFactory) -> list[Ident]:
    """Six identities: five recipients and one outsider (the last)."""
    if shutil.which("openssl") is None:
        pytest.fail("the openssl command line is needed (scripts/system-packages.sh)")
    folder = tmp_path_factory.mktemp("cms-pki")
    return [make_ident(folder, f"person{i}") for i in range(6)]
