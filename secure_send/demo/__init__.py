"""``secure-send demo``: the whole product on one machine, for a newcomer.

It creates a fictional ministry (デモ省, ~200 people and role mailboxes, 2-of-3
root keys), serves it from an embedded drop server on 127.0.0.1, enrols two
demo people with one-time codes, and walks through a send: picking a verified
recipient, encryption, upload, the recipient's inbox, verification, saving, the
signed receipt, and a recall; then a collection (:mod:`secure_send.demo.collection`):
HR asks a division for its year-end papers, three staff submit, the desk saves all; then a
spreadsheet of (fictional) My Numbers stopped on its way to a colleague who may not receive
them and sent to the designated HR desk instead (:mod:`secure_send.demo.mynumber_demo`).
Everything runs through the same client library the CLI and the desktop app use.
Demo profiles keep their keys in the test key store (a file), which it says every
time: never do that for real.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from secure_send.admin.server_home import write_server_home
from secure_send.client import listing
from secure_send.client import receive as receiving
from secure_send.client import send as sending
from secure_send.client.directory_sync import Directory
from secure_send.client.enrolment import enrol
from secure_send.client.errors import ClientError
from secure_send.client.keystore import TEST_KEYSTORE_WARNING, FileKeyStore
from secure_send.client.policy import POLICY_FILE_ENV, ItPolicy
from secure_send.client.profile import OrgConfig, Profile
from secure_send.client.session import Session
from secure_send.core.directory.model import Kind
from secure_send.core.error_codes import ErrorCode
from secure_send.demo.approval_demo import (
    demo_policy,
    designate_approver,
    run_approval_scene,
    write_demo_policy,
)
from secure_send.demo.collection import DESK_ROLE, run_collection
from secure_send.demo.mynumber_demo import run_mynumber_scene
from secure_send.org import ops
from secure_send.org.demo_org import demo_rows
from secure_send.org.home import OrgHome
from secure_send.org.signer import embedded_signer
from secure_send.server.config import load_config
from secure_send.server.embedded import embedded_server

IT = "demo-it"
Say = Callable[[str], None]


@dataclass(frozen=True)
class DemoPeople:
    """Who plays which part."""

    sender: str
    recipient: str
    role: str


def pick_people(home: OrgHome) -> DemoPeople:
    """A role mailbox, one of its members as the recipient, and a sender from
    another department."""
    entries = sorted(home.entries().values(), key=lambda e: e.id)
    by_id = {e.id: e for e in entries}
    role = next(e for e in entries if e.kind is Kind.ROLE and len(e.members) >= 2)
    recipient = by_id[role.members[0]]
    sender = next(
        e
        for e in entries
        if e.kind is Kind.PERSON and e.active and e.department != recipient.department
    )
    return DemoPeople(sender.id, recipient.id, role.id)


def _sample_files(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    table = folder / "年末調整_提出一覧（ダミー）.csv"
    rows = ["氏名,所属,扶養人数"] + [f"デモ 職員{i:03d},会計課,{i % 4}" for i in range(1, 201)]
    table.write_text("\n".join(rows) + "\n", encoding="utf-8")
    memo = folder / "送付状.txt"
    memo.write_text("年末調整の資料を送付します。（デモ用の架空データです）\n", encoding="utf-8")
    return [table, memo]


@contextlib.contextmanager
def _workspace(keep: Path | None) -> Iterator[Path]:
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        yield keep
        return
    work = Path(tempfile.mkdtemp(prefix="secure-send-demo-"))
    try:
        yield work
    finally:
        shutil.rmtree(work, ignore_errors=True)


def make_demo_org(home: OrgHome) -> None:
    """The fictional ministry's organisation home: 2-of-3 root keys, ~200 people."""
    ops.init(home, "デモ省", roots=3, threshold=2)
    ops.import_rows(home, demo_rows(), IT)


def run(
    say: Say = print,
    keep: Path | None = None,
    pause: float = 0.0,
    windows: bool = False,
    *,
    server: str | None = None,
    org: Path | None = None,
) -> int:
    """Run the walkthrough; with ``windows``, then open the desktop app for both people
    side by side against the same server (until both windows are closed). Returns 0
    when every step did what it should.

    With ``server`` and ``org``, the walkthrough runs against a drop server (or a
    cluster, ``make cluster``) already serving the organisation home ``org`` made by
    :func:`make_demo_org`, whose directory signer runs beside it; else it makes the
    organisation and serves it from an embedded server and signer."""
    if (server is None) != (org is None):
        raise ValueError("give both server and org, or neither")
    with _workspace(keep) as work:
        say(f"⚠ {TEST_KEYSTORE_WARNING}")
        home = OrgHome(org if org is not None else work / "org")
        if org is None:
            step(
                say,
                "IT が架空の「デモ省」の名簿を用意します（ルート鍵 2-of-3）",
                "IT sets up the verified directory of a fictional ministry",
            )
            make_demo_org(home)
        cast = pick_people(home)
        entries = home.entries()
        with _drop_server(say, work, home, server) as url:
            org_config = OrgConfig.from_json(ops.client_config(home, url))

            def enrolled(user: str, policy: ItPolicy | None = None) -> Session:
                return _enrolled(say, work, home, org_config, user, policy)

            sender, recipient = enrolled(cast.sender), enrolled(cast.recipient)
            _walk(say, work, cast, sender, recipient, pause)
            for session in (sender, recipient):
                session.close()
            run_collection(say, step, work, enrolled, entries)
            # the My Number scene runs under the demo ministry's policy: such sends wait
            # for the sender's superior (上長承認), who needs a device to read them
            policy = demo_policy()
            boss_id = entries[cast.sender].approver
            if boss_id is None:
                raise ClientError(ErrorCode.DEMO_FAILED, "the demo sender has no approver")
            boss = enrolled(boss_id, policy)
            mailer = enrolled(cast.sender, policy)  # the desk's members have devices by now
            designate_approver(say, step, home, IT, boss_id, mailer)
            desk = enrolled(entries[DESK_ROLE].members[0], policy)
            drop_id = run_mynumber_scene(say, step, work, mailer, cast.recipient, DESK_ROLE)
            run_approval_scene(say, step, work, mailer, boss, desk, drop_id)
            if windows:  # one more, for the superior to approve in his app
                run_mynumber_scene(say, step, work, mailer, cast.recipient, DESK_ROLE, quiet=True)
            for session in (boss, mailer, desk):
                session.close()
            if windows:
                _open_windows(say, work, cast, org_config, boss_id)
        say("\n✔ デモ完了 (demo finished)" + (f": files kept in {work}" if keep else ""))
    return 0


@contextlib.contextmanager
def _drop_server(say: Say, work: Path, home: OrgHome, server: str | None) -> Iterator[str]:
    """The drop server's URL: ``server`` as given, or an embedded server and signer for
    the ``with`` block."""
    if server is not None:
        say(f"   drop server: {server} (running already; its directory signer: IT's side)")
        yield server
        return
    step(
        say,
        "ドロップサーバー用のフォルダを作ります（公開情報のみ：秘密鍵は置きません）",
        "IT makes the drop server's folder: public documents only, no private key",
    )
    server_home = work / "server"
    write_server_home(home, server_home)
    with (
        embedded_server(load_config(server_home, port=0)) as embedded,
        embedded_signer(home, embedded.url),
    ):
        say(f"   drop server: {embedded.url} (127.0.0.1 only); directory signer: IT's side")
        yield embedded.url


def _enrolled(
    say: Say, work: Path, home: OrgHome, org: OrgConfig, user: str, policy: ItPolicy | None = None
) -> Session:
    """The person's session; enrolled first (with a one-time code from IT) if new."""
    profile = Profile(work / "profiles" / user)
    store = FileKeyStore(profile)
    if profile.read_json(profile.identity_file) is None:
        person = home.entries()[user]
        step(
            say,
            f"{person.name_ja}（{person.department}）が端末を登録します",
            f"{person.name_en} enrols a device with a one-time code from IT",
        )
        # a device id of its own each run: a lasting server (``--server``) keeps the
        # devices the runs before this one enrolled
        device = f"demo-pc-{secrets.token_hex(3)}"
        enrol(profile, org, user, ops.issue_code(home, user), device_id=device, store=store)
    return Session.open(profile, store, policy)


def _open_windows(say: Say, work: Path, cast: DemoPeople, org: OrgConfig, boss: str) -> None:
    """The sender's and the recipient's apps side by side, and the superior's with a send
    waiting in 承認待ち; returns when all have quit."""
    step(
        say,
        "送信者・上長・受信者のアプリを並べて開きます"
        "（上長の「承認待ち」に 1 件。全部閉じると終了）",
        "the sender's, the superior's and the recipient's apps open side by side, one send"
        " waiting in the superior's 承認待ち; close all to finish",
    )
    policy = write_demo_policy(work / "policy.json")
    apps = []
    for side, user in (("1/3", cast.sender), ("2/3", boss), ("3/3", cast.recipient)):
        env = {
            **os.environ,
            "SECURE_SEND_HOME": str(work / "profiles" / user),
            "SECURE_SEND_TEST_KEYSTORE": "1",
            "SECURE_SEND_WINDOW_SIDE": side,
            POLICY_FILE_ENV: str(policy),  # the demo ministry's policy (a run from source)
        }
        command = [sys.executable, "-m", "secure_send.cli.main"]
        apps.append(subprocess.Popen(command, env=env))  # noqa: S603 - our own module
    try:
        for app in apps:
            app.wait()
    except KeyboardInterrupt:
        for app in apps:
            app.terminate()


def step(say: Say, ja: str, en: str) -> None:
    """One narrated step: Japanese first, English second."""
    say(f"\n▶ {ja}\n  ({en})")


def _walk(
    say: Say, work: Path, cast: DemoPeople, sender: Session, recipient: Session, pause: float
) -> None:
    files = _sample_files(work / "送信フォルダ")
    _search(say, sender, cast)
    drop_id = _send(say, sender, files, [cast.recipient], "年末調整の資料です。ご確認ください。")
    time.sleep(pause)
    _inbox_and_save(say, work, recipient, drop_id)
    step(say, "送信者は署名付きの受領通知を確認できます", "the sender sees a signed receipt")
    for sent in listing.sent(sender, sender.directory()):
        for r in sent.recipients:
            done = f"ダウンロード済み {r.downloaded}" if r.downloaded else "未受信"
            say(f"   {r.name_ja}: {done}")
    _recall(say, work, cast, sender, recipient, files[1:])


def _search(say: Say, sender: Session, cast: DemoPeople) -> None:
    directory = sender.directory()
    query = directory.by_id()[cast.recipient].name_kana.split()[0]
    step(
        say,
        f"送信者が宛先を名簿から検索します: 「{query}」",
        "the sender searches the verified directory; there is no address field anywhere",
    )
    for match in directory.search_index().search(query, limit=5):
        e = match.entry
        badge = "［窓口］" if e.kind is Kind.ROLE else ""
        say(f"   ✓ {e.id:<22} {e.name_ja} {badge} {e.department} {e.title}")


def _send(say: Say, sender: Session, files: list[Path], to: list[str], message: str = "") -> str:
    directory = sender.directory()
    names = "、".join(directory.by_id()[i].name_ja for i in to)
    step(
        say,
        f"{len(files)} 件のファイルを {names} 宛てに送ります（端末ごとに暗号化）",
        "files are encrypted on this machine to the recipient's and the sender's devices",
    )
    pending = sending.prepare(
        sender,
        directory,
        sending.collect(files),
        to,
        expires=dt.timedelta(days=7),
        message=message,
    )
    drop_id = sending.finish(sender, pending)
    say(f"   drop {drop_id}: the server holds only ciphertext")
    return drop_id


def _inbox_and_save(say: Say, work: Path, recipient: Session, drop_id: str) -> None:
    step(
        say,
        "受信者の受信箱に届きます（署名を名簿で検証）",
        "the recipient's inbox shows it, verified against the directory",
    )
    directory = recipient.directory()
    items, _ = listing.inbox(recipient, directory, wait=5)
    for item in items:
        state = "✓ 検証済み" if item.verified else f"✗ 危険: {item.problem}"
        say(f"   {state}  {item.sender_name_ja}（{item.department}） {item.created}")
    step(
        say,
        "受信者が保存します（ハッシュ確認 → 復号 → 一時ファイルから原子的に保存）",
        "the recipient saves: hashes checked, decrypted atomically, signed receipt sent",
    )
    got = _receive(recipient, drop_id, work / "受信フォルダ", directory)
    for path in got.files:
        say(f"   saved {path.relative_to(work)}")
    say(f"   message: {got.message}")


def _receive(
    who: Session, drop_id: str, folder: Path, directory: Directory | None = None
) -> receiving.Received:
    return receiving.receive(who, directory or who.directory(), drop_id, folder)


def _recall(
    say: Say, work: Path, cast: DemoPeople, sender: Session, recipient: Session, files: list[Path]
) -> None:
    step(
        say,
        "誤送信に気づいたら取り消せます（サーバーの暗号文は即時削除）",
        "a wrong send can be recalled: the ciphertext is deleted at once",
    )
    second = _send(say, sender, files, [cast.role])
    sender.api.recall(second)
    try:
        _receive(recipient, second, work / "受信フォルダ2")
    except ClientError as err:
        if err.code != ErrorCode.RECALLED:
            raise
        say(f"   {cast.role} (role mailbox) → {err}")
        return
    raise ClientError(ErrorCode.DEMO_FAILED, "a recalled drop could still be received")


def has_display() -> bool:
    """Whether a desktop session is there to show windows in."""
    if os.environ.get("QT_QPA_PLATFORM") == "offscreen":
        return False
    if sys.platform in ("win32", "darwin"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
