"""X25519 recipients and identities (age's native key type).

Security properties: a stanza wraps the 16-byte file key to one recipient with an
ephemeral X25519 exchange, HKDF-SHA-256 and ChaCha20-Poly1305. Only the holder of
the identity can unwrap it. The stanza reveals the ephemeral share, not the
recipient; it is *not* sender-authenticated (anyone can encrypt to a recipient),
which is why Secure Send signs a manifest on top.

Warning: identity objects hold private keys. Never log them, put them in argv,
URLs or exception text; :meth:`X25519Identity.__repr__` deliberately hides the key.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import TYPE_CHECKING

import nacl.bindings as sodium
import nacl.exceptions

from secure_send.core.age import b64, bech32
from secure_send.core.age.header import Stanza
from secure_send.core.age.kdf import hkdf_sha256
from secure_send.core.errors import HeaderError, KeyFormatError

if TYPE_CHECKING:
    import datetime as _dt

STANZA_TYPE = "X25519"
_LABEL = b"age-encryption.org/v1/X25519"
_RECIPIENT_HRP = "age"
_IDENTITY_HRP = "age-secret-key-"
_ZERO_NONCE = bytes(12)
FILE_KEY_SIZE = 16


def _shared_secret(scalar: bytes, point: bytes) -> bytes:
    try:
        shared = sodium.crypto_scalarmult(scalar, point)
    except nacl.exceptions.RuntimeError:  # libsodium refuses an all-zero result
        shared = bytes(32)
    if shared == bytes(32):
        raise HeaderError("X25519 share is a low-order point")
    return shared


class X25519Recipient:
    """A public key that files can be encrypted to (``age1…``)."""

    def __init__(self, public_key: bytes) -> None:
        if len(public_key) != 32:
            raise KeyFormatError("an X25519 public key is 32 bytes")
        self.public_key = public_key

    @classmethod
    def parse(cls, text: str) -> X25519Recipient:
        """Parse ``age1…``; raises :class:`KeyFormatError` for anything else."""
        hrp, data = bech32.decode(text.strip())
        if hrp != _RECIPIENT_HRP or text.strip() != text.strip().lower():
            raise KeyFormatError("not an age X25519 recipient (expected age1…)")
        return cls(data)

    def __str__(self) -> str:
        return bech32.encode(_RECIPIENT_HRP, self.public_key)

    def __repr__(self) -> str:
        return f"X25519Recipient({self})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, X25519Recipient) and other.public_key == self.public_key

    def __hash__(self) -> int:
        return hash(self.public_key)

    def wrap(self, file_key: bytes) -> Stanza:
        """Wrap ``file_key`` into a fresh ``X25519`` stanza for this recipient."""
        ephemeral = os.urandom(32)
        share = sodium.crypto_scalarmult_base(ephemeral)
        shared = _shared_secret(ephemeral, self.public_key)
        wrap_key = hkdf_sha256(shared, share + self.public_key, _LABEL, 32)
        body = sodium.crypto_aead_chacha20poly1305_ietf_encrypt(
            file_key, None, _ZERO_NONCE, wrap_key
        )
        return Stanza(STANZA_TYPE, (b64.encode(share).decode("ascii"),), body)


class X25519Identity:
    """A private key (``AGE-SECRET-KEY-1…``) that can open files sent to it."""

    def __init__(self, secret_key: bytes) -> None:
        if len(secret_key) != 32:
            raise KeyFormatError("an X25519 secret key is 32 bytes")
        self._secret = secret_key
        self.recipient = X25519Recipient(sodium.crypto_scalarmult_base(secret_key))

    @classmethod
    def generate(cls) -> X25519Identity:
        """A new random identity."""
        return cls(os.urandom(32))

    @classmethod
    def parse(cls, text: str) -> X25519Identity:
        """Parse ``AGE-SECRET-KEY-1…`` (uppercase, as age writes it)."""
        hrp, data = bech32.decode(text.strip())
        if hrp != _IDENTITY_HRP or text.strip() != text.strip().upper():
            raise KeyFormatError("not an age X25519 identity (expected AGE-SECRET-KEY-1…)")
        return cls(data)

    def secret_string(self) -> str:
        """The Bech32 secret. Handle as a secret: only for writing an identity file."""
        return bech32.encode(_IDENTITY_HRP.upper(), self._secret)

    def __repr__(self) -> str:
        return f"X25519Identity(recipient={self.recipient})"

    def unwrap(self, stanzas: Iterable[Stanza]) -> bytes | None:
        """Return the file key from the first stanza addressed to us, else ``None``.

        Raises:
            HeaderError: an ``X25519`` stanza is malformed (wrong argument count,
                share size, body size, or a low-order share).
        """
        for stanza in stanzas:
            if stanza.type != STANZA_TYPE:
                continue
            key = self._unwrap_one(stanza)
            if key is not None:
                return key
        return None

    def _unwrap_one(self, stanza: Stanza) -> bytes | None:
        if len(stanza.args) != 1:
            raise HeaderError("X25519 stanza must have exactly one argument")
        share = b64.decode(stanza.args[0].encode("ascii"))
        if share is None or len(share) != 32:
            raise HeaderError("X25519 stanza has a malformed share")
        if len(stanza.body) != FILE_KEY_SIZE + 16:
            raise HeaderError("X25519 stanza body has the wrong size")
        shared = _shared_secret(self._secret, share)
        wrap_key = hkdf_sha256(shared, share + self.recipient.public_key, _LABEL, 32)
        try:
            return sodium.crypto_aead_chacha20poly1305_ietf_decrypt(
                stanza.body, None, _ZERO_NONCE, wrap_key
            )
        except nacl.exceptions.CryptoError:
            return None  # addressed to someone else


def parse_identity_file(text: str) -> list[X25519Identity]:
    """Parse an identity file as age-keygen writes it.

    Blank lines and lines starting with ``#`` are skipped; every other line must
    be an X25519 identity.

    Raises:
        KeyFormatError: an unsupported or malformed line (its number, never its text),
            or a file with no identity at all.
    """
    identities = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        try:
            identities.append(X25519Identity.parse(stripped))
        except KeyFormatError:
            raise KeyFormatError(f"malformed identity on line {number}") from None
    if not identities:
        raise KeyFormatError("no identities found in the identity file")
    return identities


def format_identity_file(identity: X25519Identity, now: _dt.datetime | None = None) -> str:
    """The text age-keygen writes: creation time, public key, secret key."""
    import datetime as _dt  # here, not at the top: only keygen needs it (start-up)

    when = (now or _dt.datetime.now(_dt.UTC)).astimezone().replace(microsecond=0)
    return (
        f"# created: {when.isoformat()}\n"
        f"# public key: {identity.recipient}\n"
        f"{identity.secret_string()}\n"
    )
