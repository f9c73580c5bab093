"""Server configuration: the server's home folder plus optional ``HOME/server.toml``.

Every setting has a safe default (listen on 127.0.0.1 only); ``server.toml``
may override any of them, and command-line options override the file. Unknown
keys are refused, so a misspelt limit never silently falls back to a default.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import ipaddress
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from secure_send.core.encoding import EncodingError, unb64u
from secure_send.core.errors import SecureSendError

MIB = 1024 * 1024


class ConfigError(SecureSendError):
    """``server.toml`` or an option is invalid."""


@dataclass(frozen=True)
class ServerConfig:
    """Where the server's state lives, where it listens, and its limits."""

    home: Path
    host: str = "127.0.0.1"
    port: int | None = None  # default: 8443 with TLS, 8080 without
    tls_cert: Path | None = None
    tls_key: Path | None = None
    public_url: str = ""  # the URL clients sign (behind a reverse proxy); "" = as received
    # comma-separated proxy addresses/networks whose X-Forwarded-For is believed
    # (rate limits and the audit log then see the real client); "" = none
    trusted_proxies: str = ""
    # per request body; a tus PATCH (the rest of a blob, up to max_file_bytes) and the
    # signer's push are streamed and bounded by their own limits instead
    max_body_bytes: int = 1 * MIB
    max_file_bytes: int = 10 * 1024 * MIB
    default_expiry_days: int = 7
    max_expiry_days: int = 30
    quota_bytes: int = 50 * 1024 * MIB  # per user, ciphertext held at once
    clock_skew_seconds: int = 300
    auth_failures_burst: int = 20  # failed authentications per client IP before 429
    auth_failures_per_minute: int = 10
    # requests without a signature (the directory head, enrolment, its tickets) per
    # client IP: generous, a whole office behind one NAT enrols through one address
    anonymous_burst: int = 300
    anonymous_per_minute: int = 600
    sweep_interval_seconds: int = 60  # how often expired drops are deleted
    # ``[retention] drop_rows_seconds``: how long the database keeps the rows of a
    # recalled or expired drop after its expiry (then the sweeper deletes them; the
    # audit log keeps the history); the default is 30 days
    retention_drop_rows_seconds: int = 30 * 86400
    # the directory signer's Ed25519 public key (base64url), ``[signer] public_key``;
    # "" = no signer may push (the directory then never changes)
    signer_public_key: str = ""
    max_push_bytes: int = 1024 * MIB  # one signer push (a full directory at most)
    # HTTP limits (secure_send/server/http_protocol.py): a slow or silent client must not
    # hold a connection, or an upload's lock, for long
    max_header_bytes: int = 32 * 1024  # a request's line and headers; more -> 431
    header_timeout_seconds: int = 10  # to send a request's line and headers, from when the
    #                                   connection opened or the previous response ended
    idle_timeout_seconds: int = 5  # keep-alive: an idle connection is closed after this
    body_timeout_seconds: int = 15  # longest wait for the next piece of a request body
    # Scale-out (issue 18; docs/deployment.md "High availability"). ``[database] url``:
    # "" = the embedded SQLite file in HOME/server; else a PostgreSQL URL *without* a
    # password (``postgresql://USER@HOST:PORT/DB``), the password read from
    # ``[database] password_file`` so it is never in a config file others may read,
    # a process list or a log.
    database_url: str = ""
    database_password_file: Path | None = None
    # ``[storage] kind``: "folder" (HOME/server/blobs) or "s3" (any S3-compatible store:
    # MinIO, Ceph RGW, SeaweedFS); the keys are read from files, like the password
    storage_kind: str = "folder"
    storage_endpoint: str = ""
    storage_bucket: str = ""
    storage_region: str = "us-east-1"
    storage_access_key_file: Path | None = None
    storage_secret_key_file: Path | None = None

    @property
    def tls(self) -> bool:
        """Whether the server terminates TLS itself."""
        return self.tls_cert is not None

    @property
    def listen_port(self) -> int:
        """The port, with the default filled in."""
        if self.port is not None:
            return self.port
        return 8443 if self.tls else 8080

    @property
    def clock_window(self) -> dt.timedelta:
        """How far a request's ``created`` may be from the server's clock."""
        return dt.timedelta(seconds=self.clock_skew_seconds)

    @property
    def state_dir(self) -> Path:
        """``HOME/server``: the database and blobs."""
        return self.home / "server"

    @property
    def signer_key(self) -> bytes | None:
        """The pinned signer key, decoded."""
        return unb64u(self.signer_public_key, 32) if self.signer_public_key else None

    def policy(self) -> dict[str, int]:
        """The limits clients read up front (``GET /v1/policy``)."""
        return {
            "max_body_bytes": self.max_body_bytes,
            "max_file_bytes": self.max_file_bytes,
            "default_expiry_days": self.default_expiry_days,
            "max_expiry_days": self.max_expiry_days,
            "quota_bytes": self.quota_bytes,
            "clock_skew_seconds": self.clock_skew_seconds,
        }

    def check(self) -> ServerConfig:
        """Raise :class:`ConfigError` on inconsistent settings; returns self."""
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ConfigError("give both a TLS certificate and its key, or neither")
        if self.port is not None and not 0 <= self.port <= 65535:
            raise ConfigError("port must be 0..65535")
        ints = {k: v for k, v in self.__dict__.items() if isinstance(v, int) and k != "port"}
        if any(v <= 0 for v in ints.values()):
            raise ConfigError("limits must be positive integers")
        for proxy in filter(None, (p.strip() for p in self.trusted_proxies.split(","))):
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                message = f"trusted_proxies: {proxy!r} is not an IP address or network"
                raise ConfigError(message) from None
        try:
            self.signer_key  # noqa: B018 - decoding is the check
        except EncodingError:
            raise ConfigError("[signer] public_key is not a base64url Ed25519 key") from None
        if self.default_expiry_days > self.max_expiry_days:
            raise ConfigError("default_expiry_days exceeds max_expiry_days")
        self._check_backends()
        return self

    @property
    def scaled_out(self) -> bool:
        """Whether the metadata lives in PostgreSQL (several servers may share it)."""
        return bool(self.database_url)

    def _check_backends(self) -> None:
        if self.database_url:
            parts = urlsplit(self.database_url)
            if parts.scheme not in ("postgresql", "postgres"):
                raise ConfigError("[database] url must start with postgresql://")
            if parts.password is not None:
                # say so without echoing the URL: it holds the password
                raise ConfigError(
                    "[database] url must not contain a password: put it in the file named "
                    "by [database] password_file"
                )
        elif self.database_password_file is not None:
            raise ConfigError("[database] password_file needs [database] url")
        if self.storage_kind not in ("folder", "s3"):
            raise ConfigError('[storage] kind must be "folder" or "s3"')
        s3_keys = {
            "endpoint": self.storage_endpoint,
            "bucket": self.storage_bucket,
            "access_key_file": self.storage_access_key_file,
            "secret_key_file": self.storage_secret_key_file,
        }
        if self.storage_kind == "s3":
            missing = [name for name, value in s3_keys.items() if not value]
            if missing:
                raise ConfigError(f'[storage] kind = "s3" needs {", ".join(missing)}')
            if urlsplit(self.storage_endpoint).scheme not in ("http", "https"):
                raise ConfigError("[storage] endpoint must be an http:// or https:// URL")
            if not self.database_url:
                # blobs shared by several servers need metadata they share too
                raise ConfigError('[storage] kind = "s3" needs [database] url (PostgreSQL)')


_PATHS = {
    "tls_cert",
    "tls_key",
    "database_password_file",
    "storage_access_key_file",
    "storage_secret_key_file",
}
_STRINGS = {
    "host",
    "public_url",
    "trusted_proxies",
    "signer_public_key",
    "database_url",
    "storage_kind",
    "storage_endpoint",
    "storage_bucket",
    "storage_region",
}


_TABLES = {
    "signer": {"public_key": "signer_public_key"},
    "retention": {"drop_rows_seconds": "retention_drop_rows_seconds"},
    "database": {"url": "database_url", "password_file": "database_password_file"},
    "storage": {
        "kind": "storage_kind",
        "endpoint": "storage_endpoint",
        "bucket": "storage_bucket",
        "region": "storage_region",
        "access_key_file": "storage_access_key_file",
        "secret_key_file": "storage_secret_key_file",
    },
}


def _flatten_tables(values: dict[str, Any]) -> dict[str, Any]:
    """``[signer] public_key = …`` → ``signer_public_key`` (and so on for each table);
    unknown keys stay unknown."""
    flat = {k: v for k, v in values.items() if k not in _TABLES}
    for table, names in _TABLES.items():
        inner = values.get(table, {})
        if not isinstance(inner, dict):
            raise ConfigError(f"[{table}] must be a table")
        for key, value in inner.items():
            flat[names.get(key, f"{table}.{key}")] = value
    return flat


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path}: {err}") from None
    except OSError as err:
        raise ConfigError(f"cannot read {path}: {err.strerror}") from None


def config_home(config_file: Path) -> Path:
    """The ``home`` a config file given with ``--config`` names (an installed server:
    /etc/secure-send/server.toml with ``home = "/var/lib/secure-send"``)."""
    home = _read_toml(config_file).get("home")
    if not isinstance(home, str) or not home:
        raise ConfigError(f'{config_file}: give the server\'s folder as home = "/path"')
    path = Path(home)
    if not path.is_absolute():
        raise ConfigError(f"{config_file}: home must be an absolute path")
    return path


def _take_home_signer_pin(home: Path, values: dict[str, Any]) -> None:
    """With ``--config``, still take ``[signer] public_key`` from ``HOME/server.toml``.

    ``secure-send-admin server-home`` pins the signer there, beside the directory it
    writes, and an installed server (the Debian package) reads its settings from
    /etc/secure-send/server.toml instead; without this, copying the folder IT made
    would leave the server with no signer, and no enrolment would ever finish. Only the
    pin is taken (the rest of the folder's file is ignored, as before), and two
    different pins are refused rather than one silently chosen.
    """
    path = home / "server.toml"
    if not path.exists():
        return
    pinned = _flatten_tables(_read_toml(path)).get("signer_public_key")
    if pinned is None:
        return
    given = values.get("signer_public_key")
    if given is not None and given != pinned:
        raise ConfigError(
            f"[signer] public_key differs between the config file and {path}: keep one"
        )
    values["signer_public_key"] = pinned


def load_config(home: Path, config_file: Path | None = None, **overrides: Any) -> ServerConfig:
    """Defaults, then ``config_file`` (``--config``; plus the signer pin of
    ``home/server.toml``) or else ``home/server.toml`` if present, then non-None
    ``overrides``."""
    values: dict[str, Any] = {}
    toml_file = config_file if config_file is not None else home / "server.toml"
    if config_file is not None or toml_file.exists():
        values = _read_toml(toml_file)
        if config_file is not None:
            values.pop("home", None)  # read by config_home
    values = _flatten_tables(values)
    if config_file is not None:
        _take_home_signer_pin(home, values)
    values.update({k: v for k, v in overrides.items() if v is not None})
    names = {f.name for f in dataclasses.fields(ServerConfig)} - {"home"}
    unknown = set(values) - names
    if unknown:
        raise ConfigError(f"unknown server settings: {', '.join(sorted(unknown))}")
    for key in _PATHS & values.keys():
        values[key] = home / Path(values[key])  # relative paths are relative to the home
    for key, value in values.items():
        expected = str if key in _STRINGS else (Path if key in _PATHS else int)
        if not isinstance(value, expected) or isinstance(value, bool):
            raise ConfigError(f"server setting {key} has the wrong type")
    return ServerConfig(home=home, **values).check()
