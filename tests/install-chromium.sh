#!/usr/bin/env bash
# The pipelines page is tested in a real browser: Debian's headless Chromium and its chromedriver.
# Installs them when missing (make test runs this; a fresh CI machine has neither); ~1.5 min.
set -euo pipefail
if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
    exit 0
fi
SUDO=()
if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null 2>&1 || { echo "install-chromium: not root and no sudo: apt-get install chromium chromium-driver" >&2; exit 1; }
    SUDO=(sudo)
fi
echo "install-chromium: installing Debian's chromium and chromium-driver (the page tests need them)"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null
chromium --version
