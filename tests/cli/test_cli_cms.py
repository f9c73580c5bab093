"""``secure-send encrypt --suite cms`` and CMS ``decrypt``, driven as a subprocess.

Interoperability with the ``openssl cms`` command line: test_cli_cms_openssl.py.
"""

from __future__ import annotations

import base64
import io
import os
import pty
import select
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from secure_send.core.cms import authenveloped as ae
from tests.cli.cli_kit import (
    CLI,
    Person,
    _encrypt,
    _plaintext,
    assert_one_line_failure,
    listing,
    ok,
    run,
)
from tests.cli.cms_kit import PASSPHRASE, Holder, certificate, holder, key_file, sealed

Enc = serialization.Encoding
Fmt = serialization.PrivateFormat


@pytest.fixture
def ann(keys_dir: Path) -> Holder:
    return holder(keys_dir, "ann")


@pytest.fixture
def ben(keys_dir: Path) -> Holder:
    return holder(keys_dir, "ben", ski=False)


def _open(h: Holder, message: bytes) -> bytes:
    out = io.BytesIO()
    ae.decrypt(io.BytesIO(message), out, h.key)
    return out.getvalue()


# ---------------------------------------------------------------- encrypt


def _rkeyid(ski: bytes) -> bytes:
    """rKeyId [0] RecipientKeyIdentifier { subjectKeyIdentifier OCTET STRING }"""
    return bytes([0xA0, len(ski) + 2, 0x04, len(ski)]) + ski


def test_encrypt_to_two_certificates_pem_and_der(work: Path, ann: Holder, ben: Holder) -> None:
    plain = work / "plain.bin"
    plain.write_bytes(_plaintext(3 * 65536 + 5))
    der_cert = work.parent / "ben.der"
    der_cert.write_bytes(ben.cert.public_bytes(Enc.DER))
    ok("encrypt", "--suite", "cms", "--cert", ann.cert_path, "--cert", der_cert,
       "-o", work / "msg.der", plain)  # fmt: skip
    message = (work / "msg.der").read_bytes()
    assert message[:2] == b"\x30\x80"  # streamed BER
    for who in (ann, ben):
        assert _open(who, message) == plain.read_bytes()
    # ann by her certificate's subjectKeyIdentifier; ben's has none: SHA-1 of his point
    ann_ski = ann.cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert _rkeyid(ann_ski.digest) in message
    assert _rkeyid(ae.subject_key_id(ben.point)) in message
    assert listing(work) == {"plain.bin", "msg.der"}


def test_encrypt_from_stdin_to_stdout_armored(ann: Holder) -> None:
    proc = ok("encrypt", "--suite", "cms", "--cert", ann.cert_path, "-a", stdin=b"hello cms")
    assert proc.stdout.startswith(b"-----BEGIN CMS-----\n")
    assert proc.stdout.endswith(b"-----END CMS-----\n")
    assert max(len(line) for line in proc.stdout.splitlines()) == 64
    back = ok("decrypt", "-i", ann.key_path, stdin=proc.stdout)
    assert back.stdout == b"hello cms"


@pytest.mark.parametrize("kind", ["rsa", "p384"])
def test_encrypt_refuses_a_key_that_is_not_p256(work: Path, kind: str) -> None:
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey = (
        rsa.generate_private_key(65537, 2048)
        if kind == "rsa"
        else ec.generate_private_key(ec.SECP384R1())
    )
    cert = work.parent / "other.crt"
    cert.write_bytes(certificate(key, "other").public_bytes(Enc.PEM))
    proc = run("encrypt", "--suite", "cms", "--cert", cert, "-o", work / "out", stdin=b"x")
    assert_one_line_failure(proc, "other.crt", "P-256", "RSA" if kind == "rsa" else "secp384r1")
    assert listing(work) == set()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--suite", "cms"], "give --cert"),
        (["--suite", "cms", "--cert", "{cert}", "-r", "{age}"], "with --suite cms give --cert"),
        (["--cert", "{cert}", "-r", "{age}"], "--cert is for --suite cms"),
        (["--suite", "age", "--cert", "{cert}"], "--cert is for --suite cms"),
        (["--suite", "cms", "--cert", "{garbage}"], "not an X.509 certificate"),
    ],
)
def test_encrypt_usage_errors(
    work: Path, ann: Holder, alice: Person, args: list[str], needle: str
) -> None:
    garbage = work.parent / "garbage.crt"
    garbage.write_bytes(b"-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n")
    values = {"cert": str(ann.cert_path), "age": alice.recipient, "garbage": str(garbage)}
    argv = [a.format(**values) for a in args]
    proc = run("encrypt", *argv, "-o", work / "out", stdin=b"x")
    assert_one_line_failure(proc, needle)
    assert listing(work) == set()


def test_default_suite_is_still_age(alice: Person) -> None:
    proc = ok(
        "encrypt",
        "-r",
        alice.recipient,
        stdin=b"x",
    )
    assert proc.stdout.startswith(b"age-encryption.org/v1\n")


# ---------------------------------------------------------------- decrypt: keys


@pytest.mark.parametrize(
    ("encoding", "fmt"),
    [(Enc.PEM, Fmt.PKCS8), (Enc.PEM, Fmt.TraditionalOpenSSL), (Enc.DER, Fmt.PKCS8),
     (Enc.DER, Fmt.TraditionalOpenSSL)],
    ids=["pkcs8-pem", "sec1-pem", "pkcs8-der", "sec1-der"],
)  # fmt: skip
def test_decrypt_with_each_key_form(work: Path, ann: Holder, encoding: Enc, fmt: Fmt) -> None:
    plaintext = _plaintext(70000)
    message = work / "msg.der"
    message.write_bytes(sealed(plaintext, ann.recipient))
    key = key_file(ann, work.parent, encoding, fmt)
    ok("decrypt", "-i", key, "-o", work / "out.bin", message)
    assert (work / "out.bin").read_bytes() == plaintext


def _run_with_terminal(argv: list[str | Path], typed: str) -> tuple[int, bytes]:
    """Run the CLI with a pseudo-terminal as its controlling terminal; type ``typed``
    when it asks for a passphrase. Returns the exit code and what the terminal showed."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: the pty is its terminal
        os.execv(sys.executable, [*CLI, *(str(a) for a in argv)])  # noqa: S606 - no shell wanted
    shown, sent = b"", False
    try:
        while select.select([fd], [], [], 60)[0]:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            shown += chunk
            if not sent and b"Passphrase for" in shown:
                os.write(fd, typed.encode() + b"\n")
                sent = True
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    return os.waitstatus_to_exitcode(status), shown


@pytest.mark.parametrize("fmt", [Fmt.PKCS8, Fmt.TraditionalOpenSSL], ids=["pkcs8", "sec1"])
def test_encrypted_key_asks_its_passphrase_on_the_terminal(
    work: Path, ann: Holder, fmt: Fmt
) -> None:
    message = work / "msg.der"
    message.write_bytes(sealed(b"for ann only", ann.recipient))
    key = key_file(ann, work.parent, Enc.PEM, fmt, encrypted=True)
    code, shown = _run_with_terminal(
        ["decrypt", "-i", key, "-o", work / "out", message], PASSPHRASE
    )
    assert code == 0, shown
    assert (work / "out").read_bytes() == b"for ann only"
    assert PASSPHRASE.encode() not in shown  # not echoed
    code, shown = _run_with_terminal(["decrypt", "-i", key, "-o", work / "out2", message], "no")
    assert code == 1
    assert b"wrong passphrase" in shown
    assert not (work / "out2").exists()


def test_encrypted_key_without_a_terminal_is_a_clear_error(work: Path, ann: Holder) -> None:
    message = work / "msg.der"
    message.write_bytes(sealed(b"x", ann.recipient))
    key = key_file(ann, work.parent, Enc.PEM, Fmt.PKCS8, encrypted=True)
    proc = subprocess.run(
        [*CLI, "decrypt", "-i", str(key), "-o", str(work / "out"), str(message)],
        stdin=subprocess.DEVNULL, capture_output=True, start_new_session=True, timeout=60,
    )  # fmt: skip
    assert_one_line_failure(proc, "is encrypted and there is no terminal")
    assert listing(work) == {"msg.der"}


def test_age_identity_on_a_cms_message_and_a_p256_key_on_an_age_file(
    work: Path, ann: Holder, alice: Person
) -> None:
    cms, age_file = work / "msg.der", work / "msg.age"
    cms.write_bytes(sealed(b"x", ann.recipient))
    age_file.write_bytes(_encrypt(alice, b"x"))
    assert_one_line_failure(run("decrypt", "-i", alice.identity_file, cms), "P-256 private key")
    assert_one_line_failure(run("decrypt", "-i", ann.key_path, age_file), "opens CMS messages")
    # both given: each format takes the key it needs
    for message in (cms, age_file):
        assert ok("decrypt", "-i", alice.identity_file, "-i", ann.key_path, message).stdout == b"x"


# ---------------------------------------------------------------- decrypt: failures


def _tamper(message: bytes, offset: int) -> bytes:
    damaged = bytearray(message)
    damaged[offset] ^= 0x01
    return bytes(damaged)


def _failure(case: str, ann: Holder, ben: Holder) -> tuple[bytes, str]:
    plaintext = _plaintext(3 * 65536 + 99)
    message = sealed(plaintext, ann.recipient)
    tag_at = len(message) - 6 - 16  # the 16-byte tag, then three end-of-contents
    if case == "wrong-key":
        return sealed(plaintext, ben.recipient), "no identity matched"
    if case == "tag":
        return _tamper(message, tag_at), "modified or truncated: the message was modified"
    if case == "content":
        return _tamper(message, len(message) // 2), "modified or truncated"
    if case == "truncated":
        return message[: len(message) - 40], "modified or truncated: input ends"
    if case == "pem":
        pem = b"-----BEGIN CMS-----\nMIA*\n-----END CMS-----\n"
        return pem, "invalid armor"
    if case == "pem-trailing":
        body = base64.encodebytes(message)
        return b"-----BEGIN CMS-----\n" + body + b"-----END CMS-----\nmore\n", "after -----END"
    raise AssertionError(case)


CASES = ["wrong-key", "tag", "content", "truncated", "pem", "pem-trailing"]


@pytest.mark.parametrize("case", CASES)
def test_decrypt_failure_to_a_file_leaves_nothing(
    work: Path, ann: Holder, ben: Holder, case: str
) -> None:
    message, needle = _failure(case, ann, ben)
    (work / "in.cms").write_bytes(message)
    proc = run("decrypt", "-i", ann.key_path, "-o", work / "out.bin", work / "in.cms")
    assert_one_line_failure(proc, needle)
    assert proc.stdout == b""
    assert listing(work) == {"in.cms"}  # no output, no hidden .out.bin.*.partial


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("output", ["stdout", "device"])
def test_decrypt_failure_to_stdout_or_a_device_writes_nothing(
    work: Path, ann: Holder, ben: Holder, case: str, output: str
) -> None:
    # the plaintext before a bad tag must never reach a pipe: it is held back
    message, needle = _failure(case, ann, ben)
    to = [] if output == "stdout" else ["-o", "/dev/stdout"]
    proc = run("decrypt", "-i", ann.key_path, *to, stdin=message)
    assert_one_line_failure(proc, needle)
    assert proc.stdout == b""


@pytest.mark.parametrize("case", ["tag", "truncated"])
def test_failure_keeps_existing_output_even_with_force(
    work: Path, ann: Holder, ben: Holder, case: str
) -> None:
    message, needle = _failure(case, ann, ben)
    (work / "in.cms").write_bytes(message)
    (work / "out.bin").write_bytes(b"earlier, good result")
    proc = run("decrypt", "-i", ann.key_path, "-f", "-o", work / "out.bin", work / "in.cms")
    assert_one_line_failure(proc, needle)
    assert (work / "out.bin").read_bytes() == b"earlier, good result"
    assert listing(work) == {"in.cms", "out.bin"}


def test_decrypt_to_a_device_after_verification(work: Path, ann: Holder) -> None:
    plaintext = _plaintext(200_000)
    proc = ok("decrypt", "-i", ann.key_path, "-o", "/dev/stdout",
              stdin=sealed(plaintext, ann.recipient))  # fmt: skip
    assert proc.stdout == plaintext
