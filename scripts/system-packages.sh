#!/usr/bin/env bash
# Install the Debian packages Secure Send's tests, demo and benchmarks use.
# Only what is missing is installed, so a second run costs a second.
set -euo pipefail

packages=(
  age          # the reference age CLI: interoperability tests and benchmarks
  time         # GNU time: peak memory in benchmarks
  slapd        # OpenLDAP server: tests/test_ldap_import.py runs a real directory
  ldap-utils   # ldapsearch & co.: poking that test directory by hand
)

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
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
