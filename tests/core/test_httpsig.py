"""RFC 9421 request signatures: bases checked by hand, the RFC's Ed25519 vector, failures."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib

import nacl.signing
import pytest
from hypothesis import given
from hypothesis import strategies as st

from secure_send.core import httpsig
from secure_send.core.errors import SecureSendError

NOW = dt.datetime(2026, 1, 31, 9, 0, 0, tzinfo=dt.UTC)
URL = "https://drop.example.go.jp/v1/whoami?x=1"
KEY = nacl.signing.SigningKey(bytes(range(32)))
KEY_ID = "hanako.sato/laptop"
NONCE = "AAAAAAAAAAAAAAAAAAAAAA"


def _signed(body: bytes = b"", **overrides: object) -> dict[str, str]:
    args: dict[str, object] = {
        "method": "post",
        "url": URL,
        "headers": {"Content-Type": "application/json"},
        "body_digest": httpsig.content_digest(body),
        "key_id": KEY_ID,
        "signing_key": KEY,
        "now": NOW,
        "nonce": NONCE,
        **overrides,
    }
    return httpsig.sign_request(**args)  # type: ignore[arg-type]


def _verify(headers: dict[str, str], body: bytes = b"", **kw: object) -> httpsig.SignedRequest:
    def resolve(user: str, device: str) -> bytes:
        assert (user, device) == ("hanako.sato", "laptop")
        return bytes(KEY.verify_key)

    args: dict[str, object] = {"now": NOW, **kw}
    return httpsig.verify_request("POST", URL, headers, body, resolve, **args)  # type: ignore[arg-type]


def test_rfc9421_b26_ed25519_vector() -> None:
    """RFC 9421 Appendix B.2.6 with the test key of B.1.4: same base, same signature."""
    der = base64.b64decode("MC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF")
    key = nacl.signing.SigningKey(der[-32:])
    components = [
        ("date", "Tue, 20 Apr 2021 02:07:55 GMT"),
        ("@method", "POST"),
        ("@path", "/foo"),
        ("@authority", "example.com"),
        ("content-type", "application/json"),
        ("content-length", "18"),
    ]
    params = httpsig.signature_params(
        [c for c, _ in components], [("created", 1618884473), ("keyid", "test-key-ed25519")]
    )
    base = httpsig.signature_base(components, params)
    assert base.decode().endswith(
        '"@signature-params": ("date" "@method" "@path" "@authority" "content-type" '
        '"content-length");created=1618884473;keyid="test-key-ed25519"'
    )
    expected = (
        "wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw=="
    )
    assert base64.b64encode(key.sign(base).signature).decode() == expected


def test_signature_base_by_hand() -> None:
    headers = _signed(b'{"a":1}')
    digest = "sha-256=:" + base64.b64encode(hashlib.sha256(b'{"a":1}').digest()).decode() + ":"
    assert headers["Content-Digest"] == digest
    params = (
        '("@method" "@target-uri" "content-digest");created=1769850000;'
        'keyid="hanako.sato/laptop";nonce="AAAAAAAAAAAAAAAAAAAAAA";alg="ed25519"'
    )
    assert headers["Signature-Input"] == "sig1=" + params
    base = (
        f'"@method": POST\n"@target-uri": {URL}\n"content-digest": {digest}\n'
        f'"@signature-params": {params}'
    ).encode()
    signature = base64.b64encode(KEY.sign(base).signature).decode()
    assert headers["Signature"] == f"sig1=:{signature}:"


def test_round_trip() -> None:
    signed = _verify(_signed(b"body"), b"body")
    assert (signed.user, signed.device, signed.nonce) == ("hanako.sato", "laptop", NONCE)
    assert signed.created == int(NOW.timestamp())


def test_unsigned() -> None:
    with pytest.raises(httpsig.UnsignedError) as err:
        _verify({})
    assert err.value.code == "unsigned"
    assert isinstance(err.value, SecureSendError)


COMPONENTS = '("@method" "@target-uri" "content-digest")'
CREATED = ";created=1769850000"
KEYID = ';keyid="hanako.sato/laptop"'
NONCE_P = ';nonce="AAAAAAAAAAAAAAAAAAAAAA"'
ALG = ';alg="ed25519"'


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("Signature-Input", f'sig1=("@method" "@target-uri"){CREATED}{KEYID}{NONCE_P}{ALG}'),
        (
            "Signature-Input",
            f'sig1=("@method" "@target-uri" "content-digest" "date"){CREATED}{KEYID}{NONCE_P}{ALG}',
        ),
        ("Signature-Input", f'sig1={COMPONENTS}{CREATED}{KEYID}{NONCE_P};alg="rsa-pss-sha512"'),
        ("Signature-Input", f'sig1={COMPONENTS}{CREATED};keyid="hanako.sato"{NONCE_P}{ALG}'),
        ("Signature-Input", f'sig1={COMPONENTS}{CREATED}{KEYID};nonce="short"{ALG}'),
        ("Signature-Input", f"sig1={COMPONENTS}{CREATED}{CREATED}{KEYID}{NONCE_P}{ALG}"),
        ("Signature-Input", f"sig1={COMPONENTS}{CREATED}{KEYID}{NONCE_P}{ALG};expires=1"),
        ("Signature-Input", f"sig1={COMPONENTS}{CREATED}{KEYID}{NONCE_P}"),
        ("Signature-Input", f"sig1={COMPONENTS};created=x{KEYID}{NONCE_P}{ALG}"),
        ("Signature-Input", "garbage"),
        ("Signature", "sig2=:AAAA:"),
        ("Signature", "sig1=:not base64!:"),
        ("Signature", "sig1=:AAAA:"),
    ],
)
def test_malformed_or_wrong_headers_refused(header: str, value: str) -> None:
    headers = {**_signed(), header: value}
    with pytest.raises(httpsig.SignatureError) as err:
        _verify(headers)
    assert err.value.code == "bad_signature"


def test_wrong_key_body_method_url() -> None:
    other = nacl.signing.SigningKey(bytes(32))
    with pytest.raises(httpsig.BadSignatureError):
        _verify(_signed(signing_key=other))
    with pytest.raises(httpsig.BadSignatureError, match="Content-Digest"):
        _verify(_signed(b"one"), b"two")
    with pytest.raises(httpsig.BadSignatureError):
        _verify(_signed(method="GET"))
    with pytest.raises(httpsig.BadSignatureError):
        _verify(_signed(url=URL + "2"))


@pytest.mark.parametrize("seconds", [-301, 301, -86400])
def test_clock_skew(seconds: int) -> None:
    headers = _signed(now=NOW + dt.timedelta(seconds=seconds))
    with pytest.raises(httpsig.ClockSkewError, match="clock skew") as err:
        _verify(headers)
    assert err.value.code == "clock_skew"


def test_within_window_accepted() -> None:
    _verify(_signed(now=NOW - dt.timedelta(seconds=299)))
    _verify(_signed(now=NOW + dt.timedelta(seconds=299)))


def test_errors_carry_no_signature_or_key() -> None:
    headers = _signed(signing_key=nacl.signing.SigningKey(bytes(32)))
    with pytest.raises(httpsig.SignatureError) as err:
        _verify(headers)
    text = str(err.value)
    assert headers["Signature"][6:20] not in text
    assert base64.b64encode(bytes(KEY.verify_key)).decode()[:12] not in text


def test_key_id() -> None:
    assert httpsig.key_id("hanako.sato", "laptop") == KEY_ID
    assert httpsig.parse_key_id(KEY_ID) == ("hanako.sato", "laptop")
    for bad in ("../x/y", "a/b/c", "A/b", "a", "/b"):
        with pytest.raises(httpsig.SignatureError):
            httpsig.parse_key_id(bad)


@given(
    st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=200),
    st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=120),
)
def test_arbitrary_headers_only_raise_signature_errors(sig_input: str, signature: str) -> None:
    headers = {**_signed(), "Signature-Input": sig_input, "Signature": signature}
    with pytest.raises(httpsig.SignatureError):
        _verify(headers)


@pytest.mark.parametrize(
    "url",
    [
        "https://drop.example.go.jp/v1/whoami?x=\u00e9",  # beyond ASCII
        "https://drop.example.go.jp/v1/whoami?x=\x7f",  # DEL
        "https://drop.example.go.jp/v1/whoami?x=\ty",  # a control character
        "https://drop.example.go.jp/v1/whoami?x=\x00y",  # NUL
        "https://drop.example.go.jp/v1/whoami?x=\u3042",  # Japanese
    ],
)
def test_a_covered_component_outside_printable_ascii_is_refused(url: str) -> None:
    """The base's character check (one regex scan since the idle-poll work, issue 17
    item 4, instead of a loop over every character): printable ASCII and the line
    feeds between the base's lines only."""
    components = [("@method", "GET"), ("@target-uri", url)]
    with pytest.raises(httpsig.MalformedSignatureError, match="printable ASCII"):
        httpsig.signature_base(components, '("@method" "@target-uri");created=1')
    base = httpsig.signature_base([("@method", "GET"), ("@target-uri", URL)], "()")
    assert base == b'"@method": GET\n"@target-uri": ' + URL.encode() + b'\n"@signature-params": ()'
