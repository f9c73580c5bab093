"""Smoke tests of the frozen app (PyInstaller bundle) and of the Linux .deb.

Skipped unless ``SECURE_SEND_FROZEN`` names the bundle folder (``dist/secure-send``):
building takes minutes and PyInstaller is not a test dependency. After
``make package``::

    SECURE_SEND_FROZEN=dist/secure-send .venv/bin/pytest tests/packaging/test_frozen.py

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

import pytest

from tests.client.conftest import Enrol, enrol, org_server  # noqa: F401 - fixtures
from tests.directory_kit import HANAKO

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


def test_version_and_self_test() -> None:
    assert bundle_version() != "0+unknown"  # the package metadata is in the bundle
    proc = frozen("self-test", "--json", env={"SECURE_SEND_TEST_KEYSTORE": "1"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    assert report["ok"] is True
    assert {c["name"]: c for c in report["checks"]}["version"]["detail"].endswith("(frozen bundle)")


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


def test_window_starts_offscreen(enrol: Enrol) -> None:  # noqa: F811
    # enrolled with the source-tree CLI against the embedded test server; the frozen
    # app then opens the same profile, shows its window and quits once interactive
    person = enrol(HANAKO, "laptop")
    proc = frozen(
        env={
            "SECURE_SEND_HOME": str(person.home),
            "SECURE_SEND_TEST_KEYSTORE": "1",
            "SECURE_SEND_STARTUP_PROBE": "1",
            "QT_QPA_PLATFORM": "offscreen",
        }
    )
    assert proc.returncode == 0, proc.stderr
    assert "secure-send: interactive" in proc.stdout


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
