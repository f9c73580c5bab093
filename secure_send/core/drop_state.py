"""The states of a drop: what the server stores and lists, and the Sent page shows.

Defined in core because the server (which may import only core) and the client both
name them. A ``StrEnum``: each member *is* its string, so the database column and the
JSON on the wire keep exactly the values they always had.
"""

from __future__ import annotations

import enum


class DropState(enum.StrEnum):
    """A drop on the server goes ``UPLOADING`` → ``COMMITTED`` → ``RECALLED`` or
    ``EXPIRED``; ``DAMAGED`` is said only by the client's listing."""

    UPLOADING = "uploading"  # created, blobs still arriving; recipients do not see it
    COMMITTED = "committed"  # every blob stored: in the recipients' inboxes until expiry
    RECALLED = "recalled"  # the sender took it back; its blobs are deleted
    EXPIRED = "expired"  # its time ran out; its blobs are deleted
    # never stored: the server's copy of one of my drops could not be read (its
    # manifest does not parse, or a state this client does not know)
    DAMAGED = "damaged"


# What the server keeps in its database (every state but the listing's DAMAGED).
STORED = frozenset(DropState) - {DropState.DAMAGED}
