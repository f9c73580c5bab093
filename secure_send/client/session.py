"""One enrolled device's working session: profile, keys, server API, directory.

This is the object the CLI and the desktop app drive; it holds no Qt and does
no printing. :func:`enrol` makes a profile enrolled; :meth:`Session.open` loads
an enrolled one (keys from the key store).
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from typing import Any

from secure_send.client.api import ClientError, ServerApi, Signer
from secure_send.client.directory_sync import Directory, sync
from secure_send.client.keystore import KeyStore, open_keystore
from secure_send.client.profile import Identity, OrgConfig, Profile
from secure_send.core.directory.enrol import DeviceKeys, make_request
from secure_send.core.encoding import utc_now


@dataclass
class Session:
    """An enrolled device ready to talk to its server."""

    profile: Profile
    org: OrgConfig
    me: Identity
    keys: DeviceKeys
    api: ServerApi

    @classmethod
    def open(cls, profile: Profile, store: KeyStore | None = None) -> Session:
        """The enrolled session of ``profile``.

        Raises:
            ClientError: the profile is not enrolled (``not_enrolled``).
        """
        org_json = profile.read_json(profile.config_file)
        me_json = profile.read_json(profile.identity_file)
        if org_json is None or me_json is None:
            raise ClientError(
                "not_enrolled", "this device is not enrolled: run `secure-send enrol` first"
            )
        org, me = OrgConfig.from_json(org_json), Identity.from_json(me_json)
        keys = (store or open_keystore(profile)).load(me)
        return cls(
            profile,
            org,
            me,
            keys,
            ServerApi(org.server_url, Signer(me.user, me.device, keys.signing)),
        )

    def directory(self) -> Directory:
        """The verified directory, refreshed from the server."""
        return sync(self.profile, self.org, self.api)

    def policy(self) -> dict[str, Any]:
        """The server's limits."""
        return dict(self.api.json("GET", "/v1/policy", signed=False))

    def close(self) -> None:
        """Release connections."""
        self.api.close()


def enrol(
    profile: Profile,
    org: OrgConfig,
    user: str,
    code: str | None,
    *,
    device_id: str | None = None,
    device_name: str | None = None,
    store: KeyStore | None = None,
) -> tuple[Identity, str]:
    """Generate this device's keys, enrol them with ``code``; returns the identity and
    ``"enrolled"`` or ``"pending"`` (no code: IT approves). Keys are stored first, the
    profile written last, so a failure leaves the profile unenrolled."""
    profile.ensure()
    if profile.read_json(profile.identity_file) is not None:
        raise ClientError("already_enrolled", "this profile is already enrolled")
    device = device_id or _default_device_id()
    me = Identity(user, device)
    keys = DeviceKeys.generate()
    request = make_request(
        keys, user, device, device_name or socket.gethostname()[:60], code, utc_now()
    )
    keystore = store or open_keystore(profile)
    keystore.save(me, keys)
    api = ServerApi(org.server_url)
    try:
        answer = api.json("POST", "/v1/enrol", request.to_json(), signed=False)
    except ClientError:
        keystore.delete(me)
        raise
    finally:
        api.close()
    profile.write_json(profile.config_file, org.to_json())
    profile.write_json(profile.identity_file, me.to_json())
    return me, str(answer["status"])


def _default_device_id() -> str:
    host = "".join(c for c in socket.gethostname().lower() if c.isalnum() or c in "-")
    return (host or "device")[:32]
