# Sluice: `make run` for the demo, `make test` for the suite. See README.md.

PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-pyproject

.PHONY: run test chaos load lint fmt venv

# The virtualenv, created once; the project (with its dev extra) reinstalled only when
# pyproject.toml is newer than the stamp left by the last install.
venv: $(STAMP)

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -e '.[dev]'
	touch $@

# Everything up (web, worker, cron, an embedded Redis) with demo data; Ctrl-C stops it all.
run: venv
	$(PY) scripts/run_demo.py

# The suite against real PostgreSQL and Redis; any of these may be overridden from the environment.
# TEST_WORKERS=2 shares it out to pytest-xdist workers (0, the default: one process; README says why);
# worker gwN uses test_<name>_gwN and REDIS_URL's database + N (tests/fixtures/parallel.py).
TEST_WORKERS ?= 0
test: export DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/sluice
test: export REDIS_URL ?= redis://127.0.0.1:6379/10
test: export SLUICE_TESTING = 1
test: venv
	$(VENV)/bin/lint-imports
	$(PY) scripts/preflight.py
	@bash scripts/cjk_font.sh
	$(VENV)/bin/pytest -n $(TEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

# Releases through the WeChat simulator while it fails and workers are killed (bench/chaos.py);
# drops and recreates the database of CHAOS_DATABASE_URL (its name must contain chaos).
chaos: export CHAOS_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/sluice_chaos
chaos: export CHAOS_REDIS_URL ?= redis://127.0.0.1:6379/14
chaos: venv
	$(PY) bench/chaos.py $(CHAOS_ARGS)

# 50 users for 3 minutes on gunicorn + PostgreSQL at full scale, with the worker and review decisions
# (bench/load.py); seeds LOAD_DATABASE_URL on its first run (the database must exist). Not in `make test`.
load: export LOAD_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/sluice_bench_load
load: export LOAD_REDIS_URL ?= redis://127.0.0.1:6379/13
load: venv
	$(PY) bench/load.py --database-url $(LOAD_DATABASE_URL) --redis-url $(LOAD_REDIS_URL) $(LOAD_ARGS)

# Style, and the import contracts that keep the layers (pyproject.toml, [tool.importlinter]).
lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

fmt: venv
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .
