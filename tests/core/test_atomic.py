"""Atomic outputs: nothing under the target name until commit; seal-then-place."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import pytest

from secure_send.core.atomic import AtomicOutput, DirectWriter, OutputExistsError


def _temps(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.endswith(".partial")]


def test_sealed_outputs_are_placed_together(tmp_path: Path) -> None:
    outs = [AtomicOutput(tmp_path / name) for name in ("a.txt", "b.txt")]
    for i, out in enumerate(outs):
        out.file.write(b"data %d" % i)
        out.seal()
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) == []
    assert len(_temps(tmp_path)) == 2
    for out in outs:
        out.commit()  # after seal: only the move is left
    assert (tmp_path / "a.txt").read_bytes() == b"data 0"
    assert (tmp_path / "b.txt").read_bytes() == b"data 1"
    assert _temps(tmp_path) == []
    assert stat.S_IMODE(os.stat(tmp_path / "a.txt").st_mode) == 0o600


def test_discard_after_seal_leaves_nothing(tmp_path: Path) -> None:
    out = AtomicOutput(tmp_path / "x.txt")
    out.file.write(b"secret")
    out.seal()
    out.discard()
    assert list(tmp_path.iterdir()) == []


def test_commit_never_replaces_a_file_that_appeared_meanwhile(tmp_path: Path) -> None:
    out = AtomicOutput(tmp_path / "x.txt")
    out.file.write(b"new")
    out.seal()
    (tmp_path / "x.txt").write_bytes(b"someone else's")
    with pytest.raises(OutputExistsError):
        out.commit()
    assert (tmp_path / "x.txt").read_bytes() == b"someone else's"
    assert _temps(tmp_path) == []


def test_restart_forgets_what_was_written(tmp_path: Path) -> None:
    out = AtomicOutput(tmp_path / "x.txt")
    out.file.write(b"half of a first try")
    out.restart()
    out.file.write(b"second")
    out.commit()
    assert (tmp_path / "x.txt").read_bytes() == b"second"
    with pytest.raises(ValueError, match="restart"):
        out.restart()


# ---------------------------------------------------------------- writing around the page cache

BLOCK = DirectWriter.BLOCK


def _pieces(data: bytes, sizes: list[int]) -> list[bytes]:
    out: list[bytes] = []
    at = 0
    while at < len(data):
        size = sizes[len(out) % len(sizes)]
        out.append(data[at : at + size])
        at += size
    return out


@pytest.mark.parametrize("size", [0, 1, 4095, 4096, BLOCK - 1, BLOCK, BLOCK + 1, 3 * BLOCK + 12345])
@pytest.mark.parametrize("sizes", [[BLOCK], [65536 + 16], [1, 7, BLOCK + 3, 100_000]])
def test_the_bytes_are_exactly_what_was_written(
    tmp_path: Path, size: int, sizes: list[int]
) -> None:
    data = os.urandom(size)
    out = AtomicOutput(tmp_path / "x.bin")
    for piece in _pieces(data, sizes):
        assert out.file.write(memoryview(piece)) == len(piece)
    out.commit()
    assert (tmp_path / "x.bin").read_bytes() == data


def test_restart_after_whole_blocks(tmp_path: Path) -> None:
    out = AtomicOutput(tmp_path / "x.bin")
    out.file.write(os.urandom(2 * BLOCK + 5))  # two blocks written directly, a tail gathered
    out.restart()
    again = os.urandom(BLOCK + 9)
    out.file.write(again)
    out.commit()
    assert (tmp_path / "x.bin").read_bytes() == again


def test_a_flush_midway_keeps_every_byte(tmp_path: Path) -> None:
    """After a flush the offset is no longer block-aligned: the rest is written buffered."""
    data = os.urandom(3 * BLOCK + 77)
    out = AtomicOutput(tmp_path / "x.bin")
    out.file.write(data[:100])
    out.file.flush()
    out.file.write(data[100:])
    out.commit()
    assert (tmp_path / "x.bin").read_bytes() == data


@pytest.mark.skipif(not hasattr(os, "O_DIRECT"), reason="O_DIRECT is Linux's")
def test_a_file_system_refusing_direct_writes_gets_buffered_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Some file systems accept O_DIRECT at fcntl and refuse it at write (EINVAL)."""
    import fcntl

    real_write = os.write
    refused = []

    def picky_write(fd: int, data: bytes | memoryview) -> int:
        if fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_DIRECT:
            refused.append(fd)
            raise OSError(errno.EINVAL, "Invalid argument")
        return real_write(fd, data)

    monkeypatch.setattr("secure_send.core.atomic.os.write", picky_write)
    data = os.urandom(3 * BLOCK + 1)
    out = AtomicOutput(tmp_path / "x.bin")
    out.file.write(data)
    out.commit()
    assert (tmp_path / "x.bin").read_bytes() == data
    assert len(refused) == 1  # asked once, then never again for this file


@pytest.mark.skipif(not Path("/dev/shm").is_dir(), reason="needs a tmpfs at /dev/shm")
def test_tmpfs_works_too(tmp_path: Path) -> None:
    import tempfile

    with tempfile.TemporaryDirectory(dir="/dev/shm") as folder:
        data = os.urandom(2 * BLOCK + 3)
        out = AtomicOutput(Path(folder) / "x.bin")
        out.file.write(data)
        out.commit()
        assert (Path(folder) / "x.bin").read_bytes() == data


def test_discard_of_a_large_output_leaves_nothing(tmp_path: Path) -> None:
    out = AtomicOutput(tmp_path / "x.bin")
    out.file.write(os.urandom(2 * BLOCK + 3))
    out.discard()
    assert list(tmp_path.iterdir()) == []


def test_a_full_disk_fails_with_its_os_error_and_leaves_nothing(tmp_path: Path) -> None:
    """A real 1 MiB tmpfs (its own mount namespace: ``unshare -rm``) filled part way
    through an output. The write's ENOSPC must be what the caller sees, and the hidden
    temporary file must go: a slice of the block once outlived the failed write in
    the traceback, so closing raised BufferError and the partial file stayed (red
    team, issue 21)."""
    import shutil
    import subprocess
    import sys

    if shutil.which("unshare") is None:
        pytest.skip("unshare (util-linux) is not installed")
    if subprocess.run(["unshare", "-rm", "true"], capture_output=True, check=False).returncode:
        pytest.skip("user namespaces unavailable here")
    disk = tmp_path / "small"
    disk.mkdir()
    writer = (
        "import sys\n"
        "from secure_send.core.atomic import AtomicOutput\n"
        "try:\n"
        "    with AtomicOutput(sys.argv[1] + '/out') as out:\n"
        "        for _ in range(48):\n"
        "            out.file.write(b'p' * 65536)\n"
        "        out.commit()\n"
        "except OSError as err:\n"
        "    print('OSError', err.errno)\n"
    )
    script = (
        f"mount -t tmpfs -o size=1m tmpfs {disk} && "
        f"'{sys.executable}' -c \"$0\" {disk}; echo left: $(ls -A {disk})"
    )
    proc = subprocess.run(
        ["unshare", "-rm", "sh", "-c", script, writer],
        capture_output=True, check=False, timeout=60, cwd=Path(__file__).parents[2],
    )  # fmt: skip
    out = proc.stdout.decode()
    assert f"OSError {errno.ENOSPC}" in out, (out, proc.stderr.decode())
    assert out.rstrip().endswith("left:"), out
