"""The CRM.COM Web API's operation table: each method, at its path under /crmapi/rest/v2/ with its verb, bound to its
domain call. Parameters arrive as the decoded request (a mapping of names to JSON values); results leave as plain
data for the wire to put in the envelope.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from xweb_emulator.call import Call
from xweb_emulator.crmcom import auth, events, values
from xweb_emulator.crmcom.errors import ITEM_FAILURE, NotFoundValue, injected
from xweb_emulator.crmcom.models import Unit
from xweb_emulator.vendor import Operation

Params = Mapping[str, Any]

LOGIN = "authentication/token"
BULK_CREATE = "customer_events/bulk/web/create"


@dataclass(frozen=True, kw_only=True)
class Method(Operation):
    """A Web API method; its `name` is its path under /crmapi/rest/v2/."""

    verb: str
    takes_token: bool = True


def _actor(call: Call) -> events.Actor:
    return events.Actor(call.user, call.now)


def _login(call: Call, params: Params) -> dict[str, str]:
    username = values.mandatory_text(params, "username")
    password = values.mandatory_text(params, "password")
    organisation = values.mandatory_text(params, "organisation")
    unit = values.text(params, "unit")  # "The unit ID that the user will use during login"
    if unit is not None and call.session.get(Unit, unit) is None:
        raise NotFoundValue(f"Unit ({unit}) Not Found.")
    return {"token": auth.login(call.session, username, password, organisation, call.now, auth.idle(call.settings))}


OPERATIONS: dict[str, Method] = {
    method.name: method
    for method in (
        Method(name=LOGIN, verb="POST", run=_login, takes_token=False),
        # A fault rule's ItemSystemException fails every event of the bulk as its own error would (see CrmCom.inject).
        Method(name=BULK_CREATE, verb="POST", run=lambda call, params: events.bulk_create(
            call.connection, _actor(call), params.get(events.EVENTS_SET), params.get("fields_set"),
            item_failure=injected(ITEM_FAILURE) if call.injected_fault == ITEM_FAILURE else None)),
        Method(name="customer_events/web/create", verb="POST", run=lambda call, params: events.create(
            call.session, _actor(call), params, params.get("fields_set"))),
        Method(name="customer_events/web/show", verb="GET", run=lambda call, params: events.show(
            call.session, params.get("customer_event_identifier"), params.get("fields_set"))),
        Method(name="customer_events/web/list", verb="POST",
               run=lambda call, params: events.list_events(call.session, params)),
    )
}

# The Web API methods of the service: web customer events, and the logins a client of them uses (the vendor's V4
# documentation). Those not in the table above answer NotFoundAPIMethodException.
VENDOR_OPERATIONS: tuple[str, ...] = (
    LOGIN, "authentication/token/release", "authentication/web_api_key/token",
    BULK_CREATE, "customer_events/web/create", "customer_events/web/show", "customer_events/web/list",
)
