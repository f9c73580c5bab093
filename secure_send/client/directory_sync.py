"""The client's verified directory: fetched from the server, verified against the
installed root keys, kept between runs.

Guarantees: :func:`sync` returns only a directory that passed every check of
:func:`secure_send.core.directory.verify.verify_directory` against the pinned
trust anchor *and* the checkpoint kept from the last run (so an older directory
replayed by the server, a rolled-back epoch or a rewritten log is refused); the
new bundle and checkpoint are stored atomically, only after verification. If the
server cannot be reached, the last verified copy is used while it has not
expired; an expired or never-verified directory raises, so nothing can be sent.
"""

from __future__ import annotations

from dataclasses import dataclass

from secure_send.client.api import ClientError, ConnectionLost, ServerApi
from secure_send.client.profile import OrgConfig, Profile
from secure_send.core.directory.bundle import Bundle, Checkpoint
from secure_send.core.directory.errors import DirectoryError
from secure_send.core.directory.model import Entry
from secure_send.core.directory.verify import VerifiedDirectory, verify_directory
from secure_send.core.encoding import unb64u, utc_now


class DirectoryUnverified(ClientError):
    """No verified, current directory: sending must stop until it is fixed."""


@dataclass(frozen=True)
class Directory:
    """A verified directory and whether it is the server's latest (``fresh``)."""

    verified: VerifiedDirectory
    fresh: bool

    def by_id(self) -> dict[str, Entry]:
        """Entries by id."""
        return self.verified.by_id()


def _stored(profile: Profile) -> tuple[bytes | None, Checkpoint | None]:
    raw = profile.read_json(profile.checkpoint_file)
    checkpoint = Checkpoint.from_json(raw) if raw is not None else None
    data = profile.directory_file.read_bytes() if profile.directory_file.exists() else None
    return data, checkpoint


def sync(profile: Profile, org: OrgConfig, api: ServerApi) -> Directory:
    """Fetch, verify and store the server's directory; see the module docstring.

    Raises:
        DirectoryUnverified: the fetched directory failed verification (the
            message names the check), or the server is unreachable and no
            unexpired verified copy exists.
    """
    data, checkpoint = _stored(profile)
    try:
        fetched = api.request("GET", "/v1/directory", signed=False).content
        proof: list[bytes] = []
        if checkpoint is not None:
            _refuse_older(fetched, checkpoint)
            answer = api.json(
                "GET", f"/v1/directory/consistency?from={checkpoint.log_size}", signed=False
            )
            proof = [unb64u(h, 32) for h in answer["proof"]]
    except ConnectionLost:
        return _offline(profile, org, data, checkpoint)
    except (ClientError, KeyError, TypeError, ValueError) as err:
        raise DirectoryUnverified("directory_unavailable", f"no directory: {err}") from None
    try:
        verified = verify_directory(
            fetched, org.anchor, checkpoint, consistency_proof=proof, now=utc_now()
        )
    except DirectoryError as err:
        raise DirectoryUnverified(
            "directory_unverified",
            f"the server's directory failed verification ({err}); do not send; tell IT",
        ) from None
    profile.write_bytes(profile.directory_file, fetched)
    profile.write_json(profile.checkpoint_file, verified.checkpoint.to_json())
    return Directory(verified, fresh=True)


def _refuse_older(fetched: bytes, checkpoint: Checkpoint) -> None:
    # Say "older" plainly (an honest server would also refuse the consistency proof,
    # with a less telling message); verify_directory checks everything else.
    try:
        size = Bundle.peek_header(fetched).log_size
    except DirectoryError:
        return  # malformed: verify_directory names the problem
    if size < checkpoint.log_size:
        raise DirectoryUnverified(
            "directory_rollback",
            "the server offered an older directory than this device has already verified"
            " (a replay?); do not send; tell IT",
        )


def _offline(
    profile: Profile, org: OrgConfig, data: bytes | None, checkpoint: Checkpoint | None
) -> Directory:
    if data is None or checkpoint is None:
        raise DirectoryUnverified(
            "directory_unavailable", "the drop server is unreachable and no directory is stored"
        )
    try:
        # the stored copy is re-checked (expiry included) against the anchor alone
        verified = verify_directory(data, org.anchor, None, now=utc_now())
    except DirectoryError as err:
        raise DirectoryUnverified(
            "directory_stale", f"the stored directory can no longer be used ({err})"
        ) from None
    return Directory(verified, fresh=False)
