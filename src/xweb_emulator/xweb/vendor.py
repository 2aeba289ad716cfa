"""netFORUM xWeb as the application and the harness reach it: the SOAP endpoint (with its WSDL), the JSON twin,
the records a test may inspect, the faults a rule may inject."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session
from werkzeug import Request, Response

from xweb_emulator.db import Database
from xweb_emulator.settings import Settings
from xweb_emulator.soap import wsdl_document
from xweb_emulator.vendor import Endpoint, SeedError, Vendor
from xweb_emulator.xweb import auth, json_api, models
from xweb_emulator.xweb.api import NAMESPACE, OPERATIONS, XWebTenant, operation_named
from xweb_emulator.xweb.errors import XWebError
from xweb_emulator.xweb.facade import Actor
from xweb_emulator.xweb.seed import SEED_USER, load, load_demo_if_empty
from xweb_emulator.xweb.soap import create_soap_app

SOAP_PATH = "/xWeb/secure/netForumXML.asmx"
JSON_PREFIX = "/xWeb/JSON/"
_JSON_METHOD = re.compile(r"^/xweb/json/([^/]+)/?$", re.IGNORECASE)


class XWeb(Vendor):
    name = "xweb"
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
    }
    fault_kinds = {
        "SystemExceptionInfo": "HTTP 500 SOAP fault (JSON: 500 with the same detail); kills the token it came with",
        "InvalidTokenExceptionInfo": "HTTP 500 fault as for an expired or unknown token; kills the token",
        "InvalidCredentialsExceptionInfo": "HTTP 500 fault as for a wrong user name or password",
        "LockedCredentialsExceptionInfo": "HTTP 500 fault as for a locked-out user",
    }
    has_tokens = True

    def __init__(self, database: Database, settings: Settings) -> None:
        super().__init__(database, settings)
        self.tenant = XWebTenant(database, settings)
        self._soap = create_soap_app(self.tenant, settings.max_request_bytes)

    def route(self, request: Request) -> Endpoint | None:
        path = request.path.rstrip("/") or "/"
        if path.lower() == SOAP_PATH.lower():
            if request.method == "GET":
                return Endpoint(_service_document, is_call=False)
            action = (request.headers.get("SOAPAction") or "").strip('"')
            return Endpoint(self._soap, action.rsplit("/", 1)[-1] or None)
        match = _JSON_METHOD.match(path)
        if match is None:
            return None
        operation = operation_named(match.group(1))
        return Endpoint(self._json_call, operation.name if operation else match.group(1))

    def _json_call(self, environ: dict, start_response) -> Any:
        request = Request(environ)
        method_name = _JSON_METHOD.match(request.path).group(1)
        return json_api.handle(self.tenant, request, method_name)(environ, start_response)

    def prepare(self, session: Session, now: datetime, demo_data: bool) -> None:
        auth.ensure_user(session, self.settings.xweb_user, self.settings.xweb_password)
        if demo_data:
            load_demo_if_empty(session, Actor(SEED_USER, now))

    def load_seed(self, session: Session, now: datetime, section: Any) -> dict[str, list[str]]:
        try:
            return load(session, Actor(SEED_USER, now), section)
        except XWebError as error:
            raise SeedError(error.message) from None

    def expire_tokens(self, session: Session, now: datetime) -> None:
        session.execute(update(models.AuthenticationToken).values(expires_at=now))

    def describe(self, base_url: str) -> list[str]:
        settings = self.settings
        return [
            f"xWeb SOAP    {base_url}{SOAP_PATH}   (WSDL: {base_url}{SOAP_PATH}?WSDL)",
            f"xWeb JSON    {base_url}{JSON_PREFIX}<Method>",
            f"xWeb user    {settings.xweb_user} / {settings.xweb_password}   "
            f"(tokens: {settings.xweb_token_expiration}, {settings.xweb_token_timeout_minutes} min)",
        ]


def _service_document(environ: dict, start_response) -> Any:
    """GET on the .asmx: the WSDL with ?WSDL, else ASMX's service page."""
    request = Request(environ)
    if "wsdl" in (key.lower() for key in request.args):
        response = Response(wsdl_document("netForumXML.wsdl", request.base_url),
                            content_type="text/xml; charset=utf-8")
    else:
        response = Response(_service_page(request.base_url), content_type="text/html; charset=utf-8")
    return response(environ, start_response)


def _service_page(address: str) -> str:
    items = "".join(f"<li>{name}</li>" for name in OPERATIONS)
    return (
        "<!DOCTYPE html><html><head><title>netForumXML</title></head><body><h1>netForumXML</h1>"
        f"<p>xweb-emulator's netFORUM xWeb endpoint ({NAMESPACE}). The service description is at "
        f"<a href='{address}?WSDL'>{address}?WSDL</a>. Operations:</p><ul>{items}</ul></body></html>"
    )
