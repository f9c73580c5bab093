"""The desktop bundle's bill of materials: a CycloneDX 1.5 JSON of what PyInstaller put in it.

``packaging/secure_send.spec`` calls :func:`write` after its analysis with every file the
bundle takes (modules, extension modules, shared libraries, data); ``make package`` so
leaves ``dist/secure-send.cdx.json`` beside ``dist/secure-send/`` (issue 14, item 18).

A component is an installed distribution (``importlib.metadata``) one of whose files is
in the bundle, found through the distribution's ``RECORD``, not through its name, so a
library that PyInstaller left out (the drop server's, the spec's ``excludes``) is not
listed and a library pulled in without being declared is. Its ``hashes`` are the SHA-256
that the lock files (``requirements/lock-app.txt``, then ``lock-dev.txt``: ``make
package`` builds in the dev environment) accept for that exact version: the artifact pip
installed is one of them. A component without hashes came from no lock. Files from no
distribution (the Python standard library, the interpreter, system libraries) are not
components.

Standard library only: it runs inside PyInstaller's spec and in the tests.
"""

from __future__ import annotations

import datetime
import importlib.metadata
import json
import re
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path

SPEC_VERSION = "1.5"


def normalise(name: str) -> str:
    """PEP 503's name: how the lock file and package URLs spell a distribution."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _owners() -> dict[Path, importlib.metadata.Distribution]:
    """Every installed file (resolved) -> the distribution whose RECORD lists it."""
    owners: dict[Path, importlib.metadata.Distribution] = {}
    for dist in importlib.metadata.distributions():
        for file in dist.files or ():
            owners.setdefault(Path(str(dist.locate_file(file))).resolve(), dist)
    return owners


def bundled_distributions(paths: Iterable[str | Path]) -> dict[str, str]:
    """Normalised name -> version of the installed distributions owning any of ``paths``."""
    owners = _owners()
    found: dict[str, str] = {}
    for path in paths:
        dist = owners.get(Path(path).resolve())
        if dist is not None:
            found[normalise(dist.metadata["Name"])] = dist.version
    return found


_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")
_HASH = re.compile(r"--hash=sha256:([0-9a-f]{64})")


def lock_hashes(lock_text: str) -> dict[tuple[str, str], list[str]]:
    """(normalised name, version) -> the SHA-256 a ``--generate-hashes`` lock accepts."""
    hashes: dict[tuple[str, str], list[str]] = {}
    current: list[str] | None = None
    for line in lock_text.splitlines():
        pin = _PIN.match(line)
        if pin:
            current = hashes.setdefault((normalise(pin.group(1)), pin.group(2)), [])
        elif not line.startswith((" ", "\t")):
            current = None  # a comment or blank line ends the entry
        if current is not None:
            current += _HASH.findall(line)
    return hashes


def document(
    app_version: str,
    components: Mapping[str, str],
    hashes: Mapping[tuple[str, str], list[str]],
    *,
    serial: uuid.UUID | None = None,
    now: datetime.datetime | None = None,
) -> dict[str, object]:
    """The CycloneDX document: the app as the subject, each bundled distribution a library."""
    app = {
        "type": "application",
        "bom-ref": f"pkg:pypi/secure-send@{app_version}",
        "name": "secure-send",
        "version": app_version,
        "purl": f"pkg:pypi/secure-send@{app_version}",
    }
    libraries = []
    for name, version in sorted(components.items()):
        if name == "secure-send":
            continue  # the subject, above
        purl = f"pkg:pypi/{name}@{version}"
        library: dict[str, object] = {
            "type": "library",
            "bom-ref": purl,
            "name": name,
            "version": version,
            "purl": purl,
        }
        if hashes.get((name, version)):
            library["hashes"] = [{"alg": "SHA-256", "content": h} for h in hashes[name, version]]
        libraries.append(library)
    stamp = now or datetime.datetime.now(datetime.UTC)
    return {
        "bomFormat": "CycloneDX",
        "specVersion": SPEC_VERSION,
        "serialNumber": (serial or uuid.uuid4()).urn,
        "version": 1,
        "metadata": {
            "timestamp": stamp.replace(microsecond=0).isoformat().replace("+00:00", "Z"),
            "tools": {"components": [{"type": "application", "name": "packaging/sbom.py"}]},
            "component": app,
        },
        "components": libraries,
        "dependencies": [
            {"ref": app["bom-ref"], "dependsOn": [str(c["bom-ref"]) for c in libraries]}
        ],
    }


def write(out: Path, app_version: str, bundled: Iterable[str | Path], locks: Iterable[Path]) -> int:
    """Write the bundle's CycloneDX JSON to ``out``; returns how many libraries it lists."""
    components = bundled_distributions(bundled)
    hashes: dict[tuple[str, str], list[str]] = {}
    for lock in locks:
        for pin, accepted in lock_hashes(lock.read_text(encoding="utf-8")).items():
            hashes.setdefault(pin, accepted)
    bom = document(app_version, components, hashes)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(bom, indent=2) + "\n", encoding="utf-8")
    return len([name for name in components if name != "secure-send"])
