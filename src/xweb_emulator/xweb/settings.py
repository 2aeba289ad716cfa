"""xWeb's settings (flags --xweb-*, --profile …; XWEB_EMULATOR_XWEB_*), mixed into xweb_emulator.settings.Settings."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class Settings(BaseModel):
    """The tenant served: its profile, its user, its web.config's token policy, GetQuery's row cap."""

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
