"""Identity files, Bech32 and key strings."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from secure_send.core import age
from secure_send.core.age import bech32
from secure_send.core.errors import (
    KeyFormatError,
)
from tests.age_kit import (
    SETTINGS,
)

# ---------------------------------------------------------------- identity files


def test_identity_file_with_comments_and_blank_lines() -> None:
    first, second = age.X25519Identity.generate(), age.X25519Identity.generate()
    text = (
        "# created: 2024-01-01T00:00:00Z\r\n"
        f"# public key: {first.recipient}\r\n"
        "\n"
        f"{first.secret_string()}\n"
        "   \n"
        "  # indented comment\n"
        f"  {second.secret_string()}  \n"
    )
    parsed = age.parse_identity_file(text)
    assert [p.recipient for p in parsed] == [first.recipient, second.recipient]


def test_identity_file_round_trip() -> None:
    identity = age.X25519Identity.generate()
    text = age.format_identity_file(identity)
    lines = text.splitlines()
    assert lines[0].startswith("# created: ")
    assert lines[1] == f"# public key: {identity.recipient}"
    assert lines[2] == identity.secret_string()
    assert len(lines) == 3
    (parsed,) = age.parse_identity_file(text)
    assert parsed.recipient == identity.recipient
    assert parsed.secret_string() == identity.secret_string()


def _corruptions(secret: str) -> list[str]:
    swapped = "Q" if secret[-1] != "Q" else "P"
    letter = next(i for i in range(16, len(secret)) if secret[i].isalpha())
    return [
        secret[:-1] + swapped,  # bad checksum
        secret.lower(),  # identities are uppercase
        secret[:30],  # cut short
        secret + "QQ",  # too long
        secret[:letter] + secret[letter].lower() + secret[letter + 1 :],  # mixed case
        "AGE-PLUGIN-FOO-" + secret[15:],  # another kind of identity
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI secret-looking comment",
    ]


@pytest.mark.parametrize("which", range(7))
def test_malformed_identity_line_number_without_text(which: int) -> None:
    good = age.X25519Identity.generate()
    bad = _corruptions(age.X25519Identity.generate().secret_string())[which]
    text = f"# comment\n\n{good.secret_string()}\n# another\n{bad}\n"
    with pytest.raises(KeyFormatError) as info:
        age.parse_identity_file(text)
    message = f"{info.value} {info.value!r}"
    assert "line 5" in message
    for secret in (bad, bad.strip()[15:45], good.secret_string(), good.secret_string()[15:45]):
        assert secret not in message
    assert info.value.__cause__ is None
    assert info.value.__suppress_context__


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "  \n# x\n"])
def test_identity_file_without_identities(text: str) -> None:
    with pytest.raises(KeyFormatError, match="no identities"):
        age.parse_identity_file(text)


def test_identity_repr_hides_the_secret() -> None:
    identity = age.X25519Identity.generate()
    secret = identity.secret_string()
    assert secret not in repr(identity)
    assert secret[15:40] not in repr(identity)
    assert str(identity.recipient) in repr(identity)


# ---------------------------------------------------------------- Bech32 and key strings

# BIP 173 test vectors (valid ones, and invalid ones that age must also refuse).
BIP173_VALID = [
    "A12UEL5L",
    "a12uel5l",
    "an83characterlonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1tt5tgs",
    "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw",
    "split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w",
    "?1ezyfcl",
]
BIP173_INVALID = [
    "pzry9x0s0muk",  # no separator
    "1pzry9x0s0muk",  # empty prefix
    "x1b4n0q5v",  # 'b' is not a data character
    "li1dgmt3",  # checksum too short
    "A1G7SGD8",  # checksum computed over the uppercase prefix
    "10a06t8",  # empty prefix
    "1qzzfhee",  # empty prefix
    "de1lg7wt\xff",  # invalid character
    "\x201nwldj5",  # prefix character out of range
    "\x7f1axkwrx",  # prefix character out of range
]


@pytest.mark.parametrize("text", BIP173_VALID)
def test_bech32_bip173_valid(text: str) -> None:
    hrp, data = bech32.decode(text)
    assert hrp == text[: text.rfind("1")].lower()
    again = bech32.encode(hrp.upper() if text.isupper() else hrp, data)
    assert again == text


def test_bech32_bip173_known_data() -> None:
    assert bech32.decode("abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw") == (
        "abcdef",
        bytes.fromhex("00443214c74254b635cf84653a56d7c675be77df"),
    )


@pytest.mark.parametrize("text", BIP173_INVALID)
def test_bech32_bip173_invalid(text: str) -> None:
    with pytest.raises(KeyFormatError):
        bech32.decode(text)


# At least one letter, so that the case of the prefix decides the case of the string.
hrps = st.builds(
    str.__add__,
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=5),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", max_size=15),
)


@SETTINGS
@given(hrp=hrps, data=st.binary(max_size=80), upper=st.booleans())
def test_bech32_round_trip(hrp: str, data: bytes, upper: bool) -> None:
    text = bech32.encode(hrp.upper() if upper else hrp, data)
    assert text == (text.upper() if upper else text.lower())
    assert bech32.decode(text) == (hrp, data)


@SETTINGS
@given(hrp=hrps, data=st.binary(min_size=1, max_size=40), pick=st.data())
def test_bech32_rejects_one_substituted_character(
    hrp: str, data: bytes, pick: st.DataObject
) -> None:
    text = bech32.encode(hrp, data)
    pos = pick.draw(st.integers(text.rfind("1") + 1, len(text) - 1), label="position")
    other = pick.draw(
        st.sampled_from([c for c in "qpzry9x8gf2tvdw0s3jn54khce6mua7l" if c != text[pos]]),
        label="replacement",
    )
    with pytest.raises(KeyFormatError):
        bech32.decode(text[:pos] + other + text[pos + 1 :])


@SETTINGS
@given(key=st.binary(min_size=32, max_size=32), pick=st.data())
def test_bech32_rejects_mixed_case(key: bytes, pick: st.DataObject) -> None:
    text = str(age.X25519Recipient(key))
    letters = [i for i, c in enumerate(text) if c.isalpha()]
    pos = pick.draw(st.sampled_from(letters), label="position")
    mixed = text[:pos] + text[pos].upper() + text[pos + 1 :]
    with pytest.raises(KeyFormatError):
        bech32.decode(mixed)
    with pytest.raises(KeyFormatError):
        age.X25519Recipient.parse(mixed)
    assert bech32.decode(text.upper())[1] == key  # one case throughout is fine for Bech32


@SETTINGS
@given(key=st.binary(min_size=32, max_size=32))
def test_recipient_string_round_trip(key: bytes) -> None:
    recipient = age.X25519Recipient(key)
    text = str(recipient)
    assert text.startswith("age1")
    assert len(text) == 62
    assert text == text.lower()
    parsed = age.X25519Recipient.parse(text)
    assert parsed == recipient
    assert parsed.public_key == key
    assert str(parsed) == text
    assert hash(parsed) == hash(recipient)
    with pytest.raises(KeyFormatError):
        age.X25519Recipient.parse(text.upper())  # recipients are lowercase


@SETTINGS
@given(secret=st.binary(min_size=32, max_size=32))
def test_identity_string_round_trip(secret: bytes) -> None:
    identity = age.X25519Identity(secret)
    text = identity.secret_string()
    assert text.startswith("AGE-SECRET-KEY-1")
    assert text == text.upper()
    parsed = age.X25519Identity.parse(text)
    assert parsed.secret_string() == text
    assert parsed.recipient == identity.recipient
    with pytest.raises(KeyFormatError):
        age.X25519Identity.parse(text.lower())  # identities are uppercase
    with pytest.raises(KeyFormatError):
        age.X25519Recipient.parse(text)  # a secret is not a recipient


@pytest.mark.parametrize(
    "text",
    [
        "",
        "age1",
        bech32.encode("age", bytes(31)),  # wrong length
        bech32.encode("age", bytes(33)),
        bech32.encode("agf", bytes(32)),  # another prefix
        bech32.encode("AGE-SECRET-KEY-", bytes(32)),
    ],
)
def test_recipient_parse_rejects(text: str) -> None:
    with pytest.raises(KeyFormatError):
        age.X25519Recipient.parse(text)
