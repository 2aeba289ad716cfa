"""CRM.COM's settings (flags --crmcom-*; XWEB_EMULATOR_CRMCOM_*), mixed into xweb_emulator.settings.Settings."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Settings(BaseModel):
    """The Web API's login user, password and organisation; tokens expire after this much idle time."""

    crmcom_user: str = "demo"
    crmcom_password: str = "demo"
    crmcom_organisation: str = "demo"
    crmcom_token_idle_minutes: int = Field(60, ge=1)
