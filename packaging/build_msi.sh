#!/usr/bin/env bash
# Build the Windows MSI with msitools' wixl (Linux), from a PyInstaller one-folder bundle.
#   packaging/build_msi.sh [BUNDLE_DIR] [OUT.msi]
# Defaults: dist/secure-send and dist/secure-send-<version>.msi. Without a bundle folder (the
# Windows bundle is built on Windows; on Linux there is at most the Linux one) a tiny stand-in
# bundle with a dummy secure-send.exe is made under /tmp, so the installer's own tables can
# still be built and checked here. Real releases come from .github/workflows/windows.yml (WiX 3).
# Needs: wixl (apt-get install wixl msitools; scripts/system-packages.sh installs it).
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
python="${PYTHON:-$repo/.venv/bin/python}"
[ -x "$python" ] || python=python3
command -v wixl >/dev/null || { echo "wixl is missing: apt-get install wixl msitools" >&2; exit 1; }

# MSI versions are three numbers: drop any pre-release/local suffix of the package version.
version="$("$python" -c 'import re, sys, tomllib; v = tomllib.load(open(sys.argv[1], "rb"))["project"]["version"]; print(re.match(r"\d+(\.\d+){0,2}", v).group(0))' "$repo/pyproject.toml")"

bundle="${1:-$repo/dist/secure-send}"
out="${2:-$repo/dist/secure-send-$version.msi}"
work="$(mktemp -d /tmp/secure-send-msi.XXXXXX)"
trap 'rm -rf "$work"' EXIT

if [ -d "$bundle" ]; then
  echo "payload: $bundle"
  if [ ! -e "$bundle/secure-send.exe" ]; then
    echo "note: no secure-send.exe in it (a Linux bundle?): the MSI is a stand-in, not for Windows"
  fi
else
  bundle="$work/stand-in/secure-send"
  echo "payload: no bundle at ${1:-dist/secure-send}; using a stand-in bundle in $bundle (dummy secure-send.exe)"
  mkdir -p "$bundle/_internal"
  printf 'stand-in, not a Windows program\n' >"$bundle/secure-send.exe"
  printf 'stand-in\n' >"$bundle/_internal/base_library.zip"
fi
bundle="$(cd "$bundle" && pwd)"

"$python" "$repo/packaging/windows/harvest.py" "$bundle" "$work/files.wxs"
# wixl resolves File/@Source relative to the .wxs that names it and refuses absolute paths.
source_dir="$(realpath --relative-to="$work" "$bundle")"
mkdir -p "$(dirname "$out")"
wixl --arch x64 -D "Version=$version" -D "SourceDir=$source_dir" -o "$out" \
  "$repo/packaging/windows/secure-send.wxs" "$work/files.wxs"
echo "built $out (version $version, $(find "$bundle" -type f | wc -l) files)"
