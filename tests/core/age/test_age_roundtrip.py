"""Round trips of the age v1 implementation (Hypothesis), across chunk and task borders."""

from __future__ import annotations

import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from secure_send.core import age
from secure_send.core.age.armor import ArmorReader
from secure_send.core.age.source import Source
from secure_send.core.age.stream import encrypt_payload
from secure_send.core.errors import (
    NoIdentityMatchError,
)
from tests.age_kit import (
    CHUNK,
    NONCE,
    SETTINGS,
    TAG,
    TASK_CHUNKS,
    _bytes,
    _chunk_count,
    _decrypt,
    _encrypt,
    _header_length,
    _seal,
)

# ---------------------------------------------------------------- round trips

chunk_edges = st.builds(
    lambda k, d: max(0, k * CHUNK + d), st.integers(0, 3), st.sampled_from([-1, 0, 1])
)
task_edges = st.builds(lambda d: TASK_CHUNKS * CHUNK + d, st.sampled_from([-1, 0, 1, CHUNK]))
sizes = st.one_of(st.integers(0, 200), chunk_edges, task_edges, st.integers(0, 3 * CHUNK + 7))


@SETTINGS
@given(
    size=sizes,
    seed=st.integers(0, 2**16),
    armor=st.booleans(),
    count=st.integers(1, 5),
    workers=st.sampled_from([1, 2]),
    data=st.data(),
)
def test_round_trip(
    size: int, seed: int, armor: bool, count: int, workers: int, data: st.DataObject
) -> None:
    plaintext = _bytes(size, seed)
    identities = [age.X25519Identity.generate() for _ in range(count)]
    ciphertext = _encrypt(
        plaintext, [i.recipient for i in identities], armor=armor, workers=workers
    )
    opener = data.draw(st.sampled_from(identities), label="opener")
    stranger = age.X25519Identity.generate()
    dec_workers = data.draw(st.sampled_from([1, 2]), label="decrypt workers")
    released, err = _decrypt(ciphertext, [stranger, opener], workers=dec_workers)
    assert err is None
    assert released == plaintext
    binary = ArmorReader(io.BytesIO(ciphertext)).read() if armor else ciphertext
    if armor:
        assert ciphertext.startswith(b"-----BEGIN AGE ENCRYPTED FILE-----\n")
    # Layout: header, 16-byte nonce, then one 16-byte tag per 64 KiB chunk (at least one).
    assert binary.startswith(b"age-encryption.org/v1\n")
    assert binary.count(b"\n-> X25519 ", 0, _header_length(binary)) == count
    payload = len(binary) - _header_length(binary) - NONCE
    assert payload == size + TAG * _chunk_count(size)


@SETTINGS
@given(plaintext=st.binary(max_size=4096), armor=st.booleans())
def test_round_trip_small_arbitrary(plaintext: bytes, armor: bool) -> None:
    identity = age.X25519Identity.generate()
    ciphertext = _encrypt(plaintext, [identity.recipient], armor=armor)
    assert _decrypt(ciphertext, [identity], armor=armor) == (plaintext, None)
    if not armor and len(plaintext) >= 16:  # the payload carries no plaintext in the clear
        assert plaintext not in ciphertext[_header_length(ciphertext) :]


@SETTINGS
@given(size=sizes, seed=st.integers(0, 2**16))
def test_stream_output_independent_of_workers(size: int, seed: int) -> None:
    key = _bytes(32, seed)
    plaintext = _bytes(size, seed)
    outputs = []
    for workers in (1, 2, 4):
        out = io.BytesIO()
        encrypt_payload(key, Source(io.BytesIO(plaintext)), out.write, workers)
        outputs.append(out.getvalue())
    assert outputs[0] == outputs[1] == outputs[2]
    assert len(outputs[0]) == size + TAG * _chunk_count(size)


def test_fresh_share_mac_and_nonce_every_time() -> None:
    identity = age.X25519Identity.generate()
    first = _encrypt(b"same", [identity.recipient])
    second = _encrypt(b"same", [identity.recipient])
    one, two = _header_length(first), _header_length(second)
    assert one == two
    first_lines, second_lines = first[:one].split(b"\n"), second[:two].split(b"\n")
    for line in (1, 2, 3):  # ephemeral share, wrapped file key, header MAC
        assert first_lines[line] != second_lines[line]
    assert first[one : one + NONCE] != second[two : two + NONCE]
    assert first[one + NONCE :] != second[two + NONCE :]


def test_encrypt_needs_a_recipient() -> None:
    with pytest.raises(ValueError, match="recipient"):
        _encrypt(b"x", [])


def test_wrong_identity() -> None:
    sealed = _seal(1000)
    others = [age.X25519Identity.generate() for _ in range(3)]
    released, err = _decrypt(sealed.ciphertext, others)
    assert isinstance(err, NoIdentityMatchError)
    assert released == b""
    released, err = _decrypt(sealed.ciphertext, [])
    assert isinstance(err, NoIdentityMatchError)
    assert released == b""
