"""The drop server's folder holds no private key, even after real traffic; and the
anonymous enrolment queue resists a hostile caller (last section).

An organisation is built, ``write_server_home`` makes the server's folder, the real
server runs from it and sees an enrolment through the queue (with one real signer
round), a refused enrolment and a drop; then it is stopped and EVERY file of the
folder (``server.toml``, the directory documents, ``meta.sqlite`` with its journal
files, the blobs, the audit log) is scanned for a private key that belongs to the
organisation: each base64url / base64 / hex token that decodes to 32 bytes (an
Ed25519 seed or an X25519 scalar) or 64 bytes (seed + public key) is turned into its
public key and compared with the root keys, the directory signing key, the signer's
identity key and every device's keys (both halves of a 64-byte value). The exact
secret bytes are also searched for raw. The same scan over the organisation home
must find its keys (the scan is not vacuous), and over a client profile the
device's keys.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Callable
from pathlib import Path

import httpx
import nacl.bindings
import nacl.exceptions
import nacl.public
import nacl.signing
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from secure_send.admin.server_home import write_server_home
from secure_send.client.keystore import FileKeyStore
from secure_send.client.profile import DeviceIdentity, Profile
from secure_send.core.directory.enrol import DeviceKeys, make_request, p256_point
from secure_send.core.encoding import utc_now
from secure_send.org import ops
from secure_send.org.home import HomeError, OrgHome
from secure_send.server.config import load_config
from tests.directory_kit import HANAKO, TARO, enrol_device, new_org, request_for
from tests.server.conftest import DEVICE, Server, running_server
from tests.server.drop_kit import age_blob, hanako, sent_drop, taro_device

TOKEN = re.compile(rb"[A-Za-z0-9_\-+/]{40,}={0,2}")
HEX = re.compile(rb"[0-9a-fA-F]{64,}")

Secrets = dict[str, bytes]  # name -> private key bytes (Ed25519 seed, X25519 or P-256 scalar)


def _decodings(token: bytes) -> list[bytes]:
    """What a token may encode: base64url, standard base64 (padded or not), hex."""
    text = token.decode("ascii")
    bare = text.rstrip("=")
    padded = bare + "=" * (-len(bare) % 4)
    found = [_try(decode, padded) for decode in (base64.urlsafe_b64decode, base64.b64decode)]
    if len(text) % 2 == 0:
        found.append(_try(bytes.fromhex, text))
    return [d for d in found if d is not None]


def _try(decode: Callable[[str], bytes], text: str) -> bytes | None:
    try:
        return decode(text)
    except (binascii.Error, ValueError):
        return None


def _public_keys(candidate: bytes) -> set[bytes]:
    """The public keys ``candidate`` would have as an Ed25519 seed, an X25519 scalar or
    a P-256 scalar.

    64 and 96 bytes are taken in 32-byte parts: libsodium's secret key is seed + public
    key, and the client's key store keeps signing seed + X25519 scalar (+ P-256 scalar,
    issue 21) in one value."""
    parts = (
        [candidate[i : i + 32] for i in range(0, 96, 32)]
        if len(candidate) in (64, 96)
        else [candidate]
    )
    found = set()
    for part in parts:
        if len(part) == 32:
            found.add(bytes(nacl.signing.SigningKey(part).verify_key))
            found.add(nacl.bindings.crypto_scalarmult_base(part))
            point = _p256_point(part)
            if point is not None:
                found.add(point)
    return found


def _p256_point(scalar: bytes) -> bytes | None:
    try:
        key = ec.derive_private_key(int.from_bytes(scalar, "big"), ec.SECP256R1())
    except ValueError:  # 0 or not below the group order: not a P-256 key
        return None
    return p256_point(key.public_key())


def _targets(secrets: Secrets) -> dict[bytes, str]:
    """Public key -> name, for every secret (as the key type it is)."""
    found = {}
    for name, secret in secrets.items():
        if name.endswith(":enc"):
            found[bytes(nacl.public.PrivateKey(secret).public_key)] = name
        elif name.endswith(":p256"):
            found[_p256_point(secret) or b""] = name
        else:
            found[bytes(nacl.signing.SigningKey(secret).verify_key)] = name
    return found


def scan(folder: Path, secrets: Secrets) -> dict[str, list[str]]:
    """Which secrets appear in which files under ``folder`` (empty: none)."""
    targets = _targets(secrets)
    raw_forms = {
        name: [s, s.hex().encode(), base64.b64encode(s), base64.urlsafe_b64encode(s).rstrip(b"=")]
        for name, s in secrets.items()
    }
    found: dict[str, list[str]] = {}
    files = [p for p in folder.rglob("*") if p.is_file()]
    assert files, f"nothing to scan in {folder}"
    for path in files:
        data = path.read_bytes()
        hits = set()
        for match in [*TOKEN.finditer(data), *HEX.finditer(data)]:
            for decoded in _decodings(match.group()):
                hits |= {targets[k] for k in _public_keys(decoded) if k in targets}
        hits |= {name for name, forms in raw_forms.items() if any(f in data for f in forms)}
        for name in hits:
            found.setdefault(name, []).append(str(path.relative_to(folder)))
    return found


def _device_secrets(name: str, keys: DeviceKeys) -> Secrets:
    assert keys.p256 is not None
    return {
        f"{name}:sign": bytes(keys.signing),
        f"{name}:enc": bytes(keys.encryption),
        f"{name}:p256": keys.p256.private_numbers().private_value.to_bytes(32, "big"),
    }


def _org_secrets(home: OrgHome) -> Secrets:
    secrets = {f"root-{i}": bytes(k) for i, k in enumerate(home.root_keys(), start=1)}
    secrets["directory-signing"] = bytes(home.signing_key())
    secrets["signer-identity"] = bytes(home.signer_identity())
    return secrets


def _enrol_via_queue(url: str, keys: DeviceKeys, device: str, code: str) -> str:
    request = make_request(keys, TARO, device, "人事課のデスクトップ", code, utc_now())
    response = httpx.post(url + "/v1/enrol", json=request.to_json(), timeout=30)
    assert response.status_code == 202, response.text
    return str(response.json()["ticket"])


def _status(url: str, ticket: str) -> str:
    response = httpx.get(f"{url}/v1/enrol/{ticket}", timeout=30)
    assert response.status_code == 200, response.text
    return str(response.json()["status"])


def test_the_server_folder_holds_no_private_key_after_real_traffic(tmp_path: Path) -> None:
    home = new_org(tmp_path / "org", devices=False)
    hanako_keys = enrol_device(home, HANAKO, DEVICE, "会計課の端末")
    folder = tmp_path / "server-folder"
    write_server_home(home, folder)
    config = load_config(folder, port=0, max_body_bytes=64 * 1024, quota_bytes=1024 * 1024)
    taro_keys, stranger_keys = DeviceKeys.generate(), DeviceKeys.generate()
    code = ops.issue_code(home, TARO)
    with running_server(home, hanako_keys, config) as server:
        good = _enrol_via_queue(server.url, taro_keys, "desktop", code)
        wrong = _enrol_via_queue(server.url, stranger_keys, "pc", "ABCD-EFGH-JKLM-NPQR-STUV-WXYZ")
        server.push()  # one real signer round: decides both, signs, pushes
        assert (_status(server.url, good), _status(server.url, wrong)) == ("enrolled", "refused")
        plaintext = os.urandom(4096)
        sent_drop(hanako(server), {"f1": age_blob(taro_keys, plaintext)})
        inbox = taro_device(server, taro_keys).request("GET", "/v1/inbox")
        assert inbox.status_code == 200, inbox.text
    names = {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}
    assert {"server.toml", "directory/directory.bundle", "server/audit.jsonl"} <= names
    assert any(n.startswith("server/meta.sqlite") for n in names)
    assert any(n.startswith("server/blobs/") for n in names)  # the drop is there

    secrets = {
        **_org_secrets(home),
        **_device_secrets("hanako-laptop", hanako_keys),
        **_device_secrets("taro-desktop", taro_keys),
        **_device_secrets("refused-pc", stranger_keys),
    }
    assert scan(folder, secrets) == {}
    for text in (code, code.replace("-", ""), "ABCD-EFGH"):  # nor a one-time code
        for path in folder.rglob("*"):
            if path.is_file():
                assert text.encode() not in path.read_bytes(), path

    # not vacuous: the organisation home holds the org's keys, and the scan finds each
    found = scan(home.path, _org_secrets(home))
    assert set(found) == set(_org_secrets(home)), found
    assert found["directory-signing"] == ["online/signing.key"]
    # ...and a client profile's key store holds a device's keys, found too
    profile = Profile(tmp_path / "profile")
    profile.ensure()
    FileKeyStore(profile).save(DeviceIdentity(TARO, "desktop"), taro_keys)
    assert set(scan(profile.path, _device_secrets("taro-desktop", taro_keys))) == {
        "taro-desktop:sign",
        "taro-desktop:enc",
        "taro-desktop:p256",
    }


@pytest.mark.parametrize(
    "encode",
    [
        lambda k: base64.urlsafe_b64encode(k).rstrip(b"="),
        base64.b64encode,
        lambda k: k.hex().encode(),
        lambda k: base64.b64encode(k + bytes(nacl.signing.SigningKey(k).verify_key)),
        lambda k: k,
    ],
    ids=["base64url", "base64", "hex", "seed+public-64", "raw"],
)
def test_the_scan_finds_a_key_in_each_form(tmp_path: Path, encode: object) -> None:
    """A planted signing key in a JSON line, an sqlite-like binary file, each encoding."""
    key = nacl.signing.SigningKey.generate()
    assert callable(encode)
    (tmp_path / "f.bin").write_bytes(b'\x00\x01{"k":"' + encode(bytes(key)) + b'"}\xff')
    assert scan(tmp_path, {"planted": bytes(key)}) == {"planted": ["f.bin"]}
    assert scan(tmp_path, {"other": bytes(nacl.signing.SigningKey.generate())}) == {}


@pytest.mark.parametrize("where", ["inside", "same", "around", "symlink-into"])
def test_write_server_home_refuses_a_target_inside_the_org_home(tmp_path: Path, where: str) -> None:
    home = new_org(tmp_path / "org", devices=False)
    before = sorted(p for p in tmp_path.rglob("*"))
    if where == "inside":
        target = home.path / "server"
    elif where == "same":
        target = home.path
    elif where == "around":  # the org home would be inside the server's folder
        target = tmp_path
    else:
        (home.path / "published-copy").mkdir()
        (tmp_path / "link").symlink_to(home.path / "published-copy")
        before = sorted(p for p in tmp_path.rglob("*"))
        target = tmp_path / "link"
    with pytest.raises(HomeError, match="apart from the organisation home"):
        write_server_home(home, target)
    assert sorted(p for p in tmp_path.rglob("*")) == before  # nothing written
    assert not (home.path / "server.toml").exists()


# ---------------------------------------------------------------- review: the enrolment queue
# (found by attacking the queue as an anonymous caller; kept here with the server folder's
# other security checks)


def _post_enrol(
    server: Server, user: str, device: str, code: str | None, source: str = "127.0.0.1"
) -> httpx.Response:
    """An anonymous enrolment request from the local address ``source``."""
    _, request = request_for(user, device, code)
    transport = httpx.HTTPTransport(local_address=source)
    with httpx.Client(transport=transport, timeout=30) as client:
        return client.post(server.url + "/v1/enrol", json=request.to_json())


def test_code_less_requests_cannot_block_a_persons_enrolment(server: Server) -> None:
    """Anyone can read the directory and send requests without a code for a colleague;
    they wait for IT's approval (pending) and must not use up the slots that the
    colleague's own enrolment with a one-time code needs."""
    for i in range(3):
        assert _post_enrol(server, TARO, f"junk{i}", None).status_code == 202
    server.push()  # the signer parks them for approval
    assert len(ops.pending(server.home)) == 3
    assert _post_enrol(server, TARO, "junk9", None).status_code == 429  # still capped
    code = ops.issue_code(server.home, TARO)
    response = _post_enrol(server, TARO, "desktop", code)
    assert response.status_code == 202, response.text
    server.push()
    assert _status(server.url, response.json()["ticket"]) == "enrolled"


def test_a_stranger_cannot_cancel_a_waiting_request(server: Server) -> None:
    """A request waiting for the signer is replaced by a newer one for the same device
    only from the same address (the device retrying), not by anyone who knows the
    user and device id."""
    code = ops.issue_code(server.home, TARO)
    mine = _post_enrol(server, TARO, "desktop", code, source="127.0.0.1")
    assert mine.status_code == 202, mine.text
    stranger = _post_enrol(server, TARO, "desktop", None, source="127.0.0.2")
    assert stranger.status_code == 202, stranger.text
    ticket = mine.json()["ticket"]
    assert _status(server.url, ticket) == "queued"  # not "no such enrolment request"
    server.push()
    assert _status(server.url, ticket) == "enrolled"


def test_an_unknown_user_is_not_written_into_the_audit_log(server: Server) -> None:
    """Who an anonymous request claims to be is unproven: for a name that is not an
    active person the audit record keeps only where it came from and why it failed."""
    response = _post_enrol(server, "it-admin.approved-everything", "pc", None)
    assert response.status_code == 403
    audit = server.audit_text()
    assert "it-admin" not in audit
    assert "approved" not in audit
    (record,) = [r for r in server.audit().records()]
    assert (record.action, record.actor, record.device, record.outcome) == (
        "enrol",
        "",
        "",
        "bad_enrolment",
    )
