#!/usr/bin/env bash
# Install the Debian packages Secure Send's tests, demo and benchmarks use.
# Only what is missing is installed, so a second run costs a second.
#   scripts/system-packages.sh                # tests (make test, CI)
#   scripts/system-packages.sh desktop        # + what the app needs on a real screen
#   scripts/system-packages.sh screenshots    # + a virtual screen for docs/screenshots
set -euo pipefail

packages=(
  age          # the reference age CLI: interoperability tests and benchmarks
  time         # GNU time: peak memory in benchmarks
  slapd        # OpenLDAP server: tests/admin/ldap/test_ldap_import.py runs a real directory
  ldap-utils   # ldapsearch & co.: poking that test directory by hand
  nginx-light  # the load balancer of the scale-out cluster: tests/engines/cluster.py, make cluster
  wixl msitools  # build the Windows MSI on Linux and read its tables: tests/packaging/test_msi.py
  # Qt's own runtime libraries (PySide6 wheels bundle Qt, not these): GUI tests run
  # on the offscreen platform, which still loads them
  libegl1 libgl1 libx11-6 libxkbcommon0 libfontconfig1 libglib2.0-0 libdbus-1-3
  # the tray on a real tray (tests/gui/test_tray.py): a virtual X server, a system-tray
  # host, and the libraries of Qt's xcb platform the app runs on there
  xvfb trayer
  libxcb-cursor0 libxkbcommon-x11-0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0
  libxcb-xinerama0 libxcb-randr0 libxcb-render-util0 libxcb-image0
  # a real OS key store on a headless machine (scripts/with-os-keyring.sh): the self-test
  # and the frozen app's smoke test, which ignores the test key store
  dbus gnome-keyring
  # scale-out (issue 18): a real PostgreSQL for the metadata store's tests and the cluster
  # (tests/engines/postgres.py runs its own server in a temporary folder)
  postgresql
  # the server-side .debs (tests/packaging/test_server_deb.py): Debian's python3 runs
  # them, systemd-analyze checks their units, adduser makes their users
  python3 systemd adduser
  # virus scan of received files (issue 20): tests/client/clamd_kit.py runs its own clamd
  # with a locally made EICAR signature (no freshclam, no signature download)
  clamav clamav-daemon
  # CMS suite (issue 21): tests/core/cms/ checks interoperability with `openssl cms`
  openssl
  # unshare + mount: a small tmpfs in a private mount namespace for the full-disk and
  # read-only tests (tests/cli/test_cli_cms_hostile.py, tests/core/test_atomic.py)
  util-linux mount
)
case "${1:-}" in
  desktop|screenshots)
    # Japanese fonts (the xcb platform's libraries are in the base list)
    packages+=(fonts-noto-cjk)
    ;;&
  screenshots)
    packages+=(xauth)
    ;;
esac

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
echo "Installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# another install may hold the dpkg lock for a while: retry rather than fail
for attempt in 1 2 3 4 5 6; do
  if $sudo apt-get update -qq && \
     $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
    exit 0
  fi
  echo "apt-get failed (attempt $attempt); retrying in 20 s" >&2
  sleep 20
done
echo "could not install: ${missing[*]}" >&2
exit 1
