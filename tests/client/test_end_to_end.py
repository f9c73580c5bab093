"""Send and receive end to end through ``secure-send`` against the real server on
127.0.0.1: recipients and roles, file sizes, Japanese names, folders, receipts,
recall, revoked devices and departed people."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from secure_send.core.directory.log import Action
from secure_send.org import ops
from tests.client.conftest import EXTRA, Enrol, Person, blob_files
from tests.directory_kit import HANAKO, JIRO, OPERATOR, ROLE, TARO
from tests.server.conftest import Server

KIB = 1024
SIZES = {
    "zero.bin": 0,
    "one.bin": 1,
    "64k-1.bin": 64 * KIB - 1,
    "64k.bin": 64 * KIB,
    "64k+1.bin": 64 * KIB + 1,
    "20m.bin": 20 * KIB * KIB,
}


def _files(folder: Path, sizes: dict[str, int]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, size in sizes.items():
        path = folder / name
        path.write_bytes(os.urandom(size))
        paths.append(path)
    return paths


def _inbox_ids(person: Person) -> list[str]:
    return [d["drop_id"] for d in person.ok("inbox")["drops"]]


def test_two_recipients_every_size_and_a_receipt(enrol: Enrol, tmp_path: Path) -> None:
    hanako, taro, jiro = enrol(HANAKO, "laptop"), enrol(TARO, "desktop"), enrol(JIRO, "pc")
    files = _files(tmp_path / "out", SIZES)
    sent = hanako.ok("send", *map(str, files), "--to", TARO, "--to", JIRO, "--message", "年末調整")
    drop_id = sent["drop_id"]
    for person in (taro, jiro):
        assert _inbox_ids(person) == [drop_id]
        got = person.ok("receive", drop_id, "-o", str(tmp_path / person.user))
        assert got["sender"] == HANAKO
        assert got["message"] == "年末調整"
        for path in files:
            assert (tmp_path / person.user / path.name).read_bytes() == path.read_bytes()
    recipients = {r["user"]: r["downloaded"] for r in hanako.ok("sent")["drops"][0]["recipients"]}
    assert set(recipients) == {TARO, JIRO}
    assert all(recipients.values())
    # the inbox marks it saved; the sender never sees it in an inbox of their own
    assert taro.ok("inbox")["drops"][0]["saved"] is True
    assert _inbox_ids(hanako) == []


def test_five_recipients_with_a_role_and_a_second_device(enrol: Enrol, tmp_path: Path) -> None:
    hanako = enrol(HANAKO, "laptop")
    taro_desk, taro_laptop = enrol(TARO, "desktop"), enrol(TARO, "laptop")
    others = [enrol(user, "pc") for user, *_ in EXTRA[:3]]
    (data,) = _files(tmp_path / "out", {"議事録 第1回.txt": 5000})
    # the role mailbox (kaikei: Hanako and Taro) plus three people
    to = ["--to", ROLE, *[a for p in others for a in ("--to", p.user)]]
    drop_id = hanako.ok("send", str(data), *to)["drop_id"]
    for person in (taro_desk, taro_laptop, *others):
        got = person.ok("receive", drop_id, "-o", str(tmp_path / f"{person.user}-{person.device}"))
        assert Path(got["files"][0]).name == "議事録 第1回.txt"
        assert Path(got["files"][0]).read_bytes() == data.read_bytes()
    # the sender's own device can reopen it (it was encrypted to the sender's devices too)
    again = hanako.ok("receive", drop_id, "-o", str(tmp_path / "self"))
    assert Path(again["files"][0]).read_bytes() == data.read_bytes()
    # Jiro (never enrolled) and Yoko (not chosen) see nothing
    yoko = enrol(EXTRA[3][0], "pc")
    assert _inbox_ids(yoko) == []
    assert "not_found" in yoko.fails("receive", drop_id, "-o", str(tmp_path / "yoko"))


def test_a_folder_keeps_its_layout(enrol: Enrol, tmp_path: Path) -> None:
    hanako, taro = enrol(HANAKO, "laptop"), enrol(TARO, "desktop")
    folder = tmp_path / "報告書"
    _files(folder / "添付", {"図1.png": 300})
    _files(folder, {"本文.txt": 10})
    drop_id = hanako.ok("send", str(folder), "--to", TARO)["drop_id"]
    taro.ok("receive", drop_id, "-o", str(tmp_path / "in"))
    assert (tmp_path / "in" / "報告書" / "添付" / "図1.png").read_bytes() == (
        folder / "添付" / "図1.png"
    ).read_bytes()
    assert (tmp_path / "in" / "報告書" / "本文.txt").exists()
    # a second receive never overwrites
    taro.ok("receive", drop_id, "-o", str(tmp_path / "in"))
    assert (tmp_path / "in" / "報告書" / "本文 (1).txt").exists()


def test_files_with_one_name_are_all_saved_under_distinct_names(
    enrol: Enrol, tmp_path: Path
) -> None:
    """Two files called dup.txt (from two folders, or a sender's metadata naming one
    twice, also in another case): every name is reserved before any file is placed, so
    all arrive, none is lost, and nothing is half placed (security review)."""
    hanako, taro = enrol(HANAKO, "laptop"), enrol(TARO, "desktop")
    first = _files(tmp_path / "a", {"dup.txt": 100})[0]
    second = _files(tmp_path / "b", {"dup.txt": 200})[0]
    third = _files(tmp_path / "c", {"DUP.txt": 300})[0]
    drop_id = hanako.ok("send", str(first), str(second), str(third), "--to", TARO)["drop_id"]
    got = taro.ok("receive", drop_id, "-o", str(tmp_path / "in"))
    saved = sorted(Path(f).name for f in got["files"])
    assert saved == ["DUP (2).txt", "dup (1).txt", "dup.txt"]
    contents = sorted(len(Path(f).read_bytes()) for f in got["files"])
    assert contents == [100, 200, 300]
    # again: three more, none overwritten, no partial placement
    again = taro.ok("receive", drop_id, "-o", str(tmp_path / "in"))
    every = {Path(f) for f in got["files"] + again["files"]}
    assert len(every) == 6
    assert sorted(len(p.read_bytes()) for p in every) == [100, 100, 200, 200, 300, 300]


def test_a_senders_escape_codes_and_bidi_tricks_are_printed_inert(
    enrol: Enrol, tmp_path: Path
) -> None:
    """The sender's message and file names reach the receiver's terminal with control
    and bidi characters shown as escapes: a message cannot clear the screen or print a
    line that looks like the program's own, a name cannot read backwards."""
    hanako, taro = enrol(HANAKO, "laptop"), enrol(TARO, "desktop")
    (name,) = _files(tmp_path / "a", {"invoice\u202efdp.exe": 10})
    message = "\x1b[2J\x1b[Hsecure-send: OK (課長承認済み)\x9b0m"
    drop_id = hanako.ok("send", str(name), "--to", TARO, "--message", message)["drop_id"]
    code, out, err = taro.run_human("receive", drop_id, "-o", str(tmp_path / "in"))
    assert code == 0, err
    assert "\x1b" not in out
    assert "\x9b" not in out
    assert "\u202e" not in out
    assert "message: \\x1b[2J\\x1b[Hsecure-send: OK (課長承認済み)\\x9b0m" in out
    assert "invoice_fdp.exe" in out  # the saved name: the override replaced (item 4)
    assert "invoice_fdp.exe is a program (it runs when opened)" in err


def test_recall_before_download(enrol: Enrol, org_server: Server, tmp_path: Path) -> None:
    hanako, taro = enrol(HANAKO, "laptop"), enrol(TARO, "desktop")
    (data,) = _files(tmp_path / "out", {"a.bin": 100_000})
    before = set(blob_files(org_server))
    drop_id = hanako.ok("send", str(data), "--to", TARO)["drop_id"]
    assert len(set(blob_files(org_server)) - before) == 2  # metadata + the file
    hanako.ok("recall", drop_id)
    assert set(blob_files(org_server)) == before  # the ciphertext is gone at once
    err = taro.fails("receive", drop_id, "-o", str(tmp_path / "in"))
    assert "recalled" in err
    assert not (tmp_path / "in").exists() or not any((tmp_path / "in").iterdir())
    assert hanako.ok("sent")["drops"][0]["state"] == "recalled"


def test_unknown_and_departed_ids_are_never_sent(
    enrol: Enrol, org_server: Server, tmp_path: Path
) -> None:
    hanako, taro = enrol(HANAKO, "laptop"), enrol(TARO, "desktop")
    (data,) = _files(tmp_path / "out", {"a.txt": 10})
    err = hanako.fails("send", str(data), "--to", "taro.suzuk")
    assert "not in the verified directory" in err
    assert TARO in err
    err = hanako.fails("send", str(data), "--to", "tar0.suzuki@example.go.jp")
    assert "not in the verified directory" in err
    ops.change(org_server.home, OPERATOR, Action.DEPART, {"user": TARO})
    org_server.push()
    err = hanako.fails("send", str(data), "--to", TARO)
    assert "has left" in err
    err = hanako.fails("send", str(data), "--to", JIRO)  # in the directory, never enrolled
    assert "no enrolled device" in err
    assert blob_files(org_server) == []
    assert (
        not list((hanako.home / "resume").glob("*")) if (hanako.home / "resume").exists() else True
    )
    assert taro.fails("inbox")  # a departed person's device is refused by the server


def test_a_revoked_device_gets_no_new_drops(
    enrol: Enrol, org_server: Server, tmp_path: Path
) -> None:
    hanako = enrol(HANAKO, "laptop")
    desk, laptop = enrol(TARO, "desktop"), enrol(TARO, "laptop")
    ops.change(org_server.home, OPERATOR, Action.REVOKE_DEVICE, {"user": TARO, "device": "laptop"})
    org_server.push()
    (data,) = _files(tmp_path / "out", {"a.txt": 10})
    drop_id = hanako.ok("send", str(data), "--to", TARO)["drop_id"]
    assert desk.ok("receive", drop_id, "-o", str(tmp_path / "desk"))["files"]
    err = laptop.fails("inbox")
    assert "no longer active" in err


def test_a_drop_that_does_not_name_this_device_is_not_verified(
    enrol: Enrol, tmp_path: Path
) -> None:
    """Issue 14, item 25: Taro enrols a laptop after a drop to him was sent to his desktop
    alone. The server lists it for Taro (by user), but on the laptop it is not verified:
    the signed manifest does not name this device, and nothing is decrypted or saved."""
    hanako, desk = enrol(HANAKO, "laptop"), enrol(TARO, "desktop")
    (data,) = _files(tmp_path / "out", {"a.txt": 10})
    drop_id = hanako.ok("send", str(data), "--to", TARO)["drop_id"]
    laptop = enrol(TARO, "laptop")  # enrolled later: not among the drop's devices
    (item,) = [d for d in laptop.ok("inbox")["drops"] if d["drop_id"] == drop_id]
    assert item["verified"] is False
    assert item["problem_code"] == "not_for_this_device"
    code, _, err = laptop.run("receive", drop_id, "-o", str(tmp_path / "laptop"))
    assert code == 1
    assert "not encrypted for this device" in err
    assert not (tmp_path / "laptop").exists() or not any((tmp_path / "laptop").iterdir())
    (mine,) = [d for d in desk.ok("inbox")["drops"] if d["drop_id"] == drop_id]
    assert mine["verified"] is True  # control: the device it names


@pytest.mark.parametrize("text", ["佐藤", "さとう", "sato", "会計課"])
def test_directory_search(enrol: Enrol, text: str) -> None:
    hanako = enrol(HANAKO, "laptop")
    found = hanako.ok("directory", "search", text)
    assert HANAKO in [r["id"] for r in found["results"]]
    assert found["verified"] is True


def test_a_failed_prepare_leaves_nothing_behind(enrol: Enrol, tmp_path: Path) -> None:
    """A file that vanishes between choosing and encrypting: a clear error, no outbox
    folder, no resume file (nothing would be resumed by a later run)."""
    import datetime as dt

    from secure_send.client import send as sending
    from secure_send.client.keystore import FileKeyStore
    from secure_send.client.profile import Profile
    from secure_send.client.session import Session

    hanako = enrol(HANAKO, "laptop")
    enrol(TARO, "desktop")
    profile = Profile(hanako.home)
    session = Session.open(profile, FileKeyStore(profile))
    (kept, gone) = _files(tmp_path / "out", {"kept.txt": 10, "gone.txt": 10})
    chosen = sending.collect([kept, gone])
    gone.unlink()
    with pytest.raises(FileNotFoundError):
        sending.prepare(
            session,
            session.directory(),
            chosen,
            [TARO],
            expires=dt.timedelta(days=1),
        )
    assert list(profile.outbox_dir.iterdir()) == []
    assert not profile.resume_dir.exists() or list(profile.resume_dir.iterdir()) == []
    session.close()


def test_a_hopeless_earlier_send_does_not_block_new_ones(enrol: Enrol, tmp_path: Path) -> None:
    """An unfinished send whose file changed since it was prepared can never finish:
    the next `send` says so once, forgets it, and sends the new files."""
    import datetime as dt

    from secure_send.client import send as sending
    from secure_send.client.keystore import FileKeyStore
    from secure_send.client.profile import Profile
    from secure_send.client.session import Session

    hanako, taro = enrol(HANAKO, "laptop"), enrol(TARO, "desktop")
    profile = Profile(hanako.home)
    session = Session.open(profile, FileKeyStore(profile))
    (old, new) = _files(tmp_path / "out", {"old.txt": 100, "new.txt": 100})
    sending.prepare(  # as if the process was killed right after preparing
        session,
        session.directory(),
        sending.collect([old]),
        [TARO],
        expires=dt.timedelta(days=1),
    )
    session.close()
    old.write_bytes(b"edited after it was prepared")
    code, sent, err = hanako.run("send", str(new), "--to", TARO)
    assert code == 0, err
    assert "earlier send was not finished" in err
    assert "changed" in err
    assert list(profile.resume_dir.iterdir()) == []
    assert list(profile.outbox_dir.iterdir()) == []
    assert [d["drop_id"] for d in taro.ok("inbox")["drops"]] == [sent["drop_id"]]
    assert hanako.ok("send", str(new), "--to", TARO)["drop_id"]  # and no warning any more
