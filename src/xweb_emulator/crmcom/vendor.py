"""CRM.COM as the application and the harness reach it: the Web API under /crmapi/rest/v2/, the records a test may
inspect, the faults a rule may inject."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session
from werkzeug import Request

from xweb_emulator.crmcom import auth, events, models, web_api
from xweb_emulator.crmcom.api import METHODS, CrmComApi
from xweb_emulator.crmcom.errors import FAULT_KINDS, CrmComError
from xweb_emulator.crmcom.seed import load, load_demo_if_empty
from xweb_emulator.db import Database
from xweb_emulator.settings import Settings
from xweb_emulator.vendor import Endpoint, SeedError, Vendor


class CrmCom(Vendor):
    name = "crmcom"
    state_objects = {
        "AccountsReceivable": models.AccountsReceivable,
        "RewardsParticipant": models.RewardsParticipant,
        "AccessToken": models.AccessToken,
        "Unit": models.Unit,
        "CustomerEventClassification": models.CustomerEventClassification,
        "WebCustomerEvent": models.WebCustomerEvent,
        "NumberSequence": models.NumberSequence,
        "User": models.CrmComUser,
        "Token": models.LoginToken,
    }
    fault_kinds = FAULT_KINDS
    has_tokens = True

    def __init__(self, database: Database, settings: Settings) -> None:
        super().__init__(database, settings)
        self.api = CrmComApi(database, settings)

    def route(self, request: Request) -> Endpoint | None:
        if not web_api.is_web_api_path(request.path):
            return None
        method = web_api.method_at(request.path)
        return Endpoint(self._web_api, method.name if method else None)

    def _web_api(self, environ: dict, start_response) -> Any:
        return web_api.handle(self.api, Request(environ))(environ, start_response)

    def prepare(self, session: Session, now: datetime, demo_data: bool) -> None:
        settings = self.settings
        auth.ensure_user(session, settings.crmcom_user, settings.crmcom_password, settings.crmcom_organisation)
        events.ensure_numbering(session)
        if demo_data:
            load_demo_if_empty(session, now)

    def load_seed(self, session: Session, now: datetime, section: Any) -> dict[str, list[str]]:
        try:
            return load(session, now, section)
        except CrmComError as error:
            raise SeedError(error.message) from None

    def expire_tokens(self, session: Session, now: datetime) -> None:
        auth.expire_all(session, now)

    def describe(self, base_url: str) -> list[str]:
        settings = self.settings
        return [
            f"CRM.COM      {base_url}{web_api.PREFIX}<method>   ({', '.join(METHODS)})",
            f"CRM.COM user {settings.crmcom_user} / {settings.crmcom_password}, organisation "
            f"{settings.crmcom_organisation}   (tokens expire after {settings.crmcom_token_idle_minutes} min idle)",
        ]
