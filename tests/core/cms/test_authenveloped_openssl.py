"""Interoperability with the real ``openssl cms`` command line, both directions.

Sizes go up to 16 MiB here (``openssl cms -decrypt`` holds the whole message in
memory); the 64 MiB cases run through the CLI (tests/cli/test_cli_cms_openssl.py) and
the 1 GiB figures are benchmarks/bench_cms.py's.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from secure_send.core.cms import authenveloped as ae
from secure_send.core.cms.errors import CmsUnsupportedError
from tests.core.cms.conftest import Ident

SIZES = [0, 1, 65537, 5 * 1024 * 1024 + 3, 16 * 1024 * 1024]


def _openssl(*args: str | Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["openssl", *map(str, args)], capture_output=True, check=False)


def _openssl_encrypt(
    plain: Path, out: Path, to: list[Ident], *extra: str, stream: bool = True
) -> None:
    recips: list[str | Path] = []
    for who in to:
        recips += ["-recip", who.cert_path, *extra]
    # OpenSSL 3.0 fails "-stream" with GCM on an empty input ("Error writing CMS
    # output"), so an empty file is made without it (definite-length DER)
    streaming = ["-stream"] if stream and plain.stat().st_size else []
    r = _openssl(
        "cms", "-encrypt", "-binary", *streaming, "-outform", "DER", "-aes-256-gcm",
        "-in", plain, "-out", out, *recips,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr


def _ours_decrypt(msg: Path, out: Path, who: Ident, **kw: object) -> bytes:
    with msg.open("rb") as src, out.open("wb") as dst:
        ae.decrypt(src, dst, who.key, **kw)  # type: ignore[arg-type]
    return out.read_bytes()


@pytest.mark.parametrize("size", SIZES)
def test_openssl_opens_ours(idents: list[Ident], tmp_path: Path, size: int) -> None:
    plain, msg = tmp_path / "plain", tmp_path / "msg.der"
    plain.write_bytes(os.urandom(size))
    with plain.open("rb") as src, msg.open("wb") as dst:
        ae.encrypt(src, dst, [(w.ski, w.public) for w in idents[:2]])
    for who in idents[:2]:
        r = _openssl(
            "cms", "-decrypt", "-binary", "-inform", "DER", "-in", msg,
            "-inkey", who.key_path, "-recip", who.cert_path,
        )  # fmt: skip
        assert r.returncode == 0, r.stderr
        assert r.stdout == plain.read_bytes()


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("keyid", [True, False], ids=["keyid", "issuer-serial"])
def test_we_open_openssls(idents: list[Ident], tmp_path: Path, size: int, keyid: bool) -> None:
    plain, msg, out = tmp_path / "plain", tmp_path / "msg.der", tmp_path / "out"
    plain.write_bytes(os.urandom(size))
    extra = ["-keyid"] if keyid else []
    _openssl_encrypt(plain, msg, idents[:3], *extra, "-keyopt", "ecdh_kdf_md:sha256")
    data = plain.read_bytes()
    for who in idents[:3]:
        assert _ours_decrypt(msg, out, who, cert=who.cert) == data
        assert _ours_decrypt(msg, out, who) == data  # no identifier: the key is tried
    if keyid:
        assert _ours_decrypt(msg, out, idents[1], ski=idents[1].ski) == data


@pytest.mark.parametrize("size", [0, 65537, 1024 * 1024])
def test_we_open_openssls_definite_length_der(
    idents: list[Ident], tmp_path: Path, size: int
) -> None:
    # without -stream OpenSSL writes DER: one primitive [0] of the whole content
    plain, msg, out = tmp_path / "plain", tmp_path / "msg.der", tmp_path / "out"
    plain.write_bytes(os.urandom(size))
    _openssl_encrypt(
        plain, msg, idents[:1], "-keyid", "-keyopt", "ecdh_kdf_md:sha256", stream=False
    )
    assert msg.read_bytes()[1] != 0x80  # definite length
    assert _ours_decrypt(msg, out, idents[0]) == plain.read_bytes()


def test_openssls_default_kdf_is_refused_as_unsupported(
    idents: list[Ident], tmp_path: Path
) -> None:
    # without ecdh_kdf_md:sha256 OpenSSL uses the SHA-1 KDF, which this suite refuses
    plain, msg = tmp_path / "plain", tmp_path / "msg.der"
    plain.write_bytes(b"hello")
    _openssl_encrypt(plain, msg, idents[:1], "-keyid")
    with pytest.raises(CmsUnsupportedError, match="sha256kdf"):
        _ours_decrypt(msg, tmp_path / "out", idents[0])


def test_enveloped_data_is_refused_as_unsupported(idents: list[Ident], tmp_path: Path) -> None:
    plain, msg = tmp_path / "plain", tmp_path / "msg.der"
    plain.write_bytes(b"hello")
    r = _openssl(
        "cms", "-encrypt", "-binary", "-outform", "DER", "-aes-256-cbc", "-in", plain,
        "-out", msg, "-recip", idents[0].cert_path, "-keyopt", "ecdh_kdf_md:sha256",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    wanted = r"not CMS AuthEnvelopedData \(EnvelopedData, e.g. AES-CBC\): ask for AES-256-GCM"
    with pytest.raises(CmsUnsupportedError, match=wanted):
        _ours_decrypt(msg, tmp_path / "out", idents[0])
