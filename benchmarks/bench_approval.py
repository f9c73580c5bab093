"""What 上長承認 costs a recipient's client (issue 20), run by hand:

    .venv/bin/python benchmarks/bench_approval.py [--drops 5000]

Every reader judges a drop's approval when it first verifies it (an Inbox of 5,000 drops
verifies each manifest once; ``client/inbox_cache.py`` keeps the result). Measured over
``--drops`` signed manifests of a small organisation on disk (no network):

* reference, the same run: ``SignedManifest.verify`` alone (what every drop costs already);
* a drop that asks for no approval and needs none (to the sender's own department, at
  機密性2), under a policy with every reason: the recomputation;
* an approved drop: the decision parsed and verified (digest, approver, Ed25519).

Reported per drop and as a ratio to the manifest verification.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import hashlib
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script

from secure_send.client.approval import judge
from secure_send.client.approval_rules import ApprovalRules
from secure_send.core.directory.enrol import DeviceKeys, make_request
from secure_send.core.encoding import format_time, utc_now
from secure_send.core.envelope.approval import Approval, Decision, manifest_digest
from secure_send.core.envelope.manifest import (
    ApprovalRequired,
    Blob,
    Classification,
    Manifest,
    RecipientRef,
    SignedManifest,
    new_drop_id,
)
from secure_send.org import ops
from secure_send.org.home import OrgHome
from secure_send.org.importing import ImportRow

PEOPLE = (("sender", "会計課"), ("boss", "会計課"), ("reader", "人事課"))
RULES = ApprovalRules(frozenset({"c3", "mynumber", "outside_department"}))


def _org(folder: Path) -> tuple[OrgHome, dict[str, DeviceKeys]]:
    home = OrgHome(folder)
    ops.init(home, "ベンチ省", roots=3, threshold=2)
    rows = [
        ImportRow(i, user, "person", user, "", user, f"{user}@example.go.jp", dept, "主任")
        for i, (user, dept) in enumerate(PEOPLE, 2)
    ]
    rows[0] = dataclasses.replace(rows[0], approver="boss")
    ops.import_rows(home, rows, "it")
    keys = {}
    for user, _ in PEOPLE:
        keys[user] = DeviceKeys.generate()
        code = ops.issue_code(home, user)
        request = make_request(keys[user], user, "pc", "端末", code, utc_now())
        ops.accept_enrolment(home, request, "it")
    return home, keys


def _manifest(asks: bool) -> Manifest:
    now = utc_now()
    return Manifest(
        drop_id=new_drop_id(),
        sender="sender",
        sender_device="pc",
        # without approval: to a colleague of the same department, so nothing is needed
        recipients=(
            (RecipientRef("reader", ("pc",)), RecipientRef("boss", ("pc",)))
            if asks
            else (RecipientRef("boss", ("pc",)),)
        ),
        blobs=(Blob("m", "metadata", hashlib.sha256(b"m").digest(), 1),),
        created=format_time(now),
        expires=format_time(now + dt.timedelta(days=3)),
        classification=Classification.C2,
        suite="age-x25519-v1",
        directory_epoch=1,
        directory_header="x" * 43,
        log_size=1,
        log_root=bytes(32),
        approval=ApprovalRequired("boss", ("boss",), ("outside_department",)) if asks else None,
    )


def _decision(m: Manifest, keys: DeviceKeys) -> dict[str, object]:
    approval = Approval(
        drop_id=m.drop_id,
        manifest=manifest_digest(m),
        approver="boss",
        device="pc",
        decision=Decision.APPROVED,
        time=format_time(utc_now()),
        log_size=1,
        log_root=bytes(32),
    )
    return {"state": "approved", "decision": approval.signed_by(keys.signing).to_json()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--drops", type=int, default=5000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home, keys = _org(Path(tmp) / "org")
        entries = home.entries()
        plain = [_manifest(False).sign(keys["sender"].signing) for _ in range(args.drops)]
        asking = [_manifest(True).sign(keys["sender"].signing) for _ in range(args.drops)]
        decisions = [_decision(s.manifest, keys["boss"]) for s in asking]
        wire = [SignedManifest.from_json(s.to_json()) for s in plain]
        start = time.perf_counter()
        for signed in wire:
            signed.verify(entries)
        verify = (time.perf_counter() - start) / args.drops
        start = time.perf_counter()
        for signed in plain:
            judge(signed.manifest, None, entries, RULES, "boss")
        none = (time.perf_counter() - start) / args.drops
        start = time.perf_counter()
        for signed, decision in zip(asking, decisions, strict=True):
            status = judge(signed.manifest, decision, entries, RULES, "reader")
            if status.state != "approved":
                raise SystemExit("an approved drop was not judged approved")
        approved = (time.perf_counter() - start) / args.drops
    print(f"{args.drops} drops, per drop:")
    print(f"  manifest verification (reference)   {verify * 1e6:8.1f} µs")
    print(f"  judge, no approval asked            {none * 1e6:8.1f} µs  ({none / verify:.2f}x)")
    ratio = approved / verify
    print(f"  judge, approved (decision verified) {approved * 1e6:8.1f} µs  ({ratio:.2f}x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
