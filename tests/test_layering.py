"""The architecture's import rules, checked on the real modules.

core, cli, client, org, server, admin and the demo must work without Qt
(docs/architecture.md, "Layers"): we import every module of them in a fresh
interpreter where importing PySide6 fails, and core additionally may not pull in
networking libraries.

The drop server is untrusted (docs/security.md): it must not be able to reach the
organisation's keys, so ``secure_send.server`` imports nothing of the organisation
library, the admin tool, the client or the user interfaces; and the organisation
library (which runs on IT's side) imports nothing of the server or the interfaces.
Each rule is checked twice: by importing every module in a fresh interpreter where
the forbidden packages cannot be imported, and by reading every ``import`` statement
in the source (which also finds imports inside functions, run only later).
"""

from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import secure_send

QT_FREE_PACKAGES = (
    "secure_send.core",
    "secure_send.cli",
    "secure_send.server",
    "secure_send.client",
    "secure_send.admin",
    "secure_send.org",
    "secure_send.demo",
)

# package -> what it must never import (directly or through anything it imports)
FORBIDDEN = {
    "secure_send.server": (
        "secure_send.org",
        "secure_send.admin",
        "secure_send.client",
        "secure_send.gui",
        "secure_send.cli",
    ),
    "secure_send.org": ("secure_send.server", "secure_send.gui", "secure_send.cli"),
}


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


# ---------------------------------------------------------------- server / org rules


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_forbidden_packages_are_not_imported(package: str) -> None:
    """Importing every module of ``package`` works with the forbidden packages blocked."""
    result = _import_blocking(_modules(package), list(FORBIDDEN[package]))
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_forbidden_packages_are_not_loaded(package: str) -> None:
    """Nothing is silently skipped (an ``except ImportError``): after importing every
    module of ``package`` normally, no forbidden module is loaded at all."""
    result = _loaded_after(_modules(package), FORBIDDEN[package])
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_forbidden_import_statement_in_the_source(package: str) -> None:
    """Also imports inside functions (which the import checks above never run)."""
    found = [
        f"{path}:{line}: {name}"
        for path in _sources(package)
        for line, name in _imports(path.read_text(encoding="utf-8"), _module_of(path))
        if _under(name, FORBIDDEN[package])
    ]
    assert not found, "\n".join(found)


def _loaded_after(
    modules: list[str], forbidden: tuple[str, ...]
) -> subprocess.CompletedProcess[str]:
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in modules)
        + f"bad = sorted(m for m in sys.modules if any(m == f or m.startswith(f + '.') "
        f"for f in {forbidden!r}))\n" + "print(bad)\n" + "sys.exit(1 if bad else 0)\n"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)


def _sources(package: str) -> list[Path]:
    folder = Path(secure_send.__path__[0]).joinpath(*package.split(".")[1:])
    files = sorted(folder.rglob("*.py"))
    assert files, f"no source under {folder}"
    return files


def _module_of(path: Path) -> str:
    """The dotted name relative imports resolve against (``pkg.__init__`` for a package)."""
    root = Path(secure_send.__path__[0]).parent
    return ".".join(path.relative_to(root).with_suffix("").parts)


def _imports(source: str, module: str) -> list[tuple[int, str]]:
    """Every module an ``import`` / ``from … import`` names (relative ones resolved),
    with the names imported from it (``from secure_send import org`` is ``.org``)."""
    found = []
    package = module.split(".")
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join([*package[: len(package) - node.level], *filter(None, [base])])
            found.append((node.lineno, base))
            found += [(node.lineno, f"{base}.{a.name}") for a in node.names]
    return found


def _under(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def test_the_server_and_org_checks_can_fail() -> None:
    """Guard against vacuous server/org checks: each method finds a real violation
    (the demo runs an embedded server, so it imports the server) and a planted one."""
    assert _import_blocking(["secure_send.demo"], ["secure_send.server"]).returncode
    assert _loaded_after(["secure_send.demo"], ("secure_send.server",)).returncode
    planted = [
        "import secure_send.org.home",
        "from secure_send.org import ops",
        "from secure_send import org",
        "def later():\n    from ..org.signer import DirectorySigner",
    ]
    for source in planted:
        names = [n for _, n in _imports(source, "secure_send.server.routes")]
        assert _under_any(names, FORBIDDEN["secure_send.server"]), source
    allowed = "from secure_send.core import audit\nfrom . import routes\n"
    names = [n for _, n in _imports(allowed, "secure_send.server.app")]
    assert not _under_any(names, FORBIDDEN["secure_send.server"])


def _under_any(names: list[str], prefixes: tuple[str, ...]) -> bool:
    return any(_under(n, prefixes) for n in names)


def _endpoint_literals(path: Path) -> list[str]:
    """String literals (f-string parts included) that start an API path."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        f"{path.name}:{node.lineno}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and node.value.startswith("/v1/")
    ]


def test_only_the_api_module_builds_a_url() -> None:
    """Every endpoint is a method of ``client/api.py``: the GUI, the CLI, the demo and
    the directory signer call methods and never spell a path."""
    root = Path(secure_send.__file__).parent
    found = [
        hit
        for path in sorted(root.rglob("*.py"))
        if path != root / "client" / "api.py" and root / "server" not in path.parents
        for hit in _endpoint_literals(path)
    ]
    assert found == []
    assert _endpoint_literals(root / "client" / "api.py")  # the check sees f-strings


# The written matrix (docs/architecture.md, "Layers"): what each layer may import
# directly, besides itself. The demo (secure_send/demo/) assembles every piece and
# is outside the matrix. Checked on every import statement, including those inside
# functions; LAZY ones are allowed only there (the CLI opens the app or runs the demo
# when asked).
HTTP_API = (
    "secure_send.client.api",
    "secure_send.client.errors",
    "secure_send.client.server_policy",
)
LAYERS: dict[str, tuple[str, ...]] = {
    "secure_send.core": (),
    "secure_send.client": ("secure_send.core",),
    "secure_send.server": ("secure_send.core",),
    "secure_send.org": ("secure_send.core",),
    "secure_send.org.signer": ("secure_send.core", "secure_send.org", *HTTP_API),
    "secure_send.admin": ("secure_send.core", "secure_send.org", *HTTP_API),
    "secure_send.gui": ("secure_send.core", "secure_send.client"),
    "secure_send.cli": ("secure_send.core", "secure_send.client"),
}
LAZY = {"secure_send.cli": ("secure_send.gui", "secure_send.demo")}


def _layer(module: str) -> str | None:
    owners = [k for k in LAYERS if _under(module, (k,))]
    return max(owners, key=len) if owners else None


def _statements(source: str, module: str) -> list[tuple[int, str, bool]]:
    """(line, imported name, inside a function) for every import statement."""
    inner: set[int] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            inner |= {
                n.lineno for n in ast.walk(node) if isinstance(n, ast.Import | ast.ImportFrom)
            }
    return [(line, name, line in inner) for line, name in _imports(source, module)]


def _matrix_violations(path: Path, module: str, source: str) -> list[str]:
    layer = _layer(module)
    if layer is None:
        return []
    own = layer.rsplit(".", 1)[0] if layer == "secure_send.org.signer" else layer
    found = []
    statements = _statements(source, module)
    for line, name, lazy in statements:
        if not name.startswith("secure_send.") or _under(name, (own,)):
            continue
        if any(n.startswith(name + ".") for ln, n, _ in statements if ln == line):
            continue  # the package a ``from … import`` takes names from: judged by those
        allowed = LAYERS[layer] + (LAZY.get(layer, ()) if lazy else ())
        if not _under(name, allowed):
            found.append(f"{module}:{line} imports {name}")
    return found


def test_every_import_follows_the_written_matrix() -> None:
    violations = [
        v
        for path in _sources("secure_send")
        for v in _matrix_violations(path, _module_of(path), path.read_text(encoding="utf-8"))
    ]
    assert violations == []


def test_the_matrix_check_can_fail() -> None:
    """Planted violations are found; a lazy import of the app from the CLI is allowed."""
    here = Path("x.py")
    assert _matrix_violations(here, "secure_send.gui.x", "from secure_send.server import app")
    assert _matrix_violations(here, "secure_send.core.x", "import secure_send.client.api")
    assert _matrix_violations(here, "secure_send.org.home", "from secure_send.client import api")
    assert _matrix_violations(here, "secure_send.cli.x", "from secure_send.gui import app")
    lazy = "def main():\n    from secure_send.gui.app import main\n"
    assert not _matrix_violations(here, "secure_send.cli.x", lazy)
    assert not _matrix_violations(
        here, "secure_send.org.signer", "from secure_send.client import api"
    )


def test_the_tests_mirror_the_package() -> None:
    """A test lives under the folder of the package it tests (``tests/core/directory/``
    for ``secure_send/core/directory``); only project-wide checks sit at the top,
    and ``packaging`` tests the installers."""
    tests = Path(__file__).resolve().parent
    package = Path(secure_send.__path__[0])
    misplaced = []
    for path in sorted(tests.rglob("test_*.py")):
        folder = path.parent.relative_to(tests)
        if folder == Path("."):
            continue  # project-wide: docs, layering, error codes, extras
        if folder.parts[0] == "packaging":
            continue
        # the core's subpackages are mirrored too; elsewhere a subfolder is a topic
        # (tests/admin/ldap: the admin tool against a real slapd)
        depth = 2 if folder.parts[0] == "core" else 1
        if not package.joinpath(*folder.parts[:depth]).is_dir():
            misplaced.append(str(path.relative_to(tests)))
    assert misplaced == []
