"""The server-side Debian packages, installed and removed with the real dpkg.

``packaging/build_server_deb.sh`` builds ``secure-send-server`` (the drop server and its
systemd unit) and ``secure-send-admin`` (IT's CLI and the directory signer's unit).
Skipped unless ``SECURE_SEND_SERVER_DEBS`` names the folder holding both (``dist``);
installing needs root and dpkg, and the test refuses to run where either package, its
user or its state folder already exists (it would not touch a real install)::

    packaging/build_server_deb.sh
    SECURE_SEND_SERVER_DEBS=dist .venv/bin/pytest tests/packaging/test_server_deb.py

No systemd runs as PID 1 here, so the server is started *as its unit would start it*:
ExecStart as the ``secure-send`` user with no capabilities, no_new_privs, the unit's
umask and LimitNOFILE, and the kernel's refusal of writable-and-executable memory
(``PR_SET_MDWE``, what ``MemoryDenyWriteExecute=`` asks for). The units themselves
are checked with ``systemd-analyze verify`` and ``security``.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import json
import os
import pwd
import re
import shutil
import socket
import stat
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.packaging.unit_harness import UNIT_ENV, as_the_unit, unit_settings
from tests.server.conftest import make_home

DEBS_ENV = "SECURE_SEND_SERVER_DEBS"
DEBS = Path(os.environ[DEBS_ENV]).resolve() if os.environ.get(DEBS_ENV) else None
PACKAGES = ("secure-send-server", "secure-send-admin")
USERS = ("secure-send", "secure-send-admin")
STATE = Path("/var/lib/secure-send")
ADMIN_STATE = Path("/var/lib/secure-send-admin")
ETC = Path("/etc/secure-send")
CONFIG = ETC / "server.toml"
UNITS = Path("/lib/systemd/system")
SERVER_UNIT = UNITS / "secure-send-server.service"
SIGNER_UNIT = UNITS / "secure-send-signer.service"
WANTS = Path("/etc/systemd/system/multi-user.target.wants/secure-send-server.service")
MAX_EXPOSURE = 2.0  # systemd-analyze security: 0 = fully locked down, 10 = none

pytestmark = [
    pytest.mark.skipif(DEBS is None, reason=f"set {DEBS_ENV}=dist after building the .debs"),
    pytest.mark.skipif(
        not hasattr(os, "geteuid") or os.geteuid() != 0, reason="installs .debs: needs root"
    ),
    pytest.mark.skipif(shutil.which("dpkg") is None, reason="needs dpkg (Debian/Ubuntu)"),
]


def version() -> str:
    return importlib.metadata.version("secure-send")


def deb(package: str) -> Path:
    assert DEBS is not None
    arch = subprocess.run(
        ["dpkg", "--print-architecture"], capture_output=True, text=True, check=True
    ).stdout.strip()
    path = DEBS / f"{package}_{version()}_{arch}.deb"
    assert path.is_file(), f"no {path}: run packaging/build_server_deb.sh"
    return path


def dpkg_status(package: str) -> str:
    proc = subprocess.run(
        ["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True
    )
    return proc.stdout if proc.returncode == 0 else ""


def not_installed(package: str) -> bool:
    return dpkg_status(package) in ("", "unknown ok not-installed")


def user_exists(name: str) -> bool:
    with contextlib.suppress(KeyError):
        pwd.getpwnam(name)
        return True
    return False


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"{argv}: {proc.stdout}{proc.stderr}"
    return proc


def owner_mode(path: Path) -> tuple[str, str, int]:
    st = path.stat()
    group = subprocess.run(
        ["getent", "group", str(st.st_gid)], capture_output=True, text=True
    ).stdout.split(":")[0]
    return pwd.getpwuid(st.st_uid).pw_name, group, stat.S_IMODE(st.st_mode)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get_json(url: str) -> dict[str, object]:
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback
        data: dict[str, object] = json.loads(response.read())
        return data


def clean_up() -> None:
    """Purge both packages and delete what purge keeps on purpose (the state folders,
    the users): every run leaves the shared machine as it found it."""
    subprocess.run(["dpkg", "-P", *PACKAGES], capture_output=True)
    for folder in (STATE, ADMIN_STATE):
        shutil.rmtree(folder, ignore_errors=True)
    for name in USERS:
        if user_exists(name):
            subprocess.run(["deluser", "--quiet", "--system", name], capture_output=True)
        subprocess.run(["delgroup", "--quiet", "--system", name], capture_output=True)


@pytest.fixture(scope="module")
def installed() -> Iterator[None]:
    """Both packages installed with dpkg -i (apt-get -f for missing dependencies)."""
    found = [p for p in PACKAGES if not not_installed(p)] + [u for u in USERS if user_exists(u)]
    found += [str(f) for f in (STATE, ADMIN_STATE, CONFIG) if f.exists()]
    if found:
        pytest.skip(f"already on this machine: {', '.join(found)}; not touching a real install")
    debs = [str(deb(p)) for p in PACKAGES]
    try:
        proc = subprocess.run(["dpkg", "-i", *debs], capture_output=True, text=True)
        if proc.returncode != 0:  # e.g. python3 missing: let apt bring it, then configure
            run("apt-get", "-f", "install", "-y", "-qq", "--no-install-recommends")
        assert all(dpkg_status(p) == "install ok installed" for p in PACKAGES), proc.stderr
        yield
    finally:
        clean_up()


def test_files_owners_and_modes(installed: None) -> None:
    for command in ("secure-send-server", "secure-send-admin"):
        path = Path("/usr/bin") / command
        assert owner_mode(path) == ("root", "root", 0o755)
        assert path.read_text(encoding="utf-8").startswith("#!/usr/bin/python3 -IS\n")
        # Debian's python3 runs the pinned wheels: the right version, no venv or pip
        assert run(str(path), "--help").stdout.startswith(f"usage: {command}")
    lib = Path("/opt/secure-send-server/lib")
    assert (lib / "fastapi").is_dir()
    assert (lib / "secure_send" / "server").is_dir()
    assert not (lib / "pip").exists()
    assert not (lib / "bin").exists()
    assert not (Path("/opt/secure-send-admin/lib") / "fastapi").exists()  # admin: no server
    assert (Path("/opt/secure-send-admin/lib") / "ldap3").is_dir()

    for name in USERS:
        entry = pwd.getpwnam(name)
        assert entry.pw_uid < 1000
        assert entry.pw_shell == "/usr/sbin/nologin"
    assert owner_mode(STATE) == ("secure-send", "secure-send", 0o700)
    assert owner_mode(ADMIN_STATE) == ("secure-send-admin", "secure-send-admin", 0o700)
    assert owner_mode(ETC) == ("root", "root", 0o755)  # shared with the desktop package
    assert owner_mode(ETC / "secrets") == ("root", "secure-send", 0o750)
    assert owner_mode(CONFIG) == ("root", "root", 0o644)  # no secrets in it
    conffiles = run("dpkg-query", "-W", "-f=${Conffiles}", "secure-send-server").stdout
    assert str(CONFIG) in conffiles
    config = CONFIG.read_text(encoding="utf-8")
    assert 'home = "/var/lib/secure-send"' in config
    assert "\n# [database]\n" in config
    assert "\n# [storage]\n" in config

    # enabled at install (starts at boot once the folder is there); the signer is not
    assert os.readlink(WANTS) == str(SERVER_UNIT)
    assert not Path(
        "/etc/systemd/system/multi-user.target.wants/secure-send-signer.service"
    ).exists()
    depends = run("dpkg-query", "-W", "-f=${Depends}", "secure-send-server").stdout
    assert re.search(r"python3 \(>= 3\.\d+\), python3 \(<< 3\.\d+\)", depends), depends


def test_units_verify_and_score(installed: None) -> None:
    proc = subprocess.run(
        ["systemd-analyze", "verify", str(SERVER_UNIT), str(SIGNER_UNIT)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert not proc.stderr.strip(), proc.stderr  # no warning either
    for unit in (SERVER_UNIT, SIGNER_UNIT):
        out = run("systemd-analyze", "security", "--offline=yes", str(unit)).stdout
        score = float(re.findall(r"Overall exposure level for \S+: ([\d.]+)", out)[0])
        print(f"{unit.name}: exposure {score}")
        assert score <= MAX_EXPOSURE, out
    # what the brief for the unit asks, as the installed file says it
    server = unit_settings(SERVER_UNIT)
    wanted = {
        "User": "secure-send",
        "ExecStart": "/usr/bin/secure-send-server --config /etc/secure-send/server.toml",
        "StateDirectory": "secure-send",
        "StateDirectoryMode": "0700",
        "ReadWritePaths": "/var/lib/secure-send",
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "NoNewPrivileges": "yes",
        "LimitNOFILE": "65536",
        "CapabilityBoundingSet": "",
        "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
        "MemoryDenyWriteExecute": "yes",
        "Restart": "on-failure",
    }
    assert {key: server.get(key) for key in wanted} == wanted
    signer = unit_settings(SIGNER_UNIT)
    for key in ("NoNewPrivileges", "CapabilityBoundingSet", "ProtectSystem", "UMask"):
        assert signer[key] == server[key], key
    text = SERVER_UNIT.read_text(encoding="utf-8")
    assert "\nExecStart=/usr/bin/secure-send-server --config /etc/secure-send/server.toml\n" in text
    assert "\nCapabilityBoundingSet=\n" in text
    assert "\nUser=secure-send\n" in text


def test_server_runs_as_its_unit_and_the_signer_reaches_it(installed: None, tmp_path: Path) -> None:
    # The unit is skipped, not failed, until IT has copied the folder in
    condition = "ConditionPathExists=/var/lib/secure-send/directory/anchor.json"
    assert f"\n{condition}\n" in SERVER_UNIT.read_text(encoding="utf-8")
    assert (
        subprocess.run(["systemd-analyze", "condition", condition], capture_output=True).returncode
        != 0
    )

    # IT's side: the organisation home, owned by the signer's user where its unit looks
    home, _keys = make_home(tmp_path / "org")
    org = ADMIN_STATE / "org"
    shutil.copytree(home.path, org)
    run("chown", "-R", "secure-send-admin:secure-send-admin", str(org))
    # the server's folder, as docs/deployment.md says (server-home, copy, chown)
    made = tmp_path / "server-folder"
    run("/usr/bin/secure-send-admin", "--home", str(org), "server-home", "--to", str(made))
    run("cp", "-a", f"{made}/.", str(STATE))
    run("chown", "-R", "secure-send:secure-send", str(STATE))
    assert (
        subprocess.run(["systemd-analyze", "condition", condition], capture_output=True).returncode
        == 0
    )

    # IT edits the conffile (a free port: the CI machine is shared)
    port = free_port()
    CONFIG.write_text(
        CONFIG.read_text(encoding="utf-8").replace("\nport = 8080\n", f"\nport = {port}\n"),
        encoding="utf-8",
    )
    url = f"http://127.0.0.1:{port}"

    # the harness really refuses writable+executable memory (else this proves nothing)
    wx = "import mmap; mmap.mmap(-1, 4096, prot=mmap.PROT_WRITE | mmap.PROT_EXEC)"
    probe = subprocess.run(
        as_the_unit(SERVER_UNIT, "/usr/bin/python3", "-c", wx),
        capture_output=True,
        text=True,
        env=UNIT_ENV,
    )
    assert probe.returncode != 0
    assert "PermissionError" in probe.stderr, probe.stderr

    server = subprocess.Popen(
        as_the_unit(SERVER_UNIT),
        env=UNIT_ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, server.communicate()[0]
            with contextlib.suppress(OSError):
                health = get_json(f"{url}/v1/health")
                break
            assert time.monotonic() < deadline, "the installed server did not answer"
            time.sleep(0.3)
        assert health == {"status": "ok"}
        # it serves the directory IT copied in (anonymous: a PC asks before it enrols)
        assert get_json(f"{url}/v1/directory/head")
        status = Path(f"/proc/{server.pid}/status").read_text(encoding="utf-8")
        uid = pwd.getpwnam("secure-send").pw_uid
        assert re.search(rf"^Uid:\s+{uid}\s+{uid}\s", status, re.M), status
        assert re.search(r"^CapBnd:\s+0+$", status, re.M)
        assert re.search(r"^NoNewPrivs:\s+1$", status, re.M)
        # its state, made by the service user with the unit's umask
        assert owner_mode(STATE / "server" / "meta.sqlite")[:2] == ("secure-send", "secure-send")
        assert owner_mode(STATE / "server" / "meta.sqlite")[2] & 0o077 == 0

        # the signer, as its unit runs it but for one round (`sync`, not `signer`): its
        # requests are signed with the key server-home pinned in the folder, which the
        # server reads despite --config
        exec_start = unit_settings(SIGNER_UNIT)["ExecStart"].split()
        assert exec_start[-1] == "signer"
        assert exec_start[exec_start.index("--home") + 1] == str(org)
        signer = subprocess.run(
            as_the_unit(SIGNER_UNIT, *exec_start[:-1], "--json", "sync", "--server", url),
            env=UNIT_ENV,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert signer.returncode == 0, signer.stdout + signer.stderr
        assert "requests" in json.loads(signer.stdout)
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def test_remove_keeps_config_and_state_purge_keeps_state(installed: None) -> None:
    STATE.joinpath("keep-me").write_text("ciphertext\n", encoding="utf-8")
    CONFIG.write_text(CONFIG.read_text(encoding="utf-8") + "# edited by IT\n", encoding="utf-8")
    secret = ETC / "secrets" / "db-password"
    secret.write_text("x\n", encoding="utf-8")
    run("dpkg", "-r", *PACKAGES)
    for package in PACKAGES:
        assert dpkg_status(package) == "deinstall ok config-files"
    for gone in (
        "/opt/secure-send-server",
        "/opt/secure-send-admin",
        "/usr/bin/secure-send-server",
        "/usr/bin/secure-send-admin",
        str(SERVER_UNIT),
        str(SIGNER_UNIT),
    ):
        assert not Path(gone).exists(), gone
    assert "# edited by IT" in CONFIG.read_text(encoding="utf-8")
    assert (STATE / "keep-me").is_file()

    secret.unlink()  # IT's own files there would be left alone; an empty folder goes
    run("dpkg", "-P", *PACKAGES)
    assert all(not_installed(p) for p in PACKAGES)
    assert not CONFIG.exists()
    assert not (ETC / "secrets").exists()
    assert not WANTS.exists()
    assert not WANTS.is_symlink()
    assert "/etc/secure-send/secrets" not in run("dpkg-statoverride", "--list").stdout
    # kept by purge on purpose: the ciphertext, database and audit log, and the users
    assert (STATE / "keep-me").is_file()
    assert all(user_exists(name) for name in USERS)
    for left in ("/opt/secure-send-server", "/opt/secure-send-admin"):
        assert not Path(left).exists()
    assert not list(Path("/usr/bin").glob("secure-send-*"))


def deb_files(path: Path) -> set[str]:
    """The paths a .deb installs, directories left out (dpkg shares those)."""
    listing = run("dpkg-deb", "--contents", str(path)).stdout.splitlines()
    return {line.split()[5].removeprefix(".") for line in listing if not line.startswith("d")}


def test_no_file_is_shared_with_the_desktop_package() -> None:
    """All three may be installed on one machine: dpkg refuses two packages that ship
    the same file, so none may (in CI, `make package` built the desktop .deb beside)."""
    assert DEBS is not None
    desktop = sorted(DEBS.glob(f"secure-send_{version()}_*.deb"))
    if not desktop:
        pytest.skip(f"no desktop .deb in {DEBS} (make package)")
    files = {p: deb_files(deb(p)) for p in PACKAGES}
    desktop_files = deb_files(desktop[0])
    assert "/usr/bin/secure-send" in desktop_files  # the listing is read right
    assert "/usr/bin/secure-send-server" in files["secure-send-server"]
    for package, paths in files.items():
        assert not paths & desktop_files, package
    assert not files["secure-send-server"] & files["secure-send-admin"]
