"""Enrolling this device: keys made here, a request queued at the server, the
directory signer's answer awaited, and the result checked in the verified directory.

Guarantees: the private keys are generated on this device and stored in the key
store before anything is sent; the request carries only public keys, a proof of
possession and the code's MAC (never the code). The drop server only queues the
request; "enrolled" is believed only when this profile's own verified directory
(:func:`secure_send.client.directory_sync.sync`, pinned root keys) lists this
device with exactly these keys — a lying server can delay an enrolment, never
fake one. A refused request removes the keys and the profile state it made, so
the person can simply try again. IT policy is checked first: an organisation
config (or ``--server``) other than the policy pins is refused before any key is
made, and the server is reached over HTTPS with the policy's CA bundle.

States kept in the profile (``enrolment.json``): the ticket and the last status
while the request waits; the file is removed once the device is listed.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable

from secure_send.client.api import ServerApi, Signer
from secure_send.client.directory_sync import sync
from secure_send.client.errors import Cancelled, ClientError, ConnectionLost
from secure_send.client.keystore import KeyStore, open_keystore
from secure_send.client.policy import ItPolicy, check_enrolled, load_policy
from secure_send.client.profile import DeviceIdentity, OrgConfig, Profile
from secure_send.client.urls import require_secure
from secure_send.core.directory.enrol import DeviceKeys, make_request
from secure_send.core.directory.errors import DirectoryError
from secure_send.core.directory.push import TICKET, EnrolStatus
from secure_send.core.directory.verify import verify_head
from secure_send.core.encoding import utc_now
from secure_send.core.error_codes import ErrorCode

POLL_SECONDS = 20.0  # one long-poll of the ticket
WAITING_AFTER = 3.0  # seconds before the person is told that IT has not answered yet


class EnrolmentWaiting(ClientError):
    """The request is queued (or waits for approval); nothing can be sent yet."""

    def __init__(self, status: str) -> None:
        message = (
            "this device is waiting for IT to approve it"
            if status == EnrolStatus.PENDING.value
            else "this device's enrolment is waiting for IT's directory signer"
        )
        super().__init__(ErrorCode.ENROLMENT_WAITING, message)
        self.status = status


def enrol(
    profile: Profile,
    org: OrgConfig,
    user: str,
    code: str | None,
    *,
    device_id: str | None = None,
    device_name: str | None = None,
    store: KeyStore | None = None,
    wait: float = 120.0,
    on_waiting: Callable[[], None] | None = None,
    cancel: threading.Event | None = None,
    policy: ItPolicy | None = None,
) -> tuple[DeviceIdentity, str]:
    """Generate this device's keys and enrol them with ``code`` (None: IT approves),
    under IT ``policy`` (None: this machine's).

    Returns the identity and ``"enrolled"``, ``"pending"`` (IT must approve) or
    ``"queued"`` (the signer did not answer within ``wait`` s: :func:`resume` goes on).

    Raises:
        ClientError: ``already_enrolled``, ``bad_policy``, ``policy_mismatch`` (``org``
            is not what the policy pins), ``insecure_url``, the server's refusal
            (``bad_enrolment``, ``conflict``, …) or ``connection_lost`` — in each case
            with nothing kept.
    """
    policy = load_policy() if policy is None else policy
    check_enrolled(org, policy, "this organisation config")
    require_secure(org.server_url)  # insecure_url before any key is made
    profile.ensure()
    if profile.read_json(profile.identity_file) is not None:
        raise ClientError(ErrorCode.ALREADY_ENROLLED, "this profile is already enrolled")
    me = DeviceIdentity(user, device_id or _default_device_id())
    api = ServerApi(org.server_url, ca_bundle=policy.ca_bundle)
    try:
        _check_org(api, org)
    except ClientError:
        api.close()
        raise
    keys = DeviceKeys.generate()
    request = make_request(
        keys, user, me.device, device_name or socket.gethostname()[:60], code, utc_now()
    )
    keystore = store or open_keystore(profile)
    keystore.save(me, keys)
    try:
        answer = api.enrol(request.to_json())
        ticket = str(answer["ticket"])
        if not TICKET.fullmatch(ticket):
            raise ClientError(
                ErrorCode.BAD_ANSWER, "the server's answer is not an enrolment ticket"
            )
    except (ClientError, KeyError, TypeError):
        keystore.delete(me)
        api.close()
        raise
    profile.write_json(profile.config_file, org.to_json())
    profile.write_json(profile.identity_file, me.to_json())
    _save_ticket(profile, ticket, EnrolStatus.QUEUED.value)
    try:
        status = _await(profile, org, me, keys, keystore, api, wait, on_waiting, cancel)
    finally:
        api.close()
    return me, status


def resume(
    profile: Profile,
    store: KeyStore | None = None,
    *,
    wait: float = 120.0,
    on_waiting: Callable[[], None] | None = None,
    cancel: threading.Event | None = None,
    policy: ItPolicy | None = None,
) -> tuple[DeviceIdentity, str]:
    """Go on waiting for an enrolment an earlier run queued (see :func:`enrol`), under
    IT ``policy`` (None: this machine's)."""
    policy = load_policy() if policy is None else policy
    org_json = profile.read_json(profile.config_file)
    me_json = profile.read_json(profile.identity_file)
    if org_json is None or me_json is None:
        raise ClientError(
            ErrorCode.NOT_ENROLLED, "this device is not enrolled: run `secure-send enrol`"
        )
    org, me = OrgConfig.from_json(org_json), DeviceIdentity.from_json(me_json)
    check_enrolled(org, policy)
    keystore = store or open_keystore(profile)
    keys = keystore.load(me)
    if open_ticket(profile) is None:
        return me, EnrolStatus.ENROLLED.value
    api = ServerApi(org.server_url, ca_bundle=policy.ca_bundle)
    try:
        status = _await(profile, org, me, keys, keystore, api, wait, on_waiting, cancel)
    finally:
        api.close()
    return me, status


def _check_org(api: ServerApi, org: OrgConfig) -> None:
    """Before anything is made or sent: the server speaks for the organisation the
    configuration pins (root chain and signed, fresh header: ``/v1/directory/head``,
    the only directory document anonymous callers may read)."""
    try:
        verify_head(api.directory_head(), org.anchor, now=utc_now())
    except DirectoryError as err:
        raise ClientError(
            ErrorCode.DIRECTORY_UNVERIFIED,
            f"the server does not hold this organisation's signed directory ({err})",
        ) from None


def open_ticket(profile: Profile) -> tuple[str, str] | None:
    """``(ticket, status)`` of an enrolment still waiting, or None."""
    raw = profile.read_json(profile.enrolment_file)
    if not isinstance(raw, dict) or not TICKET.fullmatch(str(raw.get("ticket", ""))):
        return None
    return str(raw["ticket"]), str(raw.get("status", EnrolStatus.QUEUED.value))


def _save_ticket(profile: Profile, ticket: str, status: str) -> None:
    profile.write_json(profile.enrolment_file, {"ticket": ticket, "status": status})


def _await(
    profile: Profile,
    org: OrgConfig,
    me: DeviceIdentity,
    keys: DeviceKeys,
    store: KeyStore,
    api: ServerApi,
    wait: float,
    on_waiting: Callable[[], None] | None,
    cancel: threading.Event | None,
) -> str:
    """Long-poll the ticket until it is final or ``wait`` s passed; check the result."""
    found = open_ticket(profile)
    if found is None:
        return EnrolStatus.ENROLLED.value
    ticket = found[0]
    started = time.monotonic()
    told = False
    while True:
        if cancel is not None and cancel.is_set():
            raise Cancelled
        elapsed = time.monotonic() - started
        poll = max(0.0, min(POLL_SECONDS, wait - elapsed))
        if not told:
            poll = min(poll, WAITING_AFTER)
        answer = api.enrol_status(ticket, poll)
        status, reason = str(answer["status"]), str(answer.get("reason", ""))
        # the verified directory decides, whatever the server says (even "refused"); a
        # "pending" device is not listed (the server settles a listed device's ticket
        # as "enrolled" when the signer pushes it), so it is not asked
        final = status not in (EnrolStatus.QUEUED.value, EnrolStatus.PENDING.value)
        if final and _listed(profile, org, me, keys, api.ca_bundle):
            profile.enrolment_file.unlink(missing_ok=True)
            return EnrolStatus.ENROLLED.value
        if status == EnrolStatus.REFUSED.value:
            _forget(profile, me, store)
            raise _refusal(reason)
        if status == EnrolStatus.ENROLLED.value:
            # the server says so, the verified directory does not (yet): never believed
            status = EnrolStatus.QUEUED.value
            time.sleep(min(1.0, max(0.0, wait - elapsed)))
        _save_ticket(profile, ticket, status)
        if status == EnrolStatus.PENDING.value or time.monotonic() - started >= wait:
            return status  # IT approves by hand: no point in waiting here
        if not told and on_waiting is not None and time.monotonic() - started >= WAITING_AFTER:
            on_waiting()
            told = True


def _listed(
    profile: Profile, org: OrgConfig, me: DeviceIdentity, keys: DeviceKeys, ca_bundle: str | None
) -> bool:
    """Whether the verified directory lists this device with exactly these keys. Only
    enrolled devices may read the directory: the request is signed with the new key,
    which the server knows once the signer has pushed the device (until then: 401)."""
    api = ServerApi(org.server_url, Signer(me.user, me.device, keys.signing), ca_bundle=ca_bundle)
    try:
        directory = sync(profile, org, api)
    except ClientError:
        return False
    finally:
        api.close()
    entry = directory.by_id().get(me.user)
    if entry is None:
        return False
    sign_key = bytes(keys.signing.verify_key)
    enc_key = bytes(keys.encryption.public_key)
    return any(
        d.id == me.device and d.active and d.sign_key == sign_key and d.enc_key == enc_key
        for d in entry.devices
    )


def _forget(profile: Profile, me: DeviceIdentity, store: KeyStore) -> None:
    store.delete(me)
    for path in (profile.identity_file, profile.config_file, profile.enrolment_file):
        path.unlink(missing_ok=True)


def _refusal(reason: str) -> ClientError:
    if reason == "conflict":
        return ClientError(
            ErrorCode.CONFLICT,
            "IT could not enrol this device (is a device of this name enrolled?)",
        )
    return ClientError(
        ErrorCode.BAD_ENROLMENT, "enrolment refused: the one-time code is wrong, used or expired"
    )


def _default_device_id() -> str:
    host = "".join(c for c in socket.gethostname().lower() if c.isalnum() or c in "-")
    return (host or "device")[:32]


__all__ = ["ConnectionLost", "EnrolmentWaiting", "enrol", "open_ticket", "resume"]
