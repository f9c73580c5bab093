"""age v1 (C2SP) file encryption with X25519 recipients and optional ASCII armor."""

from secure_send.core.age.api import Identity, Recipient, decrypt, encrypt
from secure_send.core.age.x25519 import (
    X25519Identity,
    X25519Recipient,
    format_identity_file,
    parse_identity_file,
)

__all__ = [
    "Identity",
    "Recipient",
    "X25519Identity",
    "X25519Recipient",
    "decrypt",
    "encrypt",
    "format_identity_file",
    "parse_identity_file",
]
