"""Interoperability with the reference ``age`` / ``age-keygen`` (Debian package ``age``).

Both directions, byte-exact: our library and our CLI encrypt, ``age -d`` opens;
``age -e`` encrypts, our library and our CLI open. Identities are always passed
as files (never on argv); some keys come from ``age-keygen``, some from our
``keygen``, so each tool also reads the other's identity files.
"""

from __future__ import annotations

import io
import random
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from secure_send.core import age
from secure_send.core.age.armor import BEGIN, END

pytestmark = pytest.mark.skipif(
    shutil.which("age") is None or shutil.which("age-keygen") is None,
    reason="reference age CLI not on PATH (install the Debian package 'age'; CI does)",
)

CHUNK = 64 * 1024
SIZES = [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 5 * 1024 * 1024 + 3]
CLI = [sys.executable, "-m", "secure_send.cli.main"]
AGE_MADE = 3  # keys 0..2 come from age-keygen, 3..4 from our keygen
# (how many recipients, which key decrypts): one age-keygen key alone, or all five
# keys with one made by our keygen (in the middle of the header) doing the decrypting.
RECIPIENT_SETS = {"1rcpt": (1, 0), "5rcpt": (5, 3)}


@dataclass(frozen=True)
class Key:
    identity_file: Path
    recipient: str


def _run(args: list[str], data: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    proc = subprocess.run(args, input=data, capture_output=True, check=False, timeout=60)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    return proc


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[Key, ...]:
    folder = tmp_path_factory.mktemp("interop-keys")
    made = []
    for i in range(5):
        path = folder / f"key{i}.txt"
        if i < AGE_MADE:
            _run(["age-keygen", "-o", str(path)])
        else:
            _run([*CLI, "keygen", "-o", str(path)])
        # Each key's recipient as the *other* tool derives it, so a disagreement shows.
        if i < AGE_MADE:
            recipient = _run([*CLI, "keygen", "-y", str(path)]).stdout.decode().strip()
        else:
            recipient = _run(["age-keygen", "-y", str(path)]).stdout.decode().strip()
        assert recipient.startswith("age1")
        made.append(Key(path, recipient))
    return tuple(made)


def _plaintext(size: int) -> bytes:
    return random.Random(size).randbytes(size)  # noqa: S311 - reproducible test data


def _chosen(keys: tuple[Key, ...], rset: str) -> tuple[list[Key], Key]:
    count, decrypting = RECIPIENT_SETS[rset]
    return list(keys[:count]), keys[decrypting]


def _assert_armored(ciphertext: bytes) -> None:
    assert ciphertext.startswith(BEGIN + b"\n")
    assert ciphertext.rstrip(b"\n").endswith(END)
    assert all(len(line) <= 64 for line in ciphertext.splitlines())


def _assert_binary(ciphertext: bytes) -> None:
    assert ciphertext.startswith(b"age-encryption.org/v1\n")


def _check_format(ciphertext: bytes, armor: bool) -> None:
    if armor:
        _assert_armored(ciphertext)
    else:
        _assert_binary(ciphertext)


matrix = pytest.mark.parametrize(
    ("size", "rset", "armor"),
    [
        pytest.param(size, rset, armor, id=f"{size}-{rset}-{'armor' if armor else 'binary'}")
        for size in SIZES
        for rset in RECIPIENT_SETS
        for armor in (False, True)
    ],
)


@matrix
def test_library_encrypts_age_decrypts(
    keys: tuple[Key, ...], tmp_path: Path, size: int, rset: str, armor: bool
) -> None:
    plaintext = _plaintext(size)
    recipients, decrypting = _chosen(keys, rset)
    out = io.BytesIO()
    age.encrypt(
        io.BytesIO(plaintext),
        out,
        [age.X25519Recipient.parse(k.recipient) for k in recipients],
        armor=armor,
    )
    _check_format(out.getvalue(), armor)
    encrypted = tmp_path / "file.age"
    encrypted.write_bytes(out.getvalue())
    got = _run(["age", "-d", "-i", str(decrypting.identity_file), str(encrypted)]).stdout
    assert got == plaintext


@matrix
def test_age_encrypts_library_decrypts(
    keys: tuple[Key, ...], size: int, rset: str, armor: bool
) -> None:
    plaintext = _plaintext(size)
    recipients, decrypting = _chosen(keys, rset)
    args = ["age", "-e", *(a for k in recipients for a in ("-r", k.recipient))]
    ciphertext = _run([*args, *(["-a"] if armor else [])], plaintext).stdout
    _check_format(ciphertext, armor)
    identities = age.parse_identity_file(decrypting.identity_file.read_text())
    out = io.BytesIO()
    age.decrypt(io.BytesIO(ciphertext), out, identities)
    assert out.getvalue() == plaintext
    if armor:  # armor=True insists on it; auto-detection was covered just above
        strict = io.BytesIO()
        age.decrypt(io.BytesIO(ciphertext), strict, identities, armor=True)
        assert strict.getvalue() == plaintext


@matrix
def test_cli_encrypts_age_decrypts(
    keys: tuple[Key, ...], tmp_path: Path, size: int, rset: str, armor: bool
) -> None:
    plaintext = _plaintext(size)
    source = tmp_path / "plain.bin"
    source.write_bytes(plaintext)
    recipients, decrypting = _chosen(keys, rset)
    # First recipient with -r, the rest through a -R file.
    listing = tmp_path / "recipients.txt"
    listing.write_text("# colleagues\n" + "".join(f"{k.recipient}\n" for k in recipients[1:]))
    encrypted = tmp_path / "plain.bin.age"
    args = [*CLI, "encrypt", "-r", recipients[0].recipient, "-R", str(listing)]
    _run([*args, *(["-a"] if armor else []), "-o", str(encrypted), str(source)])
    _check_format(encrypted.read_bytes(), armor)
    got = _run(["age", "-d", "-i", str(decrypting.identity_file), str(encrypted)]).stdout
    assert got == plaintext


@matrix
def test_age_encrypts_cli_decrypts(
    keys: tuple[Key, ...], tmp_path: Path, size: int, rset: str, armor: bool
) -> None:
    plaintext = _plaintext(size)
    recipients, decrypting = _chosen(keys, rset)
    listing = tmp_path / "recipients.txt"
    listing.write_text("".join(f"{k.recipient}\n\n" for k in recipients))
    ciphertext = _run(["age", "-R", str(listing), *(["-a"] if armor else [])], plaintext).stdout
    _check_format(ciphertext, armor)
    # Ciphertext on stdin, plaintext on stdout: the CLI's defaults.
    got = _run([*CLI, "decrypt", "-i", str(decrypting.identity_file)], ciphertext).stdout
    assert got == plaintext


def test_keygen_y_agrees_with_age_keygen(keys: tuple[Key, ...]) -> None:
    for key in keys:
        ours = _run([*CLI, "keygen", "-y", str(key.identity_file)]).stdout
        theirs = _run(["age-keygen", "-y", str(key.identity_file)]).stdout
        assert ours == theirs == f"{key.recipient}\n".encode()


def test_library_identity_matches_age_keygen_recipient(keys: tuple[Key, ...]) -> None:
    for key in keys[:AGE_MADE]:
        (identity,) = age.parse_identity_file(key.identity_file.read_text())
        assert str(identity.recipient) == key.recipient
        # Our canonical secret string is exactly the line age-keygen wrote.
        assert f"\n{identity.secret_string()}\n" in key.identity_file.read_text()


def test_age_rejects_our_tampered_file(keys: tuple[Key, ...], tmp_path: Path) -> None:
    """A control: age really authenticates what we write (a flipped byte is refused)."""
    out = io.BytesIO()
    age.encrypt(io.BytesIO(_plaintext(1000)), out, [age.X25519Recipient.parse(keys[0].recipient)])
    damaged = bytearray(out.getvalue())
    damaged[-1] ^= 0x01
    encrypted = tmp_path / "damaged.age"
    encrypted.write_bytes(bytes(damaged))
    proc = subprocess.run(
        ["age", "-d", "-i", str(keys[0].identity_file), str(encrypted)],
        capture_output=True,
        check=False,
        timeout=60,
    )
    assert proc.returncode != 0
    assert proc.stdout == b""


@pytest.mark.parametrize("size", [0, CHUNK + 1, 5 * 1024 * 1024 + 3])
def test_prepared_encryption_is_repeatable_and_age_compatible(
    keys: tuple[Key, ...], tmp_path: Path, size: int
) -> None:
    """The sender hashes the ciphertext, then makes it again while uploading: both runs
    must give the same bytes, which age decrypts; a fresh preparation differs."""
    from secure_send.core.age.api import encrypt_prepared, prepare

    plaintext = _plaintext(size)
    prepared = prepare([age.X25519Recipient.parse(k.recipient) for k in keys[:2]])
    runs = []
    for workers in (1, 2):
        out = io.BytesIO()
        encrypt_prepared(prepared, io.BytesIO(plaintext), out, workers=workers)
        runs.append(out.getvalue())
    assert runs[0] == runs[1]
    again = io.BytesIO()
    age.encrypt(io.BytesIO(plaintext), again, [age.X25519Recipient.parse(keys[0].recipient)])
    assert again.getvalue() != runs[0]
    assert "file_key" not in repr(prepared)
    assert prepared.file_key.hex() not in repr(prepared)
    encrypted = tmp_path / "file.age"
    encrypted.write_bytes(runs[0])
    got = _run(["age", "-d", "-i", str(keys[1].identity_file), str(encrypted)]).stdout
    assert got == plaintext
