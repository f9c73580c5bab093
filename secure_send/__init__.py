"""Secure Send: end-to-end encrypted file hand-over from a verified directory.

The version has one source, the installed package metadata (pyproject.toml).
It is looked up lazily: importlib.metadata costs ~25 ms at start-up, which every
CLI call would otherwise pay.
"""

from __future__ import annotations


def __getattr__(name: str) -> str:
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("secure-send")
        except PackageNotFoundError:  # a source tree that was never installed
            return "0+unknown"
    raise AttributeError(name)
