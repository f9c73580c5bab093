"""Every file of an organisation home is the owner's only, whatever the umask
(issue 14, item 17): keys, codes, the event log, pending requests, snapshots."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from secure_send.org import ops
from tests.directory_kit import TARO, new_org, request_for


@pytest.fixture
def loose_umask() -> Iterator[None]:
    old = os.umask(0o022)  # the usual default: files 0644, folders 0755
    try:
        yield
    finally:
        os.umask(old)


def _loose(root: Path) -> list[str]:
    """Everything under ``root`` (and ``root``) that others could read."""
    found = []
    for path in [root, *root.rglob("*")]:
        mode = stat.S_IMODE(path.lstat().st_mode)
        want = 0o700 if path.is_dir() else 0o600
        if mode != want:
            found.append(f"{path.relative_to(root.parent)} {mode:o}")
    return found


def test_every_file_of_the_home_is_0600_and_every_folder_0700(
    tmp_path: Path, loose_umask: None
) -> None:
    home = new_org(tmp_path / "org")  # init, import, two enrolments with codes
    ops.issue_code(home, TARO)
    _, request = request_for(TARO, "spare", None)
    ops.enrol_batch(home, [request], "it-admin")  # parked for approval: pending/
    home.signer_identity()
    assert list(home.pending_dir.glob("*.json"))
    assert home.log_file.exists()
    assert _loose(home.path) == []


def test_a_log_written_0644_by_an_older_version_is_made_0600(
    tmp_path: Path, loose_umask: None
) -> None:
    home = new_org(tmp_path / "org", devices=False)
    home.log_file.chmod(0o644)
    ops.issue_code(home, TARO)
    _, request = request_for(TARO, "pc", ops.issue_code(home, TARO))
    ops.enrol_batch(home, [request], "it-admin")
    assert stat.S_IMODE(home.log_file.stat().st_mode) == 0o600
