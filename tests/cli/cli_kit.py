"""Helpers for driving the ``secure-send`` CLI as a subprocess in tests."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

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
