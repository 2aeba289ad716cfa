"""netFORUM xWeb as the emulator reaches it: the SOAP endpoint (with its WSDL, discovery and help pages), its HTTP
GET and POST bindings, the JSON twin, and eWeb's sign-on page; the runner's hooks (tokens, a fault killing the token it came with), the records a test may inspect, the
faults a rule may inject."""

from __future__ import annotations

import re
import uuid
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, update
from sqlalchemy.orm import Session
from werkzeug import Request

from xweb_emulator import journal
from xweb_emulator.call import Answer, Call
from xweb_emulator.har import TOKEN_STAND_IN
from xweb_emulator.settings import Settings
from xweb_emulator.vendor import Coverage, Document, Endpoint, Incoming, Replay, SeedError, StateView, Vendor
from xweb_emulator.xweb import auth, models, tenant
from xweb_emulator.xweb.documents import service_document
from xweb_emulator.xweb.errors import INTERNAL_ERROR, NAMESPACE, NotEmulated, XWebError, injected
from xweb_emulator.xweb.eweb import EWEB_PATH, EWebWire
from xweb_emulator.xweb.facade import Actor
from xweb_emulator.xweb.http_bindings import HttpBindingsWire
from xweb_emulator.xweb.json_api import JsonWire
from xweb_emulator.xweb.profile import ProfileError, default_profile
from xweb_emulator.xweb.operations import OPERATIONS, VENDOR_OPERATIONS, Reply, XWebOperation, operation_named
from xweb_emulator.xweb.seed import SEED_USER, load, load_demo_if_empty, load_profile_web_users
from xweb_emulator.xweb.soap import SoapWire, soap_action
from xweb_emulator.xweb.stored import StoredObject

SOAP_PATH = "/xWeb/secure/netForumXML.asmx"
JSON_PREFIX = "/xWeb/JSON/"
_JSON_METHOD = re.compile(r"^/xweb/json/([^/]+)/?$", re.IGNORECASE)


class XWeb(Vendor):
    name = "xweb"
    title = "netFORUM xWeb"
    wsdl_path = SOAP_PATH + "?WSDL"
    state_objects = {
        "Customer": models.Customer,
        "Email": models.Email,
        "Phone": models.Phone,
        "CustomerPhone": models.CustomerPhone,
        "Country": models.Country,
        "PhoneType": models.PhoneType,
        "MailingList": models.MailingList,
        "CustomerMailingPreference": models.CustomerMailingPreference,
        "CustomerMessagingActivity": models.CustomerMessagingActivity,
        "User": models.XWebUser,
        "Token": models.AuthenticationToken,
        "AuthenticationFailures": models.AuthenticationFailures,
        "WebUser": models.WebUser,
        "WebUserRole": models.WebUserRole,
        "SignOnToken": models.SignOnToken,
    }
    fault_kinds = {
        "SystemExceptionInfo": "HTTP 500 SOAP fault (JSON: 500 with the same detail); kills the token it came with",
        "InvalidTokenExceptionInfo": "HTTP 500 fault as for an expired or unknown token; kills the token",
        "InvalidCredentialsExceptionInfo": "HTTP 500 fault as for a wrong user name or password",
        "LockedCredentialsExceptionInfo": "HTTP 500 fault as for a locked-out user",
    }
    arrival_state = tenant.DIGEST
    coverage = Coverage("netFORUM Enterprise xWeb", VENDOR_OPERATIONS, frozenset(OPERATIONS))
    has_tokens = True

    @classmethod
    def client_credentials(cls, settings: Settings) -> dict[str, str]:
        return {"username": settings.xweb_user, "password": settings.xweb_password}

    def clock_marks(self) -> dict[int, str]:
        minutes = self.settings.xweb_token_timeout_minutes
        return {minutes * 60 + 60: f"Past an xWeb token's {minutes} minutes"}

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self._soap = SoapWire()
        self._json = JsonWire()
        self._http = HttpBindingsWire(SOAP_PATH)
        self._eweb = EWebWire()

    def route(self, request: Request) -> Endpoint | Document | None:
        path = request.path.rstrip("/") or "/"
        if path.lower() == EWEB_PATH.lower():
            return Endpoint(self._eweb)
        if path.lower() == SOAP_PATH.lower():
            if request.method == "GET":
                return _SERVICE_DOCUMENT
            action = soap_action(request.environ)
            # The operation is the body's (its SOAPAction is checked against it once read): routing knows its name.
            return Endpoint(self._soap, requested=action.rsplit("/", 1)[-1] if action else None)
        if path.lower().startswith(SOAP_PATH.lower() + "/"):
            name = path[len(SOAP_PATH) + 1:]
            return Endpoint(self._http, operation_named(name), requested=name)
        match = _JSON_METHOD.match(path)
        if match is None:
            return None
        return Endpoint(self._json, operation_named(match.group(1)), requested=match.group(1))

    # ------------------------------------------------------------------------------------------ the runner's hooks

    def authenticate(self, call: Call, incoming: Incoming) -> None:
        operation: XWebOperation = incoming.operation
        credentials: auth.Credentials = incoming.credentials
        call.credentials = credentials
        if operation.issues_token:
            call.user = _user_name(incoming)
            return
        if not credentials.required:
            return
        if credentials.token is None and credentials.basic is None and operation.anonymous is not None and \
                operation.anonymous(call, incoming.params):
            call.credentials = replace(credentials, required=False)  # no token in, none out
            return
        if credentials.basic is not None:
            user_name, password = credentials.basic
            call.user = user_name
            token = auth.authenticate(call.session, auth.policy(self.settings), user_name, password,
                                      call.client_address, call.now)
            call.credentials = replace(credentials, token=str(token))
            return
        _key, call.user = auth.check_token(call.connection, credentials.token, call.now)

    def caller(self, call: Call, incoming: Incoming) -> str | None:
        credentials: auth.Credentials | None = incoming.credentials
        if incoming.operation.issues_token:
            return _user_name(incoming)
        if credentials is None or not credentials.required:
            return None
        if credentials.basic is not None:
            return credentials.basic[0]
        return auth.token_user(call.connection, credentials.token)

    def injected_error(self, kind: str) -> XWebError:
        return injected(kind)

    def conclude(self, call: Call, operation: XWebOperation, result: Any) -> Reply:
        """The result, and the token the answer carries (in the SOAP header, or JSON's WWW-Authenticate)."""
        if operation.issues_token:
            return Reply(NAMESPACE, result)  # the token travels in the header; the body holds the namespace
        credentials: auth.Credentials = call.credentials
        if not credentials.required:
            return Reply(result, None)
        if credentials.basic is not None:
            return Reply(result, credentials.token)
        token = auth.answer_token(call.connection, auth.policy(self.settings),
                                  uuid.UUID(credentials.token.strip().strip("{}")), call.user, call.now)
        return Reply(result, str(token))

    def recorded_answer(self, call: Call, incoming: Incoming, answer: Answer) -> Answer:
        """The recording's masked tokens replaced by the token this call's answer carries (under Sliding
        expiration, a new one)."""
        token = self.conclude(call, incoming.operation, None).token or ""
        return Answer(answer.status, [(name, TOKEN_STAND_IN.sub(token, value)) for name, value in answer.headers],
                      re.sub(TOKEN_STAND_IN.pattern.encode(), token.encode(), answer.body))

    def internal_error(self, call: Call) -> XWebError:
        return XWebError(INTERNAL_ERROR)

    def after_fault(self, call: Call, error: XWebError) -> None:
        """A fault kills the token the call came with, as on a live tenant. The answer to an operation the emulator
        does not emulate stands for an answer the tenant would have given, so that the connector's next call does not
        fail for the emulator's want: the token lives on, and a login by HTTP Basic counts as the success it was
        (on PostgreSQL its attempt was counted in a transaction of its own, which the call's rollback left)."""
        credentials: auth.Credentials | None = call.credentials
        if credentials is None:
            return
        if not isinstance(error, NotEmulated):
            auth.invalidate(call.connection, credentials.token)
        elif credentials.basic is not None and call.user is not None:
            auth.forget_failures(call.connection, call.user, call.client_address)

    # -------------------------------------------------------------------------------------------------- state

    @classmethod
    def settled(cls, settings: Settings) -> Settings:
        return tenant.settled(settings)

    def prepare(self, session: Session, now: datetime, demo_data: bool, profile: Any = None) -> None:
        """The tenant profile (a reset's, else the configured one) in force, with its users; the demo data."""
        try:
            served = tenant.profile_of(self.settings, profile)
            # The built-in profile is checked by the suite (tests/unit/test_xweb_profile.py), not at every start: the
            # check reads each object's queryable form, which alone imports sqlglot.
            if served is not default_profile():
                from xweb_emulator.xweb import methods  # sqlglot: only for a profile given

                methods.check_servable(served)
            tenant.activate(session, self.settings, served)
        except ProfileError as error:
            raise SeedError(str(error)) from None
        if demo_data:
            load_demo_if_empty(session, Actor(SEED_USER, now))
        try:
            load_profile_web_users(session)
        except XWebError as error:
            raise SeedError(f"web_users: {error.message}") from None

    def load_seed(self, session: Session, now: datetime, section: Any) -> dict[str, list[str]]:
        try:
            return load(session, Actor(SEED_USER, now), section)
        except XWebError as error:
            raise SeedError(error.message) from None

    def state_views(self, connection: Connection) -> dict[str, StateView]:
        views = super().state_views(connection)
        for served in tenant.tenant_of(connection).objects.values():
            if isinstance(served, StoredObject):
                queryable = served.queryable
                views[served.name] = StateView(queryable.source, queryable.columns,
                                               (queryable.columns[queryable.key_column],))
        return views

    def expire_tokens(self, session: Session, now: datetime) -> None:
        session.execute(update(models.AuthenticationToken).values(expires_at=now))

    def replay(self, path: str, operation: str | None, body: str) -> Replay:
        body = journal.with_password(body, self.settings.xweb_password)
        path = path.split("?", 1)[0]
        if _JSON_METHOD.match(path):
            return Replay(body, ("Content-Type: application/json",) if body else (),
                          (self.settings.xweb_user, self.settings.xweb_password))
        if path.lower().startswith(SOAP_PATH.lower() + "/"):  # ASMX's HTTP GET and POST bindings
            return Replay(body, ("Content-Type: application/x-www-form-urlencoded",) if body else ())
        action = (f'SOAPAction: "{NAMESPACE}{operation}"',) if operation else ()
        return Replay(body, ("Content-Type: text/xml; charset=utf-8", *action))

    def describe(self, base_url: str) -> list[str]:
        settings = self.settings
        return [
            f"xWeb SOAP    {base_url}{SOAP_PATH}   (WSDL: {base_url}{SOAP_PATH}?WSDL)",
            f"xWeb HTTP    {base_url}{SOAP_PATH}/<Operation>?name=value   (GET, or a form POST)",
            f"xWeb JSON    {base_url}{JSON_PREFIX}<Method>",
            f"eWeb sign-on {base_url}{EWEB_PATH}?WebCode=LoginRequired&URL_success=<return address>?ssoToken={{token}}",
            f"xWeb user    {settings.xweb_user} / {settings.xweb_password}   "
            f"(tokens: {settings.xweb_token_expiration}, {settings.xweb_token_timeout_minutes} min)",
        ]


_SERVICE_DOCUMENT = Document(service_document)


def _user_name(incoming: Incoming) -> str | None:
    """The user an Authenticate names, if it names one."""
    name = incoming.params.get("userName") if isinstance(incoming.params, dict) else None
    return name if isinstance(name, str) else None


VENDOR = XWeb
