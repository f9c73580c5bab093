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
from pathlib import Path

from secure_send.core import age
from tests.cli.cli_kit import (
    AGE_INTRO,
    BEGIN,
    CHUNK,
    CLI,
    Person,
    _encrypt,
    _person,
    _plaintext,
    assert_one_line_failure,
    listing,
    ok,
    run,
)

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
