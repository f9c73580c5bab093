"""Fixtures for the CLI tests: two people with identity files, and an output folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.cli_kit import Person, _person


@pytest.fixture
def keys_dir(tmp_path: Path) -> Path:
    path = tmp_path / "keys"
    path.mkdir()
    return path


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """The folder outputs go to; tests check that nothing stray appears in it."""
    path = tmp_path / "work"
    path.mkdir()
    return path


@pytest.fixture
def alice(keys_dir: Path) -> Person:
    return _person(keys_dir, "alice")


@pytest.fixture
def bob(keys_dir: Path) -> Person:
    return _person(keys_dir, "bob")
