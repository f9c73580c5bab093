#!/usr/bin/env bash
# Run a command against a real OS key store on a headless machine (CI, the frozen app's
# smoke test): a private D-Bus session bus (dbus-run-session) and GNOME Keyring with a
# fresh login keyring in a temporary folder, unlocked with a throwaway password. Both
# end with the command. Not a plaintext keyring: the keys go through the Secret Service
# API exactly as on a desktop.
#   scripts/with-os-keyring.sh dist/secure-send/secure-send self-test
# Needs the Debian packages dbus and gnome-keyring (scripts/system-packages.sh).
set -euo pipefail

if [ "${1:-}" != "--inside-bus" ]; then
  command -v dbus-run-session >/dev/null || { echo "$0: needs dbus-run-session (dbus)" >&2; exit 1; }
  command -v gnome-keyring-daemon >/dev/null || {
    echo "$0: needs gnome-keyring-daemon (scripts/system-packages.sh)" >&2; exit 1; }
  exec dbus-run-session -- "$0" --inside-bus "$@"
fi
shift

# never the user's own keyrings: the login keyring made here has a throwaway password
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export XDG_DATA_HOME="$work/data" XDG_RUNTIME_DIR="$work/run"
mkdir -p "$XDG_DATA_HOME" "$XDG_RUNTIME_DIR"
chmod 700 "$XDG_RUNTIME_DIR"
# --unlock reads the password on stdin, creates the login keyring, prints its env lines
eval "$(printf '%s' "throwaway-$RANDOM" | gnome-keyring-daemon --unlock --components=secrets)"
export GNOME_KEYRING_CONTROL
"$@"
