"""Split views: does another device's directory history agree with this device's?

A compromised signer (or a server holding a stolen signing key) could show two
groups of staff two different, validly signed directory histories. Each party
of a drop therefore signs the log head (size, Merkle root) of the directory it
verified: the sender in the manifest, the recipient in the receipt. The other
party compares that head with its own checkpoint here.

Guarantees of :meth:`SplitViewCheck.verdict`:

* ``CONSISTENT`` only when one log provably extends the other: equal sizes with
  equal roots, or an RFC 6962 consistency proof from the smaller to the larger
  size that verifies against *both* roots (this device's root comes from its own
  verified checkpoint; the other root is what the other device signed). The
  server supplies the proof but cannot forge one: a wrong proof fails.
* ``INCONSISTENT`` when equal sizes have different roots or the proof fails:
  the two devices saw different histories (a split view) — or the server sent
  a wrong proof, which is as dangerous and is shown the same way.
* ``UNCHECKABLE`` when there is no head to compare (an older manifest or
  receipt) or the server withholds the proof (error, timeout, malformed answer,
  a size beyond what it holds). Never treated as consistent: fail closed.

Limits: this catches a split view only when two devices that saw different
histories exchange a drop or a receipt; two groups that never exchange anything
are not compared. A consistent verdict says the histories agree up to the
smaller size, not that the larger one is current.

Verified pairs are remembered in the profile (a small bounded JSON file), so a
listing does not ask the server again for drops it already checked; failures are
never remembered, so each listing asks (and shows the danger) again.
"""

from __future__ import annotations

import enum
import hmac

from secure_send.client.api import ServerApi
from secure_send.client.profile import Profile
from secure_send.core.directory import merkle
from secure_send.core.directory.bundle import Checkpoint
from secure_send.core.encoding import b64u
from secure_send.core.error_codes import ErrorCode
from secure_send.core.errors import SecureSendError

CACHE_FILE = "split-view-checks.json"  # in the profile folder
CACHE_FORMAT = "secure-send/split-view-checks/v1"
CACHE_LIMIT = 512  # pairs kept; the oldest are forgotten (and checked again if needed)

LogHead = tuple[int, bytes]  # (log size, log root)


class Verdict(enum.Enum):
    """How another device's log head relates to this device's checkpoint."""

    CONSISTENT = "consistent"
    INCONSISTENT = "inconsistent"  # a split view (or a server lying about proofs)
    UNCHECKABLE = "uncheckable"  # no head, or no usable proof: never shown as verified


SPLIT_VIEW = ErrorCode.SPLIT_VIEW
SPLIT_VIEW_UNCHECKED = ErrorCode.SPLIT_VIEW_UNCHECKED


def drop_problem(verdict: Verdict) -> tuple[ErrorCode, str] | None:
    """(code, message) for a received drop whose sender's head got ``verdict``."""
    if verdict is Verdict.INCONSISTENT:
        return SPLIT_VIEW, (
            "the sender's directory differs from yours (split view?); do not open; tell IT security"
        )
    if verdict is Verdict.UNCHECKABLE:
        return SPLIT_VIEW_UNCHECKED, (
            "the sender's directory could not be checked against yours; "
            "do not open; tell IT security"
        )
    return None


def receipt_problem(verdict: Verdict) -> tuple[ErrorCode, str] | None:
    """(code, message) for a download receipt whose recipient's head got ``verdict``."""
    if verdict is Verdict.INCONSISTENT:
        return SPLIT_VIEW, (
            "the recipient's directory differs from yours (split view?); "
            "the receipt is not trusted; tell IT security"
        )
    if verdict is Verdict.UNCHECKABLE:
        return SPLIT_VIEW_UNCHECKED, (
            "the recipient's directory could not be checked against yours; "
            "the receipt is not trusted; tell IT security"
        )
    return None


class SplitViewCheck:
    """Compares log heads with this device's checkpoint; see the module docstring.

    One instance serves one listing or receive; :meth:`save` writes newly verified
    pairs to the profile (``profile=None``: nothing is remembered)."""

    def __init__(self, api: ServerApi, mine: Checkpoint, profile: Profile | None = None) -> None:
        self.api = api
        self.mine: LogHead = (mine.log_size, mine.log_root)
        self._cache = _Cache(profile)
        self._seen: dict[str, Verdict] = {}  # this run's answers, failures included

    def verdict(self, theirs: LogHead | None) -> Verdict:
        """How ``theirs`` (a signed log head, or None) relates to this device's."""
        if theirs is None:
            return Verdict.UNCHECKABLE
        if theirs[0] == self.mine[0]:  # same size: the same history has the same root
            same = hmac.compare_digest(theirs[1], self.mine[1])
            return Verdict.CONSISTENT if same else Verdict.INCONSISTENT
        old, new = sorted((self.mine, theirs), key=lambda head: head[0])
        key = _key(old, new)
        if key in self._seen:
            return self._seen[key]
        if key in self._cache:
            return Verdict.CONSISTENT
        result = self._check(old, new)
        self._seen[key] = result
        if result is Verdict.CONSISTENT:
            self._cache.add(key)
        return result

    def _check(self, old: LogHead, new: LogHead) -> Verdict:
        proof = self._proof(old[0], new[0])
        if proof is None:
            return Verdict.UNCHECKABLE
        try:
            merkle.verify_consistency(old[0], new[0], old[1], new[1], proof)
        except merkle.MerkleError:
            return Verdict.INCONSISTENT
        return Verdict.CONSISTENT

    def _proof(self, old: int, new: int) -> list[bytes] | None:
        """The server's proof from ``old`` to ``new``, or None if it gives none usable."""
        try:
            return self.api.consistency_proof(old, new)
        except SecureSendError:
            return None  # withheld (error, timeout) or malformed: uncheckable

    def save(self) -> None:
        """Remember the pairs verified in this run (best effort: it only saves work)."""
        self._cache.save()


def _key(old: LogHead, new: LogHead) -> str:
    return f"{old[0]}:{b64u(old[1])}:{new[0]}:{b64u(new[1])}"


class _Cache:
    """Verified (size, root, size, root) pairs in :data:`CACHE_FILE`, newest last.

    A lost or unreadable file only costs proofs fetched again; it never makes a
    pair consistent that was not verified by this device."""

    def __init__(self, profile: Profile | None) -> None:
        self.profile = profile
        self.pairs: list[str] = self._load()
        self._known = set(self.pairs)
        self._dirty = False

    def _load(self) -> list[str]:
        if self.profile is None:
            return []
        try:
            obj = self.profile.read_json(self.profile.path / CACHE_FILE)
        except SecureSendError:
            return []  # corrupt: start again (it is rewritten on the next save)
        if not isinstance(obj, dict) or obj.get("format") != CACHE_FORMAT:
            return []
        pairs = obj.get("pairs")
        if not isinstance(pairs, list) or not all(isinstance(p, str) for p in pairs):
            return []
        return pairs[-CACHE_LIMIT:]

    def __contains__(self, key: str) -> bool:
        return key in self._known

    def add(self, key: str) -> None:
        self.pairs.append(key)
        self._known.add(key)
        self._dirty = True

    def save(self) -> None:
        if self.profile is None or not self._dirty:
            return
        self.pairs = self.pairs[-CACHE_LIMIT:]
        self._known = set(self.pairs)
        document = {"format": CACHE_FORMAT, "pairs": self.pairs}
        try:
            self.profile.write_json(self.profile.path / CACHE_FILE, document)
        except OSError:
            return  # a read-only profile only means proofs are fetched again
        self._dirty = False
