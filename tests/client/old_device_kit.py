"""A device enrolled before issue 21 (Ed25519 and X25519 keys only, no P-256 key), with
its own profile on this machine, as an upgraded client finds it at its next start."""

from __future__ import annotations

from pathlib import Path

import nacl.public
import nacl.signing
import pytest

from secure_send.client.keystore import FileKeyStore
from secure_send.client.profile import DeviceIdentity, Profile
from secure_send.core.directory.enrol import DeviceKeys, make_request
from secure_send.core.encoding import utc_now
from secure_send.org import ops
from tests.client.conftest import Person
from tests.directory_kit import OPERATOR
from tests.server.conftest import Server


def old_device(
    server: Server, root: Path, user: str, device: str, monkeypatch: pytest.MonkeyPatch
) -> tuple[Person, DeviceKeys]:
    """Enrol ``device`` of ``user`` without a P-256 key, push it to the server and write
    its profile (organisation config, identity, keys in the test key store)."""
    keys = DeviceKeys(nacl.signing.SigningKey.generate(), nacl.public.PrivateKey.generate())
    code = ops.issue_code(server.home, user)
    request = make_request(keys, user, device, "古い端末", code, utc_now())
    assert ops.accept_enrolment(server.home, request, OPERATOR)
    server.push()
    person = Person(root / "profiles" / f"{user}-{device}", user, device, monkeypatch)
    profile = Profile(person.home)
    profile.ensure()
    profile.write_json(profile.config_file, ops.client_config(server.home, server.url))
    me = DeviceIdentity(user, device)
    profile.write_json(profile.identity_file, me.to_json())
    FileKeyStore(profile).save(me, keys)
    return person, keys


def stored_keys(person: Person) -> DeviceKeys:
    """What the device's key store holds now."""
    profile = Profile(person.home)
    return FileKeyStore(profile).load(DeviceIdentity(person.user, person.device))
