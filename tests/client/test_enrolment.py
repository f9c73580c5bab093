"""Enrolment through the queue, as a device sees it: the server's word is never enough."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from secure_send.client.api import ServerApi
from secure_send.client.enrolment import enrol, open_ticket
from secure_send.client.errors import ClientError
from secure_send.client.keystore import FileKeyStore
from secure_send.client.profile import OrgConfig, Profile
from secure_send.org import ops
from tests.directory_kit import TARO
from tests.server.conftest import Server


def _org(server: Server) -> OrgConfig:
    return OrgConfig.from_json(ops.client_config(server.home, server.url))


def _lying_status(monkeypatch: pytest.MonkeyPatch, status: str) -> None:
    """The server answers every ticket with ``status`` (a hostile server)."""
    real = ServerApi.json

    def lying(self: ServerApi, method: str, path: str, obj: object = None, **kw: Any) -> Any:
        answer = real(self, method, path, obj, **kw)
        if path.startswith("/v1/enrol/"):
            return {"status": status, "reason": "bad_enrolment" if status == "refused" else ""}
        return answer

    monkeypatch.setattr(ServerApi, "json", lying)


def test_a_hostile_refusal_of_a_real_enrolment_keeps_the_keys(
    org_server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    profile = Profile(tmp_path / "taro")
    store = FileKeyStore(profile)
    org = _org(org_server)
    code = ops.issue_code(org_server.home, TARO)
    # the signer really enrols the device; the server then claims it was refused
    _lying_status(monkeypatch, "refused")
    me, status = enrol(profile, org, TARO, code, device_id="pc", store=store, wait=30)
    assert status == "enrolled"  # its own verified directory lists it
    assert store.load(me) is not None
    assert open_ticket(profile) is None


def test_a_hostile_enrolled_is_not_believed(
    org_server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    profile = Profile(tmp_path / "taro")
    _lying_status(monkeypatch, "enrolled")
    wrong = "ABCD-EFGH-JKLM-NPQR-STUV-WXYZ"  # the signer refuses it
    store = FileKeyStore(profile)
    _, status = enrol(profile, _org(org_server), TARO, wrong, device_id="pc", store=store, wait=3)
    assert status == "queued"  # not "enrolled": the directory does not list the device
    assert json.loads(profile.enrolment_file.read_text())["status"] == "queued"


def test_a_real_refusal_leaves_nothing(org_server: Server, tmp_path: Path) -> None:
    profile = Profile(tmp_path / "taro")
    store = FileKeyStore(profile)
    with pytest.raises(ClientError) as refused:
        enrol(profile, _org(org_server), TARO, "WRONG-CODE", device_id="pc", store=store)
    assert refused.value.code == "bad_enrolment"
    assert not profile.identity_file.exists()
    assert not profile.config_file.exists()
    assert open_ticket(profile) is None
    assert json.loads(profile.key_file.read_text()) == {}  # the keys made for it are gone
