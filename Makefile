# Secure Send: one entry point for setting up, running and checking the project.
# `make demo` and `make test` are the README's two commands for a fresh machine.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup translations demo cluster age-walkthrough test lint bench screenshots clean package package-server

setup: $(STAMP) translations

# Compiled translations (.qm) are build output; the .ts catalogue is committed.
translations: $(STAMP)
	$(BIN)/python -c "from secure_send.gui.language import compile_all; compile_all()"

# Re-install when the project's declared dependencies or their lock change. Every
# third-party package (pip and setuptools too) comes from the lock, each checked against
# its SHA-256 (requirements/, scripts/lock.sh). Hash checking refuses an editable install,
# so the project itself follows without dependencies (the lock had them) and without
# build isolation (which would fetch setuptools unchecked).
$(STAMP): pyproject.toml requirements/lock-dev.txt scripts/system-packages.sh
	./scripts/system-packages.sh
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --require-hashes -r requirements/lock-dev.txt
	$(BIN)/pip install -q --no-deps --no-build-isolation -e .
	touch $(STAMP)

# The whole product on loopback: embedded drop server, demo ministry, two people;
# with a display, both people's apps open side by side afterwards.
demo: setup
	./scripts/system-packages.sh desktop
	$(BIN)/secure-send demo

# The scale-out drop server on loopback (docs/deployment.md, "High availability"):
# PostgreSQL, SeaweedFS S3, three servers behind nginx, serving the demo ministry;
# it prints the `secure-send demo --server URL --org DIR` that walks through it.
cluster: setup
	$(BIN)/python scripts/cluster.py

# docs/screenshots/{ja,en}: every screen, under a virtual X server.
screenshots: setup
	./scripts/system-packages.sh screenshots
	$(BIN)/python scripts/screenshots.py

# The age-compatible encryption CLI and the admin directory tools, narrated.
age-walkthrough: setup
	PATH="$(CURDIR)/$(BIN):$$PATH" ./scripts/age-walkthrough.sh

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Tests first (they say the most), then the linters; any failure fails the target.
test: setup
	# everything but the desktop tests on two workers (they mostly wait on servers, engines
	# and subprocesses), then the desktop tests in one process (one Qt application, and
	# short socket paths: tests/gui/test_instance_socket.py)
	$(BIN)/pytest -n 2 --ignore=tests/gui
	$(BIN)/pytest tests/gui
	# the server suite again on the scale-out backend (real PostgreSQL and SeaweedFS S3, started by the
	# tests: tests/engines/shared.py; two workers, since the pass mostly waits on the engines);
	# tests about the embedded files are skipped there, the PostgreSQL/S3-only ones run here
	SECURE_SEND_TEST_BACKEND=scaled $(BIN)/pytest -q -n 2 tests/server
	$(MAKE) --no-print-directory lint

bench: setup
	$(BIN)/python benchmarks/bench_age.py
	$(BIN)/python benchmarks/bench_server.py
	$(BIN)/python benchmarks/bench_send.py
	$(BIN)/python benchmarks/bench_gui.py

# The desktop bundle (PyInstaller, dist/secure-send/), its bill of materials
# (dist/secure-send.cdx.json, CycloneDX: what went into the bundle) and on Linux the .deb.
# PyInstaller comes from the bundle's lock (the versions of the dev lock, hash-checked),
# not from the dev extra: `make test` does not need it. The bundle's self-test runs
# against a real key store (GNOME Keyring on a private D-Bus session).
package: setup
	$(BIN)/pip install -q --require-hashes -r requirements/lock-app.txt
	$(MAKE) --no-print-directory translations
	$(BIN)/pyinstaller --noconfirm --clean packaging/secure_send.spec
	./scripts/with-os-keyring.sh dist/secure-send/secure-send self-test
	./packaging/build_deb.sh

# The server-side Debian packages (packaging/build_server_deb.sh): secure-send-server (the
# drop server and its systemd unit) and secure-send-admin (IT's CLI and the signer's unit),
# each the project plus its hash-pinned lock's wheels, run by Debian's python3. Not part of
# `make package`: they need no PyInstaller, and a desktop build needs no server wheels.
package-server: setup
	./packaging/build_server_deb.sh

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
