"""Uploads against a hostile server: it cuts an upload and asks for bytes again.

The real server never does this, so a small stand-in plays it here (it implements
only the two calls :func:`send_blob` makes: ``HEAD`` for the offset and the
streamed ``PATCH``). The plaintext is the real file, encrypted by the real
:class:`EncryptingSource`, as in a send."""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from secure_send.client.api import Reader
from secure_send.client.blob_source import EncryptingSource, measure
from secure_send.client.errors import ClientError, ConnectionLost, ServerError
from secure_send.client.transfer import send_blob
from secure_send.core.envelope.manifest import AGE_SUITE, CMS_SUITE
from secure_send.core.error_codes import ErrorCode
from tests.client.conftest import Enrol
from tests.client.test_blob_source import _cipher
from tests.directory_kit import HANAKO, TARO

SIZE = 3 * 1024 * 1024


class _HostileServer:
    """Reports the offsets in ``offsets`` (one per ``HEAD``), takes ``cut`` bytes of a
    PATCH and then drops the connection (``between`` runs after the cut)."""

    def __init__(self, offsets: list[int], cut: int, between: Callable[[], None]) -> None:
        self.offsets = offsets
        self.cut = cut
        self.between = between
        self.received: list[bytes] = []  # what each PATCH delivered

    def upload_offset(self, path: str, headers: dict[str, str]) -> int:
        return self.offsets.pop(0)

    def stream_patch(
        self,
        path: str,
        headers: dict[str, str],
        src: Reader,
        length: int,
        sha256: bytes,
        progress: Callable[[int], None],
        cancel: threading.Event | None,
    ) -> None:
        got = bytearray()
        self.received.append(b"")
        try:
            while len(got) < min(length, self.cut) and (piece := src.read(1 << 20)):
                got += piece
        finally:
            self.received[-1] = bytes(got[: self.cut])
        self.between()
        raise ConnectionLost


def _send(tmp_path: Path, suite: str = AGE_SUITE) -> tuple[Path, EncryptingSource, bytes]:
    plain = tmp_path / "年末調整.xlsx"
    plain.write_bytes(os.urandom(SIZE))
    cipher = _cipher(suite)
    measured = measure(cipher, plain)
    ciphertext = io.BytesIO()
    cipher.encrypt(io.BytesIO(plain.read_bytes()), ciphertext)
    return plain, EncryptingSource(cipher, plain, measured), ciphertext.getvalue()


def _edit_keeping_size_and_time(path: Path) -> None:
    stat = path.stat()
    with path.open("r+b") as f:
        f.seek(2 * 65_536 + 10)
        f.write(b"an edit")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


@pytest.fixture(autouse=True)
def _no_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("secure_send.client.transfer.time.sleep", lambda s: None)


@pytest.mark.parametrize("suite", [AGE_SUITE, CMS_SUITE])
def test_a_retry_never_sends_ciphertext_of_an_edited_file(tmp_path: Path, suite: str) -> None:
    """The server cuts the upload after 1.5 MiB and reports offset 0, while the file is
    edited in the first MiB: the retry must not send that part again under the same
    keystream (the server would learn the XOR of the two versions) — in either suite
    (CMS: AES-GCM's keystream, and its one tag under the same key and nonce)."""
    plain, source, ciphertext = _send(tmp_path, suite)
    server = _HostileServer([0, 0, 0], cut=1_500_000, between=lambda: None)
    server.between = lambda: _edit_keeping_size_and_time(plain)
    with pytest.raises(ClientError) as caught:
        send_blob(server, "/up", source, len(ciphertext), b"h" * 32, lambda n: None)  # type: ignore[arg-type]
    assert caught.value.code == "file_changed"
    assert server.received[0] == ciphertext[:1_500_000]
    for delivered in server.received[1:]:  # every retry: only the measured ciphertext
        assert delivered == ciphertext[: len(delivered)]


def test_the_servers_offset_may_not_go_backwards(tmp_path: Path) -> None:
    """A server that confirmed 1 MiB and then claims to hold nothing does not get the
    first MiB a second time."""
    _, source, ciphertext = _send(tmp_path)
    server = _HostileServer([1 << 20, 0, 0], cut=500_000, between=lambda: None)
    with pytest.raises(ClientError) as caught:
        send_blob(server, "/up", source, len(ciphertext), b"h" * 32, lambda n: None)  # type: ignore[arg-type]
    assert caught.value.code == "upload_rewound"
    assert len(server.received) == 1  # no second PATCH
    assert "1048576" in str(caught.value)


def test_an_offset_beyond_the_blob_is_refused(tmp_path: Path) -> None:
    _, source, ciphertext = _send(tmp_path)
    server = _HostileServer([len(ciphertext) + 1], cut=0, between=lambda: None)
    with pytest.raises(ClientError, match="the send stopped"):
        send_blob(server, "/up", source, len(ciphertext), b"h" * 32, lambda n: None)  # type: ignore[arg-type]


def test_a_server_that_keeps_forgetting_an_upload_is_given_up(
    enrol: Enrol, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every PATCH is answered 404 (the upload "forgotten") by a hostile server: the
    client makes a new upload a few times, then stops with upload_rewound instead of
    uploading the whole file again forever. The real server plays everything else."""
    from secure_send.client import send, send_upload

    hanako = enrol(HANAKO, "laptop")
    enrol(TARO, "desktop")
    data = tmp_path / "a.bin"
    data.write_bytes(os.urandom(10_000))
    patches: list[str] = []

    def forgets(api: object, upload: str, *args: object, **kw: object) -> None:
        patches.append(upload)
        if len(patches) > 20:  # without the limit: end the endless loop, fail below
            raise ServerError(500, ErrorCode.INTERNAL, "enough")
        raise ServerError(404, ErrorCode.NOT_FOUND, "no such upload")

    monkeypatch.setattr(send_upload, "send_blob", forgets)
    err = hanako.fails("send", str(data), "--to", TARO)
    assert "(upload_rewound)" in err or "lost the upload" in err
    assert len(patches) == send.MAX_FRESH_UPLOADS + 1
