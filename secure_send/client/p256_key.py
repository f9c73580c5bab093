"""This device's P-256 key (issue 21): made once, saved first, then published.

A device enrolled before the CRYPTREC suite has no P-256 key. At start
(:meth:`secure_send.client.session.Session.open`) it makes one and saves it in the
key store *before* anything is sent — a crash can then never lose the private half
of a published key; at its first fresh directory sync of the run
(:meth:`Session.directory`) it sends a key-add request signed by its existing
Ed25519 key (:mod:`secure_send.core.directory.key_add`), which the drop server
queues for the directory signer. It asks again at later starts until its own
verified directory entry lists the key; a server that is down costs one log line.

Guarantees and limits: the key is made under the profile's lock and the key store is
read again inside it, so two front ends starting at once (the app and the CLI) keep
one key, never two. Nothing here trusts the server's answers: only the verified
directory says the key is published. A *different* P-256 key listed on this device is
an attack (someone holds this device's signing key); it is not fought here but raised
by self-monitoring (:mod:`.own_devices`, ``foreign_key``), and no request is sent.
"""

from __future__ import annotations

import logging

from cryptography.hazmat.primitives.asymmetric import ec

from secure_send.client.api import ServerApi
from secure_send.client.errors import ClientError
from secure_send.client.keystore import KeyStore, KeyStoreError
from secure_send.client.profile import DeviceIdentity, Profile
from secure_send.core.atomic import exclusive_lock
from secure_send.core.directory.enrol import DeviceKeys
from secure_send.core.directory.key_add import make_request
from secure_send.core.directory.model import Device
from secure_send.core.directory.push import TICKET, EnrolStatus
from secure_send.core.encoding import utc_now

log = logging.getLogger("secure_send.p256_key")
STATE_FILE = "p256-key-add.json"  # the last request's ticket, until the key is listed


def ensure_key(
    profile: Profile, store: KeyStore, me: DeviceIdentity, keys: DeviceKeys
) -> DeviceKeys:
    """``keys`` with a P-256 key: made and saved in the key store now if they have
    none. A key store that refuses the write costs one log line (the next start
    tries again); the keys are then returned as they were."""
    if keys.p256 is not None:
        return keys
    try:
        with exclusive_lock(profile.path):
            stored = store.load(me)  # another front end may have made it meanwhile
            if stored.p256 is not None:
                return stored
            made = DeviceKeys(
                stored.signing, stored.encryption, ec.generate_private_key(ec.SECP256R1())
            )
            store.save(me, made)  # first: a key is only ever published once it is kept
            return made
    except (KeyStoreError, OSError) as err:
        log.warning("could not keep a new P-256 key (%s); trying at the next start", err)
        return keys


def publish_key(
    profile: Profile, me: DeviceIdentity, keys: DeviceKeys, api: ServerApi, device: Device | None
) -> str:
    """Send this device's key-add request unless ``device`` (this device as its own
    verified directory lists it, None if not) already shows the key. Returns what
    happened: ``listed``, ``mismatch`` (another key is listed: self-monitoring's
    alert), ``queued`` or ``done`` (the server's word), ``failed`` or ``none``."""
    mine = keys.p256_public()
    if mine is None or device is None or not device.active:
        return "none"
    if device.p256_key == mine:
        (profile.path / STATE_FILE).unlink(missing_ok=True)
        return "listed"
    if device.p256_key is not None:
        return "mismatch"
    _report_last(profile, api)
    try:
        answer = api.key_add(make_request(keys, me.user, me.device, utc_now()).to_json())
    except ClientError as err:  # the server is down, or refused it: next start
        log.warning(
            "P-256 key not sent to the directory yet (%s); trying at the next start", err.code
        )
        return "failed"
    status, ticket = str(answer.get("status", "")), str(answer.get("ticket", ""))
    if TICKET.fullmatch(ticket):
        profile.write_json(profile.path / STATE_FILE, {"ticket": ticket})
    log.info("P-256 key sent to the directory signer (%s)", status)
    return status if status in (EnrolStatus.QUEUED.value, EnrolStatus.DONE.value) else "failed"


def _report_last(profile: Profile, api: ServerApi) -> None:
    """Log why the last request did not add the key, if the signer refused it."""
    raw = profile.read_json(profile.path / STATE_FILE)
    ticket = str(raw.get("ticket", "")) if isinstance(raw, dict) else ""
    if not TICKET.fullmatch(ticket):
        return
    try:
        answer = api.key_add_status(ticket)
    except ClientError:
        return  # forgotten by the server, or it is down: the new request goes on
    if answer.get("status") == EnrolStatus.REFUSED.value:
        log.warning(
            "the directory signer refused this device's P-256 key (%s)", answer.get("reason")
        )
