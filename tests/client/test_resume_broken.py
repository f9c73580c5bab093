"""A damaged resume file is set aside with a one-line warning, and the new send goes
(issue 15, item 7): before, a file with only ``drop_id`` gave a ``KeyError``
traceback, and a deleted outbox or a bad key stopped every later ``send``.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from secure_send.client import send as sending
from secure_send.client.profile import Profile
from secure_send.client.session import Session
from secure_send.core.encoding import b64u
from tests.client.conftest import Enrol, Person
from tests.directory_kit import HANAKO, TARO


def _prepared(person: Person, tmp_path: Path) -> Path:
    """A send prepared (not sent) through the real client: its resume file."""
    person.monkeypatch.setenv("SECURE_SEND_TEST_KEYSTORE", "1")
    source = tmp_path / f"earlier-{len(list(tmp_path.glob('earlier-*')))}.txt"
    source.write_text("an earlier send")
    session = Session.open(Profile(person.home))
    try:
        files = sending.collect([source])
        pending = sending.prepare(
            session, session.directory(), files, [TARO], expires=dt.timedelta(days=1)
        )
    finally:
        session.close()
    return person.home / "resume" / f"{pending.drop_id}.json"


def _lines(err: str) -> list[str]:
    """stderr's lines about the earlier send (not the test key store's warning, nor
    the note on the recipient's devices a first send prints)."""
    assert "Traceback" not in err
    return [line for line in err.splitlines() if "earlier" in line or "resum" in line]


def _only_drop_id(resume: Path) -> None:
    resume.write_text(json.dumps({"drop_id": resume.stem}))


def _not_json(resume: Path) -> None:
    resume.write_text('{"drop_id": "')


def _outbox_deleted(resume: Path) -> None:
    shutil.rmtree(resume.parent.parent / "outbox" / resume.stem)


def _bad_key(resume: Path) -> None:
    obj = json.loads(resume.read_text())
    obj["blobs"]["f1"]["key"] = b64u(b"not a sealed file key")
    resume.write_text(json.dumps(obj))


DAMAGE: dict[str, Callable[[Path], None]] = {
    "only drop_id": _only_drop_id,
    "invalid JSON": _not_json,
    "outbox deleted": _outbox_deleted,
    "bad key": _bad_key,
}


@pytest.mark.parametrize("damage", DAMAGE)
def test_a_damaged_resume_file_is_set_aside_and_the_send_goes(
    damage: str, enrol: Enrol, tmp_path: Path
) -> None:
    hanako, taro = enrol(HANAKO, "laptop"), enrol(TARO, "desktop")
    resume = _prepared(hanako, tmp_path)
    DAMAGE[damage](resume)
    new = tmp_path / "new.txt"
    new.write_text("today's file")

    code, answer, err = hanako.run("send", str(new), "--to", TARO)

    assert code == 0, err
    (warning,) = _lines(err)  # one line, no traceback
    assert "cannot be resumed" in warning
    assert "set aside" in warning
    assert not resume.exists()
    assert not (hanako.home / "outbox" / resume.stem).exists()
    (kept,) = (hanako.home / "resume" / "broken").iterdir()  # kept for IT, never read again
    assert kept.name.startswith(resume.stem)
    assert list((hanako.home / "resume").glob("*.json")) == []
    assert [d["drop_id"] for d in taro.ok("inbox")["drops"]] == [answer["drop_id"]]
    assert hanako.ok("send", str(new), "--to", TARO)  # and quietly from now on


def test_resume_sets_a_damaged_file_aside_and_finishes_the_others(
    enrol: Enrol, tmp_path: Path
) -> None:
    hanako, taro = enrol(HANAKO, "laptop"), enrol(TARO, "desktop")
    broken = _prepared(hanako, tmp_path)
    _bad_key(broken)
    good = _prepared(hanako, tmp_path)

    code, answer, err = hanako.run("resume")

    assert code == 0, err
    assert answer["resumed"] == [good.stem]
    (warning,) = _lines(err)
    assert "cannot be resumed" in warning
    assert [d["drop_id"] for d in taro.ok("inbox")["drops"]] == [good.stem]
    assert hanako.ok("resume")["resumed"] == []
