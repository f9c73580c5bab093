"""The client test kit: a real server on 127.0.0.1 for an organisation of eight people
and a role mailbox, and people enrolled through ``secure-send enrol`` with their own
profiles (``SECURE_SEND_HOME``), driven through the CLI in-process with ``--json``.

Keys live in the test key store (``SECURE_SEND_TEST_KEYSTORE=1``): no OS keyring
exists on this headless machine.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from secure_send.cli.main import main
from secure_send.client.keystore import FileKeyStore
from secure_send.client.profile import Profile
from secure_send.client.session import Session
from secure_send.core.directory.enrol import DeviceKeys
from secure_send.org import ops
from secure_send.org.importing import ImportRow
from tests.directory_kit import OPERATOR, org_rows, person_row
from tests.server.conftest import Server, running_server, server_config, signer_process

EXTRA = [
    ("ichiro.tanaka", "田中 一郎", "タナカ イチロウ", "Ichiro Tanaka", "企画課"),
    ("saburo.ito", "伊藤 三郎", "イトウ サブロウ", "Saburo Ito", "企画課"),
    ("yoko.watanabe", "渡辺 洋子", "ワタナベ ヨウコ", "Yoko Watanabe", "広報課"),
    ("kenji.yamamoto", "山本 健二", "ヤマモト ケンジ", "Kenji Yamamoto", "情報政策課"),
    ("mika.nakamura", "中村 美香", "ナカムラ ミカ", "Mika Nakamura", "情報政策課"),
]


def rows() -> list[ImportRow]:
    """The directory kit's organisation plus five more people."""
    extra = [person_row(10 + i, *fields) for i, fields in enumerate(EXTRA)]
    return [*org_rows(), *extra]


@dataclass
class Person:
    """One person's profile on this machine, driven through the CLI."""

    home: Path
    user: str
    device: str
    monkeypatch: pytest.MonkeyPatch

    def run(self, *argv: str, stdin: str = "") -> tuple[int, Any, str]:
        """Exit code, parsed ``--json`` output (or None), stderr."""
        code, text, err = self.run_human(*argv, "--json", stdin=stdin)
        return code, (json.loads(text) if code == 0 and text else None), err

    def run_human(self, *argv: str, stdin: str = "") -> tuple[int, str, str]:
        """Exit code, stdout as people read it, stderr."""
        self.monkeypatch.setenv("SECURE_SEND_HOME", str(self.home))
        self.monkeypatch.setenv("SECURE_SEND_TEST_KEYSTORE", "1")
        self.monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(list(argv))
        return code, out.getvalue().strip(), err.getvalue()

    def ok(self, *argv: str, stdin: str = "") -> Any:
        """Run and expect success; the JSON output."""
        code, data, err = self.run(*argv, stdin=stdin)
        assert code == 0, err
        return data

    def fails(self, *argv: str) -> str:
        """Run and expect failure; stderr."""
        code, _, err = self.run(*argv)
        assert code == 1, err
        return err


@pytest.fixture
def org_server(tmp_path: Path) -> Iterator[Server]:
    """The real server over a fresh eight-person organisation (nobody enrolled), and the
    real directory signer beside it (``secure-send-admin signer``, its own process)."""
    from secure_send.org.home import OrgHome

    home = OrgHome(tmp_path / "org")
    ops.init(home, "テスト省", roots=3, threshold=2)
    ops.import_rows(home, rows(), OPERATOR)
    config = server_config(home, port=0)
    with (
        running_server(home, DeviceKeys.generate(), config) as server,
        signer_process(home, server.url),
    ):
        yield server


Enrol = Callable[[str, str], Person]


@pytest.fixture
def enrol(org_server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Enrol:
    """``enrol(user, device)``: a new profile enrolled with a one-time code from IT."""
    config = tmp_path / "org-config.json"
    config.write_text(json.dumps(ops.client_config(org_server.home, org_server.url)))

    def make(user: str, device: str) -> Person:
        person = Person(tmp_path / "profiles" / f"{user}-{device}", user, device, monkeypatch)
        code = ops.issue_code(org_server.home, user)
        argv = ("enrol", "--org-config", str(config), "--user", user, "--device", device)
        assert person.ok(*argv, stdin=code + "\n")["status"] == "enrolled"
        return person

    return make


def enrol_without_p256(
    enrol: Enrol, monkeypatch: pytest.MonkeyPatch, user: str, device: str
) -> Person:
    """``enrol(user, device)`` as a version before issue 21 did: the device has no P-256
    key (its key-add comes at its next start, which the caller has not made yet)."""
    with monkeypatch.context() as old:
        fresh = DeviceKeys.generate

        def without_p256() -> DeviceKeys:
            keys = fresh()
            return DeviceKeys(keys.signing, keys.encryption)

        old.setattr(DeviceKeys, "generate", without_p256)
        return enrol(user, device)


def open_session(person: Person) -> Session:
    """A person's profile opened as the app and the CLI do (keys from the test key store);
    the caller closes it."""
    profile = Profile(person.home)
    return Session.open(profile, FileKeyStore(profile))


def blob_files(server: Server) -> list[Path]:
    """Every stored ciphertext file on the server (finished blobs)."""
    return [p for p in (server.config.state_dir / "blobs").rglob("*") if p.is_file()]
