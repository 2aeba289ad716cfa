"""SAP's settings (flags --sap-*; XWEB_EMULATOR_SAP_*), mixed into xweb_emulator.settings.Settings."""

from __future__ import annotations

from pydantic import BaseModel


class Settings(BaseModel):
    """ManageCampaignInboundIn's communication user (HTTP Basic)."""

    sap_user: str = "demo"
    sap_password: str = "demo"
