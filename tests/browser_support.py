"""The headless Chromium of the browser tests (tests/system/conftest.py's `browser`): where it is, how it starts."""

from __future__ import annotations

import os

CHROMIUM = os.environ.get("XWEB_EMULATOR_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("XWEB_EMULATOR_CHROMEDRIVER", "/usr/bin/chromedriver")
REQUIRE_BROWSER = os.environ.get("XWEB_EMULATOR_TEST_REQUIRE_BROWSER") == "1"
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage", "--window-size=1280,900")
DESKTOP, PHONE = (1280, 900), (375, 812)
