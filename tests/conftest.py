"""Shared fixtures. No mutable state lives at module level."""

from __future__ import annotations

import os
from pathlib import Path

# Qt must see this before it is first imported (GUI tests run without a display).
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest

REPO = Path(__file__).resolve().parent.parent
# The C2SP/CCTV age vectors, copied into the repository with their licence (0BSD/CC0).
VECTORS = REPO / "tests" / "data" / "age-vectors"


@pytest.fixture(scope="session")
def vectors_dir() -> Path:
    path = VECTORS / "testdata"
    if not path.is_dir():
        pytest.fail(f"conformance vectors missing: {path}")
    return path
