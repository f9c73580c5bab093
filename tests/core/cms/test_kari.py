"""Key agreement pieces against NIST CAVP samples, and point validation."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from secure_send.core.cms import der, kari
from secure_send.core.cms.errors import CmsInvalidPointError
from tests.core.cms.vectors import records

ECDH = records("ecdh_p256_zzonly.txt", "COUNT")
GOOD = [r for r in ECDH if r["Result"].startswith("P")]
BAD = [r for r in ECDH if "public key" in r["Result"]]


def _point(x: str, y: str) -> bytes:
    return b"\x04" + bytes.fromhex(x) + bytes.fromhex(y)


def test_samples_cover_the_cases() -> None:
    assert len(GOOD) == 4
    assert len(BAD) == 2


@pytest.mark.parametrize("rec", GOOD, ids=lambda r: r["COUNT"])
def test_ecdh_p256_known_answers(rec: dict[str, str]) -> None:
    # The initiator (IUT) side: our private key, the CAVS public key -> Z
    private = ec.derive_private_key(int(rec["dsIUT"], 16), ec.SECP256R1())
    public = kari.load_point(_point(rec["QsCAVSx"], rec["QsCAVSy"]))
    assert kari.shared_secret(private, public) == bytes.fromhex(rec["Z"])


@pytest.mark.parametrize("rec", BAD, ids=lambda r: r["COUNT"])
def test_ecdh_public_keys_failing_validation_are_refused(rec: dict[str, str]) -> None:
    with pytest.raises(CmsInvalidPointError, match="not a point"):
        kari.load_point(_point(rec["QsCAVSx"], rec["QsCAVSy"]))


@pytest.mark.parametrize("encoded", [b"", b"\x00"])
def test_point_at_infinity_is_refused(encoded: bytes) -> None:
    with pytest.raises(CmsInvalidPointError, match="infinity"):
        kari.load_point(encoded)


@pytest.mark.parametrize("rec", records("ansx963_sha256.txt", "COUNT"), ids=lambda r: r["COUNT"])
def test_x963_kdf_sha256_known_answers(rec: dict[str, str]) -> None:
    want = bytes.fromhex(rec["key_data"])
    got = kari.x963_sha256(bytes.fromhex(rec["Z"]), bytes.fromhex(rec["SharedInfo"]), len(want))
    assert got == want


def test_shared_info_is_rfc5753_der() -> None:
    # ECC-CMS-SharedInfo: keyInfo {id-aes256-wrap}, no ukm, suppPubInfo [2] = 256 bits
    info = der.parse_one(kari.shared_info(None))
    key_info, supp = info.children
    assert key_info.children[0].oid() == kari.ID_AES256_WRAP
    assert len(key_info.children) == 1
    assert supp.ident == 0xA2
    assert supp.children[0].value == (256).to_bytes(4, "big")
    with_ukm = der.parse_one(kari.shared_info(b"u" * 64)).children
    assert with_ukm[1].ident == 0xA0
    assert with_ukm[1].children[0].value == b"u" * 64
