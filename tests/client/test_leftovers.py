"""What a killed run leaves is swept at the next start (issue 15, item 2): a real
``secure-send receive`` killed mid-way leaves a hidden plaintext partial, which the
next command deletes; a killed prepare's outbox folder likewise. Only what this
profile recorded is touched: a user's own ``.x.partial`` files stay.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from secure_send.client import leftovers
from secure_send.client.profile import Profile
from secure_send.core.atomic import AtomicOutput
from tests.client.conftest import Enrol, Person
from tests.client.test_interrupted import MIB, Proxy, _point_at
from tests.directory_kit import HANAKO, TARO
from tests.server.conftest import Server


def _env(person: Person) -> dict[str, str]:
    return {**os.environ, "SECURE_SEND_HOME": str(person.home), "SECURE_SEND_TEST_KEYSTORE": "1"}


def _partials(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.name.endswith(".partial"))


def _kill_when(process: subprocess.Popen[bytes], ready: object, what: str) -> None:
    deadline = time.monotonic() + 60
    try:
        while not ready():  # type: ignore[operator]
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, f"{what} never happened"
            time.sleep(0.002)
        process.send_signal(signal.SIGKILL)
    finally:
        process.kill()
        process.communicate(timeout=10)
    assert process.returncode == -signal.SIGKILL


def test_a_killed_receive_leaves_no_plaintext_behind(
    enrol: Enrol, org_server: Server, tmp_path: Path
) -> None:
    hanako, taro = enrol(HANAKO, "laptop"), enrol(TARO, "desktop")
    data = tmp_path / "out" / "big.bin"
    data.parent.mkdir()
    data.write_bytes(os.urandom(24 * MIB))
    drop_id = hanako.ok("send", str(data), "--to", TARO)["drop_id"]
    target = tmp_path / "in"
    target.mkdir()
    # the user's own files with partial-looking names: never recorded, never touched
    mine = [target / ".notes.txt.partial", target / ".big.bin.0123456789ab.partial"]
    for path in mine:
        path.write_bytes(b"mine")
    proxy = Proxy(org_server.url, rate_down=4 * MIB)  # slow enough to be killed mid-way
    try:
        _point_at(taro, proxy.url)
        argv = [sys.executable, "-m", "secure_send.cli.main", "receive", drop_id, "-o"]
        process = subprocess.Popen(
            [*argv, str(target), "--json"],
            env=_env(taro),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )

        def half_written() -> bool:
            ours = [p for p in _partials(target) if p not in mine]
            return bool(ours) and ours[0].stat().st_size >= 2 * MIB

        _kill_when(process, half_written, "the partial file")
    finally:
        proxy.die()
    (left,) = [p for p in _partials(target) if p not in mine]
    assert left.stat().st_size >= 2 * MIB  # plaintext, left by the kill
    _point_at(taro, org_server.url)

    taro.ok("inbox")  # any later command sweeps at start

    assert not left.exists()
    assert _partials(target) == sorted(mine)
    assert all(p.read_bytes() == b"mine" for p in mine)
    assert not any((taro.home / "partials").iterdir())  # the record is cleared too
    got = taro.ok("receive", drop_id, "-o", str(target))
    assert Path(got["files"][0]).read_bytes() == data.read_bytes()
    assert _partials(target) == sorted(mine)


def test_a_killed_prepare_leaves_no_outbox_folder(enrol: Enrol, tmp_path: Path) -> None:
    hanako, _ = enrol(HANAKO, "laptop"), enrol(TARO, "desktop")
    data = tmp_path / "out" / "big.bin"
    data.parent.mkdir()
    data.write_bytes(os.urandom(200 * MIB))  # measured before the resume file is written
    outbox, resume = hanako.home / "outbox", hanako.home / "resume"
    argv = [sys.executable, "-m", "secure_send.cli.main", "send", str(data), "--to", TARO]
    process = subprocess.Popen(
        [*argv, "--json"], env=_env(hanako), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    # once the folder is locked: a kill between mkdir and the lock leaves a folder the
    # sweep spares for a minute (it cannot tell it from one being made right now)
    _kill_when(
        process,
        lambda: outbox.is_dir() and any((f / ".lock").exists() for f in outbox.iterdir()),
        "the outbox folder",
    )
    assert not resume.exists() or not any(resume.iterdir())  # killed before the resume file
    (left,) = outbox.iterdir()

    hanako.ok("inbox")  # the next start sweeps

    assert not left.exists()


def test_a_sweep_leaves_what_a_running_process_is_writing(tmp_path: Path) -> None:
    """Another process's live receive and prepare (their locks held) are not swept;
    once they are gone (here: closed), they are."""
    profile = Profile(tmp_path / "profile").ensure()
    folder = tmp_path / "in"
    folder.mkdir()
    journal = leftovers.PartialJournal(profile)
    out = AtomicOutput(folder / "doc.pdf", before_create=journal.record)
    out.file.write(b"secret")
    busy = profile.outbox_dir / "a-send-being-prepared"
    busy.mkdir(parents=True)
    with leftovers.preparing(busy):
        assert leftovers.sweep(profile) == []
    (partial,) = _partials(folder)
    # the process dies without cleaning up: its descriptors close, its locks go
    out.file.close()
    for _, fd in journal._held:
        os.close(fd)
    assert set(leftovers.sweep(profile)) == {partial, busy}
    assert _partials(folder) == []
    assert not busy.exists()


def test_a_finished_receive_leaves_no_record(tmp_path: Path) -> None:
    profile = Profile(tmp_path / "profile").ensure()
    journal = leftovers.PartialJournal(profile)
    with AtomicOutput(tmp_path / "doc.pdf", before_create=journal.record) as out:
        out.file.write(b"text")
        out.commit()
    journal.close()
    assert list((profile.path / "partials").iterdir()) == []
    assert leftovers.sweep(profile) == []
    assert (tmp_path / "doc.pdf").read_bytes() == b"text"


def test_a_sweep_leaves_a_record_being_made(tmp_path: Path) -> None:
    """Issue 17, item 3 (save all runs receives on several threads, each sweeping
    first): a record file just created and not yet locked — its maker is between
    ``open`` and ``flock`` — is not deleted under it, or the maker's rename fails; one
    a killed run left (old) still is."""
    profile = Profile(tmp_path / "profile").ensure()
    journal_dir = profile.path / "partials"
    journal_dir.mkdir()
    fresh, old = journal_dir / "0011223344556677.tmp", journal_dir / "8899aabbccddeeff.tmp"
    fresh.write_bytes(b"")
    old.write_bytes(b"")
    long_ago = time.time() - 2 * leftovers.UNLOCKED_GRACE
    os.utime(old, (long_ago, long_ago))
    leftovers.sweep_partials(profile)
    assert fresh.exists()
    assert not old.exists()
