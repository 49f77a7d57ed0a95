# The two set-up commands of the README are `make run` and `make test`; both are idempotent.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Stamp files make the installs re-run only when the project's metadata changes.
RUN_STAMP := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test

.PHONY: run test lint bench fuzz clean help install uninstall image

help:
	@echo "make run    - create .venv, install, start the appliance on its embedded defaults"
	@echo "make test   - create .venv with test tools, ensure Mosquitto, run the whole test suite"
	@echo "make lint   - ruff, mypy --strict and import-linter only"
	@echo "make bench  - run the benchmarks (results go to bench/RESULTS.md by hand)"
	@echo "make fuzz   - run the property tests with 20,000 examples each"
	@echo "make install   - install as a systemd service (sudo; INSTALL_ARGS=\"--region EU868 --board none\")"
	@echo "make uninstall - remove the service, keep configuration and data (UNINSTALL_ARGS=--purge deletes)"
	@echo "make image     - build the Raspberry Pi OS Lite image with pi-gen (sudo, Debian host)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(RUN_STAMP)

run: $(RUN_STAMP)
	$(BIN)/appliance run --simulate 3

test: $(TEST_STAMP)
	scripts/ensure-mosquitto.sh
	scripts/ensure-test-tools.sh
	$(BIN)/python -m pytest

lint: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy --strict appliance hal
	$(BIN)/lint-imports

bench: $(TEST_STAMP)
	$(BIN)/python -m bench

fuzz: $(TEST_STAMP)
	HYPOTHESIS_PROFILE=fuzz $(BIN)/python -m pytest -q --timeout 0 tests/lorawan tests/hal tests/fuzz tests/api/test_api_fuzz.py

# Deployment (docs/deployment.md): the scripts create their own virtualenv in /opt.
install:
	scripts/install.sh $(INSTALL_ARGS)

uninstall:
	scripts/uninstall.sh $(UNINSTALL_ARGS)

image:
	image/build.sh $(IMAGE_ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
