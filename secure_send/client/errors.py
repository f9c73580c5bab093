"""What the client tells its callers went wrong: one exception family, one vocabulary.

Every error carries a stable :class:`~secure_send.core.error_codes.ErrorCode` (``code``)
that scripts match on (``--json``) and the app and CLI turn into one sentence; the
message is the detail, and never holds a key, a code from IT or a file's contents.
"""

from __future__ import annotations

from secure_send.core.error_codes import ErrorCode
from secure_send.core.errors import SecureSendError


class ClientError(SecureSendError):
    """Something the user must be told; ``code`` is stable for scripts."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code


class ServerError(ClientError):
    """The server answered with an error (``status``, ``code``)."""

    def __init__(self, status: int, code: ErrorCode, message: str) -> None:
        super().__init__(code, f"server: {message} ({code})")
        self.status = status


class ConnectionLost(ClientError):
    """The server could not be reached or the connection was cut."""

    def __init__(self) -> None:
        super().__init__(ErrorCode.CONNECTION_LOST, "the connection to the drop server was lost")


class Cancelled(ClientError):
    """The user cancelled."""

    def __init__(self) -> None:
        super().__init__(ErrorCode.CANCELLED, "cancelled")


class DangerousDrop(ClientError):
    """The drop failed verification: show it as dangerous, open nothing."""
