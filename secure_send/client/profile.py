"""One person's client profile folder and the small JSON documents kept in it.

Guarantees: the profile folder is created owner-only (0700); every file written
through :class:`Profile` is written atomically (a crash leaves either the old or
the new content, never a half-written file) and readable by the owner only
(0600). A corrupt or unparsable document raises :class:`ProfileError` rather
than being silently treated as missing. :class:`OrgConfig` and
:class:`DeviceIdentity` parse strictly: anything outside their one accepted form is
refused.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import platformdirs

from secure_send.core.atomic import AtomicOutput
from secure_send.core.directory.bundle import TrustAnchor
from secure_send.core.directory.errors import DirectoryError
from secure_send.core.directory.model import check_id
from secure_send.core.errors import SecureSendError

HOME_ENV = "SECURE_SEND_HOME"
CLIENT_CONFIG_FORMAT = "secure-send/client-config/v1"
_CONFIG_FIELDS = frozenset({"format", "server_url", "org", "root_keys", "threshold"})


class ProfileError(SecureSendError):
    """A profile file is unreadable or malformed, or a configuration is invalid."""


class Profile:
    """The folder holding one person's client state (config, identity, directory, ...)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)

    @classmethod
    def locate(cls, env: Mapping[str, str] | None = None) -> Profile:
        """``$SECURE_SEND_HOME`` if set (and not empty), else the per-user data folder."""
        env = os.environ if env is None else env
        home = env.get(HOME_ENV)
        if home:
            return cls(Path(home))
        return cls(Path(platformdirs.user_data_dir("secure-send", appauthor=False)))

    def ensure(self) -> Profile:
        """Create the folder (0700) if missing; returns ``self``."""
        self.path.mkdir(mode=0o700, parents=True, exist_ok=True)
        if os.name == "posix":
            # mkdir's mode is masked by umask and ignored for an existing folder:
            # the profile holds personal data and (for tests) keys, so force it.
            os.chmod(self.path, 0o700)
        return self

    def __repr__(self) -> str:
        return f"Profile({str(self.path)!r})"

    @property
    def config_file(self) -> Path:
        """The organisation configuration (``client-config`` output)."""
        return self.path / "config.json"

    @property
    def identity_file(self) -> Path:
        """Who this profile is: ``{"user", "device"}``."""
        return self.path / "identity.json"

    @property
    def enrolment_file(self) -> Path:
        """An enrolment still waiting for IT: ``{"ticket", "status"}``."""
        return self.path / "enrolment.json"

    @property
    def directory_file(self) -> Path:
        """The last verified directory bundle."""
        return self.path / "directory.bundle"

    @property
    def checkpoint_file(self) -> Path:
        """The checkpoint of the last verified directory."""
        return self.path / "checkpoint.json"

    @property
    def resume_dir(self) -> Path:
        """State for resuming interrupted uploads."""
        return self.path / "resume"

    @property
    def outbox_dir(self) -> Path:
        """Drops prepared but not yet sent."""
        return self.path / "outbox"

    @property
    def key_file(self) -> Path:
        """Device keys in plain form: only for the test key store, never for real use."""
        return self.path / "device-keys.json"

    def read_json(self, path: Path) -> Any | None:
        """The parsed document at ``path``, or ``None`` if it does not exist.

        Raises:
            ProfileError: the file exists but cannot be read or is not valid JSON.
        """
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as err:
            raise ProfileError(f"cannot read {path}: {err.strerror}") from None
        try:
            return json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            # no excerpt of the content: the file may hold personal data
            raise ProfileError(
                f"{path} is corrupt (not valid JSON); restore or remove it"
            ) from None

    def write_json(self, path: Path, obj: Any) -> None:
        """Write ``obj`` as JSON to ``path`` atomically, owner-only (0600)."""
        data = json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
        self.write_bytes(path, data.encode("utf-8"))

    def write_bytes(self, path: Path, data: bytes) -> None:
        """Write ``data`` to ``path`` atomically, owner-only (0600)."""
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with AtomicOutput(path, overwrite=True) as out:
            out.file.write(data)
            out.commit()


@dataclass(frozen=True)
class OrgConfig:
    """The organisation configuration an installer embeds: server and pinned root keys."""

    server_url: str
    anchor: TrustAnchor

    @classmethod
    def from_json(cls, obj: Any) -> OrgConfig:
        """Parse ``secure-send-admin client-config`` output.

        Raises:
            ProfileError: wrong format, a server URL that is not http(s), or a
                malformed trust anchor.
        """
        if not isinstance(obj, dict):
            raise ProfileError("organisation config must be a JSON object")
        if obj.get("format") != CLIENT_CONFIG_FORMAT:
            raise ProfileError(
                f"not an organisation config (format must be {CLIENT_CONFIG_FORMAT})"
            )
        # v1 is a closed form: an unknown field means a newer or hand-edited file
        unknown = sorted(set(obj) - _CONFIG_FIELDS)
        if unknown:
            raise ProfileError(f"organisation config: unknown field(s) {', '.join(unknown)}")
        url = _check_url(obj.get("server_url"))
        anchor_fields = {k: v for k, v in obj.items() if k not in ("format", "server_url")}
        # TrustAnchor.from_json would accept any org via str() and a bool threshold
        if not isinstance(obj.get("org"), str) or not obj["org"].strip():
            raise ProfileError("organisation config: org must be a non-empty name")
        if type(obj.get("threshold")) is not int:
            raise ProfileError("organisation config: threshold must be an integer")
        try:
            anchor = TrustAnchor.from_json(anchor_fields)
        except DirectoryError as err:
            raise ProfileError(f"organisation config: {err}") from None
        return cls(server_url=url, anchor=anchor)

    def to_json(self) -> dict[str, Any]:
        """The same form :meth:`from_json` reads."""
        return {
            "format": CLIENT_CONFIG_FORMAT,
            "server_url": self.server_url,
            **self.anchor.to_json(),
        }


def _check_url(value: object) -> str:
    if not isinstance(value, str):
        raise ProfileError("organisation config: server_url is missing")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ProfileError("organisation config: server_url is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ProfileError("organisation config: server_url must be an http:// or https:// URL")
    if any(c.isspace() or ord(c) < 0x20 for c in value):
        raise ProfileError("organisation config: server_url contains spaces or control characters")
    return value


@dataclass(frozen=True)
class DeviceIdentity:
    """Which user and device this profile acts as (ids only, no key material: not an
    age :class:`~secure_send.core.age.api.Identity`, which decrypts)."""

    user: str
    device: str

    def __post_init__(self) -> None:
        # ids end up in key store entry names and request paths: only the strict form
        _checked(self.user, "user")
        _checked(self.device, "device")

    @classmethod
    def from_json(cls, obj: Any) -> DeviceIdentity:
        """Parse ``{"user", "device"}``; raises :class:`ProfileError`."""
        if not isinstance(obj, dict) or set(obj) != {"user", "device"}:
            raise ProfileError('identity must be a JSON object {"user", "device"}')
        return cls(user=obj["user"], device=obj["device"])

    def to_json(self) -> dict[str, str]:
        """The same form :meth:`from_json` reads."""
        return {"user": self.user, "device": self.device}


def _checked(value: object, what: str) -> str:
    try:
        return check_id(value, what)
    except SecureSendError as err:
        raise ProfileError(f"identity: {err}") from None
