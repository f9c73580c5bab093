"""Nautilus (GNOME Files) extension: "Send securely" on selected files and folders.

Installed by the .deb to /usr/share/nautilus-python/extensions/ (needs the
python3-nautilus package, a Recommends). The item runs ``secure-send FILE…``;
when the app is already running, that second process forwards the paths to it
over its single-instance socket and exits, so files land in the open window.
"""

from __future__ import annotations

import subprocess
from urllib.parse import unquote, urlparse

from gi.repository import GObject, Nautilus  # type: ignore[import-not-found]

LABEL = {"ja": "安全に送信"}


def _label() -> str:
    import locale

    language = (locale.getlocale()[0] or "").split("_")[0]
    return LABEL.get(language, "Send securely")


def _local_paths(files: list[Nautilus.FileInfo]) -> list[str]:
    # only local files: a network location (smb://, sftp://) has no path to read
    return [unquote(urlparse(f.get_uri()).path) for f in files if f.get_uri_scheme() == "file"]


class SecureSendMenu(GObject.GObject, Nautilus.MenuProvider):  # type: ignore[misc]
    """Adds the item to the context menu of a selection."""

    def _send(self, _item: Nautilus.MenuItem, paths: list[str]) -> None:
        # Popen, not run: the file manager must not wait for the app's window
        subprocess.Popen(["secure-send", *paths], start_new_session=True)  # noqa: S603, S607

    def get_file_items(self, *args: object) -> list[Nautilus.MenuItem]:
        # Nautilus 43+ passes (files); older nautilus-python passes (window, files)
        files = list(args[-1])  # type: ignore[call-overload]
        paths = _local_paths(files)
        if not paths:
            return []
        item = Nautilus.MenuItem(
            name="SecureSend::SendSecurely", label=_label(), tip="Secure Send", icon="secure-send"
        )
        item.connect("activate", self._send, paths)
        return [item]
