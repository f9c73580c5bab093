"""Where a device's private keys live: the OS key store, or (tests only) a file.

Guarantees: :func:`open_keystore` returns the OS keyring store unless
``SECURE_SEND_TEST_KEYSTORE=1`` is set in a run from source, and then warns on every
call; a frozen (installed) build ignores that switch (:mod:`.switches`). The keyring
store refuses to work when no real OS key store is available (the ``fail`` or
``null`` backend, or a chainer holding nothing else): it never falls back to a
plaintext file on its own. Entries are named per profile folder, so two
profiles never share or overwrite each other's keys. Error messages never
contain key material.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import sys
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import keyring
import keyring.backend
import keyring.backends.chainer
import keyring.backends.fail
import keyring.backends.null
import keyring.errors
import nacl.public
import nacl.signing
from cryptography.hazmat.primitives.asymmetric import ec

from secure_send.client.profile import DeviceIdentity, Profile, ProfileError
from secure_send.client.switches import TEST_KEYSTORE_ENV, honoured
from secure_send.core.directory.enrol import DeviceKeys
from secure_send.core.errors import SecureSendError

SERVICE = "secure-send"
TEST_KEYSTORE_WARNING = (
    "secure-send: WARNING: SECURE_SEND_TEST_KEYSTORE=1 keeps device keys in a plain file"
    " in the profile; for tests and the demo only, never for real use"
)
NO_KEYRING_MESSAGE = (
    "no secure key store (OS keyring) is available on this machine; install or enable one"
    " (e.g. GNOME Keyring, KWallet, Windows Credential Manager, macOS Keychain)."
    " Secure Send does not keep device keys in a plain file."
)
_KEY_SIZE = 32


class KeyStoreError(SecureSendError):
    """Device keys cannot be stored, found or removed; the message holds no key material."""


class KeyStore(Protocol):
    """Stores one private key set per identity."""

    def save(self, identity: DeviceIdentity, keys: DeviceKeys) -> None:
        """Store (or replace) the keys of ``identity``."""
        ...

    def load(self, identity: DeviceIdentity) -> DeviceKeys:
        """The keys of ``identity``; raises :class:`KeyStoreError` if there are none."""
        ...

    def delete(self, identity: DeviceIdentity) -> None:
        """Remove the keys of ``identity`` (no error if there are none)."""
        ...


def _encode(keys: DeviceKeys) -> str:
    # Ed25519 seed, X25519 key, and (issue 21) the P-256 scalar: 64 or 96 bytes
    raw = bytes(keys.signing) + bytes(keys.encryption)
    if keys.p256 is not None:
        raw += keys.p256.private_numbers().private_value.to_bytes(_KEY_SIZE, "big")
    return base64.urlsafe_b64encode(raw).decode("ascii")


def _decode(text: object, identity: DeviceIdentity) -> DeviceKeys:
    try:
        if not isinstance(text, str):
            raise ValueError
        raw = base64.urlsafe_b64decode(text.encode("ascii"))
        if len(raw) not in (2 * _KEY_SIZE, 3 * _KEY_SIZE):  # without a P-256 key: older
            raise ValueError
        p256 = None
        if len(raw) == 3 * _KEY_SIZE:  # derive_private_key refuses 0 and ≥ n (ValueError)
            scalar = int.from_bytes(raw[2 * _KEY_SIZE :], "big")
            p256 = ec.derive_private_key(scalar, ec.SECP256R1())
        return DeviceKeys(
            nacl.signing.SigningKey(raw[:_KEY_SIZE]),
            nacl.public.PrivateKey(raw[_KEY_SIZE : 2 * _KEY_SIZE]),
            p256,
        )
    except (ValueError, UnicodeEncodeError, binascii.Error):
        # never echo the stored value: it is (or resembles) key material
        raise KeyStoreError(
            f"the stored keys of {identity.user}/{identity.device} are damaged"
        ) from None


def _is_real_backend(backend: keyring.backend.KeyringBackend) -> bool:
    if isinstance(backend, keyring.backends.chainer.ChainerBackend):
        return any(_is_real_backend(b) for b in backend.backends)
    return not isinstance(backend, (keyring.backends.fail.Keyring, keyring.backends.null.Keyring))


class KeyringStore:
    """Device keys in the OS key store (via ``keyring``), one entry per identity and profile."""

    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        # the resolved path, so the same folder reached two ways maps to one entry
        resolved = str(profile.path.resolve()).encode("utf-8")
        self._profile_tag = hashlib.sha256(resolved).hexdigest()[:16]

    def username(self, identity: DeviceIdentity) -> str:
        """The keyring entry name for ``identity`` in this profile."""
        return f"{identity.user}/{identity.device}@{self._profile_tag}"

    def _backend(self) -> keyring.backend.KeyringBackend:
        backend = keyring.get_keyring()
        if not _is_real_backend(backend):
            raise KeyStoreError(NO_KEYRING_MESSAGE)
        return backend

    def save(self, identity: DeviceIdentity, keys: DeviceKeys) -> None:
        """Store (or replace) the keys of ``identity``."""
        backend = self._backend()
        try:
            backend.set_password(SERVICE, self.username(identity), _encode(keys))
        except keyring.errors.KeyringError as err:
            raise KeyStoreError(
                f"cannot store device keys in the OS key store ({_kind(err)})"
            ) from None

    def load(self, identity: DeviceIdentity) -> DeviceKeys:
        """The keys of ``identity``; raises :class:`KeyStoreError` if there are none."""
        backend = self._backend()
        try:
            value = backend.get_password(SERVICE, self.username(identity))
        except keyring.errors.KeyringError as err:
            raise KeyStoreError(
                f"cannot read device keys from the OS key store ({_kind(err)})"
            ) from None
        if value is None:
            raise KeyStoreError(
                f"no device keys for {identity.user}/{identity.device} in the OS key store;"
                " enrol this device again"
            )
        return _decode(value, identity)

    def delete(self, identity: DeviceIdentity) -> None:
        """Remove the keys of ``identity`` (no error if there are none)."""
        backend = self._backend()
        try:
            if backend.get_password(SERVICE, self.username(identity)) is None:
                return
            backend.delete_password(SERVICE, self.username(identity))
        except keyring.errors.PasswordDeleteError:
            return  # gone meanwhile: the outcome asked for
        except keyring.errors.KeyringError as err:
            raise KeyStoreError(
                f"cannot remove device keys from the OS key store ({_kind(err)})"
            ) from None


def _kind(err: BaseException) -> str:
    # only the class name: a backend's message might quote what it was given
    return type(err).__name__


class FileKeyStore:
    """Device keys in plain JSON in the profile (0600). For tests and the demo only."""

    def __init__(self, profile: Profile) -> None:
        self.profile = profile

    def _read(self) -> dict[str, Any]:
        try:
            data = self.profile.read_json(self.profile.key_file)
        except ProfileError:
            raise KeyStoreError(f"{self.profile.key_file} is damaged") from None
        if data is None:
            return {}
        if not isinstance(data, dict):
            raise KeyStoreError(f"{self.profile.key_file} is damaged")
        return data

    def save(self, identity: DeviceIdentity, keys: DeviceKeys) -> None:
        """Store (or replace) the keys of ``identity``."""
        data = self._read()
        data[f"{identity.user}/{identity.device}"] = _encode(keys)
        self.profile.write_json(self.profile.key_file, data)

    def load(self, identity: DeviceIdentity) -> DeviceKeys:
        """The keys of ``identity``; raises :class:`KeyStoreError` if there are none."""
        value = self._read().get(f"{identity.user}/{identity.device}")
        if value is None:
            raise KeyStoreError(
                f"no device keys for {identity.user}/{identity.device} in {self.profile.key_file}"
            )
        return _decode(value, identity)

    def delete(self, identity: DeviceIdentity) -> None:
        """Remove the keys of ``identity`` (no error if there are none)."""
        data = self._read()
        if data.pop(f"{identity.user}/{identity.device}", None) is not None:
            self.profile.write_json(self.profile.key_file, data)


def _warn_stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def open_keystore(
    profile: Profile,
    env: Mapping[str, str] = os.environ,
    warn: Callable[[str], None] = _warn_stderr,
) -> KeyStore:
    """The key store to use: the OS keyring, or the file store when
    ``SECURE_SEND_TEST_KEYSTORE=1`` (warning on every call, so it is never missed) in a
    run from source; a frozen build ignores the switch and uses the OS keyring.

    The keyring store checks for a real backend when used, raising
    :class:`KeyStoreError`.
    """
    if honoured(TEST_KEYSTORE_ENV, env) == "1":
        warn(TEST_KEYSTORE_WARNING)
        return FileKeyStore(profile)
    return KeyringStore(profile)


def uses_test_keystore(store: KeyStore) -> bool:
    """Whether ``store`` is the plain-file test store (the app then shows a warning)."""
    return isinstance(store, FileKeyStore)


__all__ = [
    "TEST_KEYSTORE_ENV",
    "FileKeyStore",
    "KeyStore",
    "KeyStoreError",
    "KeyringStore",
    "open_keystore",
    "uses_test_keystore",
]
