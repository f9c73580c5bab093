"""What the client says and does when the server fails it (issue 15, item 8): a receipt
the server could not take is owed and sent later (no ``doc (1).bin`` on a retry), a
blob the server lost and a blob it holds cut short each get their own sentence, and a
wrong clock on this computer says to check the clock rather than to tell IT.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from secure_send.client import directory_sync
from secure_send.core.encoding import utc_now
from tests.client.conftest import Enrol, Person, blob_files
from tests.client.test_interrupted import MIB, Proxy, _point_at, quick_retries  # noqa: F401
from tests.directory_kit import HANAKO, TARO
from tests.server.conftest import Server


class ReceiptDroppingProxy(Proxy):
    """A proxy that dies (every connection, the listener) when a receipt is posted:
    the server goes away between the client placing the files and storing the receipt."""

    def _passes(self, data: bytes, up: bool) -> bool:
        if up and b"/receipts " in data:
            self._close_all()  # from a pump thread, which cannot join itself
            return False
        return True


def _sent(enrol: Enrol, tmp_path: Path, size: int = 3 * MIB) -> tuple[Person, Person, str, bytes]:
    hanako, taro = enrol(HANAKO, "laptop"), enrol(TARO, "desktop")
    data = os.urandom(size)
    source = tmp_path / "out" / "doc.bin"
    source.parent.mkdir()
    source.write_bytes(data)
    return hanako, taro, hanako.ok("send", str(source), "--to", TARO)["drop_id"], data


@pytest.mark.parametrize("then", ["receive again", "inbox"])
def test_a_receipt_the_server_could_not_take_is_sent_later(
    then: str, enrol: Enrol, org_server: Server, tmp_path: Path
) -> None:
    hanako, taro, drop_id, data = _sent(enrol, tmp_path)
    target = tmp_path / "in"
    proxy = ReceiptDroppingProxy(org_server.url)
    try:
        _point_at(taro, proxy.url)
        code, got, err = taro.run("receive", drop_id, "-o", str(target))
    finally:
        proxy.die()
    # saved, and said so: only the server's "saved" mark waits
    assert code == 0, err
    assert got["receipt_pending"] is True
    assert "could not be told yet" in err
    assert [p.name for p in target.iterdir()] == ["doc.bin"]
    assert (target / "doc.bin").read_bytes() == data
    _point_at(taro, org_server.url)  # the server is back
    (drop,) = hanako.ok("sent")["drops"]
    assert drop["recipients"][0]["downloaded"] is None  # the server does not know yet

    if then == "receive again":
        again = taro.ok("receive", drop_id, "-o", str(target))
        assert again["already_saved"] is True
        assert again["files"] == [str(target / "doc.bin")]
    else:
        (item,) = taro.ok("inbox")["drops"]
        assert item["saved"] is True

    assert [p.name for p in target.iterdir()] == ["doc.bin"]  # no "doc (1).bin"
    (drop,) = hanako.ok("sent")["drops"]
    assert drop["recipients"][0]["downloaded"]  # the verified receipt arrived
    assert not any((taro.home / "receipts").iterdir())  # nothing owed any more
    (item,) = taro.ok("inbox")["drops"]
    assert item["saved"] is True


def test_a_blob_the_server_lost_says_so(enrol: Enrol, org_server: Server, tmp_path: Path) -> None:
    _, taro, drop_id, _ = _sent(enrol, tmp_path)
    for path in blob_files(org_server):
        path.unlink()
    target = tmp_path / "in"

    err = taro.fails("receive", drop_id, "-o", str(target))

    assert "lost this file" in err
    assert "tell IT" in err
    assert "no such drop" not in err
    assert not target.exists() or list(target.iterdir()) == []


def test_a_blob_the_server_holds_cut_short_says_so(
    enrol: Enrol, org_server: Server, tmp_path: Path
) -> None:
    _, taro, drop_id, _ = _sent(enrol, tmp_path)
    (big,) = [p for p in blob_files(org_server) if p.stat().st_size > MIB]
    with big.open("r+b") as f:
        f.truncate(MIB)  # a torn copy on the server's disk
    target = tmp_path / "in"

    err = taro.fails("receive", drop_id, "-o", str(target))

    assert "incomplete file" in err
    assert "connection" not in err
    assert list(target.iterdir()) == []  # no plaintext, no partial


@pytest.mark.parametrize(
    ("skew", "side"), [(dt.timedelta(minutes=-10), "behind"), (dt.timedelta(days=2), "ahead of")]
)
def test_a_wrong_clock_here_says_to_check_this_computers_clock(
    skew: dt.timedelta, side: str, enrol: Enrol, monkeypatch: pytest.MonkeyPatch
) -> None:
    taro = enrol(TARO, "desktop")
    # this computer's clock as the directory check reads it (request signatures keep
    # the real time: the server would refuse them first, with its own clock_skew)
    monkeypatch.setattr(directory_sync, "utc_now", lambda: utc_now() + skew)

    err = taro.fails("inbox")

    assert "this computer's clock is about" in err
    assert side in err
    assert "correct this computer's date, time and time zone" in err
    assert "tell IT" not in err
