"""The WSGI application: the call pipeline over an `Emulator`, with the control plane when it is on; and the same
behind RSGI, as `xweb-emulator serve` runs it (rsgi.py)."""

from __future__ import annotations

import gc

from xweb_emulator.control.routes import ControlPlane
from xweb_emulator.emulator import Emulator
from xweb_emulator.pipeline import Pipeline
from xweb_emulator.rsgi import RsgiApplication
from xweb_emulator.settings import Settings


def create_app(settings: Settings, emulator: Emulator | None = None) -> Pipeline:
    """The application over a database that `prepare_database` has made ready."""
    emulator = emulator if emulator is not None else Emulator(settings)
    return Pipeline(emulator, ControlPlane(emulator) if settings.control_plane else None)


def prepare_database(settings: Settings) -> Emulator:
    """Bring the schema to the latest migrations and the configured users, fault rules (and demo data) in. Run once,
    before workers start; the emulator it answers holds no open connection (workers may fork after it)."""
    emulator = Emulator(settings)
    emulator.migrate()
    return emulator


def rsgi_app() -> RsgiApplication:
    """The factory granian's workers call: settings from the environment the `serve` command set."""
    settings = Settings()
    app = RsgiApplication(create_app(settings), settings)
    collect_as_a_server()
    return app


def collect_as_a_server() -> None:
    """The garbage collector as a serving process wants it, once its application is built (bench/cpu_profile.py
    measures with it too)."""
    # What the process holds now (the modules, the application) lives as long as it does: out of the collector's
    # sight, a full collection no longer walks it. Measured in-process on 10 bulk calls of 1000 records: 0.42 s of
    # collections fall to 0.10 s (xWeb), 2.7 s to 0.6 s (SAP).
    gc.freeze()
    # A bulk call holds tens of thousands of objects until it ends; collected every 700 allocations, they were walked
    # again and again on their way to the oldest generation. Every 10,000, most are freed (by reference counting)
    # before a collection sees them: 10 SAP bulk calls spent 0.24 s in collections, 0.12 s now.
    gc.set_threshold(10_000)
