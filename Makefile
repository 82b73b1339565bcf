# Every target uses one virtualenv at .venv/ in the repo root (created on first use).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
export AIRFLOW__CORE__LOAD_EXAMPLES ?= False
# Test processes: the integration tests mostly wait on the emulator, so more workers than cores pay.
TEST_WORKERS ?= 4

.PHONY: venv test test-unit test-integration lint demo bench schema sdk-tables clean

$(STAMP): setup.cfg pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

lint: venv
	$(BIN)/ruff check provider dags plugins tests benchmarks

test: venv lint
	$(BIN)/python -m pytest -q -p no:cacheprovider -n $(TEST_WORKERS) --dist loadfile

test-unit: venv
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile -m "not integration"

test-integration: venv
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile -m integration

demo: venv
	$(BIN)/mlops-orchestrator demo dags

bench: venv
	$(BIN)/python benchmarks/parse_benchmark.py

schema: venv
	$(BIN)/mlops-orchestrator schema

# After changing the sagemaker-core (or botocore) pin: record the SDK's image answers again.
sdk-tables: venv
	$(BIN)/python -m mlops_orchestrator.sdk_tables

clean:
	rm -rf $(VENV) build dist *.egg-info provider/*.egg-info .pytest_cache
