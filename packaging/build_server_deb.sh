#!/usr/bin/env bash
# Build the server-side Debian packages from the hash-pinned locks (no PyInstaller):
#   dist/secure-send-server_<version>_<arch>.deb   the drop server (lock-server.txt)
#     /opt/secure-send-server/lib/      the project + its wheels (pip --require-hashes --target)
#     /usr/bin/secure-send-server       launcher run by Debian's python3 (-IS)
#     /lib/systemd/system/secure-send-server.service   hardened, enabled at install
#     /etc/secure-send/server.toml      conffile; /etc/secure-send/secrets/ (0750 root:secure-send)
#   dist/secure-send-admin_<version>_<arch>.deb    IT's host: admin CLI + directory signer (lock-admin.txt)
#     /opt/secure-send-admin/lib/, /usr/bin/secure-send-admin,
#     /lib/systemd/system/secure-send-signer.service   not enabled at install
# Neither conflicts with the desktop package (secure-send: /opt/secure-send, /usr/bin/secure-send,
# /etc/secure-send/policy.json): all three may be installed on one machine.
# Needs `make setup` (the venv's pip and setuptools build the project's wheel) and PyPI or
# pip's cache for the wheels. Usage: packaging/build_server_deb.sh [server] [admin] (default both)
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
here="$root/packaging/server"
py="$root/.venv/bin/python"
[ -x "$py" ] || { echo "no $py: run make setup first" >&2; exit 1; }
version="$("$py" -c 'import importlib.metadata as m; print(m.version("secure-send"))')"
arch="$(dpkg --print-architecture)"
# The binary wheels (pydantic-core, cryptography's cffi, psycopg-binary, httptools, uvloop)
# are built for one CPython minor version: the one building is the one the package needs.
pyver="$("$py" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
pynext="$("$py" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1] + 1}")')"

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
mkdir -p "$root/dist"
# The project itself, once: a wheel from this tree (no build isolation: it would fetch
# setuptools unchecked; the venv's comes from the lock).
# (setuptools' deprecation warnings go to the log, shown only if the build fails)
"$py" -m pip wheel -q --no-deps --no-build-isolation -w "$stage/wheel" "$root" \
  >"$stage/wheel.log" 2>&1 || { cat "$stage/wheel.log" >&2; exit 1; }
rm -rf "$root/build"
wheel="$(ls "$stage"/wheel/secure_send-*.whl)"

# lib ROLE LOCK: /opt/secure-send-ROLE/lib from LOCK (pip and setuptools are build tools,
# not needed to run: left out) and the project's wheel, compiled to bytecode (the service
# user cannot write __pycache__ under /opt).
install_lib() {
  local lib="$1" lock="$2"
  awk '/^[a-z0-9]/ { skip = ($0 ~ /^(pip|setuptools)==/) } !skip' "$lock" > "$stage/req.txt"
  "$py" -m pip install -q --disable-pip-version-check --no-compile --require-hashes \
    --only-binary=:all: --no-deps --target "$lib" -r "$stage/req.txt"
  # console scripts with the build machine's interpreter in their #!: ours are in /usr/bin
  rm -rf "$lib/bin"
  "$py" -m pip install -q --disable-pip-version-check --no-compile --no-deps \
    --target "$lib" "$wheel"
  rm -rf "$lib/bin"
  "$py" -m compileall -q -j 0 --invalidation-mode checked-hash "$lib" >/dev/null
}

# build ROLE COMMAND MODULE: the files both packages have
build() {
  local role="$1" command="$2" module="$3"
  local name="secure-send-$role" pkg="$stage/secure-send-$role"
  mkdir -p "$pkg/DEBIAN" "$pkg/opt/$name" "$pkg/usr/bin" "$pkg/lib/systemd/system" \
    "$pkg/usr/share/doc/$name"
  install_lib "$pkg/opt/$name/lib" "$root/requirements/lock-$role.txt"
  sed -e "s/@COMMAND@/$command/g" -e "s/@PACKAGE@/$name/g" -e "s/@MODULE@/$module/g" \
    "$here/launcher.in" > "$pkg/usr/bin/$command"
  chmod 0755 "$pkg/usr/bin/$command"
  install -m 0644 "$root/docs/deployment.md" "$root/docs/server.md" "$pkg/usr/share/doc/$name/"
  for script in postinst prerm postrm; do
    install -m 0755 "$here/$role.$script" "$pkg/DEBIAN/$script"
  done
  : > "$pkg/DEBIAN/conffiles"
}

build_server() {
  build server secure-send-server secure_send.server.cli
  local pkg="$stage/secure-send-server"
  install -m 0644 "$here/secure-send-server.service" "$pkg/lib/systemd/system/"
  install -d -m 0755 "$pkg/etc/secure-send"
  install -d -m 0750 "$pkg/etc/secure-send/secrets"  # group set by postinst (statoverride)
  install -m 0644 "$here/server.toml" "$pkg/etc/secure-send/server.toml"
  echo /etc/secure-send/server.toml > "$pkg/DEBIAN/conffiles"
  control server "adduser" "Secure Send drop server (systemd service)" \
" The drop server of Secure Send: it holds only ciphertext and the IT-signed
 staff directory, and serves both to the desktop app. Runs as the secure-send
 user from /var/lib/secure-send; settings in /etc/secure-send/server.toml."
}

build_admin() {
  build admin secure-send-admin secure_send.admin.cli
  install -m 0644 "$here/secure-send-signer.service" "$stage/secure-send-admin/lib/systemd/system/"
  control admin "adduser" "Secure Send administration and directory signer" \
" IT's tools for Secure Send: secure-send-admin (the organisation's directory,
 enrolment, LDAP import, the drop server's folder) and the directory signer's
 systemd unit, secure-send-signer.service (not enabled at install)."
}

# control ROLE EXTRA-DEPENDS SUMMARY DESCRIPTION
control() {
  local role="$1" name="secure-send-$1" pkg="$stage/secure-send-$1"
  local installed_kb
  installed_kb="$(du -sk --exclude=DEBIAN "$pkg" | cut -f1)"
  cat > "$pkg/DEBIAN/control" <<CONTROL
Package: $name
Version: $version
Architecture: $arch
Maintainer: Secure Send maintainers <secure-send@localhost>
Section: net
Priority: optional
Installed-Size: $installed_kb
Depends: python3 (>= $pyver), python3 (<< $pynext), $2
Description: $3
$4
CONTROL
  local out="$root/dist/${name}_${version}_${arch}.deb"
  # root-owned files without needing root to build. zstd -9, not dpkg's default xz: 1.5 s
  # instead of about a minute for the server's 116 MB, for 39 MB instead of 34 (dpkg reads
  # zstd since Debian 12 and Ubuntu 21.10)
  dpkg-deb --root-owner-group -Zzstd -z9 --build "$pkg" "$out" >/dev/null
  echo "built $out ($(du -h "$out" | cut -f1), installed ${installed_kb} KB)"
}

roles=("$@")
[ ${#roles[@]} -gt 0 ] || roles=(server admin)
for role in "${roles[@]}"; do
  case "$role" in
    server) build_server ;;
    admin) build_admin ;;
    *) echo "unknown package $role (server or admin)" >&2; exit 2 ;;
  esac
done
