#!/usr/bin/env bash
# The wheel under Amazon MWAA's pins: for each MWAA version, a fresh virtualenv on MWAA's Python
# (3.12) gets Airflow and our wheel with MWAA's two constraints files and nothing overridden, as
# MWAA installs a requirements.txt; then the test tools (same constraints), the unit tests against
# the installed wheel, and realtime pipelines on that Airflow's own services and the local AWS
# emulator (tests/integration/test_airflow_services.py).
#
#   tests/mwaa/check.sh [install|test|all] [VERSION...]
#
# install: build the wheel, make each version's virtualenv and install into it (mostly pip's
#          downloads and unpacking: CI runs it beside the test suite);
# test:    the tests in each version's virtualenv, the versions at once (CI runs it after the suite,
#          whose timing-sensitive emulator tests must not share the cores with two more pytests);
# all:     both (the default). VERSION defaults to every tests/mwaa/airflow-*-constraints.txt.
#
# MWAA_PYTHON picks the interpreter (default: python3.12 if found, else python3, said loudly).
# Work goes to build/mwaa/; each version's logs to build/mwaa/VERSION-{install,test}.log.
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$PWD
OUT=$REPO/build/mwaa
mkdir -p "$OUT"

python_for_mwaa() {
    if [[ -n "${MWAA_PYTHON:-}" ]]; then echo "$MWAA_PYTHON"; return; fi
    for candidate in python3.12 "$(pyenv root 2>/dev/null)/versions/3.12"*/bin/python3.12; do
        if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import venv' 2>/dev/null; then
            echo "$candidate"; return
        fi
    done
    echo "python3"
}
PYTHON=$(python_for_mwaa)
PY_VERSION=$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
if [[ $PY_VERSION != 3.12 ]]; then
    echo "mwaa-check: WARNING: no Python 3.12 here; MWAA runs 3.12, this check runs $PY_VERSION" >&2
fi

PHASE=all
if [[ $# -gt 0 && $1 =~ ^(install|test|all)$ ]]; then
    PHASE=$1
    shift
fi
if [[ $# -gt 0 ]]; then
    VERSIONS=("$@")
else
    VERSIONS=()
    for file in tests/mwaa/airflow-*-constraints.txt; do
        [[ $file == *essential* ]] || VERSIONS+=("$(basename "$file" | sed 's/^airflow-//; s/-constraints.txt$//')")
    done
fi

build_wheel() {  # one wheel for every version (what `make mwaa-bundle` ships too)
    rm -rf "$OUT/dist"
    "$REPO/.venv/bin/python" -m build --wheel --no-isolation --outdir "$OUT/dist" "$REPO" >"$OUT/build.log" 2>&1 \
        || { cat "$OUT/build.log"; return 1; }
}

install_version() {
    local version=$1
    local pins=(-c "tests/mwaa/airflow-$version-constraints.txt" -c "tests/mwaa/airflow-$version-essential-constraints.txt")
    local venv=$OUT/venv-$version
    local wheel
    wheel=$(ls "$OUT"/dist/airflow_provider_mlops_orchestrator-*.whl)
    rm -rf "$venv"
    "$PYTHON" -m venv "$venv"
    local pip=("$venv/bin/python" -m pip --disable-pip-version-check)
    echo "== MWAA $version on Python $PY_VERSION: apache-airflow==$version and $(basename "$wheel") with MWAA's constraints"
    "${pip[@]}" install --quiet "apache-airflow==$version" "$wheel" "${pins[@]}"
    "${pip[@]}" check
    "$venv/bin/python" - <<'PROBE'
import importlib.util
from importlib.metadata import version
assert importlib.util.find_spec("sagemaker") is None, "the SageMaker SDK must not be needed at run time"
print("installed:", ", ".join(f"{d} {version(d)}" for d in (
    "apache-airflow", "apache-airflow-providers-amazon", "boto3", "pydantic", "airflow-provider-mlops-orchestrator")))
PROBE
    echo "== MWAA $version: test tools (same constraints)"
    "${pip[@]}" install --quiet "$wheel[local]" pytest pytest-timeout cfn-lint "${pins[@]}"
}

test_version() {
    local version=$1
    local venv=$OUT/venv-$version
    local home=$OUT/home-$version
    rm -rf "$home"
    mkdir -p "$home"
    cd "$home"  # not the checkout: mlops_orchestrator must come from the wheel
    export AIRFLOW_HOME=$home AIRFLOW__CORE__LOAD_EXAMPLES=False
    "$venv/bin/python" -c 'import mlops_orchestrator; assert "site-packages" in mlops_orchestrator.__file__, mlops_orchestrator.__file__'
    # the unit tests, and realtime pipelines run by the scheduler, DAG processor, triggerer and
    # API server of this Airflow on the local AWS emulator (retries off: no failure hides); the
    # plugin's API on that API server (its page's browser test runs in the suite: no Selenium here)
    echo "== MWAA $version: unit tests, pipelines and the plugin's API on real Airflow services, from the installed wheel"
    "$venv/bin/python" -m pytest -q -p no:cacheprovider \
        "$REPO/tests/unit" "$REPO/tests/integration/test_airflow_services.py" \
        "$REPO/tests/integration/test_plugin_api.py" -k "not chromium"
}

status=0
if [[ $PHASE != test ]]; then
    build_wheel
    for version in "${VERSIONS[@]}"; do
        # in the background and waited for: a function called as an `if` condition runs without set -e
        ( install_version "$version" ) >"$OUT/$version-install.log" 2>&1 &
        if wait $!; then
            echo "mwaa-check: MWAA $version: installed"
        else
            echo "mwaa-check: MWAA $version: install FAILED"
            status=1
        fi
        cat "$OUT/$version-install.log"
    done
fi
if [[ $PHASE != install && $status -eq 0 ]]; then
    pids=()
    for version in "${VERSIONS[@]}"; do
        ( test_version "$version" ) >"$OUT/$version-test.log" 2>&1 &
        pids+=($!)
    done
    for index in "${!VERSIONS[@]}"; do
        version=${VERSIONS[$index]}
        if wait "${pids[$index]}"; then
            echo "mwaa-check: MWAA $version: tests passed"
        else
            echo "mwaa-check: MWAA $version: tests FAILED"
            status=1
        fi
        cat "$OUT/$version-test.log"
    done
fi
exit $status
