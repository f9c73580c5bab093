"""The server's state folder (database, audit log, blobs) and its copy of the log are
the owner's only, whatever the umask (issue 14, item 17)."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import httpx
import pytest

from secure_send.core.directory.server_folder import directory_dir
from secure_send.org import ops
from tests.directory_kit import TARO, request_for
from tests.server.conftest import running_server, server_config


def _loose(root: Path) -> list[str]:
    found = []
    for path in [root, *root.rglob("*")]:
        mode = stat.S_IMODE(path.lstat().st_mode)
        if mode != (0o700 if path.is_dir() else 0o600):
            found.append(f"{path.relative_to(root.parent)} {mode:o}")
    return found


@pytest.mark.embedded_only
def test_the_server_state_is_0600_and_0700(org: Any) -> None:
    home, keys = org
    old = os.umask(0o022)
    try:
        config = server_config(home, port=0)
        with running_server(home, keys, config) as server:
            _, request = request_for(TARO, "desktop", ops.issue_code(home, TARO))
            posted = httpx.post(server.url + "/v1/enrol", json=request.to_json(), timeout=30)
            assert posted.status_code == 202
            server.push()  # the signer appends to the server's copy of the log
            assert server.signed_get("/v1/whoami").status_code == 200
    finally:
        os.umask(old)
    assert (config.state_dir / "meta.sqlite").exists()
    assert (config.state_dir / "audit.jsonl").exists()
    assert _loose(config.state_dir) == []
    events = directory_dir(config.home) / "events.ndjson"
    assert stat.S_IMODE(events.stat().st_mode) == 0o600
