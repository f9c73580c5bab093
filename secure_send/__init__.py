"""Secure Send: end-to-end encrypted file hand-over from a verified directory.

The version has one source, the installed package metadata (pyproject.toml).
It is looked up lazily, and first by reading the ``Version:`` line of our own
``.dist-info/METADATA`` on ``sys.path``: importing importlib.metadata costs ~25 ms
at start-up, which ``secure-send --version`` would otherwise pay.
"""

from __future__ import annotations

_DIST_INFO_PREFIX = "secure_send-"


def _version_from_dist_info() -> str | None:
    """The version in the first ``secure_send-*.dist-info`` on ``sys.path`` (the one
    importlib.metadata would find first), or None."""
    import os
    import sys

    for entry in sys.path:
        try:
            names = sorted(os.listdir(entry or "."))
        except OSError:  # not a folder (a zip), or gone
            continue
        for name in names:
            if name.startswith(_DIST_INFO_PREFIX) and name.endswith(".dist-info"):
                try:
                    with open(os.path.join(entry, name, "METADATA"), encoding="utf-8") as f:
                        for line in f:
                            if line.startswith("Version:"):
                                return line.split(":", 1)[1].strip()
                            if not line.strip():  # the headers ended
                                break
                except OSError:
                    pass
                return None  # found but unreadable: ask importlib.metadata
    return None


def __getattr__(name: str) -> str:
    if name == "__version__":
        found = _version_from_dist_info()
        if found:
            return found
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("secure-send")
        except PackageNotFoundError:  # a source tree that was never installed
            return "0+unknown"
    raise AttributeError(name)
