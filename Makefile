# Secure Send: one entry point for setting up, running and checking the project.
# `make demo` and `make test` are the README's two commands for a fresh machine.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup translations demo age-walkthrough test lint bench screenshots clean package

setup: $(STAMP) translations

# Compiled translations (.qm) are build output; the .ts catalogue is committed.
translations: $(STAMP)
	$(BIN)/python -c "from secure_send.gui.language import compile_all; compile_all()"

# Re-install when the project's declared dependencies change.
$(STAMP): pyproject.toml scripts/system-packages.sh
	./scripts/system-packages.sh
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

# The whole product on loopback: embedded drop server, demo ministry, two people;
# with a display, both people's apps open side by side afterwards.
demo: setup
	./scripts/system-packages.sh desktop
	$(BIN)/secure-send demo

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
	$(BIN)/pytest
	$(MAKE) --no-print-directory lint

bench: setup
	$(BIN)/python benchmarks/bench_age.py
	$(BIN)/python benchmarks/bench_server.py
	$(BIN)/python benchmarks/bench_send.py
	$(BIN)/python benchmarks/bench_gui.py

# The desktop bundle (PyInstaller, dist/secure-send/) and on Linux the .deb. PyInstaller
# is installed here, not in the dev extra: CI and `make test` do not need it. The bundle's
# self-test runs against a real key store (GNOME Keyring on a private D-Bus session).
package: setup
	$(BIN)/pip install -q pyinstaller
	$(MAKE) --no-print-directory translations
	$(BIN)/pyinstaller --noconfirm --clean packaging/secure_send.spec
	./scripts/with-os-keyring.sh dist/secure-send/secure-send self-test
	./packaging/build_deb.sh

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
