"""The desktop bundle's bill of materials generator, packaging/sbom.py (issue 14, item 18).

Run against this environment's real installed distributions and the real lock files;
the bundle's own document (``dist/secure-send.cdx.json``) is checked by
tests/packaging/test_frozen.py after ``make package``.
"""

from __future__ import annotations

import datetime
import importlib.metadata
import importlib.util
import json
import uuid
from pathlib import Path

import cryptography
import nacl
import requests

REPO = Path(__file__).resolve().parents[2]
LOCK_APP = REPO / "requirements" / "lock-app.txt"
LOCK_DEV = REPO / "requirements" / "lock-dev.txt"

# packaging/ is not a package: PyInstaller's spec imports it by path, and so do we
_spec = importlib.util.spec_from_file_location("sbom", REPO / "packaging" / "sbom.py")
assert _spec is not None
assert _spec.loader is not None
sbom = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(sbom)


def test_a_component_is_the_distribution_owning_a_bundled_file() -> None:
    found = sbom.bundled_distributions(
        [
            Path(nacl.__file__),
            Path(cryptography.__file__).parent / "__about__.py",
            Path(requests.__file__),
            Path(json.__file__),  # the standard library: no distribution
            REPO / "packaging" / "sbom.py",  # no distribution's RECORD lists it
        ]
    )
    assert found == {
        "pynacl": importlib.metadata.version("PyNaCl"),
        "cryptography": importlib.metadata.version("cryptography"),
        "requests": importlib.metadata.version("requests"),
    }


def test_the_lock_hashes_are_read_per_pinned_version() -> None:
    hashes = sbom.lock_hashes(LOCK_APP.read_text(encoding="utf-8"))
    nacl_version = importlib.metadata.version("PyNaCl")
    assert len(hashes["pynacl", nacl_version]) > 1  # one per wheel and the sdist
    assert all(len(h) == 64 for hashes_ in hashes.values() for h in hashes_)
    assert any(name == "pyinstaller" for name, _version in hashes)
    # an entry's hashes are its own: the next pin's do not run into it
    text = "a==1 \\\n    --hash=sha256:" + "1" * 64 + "\n    # via b\nb==2 \\\n"
    text += "    --hash=sha256:" + "2" * 64 + " \\\n    --hash=sha256:" + "3" * 64 + "\n"
    assert sbom.lock_hashes(text) == {
        ("a", "1"): ["1" * 64],
        ("b", "2"): ["2" * 64, "3" * 64],
    }


def test_the_document_is_cyclonedx_with_the_app_as_its_subject() -> None:
    serial = uuid.UUID(int=7)
    now = datetime.datetime(2026, 1, 2, 3, 4, 5, 678, tzinfo=datetime.UTC)
    bom = sbom.document(
        "1.2.3",
        {"secure-send": "1.2.3", "pynacl": "1.6.2", "keyring": "25.7.0"},
        {("pynacl", "1.6.2"): ["a" * 64], ("pynacl", "1.6.1"): ["b" * 64]},
        serial=serial,
        now=now,
    )
    assert bom["bomFormat"] == "CycloneDX"
    assert bom["specVersion"] == "1.5"
    assert bom["serialNumber"] == serial.urn
    assert bom["metadata"]["timestamp"] == "2026-01-02T03:04:05Z"
    assert bom["metadata"]["component"]["purl"] == "pkg:pypi/secure-send@1.2.3"
    assert bom["components"] == [
        {
            "type": "library",
            "bom-ref": "pkg:pypi/keyring@25.7.0",
            "name": "keyring",
            "version": "25.7.0",
            "purl": "pkg:pypi/keyring@25.7.0",
        },
        {
            "type": "library",
            "bom-ref": "pkg:pypi/pynacl@1.6.2",
            "name": "pynacl",
            "version": "1.6.2",
            "purl": "pkg:pypi/pynacl@1.6.2",
            "hashes": [{"alg": "SHA-256", "content": "a" * 64}],
        },
    ]
    assert bom["dependencies"] == [
        {
            "ref": "pkg:pypi/secure-send@1.2.3",
            "dependsOn": ["pkg:pypi/keyring@25.7.0", "pkg:pypi/pynacl@1.6.2"],
        }
    ]


def test_write_lists_the_bundled_files_distributions_with_the_locks_hashes(
    tmp_path: Path,
) -> None:
    out = tmp_path / "dist" / "secure-send.cdx.json"
    listed = sbom.write(out, "0.1.0", [Path(nacl.__file__)], [LOCK_APP, LOCK_DEV])
    bom = json.loads(out.read_text(encoding="utf-8"))
    assert listed == 1
    (component,) = bom["components"]
    assert component["name"] == "pynacl"
    assert component["version"] == importlib.metadata.version("PyNaCl")
    locked = sbom.lock_hashes(LOCK_APP.read_text(encoding="utf-8"))["pynacl", component["version"]]
    assert [h["content"] for h in component["hashes"]] == locked
