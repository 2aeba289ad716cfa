"""xWeb's settings (flags --xweb-*, --profile …; XWEB_EMULATOR_XWEB_*), mixed into xweb_emulator.settings.Settings;
the flags of `serve` that set them."""

from __future__ import annotations

from typing import Literal

import click
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


# `serve`'s flags for these settings (xweb_emulator.cli), each naming the field it sets.
FLAGS = (
    click.option("--profile", "xweb_profile", type=click.Path(exists=True, dir_okay=False),
                 help="The tenant profile to serve (YAML or JSON): objects, extender columns, default lists, users, "
                      "settings. Default: the built-in objects"),
    click.option("--xweb-user", help="The xWeb user name. Default: demo"),
    click.option("--xweb-password", help="The xWeb user's password. Default: demo"),
    click.option("--token-expiration", "xweb_token_expiration", type=click.Choice(["Absolute", "Sliding"]),
                 help="xWeb token policy. Default: Absolute"),
    click.option("--token-timeout", "xweb_token_timeout_minutes", type=int,
                 help="Token lifetime, minutes. Default: 20"),
    click.option("--fail-count", "xweb_fail_count", type=int,
                 help="Failed Authenticate calls before lock-out, -1 for none. Default: 25"),
    click.option("--query-row-cap", "xweb_query_row_cap", type=int,
                 help="Rows GetQuery answers when szObjectName has no @TOP N, -1 for every row. Default: 100"),
)
