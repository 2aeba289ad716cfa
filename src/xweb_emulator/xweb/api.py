"""The xWeb API as both wires see it: each operation's parameters bound to a domain call, and the call run as a
tenant runs it — authenticated, in one transaction, answering with a token, a fault killing the token it came with.

Parameters arrive, and results leave, in the neutral form of xweb_emulator.jsonnet (what JSON.NET makes of the
vendor's XML), so the SOAP and JSON adapters share everything here and differ only in how they write it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, timedelta
from enum import Enum
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from xweb_emulator import __version__, clock
from xweb_emulator.db import Database
from xweb_emulator.settings import Settings
from xweb_emulator.vendor import OK, CallRecord
from xweb_emulator.xweb import auth, phones, preferences
from xweb_emulator.xweb.errors import InvalidInput, XWebError, injected
from xweb_emulator.xweb.facade import Actor, facade_object, get_record, insert_records
from xweb_emulator.xweb.models import PROMOTIONAL, SUBSCRIPTION

log = logging.getLogger(__name__)

NAMESPACE = "http://www.avectra.com/2005/"
# Where a fault says it was raised: the vendor's class, as in every captured fault.
VENDOR_CLASS = "Avectra.netForum.xWeb.xWebSecure.netForumXMLSecure"

Params = Mapping[str, Any]


class Result(Enum):
    """How an operation's result is typed in the vendor's WSDL, which decides how the JSON twin writes it."""

    XML_NODE = "an untyped XmlNode (JSON.NET XML conventions)"
    TYPED = "a typed object or array"
    VOID = "nothing"
    SCALAR = "a string, boolean or date"


@dataclass(frozen=True)
class Caller:
    client_address: str
    token: str | None = None
    basic_credentials: tuple[str, str] | None = None
    record: CallRecord | None = None  # the request's journal record, and the fault a rule injects


@dataclass(frozen=True)
class Context:
    session: Session
    actor: Actor
    caller: Caller
    policy: auth.TokenPolicy
    database_kind: str


@dataclass(frozen=True)
class Operation:
    name: str
    parameters: str  # the .NET signature a fault's stack trace shows
    run: Callable[[Context, Params], Any]
    result: Result
    takes_token: bool = True

    @property
    def parameter_names(self) -> list[str]:
        return [declaration.split()[-1] for declaration in self.parameters.split(", ") if declaration]

    @property
    def stack_trace(self) -> str:
        return f"   at {VENDOR_CLASS}.{self.name}({self.parameters})"


@dataclass(frozen=True)
class Reply:
    result: Any
    token: str | None


# ---------------------------------------------------------------------------------------------- parameter binding


def _text(params: Params, name: str) -> str | None:
    value = params.get(name)
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, float)):
        return str(value)
    raise InvalidInput(f"{name} must be a single value.")


def _record(value: Any, where: str) -> dict[str, str | None]:
    if not isinstance(value, Mapping):
        raise InvalidInput(f"{where} must hold one element per column.")
    return {name: _text(value, name) for name in value if not name.startswith("@")}


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _facade_records(object_name: str, onode: Any) -> list[dict[str, str | None]]:
    """oNode's records: <XxxObjects><XxxObject>…</XxxObject>…</XxxObjects>. Like the vendor, lenient about the two
    wrapper names (real clients send <CEUCredits><CEUCredit>, <EventsRegistrant><Registrant>)."""
    if not isinstance(onode, Mapping) or len([key for key in onode if not key.startswith("@")]) != 1:
        raise InvalidInput(f"oNode must hold one {object_name}Objects element.")
    (outer,) = [value for key, value in onode.items() if not key.startswith("@")]
    if not isinstance(outer, Mapping):
        raise InvalidInput(f"oNode must hold {object_name}Object elements inside {object_name}Objects.")
    inner = [value for key, value in outer.items() if not key.startswith("@")]
    if len(inner) != 1:
        raise InvalidInput(f"{object_name}Objects must hold {object_name}Object elements only.")
    return [_record(record, f"{object_name}Object") for record in _as_list(inner[0])]


def _phone_sections(params: Params) -> phones.Sections:
    facade = params.get("oFacadeObject")
    if not isinstance(facade, Mapping):
        raise InvalidInput("oFacadeObject is required.")
    sections: phones.Sections = {"CurrentKey": _text(facade, "CurrentKey")}
    for name in ("Phone_XRef", "Customer", "Phone", "Country"):
        if facade.get(name) is not None:
            sections[name] = _record(facade[name], name)
    return sections


def _mailing_list_settings(params: Params) -> list[preferences.MailingListSetting]:
    fields = preferences.MailingListSetting.__dataclass_fields__
    settings = []
    for item in _as_list(params.get("preferences")):
        record = _record(item, "MailingListSetting")
        unknown = set(record) - set(fields)
        if unknown:
            raise InvalidInput(f"MailingListSetting has no element {sorted(unknown)[0]}.")
        settings.append(preferences.MailingListSetting(**record))
    return settings


# ------------------------------------------------------------------------------------------------------ operations


def _authenticate(ctx: Context, params: Params) -> str:
    return str(auth.authenticate(ctx.session, ctx.policy, _text(params, "userName") or "",
                                 _text(params, "password") or "", ctx.caller.client_address, ctx.actor.now))


def _test_connection(ctx: Context, params: Params) -> str:
    ctx.session.execute(text("SELECT 1"))
    return "Connection to the database succeeded."


def _get_version(ctx: Context, params: Params) -> str:
    return f"xweb-emulator {__version__} (netFORUM Enterprise xWeb emulation); database: {ctx.database_kind}"


def _insert_facade_object(ctx: Context, params: Params) -> dict:
    facade = facade_object(_text(params, "szObjectName"))
    keys = insert_records(ctx.session, ctx.actor, facade, _facade_records(facade.name, params.get("oNode")))
    return facade_result(facade.name, [{facade.key_column: str(key)} for key in keys])


def _get_facade_object(ctx: Context, params: Params) -> dict:
    facade = facade_object(_text(params, "szObjectName"))
    record = get_record(ctx.session, facade, _text(params, "szObjectKey"))
    return facade_result(facade.name, [] if record is None else [record])


def facade_result(object_name: str, records: list[dict]) -> dict:
    """<XxxObjects xsi:schemaLocation="… Xxx.xsd" recordReturn="N"><XxxObject>…</XxxObject>…</XxxObjects>"""
    objects: dict[str, Any] = {
        "@xsi:schemaLocation": f"{NAMESPACE} {object_name}.xsd",
        "@recordReturn": str(len(records)),
    }
    if records:
        objects[f"{object_name}Object"] = records
    return {f"{object_name}Objects": objects}


def _phones_by_customer(ctx: Context, params: Params) -> dict:
    records = phones.phones_by_customer(ctx.session, _text(params, "CustomerKey"))
    results: dict[str, Any] = {"@recordReturn": str(len(records))}
    if records:
        results["Result"] = records
    return {"Results": results}


def _mailing_types(mailing_type: str) -> Callable[[Context, Params], list]:
    return lambda ctx, params: [asdict(item) for item in preferences.mailing_types(ctx.session, mailing_type)]


def _set_preferences(ctx: Context, params: Params) -> None:
    preferences.set_preferences(ctx.session, ctx.actor, _text(params, "customerKey"), _mailing_list_settings(params))


OPERATIONS: dict[str, Operation] = {
    operation.name: operation
    for operation in (
        Operation("Authenticate", "String userName, String password", _authenticate, Result.SCALAR, takes_token=False),
        Operation("TestConnection", "", _test_connection, Result.SCALAR, takes_token=False),
        # With its offset, as .NET writes a DateTime: a bare time would be read in the client's own zone.
        Operation("GetDateTime", "", lambda ctx, params: ctx.actor.now.replace(tzinfo=UTC), Result.SCALAR,
                  takes_token=False),
        Operation("GetVersion", "", _get_version, Result.SCALAR),
        Operation("InsertFacadeObject", "String szObjectName, XmlNode oNode", _insert_facade_object, Result.XML_NODE),
        Operation("GetFacadeObject", "String szObjectName, String szObjectKey", _get_facade_object, Result.XML_NODE),
        Operation("SetCustomerCommunicationPreferences", "String customerKey, MailingListSetting[] preferences",
                  _set_preferences, Result.VOID),
        Operation("GetCustomerCommunicationPreference", "String customerKey, String preferenceTypeKey",
                  lambda ctx, params: asdict(preferences.get_preference(
                      ctx.session, _text(params, "customerKey"), _text(params, "preferenceTypeKey"))),
                  Result.TYPED),
        Operation("GetAllCustomerCommunicationPreferences", "String customerKey",
                  lambda ctx, params: [asdict(item) for item in preferences.get_all_preferences(
                      ctx.session, _text(params, "customerKey"))],
                  Result.TYPED),
        Operation("GetPromotionalMailingTypes", "", _mailing_types(PROMOTIONAL), Result.TYPED),
        Operation("GetSubscriptionMailingTypes", "", _mailing_types(SUBSCRIPTION), Result.TYPED),
        Operation("WEBPhoneUpdate", "CustomerPhoneType oFacadeObject",
                  lambda ctx, params: phones.update_phone(ctx.session, ctx.actor, _phone_sections(params)),
                  Result.SCALAR),
        Operation("WEBPhoneGet", "Guid key",
                  lambda ctx, params: phones.get_phone(ctx.session, _text(params, "key")), Result.TYPED),
        Operation("WEBPhoneInsert", "CustomerPhoneType oFacadeObject",
                  lambda ctx, params: phones.insert_phone(ctx.session, ctx.actor, _phone_sections(params)),
                  Result.TYPED),
        Operation("WEBPhoneGetPhonesByCustomer", "Guid CustomerKey", _phones_by_customer, Result.XML_NODE),
    )
}


def operation_named(name: str) -> Operation | None:
    """Method names are matched without regard to case, as ASP.NET routes them."""
    return _BY_LOWER_NAME.get(name.lower())


_BY_LOWER_NAME = {name.lower(): operation for name, operation in OPERATIONS.items()}


# ------------------------------------------------------------------------------------------------------- the tenant


class XWebTenant:
    """One emulated netFORUM tenant: its database and its xWeb web.config."""

    def __init__(self, database: Database, settings: Settings) -> None:
        self.database = database
        self.settings = settings
        self.policy = auth.TokenPolicy(
            expiration=settings.xweb_token_expiration,
            timeout=timedelta(minutes=settings.xweb_token_timeout_minutes),
            fail_count=settings.xweb_fail_count,
            lockout=timedelta(hours=settings.xweb_lockout_hours),
        )

    def call(self, operation: Operation, caller: Caller, params: Params, *, takes_token: bool | None = None) -> Reply:
        """Run one call. `takes_token` overrides the operation's own rule (the JSON twin authenticates every call)."""
        takes_token = operation.takes_token if takes_token is None else takes_token
        record = caller.record or CallRecord("xweb", operation.name)
        record.operation = operation.name
        try:
            with self.database.transaction() as session:
                reply = self._run(session, operation, caller, params, takes_token, record)
        except XWebError as error:
            self._after_fault(caller, error, record)
            raise
        except Exception:
            log.exception("xWeb %s failed", operation.name)
            error = XWebError("An unexpected error occurred in the emulator; nothing was written.")
            self._after_fault(caller, error, record)
            raise error from None
        record.outcome = OK
        return reply

    def _run(self, session: Session, operation: Operation, caller: Caller, params: Params,
             takes_token: bool, record: CallRecord) -> Reply:
        now = clock.now(session)
        user_name, token, presented = None, None, None
        if takes_token:
            if caller.basic_credentials is not None:
                user_name, password = caller.basic_credentials
                token = str(auth.authenticate(session, self.policy, user_name, password, caller.client_address, now))
            else:
                presented = auth.check_token(session, caller.token, now)
                user_name = presented.user_name
            record.user = user_name
        elif operation.name == "Authenticate":
            record.user = _text(params, "userName")
        if record.inject_fault:
            # Where the operation itself would fail: after the caller is known, before anything is written.
            raise injected(record.inject_fault)
        ctx = Context(session, Actor(user_name, now), caller, self.policy, self.database.kind)
        result = operation.run(ctx, params)
        if operation.name == "Authenticate":
            return Reply(NAMESPACE, result)  # the token travels in the header; the body holds the namespace
        if presented is not None:
            token = str(auth.answer_token(session, self.policy, presented, now))
        return Reply(result, token)

    def _after_fault(self, caller: Caller, error: XWebError, record: CallRecord) -> None:
        """What a fault leaves behind: the token it was called with is dead, and whatever the error records."""
        record.outcome = error.kind
        with self.database.transaction() as session:
            auth.invalidate(session, caller.token)
            if error.after_rollback is not None:
                error.after_rollback(session)


def fault_detail(error: XWebError, operation: Operation | None) -> dict:
    """The fault's detail in neutral form: {<Kind>: {XWebException: {Message, Number, …}}}."""
    return {
        error.kind: {
            "XWebException": {
                "Message": error.message,
                "Number": "0",
                "Source": "xWeb",
                "Line": "0",
                "StackTrace": operation.stack_trace if operation else "",
                "ErrorType": "GeneralError",
                "Errors": None,
            }
        }
    }


def fault_string(error: XWebError, operation: Operation | None) -> str:
    trace = f"\n{operation.stack_trace}" if operation else ""
    return f"System.Web.Services.Protocols.SoapException: {error.message}{trace}"

