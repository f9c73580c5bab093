"""The CRYPTREC suite (CMS AuthEnvelopedData, ECDH P-256, AES-256-GCM) end to end,
through the real CLI and the real server on 127.0.0.1 (issue 21): the sender's IT
policy picks the suite (per classification, after My Numbers forced 機密性3), every
blob on the server's disk is CMS, recipients open both suites whatever their own policy
says, a device without a P-256 key stops a CMS send before anything leaves, and a
damaged or cut CMS blob saves nothing.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from secure_send.client.errors import ClientError
from secure_send.client.policy import POLICY_FILE_ENV
from secure_send.client.suite_crypto import decrypt_small, decrypt_stream
from secure_send.core.cms import authenveloped as cms
from secure_send.core.directory.enrol import DeviceKeys
from secure_send.core.envelope.manifest import AGE_SUITE, CMS_SUITE, SignedManifest
from tests.client.conftest import Enrol, Person, blob_files, enrol_without_p256, open_session
from tests.client.test_interrupted import (
    MIB,
    Proxy,
    _cli_env,
    _empty,
    _point_at,
    kill_once_uploading,
    proxies,  # noqa: F401 - the fixture
)
from tests.client.test_malicious_server import _everything_under, _stored_blob
from tests.client.test_mynumber_send import designate, leftovers, nenmatsu_csv, numbers
from tests.directory_kit import HANAKO, ROLE, TARO
from tests.server.conftest import Server

SIZES = [0, 1, 65_535, 65_536, 65_537, 5 * MIB + 3]


def _policy(tmp_path: Path, name: str, suite: object) -> Path:
    path = tmp_path / f"policy-{name}.json"
    path.write_text(json.dumps({"suite": suite}), encoding="utf-8")
    return path


class Policies:
    """Each person's own IT policy file, set in the environment before each of their
    commands (one machine per person, as in a ministry)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.monkeypatch = monkeypatch
        self.by_user: dict[str, Path] = {}

    def as_(self, person: Person) -> Person:
        path = self.by_user.get(person.user)
        if path is None:
            self.monkeypatch.delenv(POLICY_FILE_ENV, raising=False)
        else:
            self.monkeypatch.setenv(POLICY_FILE_ENV, str(path))
        return person


@pytest.fixture
def policies(monkeypatch: pytest.MonkeyPatch) -> Policies:
    return Policies(monkeypatch)


def _manifest(person: Person, drop_id: str) -> SignedManifest:
    session = open_session(person)
    try:
        return SignedManifest.from_json(session.api.drop(drop_id))
    finally:
        session.close()


def _files(folder: Path, sizes: list[int]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    made = []
    for size in sizes:
        path = folder / f"size-{size}.bin"
        path.write_bytes(os.urandom(size))
        made.append(path)
    return made


def _send(person: Person, files: list[Path], *to: str) -> str:
    argv = [arg for user in to for arg in ("--to", user)]
    return str(person.ok("send", *map(str, files), *argv)["drop_id"])


def test_a_cms_policy_sends_cms_blobs_that_an_age_recipient_receives_intact(
    org_server: Server, enrol: Enrol, tmp_path: Path, policies: Policies
) -> None:
    hanako, taro = enrol(HANAKO, "laptop"), enrol(TARO, "desktop")
    policies.by_user[HANAKO] = _policy(tmp_path, "hanako", "cms")  # Taro: no policy (age)
    files = _files(tmp_path / "out", SIZES)
    drop_id = _send(policies.as_(hanako), files, TARO)
    manifest = _manifest(hanako, drop_id).manifest
    assert manifest.suite == CMS_SUITE
    taro_keys = open_session(policies.as_(taro)).keys
    assert taro_keys.p256 is not None
    point = taro_keys.p256_public()
    assert point is not None
    stored = {b.id: _stored_blob(org_server, drop_id, b.id) for b in manifest.blobs}
    assert set(stored) == {"m", *(f"f{i}" for i in range(1, len(SIZES) + 1))}
    for path in stored.values():  # every blob, the metadata too: AuthEnvelopedData
        data = path.read_bytes()
        assert data[:2] == b"\x30\x80"
        cms.decrypt(io.BytesIO(data), io.BytesIO(), taro_keys.p256, cms.subject_key_id(point))
    got = policies.as_(taro).ok("receive", drop_id, "-o", str(tmp_path / "in"))
    saved = {Path(f).name: Path(f).read_bytes() for f in got["files"]}
    assert saved == {f.name: f.read_bytes() for f in files}


def test_an_age_drop_reaches_a_recipient_whose_own_policy_is_cms(
    org_server: Server, enrol: Enrol, tmp_path: Path, policies: Policies
) -> None:
    hanako, taro = enrol(HANAKO, "laptop"), enrol(TARO, "desktop")
    policies.by_user[TARO] = _policy(tmp_path, "taro", "cms-p256-aes256gcm-v1")
    [file] = _files(tmp_path / "out", [65_537])
    drop_id = _send(policies.as_(hanako), [file], TARO)
    assert _manifest(hanako, drop_id).manifest.suite == AGE_SUITE
    assert all(p.read_bytes()[:3] == b"age" for p in blob_files(org_server))
    got = policies.as_(taro).ok("receive", drop_id, "-o", str(tmp_path / "in"))
    assert Path(got["files"][0]).read_bytes() == file.read_bytes()
    # and Taro's own sends are CMS, which Hanako (no policy) opens
    back = _send(policies.as_(taro), [file], HANAKO)
    assert _manifest(taro, back).manifest.suite == CMS_SUITE
    got = policies.as_(hanako).ok("receive", back, "-o", str(tmp_path / "back"))
    assert Path(got["files"][0]).read_bytes() == file.read_bytes()


def test_the_suite_follows_the_classification_after_my_numbers_forced_it(
    org_server: Server, enrol: Enrol, tmp_path: Path, policies: Policies
) -> None:
    """``{"c3": "cms"}``: an ordinary send (機密性2) is age; a list of My Numbers to a
    designated role is forced to 機密性3, and so goes in CMS."""
    hanako, taro = enrol(HANAKO, "laptop"), enrol(TARO, "desktop")
    policies.by_user[HANAKO] = _policy(tmp_path, "hanako", {"c3": "cms"})
    [plain] = _files(tmp_path / "out", [1000])
    ordinary = _send(policies.as_(hanako), [plain], TARO)
    assert _manifest(hanako, ordinary).manifest.suite == AGE_SUITE
    designate(org_server, ROLE)
    table = nenmatsu_csv(tmp_path / "年末調整.csv", numbers(7, 5))
    forced = _send(policies.as_(hanako), [table], ROLE)
    manifest = _manifest(hanako, forced).manifest
    assert (manifest.classification.value, manifest.suite) == ("c3", CMS_SUITE)
    got = policies.as_(taro).ok("receive", forced, "-o", str(tmp_path / "in"))
    assert Path(got["files"][0]).read_bytes() == table.read_bytes()


def test_a_recipient_device_without_a_p256_key_stops_a_cms_send_before_anything_leaves(
    org_server: Server,
    enrol: Enrol,
    tmp_path: Path,
    policies: Policies,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hanako = enrol(HANAKO, "laptop")
    taro = enrol_without_p256(
        enrol, monkeypatch, TARO, "old-pc"
    )  # Taro's PC was enrolled before P-256 keys existed
    # as Hanako's client sees it (Taro's PC has not started since: no key-add yet)
    session = open_session(hanako)
    [device] = session.directory().by_id()[TARO].devices
    assert not device.has_p256
    policies.by_user[HANAKO] = _policy(tmp_path, "hanako", "cms")
    [file] = _files(tmp_path / "out", [10])
    code, _, err = policies.as_(hanako).run("send", str(file), "--to", TARO)
    assert code == 1
    assert "CRYPTREC" in err
    assert f"鈴木 太郎 ({TARO})" in err  # the person, by name
    assert blob_files(org_server) == []  # nothing uploaded
    assert leftovers(hanako) == []  # nothing prepared
    assert hanako.ok("sent")["drops"] == []  # no drop on the server
    # the same send in age (no policy) goes: only the suite was missing
    policies.by_user.pop(HANAKO)
    drop_id = _send(policies.as_(hanako), [file], TARO)
    assert taro.ok("receive", drop_id, "-o", str(tmp_path / "in"))["files"]


@pytest.mark.parametrize("how", ["flip-a-byte-of-a-piece", "flip-the-tag", "truncate"])
def test_a_damaged_cms_blob_saves_nothing(
    org_server: Server,
    enrol: Enrol,
    tmp_path: Path,
    policies: Policies,
    how: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("secure_send.client.transfer.time.sleep", lambda s: None)
    hanako, taro = enrol(HANAKO, "laptop"), enrol(TARO, "desktop")
    policies.by_user[HANAKO] = _policy(tmp_path, "hanako", "cms")
    [file] = _files(tmp_path / "out", [300_000])
    drop_id = _send(policies.as_(hanako), [file], TARO)
    stored = _stored_blob(org_server, drop_id, "f1")
    original = stored.read_bytes()
    damaged = bytearray(original)
    if how == "flip-a-byte-of-a-piece":
        damaged[len(damaged) // 2] ^= 0x01
    elif how == "flip-the-tag":
        damaged[-8] ^= 0x01  # inside the GCM tag, before the closing end-of-contents
    else:
        damaged = damaged[: len(damaged) // 2]
    stored.write_bytes(bytes(damaged))
    target = tmp_path / "in"
    err = policies.as_(taro).fails("receive", drop_id, "-o", str(target))
    expected = "sent an incomplete file" if how == "truncate" else "does not match the sender's"
    assert expected in err
    assert "nothing was saved" in err
    assert _everything_under(target) == []  # no file, no partial plaintext, no temp file
    stored.write_bytes(original)  # the right bytes back: received intact
    got = taro.ok("receive", drop_id, "-o", str(target))
    assert Path(got["files"][0]).read_bytes() == file.read_bytes()


def test_a_killed_cms_send_is_finished_by_resume(
    enrol: Enrol,
    org_server: Server,
    tmp_path: Path,
    proxies: list[Proxy],  # noqa: F811 - the fixture
    policies: Policies,
) -> None:
    hanako, taro = enrol(HANAKO, "laptop"), enrol(TARO, "desktop")
    policies.by_user[HANAKO] = _policy(tmp_path, "hanako", "cms")
    proxy = Proxy(org_server.url, rate=2 * MIB)
    proxies.append(proxy)
    _point_at(hanako, proxy.url)
    [data] = _files(tmp_path / "out", [12 * MIB + 5])
    argv = [sys.executable, "-m", "secure_send.cli.main", "send", str(data), "--to", TARO]
    env = {**_cli_env(hanako), POLICY_FILE_ENV: str(policies.by_user[HANAKO])}
    process = subprocess.Popen(
        [*argv, "--json"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    kill_once_uploading(process, org_server)
    (resume_file,) = (hanako.home / "resume").glob("*.json")
    record = json.loads(resume_file.read_text())["blobs"]["f1"]
    assert record["suite"] == CMS_SUITE
    assert {"header", "nonce", "key"} <= set(record)
    drop_id = resume_file.stem
    proxy.die()
    _point_at(hanako, org_server.url)
    assert policies.as_(hanako).ok("resume")["resumed"] == [drop_id]
    assert _manifest(hanako, drop_id).manifest.suite == CMS_SUITE
    got = policies.as_(taro).ok("receive", drop_id, "-o", str(tmp_path / "in"))
    assert Path(got["files"][0]).read_bytes() == data.read_bytes()
    assert _empty(hanako.home / "resume")


# ------------------------------------------------------------------ the module itself


def test_a_device_without_a_p256_key_cannot_open_cms_and_says_so() -> None:
    keys = DeviceKeys.generate()
    point, private = keys.p256_public(), keys.p256
    assert point is not None
    assert private is not None
    out = io.BytesIO()
    cms.encrypt(io.BytesIO(b"hello"), out, [(cms.subject_key_id(point), private.public_key())])
    assert decrypt_small(CMS_SUITE, out.getvalue(), keys) == b"hello"
    old = DeviceKeys(keys.signing, keys.encryption)  # enrolled before P-256 keys
    with pytest.raises(ClientError) as caught:
        decrypt_stream(CMS_SUITE, io.BytesIO(out.getvalue()), io.BytesIO(), old)
    assert caught.value.code == "suite_unavailable"
    assert "no P-256 key" in str(caught.value)


def test_a_resume_record_without_a_suite_is_age_and_one_with_it_round_trips(
    tmp_path: Path,
) -> None:
    from secure_send.client.suite_crypto import AgeCipher, CmsCipher, SendKeys, cipher_from_record
    from secure_send.core.age.x25519 import X25519Recipient

    keys = DeviceKeys.generate()
    own = X25519Recipient(bytes(keys.encryption.public_key))
    point, private = keys.p256_public(), keys.p256
    assert point is not None
    assert private is not None
    for cipher in (
        SendKeys(AGE_SUITE, x25519=(own,)).prepare(),
        SendKeys(CMS_SUITE, p256=((cms.subject_key_id(point), private.public_key()),)).prepare(),
    ):
        record = cipher.record(own)
        assert record["suite"] == cipher.suite
        again = cipher_from_record(record, keys)
        assert again == cipher  # the same key, nonce and header: the same ciphertext
    old = {k: v for k, v in SendKeys(AGE_SUITE, x25519=(own,)).prepare().record(own).items()}
    del old["suite"]  # written by a version before issue 21
    assert isinstance(cipher_from_record(old, keys), AgeCipher)
    assert not isinstance(cipher_from_record(old, keys), CmsCipher)
