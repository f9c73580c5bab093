"""Why a directory was not trusted. Each failure has its own class (see docs/security.md,
"Trust chain").

Any of these is a hard stop for sending: the client keeps its last verified
directory and tells the user to call IT security.
"""

from __future__ import annotations

from secure_send.core.errors import SecureSendError


class DirectoryError(SecureSendError):
    """The directory could not be verified; nothing from it is trusted."""


class MalformedDirectoryError(DirectoryError):
    """The published documents are not in the expected format."""


class RootSignatureError(DirectoryError):
    """The root document lacks enough valid signatures from the pinned root keys."""


class RootRollbackError(DirectoryError):
    """The root document is older than one already trusted, or breaks the chain."""


class SigningKeyError(DirectoryError):
    """The snapshot was signed by a key the root document does not name, or an expired one."""


class HeaderSignatureError(DirectoryError):
    """The snapshot header's signature does not verify."""


class StaleDirectoryError(DirectoryError):
    """The snapshot has expired (or claims to be issued in the future)."""


class RollbackError(DirectoryError):
    """An older or replayed snapshot: its epoch does not advance past the last one seen."""


class ForkError(DirectoryError):
    """The event log is not an extension of the one seen before (a forked history)."""


class EntriesMismatchError(DirectoryError):
    """The entries received do not match the signed Merkle root or count."""


class EntryOrderError(DirectoryError):
    """Entries are not canonical, not sorted by id, or not unique."""


class DeviceKeyError(DirectoryError):
    """A device's encryption key is not signed by that device's own signing key."""
