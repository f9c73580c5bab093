"""Secure Send: end-to-end encrypted file hand-over from a verified directory."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("secure-send")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
