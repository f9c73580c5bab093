"""``secure-send self-test``: in-process through ``main`` and as a real subprocess.

With the test key store every check passes; without it, on this headless machine
(keyring's ``fail`` backend) the key store check fails with the clear message and
the other checks still run and pass.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from typing import Any

import keyring
import keyring.backends.fail
import pytest

from secure_send.cli.main import main
from secure_send.client.keystore import NO_KEYRING_MESSAGE, TEST_KEYSTORE_ENV

CHECKS = ["crypto", "key store", "qt", "version"]


def run_in_process(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["self-test", *argv])
    return code, out.getvalue(), err.getvalue()


def by_name(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in report["checks"]}


def test_all_checks_pass_with_test_keystore(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TEST_KEYSTORE_ENV, "1")
    code, out, err = run_in_process("--json")
    report = json.loads(out)
    assert code == 0, (out, err)
    assert report["ok"] is True
    assert [c["name"] for c in report["checks"]] == CHECKS
    checks = by_name(report)
    assert checks["key store"]["detail"].startswith("test key store (file)")
    assert "secure_send_ja.qm" in checks["qt"]["detail"]
    assert checks["version"]["detail"].startswith("secure-send ")


def test_human_output_lists_every_check(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TEST_KEYSTORE_ENV, "1")
    code, out, _ = run_in_process()
    assert code == 0
    lines = out.splitlines()
    assert [line.split(":")[0].split(maxsplit=1)[1] for line in lines[:-1]] == CHECKS
    assert all(line.startswith("ok ") for line in lines[:-1])
    assert lines[-1] == "all checks passed"


@pytest.fixture
def no_os_keyring() -> Any:
    """keyring's ``fail`` backend, as on a machine without an OS key store (set here,
    not assumed: another test or the machine may have set a different one)."""
    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())  # type: ignore[no-untyped-call]
    yield
    keyring.set_keyring(previous)


def test_without_os_keyring_only_the_keystore_check_fails(
    monkeypatch: pytest.MonkeyPatch, no_os_keyring: None
) -> None:
    monkeypatch.delenv(TEST_KEYSTORE_ENV, raising=False)
    code, out, err = run_in_process("--json")
    report = json.loads(out)
    assert code == 1
    assert report["ok"] is False
    checks = by_name(report)
    assert checks["key store"]["ok"] is False
    assert NO_KEYRING_MESSAGE in checks["key store"]["detail"]
    assert "keyring.backends.fail" in checks["key store"]["detail"]
    assert all(checks[n]["ok"] for n in CHECKS if n != "key store")
    assert "self-test failed: key store" in err


def subprocess_env(test_keystore: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != TEST_KEYSTORE_ENV}
    if test_keystore:
        env[TEST_KEYSTORE_ENV] = "1"
    else:  # as on a machine without an OS key store, whatever this one has
        env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    return env


def test_subprocess_passes_with_test_keystore() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "secure_send.cli.main", "self-test", "--json"],
        env=subprocess_env(test_keystore=True),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["ok"] is True


def test_subprocess_fails_clearly_without_keyring() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "secure_send.cli.main", "self-test"],
        env=subprocess_env(test_keystore=False),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1
    assert "FAILED key store: no secure key store (OS keyring)" in proc.stdout
    assert "ok     crypto" in proc.stdout
    assert proc.stdout.splitlines()[-1] == "self-test FAILED"
