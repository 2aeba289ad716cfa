"""The WSGI application: the call pipeline over an `Emulator`, with the control plane when it is on; and the same
behind RSGI, as `xweb-emulator serve` runs it (rsgi.py)."""

from __future__ import annotations

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
    return RsgiApplication(create_app(settings), settings)
