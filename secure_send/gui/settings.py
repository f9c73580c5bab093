"""The app's own settings, declared once, typed, with a schema version.

Stored as ``gui-settings.json`` in the profile (atomic writes); window geometry
lives apart, in ``QSettings``. IT policy can fix items: see
:mod:`secure_send.client.policy` (defaults < these settings < policy).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from platformdirs import user_downloads_dir

from secure_send.client.profile import Profile

SCHEMA = 1
LANGUAGES = ("system", "ja", "en")


@dataclass
class Settings:
    """What the settings dialog edits."""

    language: str = "system"  # "system" follows the OS; else "ja" or "en"
    close_to_tray: bool = True  # closing the window keeps the app running in the tray
    download_folder: str = ""  # "" = the user's Downloads folder
    notify: bool = True  # tray notifications for new drops, receipts, failures

    def downloads(self) -> Path:
        """Where received drops are saved by default."""
        return Path(self.download_folder or user_downloads_dir())


def _file(profile: Profile) -> Path:
    return profile.path / "gui-settings.json"


def load(profile: Profile) -> Settings:
    """The stored settings (defaults for anything missing or unknown)."""
    raw = profile.read_json(_file(profile)) or {}
    values: dict[str, Any] = raw.get("values", {}) if isinstance(raw, dict) else {}
    fields = {f.name: f for f in dataclasses.fields(Settings)}
    clean = {}
    for name, value in values.items():
        if name in fields and isinstance(value, type(getattr(Settings(), name))):
            clean[name] = value
    settings = Settings(**clean)
    if settings.language not in LANGUAGES:
        settings.language = "system"
    return settings


def save(profile: Profile, settings: Settings) -> None:
    """Store atomically."""
    profile.ensure()
    profile.write_json(_file(profile), {"schema": SCHEMA, "values": dataclasses.asdict(settings)})
