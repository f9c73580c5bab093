"""Atomic outputs: nothing under the target name until commit; seal-then-place."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from secure_send.core.atomic import AtomicOutput, OutputExistsError


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
