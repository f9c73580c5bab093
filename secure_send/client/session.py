"""One enrolled device's working session: profile, keys, server API, directory.

This is the object the CLI and the desktop app drive; it holds no Qt and does
no printing. :func:`secure_send.client.enrolment.enrol` makes a profile
enrolled; :meth:`Session.open` loads an enrolled one (keys from the key store),
first finishing an enrolment an earlier run left waiting for IT.

IT policy is enforced here, not by each front end: :meth:`Session.open` loads the
machine's policy (:mod:`.policy`) and refuses a profile whose server URL or root
keys differ from its pins before anything is sent; the server is reached over
HTTPS (:mod:`.urls`) with the policy's CA bundle; :meth:`Session.policy` applies
its shorter longest expiry. The app, the CLI and the file manager's entry (which
starts the app) therefore obey the same rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from secure_send.client import leftovers, own_devices, p256_key
from secure_send.client.api import ServerApi, Signer
from secure_send.client.directory_sync import Directory, DirectoryUnverified, sync
from secure_send.client.enrolment import EnrolmentWaiting, enrol, open_ticket, resume
from secure_send.client.errors import ClientError
from secure_send.client.keystore import KeyStore, open_keystore, uses_test_keystore
from secure_send.client.own_devices import OwnDevice
from secure_send.client.policy import ItPolicy, check_enrolled, load_policy
from secure_send.client.profile import DeviceIdentity, OrgConfig, Profile
from secure_send.client.server_policy import ServerPolicy
from secure_send.core.directory.enrol import DeviceKeys
from secure_send.core.directory.errors import DirectoryError
from secure_send.core.error_codes import ErrorCode


@dataclass
class Session:
    """An enrolled device ready to talk to its server."""

    profile: Profile
    org: OrgConfig
    me: DeviceIdentity
    keys: DeviceKeys
    api: ServerApi
    it_policy: ItPolicy = field(default_factory=ItPolicy)  # this machine's IT policy
    test_keystore: bool = False  # keys in the plain-file test store (the app warns)
    # unknown devices in this person's own entry, found at the last sync (None: no sync)
    unknown_devices: list[OwnDevice] | None = field(default=None, init=False)
    # the last verified directory of this session: the next sync advances it by the log
    _directory: Directory | None = field(default=None, init=False, repr=False)
    # file requests this session has fetched and verified (client/file_requests.py): a
    # request never changes, so it is downloaded and decrypted once per session
    verified_requests: dict[str, Any] = field(default_factory=dict, init=False, repr=False)
    # whether this run has asked for its P-256 key to be published (once per run)
    _p256_asked: bool = field(default=False, init=False, repr=False)

    @classmethod
    def open(
        cls, profile: Profile, store: KeyStore | None = None, policy: ItPolicy | None = None
    ) -> Session:
        """The enrolled session of ``profile`` under IT ``policy`` (None: this machine's,
        :func:`~.policy.load_policy`).

        Raises:
            ClientError: the profile is not enrolled (``not_enrolled``); the policy is
                broken (``bad_policy``) or pins another server or other root keys than
                the profile's (``policy_mismatch``); the server URL is plain http://
                to another machine (``insecure_url``).
        """
        policy = load_policy() if policy is None else policy
        org_json = profile.read_json(profile.config_file)
        me_json = profile.read_json(profile.identity_file)
        if org_json is None or me_json is None:
            raise ClientError(
                ErrorCode.NOT_ENROLLED, "this device is not enrolled: run `secure-send enrol` first"
            )
        org, me = OrgConfig.from_json(org_json), DeviceIdentity.from_json(me_json)
        # what a killed run left (plaintext partials, outbox folders): every front end
        # opens its session here, so the CLI and the app both sweep at start
        leftovers.sweep(profile)
        # before any request (even finishing a waiting enrolment): an earlier
        # enrolment or a config file the user loaded must not bypass the pins
        check_enrolled(org, policy)
        keystore = store or open_keystore(profile)
        if open_ticket(profile) is not None:  # an enrolment an earlier run left waiting
            _, status = resume(profile, keystore, wait=0, policy=policy)
            if status != "enrolled":
                raise EnrolmentWaiting(status)
        # a device enrolled before issue 21 makes its P-256 key now, kept before it is
        # ever sent (p256_key.py); publishing it waits for the first fresh sync
        keys = p256_key.ensure_key(profile, keystore, me, keystore.load(me))
        signer = Signer(me.user, me.device, keys.signing)
        return cls(
            profile,
            org,
            me,
            keys,
            ServerApi(org.server_url, signer, ca_bundle=policy.ca_bundle),
            it_policy=policy,
            test_keystore=uses_test_keystore(keystore),
        )

    def directory(self) -> Directory:
        """The verified directory, refreshed from the server; this person's own entry is
        checked for devices they did not enrol (:mod:`.own_devices`) on every sync."""
        directory = sync(self.profile, self.org, self.api, self._directory)
        own = own_devices.own_entry(directory, self.me.user)
        try:  # this person's own entry is used at once (the own-entry check, sends)
            directory.verified.require_bindings([own] if own else [])
        except DirectoryError as err:
            raise DirectoryUnverified(
                ErrorCode.DIRECTORY_UNVERIFIED,
                f"your own entry in the directory failed verification ({err}); do not send;"
                " tell IT security",
            ) from None
        self._directory = directory
        self.unknown_devices = own_devices.check(self.profile, self.me, self.keys, directory)
        if not self._p256_asked and directory.fresh:  # not from the offline copy
            self._p256_asked = True
            this = own_devices.this_listed(own, self.me, self.keys)
            p256_key.publish_key(self.profile, self.me, self.keys, self.api, this)
        return directory

    def alerts(self) -> list[OwnDevice]:
        """Unknown own devices: from this run's sync, else as the last sync left them."""
        if self.unknown_devices is not None:
            return self.unknown_devices
        return own_devices.stored_alerts(self.profile)

    def policy(self) -> ServerPolicy:
        """The server's limits, the longest expiry shortened by IT policy if it says so."""
        return self.api.policy().capped(self.it_policy.max_expiry_days)

    def close(self) -> None:
        """Release connections."""
        self.api.close()


__all__ = ["Session", "enrol"]
