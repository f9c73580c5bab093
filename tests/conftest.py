"""Shared fixtures. No mutable state lives at module level."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"


@pytest.fixture(scope="session")
def vectors_dir() -> Path:
    path = SHARED / "testdata" / "age-vectors" / "testdata"
    if not path.is_dir():
        pytest.fail(f"conformance vectors missing: {path} (../shared must sit beside the repo)")
    return path
