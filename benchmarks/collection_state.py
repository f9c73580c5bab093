"""The collection benchmark's world: an organisation of N staff and two HR desks, every
device enrolled in bulk on IT's side, the drop server's folder, two file requests and
the load generator that answers them (``bench_collection.py`` measures on top of it).

Everything lives in one state folder so that a re-run (``--reuse``) skips the slow
part::

    STATE/org/               the organisation home (root keys, signing key, codes)
    STATE/server/            the drop server's own folder (database, blobs, audit log)
    STATE/profiles/DESK/     the two desks' client profiles (test key store)
    STATE/pristine/          the server's database and audit log and the desks'
                             profiles as generated: restored before every run, so
                             receipts an earlier run's save-all posted do not change
                             what this run measures
    STATE/meta.json          sizes, request ids and the load generator's figures

The submitters' profiles are made in ``STATE/submitters`` and deleted once their
submission is committed (only the desks are needed to measure).
"""

from __future__ import annotations

import cProfile
import datetime as dt
import hashlib
import io
import json
import os
import pstats
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

os.environ.setdefault("SECURE_SEND_TEST_KEYSTORE", "1")
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import bench_enrol, benchkit  # noqa: E402
from secure_send.client import file_requests  # noqa: E402
from secure_send.client import send as sending  # noqa: E402
from secure_send.client.directory_sync import Directory  # noqa: E402
from secure_send.client.keystore import FileKeyStore  # noqa: E402
from secure_send.client.profile import DeviceIdentity, OrgConfig, Profile  # noqa: E402
from secure_send.client.session import Session  # noqa: E402
from secure_send.core.directory.enrol import (  # noqa: E402
    DeviceKeys,
    make_request,
)
from secure_send.core.encoding import format_time, utc_now  # noqa: E402
from secure_send.core.envelope.request import JST  # noqa: E402
from secure_send.org import ops  # noqa: E402
from secure_send.org.demo_org import DOMAIN, scale_rows  # noqa: E402
from secure_send.org.home import OrgHome  # noqa: E402
from secure_send.org.importing import ImportRow  # noqa: E402
from secure_send.org.signer import DirectorySigner  # noqa: E402

BIN = Path(sys.executable).parent
OPERATOR = "bench"
DESK = "hr.desk"  # the member of the role mailbox that collects the big request
DESK_SMALL = "hr.desk.small"  # collects the small request (``--into me``): the 50-item inbox
ROLE = "nenmatsu"
DEVICE = "pc"
# the server's defaults except a quota no benchmark size reaches
SERVER_SETTINGS = f"quota_bytes = {1024**4}\n"


@dataclass
class Meta:
    """What a generated state folder holds (``meta.json``)."""

    count: int
    small: int
    size: int
    request_id: str
    small_request_id: str
    people: list[str]
    generated: str
    enrol_seconds: float = 0.0
    load_seconds: float = 0.0
    load_rate: float = 0.0  # submissions per second
    load_threads: int = 0
    load_submissions: int = 0

    @classmethod
    def read(cls, state: Path) -> Meta:
        return cls(**json.loads((state / "meta.json").read_text(encoding="utf-8")))

    def write(self, state: Path) -> None:
        (state / "meta.json").write_text(json.dumps(asdict(self), indent=1), encoding="utf-8")


def _mail(user: str) -> str:
    return f"{user}@{DOMAIN}"


def desk_rows(line: int) -> list[ImportRow]:
    """The two desk people and the role mailbox the big request collects into."""
    return [
        ImportRow(
            line,
            DESK,
            "person",
            "人事 受付",
            "ジンジ ウケツケ",
            "HR Desk",
            _mail(DESK),
            "人事課",
            "",
        ),
        ImportRow(
            line + 1,
            DESK_SMALL,
            "person",
            "人事 小口",
            "ジンジ コグチ",
            "HR Small",
            _mail(DESK_SMALL),
            "人事課",
            "",
        ),
        ImportRow(
            line + 2,
            ROLE,
            "role",
            "人事課 年末調整受付",
            "ジンジカ ネンマツチョウセイウケツケ",
            "HR Year-End Tax Adjustment",
            _mail(ROLE),
            "人事課",
            "",
            (DESK,),
        ),
    ]


def profile_of(state: Path, user: str, folder: str = "profiles") -> Profile:
    return Profile(state / folder / user)


def open_session(profile: Profile) -> Session:
    """A profile opened as the CLI opens it (keys from the test key store)."""
    return Session.open(profile, FileKeyStore(profile))


def _write_profile(profile: Profile, org: OrgConfig, user: str, keys: DeviceKeys) -> None:
    """What ``client.enrolment.enrol`` leaves behind once enrolled: the organisation's
    config, the identity and the keys (the directory is fetched on first use)."""
    profile.ensure()
    me = DeviceIdentity(user, DEVICE)
    FileKeyStore(profile).save(me, keys)
    profile.write_json(profile.config_file, org.to_json())
    profile.write_json(profile.identity_file, me.to_json())


def enrol_all(home: OrgHome, users: list[str]) -> dict[str, DeviceKeys]:
    """One device per user, enrolled the way IT's batch does (codes issued in one write,
    signed requests with proof of possession, ``ops.enrol_batch``: one log append and
    one publish for all)."""
    codes = bench_enrol.issue_codes(home, users)  # one write, not a replay per user
    keys = {user: DeviceKeys.generate() for user in users}
    now = utc_now()
    requests = [make_request(keys[u], u, DEVICE, "bench", codes[u], now) for u in users]
    outcomes = ops.enrol_batch(home, requests, OPERATOR)
    bad = [(u, o) for u, (o, _) in zip(users, outcomes, strict=True) if o != ops.Outcome.ENROLLED]
    if bad:
        raise RuntimeError(f"{len(bad)} enrolments failed, e.g. {bad[:3]}")
    return keys


def start_server(state: Path) -> tuple[subprocess.Popen[bytes], str]:
    """``secure-send-server`` over ``STATE/server`` (its own process, as in production),
    and one round of the directory signer (``secure-send-admin sync``): the snapshot is
    re-signed if due, so a state folder from an earlier day still verifies."""
    proc, url = benchkit.start_server(BIN, state / "server", state / "server.log")
    try:
        signer = DirectorySigner(OrgHome(state / "org"), url)
        try:
            signer.run_once()
        finally:
            signer.close()
    except BaseException:
        benchkit.stop(proc)
        raise
    return proc, url


def point_desks(state: Path, url: str) -> None:
    """Give the desks' profiles this run's server URL (a free port each run); the
    organisation's config is otherwise as IT issued it."""
    org = OrgConfig.from_json(ops.client_config(OrgHome(state / "org"), url))
    for desk in (DESK, DESK_SMALL):
        profile = profile_of(state, desk)
        profile.write_json(profile.config_file, org.to_json())


def content(user: str, common: bytes) -> bytes:
    """The submitted file of ``user``: distinct per person, cheap to make and to check."""
    head = hashlib.sha256(user.encode()).digest()
    return head + common[len(head) :]


def submission_name(user: str) -> str:
    return f"gensen-{user}.pdf"


def generate(
    state: Path, count: int, small: int, size: int, threads: int, say: Callable[[str], None]
) -> Meta:
    """Build the whole state folder (see the module docstring)."""
    home = OrgHome(state / "org")
    ops.init(home, "ベンチ省")
    people = [r.id for r in scale_rows(count)]
    rows = [*scale_rows(count), *desk_rows(count + 2)]
    ops.import_rows(home, rows, OPERATOR)
    started = time.perf_counter()
    keys = enrol_all(home, [*people, DESK, DESK_SMALL])
    enrol_s = time.perf_counter() - started
    say(f"enrolled {len(keys)} devices in one batch (one publish) in {enrol_s:.1f} s")
    benchkit.server_folder(home, state / "server", SERVER_SETTINGS)
    proc, url = start_server(state)
    try:
        org = OrgConfig.from_json(ops.client_config(home, url))
        for desk in (DESK, DESK_SMALL):
            _write_profile(profile_of(state, desk), org, desk, keys[desk])
        due = (dt.datetime.now(JST) + dt.timedelta(days=14)).date().isoformat()
        request_id = _create(state, DESK, ROLE, people, due)
        small_id = _create(state, DESK_SMALL, "me", people[:small], due)
        say(f"requests: {request_id} ({count} asked, into {ROLE}), {small_id} ({small} asked)")
        jobs = [(u, request_id) for u in people] + [(u, small_id) for u in people[:small]]
        started = time.perf_counter()
        _load(state, org, keys, jobs, size, threads, say)
        load_s = time.perf_counter() - started
    finally:
        benchkit.stop(proc)
    shutil.rmtree(state / "submitters", ignore_errors=True)
    meta = Meta(
        count,
        small,
        size,
        request_id,
        small_id,
        people,
        format_time(utc_now()),
        enrol_s,
        load_s,
        len(jobs) / load_s,
        threads,
        len(jobs),
    )
    meta.write(state)
    keep_pristine(state)
    return meta


def _create(state: Path, desk: str, into: str, to: list[str], due: str) -> str:
    session = open_session(profile_of(state, desk))
    try:
        return file_requests.create(
            session,
            session.directory(),
            into=into,
            to=to,
            title="年末調整 源泉徴収票の提出",
            due=due,
            message="ベンチマーク",
        )
    finally:
        session.close()


def _load(
    state: Path,
    org: OrgConfig,
    keys: dict[str, DeviceKeys],
    jobs: list[tuple[str, str]],
    size: int,
    threads: int,
    say: Callable[[str], None],
) -> None:
    """The load generator: each job is one person's real submission in this process
    (``file_requests.submit`` = fetch and verify the request, ``send.prepare``: encrypt,
    sign; then ``send.finish``: create, upload, commit), each person with their own
    profile and signed requests; ``threads`` at once. One verified directory is shared
    by all (each real client would sync and verify its own: not what is measured)."""
    common = os.urandom(size)
    first = profile_of(state, jobs[0][0], "submitters")
    _write_profile(first, org, jobs[0][0], keys[jobs[0][0]])
    session = open_session(first)
    directory: Directory = session.directory()
    directory.by_id()  # bindings checked once, before the threads share it
    session.close()
    done = 0
    lock = threading.Lock()
    started = time.perf_counter()

    def submit(job: tuple[str, str]) -> None:
        nonlocal done
        user, request_id = job
        profile = profile_of(state, f"{user}.{request_id[:8]}", "submitters")
        _write_profile(profile, org, user, keys[user])
        paper = profile.path / submission_name(user)
        paper.write_bytes(content(user, common))
        session = open_session(profile)
        try:
            pending = file_requests.submit(session, directory, request_id, [paper])
            sending.finish(session, pending)
        finally:
            session.close()
        shutil.rmtree(profile.path, ignore_errors=True)
        with lock:
            done += 1
            if done % 500 == 0 or done == len(jobs):
                rate = done / (time.perf_counter() - started)
                say(f"  {done}/{len(jobs)} submissions, {rate:.1f}/s")

    # the first one alone, profiled: where a submission's time goes (for the report)
    profiler = cProfile.Profile()
    profiler.runcall(submit, jobs[0])
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(14)
    say("  one submission (cProfile, cumulative):\n" + trimmed(text.getvalue()))
    with ThreadPoolExecutor(threads) as pool:
        for _ in pool.map(submit, jobs[1:]):
            pass


def trimmed(stats: str) -> str:
    """pstats' table without its preamble and blank lines, paths from the repository."""
    lines = stats.splitlines()
    start = next((i for i, line in enumerate(lines) if "ncalls" in line), 0)
    return "\n".join(
        "    " + line.replace(str(ROOT) + "/", "") for line in lines[start:] if line.strip()
    )


# ---------------------------------------------------------------- pristine copies


def _mutable(state: Path) -> list[Path]:
    """What a measuring run changes: the server's state except its blobs (receipts,
    audit records, split-view caches, the signer's refreshes) and the desks' profiles."""
    server = state / "server"
    return [p for p in server.rglob("*") if p.is_file() and "blobs" not in p.parts] + [
        p for p in (state / "profiles").rglob("*") if p.is_file()
    ]


def keep_pristine(state: Path) -> None:
    """Copy what a run changes to ``STATE/pristine`` (the server must be stopped)."""
    pristine = state / "pristine"
    shutil.rmtree(pristine, ignore_errors=True)
    for path in _mutable(state):
        target = pristine / path.relative_to(state)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)


def restore_pristine(state: Path) -> None:
    """Put the state back as generated (the server must be stopped): files a run added
    outside the blobs are removed, the kept ones copied back."""
    pristine = state / "pristine"
    if not pristine.is_dir():
        raise RuntimeError(f"{pristine} is missing: generate the state again (no --reuse)")
    kept = {p.relative_to(pristine) for p in pristine.rglob("*") if p.is_file()}
    for path in _mutable(state):
        if path.relative_to(state) not in kept:
            path.unlink()
    for rel in kept:
        target = state / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(pristine / rel, target)
