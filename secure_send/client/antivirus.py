"""The platform's virus scanner, run on received files after decryption and before any
is revealed (issue 20): Microsoft Defender (``MpCmdRun.exe``) on Windows, ClamAV's
``clamdscan`` elsewhere.

The files are end-to-end encrypted, so no scanner on the way (mail gateway, proxy, the
drop server) can look inside: the recipient's device is the first place the plaintext
exists. Receiving decrypts every file into a hidden 0600 temporary file
(:class:`~secure_send.core.atomic.AtomicOutput`); :func:`check` scans those before the
names appear. IT's policy ``antivirus`` (:class:`~.policy.ItPolicy`) says what counts:

- ``off``: no scan (the default: a scanner is installed per machine);
- ``warn``: scan; a threat stops the drop; a scanner that is missing or fails lets the
  files be saved, and the person is told they were *not* scanned;
- ``block``: the same, but a scanner that cannot scan saves nothing (``scan_failed``).

A threat always saves nothing (``malware_found``), whatever the mode but ``off``.

The scanner runs as a program with an argument list (never a shell), so a file name can
never become a command; it is given the hidden temporary path, never the sender's name.
``clamdscan --fdpass`` hands clamd the open file: clamd runs as its own user, which cannot
open this person's 0600 files by name. Which clamd configuration / which Defender program
is used can be changed only by test switches (:mod:`.switches`): a frozen build always
uses the platform's own.

Qt-free, like the rest of :mod:`secure_send.client`.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from secure_send.client.approval_rules import ANTIVIRUS_MODES
from secure_send.client.errors import ClientError
from secure_send.client.switches import CLAMD_CONFIG_ENV, DEFENDER_ENV, honoured
from secure_send.core.error_codes import ErrorCode

TIMEOUT = 300.0  # seconds for one file: a scanner that hangs is a scanner that failed
MAX_THREAT = 100  # characters of a threat's name kept (shown to the person)
_THREAT_CHARS = re.compile(r"[^\x21-\x7e]")  # printable ASCII without space

Status = Literal["clean", "infected", "failed"]


@dataclass(frozen=True)
class Verdict:
    """One file's scan: ``clean``, ``infected`` (``detail``: the threat's name) or
    ``failed`` (``detail``: why, without the file's path)."""

    status: Status
    detail: str = ""

    @classmethod
    def clean(cls) -> Verdict:
        """Nothing found."""
        return cls("clean")

    @classmethod
    def infected(cls, threat: str) -> Verdict:
        """A threat, its name cut to :data:`MAX_THREAT` printable ASCII characters."""
        return cls("infected", _THREAT_CHARS.sub("_", threat)[:MAX_THREAT] or "unknown")

    @classmethod
    def failed(cls, why: str) -> Verdict:
        """The file could not be scanned."""
        return cls("failed", why)


class Scanner(Protocol):
    """A virus scanner."""

    @property
    def name(self) -> str:
        """``clamav`` or ``defender``: what the audit records."""
        ...

    def scan(self, path: Path) -> Verdict:
        """Scan one file."""
        ...


def _run(argv: list[str], timeout: float) -> subprocess.CompletedProcess[bytes] | Verdict:
    """Run a scanner, or the failed verdict when it cannot run or does not finish."""
    try:
        return subprocess.run(  # noqa: S603 - a fixed program and a list, never a shell
            argv, capture_output=True, stdin=subprocess.DEVNULL, timeout=timeout, check=False
        )
    except FileNotFoundError:
        return Verdict.failed(f"{Path(argv[0]).name} is not installed")
    except subprocess.TimeoutExpired:
        return Verdict.failed(f"{Path(argv[0]).name} gave no answer within {timeout:g} s")
    except OSError as err:
        return Verdict.failed(f"{Path(argv[0]).name} could not be run: {err.strerror}")


def _last_line(output: bytes, path: Path) -> str:
    """The scanner's last line of output, the file's path replaced (its hidden name holds
    the sender's file name, which goes nowhere but the person's own folder)."""
    lines = output.decode("utf-8", "replace").replace(str(path), "<file>").strip().splitlines()
    return lines[-1].strip()[:300] if lines else "no output"


@dataclass(frozen=True)
class ClamdScanner:
    """ClamAV's daemon through ``clamdscan --fdpass`` (exit 0 clean, 1 found, 2 error)."""

    executable: str = "clamdscan"
    config_file: str | None = None  # clamd.conf to read the socket from; None: the system's
    timeout: float = TIMEOUT
    name: str = "clamav"

    def scan(self, path: Path) -> Verdict:
        """Scan ``path`` (clamd reads it through the descriptor passed, not by name)."""
        argv = [self.executable, "--fdpass", "--no-summary", "--stdout"]
        if self.config_file:
            argv.append(f"--config-file={self.config_file}")
        path = path.absolute()  # what clamdscan prints back; never taken for an option
        ran = _run([*argv, str(path)], self.timeout)
        if isinstance(ran, Verdict):
            return ran
        if ran.returncode == 0:
            return Verdict.clean()
        if ran.returncode == 1:
            return Verdict.infected(_clamd_threat(ran.stdout.decode("utf-8", "replace"), path))
        why = _last_line(ran.stdout + ran.stderr, path)
        return Verdict.failed(f"clamdscan failed ({ran.returncode}): {why}")


def _clamd_threat(output: str, path: Path) -> str:
    """The signature name of ``<path>: <name> FOUND`` (the path may hold ': ')."""
    prefix = f"{path}: "
    found = [line[: -len(" FOUND")] for line in output.splitlines() if line.endswith(" FOUND")]
    for line in found:
        if line.startswith(prefix):
            return line[len(prefix) :]
    # printed under another spelling of the path: a signature name has no ": "
    return found[0].rsplit(": ", 1)[-1] if found else "unknown"


@dataclass(frozen=True)
class DefenderScanner:
    """Microsoft Defender's command-line scanner: a custom scan (type 3) of one file that
    leaves it where it is (``-DisableRemediation``: receiving deletes it itself);
    exit 0 clean, 2 threat, anything else an error."""

    executable: str
    timeout: float = TIMEOUT
    name: str = "defender"

    def scan(self, path: Path) -> Verdict:
        """Scan ``path``."""
        path = path.absolute()
        argv = [self.executable, "-Scan", "-ScanType", "3", "-File", str(path)]
        ran = _run([*argv, "-DisableRemediation"], self.timeout)
        if isinstance(ran, Verdict):
            return ran
        if ran.returncode == 0:
            return Verdict.clean()
        if ran.returncode == 2:
            return Verdict.infected(_defender_threat(ran.stdout.decode("utf-8", "replace")))
        why = _last_line(ran.stdout + ran.stderr, path)
        return Verdict.failed(f"MpCmdRun.exe failed ({ran.returncode:#x}): {why}")


def _defender_threat(output: str) -> str:
    """The first ``Threat : <name>`` of MpCmdRun's list of detected threats."""
    for line in output.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() == "Threat" and value.strip():
            return value.strip()
    return "unknown"


def defender_path(env: Mapping[str, str]) -> str:
    """Where Windows keeps ``MpCmdRun.exe``: ``%ProgramFiles%\\Windows Defender``, the
    Program Files folder read from the registry (the environment is the user's to change)."""
    program_files = _registry_program_files() or env.get("ProgramFiles") or r"C:\Program Files"
    return program_files.rstrip("\\") + r"\Windows Defender\MpCmdRun.exe"


def _registry_program_files() -> str | None:
    if sys.platform != "win32":
        return None
    import winreg

    try:
        with winreg.OpenKey(
            winreg.HKEY_LOCAL_MACHINE, r"SOFTWARE\Microsoft\Windows\CurrentVersion"
        ) as key:
            return str(winreg.QueryValueEx(key, "ProgramFilesDir")[0])
    except OSError:
        return None


def platform_scanner(env: Mapping[str, str] | None = None, platform: str = sys.platform) -> Scanner:
    """This machine's scanner: Defender on Windows, ClamAV elsewhere (a test switch may
    name a stand-in ``MpCmdRun.exe`` or a clamd configuration when running from source)."""
    env = os.environ if env is None else env
    stand_in = honoured(DEFENDER_ENV, env)
    if stand_in:
        return DefenderScanner(stand_in)
    if platform == "win32":
        return DefenderScanner(defender_path(env))
    return ClamdScanner(config_file=honoured(CLAMD_CONFIG_ENV, env))


class MalwareFound(ClientError):
    """The scanner found a threat in a received file; nothing of the drop was saved."""

    def __init__(self, scanner: str, threat: str) -> None:
        super().__init__(
            ErrorCode.MALWARE_FOUND,
            f"the virus scanner ({scanner}) found {threat} in a received file;"
            " nothing of this drop was saved; tell IT",
        )
        self.scanner = scanner
        self.threat = threat


def check(paths: Sequence[Path], mode: str, scanner: Callable[[], Scanner]) -> str | None:
    """Scan every file under policy ``mode``; None when all are clean (or the mode is
    ``off``), else why they were not scanned (``warn`` only: they may be saved).

    Every file is scanned even after one could not be: a threat in a later file must
    still stop the drop (and be reported as a threat, not as a failed scan).

    Raises:
        MalwareFound: a threat in any file (``malware_found``).
        ClientError: ``block`` and a file could not be scanned (``scan_failed``).
    """
    if mode == "off" or not paths:
        return None
    if mode not in ANTIVIRUS_MODES:  # the policy parser allows no other: fail closed
        mode = "block"
    chosen = scanner()
    failed: str | None = None
    for path in paths:
        verdict = chosen.scan(path)
        if verdict.status == "infected":
            raise MalwareFound(chosen.name, verdict.detail)
        if verdict.status == "failed":
            failed = failed or verdict.detail
    if failed is not None and mode == "block":
        raise ClientError(
            ErrorCode.SCAN_FAILED,
            f"the received files could not be scanned for viruses ({failed});"
            " policy requires it, so nothing was saved; tell IT",
        )
    return failed


__all__ = [
    "TIMEOUT",
    "ClamdScanner",
    "DefenderScanner",
    "MalwareFound",
    "Scanner",
    "Verdict",
    "check",
    "defender_path",
    "platform_scanner",
]
