"""The CRM.COM Web API's methods, each bound to its domain call, and a call run as the vendor runs it: the token
checked (its idle time restarted), everything in one transaction, an error leaving nothing written.

Parameters arrive as the decoded request (a mapping of names to JSON values); results leave as plain data for the
adapter to put in the envelope.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from xweb_emulator import clock
from xweb_emulator.crmcom import auth, events, values
from xweb_emulator.crmcom.errors import ITEM_FAILURE, CrmComError, NotFoundValue, SystemFailure, injected
from xweb_emulator.crmcom.models import Unit
from xweb_emulator.db import Database
from xweb_emulator.settings import Settings
from xweb_emulator.vendor import OK, CallRecord

log = logging.getLogger(__name__)

Params = Mapping[str, Any]

LOGIN = "authentication/token"
BULK_CREATE = "customer_events/bulk/web/create"


@dataclass(frozen=True)
class Context:
    session: Session
    now: datetime
    idle: timedelta
    actor: events.Actor | None  # the API user a token names; None for the login method
    item_failure: CrmComError | None = None  # a fault rule's error for every event of a bulk call


@dataclass(frozen=True)
class Method:
    name: str  # its path under /crmapi/rest/v2/
    verb: str
    run: Callable[[Context, Params], Any]
    takes_token: bool = True


def _login(ctx: Context, params: Params) -> dict[str, str]:
    username = values.mandatory_text(params, "username")
    password = values.mandatory_text(params, "password")
    organisation = values.mandatory_text(params, "organisation")
    unit = values.text(params, "unit")  # "The unit ID that the user will use during login"
    if unit is not None and ctx.session.get(Unit, unit) is None:
        raise NotFoundValue(f"Unit ({unit}) Not Found.")
    return {"token": auth.login(ctx.session, username, password, organisation, ctx.now, ctx.idle)}


METHODS: dict[str, Method] = {
    method.name: method
    for method in (
        Method(LOGIN, "POST", _login, takes_token=False),
        Method(BULK_CREATE, "POST", lambda ctx, params: events.bulk_create(
            ctx.session, ctx.actor, params.get(events.EVENTS_SET), params.get("fields_set"), ctx.item_failure)),
        Method("customer_events/web/create", "POST", lambda ctx, params: events.create(
            ctx.session, ctx.actor, params, params.get("fields_set"))),
        Method("customer_events/web/show", "GET", lambda ctx, params: events.show(
            ctx.session, params.get("customer_event_identifier"), params.get("fields_set"))),
        Method("customer_events/web/list", "POST", lambda ctx, params: events.list_events(ctx.session, params)),
    )
}


class CrmComApi:
    """One emulated CRM.COM organisation's Web API over the database."""

    def __init__(self, database: Database, settings: Settings) -> None:
        self.database = database
        self.idle = timedelta(minutes=settings.crmcom_token_idle_minutes)

    def call(self, method: Method, params: Params, record: CallRecord) -> Any:
        """Run one call; its data, or the CrmComError it ended in (nothing written)."""
        record.operation = method.name
        item_failure = None
        if record.inject_fault:
            if record.inject_fault == ITEM_FAILURE and method.name == BULK_CREATE:
                item_failure = injected(record.inject_fault)
            else:
                raise injected(record.inject_fault)
        try:
            with self.database.transaction() as session:
                now = clock.now(session)
                actor = None
                if method.takes_token:
                    token = params.get("token")
                    username = auth.use_token(session, token if isinstance(token, str) else None, now,
                                              self.idle).username
                    actor = events.Actor(username, now)
                    record.user = username
                elif isinstance(params.get("username"), str):
                    record.user = params["username"]
                data = method.run(Context(session, now, self.idle, actor, item_failure), params)
        except CrmComError:
            raise
        except Exception:
            log.exception("CRM.COM %s failed", method.name)
            raise SystemFailure("An Unexpected Error Occurred In The Emulator.") from None
        record.outcome = OK
        return data
