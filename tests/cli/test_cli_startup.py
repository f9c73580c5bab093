"""What ``secure-send`` imports to start: each command only what it needs.

``age`` starts in a millisecond and ``secure-send encrypt`` is used the same way,
so the age commands must not pay for the client stack (``requests``), Qt or the
modules dropped from their path for start-up time. Checked by running the real
entry point in a fresh interpreter and reading ``sys.modules`` afterwards; no
timing is asserted here (benchmarks/ measures it).
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from secure_send.cli import main as cli_main
from tests.cli.cli_kit import _person

# Never on the path of keygen/encrypt/decrypt: the client stack, Qt, the server.
HEAVY = (
    "requests",
    "urllib3",
    "secure_send.client",
    "secure_send.gui",
    "secure_send.server",
    "secure_send.cli.client_commands",
    "PySide6",
    "fastapi",
)
# Left out of the age commands on purpose, each for a few ms of start-up:
# concurrent.futures brings logging, dataclasses brings inspect, and
# importlib.metadata is only for --version (and then only as a fallback).
TRIMMED = ("concurrent.futures", "dataclasses", "inspect", "logging", "importlib.metadata")

_PROBE = """
import json, sys
sys.argv = ["secure-send", *json.loads(sys.argv[1])]
from secure_send.cli.main import main
try:
    code = main()
except SystemExit as done:
    code = done.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}), file=sys.stderr)
"""


def _modules_after(*argv: str, stdin: bytes = b"") -> set[str]:
    """Run ``secure-send ARGV`` in a fresh interpreter: the modules it had loaded."""
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(argv)],
        input=stdin,
        capture_output=True,
        check=False,
        timeout=60,
    )
    report = json.loads(proc.stderr.decode().strip().splitlines()[-1])
    assert report["code"] in (0, None), proc.stderr.decode()
    return set(report["modules"])


def _loaded(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules for n in names if m == n or m.startswith(n + "."))


@pytest.fixture
def keys(tmp_path: Path) -> tuple[Path, str]:
    person = _person(tmp_path, "me")
    return person.identity_file, person.recipient


def test_keygen_loads_neither_the_client_nor_the_cipher(tmp_path: Path) -> None:
    modules = _modules_after("keygen", "-o", str(tmp_path / "key.txt"))
    assert _loaded(modules, HEAVY + TRIMMED) == []
    # keys only: the payload cipher is not needed to make an identity
    assert "secure_send.core.age.stream" not in modules


def test_encrypt_and_decrypt_load_only_the_age_stack(
    tmp_path: Path, keys: tuple[Path, str]
) -> None:
    identity, recipient = keys
    plain = tmp_path / "plain.bin"
    plain.write_bytes(b"x" * (3 << 20))  # several tasks: the threaded path runs
    sealed = tmp_path / "sealed.age"
    modules = _modules_after("encrypt", "-r", recipient, "-o", str(sealed), str(plain))
    assert _loaded(modules, HEAVY + TRIMMED) == []
    modules = _modules_after(
        "decrypt", "-i", str(identity), "-o", str(tmp_path / "opened"), str(sealed)
    )
    assert _loaded(modules, HEAVY + TRIMMED) == []
    assert (tmp_path / "opened").read_bytes() == plain.read_bytes()


def test_encrypt_through_pipes_loads_only_the_age_stack(keys: tuple[Path, str]) -> None:
    _, recipient = keys
    modules = _modules_after("encrypt", "-a", "-r", recipient, stdin=b"hello")
    assert _loaded(modules, HEAVY + TRIMMED) == []


@pytest.mark.parametrize("argv", [["--version"], ["--help"]])
def test_version_and_help_import_no_command(argv: list[str]) -> None:
    modules = _modules_after(*argv)
    commands = ("secure_send.cli.age_commands", "secure_send.cli.selftest")
    assert _loaded(modules, HEAVY + commands + ("secure_send.core.age",)) == []


def test_help_lists_every_command_with_its_help() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "secure_send.cli.main", "--help"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    listed = " ".join(proc.stdout.split())  # help lines may wrap
    for name, (_, help_text) in cli_main.COMMANDS.items():
        assert f" {name} " in listed, name
        assert " ".join(help_text.split()) in listed, name


def test_the_lazy_parser_parses_like_the_full_one(tmp_path: Path) -> None:
    """Building one command's parser gives the same answer as building them all."""
    samples = [
        ["encrypt", "-r", "age1x", "-a", "-o", "out", "in"],
        ["decrypt", "-i", "k1", "-i", "k2", "-f", "in"],
        ["keygen", "-y", "id.txt"],
        ["receive", "DROP", "-o", str(tmp_path), "--json"],
        ["send", "a.txt", "--to", "x", "--expires", "3d"],
        ["directory", "search", "田中"],
        ["devices", "ack", "pc"],
        ["self-test", "--json"],
    ]
    full = cli_main.build_parser()
    for argv in samples:
        lazy = cli_main.build_parser([argv[0]], list_all=False)
        assert vars(lazy.parse_args(argv)) == vars(full.parse_args(argv)), argv


def test_every_command_has_a_module_that_configures_it() -> None:
    parser = cli_main.build_parser()  # imports every command module: none may be missing
    (sub,) = [a for a in parser._actions if a.dest == "command"]
    assert list(sub.choices) == list(cli_main.COMMANDS)  # type: ignore[arg-type]


@pytest.mark.skipif(not hasattr(fcntl, "F_GETPIPE_SZ"), reason="pipe sizes are Linux's")
def test_pipes_on_stdin_and_stdout_are_widened(keys: tuple[Path, str]) -> None:
    """A 64 KiB pipe costs ~16 process switches per MiB; the age commands ask for 1 MiB."""
    _, recipient = keys
    in_r, in_w = os.pipe()
    out_r, out_w = os.pipe()
    try:
        os.write(in_w, b"hello")
        os.close(in_w)
        proc = subprocess.run(
            [sys.executable, "-m", "secure_send.cli.main", "encrypt", "-a", "-r", recipient],
            stdin=in_r,
            stdout=out_w,
            check=True,
            timeout=60,
        )
        assert proc.returncode == 0
        assert fcntl.fcntl(in_r, fcntl.F_GETPIPE_SZ) == 1024 * 1024
        assert fcntl.fcntl(out_r, fcntl.F_GETPIPE_SZ) == 1024 * 1024
        assert os.read(out_r, 100).startswith(b"-----BEGIN AGE ENCRYPTED FILE-----")
    finally:
        for fd in (in_r, out_r, out_w):
            os.close(fd)
