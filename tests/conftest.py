"""Fixtures: the emulator's real WSGI application served over HTTP, on SQLite and on a real PostgreSQL server.

Every test that takes `emulator` runs once per backend and starts from the demo data.
"""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Iterator

import pytest
from werkzeug.serving import make_server

from support import Emulator
from postgres import start_server
from xweb_emulator.app import create_app, prepare_database
from xweb_emulator.settings import Settings

REQUIRE_POSTGRESQL = os.environ.get("XWEB_EMULATOR_TEST_REQUIRE_POSTGRESQL") == "1"


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


def serve(settings: Settings) -> Iterator[Emulator]:
    """The application on a real HTTP server in this process, for as long as the generator is open."""
    app = create_app(settings)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Emulator(settings, app, f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        thread.join()
        app.database.dispose()


@pytest.fixture(scope="session")
def served(database_url) -> Iterator[Emulator]:
    settings = Settings(database_url=database_url)
    prepare_database(settings)
    yield from serve(settings)


@pytest.fixture
def emulator(served: Emulator) -> Emulator:
    served.reset()
    return served


@pytest.fixture
def emulator_with(emulator: Emulator):
    """Another server over the same (freshly reset) database, with some settings changed: emulator_with(xweb_…=…)."""
    generators = []

    def start(**changes) -> Emulator:
        generator = serve(emulator.settings.model_copy(update=changes))
        generators.append(generator)
        return next(generator)

    yield start
    for generator in generators:
        generator.close()
