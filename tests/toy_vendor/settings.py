"""The toy's settings (XWEB_EMULATOR_TOY_*), mixed into the emulator's Settings."""

from __future__ import annotations

from pydantic import BaseModel


class Settings(BaseModel):
    toy_user: str = "toy"
    toy_password: str = "toy-secret"
