"""The emulator's one settings object: CLI flags over environment variables (XWEB_EMULATOR_*) over these defaults.

Its fields are the emulator's own (EmulatorSettings) and each registered vendor's, declared in the vendor's package
(<vendor>/settings.py: `Settings`, its fields named after the vendor) and mixed in here (xweb_emulator.vendors).
"""

from __future__ import annotations

import json
from typing import ClassVar

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from xweb_emulator import vendors
from xweb_emulator.faults import FaultSpec

ENV_PREFIX = "XWEB_EMULATOR_"


class EmulatorSettings(BaseSettings):
    """What every emulator has, whichever its vendors."""

    vendor_packages: ClassVar[tuple[str, ...]] = ()
    """The vendors' packages these settings are of (see settings_class)."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, frozen=True, extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    workers: int = Field(1, ge=1)
    threads: int = Field(8, ge=1, description="Request threads per worker process.")
    database_url: str = "sqlite:///xweb-emulator.db"
    max_request_bytes: int = Field(10 * 1024 * 1024, ge=1, description="Larger request bodies are refused with 413.")
    body_read_timeout_seconds: float = Field(30.0, gt=0, le=3600, description="A request whose body has not "
                                             "arrived whole within this many seconds is answered 408.")
    demo_data: bool = Field(True, description="Load the vendor samples' records into a database that has none.")

    # The test harness's own means (xweb_emulator.control).
    control_plane: bool = Field(True, description="Serve /_emulator/ (reset, seed, state, journal, faults, clock).")
    journal_limit: int = Field(1000, ge=0, description="Vendor calls the request journal keeps (0: none).")
    journal_body_bytes: int = Field(64 * 1024, ge=0, description="Bytes of each request and response body kept.")
    control_token: str | None = Field(None, description="When set, every /_emulator/ request must present it "
                                                          "(Authorization: Bearer <token> or X-Emulator-Token).")
    faults: tuple[FaultSpec, ...] = Field((), description="Fault rules in force from start-up and after every reset.")
    recording: str | None = Field(None, description="A HAR recording (xweb-emulator record): a call to an operation "
                                  "the emulator does not emulate is answered as recorded where it holds the request.")

    def as_environment(self) -> dict[str, str]:
        """These settings as the environment variables that reproduce them, for server worker processes."""
        values = self.model_dump()
        return {ENV_PREFIX + name.upper(): _env_text(value) for name, value in values.items() if value is not None}


def settings_class(packages: tuple[str, ...]) -> type[EmulatorSettings]:
    """The settings of an emulator of these vendors' packages: the emulator's own and each vendor's. The emulator
    serves the vendors its settings' class names (`vendor_packages`)."""

    class Settings(*(vendors.part(package, "settings", "Settings") for package in packages), EmulatorSettings):
        vendor_packages = packages

    Settings.__qualname__ = "Settings"
    return Settings


Settings = settings_class(vendors.PACKAGES)


def _env_text(value: object) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value)  # as pydantic-settings reads complex values
    return str(value)
