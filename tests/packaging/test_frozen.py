"""Smoke tests of the frozen app (PyInstaller bundle) and of the Linux .deb.

Skipped unless ``SECURE_SEND_FROZEN`` names the bundle folder (``dist/secure-send``):
building takes minutes and PyInstaller is not a test dependency. After
``make package``::

    SECURE_SEND_FROZEN=dist/secure-send .venv/bin/pytest tests/packaging/test_frozen.py

The frozen app ignores the test switches (issue 14, item 6): it keeps keys only in
the OS key store. So the tests that need one run against a real one — GNOME Keyring
on a private D-Bus session — and fail (not skip) without it: run them as
``.ci/run`` does, under ``scripts/with-os-keyring.sh``::

    SECURE_SEND_FROZEN=dist/secure-send scripts/with-os-keyring.sh \
        .venv/bin/pytest tests/packaging/test_frozen.py

The .deb test also needs root and dpkg; it installs, checks, removes and purges
the package, so it refuses to run where secure-send is already installed.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import subprocess
from pathlib import Path

import keyring
import pytest

from secure_send.client import enrolment
from secure_send.client.keystore import KeyringStore, _is_real_backend
from secure_send.client.profile import OrgConfig, Profile
from secure_send.client.switches import SWITCHES, TEST_KEYSTORE_ENV
from secure_send.org import ops
from tests.client.conftest import org_server  # noqa: F401 - fixtures
from tests.directory_kit import HANAKO
from tests.server.conftest import Server

FROZEN_ENV = "SECURE_SEND_FROZEN"
BUNDLE = Path(os.environ[FROZEN_ENV]).resolve() if os.environ.get(FROZEN_ENV) else None

pytestmark = pytest.mark.skipif(
    BUNDLE is None,
    reason=f"set {FROZEN_ENV}=dist/secure-send (the PyInstaller bundle folder) to smoke-test it",
)


def frozen(
    *argv: str, env: dict[str, str] | None = None, exe: Path | None = None
) -> subprocess.CompletedProcess[str]:
    assert BUNDLE is not None
    return subprocess.run(
        [str(exe or BUNDLE / "secure-send"), *argv],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )


def bundle_version() -> str:
    proc = frozen("--version")
    assert proc.returncode == 0, proc.stderr
    name, version = proc.stdout.split()
    assert name == "secure-send"
    return version


@pytest.fixture
def os_keyring(monkeypatch: pytest.MonkeyPatch) -> keyring.backend.KeyringBackend:
    """The real OS key store this run was given (scripts/with-os-keyring.sh); no test
    switch set. A plaintext or in-memory keyring does not count."""
    for name in SWITCHES:
        monkeypatch.delenv(name, raising=False)
    backend = keyring.get_keyring()
    name = f"{type(backend).__module__}.{type(backend).__name__}"
    if not _is_real_backend(backend) or "SecretService" not in name:
        pytest.fail(f"no OS key store ({name}): run under scripts/with-os-keyring.sh")
    return backend


def test_version_and_self_test(os_keyring: keyring.backend.KeyringBackend) -> None:
    assert bundle_version() != "0+unknown"  # the package metadata is in the bundle
    proc = frozen("self-test", "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    assert report["ok"] is True
    checks = {c["name"]: c for c in report["checks"]}
    assert checks["version"]["detail"].endswith("(frozen bundle)")
    assert checks["key store"]["detail"] == "OS key store: keyring.backends.SecretService.Keyring"


def test_self_test_fails_while_a_test_switch_is_set(
    os_keyring: keyring.backend.KeyringBackend,
) -> None:
    proc = frozen("self-test", env={TEST_KEYSTORE_ENV: "1"})
    assert proc.returncode == 1
    assert "ok     key store: OS key store" in proc.stdout  # the switch is ignored...
    assert (  # ...and reported
        "FAILED test switches: test switch(es) set (ignored by this frozen build): "
        f"{TEST_KEYSTORE_ENV}" in proc.stdout
    )


def test_the_bill_of_materials_lists_the_bundle() -> None:
    """``make package`` writes dist/secure-send.cdx.json (packaging/sbom.py): CycloneDX,
    with the libraries the bundle holds at the versions it runs, each with the SHA-256 its
    lock accepts, and none of the drop server's (issue 14, item 18)."""
    assert BUNDLE is not None
    bom = json.loads((BUNDLE.parent / "secure-send.cdx.json").read_text(encoding="utf-8"))
    assert bom["bomFormat"] == "CycloneDX"
    assert bom["metadata"]["component"]["version"] == bundle_version()
    components = {c["name"]: c for c in bom["components"]}
    for name in ("pyside6-essentials", "shiboken6", "pynacl", "cryptography", "keyring"):
        assert components[name]["version"] == importlib.metadata.version(name), name
    assert components["pyside6-essentials"]["purl"].startswith("pkg:pypi/pyside6-essentials@")
    assert not {"fastapi", "starlette", "uvicorn", "pydantic", "ldap3"} & set(components)
    unlocked = [name for name, c in components.items() if not c.get("hashes")]
    assert not unlocked, f"in the bundle but in no lock file: {unlocked}"


def test_demo_is_refused_clearly() -> None:
    # the server is not in the desktop bundle (packaging/launcher.py)
    proc = frozen("demo")
    assert proc.returncode == 2
    assert "make demo" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_window_starts_offscreen(
    os_keyring: keyring.backend.KeyringBackend,
    org_server: Server,  # noqa: F811
    tmp_path: Path,
) -> None:
    # enrolled by the source tree's client against the test server, keys in the OS key
    # store; the frozen app then opens the same profile, shows its window and quits once
    # interactive. The test key store switch is set and must be ignored: the keys are
    # only in the OS key store, so the window shows only if the app reads them there.
    profile = Profile(tmp_path / "hanako").ensure()
    org = OrgConfig.from_json(ops.client_config(org_server.home, org_server.url))
    store = KeyringStore(profile)
    code = ops.issue_code(org_server.home, HANAKO)
    me, status = enrolment.enrol(profile, org, HANAKO, code, device_id="laptop", store=store)
    assert status == "enrolled"
    assert not profile.key_file.exists()
    try:
        proc = frozen(
            env={
                "SECURE_SEND_HOME": str(profile.path),
                TEST_KEYSTORE_ENV: "1",
                "SECURE_SEND_STARTUP_PROBE": "1",
                "QT_QPA_PLATFORM": "offscreen",
            }
        )
        assert proc.returncode == 0, proc.stderr
        assert "secure-send: interactive" in proc.stdout
        assert not profile.key_file.exists()  # no plain-file keys were made either
    finally:
        store.delete(me)


def dpkg_status(package: str) -> str:
    proc = subprocess.run(
        ["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True
    )
    return proc.stdout if proc.returncode == 0 else ""


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0, reason="installs a .deb: needs root"
)
@pytest.mark.skipif(shutil.which("dpkg") is None, reason="needs dpkg (Debian/Ubuntu)")
def test_deb_install_remove_purge() -> None:
    assert BUNDLE is not None
    if dpkg_status("secure-send") not in ("", "unknown ok not-installed"):
        pytest.skip("secure-send is installed on this machine; not touching a real install")
    deb = BUNDLE.parent / f"secure-send_{bundle_version()}_amd64.deb"
    assert deb.is_file(), f"no {deb}: run packaging/build_deb.sh (make package)"
    policy = Path("/etc/secure-send/policy.json")
    desktop = Path("/usr/share/applications/secure-send.desktop")
    try:
        run = subprocess.run(["dpkg", "-i", str(deb)], capture_output=True, text=True)
        assert run.returncode == 0, run.stdout + run.stderr
        assert dpkg_status("secure-send") == "install ok installed"

        proc = frozen("--version", exe=Path("/opt/secure-send/secure-send"))
        assert proc.stdout.startswith("secure-send "), proc.stderr
        assert Path("/usr/bin/secure-send").resolve() == Path("/opt/secure-send/secure-send")
        assert frozen("--version", exe=Path("/usr/bin/secure-send")).stdout == proc.stdout

        text = desktop.read_text(encoding="utf-8")
        assert "Exec=secure-send %F" in text
        assert "[Desktop Action SendSecurely]" in text
        assert "Name[ja]=安全に送信" in text
        assert "inode/directory;" in text
        assert Path("/usr/share/icons/hicolor/256x256/apps/secure-send.png").is_file()
        assert Path("/usr/share/nautilus-python/extensions/secure_send_nautilus.py").is_file()
        assert Path("/usr/share/kio/servicemenus/secure-send.desktop").is_file()
        assert json.loads(policy.read_text(encoding="utf-8"))["server_url"] is None

        # IT edits the policy: a conffile, so `dpkg -r` keeps it (edited), `dpkg -P` purges it
        policy.write_text('{"server_url": "https://ss.example.go.jp"}\n', encoding="utf-8")
        run = subprocess.run(["dpkg", "-r", "secure-send"], capture_output=True, text=True)
        assert run.returncode == 0, run.stdout + run.stderr
        assert not Path("/opt/secure-send").exists()
        assert not Path("/usr/bin/secure-send").exists()
        assert not desktop.exists()
        assert dpkg_status("secure-send") == "deinstall ok config-files"
        assert "ss.example.go.jp" in policy.read_text(encoding="utf-8")

        run = subprocess.run(["dpkg", "-P", "secure-send"], capture_output=True, text=True)
        assert run.returncode == 0, run.stdout + run.stderr
        assert not policy.exists()
        assert dpkg_status("secure-send") in ("", "unknown ok not-installed")
    finally:
        subprocess.run(["dpkg", "-P", "secure-send"], capture_output=True)
