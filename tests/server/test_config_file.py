"""``secure-send-server --config FILE``: the installed server's settings file (the
Debian package's /etc/secure-send/server.toml) and the signer pin that
``secure-send-admin server-home`` writes into the server's own folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from secure_send.server.config import ConfigError, config_home, load_config

KEY_A = "A" * 43
KEY_B = "B" * 43


def _folder_pinning(tmp_path: Path, key: str) -> Path:
    home = tmp_path / "state"
    home.mkdir()
    # what server-home writes, plus a setting the folder's file must not contribute
    (home / "server.toml").write_text(
        f'max_expiry_days = 3\n\n[signer]\npublic_key = "{key}"\n', encoding="utf-8"
    )
    return home


def _etc(tmp_path: Path, home: Path, extra: str = "") -> Path:
    etc = tmp_path / "server.toml"
    etc.write_text(f'home = "{home}"\nport = 8081\n{extra}', encoding="utf-8")
    return etc


def test_config_file_takes_the_folders_signer_pin(tmp_path: Path) -> None:
    home = _folder_pinning(tmp_path, KEY_A)
    etc = _etc(tmp_path, home)
    assert config_home(etc) == home
    config = load_config(home, etc)
    assert config.signer_public_key == KEY_A
    assert config.listen_port == 8081
    assert config.max_expiry_days == 30  # only the pin comes from the folder's file


def test_the_same_pin_in_both_files_is_fine(tmp_path: Path) -> None:
    home = _folder_pinning(tmp_path, KEY_A)
    etc = _etc(tmp_path, home, f'[signer]\npublic_key = "{KEY_A}"\n')
    assert load_config(home, etc).signer_public_key == KEY_A


def test_two_different_pins_are_refused(tmp_path: Path) -> None:
    home = _folder_pinning(tmp_path, KEY_A)
    etc = _etc(tmp_path, home, f'[signer]\npublic_key = "{KEY_B}"\n')
    with pytest.raises(ConfigError, match="differs between the config file"):
        load_config(home, etc)


def test_no_pin_anywhere_means_no_signer(tmp_path: Path) -> None:
    home = tmp_path / "state"
    home.mkdir()
    assert load_config(home, _etc(tmp_path, home)).signer_public_key == ""
