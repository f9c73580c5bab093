"""The Windows MSI: build it with wixl over a stand-in bundle and read its tables back.

Windows Installer does what its tables say, so checking the tables checks the installer's
behaviour short of running msiexec (which CI does on a Windows runner). Needs wixl and msiinfo
(msitools; scripts/system-packages.sh installs them).
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
from pathlib import Path

import pytest

from secure_send.client.policy import VENDOR_NAMES, WINDOWS_POLICY_KEY

REPO = Path(__file__).resolve().parents[2]
BUILD = REPO / "packaging" / "build_msi.sh"

# packaging/ is not a Python package (and "packaging" is the PyPA library's name): load the
# harvester from its file.
_spec = importlib.util.spec_from_file_location("harvest", REPO / "packaging/windows/harvest.py")
assert _spec is not None
assert _spec.loader is not None
harvest = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(harvest)

MISSING_TOOLS = shutil.which("wixl") is None or shutil.which("msiinfo") is None

# A stand-in for the PyInstaller one-folder bundle: the exe, a nested folder, a name with a
# space (Program Files paths have them), a file in a sub-sub-folder.
STAND_IN = (
    "secure-send.exe",
    "_internal/base_library.zip",
    "_internal/PySide6/Qt6Core.dll",
    "_internal/secure_send/gui/i18n/secure_send_ja.qm",
    "_internal/with space.txt",
)
EXE = '"[INSTALLDIR]secure-send.exe"'


@pytest.fixture(scope="module")
def msi(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if MISSING_TOOLS:
        pytest.skip("wixl/msiinfo (msitools) not installed: apt-get install wixl msitools")
    root = tmp_path_factory.mktemp("msi")
    bundle = root / "secure-send"
    for rel in STAND_IN:
        (bundle / rel).parent.mkdir(parents=True, exist_ok=True)
        (bundle / rel).write_text(f"stand-in {rel}\n")
    out = root / "secure-send.msi"
    subprocess.run([BUILD, bundle, out], check=True, capture_output=True, timeout=60)
    return out


def table(msi: Path, name: str) -> list[dict[str, str]]:
    """The rows of one table, as msiinfo exports them (tab-separated, three header lines)."""
    text = subprocess.run(
        ["msiinfo", "export", msi, name], check=True, capture_output=True, text=True, timeout=30
    ).stdout
    lines = text.splitlines()
    columns = lines[0].split("\t")
    return [dict(zip(columns, line.split("\t"), strict=False)) for line in lines[3:]]


def registry(msi: Path) -> dict[tuple[str, str, str], str]:
    """(root, key, value name) -> value; wixl writes keys with a trailing backslash."""
    return {
        (row["Root"], row["Key"].rstrip("\\"), row["Name"]): row["Value"]
        for row in table(msi, "Registry")
    }


def test_per_machine(msi: Path) -> None:
    props = {row["Property"]: row["Value"] for row in table(msi, "Property")}
    assert props["ALLUSERS"] == "1"
    assert props["ProductName"] == "Secure Send"
    assert props["UpgradeCode"] == "{6F1D3A52-8C2B-4E0A-9B7E-2C5A1D4F8E31}"
    dirs = {row["Directory"]: row for row in table(msi, "Directory")}
    assert dirs["INSTALLDIR"]["Directory_Parent"] == "ProgramFiles64Folder"
    assert dirs["INSTALLDIR"]["DefaultDir"] == "SecureSend"
    # 0x100: 64-bit components, so the registry goes to the 64-bit view the app reads
    assert all(int(row["Attributes"]) & 0x100 for row in table(msi, "Component"))


def test_major_upgrade(msi: Path) -> None:
    rows = table(msi, "Upgrade")
    assert {row["ActionProperty"] for row in rows} == {
        "WIX_UPGRADE_DETECTED",
        "WIX_DOWNGRADE_DETECTED",
    }
    actions = {row["Action"] for row in table(msi, "InstallExecuteSequence")}
    assert {"FindRelatedProducts", "RemoveExistingProducts"} <= actions


@pytest.mark.parametrize("key", ["*", "Directory"])
def test_explorer_verb(msi: Path, key: str) -> None:
    reg = registry(msi)
    verb = f"{key}\\shell\\SecureSend"
    assert reg[("0", verb, "")] == "Send securely"  # root 0: HKCR (HKLM\Software\Classes)
    assert reg[("0", verb, "MultiSelectModel")] == "Player"
    assert reg[("0", f"{verb}\\command", "")] == f'{EXE} "%1"'


def test_policy_from_properties(msi: Path) -> None:
    reg = registry(msi)
    policy = WINDOWS_POLICY_KEY  # where the app reads its policy
    assert reg[("2", policy, "ServerUrl")] == "[SERVER_URL]"  # root 2: HKLM
    assert reg[("2", policy, "RootKeys")] == "[ROOT_KEYS]"
    # only names the app's policy reader knows: it refuses to start on an unknown one
    written = {name for root, key, name in reg if key == policy}
    assert all(name.lower() in VENDOR_NAMES or name == "RootKeys" for name in written)


def test_policy_survives_upgrade(msi: Path) -> None:
    """An upgrade without the properties carries the installed values over."""
    searches = {row["Property"]: row["Signature_"] for row in table(msi, "AppSearch")}
    locators = {row["Signature_"]: row for row in table(msi, "RegLocator")}
    for prop, name in (("SERVER_URL", "ServerUrl"), ("ROOT_KEYS", "RootKeys")):
        loc = locators[searches[f"SAVED_{prop}"]]
        assert (loc["Root"], loc["Key"], loc["Name"]) == (
            "2",
            "Software\\Policies\\SecureSend",
            name,
        )
        assert int(loc["Type"]) & 0x10  # msidbLocatorType64bit
    actions = {row["Action"]: row for row in table(msi, "CustomAction")}
    sequence = {row["Action"]: row for row in table(msi, "InstallExecuteSequence")}
    for ca, prop in (("CA_KeepServerUrl", "SERVER_URL"), ("CA_KeepRootKeys", "ROOT_KEYS")):
        assert actions[ca]["Type"] == str(51 | 0x800)  # set a property (0x800: wixl's default)
        assert (actions[ca]["Source"], actions[ca]["Target"]) == (prop, f"[SAVED_{prop}]")
        assert sequence[ca]["Condition"] == f"SAVED_{prop} AND NOT {prop}"
        # after the search, before costing (and so before the registry is written)
        assert 50 < int(sequence[ca]["Sequence"]) < int(sequence["CostInitialize"]["Sequence"])


def test_shortcuts(msi: Path) -> None:
    shortcuts = {row["Directory_"]: row for row in table(msi, "Shortcut")}
    assert set(shortcuts) == {"ProgramMenuFolder", "SendToFolder"}
    for row in shortcuts.values():
        assert row["Name"] == "Secure Send"
        assert row["Target"] == "[INSTALLDIR]secure-send.exe"
        assert row["WkDir"] == "INSTALLDIR"


def test_every_file_installed(msi: Path) -> None:
    dirs = {row["Directory"]: row for row in table(msi, "Directory")}
    components = {row["Component"]: row for row in table(msi, "Component")}

    def install_path(directory: str) -> str:
        parts: list[str] = []
        while directory != "INSTALLDIR":
            parts.append(dirs[directory]["DefaultDir"])
            directory = dirs[directory]["Directory_Parent"]
        return "/".join(reversed(parts))

    installed = set()
    for row in table(msi, "File"):
        comp = components[row["Component_"]]
        assert comp["KeyPath"] == row["File"]
        folder = install_path(comp["Directory_"])
        installed.add(f"{folder}/{row['FileName']}" if folder else row["FileName"])
    assert installed == set(STAND_IN)


def test_component_guids_stable(tmp_path: Path) -> None:
    """Same path, same component GUID: a rebuild must not orphan what the last one installed."""
    (tmp_path / "secure-send.exe").write_text("v1")
    first = harvest.fragment(tmp_path)
    (tmp_path / "secure-send.exe").write_text("version two")
    (tmp_path / "new.dll").write_text("new")
    second = harvest.fragment(tmp_path)
    exe_line = next(line for line in first.splitlines() if "<Component" in line)
    assert exe_line in second


def test_harvest_refuses_non_ascii(tmp_path: Path) -> None:
    (tmp_path / "資料.txt").write_text("x")
    with pytest.raises(ValueError, match="non-ASCII"):
        harvest.fragment(tmp_path)
