"""Test switches: environment variables that let the test suite and the demo replace
parts an installed client must never let a user replace.

- ``SECURE_SEND_TEST_KEYSTORE=1``: device keys in a plain file in the profile
  instead of the OS key store (:mod:`.keystore`);
- ``SECURE_SEND_POLICY_FILE`` / ``SECURE_SEND_MANAGED_PLIST``: read IT policy
  from another file (:mod:`.policy`), i.e. replace the one IT installed;
- ``SECURE_SEND_CLAMD_CONFIG`` / ``SECURE_SEND_DEFENDER``: scan received files with
  another clamd (its ``clamd.conf``) or another ``MpCmdRun.exe`` (:mod:`.antivirus`),
  i.e. replace the virus scanner IT's policy relies on.

They are honoured only when running from source (tests, ``make demo``). A frozen
build — what the installers ship (PyInstaller sets ``sys.frozen``) — ignores them:
a user who sets one cannot take the keys out of the key store or swap IT's policy
for their own. ``secure-send self-test`` fails while any is set, frozen or not, so
a machine where one was left behind is found (:mod:`secure_send.cli.selftest`).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping

TEST_KEYSTORE_ENV = "SECURE_SEND_TEST_KEYSTORE"
POLICY_FILE_ENV = "SECURE_SEND_POLICY_FILE"
MAC_POLICY_ENV = "SECURE_SEND_MANAGED_PLIST"
CLAMD_CONFIG_ENV = "SECURE_SEND_CLAMD_CONFIG"
DEFENDER_ENV = "SECURE_SEND_DEFENDER"
SWITCHES = (TEST_KEYSTORE_ENV, POLICY_FILE_ENV, MAC_POLICY_ENV, CLAMD_CONFIG_ENV, DEFENDER_ENV)


def frozen() -> bool:
    """Whether this is a frozen (installed) build: PyInstaller sets ``sys.frozen``."""
    return bool(getattr(sys, "frozen", False))


def set_switches(env: Mapping[str, str]) -> list[str]:
    """The names of the test switches set (non-empty) in ``env``, honoured or not."""
    return [name for name in SWITCHES if env.get(name)]


def honoured(name: str, env: Mapping[str, str]) -> str | None:
    """The value of test switch ``name`` if set and honoured here (not frozen), else None."""
    if name not in SWITCHES:
        raise ValueError(f"{name} is not a test switch")
    if frozen():
        return None
    return env.get(name) or None


__all__ = [
    "CLAMD_CONFIG_ENV",
    "DEFENDER_ENV",
    "MAC_POLICY_ENV",
    "POLICY_FILE_ENV",
    "SWITCHES",
    "TEST_KEYSTORE_ENV",
    "frozen",
    "honoured",
    "set_switches",
]
