"""The client's verified directory: fetched from the server, verified against the
installed root keys, kept between runs, and advanced by the log's changes.

Guarantees: :func:`sync` returns only a directory that passed every check of
:func:`secure_send.core.directory.verify.verify_directory` against the pinned
trust anchor *and* the checkpoint kept from the last run (so an older directory
replayed by the server, a rolled-back epoch or a rewritten log is refused). Once a
device holds a verified directory it syncs by the log: it sends its log size and
snapshot tag, and gets ``304`` (nothing changed), or the events appended since,
which it replays over its verified entries (:mod:`secure_send.core.directory.sync_delta`:
the result must match the signed entries root, so every change is justified by a
signed event), or — far behind — a whole bundle, verified as on first use. The new
bundle, its log range and checkpoint are stored atomically, only after
verification (checkpoint last: a crash in between means a full fetch next time).
If the server cannot be reached, the last verified copy is used while it has not
expired; an expired or never-verified directory raises, so nothing can be sent.
A snapshot refused as not yet issued or expired while this computer's clock is
more than the allowed skew off the server's ``Date`` raises ``clock_skew``, which
says to check this computer's clock (:func:`clock_wrong`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from secure_send.client.api import ServerApi
from secure_send.client.errors import ClientError, ConnectionLost
from secure_send.client.profile import OrgConfig, Profile
from secure_send.core.directory import merkle, sync_delta
from secure_send.core.directory.bundle import Bundle, Checkpoint
from secure_send.core.directory.errors import DirectoryError, StaleDirectoryError
from secure_send.core.directory.model import Entry
from secure_send.core.directory.search import SearchIndex
from secure_send.core.directory.sync_delta import SYNC_FORMAT, SyncDelta, apply_sync
from secure_send.core.directory.verify import CLOCK_SKEW, VerifiedDirectory, verify_directory
from secure_send.core.encoding import b64u, unb64u, utc_now
from secure_send.core.error_codes import ErrorCode


class DirectoryUnverified(ClientError):
    """No verified, current directory: sending must stop until it is fixed."""


@dataclass(frozen=True)
class Directory:
    """A verified directory and whether it is the server's latest (``fresh``)."""

    verified: VerifiedDirectory
    fresh: bool

    def by_id(self) -> Mapping[str, Entry]:
        """Entries by id, each handed out only once its device key bindings verified
        (loading checked them lazily): raises ``DeviceKeyError`` for a forged one.
        One mapping per verified directory (a ``304`` keeps it)."""
        return self.verified.checked_entries()

    def search_index(self) -> SearchIndex:
        """The recipient search the GUI, the CLI and send all use: one per verified
        directory, built on the first call (slow at 100,000 entries: not on a UI thread)."""
        return self.verified.search_index()


def _checkpoint(profile: Profile) -> Checkpoint | None:
    raw = profile.read_json(profile.checkpoint_file)
    return Checkpoint.from_json(raw) if raw is not None else None


def _data(profile: Profile) -> bytes | None:
    """The stored bundle (read only when needed: at 100,000 entries it is ~50 MB)."""
    return profile.directory_file.read_bytes() if profile.directory_file.exists() else None


def _stored_log(profile: Profile, checkpoint: Checkpoint) -> merkle.CompactRange | None:
    """The log range kept with the checkpoint, if it matches it exactly."""
    raw = profile.read_json(profile.path / "log-range.json")
    if not isinstance(raw, dict):
        return None
    try:
        log = merkle.CompactRange(int(raw["size"]), [unb64u(h, 32) for h in raw["hashes"]])
    except (TypeError, KeyError, ValueError, merkle.MerkleError):
        return None
    if log.size != checkpoint.log_size or log.root() != checkpoint.log_root:
        return None
    return log


def _store(
    profile: Profile, data: bytes, verified: VerifiedDirectory, log: merkle.CompactRange
) -> None:
    profile.write_bytes(profile.directory_file, data)
    profile.write_json(
        profile.path / "log-range.json",
        {"size": log.size, "hashes": [b64u(h) for h in log.hashes]},
    )
    profile.write_json(profile.checkpoint_file, verified.checkpoint.to_json())  # last


def sync(
    profile: Profile, org: OrgConfig, api: ServerApi, previous: Directory | None = None
) -> Directory:
    """Bring the verified directory up to the server's; see the module docstring.
    ``previous`` (this process's last result) spares re-verifying the stored copy.

    Raises:
        DirectoryUnverified: what the server sent failed verification (the message
            names the check), or the server is unreachable and no unexpired
            verified copy exists.
    """
    checkpoint = _checkpoint(profile)
    log = _stored_log(profile, checkpoint) if checkpoint is not None else None
    if checkpoint is None or log is None or not profile.directory_file.exists():
        return _full(profile, org, api, _data(profile), checkpoint)
    base = previous.verified if previous and previous.verified.checkpoint == checkpoint else None
    try:
        fetched = api.directory_sync(checkpoint.log_size, checkpoint.header_hash)
    except ConnectionLost:
        return _offline(profile, org, _data(profile), checkpoint)
    except ClientError as err:
        raise DirectoryUnverified(ErrorCode.DIRECTORY_UNAVAILABLE, f"no directory: {err}") from None
    if fetched is None:  # 304, the common case: costs no read and no parse
        return Directory(base or _load(org, _data(profile), checkpoint, api), fresh=True)
    if not fetched.startswith(b'{"format":"' + SYNC_FORMAT.encode()):
        return _full(profile, org, api, _data(profile), checkpoint, fetched, events_due=True)
    base = base or _load(org, _data(profile), checkpoint, api)
    return _advance(profile, org, base, log, fetched, api)


def _advance(
    profile: Profile,
    org: OrgConfig,
    base: VerifiedDirectory,
    log: merkle.CompactRange,
    fetched: bytes,
    api: ServerApi,
) -> Directory:
    try:
        verified, extended = apply_sync(base, log, fetched, org.anchor, now=utc_now())
        delta = SyncDelta.from_bytes(fetched)
    except DirectoryError as err:
        raise clock_wrong(api, err) or unverified(err) from None
    bundle = Bundle(delta.roots, delta.header, verified.texts).to_bytes()
    _store(profile, bundle, verified, extended)
    return Directory(verified, fresh=True)


def _load(
    org: OrgConfig, data: bytes | None, checkpoint: Checkpoint, api: ServerApi | None = None
) -> VerifiedDirectory:
    """The stored copy, verified again against the anchor (it must be the checkpoint's);
    ``api``: the server just answered (its clock can tell this one's is wrong)."""
    if data is None:
        raise DirectoryUnverified(ErrorCode.DIRECTORY_STALE, "the stored directory is missing")
    try:
        verified = verify_directory(data, org.anchor, None, now=utc_now(), lazy_bindings=True)
    except DirectoryError as err:
        raise clock_wrong(api, err) or DirectoryUnverified(
            ErrorCode.DIRECTORY_STALE, f"the stored directory can no longer be used ({err})"
        ) from None
    if verified.checkpoint.header_hash != checkpoint.header_hash:
        raise DirectoryUnverified(
            ErrorCode.DIRECTORY_STALE, "the stored directory is not the one last verified"
        )
    return verified


def _full(
    profile: Profile,
    org: OrgConfig,
    api: ServerApi,
    data: bytes | None,
    checkpoint: Checkpoint | None,
    fetched: bytes | None = None,
    *,
    events_due: bool = False,
) -> Directory:
    """A whole bundle (first use, or far behind), verified against the checkpoint.
    ``events_due``: this device holds a log range, so a small gap must come as events."""
    try:
        if fetched is None:
            fetched = api.directory_bundle()
        proof: list[bytes] = []
        if checkpoint is not None:
            _refuse_older(fetched, checkpoint)
            proof = api.consistency_proof(checkpoint.log_size)
    except ConnectionLost:
        return _offline(profile, org, data, checkpoint)
    except (ClientError, KeyError, TypeError, ValueError) as err:
        raise DirectoryUnverified(ErrorCode.DIRECTORY_UNAVAILABLE, f"no directory: {err}") from None
    try:
        verified = verify_directory(
            fetched,
            org.anchor,
            checkpoint,
            consistency_proof=proof,
            now=utc_now(),
            lazy_bindings=True,  # each entry's bindings are checked before its first use
        )
    except DirectoryError as err:
        raise clock_wrong(api, err) or unverified(err) from None
    if events_due and checkpoint is not None:  # it could have replayed the events
        _refuse_skipped_log(checkpoint, verified.checkpoint)
    _store(profile, fetched, verified, _log_range(api, verified.checkpoint))
    return Directory(verified, fresh=True)


def _log_range(api: ServerApi, checkpoint: Checkpoint) -> merkle.CompactRange:
    """The log's compact range at the checkpoint, from the server, checked against the
    signed log root (a wrong one is refused: later syncs extend it)."""
    try:
        log = merkle.CompactRange(checkpoint.log_size, api.log_frontier(checkpoint.log_size))
    except (ClientError, KeyError, TypeError, ValueError, merkle.MerkleError) as err:
        raise DirectoryUnverified(ErrorCode.DIRECTORY_UNAVAILABLE, f"no log range: {err}") from None
    if log.root() != checkpoint.log_root:
        raise DirectoryUnverified(
            ErrorCode.DIRECTORY_UNVERIFIED,
            "the server's log range does not match the signed log; do not send; tell IT",
        )
    return log


def unverified(err: DirectoryError) -> DirectoryUnverified:
    """The error for a directory that failed a check (here, or when an entry's device
    bindings are checked on first use): sending stops."""
    return DirectoryUnverified(
        ErrorCode.DIRECTORY_UNVERIFIED,
        f"the server's directory failed verification ({err}); do not send; tell IT",
    )


def clock_wrong(api: ServerApi | None, err: DirectoryError) -> DirectoryUnverified | None:
    """For a snapshot "issued in the future" or "expired" while this computer's clock
    is more than the allowed skew off the server's (its ``Date``): the error that says
    to check this computer's clock, rather than to tell IT. None otherwise.

    The server's clock is only believed for the wording: the snapshot is refused
    either way (a server faking its ``Date`` changes the advice, not the outcome)."""
    server = api.server_date if api is not None else None
    if not isinstance(err, StaleDirectoryError) or server is None:
        return None
    offset = server - utc_now()
    if abs(offset) <= CLOCK_SKEW:
        return None
    side = "behind" if offset > dt.timedelta(0) else "ahead of"
    return DirectoryUnverified(
        ErrorCode.CLOCK_SKEW,
        f"this computer's clock is {_span(abs(offset))} {side} the drop server's, so the"
        " directory cannot be checked; correct this computer's date, time and time zone,"
        " then try again",
    )


def _span(delta: dt.timedelta) -> str:
    minutes = round(delta.total_seconds() / 60)
    if minutes < 120:
        return f"about {minutes} minutes"
    if minutes < 48 * 60:
        return f"about {round(minutes / 60)} hours"
    return f"about {round(minutes / 1440)} days"


def _refuse_skipped_log(old: Checkpoint, new: Checkpoint) -> None:
    """A whole bundle where the log's events were due (and the snapshot changed): a
    server skipping the check that every change is justified by a logged event."""
    if new.header_hash == old.header_hash:
        return  # the very snapshot this device holds: nothing to justify
    if new.log_size - old.log_size <= sync_delta.MAX_SYNC_EVENTS:
        raise DirectoryUnverified(
            ErrorCode.DIRECTORY_UNVERIFIED,
            "the server's directory failed verification (a whole directory came where the"
            " log's changes were due); do not send; tell IT",
        )


def _refuse_older(fetched: bytes, checkpoint: Checkpoint) -> None:
    # Say "older" plainly (an honest server would also refuse the consistency proof,
    # with a less telling message); verify_directory checks everything else.
    try:
        size = Bundle.peek_header(fetched).log_size
    except DirectoryError:
        return  # malformed: verify_directory names the problem
    if size < checkpoint.log_size:
        raise DirectoryUnverified(
            ErrorCode.DIRECTORY_ROLLBACK,
            "the server offered an older directory than this device has already verified"
            " (a replay?); do not send; tell IT",
        )


def _offline(
    profile: Profile, org: OrgConfig, data: bytes | None, checkpoint: Checkpoint | None
) -> Directory:
    if data is None or checkpoint is None:
        raise DirectoryUnverified(
            ErrorCode.DIRECTORY_UNAVAILABLE,
            "the drop server is unreachable and no directory is stored",
        )
    return Directory(_load(org, data, checkpoint), fresh=False)
