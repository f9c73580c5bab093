"""Save all (issue 17, item 3) and the collection scenario of the issue, against the
real server on 127.0.0.1 and the real directory signer: a request to a department of
30, 20 submissions (2 late, 1 person twice), the desk's status, CSV and reminders,
then every submission saved in one action — one folder per submitter, byte for byte,
resumed after a cut — with a receipt reaching every submitter.

The 30 people of 税務課 are added by IT in one import and the 20 who submit are
enrolled in one batch on IT's side (``ops.enrol_batch``), each given a profile of its
own; the desk (Hanako, a member of the 会計課 mailbox) enrols through the CLI.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import threading
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import pytest

from secure_send.client import file_requests, listing, save_all
from secure_send.client import send as sending
from secure_send.client.keystore import FileKeyStore
from secure_send.client.policy import ItPolicy
from secure_send.client.profile import DeviceIdentity, OrgConfig, Profile
from secure_send.client.session import Session
from secure_send.core.directory.log import Action
from secure_send.core.encoding import utc_now
from secure_send.core.envelope.request import JST
from secure_send.org import ops
from secure_send.org.names_ja import GIVEN_NAMES, SURNAMES, romaji_name
from tests.client.conftest import Enrol, Person
from tests.directory_kit import HANAKO, JIRO, OPERATOR, ROLE, person_row, request_for
from tests.server.conftest import Server

DEPARTMENT = "税務課"
TOMORROW = (dt.datetime.now(JST) + dt.timedelta(days=1)).date().isoformat()


def _people(count: int) -> list[tuple[str, str, str, str]]:
    """``count`` people of 税務課: (id, name_ja, kana, name_en)."""
    out = []
    for n in range(count):
        (family, family_kana), (given, given_kana) = SURNAMES[n], GIVEN_NAMES[n % 7]
        name_en = f"{romaji_name(given_kana)} {romaji_name(family_kana)}"
        out.append((f"zeimu.{n:02d}", f"{family} {given}", f"{family_kana} {given_kana}", name_en))
    return out


@dataclass
class Submitter:
    """One addressee with a profile of their own (enrolled in bulk by IT)."""

    user: str
    name_ja: str
    home: Path

    def session(self, policy: ItPolicy | None = None) -> Session:
        profile = Profile(self.home)
        return Session.open(profile, FileKeyStore(profile), policy)


def _enrol_in_bulk(server: Server, users: list[tuple[str, str]], root: Path) -> list[Submitter]:
    """Enrol one device for each (user, name_ja) in one IT batch and give each a
    profile as ``secure-send enrol`` leaves it; the server learns them by a signer push."""
    org = OrgConfig.from_json(ops.client_config(server.home, server.url))
    made = []
    for user, _ in users:
        keys, request = request_for(user, "pc", ops.issue_code(server.home, user), "税務課の端末")
        made.append((keys, request))
    outcomes = ops.enrol_batch(server.home, [r for _, r in made], OPERATOR)
    assert {o for o, _ in outcomes} == {ops.Outcome.ENROLLED}
    out = []
    for (user, name_ja), (keys, _) in zip(users, made, strict=True):
        profile = Profile(root / user).ensure()
        me = DeviceIdentity(user, "pc")
        FileKeyStore(profile).save(me, keys)
        profile.write_json(profile.config_file, org.to_json())
        profile.write_json(profile.identity_file, me.to_json())
        out.append(Submitter(user, name_ja, profile.path))
    server.push()
    return out


def _submit(
    who: Submitter, request_id: str, files: list[Path], policy: ItPolicy | None = None
) -> str:
    with closing(who.session(policy)) as session:
        pending = file_requests.submit(session, session.directory(), request_id, files)
        return sending.finish(session, pending)


def _paper(folder: Path, user: str, n: int) -> list[Path]:
    """A person's documents: a CSV and a binary 'PDF', different for every submission."""
    folder.mkdir(parents=True, exist_ok=True)
    text = folder / "源泉徴収票.csv"
    text.write_text(f"{user},{n},扶養控除\n", encoding="utf-8")
    binary = folder / "控除証明書.pdf"
    binary.write_bytes(bytes(range(256)) * (40 + n) + user.encode())
    return [text, binary]


def _downloaded(server: Server, after: int) -> set[str]:
    """The drops whose blobs were downloaded after the first ``after`` audit records."""
    records = list(server.audit().records())[after:]
    return {r.drop for r in records if str(r.action) == "download" and r.drop}


def _audit_size(server: Server) -> int:
    return sum(1 for _ in server.audit().records())


def _tree(folder: Path) -> dict[str, list[str]]:
    """person folder -> its time folders."""
    return {
        p.name: sorted(t.name for t in p.iterdir()) for p in sorted(folder.iterdir()) if p.is_dir()
    }


@dataclass
class Scenario:
    """The issue's collection: what was submitted, by whom, and the desk."""

    server: Server
    desk: Person
    request_id: str
    people: list[tuple[str, str, str, str]]
    submitters: list[Submitter]
    twice: str
    late: list[str]
    sent: dict[str, list[tuple[str, list[Path]]]]  # user -> [(drop id, the files)]


@pytest.fixture
def scenario(
    org_server: Server, enrol: Enrol, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Scenario:
    people = _people(30)
    rows = [person_row(100 + i, *p, DEPARTMENT) for i, p in enumerate(people)]
    ops.import_rows(org_server.home, rows, OPERATOR)
    org_server.push()
    desk = enrol(HANAKO, "laptop")
    request_id = desk.ok(
        "request",
        "create",
        "--into",
        ROLE,
        "--to-department",
        DEPARTMENT,
        "--title",
        "年末調整書類の提出",
        "--due",
        TOMORROW,
    )["request_id"]
    submitters = _enrol_in_bulk(
        org_server, [(u, n) for u, n, _, _ in people[:20]], tmp_path / "staff"
    )
    late, twice = [s.user for s in submitters[18:20]], submitters[0].user
    sent: dict[str, list[tuple[str, list[Path]]]] = {}
    for who in submitters:
        files = _paper(tmp_path / "papers" / who.user / "1", who.user, 1)
        with monkeypatch.context() as clock:
            policy = None
            if who.user in late:  # their clock runs three days ahead: signed after the due day
                ahead = utc_now() + dt.timedelta(days=3)
                clock.setattr("secure_send.client.send.utc_now", lambda ahead=ahead: ahead)
                # and their IT keeps drops 14 days, so the expiry their clock signs stays
                # within the server's 30 days
                policy = ItPolicy(max_expiry_days=14)
            sent[who.user] = [(_submit(who, request_id, files, policy), files)]
    again = _paper(tmp_path / "papers" / twice / "2", twice, 2)
    sent[twice].append((_submit(submitters[0], request_id, again), again))
    return Scenario(org_server, desk, request_id, people, submitters, twice, late, sent)


def test_the_collection_scenario_from_request_to_saved_folders(
    scenario: Scenario, tmp_path: Path
) -> None:
    s, desk, request_id = scenario, scenario.desk, scenario.request_id
    everyone = [p[0] for p in s.people]
    submitted = [w.user for w in s.submitters]
    pending = sorted(set(everyone) - set(submitted))

    status = desk.ok("request", "status", request_id, "--csv", str(tmp_path / "status.csv"))
    assert sorted(p["id"] for p in status["submitted"]) == sorted(submitted)
    assert sorted(p["id"] for p in status["pending"]) == pending
    assert sorted(status["late"]) == sorted(s.late)
    assert (len(status["submitted"]), len(status["pending"]), len(status["late"])) == (20, 10, 2)
    table = list(csv.DictReader(io.StringIO((tmp_path / "status.csv").read_text("utf-8-sig"))))
    assert sorted(r["id"] for r in table) == sorted(everyone)
    assert {r["id"]: r["submissions"] for r in table}[s.twice] == "2"
    assert sorted(desk.ok("request", "remind", request_id)["reminded"]) == pending

    # a first run cut by the desk after 8 submissions: each drop saved whole or not at all
    target = tmp_path / "年末調整"
    cancel = threading.Event()
    seen: list[save_all.SaveProgress] = []

    def watch(p: save_all.SaveProgress) -> None:
        seen.append(p)
        if p.done >= 8:
            cancel.set()

    before = _audit_size(s.server)
    with closing(_desk_session(desk)) as session:
        first = save_all.save_all(
            session, session.directory(), request_id, target, watch, cancel, workers=4
        )
    assert first.cancelled
    assert not first.complete
    assert 8 <= len(first.saved) < 21
    assert len(first.saved) + len(first.remaining) + len(first.failed) == 21
    assert {p.total for p in seen} == {21}
    assert seen[-1].bytes_total == max(p.bytes_total for p in seen) > 0
    assert not list(target.rglob("*.partial"))  # no plaintext left half-written
    assert _downloaded(s.server, before) >= {x.drop_id for x in first.saved}

    # the second run (the CLI) saves only the rest and ends with all 21
    before = _audit_size(s.server)
    second = desk.ok("receive", "--request", request_id, "--all", "-o", str(target))
    first_ids = {x.drop_id for x in first.saved}
    assert {x["drop_id"] for x in second["skipped"]} == first_ids
    assert len(second["saved"]) == 21 - len(first_ids)
    assert _downloaded(s.server, before) == {x["drop_id"] for x in second["saved"]}
    assert second["complete"]
    assert second["people"] == 20
    assert (second["failed"], second["dangerous"], second["strays"]) == ([], [], [])

    # one folder per submitter, a time folder per submission, byte for byte
    tree = _tree(target)
    names = {u: n for u, n, _, _ in s.people}
    assert sorted(tree) == sorted(f"{names[u].replace(' ', '')}_{u}" for u in submitted)
    for user, drops in s.sent.items():
        times = tree[f"{names[user].replace(' ', '')}_{user}"]
        assert len(times) == len(drops)
        for (_, files), folder_name in zip(drops, times, strict=True):
            folder = target / f"{names[user].replace(' ', '')}_{user}" / folder_name
            assert sorted(p.name for p in folder.iterdir()) == sorted(f.name for f in files)
            for f in files:
                assert (folder / f.name).read_bytes() == f.read_bytes()
    latest = {x["drop_id"]: x["latest"] for x in second["saved"] + second["skipped"]}
    (older, _), (newer, _) = s.sent[s.twice]
    assert (latest[older], latest[newer]) == (False, True)
    late = {x["id"] for x in second["saved"] + second["skipped"] if x["late"]}
    assert late == set(s.late)

    # a third run has nothing left to do, and says so in one line
    code, text, _ = desk.run_human("receive", "--request", request_id, "--all", "-o", str(target))
    assert code == 0
    assert text == (
        f"saved 0 submission(s) into {target} (21 already saved earlier);"
        " 20 person(s) have a folder there"
    )

    # every submitter's Sent shows the desk's download (a verified receipt)
    for who in s.submitters:
        with closing(who.session()) as session:
            items = listing.sent(session, session.directory())
        assert len(items) == len(s.sent[who.user])
        for item in items:
            assert {r.user: r.downloaded is not None for r in item.recipients}[HANAKO]

    # an addressee who leaves is no longer asked: gone from pending and the CSV
    gone = pending[0]
    ops.change(s.server.home, OPERATOR, Action.DEPART, {"user": gone})
    s.server.push()
    status = desk.ok("request", "status", request_id, "--csv", str(tmp_path / "after.csv"))
    assert sorted(p["id"] for p in status["pending"]) == pending[1:]
    table = list(csv.DictReader(io.StringIO((tmp_path / "after.csv").read_text("utf-8-sig"))))
    assert len(table) == 29
    assert gone not in {r["id"] for r in table}


def _desk_session(desk: Person) -> Session:
    profile = Profile(desk.home)
    return Session.open(profile, FileKeyStore(profile))


def _both_submit(
    desk: Person, jiro: Person, ichiro: Person, tmp_path: Path
) -> tuple[str, dict[str, str]]:
    """The desk asks Jiro and Ichiro; each submits one small file. The request id and
    each submitter's drop id."""
    request_id = desk.ok(
        "request",
        "create",
        "--into",
        ROLE,
        "--to",
        JIRO,
        "--to",
        "ichiro.tanaka",
        "--title",
        "書類",
    )["request_id"]
    drops = {}
    for person in (jiro, ichiro):
        paper = tmp_path / person.user / "書類.txt"
        paper.parent.mkdir()
        paper.write_text(person.user, encoding="utf-8")
        drops[person.user] = person.ok("submit", request_id, str(paper))["drop_id"]
    return request_id, drops


def test_a_dangerous_submission_is_never_saved(
    org_server: Server, enrol: Enrol, tmp_path: Path
) -> None:
    """A submission whose device IT revoked afterwards (a stolen laptop) no longer
    verifies: save all lists it as dangerous and saves nothing of it."""
    desk, jiro, ichiro = enrol(HANAKO, "laptop"), enrol(JIRO, "pc"), enrol("ichiro.tanaka", "pc")
    request_id, drops = _both_submit(desk, jiro, ichiro, tmp_path)
    ops.change(
        org_server.home, OPERATOR, Action.REVOKE_DEVICE, {"user": "ichiro.tanaka", "device": "pc"}
    )
    org_server.push()
    target = tmp_path / "desk"
    code, out, err = desk.run("receive", "--request", request_id, "--all", "-o", str(target))
    assert code == 0, err
    assert [x["id"] for x in out["saved"]] == [JIRO]
    assert [x["drop_id"] for x in out["dangerous"]] == [drops["ichiro.tanaka"]]
    assert [p.name for p in target.iterdir()] == [f"髙橋次郎_{JIRO}"]
    assert not any("ichiro" in str(p) for p in target.rglob("*"))


def test_the_command_takes_one_drop_or_a_whole_request(enrol: Enrol, tmp_path: Path) -> None:
    desk = enrol(HANAKO, "laptop")
    assert "DROP_ID, or --request REQUEST_ID --all" in desk.fails("receive")
    assert "DROP_ID, or --request REQUEST_ID --all" in desk.fails("receive", "--request", "x")
    assert "DROP_ID, or --request" in desk.fails("receive", "abc", "--request", "x", "--all")


def test_a_save_that_fails_says_so_after_its_summary_and_the_next_run_finishes_it(
    enrol: Enrol, tmp_path: Path
) -> None:
    """A drop that cannot be written (here its person's folder name is taken by a file)
    fails with its reason; the rest stop (a local disk problem hits them all), the
    summary is printed, the exit status is 1 (``save_incomplete``); the next run, the
    obstacle gone, saves what is missing."""
    desk, jiro, ichiro = enrol(HANAKO, "laptop"), enrol(JIRO, "pc"), enrol("ichiro.tanaka", "pc")
    request_id, _ = _both_submit(desk, jiro, ichiro, tmp_path)
    target = tmp_path / "desk"
    target.mkdir()
    blocker = target / f"髙橋次郎_{JIRO}"
    blocker.write_text("not a folder")
    argv = ("receive", "--request", request_id, "--all", "-o", str(target), "--json")
    code, out, err = desk.run_human(*argv)
    assert code == 1
    assert "run the same command again" in err
    summary = json.loads(out)
    assert not summary["complete"]
    assert [(f["id"], f["code"]) for f in summary["failed"]] == [(JIRO, "save_incomplete")]
    assert len(summary["saved"]) + len(summary["failed"]) + len(summary["remaining"]) == 2
    assert JIRO not in {s["id"] for s in summary["saved"]}
    blocker.unlink()
    again = desk.ok("receive", "--request", request_id, "--all", "-o", str(target))
    assert again["complete"]
    assert sorted(s["id"] for s in again["saved"] + again["skipped"]) == sorted(
        [JIRO, "ichiro.tanaka"]
    )
    assert (target / f"髙橋次郎_{JIRO}").is_dir()
