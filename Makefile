# Every target uses one virtualenv at .venv/ in the repo root (created on first use).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
export AIRFLOW__CORE__LOAD_EXAMPLES ?= False
# Test processes: the integration tests mostly wait on the emulator, so more workers than cores pay.
TEST_WORKERS ?= 4

.PHONY: venv browser test test-unit test-integration lint demo bench schema sdk-tables wheel mwaa-check mwaa-bundle clean
# The MWAA version a bundle is for (tests/mwaa/ holds the constraints of each one we support).
MWAA_VERSION ?= 3.3.1

$(STAMP): setup.cfg pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	mkdir -p build  # setup.cfg's egg_base: the package's metadata is built there
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

lint: venv
	$(BIN)/ruff check provider dags plugins tests benchmarks

# Debian's headless Chromium for the pipelines page's browser test (installed when missing).
browser:
	tests/install-chromium.sh

test: venv lint browser
	$(BIN)/python -m pytest -q -p no:cacheprovider -n $(TEST_WORKERS) --dist loadfile

test-unit: venv
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile -m "not integration"

test-integration: venv browser
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

wheel: venv
	rm -rf build/dist
	$(BIN)/python -m build --wheel --no-isolation --outdir build/dist . > build/wheel.log 2>&1 || (cat build/wheel.log; false)

# The wheel under each MWAA version's pins: install, unit tests, pipelines on real Airflow services.
mwaa-check: venv
	tests/mwaa/check.sh

# What to upload to an MWAA environment's bucket, in build/mwaa-bundle/ (see README, "Amazon MWAA").
# Settings for startup.sh: make mwaa-bundle ASSETS_BUCKET=... [REGION_NAME=...] [KMS_KEY_ARN=...]
# [SOURCE_BUCKET=...] (the environment's bucket: where provisionpipeline writes configs)
mwaa-bundle: wheel
	$(BIN)/python -m mlops_orchestrator.mwaa_bundle --wheel $(wildcard build/dist/*.whl) \
		--mwaa-version $(MWAA_VERSION) \
		--constraints tests/mwaa/airflow-$(MWAA_VERSION)-constraints.txt \
		--essential tests/mwaa/airflow-$(MWAA_VERSION)-essential-constraints.txt \
		--dags $(or $(DAGS),dags) --out build/mwaa-bundle \
		$(if $(ASSETS_BUCKET),--assets-bucket $(ASSETS_BUCKET)) \
		$(if $(REGION_NAME),--region-name $(REGION_NAME)) \
		$(if $(KMS_KEY_ARN),--kms-key-arn $(KMS_KEY_ARN)) \
		$(if $(SOURCE_BUCKET),--source-bucket $(SOURCE_BUCKET))

clean:
	rm -rf $(VENV) build dist *.egg-info provider/*.egg-info .pytest_cache
