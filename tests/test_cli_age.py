"""The age-compatible CLI (``keygen``, ``encrypt``, ``decrypt``) driven as a subprocess.

Checks the behaviour shared with the reference ``age`` tools (flags, defaults,
file formats) and our own promises: one line on stderr per failure, a non-zero
exit, no output file or hidden temporary file left behind, and no secret in any
message.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import pty
import re
import select
import stat
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from secure_send.core import age

CLI = [sys.executable, "-m", "secure_send.cli.main"]
CHUNK = 64 * 1024
ENC_CHUNK = CHUNK + 16
BEGIN = b"-----BEGIN AGE ENCRYPTED FILE-----"
AGE_INTRO = b"age-encryption.org/v1\n"


def run(*args: str | Path, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [*CLI, *(str(a) for a in args)],
        input=stdin,
        capture_output=True,
        check=False,
        timeout=60,
    )


def ok(*args: str | Path, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    proc = run(*args, stdin=stdin)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    return proc


def assert_one_line_failure(proc: subprocess.CompletedProcess[bytes], *needles: str) -> str:
    """A non-zero exit and exactly one line on stderr containing every needle."""
    message = proc.stderr.decode(errors="replace")
    assert proc.returncode != 0, message
    assert message.count("\n") == 1, message
    assert message.endswith("\n"), message
    assert message.startswith("secure-send: "), message
    for needle in needles:
        assert needle in message, message
    return message


def listing(folder: Path) -> set[str]:
    """Every name in ``folder``, hidden ones (``.NAME.*.partial``) included."""
    return set(os.listdir(folder))


@dataclass(frozen=True)
class Person:
    identity_file: Path
    recipient: str
    secret: str


def _person(folder: Path, name: str) -> Person:
    identity = age.X25519Identity.generate()
    path = folder / f"{name}.key"
    path.write_text(age.format_identity_file(identity))
    return Person(path, str(identity.recipient), identity.secret_string())


@pytest.fixture
def keys_dir(tmp_path: Path) -> Path:
    path = tmp_path / "keys"
    path.mkdir()
    return path


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """The folder outputs go to; tests check that nothing stray appears in it."""
    path = tmp_path / "work"
    path.mkdir()
    return path


@pytest.fixture
def alice(keys_dir: Path) -> Person:
    return _person(keys_dir, "alice")


@pytest.fixture
def bob(keys_dir: Path) -> Person:
    return _person(keys_dir, "bob")


def _plaintext(size: int) -> bytes:
    return bytes((i * 7 + i // 251) & 0xFF for i in range(size))


def _encrypt(person: Person, plaintext: bytes, *, armor: bool = False) -> bytes:
    out = io.BytesIO()
    age.encrypt(
        io.BytesIO(plaintext), out, [age.X25519Recipient.parse(person.recipient)], armor=armor
    )
    return out.getvalue()


def _payload_start(ciphertext: bytes) -> int:
    """Offset of the first payload chunk: after the ``--- MAC`` line and the nonce."""
    mac_line = ciphertext.index(b"\n--- ") + 1
    return ciphertext.index(b"\n", mac_line) + 1 + 16


# ---------------------------------------------------------------- keygen


def _check_identity_text(text: str, stderr: bytes) -> str:
    """The three lines age-keygen writes; returns the recipient."""
    lines = text.splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("# created: ")
    created = dt.datetime.fromisoformat(lines[0].removeprefix("# created: "))
    assert created.tzinfo is not None
    assert abs(dt.datetime.now(dt.UTC) - created) < dt.timedelta(minutes=5)
    match = re.fullmatch(r"# public key: (age1[02-9ac-hj-np-z]{58})", lines[1])
    assert match is not None, lines[1]
    assert re.fullmatch(r"AGE-SECRET-KEY-1[02-9AC-HJ-NP-Z]{58}", lines[2]), "bad secret line"
    recipient = match.group(1)
    assert str(age.X25519Identity.parse(lines[2]).recipient) == recipient
    assert stderr == f"Public key: {recipient}\n".encode()
    return recipient


def test_keygen_to_stdout() -> None:
    proc = ok("keygen")
    _check_identity_text(proc.stdout.decode(), proc.stderr)
    assert ok("keygen").stdout != proc.stdout  # a fresh key every time


def test_keygen_to_file(work: Path) -> None:
    target = work / "me.key"
    proc = ok("keygen", "-o", target)
    assert proc.stdout == b""
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    recipient = _check_identity_text(target.read_text(), proc.stderr)
    assert listing(work) == {"me.key"}
    assert ok("keygen", "-y", target).stdout == f"{recipient}\n".encode()


def test_keygen_refuses_existing_file(work: Path) -> None:
    target = work / "me.key"
    target.write_text("precious\n")
    assert_one_line_failure(run("keygen", "-o", target), "already exists", str(target))
    assert target.read_text() == "precious\n"
    assert listing(work) == {"me.key"}


def test_keygen_refusal_advice_is_usable(work: Path) -> None:
    """Any flag the refusal suggests must be one that keygen accepts."""
    target = work / "me.key"
    target.write_text("precious\n")
    message = assert_one_line_failure(run("keygen", "-o", target), "already exists")
    for flag in re.findall(r"--[a-z][a-z-]*", message):
        again = run("keygen", flag, "-o", work / "other.key")
        assert b"unrecognized arguments" not in again.stderr, f"suggests {flag}: {message}"
    assert target.read_text() == "precious\n"


def test_keygen_y_reads_file_or_stdin(keys_dir: Path, alice: Person, bob: Person) -> None:
    assert ok("keygen", "-y", alice.identity_file).stdout == f"{alice.recipient}\n".encode()
    both = keys_dir / "both.key"
    both.write_text(alice.identity_file.read_text() + "\n" + bob.identity_file.read_text())
    expected = f"{alice.recipient}\n{bob.recipient}\n".encode()
    assert ok("keygen", "-y", both).stdout == expected
    assert ok("keygen", "-y", stdin=both.read_bytes()).stdout == expected


def test_keygen_y_malformed_file_hides_key(keys_dir: Path, alice: Person) -> None:
    broken = alice.secret[:-1] + ("Q" if alice.secret[-1] != "Q" else "P")
    path = keys_dir / "broken.key"
    path.write_text(f"# public key: {alice.recipient}\n{broken}\n")
    message = assert_one_line_failure(run("keygen", "-y", path), "line 2")
    assert broken[16:40] not in message


# ---------------------------------------------------------------- encrypt / decrypt


def test_stdin_to_stdout_round_trip(alice: Person) -> None:
    plaintext = _plaintext(3 * CHUNK + 11)
    enc = ok("encrypt", "-r", alice.recipient, stdin=plaintext)
    assert enc.stdout.startswith(AGE_INTRO)
    assert enc.stderr == b""
    dec = ok("decrypt", "-i", alice.identity_file, stdin=enc.stdout)
    assert dec.stdout == plaintext
    assert dec.stderr == b""


def test_stdin_dash_and_stdout_dash(alice: Person) -> None:
    enc = ok("encrypt", "-r", alice.recipient, "-o", "-", "-", stdin=b"dash")
    assert enc.stdout.startswith(AGE_INTRO)
    assert ok("decrypt", "-i", alice.identity_file, "-o", "-", "-", stdin=enc.stdout).stdout == (
        b"dash"
    )


def test_armor(alice: Person) -> None:
    plaintext = _plaintext(1000)
    enc = ok("encrypt", "-a", "-r", alice.recipient, stdin=plaintext)
    assert enc.stdout.startswith(BEGIN + b"\n")
    assert enc.stdout.endswith(b"-----END AGE ENCRYPTED FILE-----\n")
    assert ok("decrypt", "-i", alice.identity_file, stdin=enc.stdout).stdout == plaintext


def test_recipients_file_with_comments_and_blank_lines(
    keys_dir: Path, work: Path, alice: Person, bob: Person
) -> None:
    carol = _person(keys_dir, "carol")
    recipients = keys_dir / "team.txt"
    recipients.write_text(
        f"# the team\n\n{bob.recipient}\n   \n# carol below\r\n  {carol.recipient}  \r\n\n"
    )
    source = work / "report.pdf"
    source.write_bytes(_plaintext(CHUNK + 1))
    target = work / "report.pdf.age"
    proc = ok("encrypt", "-r", alice.recipient, "-R", recipients, "-o", target, source)
    assert proc.stdout == b""
    assert proc.stderr == b""
    ciphertext = target.read_bytes()
    assert ciphertext.count(b"\n-> X25519 ") == 3
    for person in (alice, bob, carol):
        dec = ok("decrypt", "-i", person.identity_file, target)
        assert dec.stdout == source.read_bytes()
    assert listing(work) == {"report.pdf", "report.pdf.age"}


def test_decrypt_to_output_file(work: Path, alice: Person, bob: Person) -> None:
    plaintext = _plaintext(2 * CHUNK)
    encrypted = work / "in.age"
    encrypted.write_bytes(_encrypt(alice, plaintext))
    target = work / "out.bin"
    # The first identity file does not match; the second does.
    proc = ok(
        "decrypt", "-i", bob.identity_file, "-i", alice.identity_file, "-o", target, encrypted
    )
    assert proc.stdout == b""
    assert proc.stderr == b""
    assert target.read_bytes() == plaintext
    assert stat.S_IMODE(target.stat().st_mode) == 0o600  # plaintext is personal data
    assert listing(work) == {"in.age", "out.bin"}


def test_force_overwrites(work: Path, alice: Person) -> None:
    encrypted = work / "in.age"
    encrypted.write_bytes(_encrypt(alice, b"new contents"))
    target = work / "out.txt"
    target.write_bytes(b"old contents")
    ok("decrypt", "-i", alice.identity_file, "--force", "-o", target, encrypted)
    assert target.read_bytes() == b"new contents"
    ok("encrypt", "-r", alice.recipient, "-f", "-o", target, encrypted)
    assert target.read_bytes().startswith(AGE_INTRO)
    assert listing(work) == {"in.age", "out.txt"}


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


# ---------------------------------------------------------------- terminals and devices


def _drain(master: int) -> bytes:
    data = b""
    while select.select([master], [], [], 0.5)[0]:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child's side is closed and everything was read
            break
        if not chunk:
            break
        data += chunk
    return data


def _run_on_tty(args: list[str | Path]) -> tuple[subprocess.CompletedProcess[bytes], bytes]:
    master, slave = pty.openpty()
    try:
        proc = subprocess.run(
            [*CLI, *(str(a) for a in args)],
            stdin=subprocess.DEVNULL,
            stdout=slave,
            stderr=subprocess.PIPE,
            check=False,
            timeout=60,
        )
    finally:
        os.close(slave)
    try:
        shown = _drain(master)
    finally:
        os.close(master)
    return proc, shown.replace(b"\r\n", b"\n")  # the terminal turned \n into \r\n


def test_binary_ciphertext_to_terminal_refused(work: Path, alice: Person) -> None:
    source = work / "plain.txt"
    source.write_bytes(b"hello terminal")
    proc, shown = _run_on_tty(["encrypt", "-r", alice.recipient, source])
    assert_one_line_failure(proc, "terminal")
    assert shown == b""


def test_armored_ciphertext_to_terminal_allowed(work: Path, alice: Person) -> None:
    source = work / "plain.txt"
    source.write_bytes(b"hello terminal")
    proc, shown = _run_on_tty(["encrypt", "-a", "-r", alice.recipient, source])
    assert proc.returncode == 0, proc.stderr
    assert shown.startswith(BEGIN + b"\n")
    out = io.BytesIO()
    age.decrypt(io.BytesIO(shown), out, age.parse_identity_file(alice.identity_file.read_text()))
    assert out.getvalue() == b"hello terminal"


def test_output_to_dev_null(work: Path, alice: Person) -> None:
    source = work / "plain.txt"
    source.write_bytes(_plaintext(CHUNK + 3))
    encrypted = work / "plain.age"
    encrypted.write_bytes(_encrypt(alice, source.read_bytes()))
    ok("encrypt", "-r", alice.recipient, "-o", "/dev/null", source)
    ok("decrypt", "-i", alice.identity_file, "-o", "/dev/null", encrypted)
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    assert not [name for name in os.listdir("/dev") if name.startswith(".null.")]
    assert listing(work) == {"plain.txt", "plain.age"}


def test_force_to_a_device_writes_in_place(work: Path, alice: Person) -> None:
    """--force onto a device must write to it, never replace it with a regular file.

    A pseudo-terminal stands in for /dev/null here so that a regression cannot
    replace the machine's real /dev/null.
    """
    encrypted = work / "in.age"
    encrypted.write_bytes(_encrypt(alice, b"to the device"))
    master, slave = pty.openpty()
    try:
        device = os.ttyname(slave)
        ok("decrypt", "-i", alice.identity_file, "--force", "-o", device, encrypted)
        assert stat.S_ISCHR(os.stat(device).st_mode)
        os.close(slave)
        slave = -1
        assert _drain(master) == b"to the device"
    finally:
        if slave >= 0:
            os.close(slave)
        os.close(master)
