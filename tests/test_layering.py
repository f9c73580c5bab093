"""The architecture's import rules, checked on the real modules.

core, cli, client, server and admin must work without Qt (design §2, style.md):
we import every module below them in a fresh interpreter where importing
PySide6 fails, and core additionally may not pull in networking libraries.
"""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import secure_send

QT_FREE_PACKAGES = (
    "secure_send.core",
    "secure_send.cli",
    "secure_send.server",
    "secure_send.client",
    "secure_send.admin",
    "secure_send.demo",
)


def _modules(prefix: str) -> list[str]:
    names = [
        m.name
        for m in pkgutil.walk_packages(secure_send.__path__, "secure_send.")
        if m.name == prefix or m.name.startswith(prefix + ".")
    ]
    assert names, f"no modules found under {prefix}"
    return names


def _import_blocking(modules: list[str], blocked: list[str]) -> subprocess.CompletedProcess[str]:
    code = (
        "import sys\n"
        + "".join(f"sys.modules[{b!r}] = None\n" for b in blocked)
        + "".join(f"import {m}\n" for m in modules)
        + f"bad = [m for m in {blocked!r} if sys.modules.get(m) is not None]\n"
        + "sys.exit(1 if bad else 0)\n"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)


def test_core_and_cli_import_without_qt() -> None:
    modules = [m for p in QT_FREE_PACKAGES for m in _modules(p)]
    result = _import_blocking(modules, ["PySide6"])
    assert result.returncode == 0, result.stderr


def test_core_imports_no_network_or_server_code() -> None:
    result = _import_blocking(
        _modules("secure_send.core"), ["PySide6", "requests", "fastapi", "uvicorn"]
    )
    assert result.returncode == 0, result.stderr


def test_blocking_really_blocks() -> None:
    """Guard against a vacuous check: importing a blocked module must fail."""
    result = _import_blocking(["json"], ["json"])
    assert result.returncode != 0
