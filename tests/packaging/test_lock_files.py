"""Every install goes through a hash-pinned lock file (issue 14, item 18).

``requirements/lock-*.txt`` (written by ``scripts/lock.sh``) pin every distribution a role
installs to one version and the SHA-256 of its artifacts; ``make setup`` and CI install
``lock-dev.txt``, ``make package`` and the Windows/macOS workflows ``lock-app.txt``, all
with ``pip install --require-hashes``, then the project itself with ``--no-deps``. Checked
here: each lock names every dependency pyproject.toml declares for its role, in range,
every entry carries a hash, the locks agree on versions, and the install commands use them.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import NamedTuple

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.test_packaging_extras import LDAP, QT, SERVER

REPO = Path(__file__).resolve().parents[2]
REQUIREMENTS = REPO / "requirements"
PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]

# lock -> (the extras it installs besides the base, its extra inputs in requirements/)
ROLES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "lock-dev.txt": (("dev",), ("setup.in",)),
    "lock-app.txt": (("gui",), ("app.in",)),
    "lock-server.txt": (("server",), ("setup.in",)),
    "lock-admin.txt": (("admin",), ("setup.in",)),
}
LOCKS = [REQUIREMENTS / name for name in ROLES]


class Pin(NamedTuple):
    version: str
    hashes: tuple[str, ...]


_ENTRY = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^\s;\\]+)")


def pins(lock: Path) -> dict[str, Pin]:
    """Normalised name -> its pin. Fails on any requirement that is not a hashed ``==`` pin."""
    found: dict[str, Pin] = {}
    # an entry is one logical line: the requirement and its hashes, joined by backslashes
    logical = re.sub(r"\\\n", " ", lock.read_text(encoding="utf-8"))
    for line in logical.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        entry = _ENTRY.match(line)
        assert entry, f"{lock.name}: not a pinned requirement: {line!r}"
        hashes = tuple(re.findall(r"--hash=sha256:([0-9a-f]{64})\b", line))
        name = canonicalize_name(entry["name"])
        assert hashes, f"{lock.name}: {name} has no --hash"
        assert len(hashes) == line.count("--hash="), f"{lock.name}: {name}: a non-SHA-256 hash"
        assert name not in found, f"{lock.name}: {name} twice"
        found[name] = Pin(entry["version"], hashes)
    return found


def declared(*extras: str) -> list[Requirement]:
    """The base's and ``extras``' requirements, following ``secure-send[...]``."""
    found = [Requirement(r) for r in PROJECT["dependencies"]]
    todo, seen = list(extras), set()
    while todo:
        extra = todo.pop()
        if extra in seen:
            continue
        seen.add(extra)
        for text in PROJECT["optional-dependencies"][extra]:
            requirement = Requirement(text)
            if canonicalize_name(requirement.name) == PROJECT["name"]:
                todo += sorted(requirement.extras)
            else:
                found.append(requirement)
    return found


def inputs(name: str) -> list[Requirement]:
    found = []
    for file in ROLES[name][1]:
        for line in (REQUIREMENTS / file).read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                found.append(Requirement(line))
    return found


@pytest.mark.parametrize("lock", LOCKS, ids=lambda p: p.name)
def test_every_entry_is_pinned_with_a_hash(lock: Path) -> None:
    assert len(pins(lock)) > 5  # parsed, not skipped: a lock of nothing would pass


@pytest.mark.parametrize("lock", LOCKS, ids=lambda p: p.name)
def test_the_lock_covers_what_pyproject_declares_in_range(lock: Path) -> None:
    pinned = pins(lock)
    wanted = [*declared(*ROLES[lock.name][0]), *inputs(lock.name)]
    missing = sorted(str(r) for r in wanted if canonicalize_name(r.name) not in pinned)
    assert not missing, f"{lock.name} lacks {missing}: run scripts/lock.sh"
    outside = sorted(
        f"{r.name}=={pinned[canonicalize_name(r.name)].version} (wants {r.specifier})"
        for r in wanted
        if not r.specifier.contains(pinned[canonicalize_name(r.name)].version, prereleases=True)
    )
    assert not outside, f"{lock.name} pins outside pyproject.toml: {outside}: run scripts/lock.sh"


def test_the_role_locks_take_the_dev_locks_versions() -> None:
    """The bundle and the hosts run what the tests ran (scripts/lock.sh's -c)."""
    dev = pins(REQUIREMENTS / "lock-dev.txt")
    for lock in LOCKS[1:]:
        differ = {
            name: (pin.version, dev[name].version)
            for name, pin in pins(lock).items()
            if name in dev and dev[name] != pin
        }
        assert not differ, (lock.name, differ)


def test_each_role_lock_holds_only_its_role() -> None:
    app = set(pins(REQUIREMENTS / "lock-app.txt"))
    server = set(pins(REQUIREMENTS / "lock-server.txt"))
    admin = set(pins(REQUIREMENTS / "lock-admin.txt"))
    assert "pyinstaller" in app
    assert not app & (SERVER | LDAP), app & (SERVER | LDAP)
    assert not server & (QT | LDAP), server & (QT | LDAP)
    assert not admin & (QT | SERVER), admin & (QT | SERVER)


def _pip_installs(text: str) -> list[str]:
    return [m.strip() for m in re.findall(r"pip install ([^\n]+)", text)]


def test_make_installs_only_from_the_locks() -> None:
    installs = _pip_installs((REPO / "Makefile").read_text(encoding="utf-8"))
    assert installs == [
        "-q --require-hashes -r requirements/lock-dev.txt",
        "-q --no-deps --no-build-isolation -e .",
        "-q --require-hashes -r requirements/lock-app.txt",
    ]
    # make setup reinstalls when the lock changes
    assert re.search(
        r"^\$\(STAMP\):.*requirements/lock-dev\.txt",
        (REPO / "Makefile").read_text(encoding="utf-8"),
        re.MULTILINE,
    )


@pytest.mark.parametrize("workflow", ["windows", "macos"])
def test_the_installer_workflows_install_from_the_app_lock(workflow: str) -> None:
    text = (REPO / ".github" / "workflows" / f"{workflow}.yml").read_text(encoding="utf-8")
    assert _pip_installs(text) == [
        "--require-hashes -r requirements/lock-app.txt",
        "--no-deps --no-build-isolation .",
    ]
