"""age v1 (C2SP) file encryption with X25519 recipients and optional ASCII armor.

The names below are imported on first use (PEP 562): ``secure-send keygen`` needs
the keys but not the payload cipher, and importing a submodule (``age.x25519``)
runs this file first, so eager imports here would load everything for everyone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

_API = {"Identity", "Recipient", "decrypt", "encrypt"}


def __getattr__(name: str) -> Any:
    if name in _API:
        from secure_send.core.age import api

        return getattr(api, name)
    if name in __all__:
        from secure_send.core.age import x25519

        return getattr(x25519, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
