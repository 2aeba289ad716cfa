"""The emulator's one settings object: CLI flags over environment variables (XWEB_EMULATOR_*) over these defaults."""

from __future__ import annotations

import json
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from xweb_emulator.faults import FaultSpec

ENV_PREFIX = "XWEB_EMULATOR_"


class Settings(BaseSettings):
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

    xweb_profile: str | None = Field(None, description="The tenant profile served (a YAML or JSON file): its "
                                     "objects, extender columns, default lists, users and settings.")
    xweb_user: str = "demo"
    xweb_password: str = "demo"
    # xWeb's web.config: Expiration, Timeout (minutes), FailCount (-1 disables), LockOutHours.
    xweb_token_expiration: Literal["Absolute", "Sliding"] = "Absolute"
    xweb_token_timeout_minutes: int = Field(20, ge=1)
    xweb_fail_count: int = Field(25, ge=-1)
    xweb_lockout_hours: float = Field(1.0, gt=0)
    xweb_query_row_cap: int = Field(100, ge=-1, description="Rows GetQuery answers when szObjectName carries no "
                                    "@TOP N (the vendor's list row cap); -1: every row.")

    # SAP ManageCampaignInboundIn: the communication user of the communication arrangement (HTTP Basic).
    sap_user: str = "demo"
    sap_password: str = "demo"

    # CRM.COM Web API: the login method's user, password and organisation; tokens expire after this much idle time.
    crmcom_user: str = "demo"
    crmcom_password: str = "demo"
    crmcom_organisation: str = "demo"
    crmcom_token_idle_minutes: int = Field(60, ge=1)

    def as_environment(self) -> dict[str, str]:
        """These settings as the environment variables that reproduce them, for server worker processes."""
        values = self.model_dump()
        return {ENV_PREFIX + name.upper(): _env_text(value) for name, value in values.items() if value is not None}


def _env_text(value: object) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value)  # as pydantic-settings reads complex values
    return str(value)
