"""MACs and codes are compared in constant time (``hmac.compare_digest``), never with ``==``.

Replacing ``compare_digest`` by ``==`` changes no result, so no behavioural test can
catch it; this reads the source instead: no ``==``/``!=`` whose operand is named as a
MAC, tag or code MAC, and the places that check secrets keep calling
``compare_digest``. (Public values — Merkle roots, header hashes, the audit chain —
may be compared plainly: their timing reveals nothing.)
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import secure_send

ROOT = Path(secure_send.__path__[0])
SECRET = re.compile(r"(^|_)(mac|macs|tag|tags|hmac|code_mac|mac_key)$", re.IGNORECASE)
# where a secret is checked: the module and the function that must use compare_digest
CHECKS = [
    ("core/age/header.py", "verify_mac"),
    ("core/directory/enrol.py", "code_matches"),
]


def _name(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Call):
        return _name(node.func)
    return ""


def plain_secret_compares(source: str) -> list[int]:
    """Lines comparing a MAC-named value with ``==``/``!=``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare) and any(
            isinstance(op, ast.Eq | ast.NotEq) for op in node.ops
        ):
            names = [_name(n) for n in (node.left, *node.comparators)]
            if any(SECRET.search(n) for n in names if n):
                found.append(node.lineno)
    return found


def test_no_mac_is_compared_with_equals() -> None:
    found = {
        str(p.relative_to(ROOT)): lines
        for p in sorted(ROOT.rglob("*.py"))
        if (lines := plain_secret_compares(p.read_text(encoding="utf-8")))
    }
    assert found == {}


@pytest.mark.parametrize(("module", "function"), CHECKS)
def test_secret_checks_call_compare_digest(module: str, function: str) -> None:
    tree = ast.parse((ROOT / module).read_text(encoding="utf-8"))
    defs = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == function]
    assert defs, f"{module} has no {function}"
    calls = [_name(n) for n in ast.walk(defs[0]) if isinstance(n, ast.Call)]
    assert "compare_digest" in calls


def test_the_scan_finds_a_plain_compare() -> None:
    assert plain_secret_compares("ok = compute_mac(k, s) == header.mac\n") == [1]
    assert plain_secret_compares("if tag != expected_tag: pass\n") == [1]
    assert plain_secret_compares("same = log.root() == header.log_root\n") == []
