"""A real ClamAV daemon for the tests (Debian ``clamav-daemon``), started in a temporary
folder and stopped after; and a stand-in for Windows Defender's ``MpCmdRun.exe``.

No signatures are downloaded: the database is one hash signature made here with
``sigtool`` for the EICAR test file, the industry's harmless test "virus". The EICAR
string is assembled at run time, so this source file itself never trips a scanner.

Run as root (this machine), clamd drops to ``nobody``: it then cannot open the
person's 0600 files by name, as on a real install (clamd runs as ``clamav``), and
only ``clamdscan --fdpass`` lets it scan them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SIGNATURE = "SecureSend-Test-EICAR"
_EICAR_PARTS = ("X5O!P%@AP[4\\PZX54(P^)7CC)7}$", "EICAR-STANDARD-ANTIVIRUS-", "TEST-FILE!$H+H*")
EICAR = "".join(_EICAR_PARTS).encode()


@dataclass
class Clamd:
    """A running clamd: its configuration file (for ``clamdscan --config-file``)."""

    config: Path
    process: subprocess.Popen[bytes]
    socket: Path

    def stop(self) -> None:
        """Stop the daemon (SIGTERM, then wait)."""
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


def missing() -> str | None:
    """Why ClamAV cannot run here, or None."""
    absent = [name for name in ("clamd", "clamdscan", "sigtool") if _which(name) is None]
    if absent:
        return f"ClamAV is not installed ({', '.join(absent)}: apt-get install clamav-daemon)"
    return None


def _which(name: str) -> str | None:
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin")


@pytest.fixture
def clamd() -> Iterator[Clamd]:
    """A real clamd on a Unix socket in a temporary folder, knowing only EICAR."""
    reason = missing()
    if reason:
        pytest.skip(reason)
    folder = Path(tempfile.mkdtemp(prefix="clamd-"))
    try:
        daemon = _start(folder)
        try:
            yield daemon
        finally:
            daemon.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _start(folder: Path) -> Clamd:
    # readable by clamd's user (nobody, under root), which reads the database itself
    folder.chmod(0o755)
    db, run = folder / "db", folder / "run"
    db.mkdir(mode=0o755)
    run.mkdir(mode=0o755)
    sample = folder / "eicar.sample"
    sample.write_bytes(EICAR)
    made = subprocess.run(
        [str(_which("sigtool")), "--sha256", str(sample)], capture_output=True, check=True
    )
    digest, size, _name = made.stdout.decode().strip().split(":")
    (db / "test.hsb").write_text(f"{digest}:{size}:{SIGNATURE}\n")
    sample.unlink()
    lines = [
        "Foreground yes",
        f"LocalSocket {run / 'clamd.sock'}",
        f"DatabaseDirectory {db}",
        f"LogFile {run / 'clamd.log'}",
    ]
    if os.geteuid() == 0:
        os.chown(run, _nobody(), -1)  # the socket and log are made after the switch
        lines.append("User nobody")
    config = folder / "clamd.conf"
    config.write_text("\n".join(lines) + "\n")
    process = subprocess.Popen(
        [str(_which("clamd")), "-c", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    socket = run / "clamd.sock"
    deadline = time.monotonic() + 60
    while not socket.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            log = (run / "clamd.log").read_text() if (run / "clamd.log").exists() else ""
            raise RuntimeError(f"clamd did not start: {log[-2000:]}")
        time.sleep(0.05)
    return Clamd(config, process, socket)


def _nobody() -> int:
    import pwd

    return pwd.getpwnam("nobody").pw_uid


# Windows Defender's command-line scanner, as far as the client relies on it: the
# arguments it is given, exit 0 and "found no threats" for a clean file, exit 2 and the
# list of detected threats for EICAR, and an HRESULT exit code for a file it cannot read.
DEFENDER_STAND_IN = f"""#!{sys.executable}
import sys
from pathlib import Path

args = sys.argv[1:]
log = Path(__file__).with_suffix(".args")
log.write_text("\\n".join(args))
want = ["-Scan", "-ScanType", "3", "-File"]
if args[:4] != want or len(args) != 6 or args[5] != "-DisableRemediation":
    print("Invalid command line argument"); sys.exit(0x80070057 & 0xFF)
path = Path(args[4])
print("Scan starting...")
try:
    data = path.read_bytes()
except OSError:
    print("CmdTool: Failed with hr = 0x80508023. Check C:\\\\ProgramData\\\\...\\\\MpCmdRun.log")
    sys.exit(0x23)
print("Scan finished.")
if {EICAR!r} in data:
    print(f"Scanning {{path}} found 1 threats.")
    print("")
    print("<===========================LIST OF DETECTED THREATS==========================>")
    print("----------------------------- Threat information ------------------------------")
    print("Threat                  : Virus:DOS/EICAR_Test_File")
    print("Resources               : 1 total")
    print(f"    file                : {{path}}")
    print("-------------------------------------------------------------------------------")
    sys.exit(2)
print(f"Scanning {{path}} found no threats.")
sys.exit(0)
"""


def defender_stand_in(folder: Path) -> Path:
    """An executable ``MpCmdRun.exe`` stand-in in ``folder`` (it writes the arguments it
    got beside itself, ``MpCmdRun.args``)."""
    folder.mkdir(parents=True, exist_ok=True)
    exe = folder / "MpCmdRun.exe"
    exe.write_text(DEFENDER_STAND_IN)
    exe.chmod(0o755)
    return exe
