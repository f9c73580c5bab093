#!/usr/bin/env bash
# Regenerate the hash-pinned lock files in requirements/ from pyproject.toml (issue 14,
# item 18). Every install this project makes goes through one of them with
# `pip install --require-hashes`, so a release re-uploaded or swapped on the index, or a
# dependency that moved on, cannot slip into a build unseen.
#
#   requirements/lock-dev.txt     the dev extra (every role and the test tools), pip and
#                                 setuptools: `make setup`, CI
#   requirements/lock-app.txt     the desktop bundle's build: the base, [gui], PyInstaller
#                                 (`make package`, .github/workflows/{windows,macos}.yml)
#   requirements/lock-server.txt  the drop server host: the base, [server], pip, setuptools
#   requirements/lock-admin.txt   IT's host: the base, [admin], pip, setuptools
#
# The other three take the versions of lock-dev.txt (-c), so the bundle and the hosts
# run what the tests ran. All four are universal (Linux, Windows, macOS; markers select)
# for CPython 3.11. Needs uv and the index (PyPI):
#
#   python3 -m venv /tmp/uv && /tmp/uv/bin/pip install uv && UV=/tmp/uv/bin/uv scripts/lock.sh
#
# Existing pins are kept; `scripts/lock.sh --upgrade` (or `--upgrade-package NAME`)
# moves them. tests/packaging/test_lock_files.py checks the result covers pyproject.toml.
set -euo pipefail
cd "$(dirname "$0")/.."

uv="${UV:-uv}"
compile() {
  local out="$1"
  shift
  "$uv" pip compile --quiet --universal --python-version 3.11 --generate-hashes \
    --custom-compile-command scripts/lock.sh -o "$out" "$@"
}

compile requirements/lock-dev.txt pyproject.toml requirements/setup.in --extra dev "$@"
dev=(-c requirements/lock-dev.txt)
compile requirements/lock-app.txt pyproject.toml requirements/app.in --extra gui "${dev[@]}" "$@"
compile requirements/lock-server.txt pyproject.toml requirements/setup.in --extra server "${dev[@]}" "$@"
compile requirements/lock-admin.txt pyproject.toml requirements/setup.in --extra admin "${dev[@]}" "$@"
