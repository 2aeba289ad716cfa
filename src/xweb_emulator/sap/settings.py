"""SAP's settings (flags --sap-*; XWEB_EMULATOR_SAP_*), mixed into xweb_emulator.settings.Settings;
the flags of `serve` that set them."""

from __future__ import annotations

import click
from pydantic import BaseModel


class Settings(BaseModel):
    """ManageCampaignInboundIn's communication user (HTTP Basic)."""

    sap_user: str = "demo"
    sap_password: str = "demo"


# `serve`'s flags for these settings (xweb_emulator.cli), each naming the field it sets.
FLAGS = (
    click.option("--sap-user", help="SAP's communication user (HTTP Basic). Default: demo"),
    click.option("--sap-password", help="SAP's communication user's password. Default: demo"),
)
