"""CRM.COM as the application and the harness reach it: the Web API under /crmapi/rest/v2/, the records a test may
inspect, the faults a rule may inject."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session
from werkzeug import Request

from xweb_emulator import journal
from xweb_emulator.call import Call
from xweb_emulator.crmcom import auth, events, models, rest
from xweb_emulator.crmcom.errors import FAULT_KINDS, ITEM_FAILURE, CrmComError, SystemFailure, injected
from xweb_emulator.crmcom.operations import BULK_CREATE, OPERATIONS, VENDOR_OPERATIONS, Method
from xweb_emulator.crmcom.seed import load, load_demo_if_empty
from xweb_emulator.settings import Settings
from xweb_emulator.vendor import Coverage, Endpoint, Incoming, Replay, SeedError, Vendor


class CrmCom(Vendor):
    name = "crmcom"
    title = "CRM.COM Web API"
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
    coverage = Coverage("CRM.COM Web API (V4): web customer events", VENDOR_OPERATIONS, frozenset(OPERATIONS))
    has_tokens = True

    @classmethod
    def client_credentials(cls, settings: Settings) -> dict[str, str]:
        return {"username": settings.crmcom_user, "password": settings.crmcom_password,
                "organisation": settings.crmcom_organisation}

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self._wire = rest.RestWire()

    def route(self, request: Request) -> Endpoint | None:
        if not rest.is_web_api_path(request.path):
            return None
        return Endpoint(self._wire, rest.method_at(request.path))

    # ------------------------------------------------------------------------------------------ the runner's hooks

    def authenticate(self, call: Call, incoming: Incoming) -> None:
        method: Method = incoming.operation
        if not method.takes_token:
            call.user = _login_name(incoming)
            return
        call.credentials, call.user = auth.use_token(call.connection, incoming.credentials, call.now)

    def conclude(self, call: Call, operation: Method, result: Any) -> Any:
        if operation.takes_token:
            auth.restart_idle_time(call.connection, call.credentials, call.now, auth.idle(self.settings))
        return result

    def caller(self, call: Call, incoming: Incoming) -> str | None:
        if not incoming.operation.takes_token:
            return _login_name(incoming)
        return auth.token_user(call.connection, incoming.credentials)

    def inject(self, call: Call, operation: Method) -> None:
        # An item failure is the bulk method's to apply, to each of its events; elsewhere it fails the call.
        if call.injected_fault != ITEM_FAILURE or operation.name != BULK_CREATE:
            raise injected(call.injected_fault)

    def injected_error(self, kind: str) -> CrmComError:
        return injected(kind)

    def internal_error(self, call: Call) -> CrmComError:
        return SystemFailure("An Unexpected Error Occurred In The Emulator.")

    # -------------------------------------------------------------------------------------------------- state

    def prepare(self, session: Session, now: datetime, demo_data: bool, profile: Any = None) -> None:
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

    def replay(self, path: str, operation: str | None, body: str) -> Replay:
        # The login's password is the configured one; every other call carries its token in the body.
        body = journal.with_password(body, self.settings.crmcom_password)
        return Replay(body, ("Content-Type: application/json",) if body else ())

    def describe(self, base_url: str) -> list[str]:
        settings = self.settings
        return [
            f"CRM.COM      {base_url}{rest.PREFIX}<method>   ({', '.join(OPERATIONS)})",
            f"CRM.COM user {settings.crmcom_user} / {settings.crmcom_password}, organisation "
            f"{settings.crmcom_organisation}   (tokens expire after {settings.crmcom_token_idle_minutes} min idle)",
        ]


def _login_name(incoming: Incoming) -> str | None:
    """The user a login names, if it names one."""
    username = incoming.params.get("username") if isinstance(incoming.params, dict) else None
    return username if isinstance(username, str) else None


VENDOR = CrmCom
