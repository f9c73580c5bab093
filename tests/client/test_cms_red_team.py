"""Red team of the CMS suite's send and receive paths (issue 21), against the real
server on 127.0.0.1 playing the attacker (its stored blobs swapped or cut, its answers
cut and resumed with other bytes, its directory bundle re-signed by a compromised
signer) and against a sender whose file changes under it.

Each test shows an attack failing: the exact error, no plaintext under the target
folder or the profile (no file, no hidden ``.partial``), no temporary file ever placed,
and on the send side not a byte of a changed unit handed to the transport.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
import urllib3
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from secure_send.client import send
from secure_send.client.api import ServerApi
from secure_send.client.errors import ClientError
from secure_send.client.suite_crypto import SuiteUnavailable, decrypt_small
from secure_send.core.atomic import AtomicOutput
from secure_send.core.cms import authenveloped as cms
from secure_send.core.directory.log import Action
from secure_send.core.directory.model import Device
from secure_send.core.encoding import b64u, unb64u
from secure_send.core.envelope.manifest import AGE_SUITE, CMS_SUITE
from secure_send.core.error_codes import ErrorCode
from secure_send.org import ops
from tests.client.conftest import Enrol, Person, blob_files, open_session
from tests.client.old_device_kit import old_device
from tests.client.test_malicious_server import (
    _everything_under,
    _no_plaintext_anywhere,
    _stored_blob,
)
from tests.client.test_suite_crypto import (
    Policies,
    _files,
    _manifest,
    _policy,
    _send,
)
from tests.directory_kit import HANAKO, OPERATOR, ROLE, TARO
from tests.server.conftest import Server

SIZE = 300_000  # four full 64 KiB pieces and a short fifth


@pytest.fixture
def policies(monkeypatch: pytest.MonkeyPatch) -> Policies:
    return Policies(monkeypatch)


@pytest.fixture(autouse=True)
def _quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("secure_send.client.transfer.time.sleep", lambda s: None)


class Placed:
    """Spies on every AtomicOutput: what was placed (commit) and, for each discarded
    temporary file, how many bytes of plaintext it held and whether it is gone."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, root: Path) -> None:
        self.committed: list[Path] = []
        self.discarded: list[tuple[Path, int]] = []
        commit, discard = AtomicOutput.commit, AtomicOutput.discard

        def spy_commit(out: AtomicOutput) -> None:
            if out.target.is_relative_to(root):  # not the profile's own files
                self.committed.append(out.target)
            commit(out)

        def spy_discard(out: AtomicOutput) -> None:
            if out.target.is_relative_to(root) and not out._done:
                out.file.flush()
                size = out.temp_path.stat().st_size if out.temp_path.exists() else -1
                self.discarded.append((out.temp_path, size))
            discard(out)

        monkeypatch.setattr(AtomicOutput, "commit", spy_commit)
        monkeypatch.setattr(AtomicOutput, "discard", spy_discard)

    def nothing_placed(self) -> None:
        assert self.committed == []
        assert self.discarded, "no output was ever made"
        for temp, _ in self.discarded:
            assert not temp.exists(), f"{temp} left behind"


def _cms_pair(
    org_server: Server, enrol: Enrol, tmp_path: Path, policies: Policies
) -> tuple[Person, Person]:
    hanako, taro = enrol(HANAKO, "laptop"), enrol(TARO, "desktop")
    policies.by_user[HANAKO] = _policy(tmp_path, "hanako", "cms")
    return hanako, taro


def _refused(
    taro: Person, drop_id: str, target: Path, placed: Placed, plain: bytes, expected: str
) -> str:
    err = taro.fails("receive", drop_id, "-o", str(target))
    assert expected in err, err
    assert "nothing was saved" in err
    assert _everything_under(target) == []  # no file, no hidden .partial
    placed.nothing_placed()
    _no_plaintext_anywhere(plain, target, taro.home)
    return err


# ------------------------------------------------------ 1. downgrade and confusion


@pytest.mark.parametrize("manifest_suite", [CMS_SUITE, AGE_SUITE])
def test_a_blob_of_the_other_suite_under_a_signed_manifest_is_refused(
    org_server: Server,
    enrol: Enrol,
    tmp_path: Path,
    policies: Policies,
    monkeypatch: pytest.MonkeyPatch,
    manifest_suite: str,
) -> None:
    """The server cannot change the signed manifest (suite, sizes, hashes), so it serves
    the other suite's blob for the same file fitted to the signed size: the client
    opens the blob in the manifest's suite only, and refuses it."""
    hanako, taro = _cms_pair(org_server, enrol, tmp_path, policies)
    [file] = _files(tmp_path / "out", [SIZE])
    cms_drop = _send(policies.as_(hanako), [file], TARO)
    policies.by_user.pop(HANAKO)
    age_drop = _send(policies.as_(hanako), [file], TARO)
    assert _manifest(hanako, cms_drop).manifest.suite == CMS_SUITE
    assert _manifest(hanako, age_drop).manifest.suite == AGE_SUITE
    victim, donor = (cms_drop, age_drop) if manifest_suite == CMS_SUITE else (age_drop, cms_drop)
    stored = _stored_blob(org_server, victim, "f1")
    size = stored.stat().st_size
    other = _stored_blob(org_server, donor, "f1").read_bytes()
    stored.write_bytes(other[:size].ljust(size, b"\0"))  # the signed size, or no byte is read
    placed = Placed(monkeypatch, tmp_path / "in")
    _refused(
        taro,
        victim,
        tmp_path / "in",
        placed,
        file.read_bytes(),
        "does not match the sender's signed manifest",
    )


def test_another_drops_cms_blob_that_decrypts_fine_is_refused_before_it_is_placed(
    org_server: Server,
    enrol: Enrol,
    tmp_path: Path,
    policies: Policies,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Anyone can encrypt to Taro's public P-256 key, and the server holds Taro's other
    drops: it serves one of those (same size, tag valid under Taro's key). CMS writes
    plaintext before its tag and this one even verifies: only the signed hash refuses
    it, after decryption — so the whole plaintext sat in the hidden temporary file,
    which must never be renamed, and must be deleted."""
    hanako, taro = _cms_pair(org_server, enrol, tmp_path, policies)
    [file], [other] = _files(tmp_path / "out", [SIZE]), _files(tmp_path / "other", [SIZE])
    drop_id = _send(policies.as_(hanako), [file], TARO)
    other_id = _send(policies.as_(hanako), [other], TARO)
    stored = _stored_blob(org_server, drop_id, "f1")
    substitute = _stored_blob(org_server, other_id, "f1").read_bytes()
    assert len(substitute) == stored.stat().st_size
    keys = open_session(taro).keys
    assert decrypt_small(CMS_SUITE, substitute, keys) == other.read_bytes()  # tag verifies
    stored.write_bytes(substitute)
    placed = Placed(monkeypatch, tmp_path / "in")
    target = tmp_path / "in"
    _refused(taro, drop_id, target, placed, file.read_bytes(), "does not match the sender's signed")
    [(_, held)] = placed.discarded
    assert held == SIZE  # decrypted in full, hidden, then deleted unplaced
    _no_plaintext_anywhere(other.read_bytes(), target, taro.home)


# ------------------------------------------------------------ 2. partial plaintext


def _cuts(size: int) -> dict[str, int]:
    # the trailer: EOC EOC (content, EncryptedContentInfo), 04 10 <tag>, EOC x3
    return {
        "in-the-header": 60,
        "mid-piece": size // 2,
        "just-before-the-tag": size - 24,
        "inside-the-tag": size - 12,
        "after-the-tag-before-the-closings": size - 6,
        "one-closing-byte-short": size - 1,
    }


@pytest.mark.parametrize("where", list(_cuts(1000)))
def test_a_cms_blob_cut_anywhere_saves_nothing(
    org_server: Server,
    enrol: Enrol,
    tmp_path: Path,
    policies: Policies,
    monkeypatch: pytest.MonkeyPatch,
    where: str,
) -> None:
    """The server's copy ends early (it answers every Range for the rest with nothing):
    ``incomplete_download`` wherever the cut is — even after the tag, where decryption
    has verified and written every plaintext byte: the hidden file is never placed."""
    hanako, taro = _cms_pair(org_server, enrol, tmp_path, policies)
    [file] = _files(tmp_path / "out", [SIZE])
    drop_id = _send(policies.as_(hanako), [file], TARO)
    stored = _stored_blob(org_server, drop_id, "f1")
    original = stored.read_bytes()
    cut = _cuts(len(original))[where]
    assert original[-6:] == bytes(6)
    stored.write_bytes(original[:cut])
    placed = Placed(monkeypatch, tmp_path / "in")
    _refused(taro, drop_id, tmp_path / "in", placed, file.read_bytes(), "sent an incomplete file")
    if where.startswith("after-the-tag") or where.startswith("one-closing"):
        [(_, held)] = placed.discarded
        assert held == SIZE  # the tag had verified: all of it, hidden, deleted unplaced


def test_a_download_cut_then_resumed_with_other_bytes_saves_nothing(
    org_server: Server,
    enrol: Enrol,
    tmp_path: Path,
    policies: Policies,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The connection is cut mid-blob; on the ``Range`` request the server serves the
    rest of another drop's (equally valid) CMS blob: the tag refuses the mixture."""
    hanako, taro = _cms_pair(org_server, enrol, tmp_path, policies)
    [file], [other] = _files(tmp_path / "out", [SIZE]), _files(tmp_path / "other", [SIZE])
    drop_id = _send(policies.as_(hanako), [file], TARO)
    other_id = _send(policies.as_(hanako), [other], TARO)
    stored = _stored_blob(org_server, drop_id, "f1")
    substitute = _stored_blob(org_server, other_id, "f1").read_bytes()
    cut = SIZE // 2
    real = ServerApi.request
    seen: list[str] = []

    def cutting(self: ServerApi, method: str, path: str, *a: Any, **kw: Any) -> Any:
        if not path.endswith(f"/{drop_id}/blobs/f1"):
            return real(self, method, path, *a, **kw)
        ranged = "Range" in (kw.get("headers") or {})
        seen.append(kw["headers"]["Range"] if ranged else "whole")
        if ranged:  # the server changes its mind about the bytes
            stored.write_bytes(substitute)
            return real(self, method, path, *a, **kw)
        response = real(self, method, path, *a, **kw)
        raw, given = response.raw, [0]

        def readinto(buf: Any) -> int:
            if given[0] >= cut:
                raise urllib3.exceptions.ProtocolError("connection cut")
            n = int(raw.__class__.readinto(raw, memoryview(buf)[: cut - given[0]]))
            given[0] += n
            return n

        raw.readinto = readinto
        return response

    monkeypatch.setattr(ServerApi, "request", cutting)
    placed = Placed(monkeypatch, tmp_path / "in")
    _refused(
        taro, drop_id, tmp_path / "in", placed, file.read_bytes(), "does not match the sender's"
    )
    assert seen == ["whole", f"bytes={cut}-"]  # cut once, resumed once, at the cut


# ------------------------------------------------------------ 3. the send's unit check

PIECE_UNIT = 5 + cms.PIECE  # an OCTET STRING's TLV header (04 83 01 00 00) and its bytes


class HandedOut:
    """A test transport in front of the real server: counts the bytes each upload's
    reader hands to ``stream_patch`` (what could leave this process), per upload."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.ends: list[int] = []  # per PATCH: upload offset + bytes handed out
        real = ServerApi.stream_patch

        def counting(self_: ServerApi, path: str, headers: Any, src: Any, *a: Any) -> Any:
            start = int(headers["Upload-Offset"])
            self.ends.append(start)
            at = len(self.ends) - 1

            class Counted:
                def read(self, n: int = -1, /) -> bytes:
                    data = src.read(n)
                    self_ends = self_outer.ends
                    self_ends[at] += len(data)
                    return bytes(data)

                def close(self) -> None:
                    src.close()

            return real(self_, path, headers, Counted(), *a)

        self_outer = self
        monkeypatch.setattr(ServerApi, "stream_patch", counting)


def _prepared(person: Person, path: Path) -> tuple[Any, send.PendingSend]:
    session = open_session(person)
    files = send.collect([path])
    pending = send.prepare(session, session.directory(), files, [TARO], expires=dt.timedelta(1))
    return session, pending


def _keep_stat(path: Path, change: Any) -> None:
    """``change`` the file, then give it back its size-independent mtime (a change the
    resume's size-and-mtime check cannot see: only the unit digests can)."""
    before = path.stat()
    change(path)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


def _flip(offset: int) -> Any:
    def change(path: Path) -> None:
        with path.open("r+b") as f:
            f.seek(offset)
            byte = f.read(1)
            f.seek(offset)
            f.write(bytes([byte[0] ^ 1]))

    return change


@pytest.mark.parametrize(
    ("how", "size", "first_changed_unit"),
    [
        ("a-byte-in-the-last-piece", SIZE, 5),  # header, 4 pieces unchanged
        ("a-byte-in-the-first-piece", SIZE, 1),  # the header region: the header is fixed
        ("truncated-to-a-piece-boundary", SIZE, 5),  # the trailer comes early: refused
        ("appended-to", SIZE, 5),  # the short last piece grows
        ("appended-to-whole-pieces", 4 * cms.PIECE, 5),  # an extra piece, not the trailer
    ],
)
def test_a_file_changed_after_it_was_measured_leaves_no_changed_unit(
    org_server: Server,
    enrol: Enrol,
    tmp_path: Path,
    policies: Policies,
    monkeypatch: pytest.MonkeyPatch,
    how: str,
    size: int,
    first_changed_unit: int,
) -> None:
    """The send measures (hash, unit digests), then encrypts again while uploading under
    the same key and nonce: a change in between would be another plaintext under the same
    GCM keystream. Sizes change during the upload (after the resume's stat check); a
    same-size change keeps its mtime. Not a byte of the first changed unit, nor of any
    later one or the trailer (the tag), reaches the transport."""
    hanako, _ = _cms_pair(org_server, enrol, tmp_path, policies)
    [file] = _files(tmp_path / "out", [size])
    session, pending = _prepared(policies.as_(hanako), file)
    changes = {
        "a-byte-in-the-last-piece": _flip(size - 10),
        "a-byte-in-the-first-piece": _flip(0),
        "truncated-to-a-piece-boundary": lambda p: os.truncate(p, 4 * cms.PIECE),
        "appended-to": lambda p: p.open("ab").write(b"more"),
        "appended-to-whole-pieces": lambda p: p.open("ab").write(b"more"),
    }
    if how.startswith("a-byte"):
        _keep_stat(file, changes[how])
    else:  # during the upload, once the stat check passed
        from secure_send.client.blob_source import EncryptingSource

        real_open = EncryptingSource.open

        def changing(self: EncryptingSource, offset: int) -> Any:
            changes[how](self.plaintext)
            return real_open(self, offset)

        monkeypatch.setattr(EncryptingSource, "open", changing)
    handed = HandedOut(monkeypatch)
    with pytest.raises(ClientError) as caught:
        send.finish(session, pending)
    session.close()
    assert caught.value.code is ErrorCode.FILE_CHANGED
    _, f1 = handed.ends  # the metadata blob went; f1 stopped
    header = len(unb64u(pending.blobs["f1"]["header"]))
    unchanged = header + (first_changed_unit - 1) * PIECE_UNIT
    assert f1 == unchanged  # every unchanged unit, and not one byte more
    # never committed (nobody can see it), and the send is forgotten, not retried
    assert "no such drop" in hanako.fails("receive", pending.drop_id, "-o", str(tmp_path / "in"))
    assert not (hanako.home / "resume" / f"{pending.drop_id}.json").exists()


@pytest.mark.parametrize("field", ["nonce", "header", "suite"])
def test_a_corrupt_resume_record_fails_closed(
    org_server: Server,
    enrol: Enrol,
    tmp_path: Path,
    policies: Policies,
    monkeypatch: pytest.MonkeyPatch,
    field: str,
) -> None:
    """A resume record whose nonce, header or suite is corrupt (not an attack: a local
    attacker with write access to the profile is out of scope) must not make another
    ciphertext under the same content key and let it out."""
    hanako, _ = _cms_pair(org_server, enrol, tmp_path, policies)
    [file] = _files(tmp_path / "out", [SIZE])
    session, pending = _prepared(policies.as_(hanako), file)
    record = pending.blobs["f1"]
    if field == "nonce":
        record["nonce"] = b64u(os.urandom(cms.NONCE_LEN))
    elif field == "header":
        header = bytearray(unb64u(record["header"]))
        header[len(header) // 2] ^= 1  # inside a recipient's entry
        record["header"] = b64u(bytes(header))
    else:
        record["suite"] = AGE_SUITE
    handed = HandedOut(monkeypatch)
    with pytest.raises(ClientError) as caught:
        send.finish(session, pending)
    session.close()
    # a nonce not the header's: the record is refused before anything is encrypted; a
    # changed header fails its unit digest, a changed suite the tag count: no byte of f1
    # leaves (the header is the measured one's bytes; nothing of it goes either)
    expected = ErrorCode.RESUME_BROKEN if field == "nonce" else ErrorCode.FILE_CHANGED
    assert caught.value.code is expected, caught.value
    assert handed.ends[1:] in ([], [0])  # the metadata went; not a byte of f1
    assert "no such drop" in hanako.fails("receive", pending.drop_id, "-o", str(tmp_path / "in"))


# ------------------------------------------------------------------ 4. recipients


def test_a_role_members_p256_key_not_bound_by_its_device_stops_a_cms_send(
    org_server: Server,
    enrol: Enrol,
    tmp_path: Path,
    policies: Policies,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A compromised signer re-signs the directory with Taro's P-256 key swapped for the
    attacker's (the org signature is good; only the device's own binding, checked
    lazily for the entries a send uses, is not). A CMS send to the role Taro is a member
    of stops before anything is written or uploaded: nobody is encrypted to that key."""
    hanako = enrol(HANAKO, "laptop")
    policies.by_user[HANAKO] = _policy(tmp_path, "hanako", "cms")
    old_device(org_server, tmp_path, TARO, "old-pc", monkeypatch)  # its key-add pending
    attacker = ec.generate_private_key(ec.SECP256R1()).public_key()
    point = attacker.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    forged = {"user": TARO, "device": "old-pc", "p256_key": b64u(point)}
    # a compromised signer logs a key-add the device never signed (its binding garbage):
    # its own check of the binding is what a compromised signer skips
    log = org_server.home.path / "log"
    kept = tmp_path / "log-before"
    shutil.copytree(log, kept)
    with monkeypatch.context() as compromised:
        compromised.setattr(Device, "verify_p256_binding", lambda *a: None)
        sig = b64u(bytes(64))
        ops.change(org_server.home, OPERATOR, Action.ADD_KEY, {**forged, "p256_key_sig": sig})
        org_server.push()
    # the forged snapshot is published; the org's log is put back, so the real signer
    # beside the server (which checks every event) keeps running for the teardown
    shutil.rmtree(log)
    shutil.copytree(kept, log)
    [file] = _files(tmp_path / "out", [100])
    err = policies.as_(hanako).fails("send", str(file), "--to", ROLE)
    assert "failed verification" in err
    assert "P-256 key not signed" in err
    assert blob_files(org_server) == []
    assert not any((hanako.home / "resume").glob("*.json"))
    assert not any((hanako.home / "outbox").glob("*"))


# ------------------------------------------------------------ 5. the sender's own


def test_a_cms_send_is_readable_by_the_senders_own_devices(
    org_server: Server, enrol: Enrol, tmp_path: Path, policies: Policies
) -> None:
    """The metadata and every file are encrypted to the sender's P-256 keys too: the
    Sent page's details and a resumed send open them on the sender's own devices."""
    hanako, _ = _cms_pair(org_server, enrol, tmp_path, policies)
    other_laptop = enrol(HANAKO, "desk")
    [file] = _files(tmp_path / "out", [SIZE])
    drop_id = _send(policies.as_(hanako), [file], TARO)
    manifest = _manifest(hanako, drop_id).manifest
    for device in (hanako, other_laptop):
        keys = open_session(device).keys
        for blob in manifest.blobs:
            opened = decrypt_small(
                CMS_SUITE, _stored_blob(org_server, drop_id, blob.id).read_bytes(), keys
            )
            if blob.id == "f1":
                assert opened == file.read_bytes()
        got = device.ok("receive", drop_id, "-o", str(tmp_path / device.device))
        assert Path(got["files"][0]).read_bytes() == file.read_bytes()


def test_a_sender_device_without_a_p256_key_stops_a_cms_send_naming_the_sender(
    org_server: Server,
    enrol: Enrol,
    tmp_path: Path,
    policies: Policies,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Hanako's old PC has no P-256 key yet (it has not started since the upgrade, so its
    key-add is pending): a CMS send from her laptop cannot be encrypted to it and says
    ``suite_unavailable`` naming Hanako herself — no crash, nothing written."""
    hanako, _ = _cms_pair(org_server, enrol, tmp_path, policies)
    old_device(org_server, tmp_path, HANAKO, "old-pc", monkeypatch)
    [file] = _files(tmp_path / "out", [100])
    code, _, err = policies.as_(hanako).run("send", str(file), "--to", TARO)
    assert code == 1, err
    assert "CRYPTREC" in err
    assert f"佐藤 花子 ({HANAKO})" in err
    assert f"({TARO})" not in err  # Taro's devices all have one
    assert blob_files(org_server) == []
    assert not any((hanako.home / "resume").glob("*.json"))
    session = open_session(hanako)  # the library says who, for the app's sentence
    try:
        with pytest.raises(SuiteUnavailable) as caught:
            send.prepare(
                session,
                session.directory(),
                send.collect([file]),
                [TARO],
                expires=dt.timedelta(1),
            )
    finally:
        session.close()
    assert caught.value.people == (HANAKO,)
