#!/usr/bin/env bash
# Build the macOS installer package from the .app that PyInstaller's BUNDLE step made.
#   packaging/build_pkg.sh ["dist/Secure Send.app"] [OUT_DIR]
# Output in OUT_DIR (default dist/): secure-send-<version>.pkg, and for IT the
# managed-preferences documentation and an example configuration profile.
# Installs /Applications/Secure Send.app and /Library/Services/SendSecurely.workflow (the
# Finder Quick Action "Send securely", for every user).
# macOS only (pkgbuild, productbuild). Signing: set INSTALLER_IDENTITY to a
# "Developer ID Installer: …" identity; notarization is a separate step (notarytool).
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
here="$repo/packaging/macos"  # Info.plist, the Quick Action, …
app="${1:-$repo/dist/Secure Send.app}"
out_dir="${2:-$repo/dist}"
identifier="jp.go.securesend.app"

for tool in pkgbuild productbuild /usr/libexec/PlistBuddy; do
  command -v "$tool" >/dev/null || { echo "$tool is missing: build_pkg.sh runs on macOS" >&2; exit 1; }
done
[ -d "$app" ] || { echo "no app at $app: run pyinstaller packaging/secure_send.spec on macOS first" >&2; exit 1; }

# The version the BUNDLE step wrote from the package metadata (one source of the version).
version="$(/usr/libexec/PlistBuddy -c 'Print :CFBundleShortVersionString' "$app/Contents/Info.plist")"
bundle_id="$(/usr/libexec/PlistBuddy -c 'Print :CFBundleIdentifier' "$app/Contents/Info.plist")"
[ "$bundle_id" = "$identifier" ] || { echo "app is $bundle_id, expected $identifier (Info.plist not merged?)" >&2; exit 1; }

work="$(mktemp -d "${TMPDIR:-/tmp}/secure-send-pkg.XXXXXX")"
trap 'rm -rf "$work"' EXIT
root="$work/root"
mkdir -p "$root/Applications" "$root/Library/Services" "$work/scripts"
# ditto keeps the bundle's symlinks, extended attributes and code signatures intact
ditto "$app" "$root/Applications/Secure Send.app"
ditto "$here/SendSecurely.workflow" "$root/Library/Services/SendSecurely.workflow"

# Not relocatable: otherwise Installer "upgrades" whatever copy of the app Spotlight finds
# (a build folder, a disk image) instead of installing into /Applications.
pkgbuild --analyze --root "$root" "$work/components.plist"
count="$(/usr/libexec/PlistBuddy -c 'Print' "$work/components.plist" | grep -c 'RootRelativeBundlePath')"
for ((i = 0; i < count; i++)); do
  /usr/libexec/PlistBuddy -c "Set :$i:BundleIsRelocatable false" "$work/components.plist"
done

cat >"$work/scripts/postinstall" <<'POSTINSTALL'
#!/bin/sh
# Register the app with Launch Services (Open With, Dock drops) and make the new Quick
# Action show up without a logout.
lsregister=/System/Library/Frameworks/CoreServices.framework/Frameworks/LaunchServices.framework/Support/lsregister
[ -x "$lsregister" ] && "$lsregister" -f "/Applications/Secure Send.app" || true
/System/Library/CoreServices/pbs -flush >/dev/null 2>&1 || true
exit 0
POSTINSTALL
chmod 755 "$work/scripts/postinstall"

pkgbuild --root "$root" --component-plist "$work/components.plist" --scripts "$work/scripts" \
  --identifier "$identifier.pkg" --version "$version" --install-location / \
  "$work/secure-send-component.pkg"

cat >"$work/distribution.xml" <<DIST
<?xml version="1.0" encoding="utf-8"?>
<installer-gui-script minSpecVersion="2">
  <title>Secure Send $version</title>
  <options customize="never" require-scripts="false" hostArchitectures="arm64,x86_64"/>
  <domains enable_anywhere="false" enable_currentUserHome="false" enable_localSystem="true"/>
  <volume-check><allowed-os-versions><os-version min="12.0"/></allowed-os-versions></volume-check>
  <choices-outline><line choice="default"><line choice="$identifier.pkg"/></line></choices-outline>
  <choice id="default"/>
  <choice id="$identifier.pkg" visible="false"><pkg-ref id="$identifier.pkg"/></choice>
  <pkg-ref id="$identifier.pkg" version="$version" onConclusion="none">secure-send-component.pkg</pkg-ref>
</installer-gui-script>
DIST

mkdir -p "$out_dir"
sign=()
[ -n "${INSTALLER_IDENTITY:-}" ] && sign=(--sign "$INSTALLER_IDENTITY")
# ${a[@]+...}: macOS bash 3.2 calls an empty array unbound under set -u
productbuild --distribution "$work/distribution.xml" --package-path "$work" ${sign[@]+"${sign[@]}"} \
  "$out_dir/secure-send-$version.pkg"

# For IT: how to preconfigure the server URL and root key pins (managed preferences).
cp "$here/managed-preferences.md" "$out_dir/secure-send-managed-preferences.md"
cp "$here/SecureSend.mobileconfig" "$out_dir/SecureSend-example.mobileconfig"
echo "built $out_dir/secure-send-$version.pkg"
