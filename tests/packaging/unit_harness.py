"""Run a command the way an installed systemd unit would, without systemd as PID 1
(tests/packaging/test_server_deb.py): the unit's user, umask, file limit and W^X
setting, no capabilities and no_new_privs."""

from __future__ import annotations

from pathlib import Path

# Runs as root, sets what the unit asks for that a plain runuser would not, then drops to
# the service user: the kernel's W^X refusal (kept across exec), the umask, the file
# limit, and setpriv for the user, no_new_privs and an empty capability bounding set.
AS_THE_UNIT = """
import ctypes, os, resource, sys
user, umask, nofile, mdwe, *argv = sys.argv[1:]
PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN = 65, 1
libc = ctypes.CDLL(None, use_errno=True)
if mdwe == "yes" and libc.prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0):
    sys.exit("PR_SET_MDWE failed: errno %d" % ctypes.get_errno())
os.umask(int(umask, 8))
# LimitNOFILE=, or this container's hard limit if lower (no CAP_SYS_RESOURCE here)
limit = min(int(nofile), resource.getrlimit(resource.RLIMIT_NOFILE)[1])
resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))
os.execvp("setpriv", ["setpriv", "--reuid", user, "--regid", user, "--init-groups",
    "--no-new-privs", "--inh-caps=-all", "--bounding-set=-all", "--", *argv])
"""
UNIT_ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"}  # systemd's


def unit_settings(unit: Path) -> dict[str, str]:
    """The ``[Service]`` settings of an installed unit file (the last of a key wins)."""
    settings: dict[str, str] = {}
    section = ""
    for line in unit.read_text(encoding="utf-8").splitlines():
        if line.startswith("["):
            section = line
        elif section == "[Service]" and "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            settings[key] = value
    return settings


def as_the_unit(unit: Path, *argv: str) -> list[str]:
    """``argv`` (default: the unit's ExecStart) run the way ``unit`` runs it: its user,
    umask, file limit and W^X setting; no capabilities and no_new_privs, which the test
    of the units checks they ask for."""
    unit_set = unit_settings(unit)
    command = list(argv) or unit_set["ExecStart"].split()
    return [
        "/usr/bin/python3",
        "-I",
        "-c",
        AS_THE_UNIT,
        unit_set["User"],
        unit_set["UMask"],
        unit_set.get("LimitNOFILE", "1024"),
        unit_set.get("MemoryDenyWriteExecute", "no"),
        *command,
    ]
