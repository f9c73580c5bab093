"""Shared fixtures. No mutable state lives at module level."""

from __future__ import annotations

import os
from pathlib import Path

# Qt must see this before it is first imported (GUI tests run without a display).
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"


@pytest.fixture(scope="session")
def vectors_dir() -> Path:
    path = SHARED / "testdata" / "age-vectors" / "testdata"
    if not path.is_dir():
        pytest.fail(f"conformance vectors missing: {path} (../shared must sit beside the repo)")
    return path
