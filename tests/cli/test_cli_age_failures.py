"""CLI failure paths: one line on stderr, non-zero exit, nothing left behind, no secret shown."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli.cli_kit import (
    AGE_INTRO,
    CHUNK,
    ENC_CHUNK,
    Person,
    _encrypt,
    _payload_start,
    _plaintext,
    assert_one_line_failure,
    listing,
    run,
)

# ---------------------------------------------------------------- failures


def _tampered(alice: Person, plaintext: bytes) -> bytes:
    damaged = bytearray(_encrypt(alice, plaintext))
    damaged[_payload_start(bytes(damaged)) + 2 * ENC_CHUNK + 5] ^= 0x01  # inside chunk 2
    return bytes(damaged)


def _broken_armor(alice: Person, plaintext: bytes) -> bytes:
    lines = _encrypt(alice, plaintext, armor=True).split(b"\n")
    lines[len(lines) // 2] = b"*" + lines[len(lines) // 2][1:]
    return b"\n".join(lines)


def _header_modified(alice: Person, plaintext: bytes) -> bytes:
    # A well-formed extra stanza (empty body) slipped in: only the MAC can notice.
    return _encrypt(alice, plaintext).replace(b"\n--- ", b"\n-> grease\n\n--- ", 1)


_Make = Callable[[Person, bytes], bytes]
FAILURES: dict[str, tuple[_Make | None, str]] = {
    "tampered": (_tampered, "modified or truncated"),
    "truncated": (lambda p, pt: _encrypt(p, pt)[:-100], "modified or truncated"),
    "trailing": (lambda p, pt: _encrypt(p, pt) + b"\x00", "modified or truncated"),
    "wrong-key": (None, "no identity matched"),
    "garbage": (lambda p, pt: b"this is not an age file\n" * 10, "invalid header"),
    "broken-armor": (_broken_armor, "invalid armor"),
    "header-modified": (_header_modified, "header was modified"),
}


@pytest.mark.parametrize("case", FAILURES)
def test_decrypt_failure_leaves_nothing(work: Path, alice: Person, bob: Person, case: str) -> None:
    make, needle = FAILURES[case]
    plaintext = _plaintext(3 * CHUNK + 99)
    ciphertext = _encrypt(bob, plaintext) if make is None else make(alice, plaintext)
    encrypted = work / "in.age"
    encrypted.write_bytes(ciphertext)
    target = work / "out.bin"
    proc = run("decrypt", "-i", alice.identity_file, "-o", target, encrypted)
    message = assert_one_line_failure(proc, needle)
    assert alice.secret not in message
    assert proc.stdout == b""
    assert listing(work) == {"in.age"}  # no output, no hidden .out.bin.*.partial


@pytest.mark.parametrize("case", ["tampered", "truncated", "wrong-key"])
def test_failure_keeps_existing_output_even_with_force(
    work: Path, alice: Person, bob: Person, case: str
) -> None:
    make, needle = FAILURES[case]
    plaintext = _plaintext(3 * CHUNK + 99)
    encrypted = work / "in.age"
    encrypted.write_bytes(_encrypt(bob, plaintext) if make is None else make(alice, plaintext))
    target = work / "out.bin"
    target.write_bytes(b"earlier, good result")
    proc = run("decrypt", "-i", alice.identity_file, "--force", "-o", target, encrypted)
    assert_one_line_failure(proc, needle)
    assert target.read_bytes() == b"earlier, good result"
    assert listing(work) == {"in.age", "out.bin"}


def test_tampered_to_stdout_releases_only_authentic_chunks(alice: Person) -> None:
    plaintext = _plaintext(3 * CHUNK + 99)
    proc = run("decrypt", "-i", alice.identity_file, stdin=_tampered(alice, plaintext))
    assert_one_line_failure(proc, "modified or truncated")
    assert proc.stdout == plaintext[: 2 * CHUNK]


def test_existing_output_refused_without_force(work: Path, alice: Person) -> None:
    source = work / "plain.txt"
    source.write_bytes(b"data")
    target = work / "plain.txt.age"
    target.write_bytes(b"keep me")
    proc = run("encrypt", "-r", alice.recipient, "-o", target, source)
    assert_one_line_failure(proc, "already exists", str(target))
    encrypted = work / "other.age"
    encrypted.write_bytes(_encrypt(alice, b"data"))
    proc = run("decrypt", "-i", alice.identity_file, "-o", target, encrypted)
    assert_one_line_failure(proc, "already exists")
    assert target.read_bytes() == b"keep me"
    assert listing(work) == {"plain.txt", "plain.txt.age", "other.age"}


def test_output_same_as_input_refused(work: Path, alice: Person) -> None:
    source = work / "data.bin"
    source.write_bytes(b"irreplaceable")
    link = work / "link.bin"
    link.symlink_to(source)
    for target in (source, link):
        for force in ([], ["--force"]):
            proc = run("encrypt", "-r", alice.recipient, *force, "-o", target, source)
            assert_one_line_failure(proc, "same file")
    encrypted = work / "data.age"
    encrypted.write_bytes(_encrypt(alice, b"x"))
    proc = run("decrypt", "-i", alice.identity_file, "--force", "-o", encrypted, encrypted)
    assert_one_line_failure(proc, "same file")
    assert source.read_bytes() == b"irreplaceable"
    assert encrypted.read_bytes().startswith(AGE_INTRO)
    assert listing(work) == {"data.bin", "link.bin", "data.age"}


def test_missing_identity_is_a_usage_error(work: Path, alice: Person) -> None:
    encrypted = work / "in.age"
    encrypted.write_bytes(_encrypt(alice, b"x"))
    assert_one_line_failure(run("decrypt", "-o", work / "out", encrypted), "identity", "-i")
    assert_one_line_failure(run("encrypt", stdin=b"x"), "recipient", "-r")
    assert listing(work) == {"in.age"}


def test_missing_files_named(work: Path, alice: Person) -> None:
    missing = work / "nope.key"
    proc = run("decrypt", "-i", missing, stdin=_encrypt(alice, b"x"))
    assert_one_line_failure(proc, str(missing))
    proc = run("encrypt", "-R", missing, stdin=b"x")
    assert_one_line_failure(proc, str(missing))
    proc = run("encrypt", "-r", alice.recipient, "-o", work / "out.age", work / "absent.txt")
    assert_one_line_failure(proc, "absent.txt")
    assert listing(work) == set()


def test_output_in_missing_folder_names_the_output(work: Path, alice: Person) -> None:
    target = work / "no-such-folder" / "out.age"
    proc = run("encrypt", "-r", alice.recipient, "-o", target, stdin=b"x")
    message = assert_one_line_failure(proc, "out.age")
    assert ".partial" not in message  # the user never chose a hidden temporary name


# ---------------------------------------------------------------- secrets stay out of messages


def test_malformed_identity_file_not_echoed(keys_dir: Path, alice: Person, bob: Person) -> None:
    broken = bob.secret[:20] + ("Q" if bob.secret[20] != "Q" else "P") + bob.secret[21:]
    path = keys_dir / "mixed.key"
    path.write_text(f"# mine\n{alice.secret}\n\n{broken}\n")
    proc = run("decrypt", "-i", path, stdin=_encrypt(alice, b"x"))
    message = assert_one_line_failure(proc, str(path), "line 4")
    for secret in (alice.secret, broken, alice.secret[16:40], broken[16:40]):
        assert secret not in message


def test_secret_given_as_recipient_not_echoed(alice: Person) -> None:
    # A classic mistake: the secret key pasted where the public key belongs.
    proc = run("encrypt", "-r", alice.secret, stdin=b"x")
    message = assert_one_line_failure(proc, "recipient")
    assert alice.secret[16:40] not in message
    assert proc.stdout == b""


def test_malformed_recipients_file_line(keys_dir: Path, alice: Person) -> None:
    path = keys_dir / "r.txt"
    path.write_text(f"{alice.recipient}\n# ok\n{alice.secret}\n")
    message = assert_one_line_failure(run("encrypt", "-R", path, stdin=b"x"), "line 3")
    assert alice.secret[16:40] not in message


@pytest.mark.parametrize("flag", ["-i", "-R"])
def test_non_utf8_key_file_is_one_line_error(keys_dir: Path, alice: Person, flag: str) -> None:
    path = keys_dir / "latin1.txt"
    key = alice.secret if flag == "-i" else alice.recipient
    path.write_bytes("# clé de Zoë\n".encode("latin-1") + key.encode() + b"\n")
    command = "decrypt" if flag == "-i" else "encrypt"
    proc = run(command, flag, path, stdin=_encrypt(alice, b"x"))
    message = proc.stderr.decode(errors="replace")
    if proc.returncode == 0:  # accepting it like age does (comments are opaque) is fine too
        return
    assert message.count("\n") == 1, message
    assert "Traceback" not in message
    assert alice.secret[16:40] not in message
