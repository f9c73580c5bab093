"""The drop server's limits as the client reads them (``GET /v1/policy``)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from secure_send.client.errors import ClientError
from secure_send.core.error_codes import ErrorCode


@dataclass(frozen=True)
class ServerPolicy:
    """What the server allows: sizes in bytes, expiries in days."""

    max_body_bytes: int
    max_file_bytes: int
    default_expiry_days: int
    max_expiry_days: int
    quota_bytes: int
    clock_skew_seconds: int

    @classmethod
    def from_json(cls, obj: Any) -> ServerPolicy:
        """Parse the server's answer; raises :class:`ClientError` (``bad_answer``)."""
        try:
            values = {name: obj[name] for name in cls.__dataclass_fields__}
        except (KeyError, TypeError):
            raise ClientError(ErrorCode.BAD_ANSWER, "the server's policy is incomplete") from None
        if not all(
            isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in values.values()
        ):
            raise ClientError(ErrorCode.BAD_ANSWER, "the server's policy is malformed")
        policy = cls(**values)
        if not 1 <= policy.default_expiry_days <= policy.max_expiry_days:
            raise ClientError(ErrorCode.BAD_ANSWER, "the server's expiry limits are inconsistent")
        return policy

    def capped(self, max_expiry_days: int | None) -> ServerPolicy:
        """With the longest expiry cut to ``max_expiry_days`` (IT policy may shorten the
        server's, never lengthen it); the default follows if it was longer."""
        if max_expiry_days is None or max_expiry_days >= self.max_expiry_days:
            return self
        days = max(1, max_expiry_days)
        return replace(
            self, max_expiry_days=days, default_expiry_days=min(self.default_expiry_days, days)
        )
