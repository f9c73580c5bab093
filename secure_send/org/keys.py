"""Key files of an organisation home: offline root keys and the online signing key.

Each key file holds one Ed25519 seed (base64url), mode 0600. Root keys belong
offline (a hardware token or an air-gapped machine, by the root-key ceremony in
docs/deployment.md); ``init`` writes them under ``offline-root/`` so a demo or
a test organisation works on one machine, and says so loudly.
"""

from __future__ import annotations

from pathlib import Path

import nacl.signing

from secure_send.core.atomic import AtomicOutput
from secure_send.core.encoding import EncodingError, b64u, unb64u
from secure_send.core.errors import SecureSendError


class KeyFileError(SecureSendError):
    """A key file is missing or malformed (its content is never shown)."""


OFFLINE_README = """\
THESE ARE THE ORGANISATION'S ROOT KEYS.

Whoever holds a threshold of them can replace the directory's trust chain.
Move them offline (one per custodian, on separate hardware tokens or USB media
kept in separate safes) and delete them from this machine. Bring them back only
for a root-key ceremony: rotating the directory signing key or the root keys.
"""


def write_key(path: Path, key: nacl.signing.SigningKey) -> None:
    """Write a new key file (0600), refusing to replace an existing one."""
    with AtomicOutput(path) as out:
        out.file.write((b64u(bytes(key)) + "\n").encode("ascii"))
        out.commit()


def read_key(path: Path) -> nacl.signing.SigningKey:
    """Read a key file.

    Raises:
        KeyFileError: missing or malformed.
    """
    try:
        seed = unb64u(path.read_text(encoding="ascii").strip(), 32)
    except FileNotFoundError:
        raise KeyFileError(f"key file {path} not found") from None
    except (EncodingError, UnicodeDecodeError):
        raise KeyFileError(f"key file {path} is malformed") from None
    return nacl.signing.SigningKey(seed)
