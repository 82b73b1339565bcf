#!/usr/bin/env bash
# The wheel under Amazon MWAA's pins: for each MWAA version, a fresh virtualenv on MWAA's Python
# (3.12) gets Airflow and our wheel with MWAA's two constraints files and nothing overridden, as
# MWAA installs a requirements.txt; then the test tools (same constraints), the unit tests against
# the installed wheel, and realtime pipelines on that Airflow's own services and the local AWS
# emulator (tests/integration/test_airflow_services.py).
#
#   tests/mwaa/check.sh [VERSION...]        (default: every tests/mwaa/airflow-*-constraints.txt)
#
# MWAA_PYTHON picks the interpreter (default: python3.12 if found, else python3, said loudly).
# Work goes to build/mwaa/; each version's log to build/mwaa/VERSION.log.
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

if [[ $# -gt 0 ]]; then
    VERSIONS=("$@")
else
    VERSIONS=()
    for file in tests/mwaa/airflow-*-constraints.txt; do
        [[ $file == *essential* ]] || VERSIONS+=("$(basename "$file" | sed 's/^airflow-//; s/-constraints.txt$//')")
    done
fi

# One wheel for every version (what `make mwaa-bundle` ships too).
rm -rf "$OUT/dist"
"$REPO/.venv/bin/python" -m build --wheel --no-isolation --outdir "$OUT/dist" "$REPO" >"$OUT/build.log" 2>&1 \
    || { cat "$OUT/build.log"; exit 1; }
WHEEL=$(ls "$OUT"/dist/airflow_provider_mlops_orchestrator-*.whl)

check_version() {
    local version=$1
    local constraints=tests/mwaa/airflow-$version-constraints.txt
    local essential=tests/mwaa/airflow-$version-essential-constraints.txt
    local venv=$OUT/venv-$version
    local pins=(-c "$constraints" -c "$essential")
    rm -rf "$venv" "$OUT/home-$version"
    "$PYTHON" -m venv "$venv"
    local pip=("$venv/bin/python" -m pip --disable-pip-version-check)
    echo "== MWAA $version on Python $PY_VERSION: apache-airflow==$version and $(basename "$WHEEL") with MWAA's constraints"
    "${pip[@]}" install --quiet "apache-airflow==$version" "$WHEEL" "${pins[@]}"
    "${pip[@]}" check
    "$venv/bin/python" - <<'EOF'
import importlib.util, sys
from importlib.metadata import version
assert importlib.util.find_spec("sagemaker") is None, "the SageMaker SDK must not be needed at run time"
print("installed:", ", ".join(f"{d} {version(d)}" for d in (
    "apache-airflow", "apache-airflow-providers-amazon", "boto3", "pydantic", "airflow-provider-mlops-orchestrator")))
EOF
    echo "== MWAA $version: test tools (same constraints), unit tests against the installed wheel"
    "${pip[@]}" install --quiet "$WHEEL[local]" pytest pytest-timeout cfn-lint "${pins[@]}"
    local home=$OUT/home-$version
    mkdir -p "$home"
    (
        cd "$home"  # not the checkout: mlops_orchestrator must come from the wheel
        export AIRFLOW_HOME=$home AIRFLOW__CORE__LOAD_EXAMPLES=False
        "$venv/bin/python" -c 'import mlops_orchestrator, sys; assert "site-packages" in mlops_orchestrator.__file__, mlops_orchestrator.__file__'
        # the unit tests, and realtime pipelines run by the scheduler, DAG processor, triggerer
        # and API server of this Airflow on the local AWS emulator (retries off: no failure hides)
        "$venv/bin/python" -m pytest -q -p no:cacheprovider \
            "$REPO/tests/unit" "$REPO/tests/integration/test_airflow_services.py"
    )
}

status=0
for version in "${VERSIONS[@]}"; do
    if check_version "$version" >"$OUT/$version.log" 2>&1; then
        echo "mwaa-check: MWAA $version: ok"
    else
        echo "mwaa-check: MWAA $version: FAILED"
        status=1
    fi
    cat "$OUT/$version.log"
done
exit $status
