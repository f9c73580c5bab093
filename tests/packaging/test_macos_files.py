"""The macOS packaging files: well-formed plists with the keys Finder and Automator need.

These cannot be exercised on Linux (no Finder, no Launch Services); what can be checked here is
that each plist parses and says what the app relies on. .github/workflows/macos.yml runs
plutil and installs the pkg on a real Mac.
"""

from __future__ import annotations

import plistlib
from pathlib import Path
from typing import Any

import pytest

from secure_send.client.policy import MAC_POLICY_FILE, VENDOR_NAMES

MACOS = Path(__file__).resolve().parents[2] / "packaging" / "macos"
WORKFLOW = MACOS / "SendSecurely.workflow" / "Contents"
BUNDLE_ID = "jp.go.securesend.app"


def load(path: Path) -> dict[str, Any]:
    with path.open("rb") as f:
        data = plistlib.load(f)
    assert isinstance(data, dict)
    return data


@pytest.mark.parametrize(
    "path",
    [
        MACOS / "Info.plist",
        MACOS / "SecureSend.mobileconfig",
        WORKFLOW / "Info.plist",
        WORKFLOW / "document.wflow",
    ],
    ids=lambda p: p.name,
)
def test_well_formed_xml_plist(path: Path) -> None:
    assert path.read_bytes().startswith(b"<?xml")  # XML, not binary: reviewable in diffs
    load(path)


def test_app_info_plist() -> None:
    info = load(MACOS / "Info.plist")
    assert info["CFBundleIdentifier"] == BUNDLE_ID
    assert info["CFBundleName"] == "Secure Send"
    assert info["CFBundleExecutable"] == "secure-send"  # PyInstaller's EXE name
    assert info["NSHighResolutionCapable"] is True
    assert info["LSMinimumSystemVersion"] == "12.0"
    assert set(info["CFBundleLocalizations"]) == {"ja", "en"}
    # one source of the version: PyInstaller's BUNDLE step writes these from the metadata
    assert "CFBundleShortVersionString" not in info
    assert "CFBundleVersion" not in info


def test_app_opens_any_file_or_folder() -> None:
    """Open With and Dock drops for every file and folder, never as the default app."""
    (doc_type,) = load(MACOS / "Info.plist")["CFBundleDocumentTypes"]
    assert set(doc_type["LSItemContentTypes"]) == {"public.item", "public.folder"}
    assert doc_type["CFBundleTypeRole"] in {"Viewer", "Editor"}
    assert doc_type["LSHandlerRank"] == "Alternate"


def test_quick_action_service() -> None:
    (service,) = load(WORKFLOW / "Info.plist")["NSServices"]
    assert service["NSMenuItem"]["default"] == "Send securely"
    assert service["NSMessage"] == "runWorkflowAsService"
    assert service["NSRequiredContext"]["NSApplicationIdentifier"] == "com.apple.finder"
    assert service["NSSendFileTypes"] == ["public.item"]  # files and folders


def test_quick_action_runs_the_app_on_the_selection() -> None:
    wflow = load(WORKFLOW / "document.wflow")
    meta = wflow["workflowMetaData"]
    assert meta["workflowTypeIdentifier"] == "com.apple.Automator.servicesMenu"
    assert meta["serviceInputTypeIdentifier"] == "com.apple.Automator.fileSystemObject"
    assert meta["serviceApplicationBundleID"] == "com.apple.finder"
    (step,) = wflow["actions"]
    action = step["action"]
    assert action["BundleIdentifier"] == "com.apple.RunShellScript"
    params = action["ActionParameters"]
    assert params["inputMethod"] == 1  # the selection as arguments ("$@"), not on stdin
    assert 'open -a "Secure Send" "$@"' in params["COMMAND_STRING"]


def test_example_profile_sets_the_policy_keys() -> None:
    profile = load(MACOS / "SecureSend.mobileconfig")
    assert profile["PayloadType"] == "Configuration"
    (payload,) = profile["PayloadContent"]
    # macOS writes the payload to /Library/Managed Preferences/<PayloadType>.plist: the file
    # the app reads its policy from
    assert f"{payload['PayloadType']}.plist" == MAC_POLICY_FILE.name
    settings = {k for k in payload if not k.startswith("Payload")}
    assert settings == {"ServerUrl", "RootKeys"}
    # names the app knows (it refuses unknown ones)
    assert all(k.lower() in VENDOR_NAMES or k == "RootKeys" for k in settings)
    uuids = [profile["PayloadUUID"], payload["PayloadUUID"]]
    assert len(set(uuids)) == 2
