"""CRM.COM's settings (flags --crmcom-*; XWEB_EMULATOR_CRMCOM_*), mixed into xweb_emulator.settings.Settings;
the flags of `serve` that set them."""

from __future__ import annotations

import click
from pydantic import BaseModel, Field


class Settings(BaseModel):
    """The Web API's login user, password and organisation; tokens expire after this much idle time."""

    crmcom_user: str = "demo"
    crmcom_password: str = "demo"
    crmcom_organisation: str = "demo"
    crmcom_token_idle_minutes: int = Field(60, ge=1)


# `serve`'s flags for these settings (xweb_emulator.cli), each naming the field it sets.
FLAGS = (
    click.option("--crmcom-user", help="CRM.COM's API user. Default: demo"),
    click.option("--crmcom-password", help="CRM.COM's API user's password. Default: demo"),
    click.option("--crmcom-organisation", help="CRM.COM's organisation. Default: demo"),
    click.option("--crmcom-token-idle-minutes", type=int,
                 help="CRM.COM tokens expire after this idle time. Default: 60"),
)
