"""Headless Chromium (Debian's chromium and chromedriver) driven by Selenium, for tests of pages.

A test that needs a browser must not pass without one: a missing chromium fails loudly, naming
what installs it (``make test`` does, through ``tests/install-chromium.sh``).
"""

from __future__ import annotations

import shutil
import tempfile

import pytest

FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
    "--window-size=1400,1000",
)


def chromium():
    """A Selenium Chrome driver on Debian's chromium; the caller quits it."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    if not binary or not driver_path:
        pytest.fail(
            "headless Chromium is required for the page tests and was not found "
            f"(chromium: {binary}, chromedriver: {driver_path}); `make test` installs it "
            "(tests/install-chromium.sh: apt-get install chromium chromium-driver)"
        )
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tempfile.mkdtemp(prefix='mlops-chromium-')}")
    return webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
