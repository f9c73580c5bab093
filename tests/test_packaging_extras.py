"""Each role installs only what it needs (pyproject.toml's extras).

The base (``pip install secure-send``) is the domain core, the client library and the
``secure-send`` command line; ``[gui]`` adds the desktop app (Qt), ``[server]`` the drop
server (FastAPI, uvicorn), ``[admin]`` IT's tools (ldap3); ``[dev]`` is all of them and
the test tools. A server install must not pull in Qt, a desktop install no server or
LDAP library.

Checked three ways: the declared requirements themselves; every third-party
``import`` in the source (also those inside functions), which must be covered by the
base and the extra of the package's role; and importing every module of a role in a
fresh interpreter where the other roles' libraries cannot be imported.
"""

from __future__ import annotations

import ast
import importlib.metadata
import pkgutil
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import secure_send

REPO = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
PROJECT = PYPROJECT["project"]

QT = {"pyside6", "pyside6-essentials", "pyside6-addons", "shiboken6"}
SERVER = {"fastapi", "starlette", "uvicorn", "httptools", "uvloop"}
LDAP = {"ldap3"}

# package (under secure_send) -> the extras its role installs besides the base
ROLES: dict[str, tuple[str, ...]] = {
    "core": (),
    "client": (),
    "cli": (),
    "gui": ("gui",),
    "server": ("server",),
    "org": ("admin",),
    "admin": ("admin",),
    "demo": ("gui", "server", "admin"),  # `secure-send demo`: every role in one process
}

# Imports a package makes only inside a function that needs another role's extra, on
# purpose: the command line opens the desktop app (`secure-send` with no command), checks
# Qt in `self-test` (meant for the desktop bundle) and runs the demo; without the extra,
# that one command fails, the rest of the command line works.
LAZY_OTHER_ROLE = {
    ("secure_send/cli/selftest.py", "PySide6"),
}

# Imported directly, installed by a declared requirement (and versioned by it). Starlette
# and urllib3 are declared themselves now (floors above their advisories: issue 14, item
# 18); botocore is boto3's own half (boto3 pins its version range), imported by the S3
# store for its Config and exception classes.
PROVIDED_BY: dict[str, str] = {"botocore": "boto3"}
# under `if TYPE_CHECKING:` (mypy_boto3_s3: boto3's S3 stubs, a dev requirement)
TYPING_ONLY = {"_typeshed", "mypy_boto3_s3"}


def _name(requirement: str) -> str:
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    assert match, requirement
    return _normal(match.group(1))


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _extras_of(requirement: str) -> list[str]:
    match = re.match(r"\s*[A-Za-z0-9._-]+\s*\[([^\]]*)\]", requirement)
    return [e.strip() for e in match.group(1).split(",")] if match else []


def requirements(*extras: str) -> set[str]:
    """Normalised names of the distributions the base plus ``extras`` install,
    following the project's references to its own extras (``secure-send[gui]``)."""
    names = {_name(r) for r in PROJECT["dependencies"]}
    todo, seen = list(extras), set()
    while todo:
        extra = todo.pop()
        if extra in seen:
            continue
        seen.add(extra)
        for req in PROJECT["optional-dependencies"][extra]:
            if _name(req) == _normal(PROJECT["name"]):
                todo += _extras_of(req)
            else:
                names.add(_name(req))
    return names


def test_the_base_holds_no_qt_server_or_ldap_library() -> None:
    base = requirements()
    assert {"pynacl", "cryptography", "requests", "keyring", "platformdirs"} <= base
    assert not base & (QT | SERVER | LDAP), base


def test_the_gui_extra_is_qt_without_server_or_ldap() -> None:
    gui = requirements("gui")
    assert "pyside6-essentials" in gui
    assert not gui & (SERVER | LDAP), gui


def test_the_server_extra_has_no_qt_or_ldap() -> None:
    server = requirements("server")
    assert {"fastapi", "uvicorn", "httptools", "uvloop"} <= server
    assert not server & (QT | LDAP), server


def test_the_admin_extra_has_no_qt_or_server() -> None:
    admin = requirements("admin")
    assert "ldap3" in admin
    assert not admin & (QT | SERVER), admin


def test_dev_installs_every_role_and_the_test_tools() -> None:
    dev = requirements("dev")
    assert requirements("gui") | requirements("server") | requirements("admin") <= dev
    assert {"pytest", "pytest-qt", "mypy", "ruff", "httpx"} <= dev
    # the README's commands (`make demo`, `make test`) install exactly this extra, through
    # its lock (tests/packaging/test_lock_files.py checks the lock and the install lines)
    assert "--extra dev" in (REPO / "scripts" / "lock.sh").read_text(encoding="utf-8")


def test_the_installer_builds_install_the_desktop_role_only() -> None:
    """The Windows and macOS bundles are built from the base and ``[gui]``: no server."""
    lock = (REPO / "scripts" / "lock.sh").read_text(encoding="utf-8")
    assert re.search(r"lock-app\.txt pyproject\.toml requirements/app\.in --extra gui ", lock)


def test_the_roles_cover_every_package() -> None:
    packages = {m.name for m in pkgutil.iter_modules(secure_send.__path__)}
    assert packages == set(ROLES)


def _third_party_imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return {
        name
        for name in found
        if name not in sys.stdlib_module_names
        and name not in ("__future__", "secure_send")
        and name not in TYPING_ONLY
    }


def _distributions(module: str) -> set[str]:
    if module in PROVIDED_BY:
        return {PROVIDED_BY[module]}
    found = importlib.metadata.packages_distributions().get(module, [])
    assert found, f"no installed distribution provides {module!r}"
    return {_normal(d) for d in found}


def _sources(package: str) -> list[Path]:
    root = Path(secure_send.__path__[0])
    if (root / package).is_dir():
        return sorted((root / package).rglob("*.py"))
    return [root / f"{package}.py"]


@pytest.mark.parametrize("package", sorted(ROLES))
def test_every_third_party_import_is_installed_by_the_role(package: str) -> None:
    allowed = requirements(*ROLES[package])
    repo_root = Path(secure_send.__path__[0]).parent
    missing = [
        f"{path.relative_to(repo_root)}: {module}"
        for path in _sources(package)
        for module in sorted(_third_party_imports(path))
        if (path.relative_to(repo_root).as_posix(), module) not in LAZY_OTHER_ROLE
        and not _distributions(module) & allowed
    ]
    assert not missing, (
        f"imports that `pip install secure-send{_extras_text(package)}` does not install "
        "(declare them in pyproject.toml for this role):\n" + "\n".join(missing)
    )


def _extras_text(package: str) -> str:
    return f"[{','.join(ROLES[package])}]" if ROLES[package] else ""


def test_the_import_scan_sees_imports_inside_functions() -> None:
    """Guard against a vacuous scan: the self-test's lazy Qt import is found."""
    selftest = Path(secure_send.__path__[0]) / "cli" / "selftest.py"
    assert "PySide6" in _third_party_imports(selftest)
    assert _distributions("PySide6") & requirements("gui")
    assert not _distributions("PySide6") & requirements()


# top-level import names of the libraries each role must not need
QT_MODULES = ["PySide6", "shiboken6"]
SERVER_MODULES = ["fastapi", "starlette", "uvicorn", "httptools", "uvloop"]
BLOCKED = {
    "base": [*QT_MODULES, *SERVER_MODULES, "ldap3"],
    "gui": [*SERVER_MODULES, "ldap3"],
    "server": [*QT_MODULES, "ldap3"],
    "admin": [*QT_MODULES, *SERVER_MODULES],
}
IMPORTED_AS = {
    "base": ("secure_send.core", "secure_send.client", "secure_send.cli"),
    "gui": ("secure_send.gui",),
    "server": ("secure_send.server",),
    "admin": ("secure_send.admin", "secure_send.org"),
}


def _modules(prefix: str) -> list[str]:
    return [
        m.name
        for m in pkgutil.walk_packages(secure_send.__path__, "secure_send.")
        if m.name == prefix or m.name.startswith(prefix + ".")
    ]


@pytest.mark.parametrize("role", sorted(BLOCKED))
def test_every_module_of_a_role_imports_without_the_other_roles(role: str) -> None:
    modules = [m for p in IMPORTED_AS[role] for m in _modules(p)]
    assert modules
    code = (
        "import sys\n"
        + "".join(f"sys.modules[{b!r}] = None\n" for b in BLOCKED[role])
        + "".join(f"import {m}\n" for m in modules)
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
