"""pytest plugin, installed with the package (entry point pytest11): an emulator for every test session.

Fixtures:
    xweb_emulator           the emulator, reset to the demo data before the test (function scope)
    xweb_emulator_server    the same emulator without the reset (session scope)
    xweb_emulator_settings  setting overrides for it, {} by default: override this fixture in a conftest.py
    xweb_emulator_zeep      a factory of zeep clients bound to it: xweb_emulator_zeep("xweb"), ("sap")

Each test session (each pytest-xdist worker too) starts its own emulator in its own process, on a free port of
127.0.0.1 over its own temporary SQLite database, unless `database_url` is overridden. `--xweb-emulator-url URL`
uses an emulator that is already running instead (its control plane must be enabled).

    @pytest.mark.xweb_emulator(empty=True)   reset to no records at all (but the configured users)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from xweb_emulator.testing import EmulatorClient

# The emulator itself (spyne, SQLAlchemy …) is imported by the fixtures that start it: every pytest run of a
# project that has the package installed loads this plugin, and most of its tests never ask for an emulator.


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("xweb-emulator").addoption(
        "--xweb-emulator-url", metavar="URL", default=None,
        help="Use the emulator running at URL instead of starting one in the test process.",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "xweb_emulator(empty=False): how the xweb_emulator fixture resets the emulator for this test",
    )


@pytest.fixture(scope="session")
def xweb_emulator_settings() -> dict[str, Any]:
    """Settings for the session's emulator (names as in xweb_emulator.settings.Settings). Override in conftest.py:

        @pytest.fixture(scope="session")
        def xweb_emulator_settings():
            return {"xweb_token_expiration": "Sliding", "journal_body_bytes": 1_000_000}
    """
    return {}


@pytest.fixture(scope="session")
def xweb_emulator_server(xweb_emulator_settings, tmp_path_factory, pytestconfig) -> Iterator[EmulatorClient]:
    from xweb_emulator.settings import Settings
    from xweb_emulator.testing import EmulatorClient, run_emulator

    url = pytestconfig.getoption("xweb_emulator_url")
    if url:
        yield EmulatorClient(url, Settings(**xweb_emulator_settings))
        return
    settings = {"database_url": f"sqlite:///{tmp_path_factory.mktemp('xweb-emulator') / 'emulator.db'}",
                **xweb_emulator_settings, "host": "127.0.0.1", "port": 0}
    with run_emulator(Settings(**settings)) as emulator:
        yield emulator


@pytest.fixture
def xweb_emulator(xweb_emulator_server: EmulatorClient, request: pytest.FixtureRequest) -> EmulatorClient:
    marker = request.node.get_closest_marker("xweb_emulator")
    xweb_emulator_server.reset(empty=bool(marker and marker.kwargs.get("empty")))
    return xweb_emulator_server


@pytest.fixture
def xweb_emulator_zeep(xweb_emulator: EmulatorClient) -> Callable[..., Any]:
    """zeep clients bound to the emulator's WSDLs: xweb_emulator_zeep() for xWeb, xweb_emulator_zeep("sap")."""
    return xweb_emulator.zeep_client
