"""The declared dependencies stay above the releases with known advisories (issue 14, item 18).

pyproject.toml's floors are what pip honours wherever the lock files (requirements/) are
not used: a server host's ``pip install 'secure-send[server]'``, a developer's own venv.
Each advisory below names the last vulnerable release; the role that installs the library
must declare it directly, with a specifier that refuses that release and admits the fix,
and every lock must pin a fixed release. Raising a floor: add its row here.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import NamedTuple

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.packaging.test_lock_files import LOCKS, pins

REPO = Path(__file__).resolve().parents[2]


class Advisory(NamedTuple):
    name: str  # distribution, normalised
    extra: str  # "" for the base
    vulnerable: str  # the last release the advisory affects
    fixed: str  # the first release without it
    advisory: str


ADVISORIES = [
    Advisory("requests", "", "2.32.3", "2.32.4", "CVE-2024-47081 (.netrc credentials leak)"),
    Advisory("urllib3", "", "2.6.2", "2.6.3", "CVE-2026-21441 (decompression bomb)"),
    Advisory("pynacl", "", "1.6.1", "1.6.2", "CVE-2025-69277 (libsodium point check)"),
    Advisory("cryptography", "", "46.0.4", "47", "CVE-2026-26007 (subgroup check)"),
    Advisory("starlette", "server", "0.49.0", "0.49.1", "CVE-2025-62727 (Range header DoS)"),
    Advisory("h11", "server", "0.15.0", "0.16.0", "CVE-2025-43859 (chunked smuggling)"),
    Advisory("pyside6-essentials", "gui", "6.9.1", "6.10", "CVE-2025-5992 (QtGui)"),
]


def declared(extra: str) -> dict[str, Requirement]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    listed = project["optional-dependencies"][extra] if extra else project["dependencies"]
    requirements = (Requirement(r) for r in listed)
    return {canonicalize_name(r.name): r for r in requirements}


@pytest.mark.parametrize("advisory", ADVISORIES, ids=lambda a: a.name)
def test_the_role_declares_a_floor_above_the_advisory(advisory: Advisory) -> None:
    requirement = declared(advisory.extra).get(advisory.name)
    assert requirement is not None, (
        f"{advisory.name} is not declared in {advisory.extra or 'the base'}: its floor "
        f"would be whatever another library allows ({advisory.advisory})"
    )
    assert not requirement.specifier.contains(advisory.vulnerable, prereleases=True), (
        f"{requirement} admits {advisory.vulnerable}: {advisory.advisory}"
    )
    assert requirement.specifier.contains(advisory.fixed, prereleases=True), requirement


@pytest.mark.parametrize("lock", LOCKS, ids=lambda p: p.name)
def test_the_locks_pin_fixed_releases(lock: Path) -> None:
    pinned = pins(lock)
    below = {
        a.name: (pinned[a.name].version, a.advisory)
        for a in ADVISORIES
        if a.name in pinned and Version(pinned[a.name].version) < Version(a.fixed)
    }
    assert not below, f"{lock.name} pins releases with advisories: {below}"


def test_the_server_extra_still_pins_uvicorn() -> None:
    # http_protocol.py overrides uvicorn's internals: the pin is load-bearing, not a floor
    uvicorn = declared("server")["uvicorn"]
    assert str(uvicorn.specifier) in ("<0.56,>=0.55", ">=0.55,<0.56"), uvicorn
