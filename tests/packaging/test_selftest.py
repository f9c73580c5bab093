"""``secure-send self-test``: in-process through ``main`` and as a real subprocess.

With a real OS key store every check passes: in a subprocess, GNOME Keyring on a
private D-Bus session (``scripts/with-os-keyring.sh``); in-process, a keyring
backend held in memory (what the check looks at is only which backend keyring
would use). Without one, on this headless machine (keyring's ``fail`` backend),
the key store check fails with the clear message and the other checks still run
and pass. While a test switch is set (issue 14, item 6) self-test fails, even
though a frozen build ignores the switch.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import keyring.backend
import keyring.backends.fail
import pytest

from secure_send.cli.main import main
from secure_send.client.keystore import NO_KEYRING_MESSAGE
from secure_send.client.switches import SWITCHES, TEST_KEYSTORE_ENV

CHECKS = ["crypto", "key store", "test switches", "qt", "version"]
WITH_OS_KEYRING = Path(__file__).resolve().parents[2] / "scripts" / "with-os-keyring.sh"


def run_in_process(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["self-test", *argv])
    return code, out.getvalue(), err.getvalue()


def by_name(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in report["checks"]}


class MemoryKeyring(keyring.backend.KeyringBackend):
    """Stands in for an OS key store in this process (self-test stores nothing)."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.items[service, username] = password

    def delete_password(self, service: str, username: str) -> None:
        self.items.pop((service, username), None)


@contextlib.contextmanager
def using(backend: keyring.backend.KeyringBackend) -> Iterator[None]:
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    try:
        yield
    finally:
        keyring.set_keyring(previous)


@pytest.fixture
def no_switches(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SWITCHES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def os_keyring(no_switches: None) -> Iterator[None]:
    with using(MemoryKeyring()):
        yield


@pytest.fixture
def no_os_keyring(no_switches: None) -> Iterator[None]:
    """keyring's ``fail`` backend, as on a machine without an OS key store (set here,
    not assumed: another test or the machine may have set a different one)."""
    with using(keyring.backends.fail.Keyring()):  # type: ignore[no-untyped-call]
        yield


def test_all_checks_pass_with_an_os_keyring(os_keyring: None) -> None:
    code, out, err = run_in_process("--json")
    report = json.loads(out)
    assert code == 0, (out, err)
    assert report["ok"] is True
    assert [c["name"] for c in report["checks"]] == CHECKS
    checks = by_name(report)
    assert checks["key store"]["detail"] == f"OS key store: {__name__}.MemoryKeyring"
    assert checks["test switches"]["detail"].startswith("none set")
    assert "secure_send_ja.qm" in checks["qt"]["detail"]
    assert checks["version"]["detail"].startswith("secure-send ")


def test_human_output_lists_every_check(os_keyring: None) -> None:
    code, out, _ = run_in_process()
    assert code == 0
    lines = out.splitlines()
    assert [line.split(":")[0].split(maxsplit=1)[1] for line in lines[:-1]] == CHECKS
    assert all(line.startswith("ok ") for line in lines[:-1])
    assert lines[-1] == "all checks passed"


@pytest.mark.parametrize("switch", SWITCHES)
def test_a_test_switch_fails_the_self_test(
    switch: str, os_keyring: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # issue 14, item 6: "all checks passed" while a switch was set hid it from IT
    monkeypatch.setenv(switch, "1" if switch == TEST_KEYSTORE_ENV else "/tmp/mine.json")
    code, out, err = run_in_process()
    assert code == 1
    assert f"FAILED test switches: test switch(es) set (in effect): {switch};" in out
    assert out.splitlines()[-1] == "self-test FAILED"
    assert "test switches" in err
    if switch == TEST_KEYSTORE_ENV:  # and the key store it selects is no key store
        assert "FAILED key store: test key store (plain file" in out


def test_a_frozen_build_reports_an_ignored_switch(
    os_keyring: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setenv(TEST_KEYSTORE_ENV, "1")
    code, out, _ = run_in_process("--json")
    checks = by_name(json.loads(out))
    assert code == 1
    assert checks["key store"]["ok"] is True  # ignored: the OS key store is used
    assert checks["test switches"]["ok"] is False
    assert "(ignored by this frozen build)" in checks["test switches"]["detail"]


def test_without_os_keyring_only_the_keystore_check_fails(no_os_keyring: None) -> None:
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


def subprocess_env(fail_backend: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SWITCHES}
    if fail_backend:  # as on a machine without an OS key store, whatever this one has
        env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    return env


@pytest.mark.skipif(
    shutil.which("gnome-keyring-daemon") is None or shutil.which("dbus-run-session") is None,
    reason="needs gnome-keyring and dbus (scripts/system-packages.sh)",
)
def test_subprocess_passes_with_a_real_os_keyring() -> None:
    proc = subprocess.run(
        [str(WITH_OS_KEYRING), sys.executable, "-m", "secure_send.cli.main", "self-test", "--json"],
        env=subprocess_env(fail_backend=False),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    assert report["ok"] is True
    assert by_name(report)["key store"]["detail"].endswith("SecretService.Keyring")


def test_subprocess_fails_clearly_without_keyring() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "secure_send.cli.main", "self-test"],
        env=subprocess_env(fail_backend=True),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1
    assert "FAILED key store: no secure key store (OS keyring)" in proc.stdout
    assert "ok     crypto" in proc.stdout
    assert proc.stdout.splitlines()[-1] == "self-test FAILED"
