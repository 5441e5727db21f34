# naome-report: two commands on a fresh machine.
#   make annual-report   build every output from the bundled synthetic cohort (or your extract), then the
#                        disclosure audit of every public output (a leak fails it)
#   make test            run the test suite
# Each installs what it needs on first use (.venv from pyproject.toml, fonts, test tools).

# The interpreter .venv is made from: the system's optimised python3 when it has one (see scripts/pick-python.sh).
PYTHON ?= $(shell scripts/pick-python.sh)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
BASE := $(VENV)/.base-python

.PHONY: annual-report test bench clean system-deps test-deps help FORCE

help:
	@echo "make annual-report [CONFIG=path/naome.toml] | make test | make bench | make clean"

# Rewritten only when the interpreter changes, so that .venv is remade from the new one (and only then).
$(BASE): FORCE
	@mkdir -p $(VENV); echo "$(PYTHON)" | cmp -s - $@ || echo "$(PYTHON)" > $@

$(STAMP): pyproject.toml $(BASE)
	$(PYTHON) -m venv --clear $(VENV)
	echo "$(PYTHON)" > $(BASE)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,bench]'
	touch $(STAMP)

system-deps:
	@bash scripts/ensure-system-deps.sh runtime

test-deps:
	@bash scripts/ensure-system-deps.sh test

annual-report: $(STAMP) system-deps
	$(PY) -m naome_report $(if $(CONFIG),--config $(CONFIG)) build
	$(PY) -m naome_report $(if $(CONFIG),--config $(CONFIG)) audit

test: $(STAMP) system-deps test-deps
	$(PY) -m pytest -q

bench: $(STAMP) system-deps
	$(PY) bench/run.py

clean:
	rm -rf output .pytest_cache
