"""``secure-send self-test``: does this installation work on this machine?

Run after installing (and by the packaging smoke test on the frozen bundle): it
exercises the parts a broken bundle or a bare desktop loses first — the crypto
libraries, the OS key store, Qt's platform plugins and the translations — checks
that no test switch (``SECURE_SEND_TEST_KEYSTORE`` and the policy path overrides,
:mod:`secure_send.client.switches`) is set, and
reports each as ok/failed with one line of detail. Every check runs even when
an earlier one fails, so one run tells IT everything that is wrong. Exit status
0 only when all pass.

Qt is imported inside the Qt check only: the rest must still report when Qt
itself is what is broken.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import secure_send
from secure_send.core.errors import SecureSendError


@dataclass(frozen=True)
class Check:
    """One check's outcome: a short name, pass/fail and one line saying why."""

    name: str
    ok: bool
    detail: str


class CheckFailed(Exception):
    """A check found a problem; the message is the one-line detail."""


class SelfTestFailed(SecureSendError):
    """At least one check failed; ``main`` turns this into one line and exit status 1."""


# SHA-256("abc"), FIPS 180-2 appendix B.1: catches a broken or substituted hashlib/OpenSSL.
_SHA256_ABC = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def check_crypto() -> str:
    """age round trip with a fresh X25519 identity, Ed25519 sign/verify, SHA-256 KAT."""
    import nacl.exceptions
    import nacl.signing

    from secure_send.core import age

    plaintext = os.urandom(100_000)  # more than one 64 KiB age chunk
    identity = age.X25519Identity.generate()
    sealed, opened = io.BytesIO(), io.BytesIO()
    age.encrypt(io.BytesIO(plaintext), sealed, [identity.recipient])
    sealed.seek(0)
    age.decrypt(sealed, opened, [identity])
    if opened.getvalue() != plaintext:
        raise CheckFailed("age round trip returned different bytes")

    key = nacl.signing.SigningKey.generate()
    signed = key.sign(b"secure-send self-test")
    key.verify_key.verify(signed)
    tampered = bytes([signed[0] ^ 1]) + signed[1:]
    try:
        key.verify_key.verify(tampered)
    except nacl.exceptions.BadSignatureError:
        pass
    else:
        raise CheckFailed("Ed25519 accepted a tampered signature")

    if hashlib.sha256(b"abc").hexdigest() != _SHA256_ABC:
        raise CheckFailed("SHA-256 known answer mismatch")
    return "age X25519 round trip, Ed25519 sign/verify, SHA-256 known answer"


def check_keystore() -> str:
    """Which key store device keys would go to, and whether it is a real one."""
    import keyring

    from secure_send.client.keystore import NO_KEYRING_MESSAGE, _is_real_backend
    from secure_send.client.switches import TEST_KEYSTORE_ENV, honoured

    if honoured(TEST_KEYSTORE_ENV, os.environ) == "1":
        # the keys would be in a plain file: not a working installation
        raise CheckFailed(
            "test key store (plain file, SECURE_SEND_TEST_KEYSTORE=1): device keys would"
            " not be protected; unset it"
        )
    backend = keyring.get_keyring()
    name = f"{type(backend).__module__}.{type(backend).__name__}"
    # the same rule KeyringStore applies before storing keys: never a plaintext fallback
    if not _is_real_backend(backend):
        raise CheckFailed(f"{NO_KEYRING_MESSAGE} (active backend: {name})")
    return f"OS key store: {name}"


def check_switches() -> str:
    """No test switch is set (a frozen build ignores them, but one left set means someone
    tried to replace the key store or IT policy, or a test machine was shipped)."""
    from secure_send.client.switches import SWITCHES, frozen, set_switches

    found = set_switches(os.environ)
    if found:
        effect = "ignored by this frozen build" if frozen() else "in effect"
        raise CheckFailed(
            f"test switch(es) set ({effect}): {', '.join(found)}; for the test suite only,"
            " unset them"
        )
    return f"none set ({', '.join(SWITCHES)})"


# The platform plugin each OS shows windows with; offscreen is what tests and probes use.
_NATIVE_PLATFORM = {"linux": "xcb", "win32": "windows", "darwin": "cocoa"}


def check_qt() -> str:
    """PySide6, platform plugins, a QApplication, and both Japanese catalogues."""
    try:
        from PySide6 import __version__ as pyside_version
        from PySide6.QtCore import QLibraryInfo, QTranslator
        from PySide6.QtWidgets import QApplication
    except ImportError as err:
        raise CheckFailed(f"PySide6 does not import: {err}") from None

    plugins = Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath)) / "platforms"
    if not plugins.is_dir():
        raise CheckFailed(f"no Qt platform plugins folder: {plugins}")
    names = [p.name for p in plugins.iterdir()]
    wanted = [
        "offscreen",
        *([_NATIVE_PLATFORM[sys.platform]] if sys.platform in _NATIVE_PLATFORM else []),
    ]
    missing = [w for w in wanted if not any(w in n for n in names)]
    if missing:
        raise CheckFailed(f"Qt platform plugin(s) missing in {plugins}: {', '.join(missing)}")

    app = QApplication.instance()
    if app is None:
        # Headless (CI, a server, an ssh session): the offscreen platform still
        # proves the widgets stack loads; only for this check, the app sets its own.
        headless = sys.platform.startswith("linux") and not (
            os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
        )
        saved = os.environ.get("QT_QPA_PLATFORM")
        if headless:
            os.environ["QT_QPA_PLATFORM"] = "offscreen"
        try:
            app = QApplication(["secure-send-self-test"])
        finally:
            if headless:
                if saved is None:
                    os.environ.pop("QT_QPA_PLATFORM", None)
                else:
                    os.environ["QT_QPA_PLATFORM"] = saved
    platform = QApplication.platformName()

    from secure_send.gui.language import DOMAIN, FOLDER

    ours = FOLDER / f"{DOMAIN}_ja.qm"
    if not QTranslator().load(str(ours)):
        raise CheckFailed(f"Japanese translation does not load: {ours} (run `make translations`)")
    qt_translations = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    if not QTranslator().load("qtbase_ja", qt_translations):
        raise CheckFailed(f"Qt's Japanese catalogue qtbase_ja does not load from {qt_translations}")
    return (
        f"PySide6 {pyside_version}, platform {platform!r} (plugins: {', '.join(wanted)}),"
        " secure_send_ja.qm and qtbase_ja.qm load"
    )


def check_version() -> str:
    """The installed version (from the package metadata, the one source)."""
    version = str(secure_send.__version__)
    if version == "0+unknown":
        raise CheckFailed("no package metadata: the version is unknown (a broken install)")
    frozen = " (frozen bundle)" if getattr(sys, "frozen", False) else ""
    return f"secure-send {version}{frozen}"


CHECKS: list[tuple[str, Callable[[], str]]] = [
    ("crypto", check_crypto),
    ("key store", check_keystore),
    ("test switches", check_switches),
    ("qt", check_qt),
    ("version", check_version),
]


def run_checks() -> list[Check]:
    """Every check, in order; an unexpected error is that check's failure, not a crash."""
    results = []
    for name, func in CHECKS:
        try:
            results.append(Check(name, True, func()))
        except CheckFailed as err:
            results.append(Check(name, False, str(err)))
        except Exception as err:  # a self-test reports, it does not crash
            results.append(Check(name, False, f"{type(err).__name__}: {err}"))
    return results


def configure(name: str, p: argparse.ArgumentParser) -> None:
    """Add the arguments of ``self-test`` (see ``cli.main``)."""
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_self_test)


def cmd_self_test(args: argparse.Namespace) -> None:
    """Print each check; raise :class:`SelfTestFailed` (exit status 1) unless all pass."""
    results = run_checks()
    passed = all(r.ok for r in results)
    if args.json:
        print(
            json.dumps({"ok": passed, "checks": [asdict(r) for r in results]}, ensure_ascii=False)
        )
    else:
        for r in results:
            print(f"{'ok' if r.ok else 'FAILED':<7}{r.name}: {r.detail}")
        print("all checks passed" if passed else "self-test FAILED")
    if not passed:
        failed = ", ".join(r.name for r in results if not r.ok)
        raise SelfTestFailed(f"self-test failed: {failed}")
