"""Fixtures: the emulator's real WSGI application served over HTTP, on SQLite and on a real PostgreSQL server.

The server is the one the package's own pytest plugin starts (xweb_emulator.pytest_plugin), its database chosen
here: every test that takes `emulator` (or the plugin's `xweb_emulator`) runs once per backend and starts from the
demo data.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from typing import TYPE_CHECKING
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.database import DirectoryBasedExampleDatabase

from support import VENDOR_WSDL, Emulator
from postgres import start_server
from xweb_emulator.testing import run_emulator

if TYPE_CHECKING:
    import zeep

REQUIRE_POSTGRESQL = os.environ.get("XWEB_EMULATOR_TEST_REQUIRE_POSTGRESQL") == "1"

# Hypothesis (tests/integration/test_property_fuzz.py): `make test` runs the bounded profile, the same examples every
# run; `make fuzz` the long one (pytest --hypothesis-profile=fuzz), which keeps the examples that failed in .hypothesis/ and
# replays them first next time. A call over HTTP may take a while on a loaded machine: the deadline is generous.
_SLOW_IS_FINE = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]
settings.register_profile("bounded", max_examples=80, deadline=timedelta(seconds=10), derandomize=True,
                          database=None, suppress_health_check=_SLOW_IS_FINE)
settings.register_profile("fuzz", max_examples=5_000, deadline=timedelta(seconds=30), suppress_health_check=_SLOW_IS_FINE,
                          database=DirectoryBasedExampleDatabase(Path(__file__).resolve().parents[1] / ".hypothesis"
                                                                 / "examples"))
settings.load_profile("bounded")


@pytest.fixture(scope="session")
def postgresql_url() -> Iterator[str]:
    try:
        server = start_server()
    except (OSError, subprocess.CalledProcessError) as error:
        detail = getattr(error, "stderr", "") or error
        message = f"PostgreSQL could not be started for the suite: {detail}"
        if REQUIRE_POSTGRESQL:
            pytest.fail(message)
        pytest.skip(message + " (make test installs and starts it)")
    yield server.url
    server.stop()


@pytest.fixture(scope="session", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def database_url(request, tmp_path_factory) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'xweb-emulator.db'}"
    return request.getfixturevalue("postgresql_url")


@pytest.fixture(scope="session")
def xweb_emulator_settings(database_url) -> dict:
    return {"database_url": database_url}


@pytest.fixture(scope="session")
def served(xweb_emulator_server) -> Emulator:
    """The plugin's server, with the suite's own helpers (support.Emulator)."""
    return Emulator(xweb_emulator_server.base_url, xweb_emulator_server.settings, xweb_emulator_server.emulator)


@pytest.fixture
def emulator(served: Emulator) -> Emulator:
    served.reset()
    return served


@pytest.fixture
def emulator_with(emulator: Emulator) -> Iterator:
    """Another server over the same (freshly reset) database, with some settings changed: emulator_with(xweb_…=…)."""
    with ExitStack() as servers:
        yield lambda **changes: servers.enter_context(
            run_emulator(emulator.settings.model_copy(update=changes), factory=Emulator))


@pytest.fixture(scope="session")
def vendor_client() -> zeep.Client:
    """zeep bound to the vendor's own xWeb 2010 WSDL (../shared); point a service of it at the emulator."""
    import zeep  # here, not above: the unit layer, which binds no client, starts without it
    if not VENDOR_WSDL.is_file():
        pytest.skip(f"the vendor's xWeb 2010 WSDL is not at {VENDOR_WSDL} (../shared is absent beside this clone)")
    return zeep.Client(str(VENDOR_WSDL))
