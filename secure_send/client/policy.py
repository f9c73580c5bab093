"""IT policy: what an administrator fixes on every managed machine.

Precedence is *built-in defaults < the user's settings < IT policy*. A policy can
pin the drop server URL and the root keys (these win over every other
configuration), name the CA bundle that server's certificate must chain to,
fix app settings (the settings dialog then shows them locked),
and shorten the longest drop expiry; it can never loosen anything the server
enforces (docs/deployment.md, section 6).

Sources, one per OS (see docs/deployment.md):

- Linux: ``/etc/secure-send/policy.json`` (``$SECURE_SEND_POLICY_FILE`` overrides
  the path in a run from source, for tests; never in a frozen build: :mod:`.switches`),
  snake_case keys;
- Windows: the values under ``HKLM\\Software\\Policies\\SecureSend`` (Group Policy),
  CamelCase names;
- macOS: the managed preferences ``/Library/Managed Preferences/jp.go.securesend.plist``
  (``$SECURE_SEND_MANAGED_PLIST`` overrides the path, like the Linux one), CamelCase names.

A missing source is an empty policy. A source that exists but cannot be read or
does not parse raises :class:`PolicyError`: the app and the CLI then refuse to run.
The policy is loaded and enforced by the client itself (:meth:`.session.Session.open`,
:func:`.enrolment.enrol`), so the app, the CLI and the file manager's "send" entry
obey the same pins.
Failing closed is deliberate: silently ignoring a broken policy would run an
unmanaged client on a managed machine, e.g. against a server IT did not choose.
Unknown keys are refused for the same reason: a misspelt restriction would
otherwise not be enforced while IT believes it is.

Qt-free, like the rest of :mod:`secure_send.client`.
"""

from __future__ import annotations

import dataclasses
import json
import os
import plistlib
import sys
import xml.parsers.expat
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from secure_send.client.approval_rules import ApprovalRules, parse_antivirus, parse_approval_for
from secure_send.client.errors import ClientError
from secure_send.client.mynumber import MyNumberRules, parse_rules
from secure_send.client.profile import OrgConfig, ProfileError
from secure_send.client.suite_policy import SuiteRules, parse_suite
from secure_send.client.switches import MAC_POLICY_ENV, POLICY_FILE_ENV, honoured
from secure_send.client.urls import insecure
from secure_send.core.directory.bundle import TrustAnchor
from secure_send.core.directory.errors import DirectoryError
from secure_send.core.error_codes import ErrorCode

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

LINUX_POLICY_FILE = Path("/etc/secure-send/policy.json")
MAC_POLICY_FILE = Path("/Library/Managed Preferences/jp.go.securesend.plist")
WINDOWS_POLICY_KEY = r"Software\Policies\SecureSend"  # under HKEY_LOCAL_MACHINE

# the languages the app ships (secure_send.gui.settings.LANGUAGES; the client may
# not import the GUI, and tests/client/test_policy.py checks the two agree)
LANGUAGES = ("system", "ja", "en")

# the policy keys that fix a field of the app's Settings, in the dialog's order
SETTINGS_KEYS = ("language", "close_to_tray", "download_folder", "notify")
_PIN_KEYS = ("org", "root_keys", "threshold")
_MYNUMBER_KEYS = ("mynumber", "mynumber_max_expiry_days")  # client/mynumber.py
_RECEIVE_KEYS = ("approval_for", "antivirus")  # client/approval_rules.py, issue 20
_SUITE_KEYS = ("suite",)  # client/suite_policy.py, issue 21
_KEYS = frozenset(
    {
        "server_url",
        *_PIN_KEYS,
        "ca_bundle",
        "max_expiry_days",
        *SETTINGS_KEYS,
        *_MYNUMBER_KEYS,
        *_RECEIVE_KEYS,
        *_SUITE_KEYS,
    }
)

# Windows registry value names and macOS managed-preference keys -> policy keys;
# "RootKeys" is special (JSON, see _vendor_root_keys)
VENDOR_NAMES = {
    "serverurl": "server_url",
    "cabundle": "ca_bundle",
    "maxexpirydays": "max_expiry_days",
    "mynumber": "mynumber",
    "mynumbermaxexpirydays": "mynumber_max_expiry_days",
    "approvalfor": "approval_for",
    "antivirus": "antivirus",
    "suite": "suite",
    "downloadfolder": "download_folder",
    "closetotray": "close_to_tray",
    "notify": "notify",
    "language": "language",
}
_VENDOR_BOOLS = frozenset({"close_to_tray", "notify"})

S = TypeVar("S", bound="DataclassInstance")


class PolicyError(ClientError):
    """The IT policy exists but is unreadable or invalid (``bad_policy``: nothing may run),
    or what is being used differs from its pins (``policy_mismatch``)."""

    def __init__(self, message: str, code: ErrorCode = ErrorCode.BAD_POLICY) -> None:
        super().__init__(code, message)


@dataclass(frozen=True)
class ItPolicy:
    """One machine's IT policy; ``None`` everywhere means "not set by IT"."""

    server_url: str | None = None  # pins the drop server
    anchor: TrustAnchor | None = None  # pins the organisation and its root keys
    ca_bundle: str | None = None  # the only CAs the server's certificate may chain to
    max_expiry_days: int | None = None  # can only shorten the server's maximum
    download_folder: str | None = None
    close_to_tray: bool | None = None
    notify: bool | None = None
    language: str | None = None
    # sends with My Numbers (client/mynumber.py): on without a policy; IT may tighten
    mynumber: MyNumberRules = dataclasses.field(default_factory=MyNumberRules)
    # 上長承認 (client/approval_rules.py): which sends wait for a superior; none by default
    approval: ApprovalRules = dataclasses.field(default_factory=ApprovalRules)
    # the platform's virus scan of received files after decryption (client/antivirus.py)
    antivirus: str = "off"
    # the cipher suite of this machine's sends, by classification (client/suite_policy.py)
    suite: SuiteRules = dataclasses.field(default_factory=SuiteRules)
    source: str = ""  # where it came from, for messages ("" = no policy)

    @property
    def settings(self) -> dict[str, Any]:
        """The app settings this policy fixes, by Settings field name."""
        return {k: getattr(self, k) for k in SETTINGS_KEYS if getattr(self, k) is not None}

    @property
    def locked(self) -> frozenset[str]:
        """The Settings field names the user cannot change (for the settings dialog)."""
        return frozenset(self.settings)

    @property
    def org_config(self) -> OrgConfig | None:
        """The pinned organisation config, when the policy pins both URL and root keys."""
        if self.server_url is None or self.anchor is None:
            return None
        return OrgConfig(server_url=self.server_url, anchor=self.anchor)


# ---------------------------------------------------------------- parsing


def parse_policy(raw: Mapping[str, Any], source: str) -> ItPolicy:
    """Check a policy in its canonical (snake_case, JSON-like) form.

    Raises:
        PolicyError: an unknown key, a wrong type or value, or incomplete root-key pins.
    """
    # null means "not set here", and "_…" keys are comments (JSON has none): the
    # template the .deb installs (packaging/linux/policy.json) uses both
    raw = {k: v for k, v in raw.items() if v is not None and not k.startswith("_")}
    unknown = sorted(set(raw) - _KEYS)
    if unknown:
        raise PolicyError(f"IT policy {source}: unknown key(s) {', '.join(unknown)}")
    return ItPolicy(
        server_url=_url(raw.get("server_url"), source),
        anchor=_anchor(raw, source),
        ca_bundle=_ca_bundle(raw.get("ca_bundle"), source),
        max_expiry_days=_days(raw.get("max_expiry_days"), source),
        download_folder=_folder(raw.get("download_folder"), source),
        close_to_tray=_bool(raw, "close_to_tray", source),
        notify=_bool(raw, "notify", source),
        language=_language(raw.get("language"), source),
        mynumber=_mynumber(raw, source),
        approval=_checked(parse_approval_for, raw.get("approval_for"), source),
        antivirus=_checked(parse_antivirus, raw.get("antivirus"), source),
        suite=_checked(parse_suite, raw.get("suite"), source),
        source=source,
    )


T = TypeVar("T")


def _checked(parse: Callable[[object], T], value: object, source: str) -> T:
    try:
        return parse(value)
    except ValueError as err:
        raise PolicyError(f"IT policy {source}: {err}") from None


def _mynumber(raw: Mapping[str, Any], source: str) -> MyNumberRules:
    try:
        return parse_rules(raw.get("mynumber"), raw.get("mynumber_max_expiry_days"))
    except ValueError as err:
        raise PolicyError(f"IT policy {source}: {err}") from None


def _url(value: object, source: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018 - raises ValueError on a bad port
        except ValueError:
            parts = None
        ok = parts is not None and parts.scheme in ("http", "https") and bool(parts.hostname)
        if ok and not any(c.isspace() or ord(c) < 0x20 for c in value):
            if insecure(value):  # a pin to a clear-text server would pin the wrong thing
                raise PolicyError(
                    f"IT policy {source}: server_url must be https:// (http:// only to this"
                    f" machine) ({ErrorCode.INSECURE_URL})",
                    ErrorCode.INSECURE_URL,
                )
            return value
    raise PolicyError(f"IT policy {source}: server_url must be an https:// URL")


def _ca_bundle(value: object, source: str) -> str | None:
    if value is None:
        return None
    # a machine-wide file IT installs: absolute, and there now (fail closed: a missing
    # bundle must not quietly fall back to every CA the system trusts)
    if not isinstance(value, str) or not Path(value).is_absolute():
        raise PolicyError(f"IT policy {source}: ca_bundle must be the absolute path of a file")
    if not Path(value).is_file():
        raise PolicyError(f"IT policy {source}: ca_bundle {value} does not exist")
    return value


def _anchor(raw: Mapping[str, Any], source: str) -> TrustAnchor | None:
    present = [k for k in _PIN_KEYS if k in raw]
    if not present:
        return None
    if len(present) != len(_PIN_KEYS):
        # half a pin (keys without a threshold, say) is a mistake, not a weaker pin
        raise PolicyError(f"IT policy {source}: org, root_keys and threshold go together")
    org, threshold = raw["org"], raw["threshold"]
    if not isinstance(org, str) or not org.strip():
        raise PolicyError(f"IT policy {source}: org must be a non-empty name")
    if type(threshold) is not int:
        raise PolicyError(f"IT policy {source}: threshold must be an integer")
    try:
        return TrustAnchor.from_json({k: raw[k] for k in _PIN_KEYS})
    except DirectoryError as err:
        raise PolicyError(f"IT policy {source}: root keys: {err}") from None


def _days(value: object, source: str) -> int | None:
    if value is None:
        return None
    if type(value) is not int or value < 1:
        raise PolicyError(f"IT policy {source}: max_expiry_days must be a whole number ≥ 1")
    return value


def _folder(value: object, source: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise PolicyError(f"IT policy {source}: download_folder must be a folder path")
    # per-user folders: "~/…", "$HOME/…" or "%USERPROFILE%\…" (expandvars knows both forms
    # on Windows); expanded for whoever runs the app
    path = os.path.expanduser(os.path.expandvars(value))
    if not Path(path).is_absolute():
        raise PolicyError(f"IT policy {source}: download_folder must be an absolute path")
    return path


def _bool(raw: Mapping[str, Any], key: str, source: str) -> bool | None:
    value = raw.get(key)
    if value is None or isinstance(value, bool):
        return value
    raise PolicyError(f"IT policy {source}: {key} must be true or false")


def _language(value: object, source: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, str) and value in LANGUAGES:
        return value
    raise PolicyError(f"IT policy {source}: language must be one of {', '.join(LANGUAGES)}")


def from_vendor_values(values: Mapping[str, Any], source: str) -> dict[str, Any]:
    """Registry values or managed preferences (CamelCase) -> the canonical mapping.

    Names are matched case-insensitively (the registry is); an empty string is
    "not set". Booleans may be
    REG_DWORD 0/1; ``RootKeys`` is a JSON string (or, in a plist, a dictionary)
    holding either ``{"org", "root_keys", "threshold"}`` or a whole
    ``secure-send-admin client-config`` document, whose server URL then counts
    as ``ServerUrl`` (a different explicit ``ServerUrl`` is refused).

    Raises:
        PolicyError: an unknown name or a malformed ``RootKeys``.
    """
    raw: dict[str, Any] = {}
    root_keys: object = None
    for name, value in values.items():
        if value == "":
            continue  # an empty REG_SZ is "not set" (the MSI writes one without the property)
        if name.lower() == "rootkeys":
            root_keys = value
            continue
        key = VENDOR_NAMES.get(name.lower())
        if key is None:
            raise PolicyError(f"IT policy {source}: unknown value {name}")
        if key in _VENDOR_BOOLS and type(value) is int and value in (0, 1):
            value = bool(value)  # REG_DWORD
        raw[key] = value
    if root_keys is not None:
        raw.update(_vendor_root_keys(root_keys, raw.get("server_url"), source))
    return raw


def _vendor_root_keys(value: object, server_url: object, source: str) -> dict[str, Any]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise PolicyError(f"IT policy {source}: RootKeys is not valid JSON") from None
    if not isinstance(value, dict):
        raise PolicyError(f"IT policy {source}: RootKeys must be a JSON object")
    if "format" not in value:
        return {k: value[k] for k in value}  # parse_policy checks the keys
    try:
        config = OrgConfig.from_json(value)
    except ProfileError as err:
        raise PolicyError(f"IT policy {source}: RootKeys: {err}") from None
    if server_url is not None and server_url != config.server_url:
        raise PolicyError(f"IT policy {source}: ServerUrl and the RootKeys config disagree")
    return {"server_url": config.server_url, **config.anchor.to_json()}


# ---------------------------------------------------------------- sources


def linux_source(env: Mapping[str, str]) -> Path:
    """The policy file: IT's, or the test switch's in a run from source."""
    return Path(honoured(POLICY_FILE_ENV, env) or LINUX_POLICY_FILE)


def macos_source(env: Mapping[str, str]) -> Path:
    """The managed preferences: IT's, or the test switch's in a run from source."""
    return Path(honoured(MAC_POLICY_ENV, env) or MAC_POLICY_FILE)


def read_linux(env: Mapping[str, str]) -> dict[str, Any] | None:
    """``/etc/secure-send/policy.json`` (or ``$SECURE_SEND_POLICY_FILE``); None if absent."""
    path = linux_source(env)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as err:
        raise PolicyError(f"IT policy {path} cannot be read: {err.strerror}") from None
    try:
        raw = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise PolicyError(f"IT policy {path} is not valid JSON: {err}") from None
    if not isinstance(raw, dict):
        raise PolicyError(f"IT policy {path} must be a JSON object")
    return raw


def read_macos(env: Mapping[str, str]) -> dict[str, Any] | None:
    """The managed preferences plist (or ``$SECURE_SEND_MANAGED_PLIST``); None if absent."""
    path = macos_source(env)
    try:
        with path.open("rb") as f:
            values = plistlib.load(f)
    except FileNotFoundError:
        return None
    except OSError as err:
        raise PolicyError(f"IT policy {path} cannot be read: {err.strerror}") from None
    except (plistlib.InvalidFileException, xml.parsers.expat.ExpatError, ValueError) as err:
        raise PolicyError(f"IT policy {path} is not a valid property list: {err}") from None
    if not isinstance(values, dict):
        raise PolicyError(f"IT policy {path} must be a dictionary")
    return from_vendor_values(values, str(path))


def read_windows() -> dict[str, Any] | None:  # pragma: no cover - needs a Windows registry
    """The values under ``HKLM\\Software\\Policies\\SecureSend``; None if the key is absent."""
    if sys.platform != "win32":  # winreg exists only there (this also guides mypy)
        return None
    import winreg

    source = "HKLM\\" + WINDOWS_POLICY_KEY
    values: dict[str, Any] = {}
    try:
        with winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, WINDOWS_POLICY_KEY) as key:
            for i in range(winreg.QueryInfoKey(key)[1]):
                name, value, _kind = winreg.EnumValue(key, i)
                values[name] = value
    except FileNotFoundError:
        return None
    except OSError as err:
        raise PolicyError(f"IT policy {source} cannot be read: {err.strerror}") from None
    return from_vendor_values(values, source)


def load_policy(platform: str = sys.platform, env: Mapping[str, str] | None = None) -> ItPolicy:
    """This machine's IT policy (an empty one if IT set none).

    Raises:
        PolicyError: a policy exists but is unreadable or invalid (fail closed).
    """
    env = os.environ if env is None else env
    if platform == "win32":  # pragma: no cover - needs a Windows registry
        raw, source = read_windows(), "HKLM\\" + WINDOWS_POLICY_KEY
    elif platform == "darwin":
        raw, source = read_macos(env), str(macos_source(env))
    else:
        raw, source = read_linux(env), str(linux_source(env))
    return ItPolicy() if raw is None else parse_policy(raw, source)


# ---------------------------------------------------------------- applying


def effective_settings(defaults: S, user: S | None, policy: ItPolicy) -> S:
    """Built-in defaults < the user's settings (if any were stored) < IT policy."""
    base = defaults if user is None else user
    names = {f.name for f in dataclasses.fields(base)}
    missing = sorted(set(policy.settings) - names)
    if missing:  # a policy the app cannot apply must not be dropped silently
        raise PolicyError(f"IT policy sets unknown setting(s) {', '.join(missing)}")
    return dataclasses.replace(base, **policy.settings)


def user_part(edited: S, stored: S, policy: ItPolicy) -> S:
    """What to save after the user edited ``edited``: locked fields keep the user's own
    ``stored`` value, so that lifting the policy later gives the user back their choice."""
    return dataclasses.replace(edited, **{n: getattr(stored, n) for n in policy.locked})


def effective_org(it_config: OrgConfig | None, policy: ItPolicy) -> OrgConfig | None:
    """The organisation config to enrol with: the policy's pins win over ``it_config``.

    A policy pinning only the server URL (or only the root keys) overrides that part
    of ``it_config``; with no ``it_config`` it cannot make a whole config, so None.
    """
    pinned = policy.org_config
    if pinned is not None:
        return pinned
    if it_config is None:
        return None
    return OrgConfig(
        server_url=policy.server_url or it_config.server_url,
        anchor=policy.anchor or it_config.anchor,
    )


def check_enrolled(org: OrgConfig, policy: ItPolicy, what: str = "this profile") -> None:
    """Refuse a profile (or, before enrolling, an organisation config: ``what``) for
    something other than what the policy pins.

    Raises:
        PolicyError: ``policy_mismatch``: the server or root keys differ from the pins.
    """
    code = ErrorCode.POLICY_MISMATCH
    if policy.server_url is not None and org.server_url != policy.server_url:
        raise PolicyError(
            f"{what} uses {org.server_url}, but IT policy ({policy.source}) requires "
            f"{policy.server_url}; ask your IT department to re-enrol this device ({code})",
            code,
        )
    if policy.anchor is not None and org.anchor != policy.anchor:
        raise PolicyError(
            f"{what} trusts other root keys than IT policy ({policy.source}) pins; "
            f"ask your IT department to re-enrol this device ({code})",
            code,
        )


__all__ = [
    "MAC_POLICY_ENV",
    "POLICY_FILE_ENV",
    "ItPolicy",
    "PolicyError",
    "check_enrolled",
    "effective_org",
    "effective_settings",
    "from_vendor_values",
    "load_policy",
    "parse_policy",
    "user_part",
]
