#!/usr/bin/env bash
# Build dist/secure-send_<version>_amd64.deb from the PyInstaller bundle dist/secure-send/
# (run `pyinstaller --noconfirm packaging/secure_send.spec` first; `make package` does both).
#   /opt/secure-send/                 the one-folder bundle
#   /usr/bin/secure-send              symlink into it
#   /usr/share/applications/          menu entry + "Send securely" action, Open With
#   /usr/share/icons/hicolor/*/apps/  the app icon (drawn with Qt at build time)
#   Nautilus extension, Dolphin service menu
#   /etc/secure-send/policy.json      IT's policy (a conffile: kept on upgrade and on remove)
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
bundle="$root/dist/secure-send"
linux="$root/packaging/linux"
exe="$bundle/secure-send"
[ -x "$exe" ] || { echo "no bundle at $bundle: run pyinstaller packaging/secure_send.spec first" >&2; exit 1; }

# One source of the version: ask the bundle itself (importlib.metadata inside it).
version="$("$exe" --version | awk '{print $2}')"
[ -n "$version" ] || { echo "cannot read the version from $exe" >&2; exit 1; }
arch="$(dpkg --print-architecture)"
[ "$arch" = amd64 ] || echo "warning: building on $arch; the package says amd64" >&2

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
pkg="$stage/secure-send"
mkdir -p "$pkg/DEBIAN" "$pkg/opt" "$pkg/usr/bin" "$pkg/usr/share/applications" \
  "$pkg/usr/share/nautilus-python/extensions" "$pkg/usr/share/kio/servicemenus" \
  "$pkg/etc/secure-send"

cp -a "$bundle" "$pkg/opt/secure-send"
ln -s /opt/secure-send/secure-send "$pkg/usr/bin/secure-send"
install -m 0644 "$linux/secure-send.desktop" "$pkg/usr/share/applications/secure-send.desktop"
install -m 0644 "$linux/nautilus/secure_send_nautilus.py" \
  "$pkg/usr/share/nautilus-python/extensions/secure_send_nautilus.py"
# KDE 6 reads service menus from kio/servicemenus, KDE 5 from kservices5/ServiceMenus
install -m 0644 "$linux/dolphin/secure-send.desktop" "$pkg/usr/share/kio/servicemenus/secure-send.desktop"
mkdir -p "$pkg/usr/share/kservices5/ServiceMenus"
install -m 0644 "$linux/dolphin/secure-send.desktop" \
  "$pkg/usr/share/kservices5/ServiceMenus/secure-send.desktop"
install -m 0644 "$linux/policy.json" "$pkg/etc/secure-send/policy.json"

# The icon: packaging/linux/icons/<size>.png if someone drew one, else the tray's
# envelope-and-padlock drawn by Qt (offscreen: no display needed at build time).
for size in 48 128 256; do
  dir="$pkg/usr/share/icons/hicolor/${size}x${size}/apps"
  mkdir -p "$dir"
  if [ -f "$linux/icons/$size.png" ]; then
    install -m 0644 "$linux/icons/$size.png" "$dir/secure-send.png"
  else
    QT_QPA_PLATFORM=offscreen "$root/.venv/bin/python" -c '
import sys
from PySide6.QtWidgets import QApplication
app = QApplication([])
from secure_send.gui.tray import app_icon
size = int(sys.argv[1])
assert app_icon(size).pixmap(size, size).save(sys.argv[2], "PNG")
' "$size" "$dir/secure-send.png"
  fi
done

installed_kb="$(du -sk --exclude=DEBIAN "$pkg" | cut -f1)"
cat > "$pkg/DEBIAN/control" <<CONTROL
Package: secure-send
Version: $version
Architecture: amd64
Maintainer: Secure Send maintainers <secure-send@localhost>
Section: net
Priority: optional
Installed-Size: $installed_kb
Depends: libc6, libegl1, libgl1, libxkbcommon0, libxkbcommon-x11-0, libfontconfig1, libdbus-1-3, libxcb-cursor0, libxcb-icccm4, libxcb-keysyms1, libxcb-shape0, libxcb-xinerama0, libxcb-randr0, libxcb-render-util0, libxcb-image0
Recommends: fonts-noto-cjk, python3-nautilus
Description: End-to-end encrypted file hand-over from a verified directory
 Secure Send sends files, end-to-end encrypted (age), to colleagues chosen from
 an IT-verified directory. Includes the desktop app, the secure-send command
 line, "Send securely" in Nautilus and Dolphin, and the IT policy file
 /etc/secure-send/policy.json.
CONTROL
echo /etc/secure-send/policy.json > "$pkg/DEBIAN/conffiles"

# Menus and Open With read a cache: refresh it when the tools exist (not on servers).
for script in postinst postrm; do
  cat > "$pkg/DEBIAN/$script" <<'SCRIPT'
#!/bin/sh
set -e
if command -v update-desktop-database >/dev/null 2>&1; then
  update-desktop-database -q /usr/share/applications || true
fi
if command -v gtk-update-icon-cache >/dev/null 2>&1; then
  gtk-update-icon-cache -q -t /usr/share/icons/hicolor || true
fi
exit 0
SCRIPT
  chmod 0755 "$pkg/DEBIAN/$script"
done

out="$root/dist/secure-send_${version}_amd64.deb"
# root-owned files without needing root to build
dpkg-deb --root-owner-group --build "$pkg" "$out" >/dev/null
echo "built $out ($(du -h "$out" | cut -f1), installed ${installed_kb} KB)"
