"""What the system layer's browser tests share: one headless Chromium per session (each xdist worker its own), from
Debian's packages, driven by Selenium through the system chromedriver (nothing downloads a browser or a driver).
Without them the browser tests skip, saying why; with XWEB_EMULATOR_TEST_REQUIRE_BROWSER=1 (CI) they fail instead."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest

from browser_support import CHROMEDRIVER, CHROMIUM, CHROMIUM_FLAGS, DESKTOP, REQUIRE_BROWSER

@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the session (each xdist worker its own), with a fresh profile."""
    problem = None
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError as error:
        problem = f"selenium is not installed ({error}): install the package's test extra"
    else:
        missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not os.access(path, os.X_OK)]
        if missing:
            problem = (f"{' and '.join(missing)} not installed: the dashboard's browser tests need Debian's chromium "
                       "and chromium-driver (make test installs them where it may: scripts/ensure-chromium)")
    if problem:
        if REQUIRE_BROWSER:
            pytest.fail(problem)
        pytest.skip(problem)
    profile = tempfile.mkdtemp(prefix="xweb-emulator-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    # The system chromedriver, named: Selenium Manager then has nothing to look up or download.
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_window_size(*DESKTOP)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
