"""The embedded stores, the configuration file and the command line."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from secure_send.server import cli
from secure_send.server.config import ConfigError, ServerConfig, load_config
from secure_send.server.storage import (
    MIGRATIONS,
    FolderBlobStore,
    SqliteMetadataStore,
    StorageError,
)

BLOB = "AbCdEfGhIjKlMnOp_-12"


def test_sqlite_is_wal_and_migrated(tmp_path: Path) -> None:
    store = SqliteMetadataStore(tmp_path / "meta.sqlite")
    assert store.schema_version() == len(MIGRATIONS)
    store.close()
    again = SqliteMetadataStore(tmp_path / "meta.sqlite")  # migrations are not re-applied
    assert again.schema_version() == len(MIGRATIONS)
    again.close()
    db = sqlite3.connect(tmp_path / "meta.sqlite")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("SELECT COUNT(*) FROM schema_version").fetchone()[0] == len(MIGRATIONS)
    db.close()


def test_nonces_remembered_until_expiry(tmp_path: Path) -> None:
    store = SqliteMetadataStore(tmp_path / "meta.sqlite")
    assert store.remember_nonce("a/b", "n" * 22, expires=100, now=0)
    assert not store.remember_nonce("a/b", "n" * 22, expires=100, now=50)
    assert store.remember_nonce("a/c", "n" * 22, expires=100, now=50)  # per key id
    assert store.remember_nonce("a/b", "n" * 22, expires=300, now=101)  # purged after expiry
    store.close()


def test_blob_paths_only_from_valid_ids(tmp_path: Path) -> None:
    blobs = FolderBlobStore(tmp_path / "blobs")
    blobs.write(BLOB, b"ciphertext")
    assert blobs.read(BLOB) == b"ciphertext"
    assert blobs.path_for(BLOB).parent.parent == blobs.root
    blobs.delete(BLOB)
    with pytest.raises(StorageError):
        blobs.read(BLOB)
    for bad in ("../../etc/passwd", "..", "a/b" * 8, "short", "x" * 65, "abc.def.ghi.jklmnop", ""):
        with pytest.raises(StorageError):
            blobs.path_for(bad)


def test_config_defaults_and_file(tmp_path: Path) -> None:
    config = load_config(tmp_path)
    assert (config.host, config.listen_port, config.tls) == ("127.0.0.1", 8080, False)
    (tmp_path / "server.toml").write_text(
        'host = "192.0.2.1"\ntls_cert = "tls/cert.pem"\ntls_key = "tls/key.pem"\n'
        "max_body_bytes = 2048\n",
        encoding="utf-8",
    )
    config = load_config(tmp_path, port=9000)
    assert config.tls_cert == tmp_path / "tls" / "cert.pem"
    assert (config.host, config.listen_port, config.max_body_bytes) == ("192.0.2.1", 9000, 2048)
    assert load_config(tmp_path, port=None).listen_port == 8443


def test_retention_table(tmp_path: Path) -> None:
    """Issue 15, item 9: ``[retention] drop_rows_seconds``, 30 days unless set."""
    assert load_config(tmp_path).retention_drop_rows_seconds == 30 * 86400
    (tmp_path / "server.toml").write_text("[retention]\ndrop_rows_seconds = 3600\n")
    assert load_config(tmp_path).retention_drop_rows_seconds == 3600


@pytest.mark.parametrize(
    "text",
    [
        "[retention]\ndrop_rows_days = 30\n",  # unknown key in a known table
        "[retention]\ndrop_rows_seconds = 0\n",
        "max_body = 1\n",  # unknown key (misspelt)
        'max_body_bytes = "big"\n',
        "max_body_bytes = 0\n",
        'tls_cert = "c.pem"\n',  # key missing
        "default_expiry_days = 40\n",
        "port = 70000\n",
        "not toml [",
    ],
)
def test_config_errors(tmp_path: Path, text: str) -> None:
    (tmp_path / "server.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError):
        load_config(tmp_path)


def test_policy_lists_limits(tmp_path: Path) -> None:
    policy = ServerConfig(home=tmp_path).policy()
    assert set(policy) >= {"max_body_bytes", "max_file_bytes", "quota_bytes", "max_expiry_days"}


def test_cli_refuses_missing_home(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--home", str(tmp_path / "none")]) == 1
    assert "holds no directory" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["--home", str(tmp_path), "--listen", "nohostport"])


def test_server_never_imports_client_or_gui() -> None:
    """Design §2: the server imports core (and admin), never client or gui."""
    package = Path(cli.__file__).parent
    for source in package.glob("*.py"):
        text = source.read_text(encoding="utf-8")
        for banned in ("secure_send.client", "secure_send.gui", "PySide6"):
            assert banned not in text, f"{source.name} mentions {banned}"
