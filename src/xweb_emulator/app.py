"""The one WSGI application: routes by path to each vendor's endpoints, in front of them the concerns every request
shares (a bounded body, no traceback ever reaching a client).

Paths are matched without regard to case, as IIS matches them.
"""

from __future__ import annotations

import copy
import importlib.resources
import io
import logging
import re
from collections.abc import Callable, Iterable
from functools import lru_cache

from lxml import etree
from werkzeug import Request, Response
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wsgi import get_input_stream

from xweb_emulator.db import Database
from xweb_emulator.settings import Settings
from xweb_emulator.xweb import json_api
from xweb_emulator.xweb.api import OPERATIONS, XWebTenant
from xweb_emulator.xweb.soap import create_soap_app

log = logging.getLogger(__name__)

XWEB_SOAP_PATH = "/xWeb/secure/netForumXML.asmx"
XWEB_JSON_PREFIX = "/xWeb/JSON/"
_XWEB_JSON = re.compile(r"^/xweb/json/([^/]+)/?$", re.IGNORECASE)

WsgiApp = Callable[[dict, Callable], Iterable[bytes]]


class EmulatorApp:
    def __init__(self, settings: Settings, database: Database) -> None:
        self.settings = settings
        self.database = database
        self.xweb = XWebTenant(database, settings)
        self._xweb_soap = create_soap_app(self.xweb, settings.max_request_bytes)

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        try:
            body = _bounded_body(environ, self.settings.max_request_bytes)
            # Whoever reads the body next (werkzeug, spyne) reads our bounded copy.
            environ["wsgi.input"], environ["CONTENT_LENGTH"] = io.BytesIO(body), str(len(body))
            environ.pop("wsgi.input_terminated", None)
            request = Request(environ)
            return self._route(request, environ, start_response)
        except RequestEntityTooLarge:
            response = _text_response(
                413, f"The request body is larger than this emulator accepts ({self.settings.max_request_bytes} bytes)."
            )
        except Exception:
            log.exception("%s %s failed", environ.get("REQUEST_METHOD"), environ.get("PATH_INFO"))
            response = _text_response(500, "The emulator failed to handle this request; nothing was written.")
        return response(environ, start_response)

    def _route(self, request: Request, environ: dict, start_response: Callable) -> Iterable[bytes]:
        path = request.path.rstrip("/") or "/"
        if path.lower() == XWEB_SOAP_PATH.lower():
            if request.method == "GET":
                return self._xweb_document(request)(environ, start_response)
            return self._xweb_soap(environ, start_response)
        match = _XWEB_JSON.match(path)
        if match:
            return json_api.handle(self.xweb, request, match.group(1))(environ, start_response)
        return _text_response(404, f"No endpoint of the emulator answers {request.path}.")(environ, start_response)

    def _xweb_document(self, request: Request) -> Response:
        if "wsdl" in (key.lower() for key in request.args):
            address = request.base_url
            return Response(_wsdl_for(address), content_type="text/xml; charset=utf-8")
        return Response(_service_page(request.base_url), content_type="text/html; charset=utf-8")


def _bounded_body(environ: dict, limit: int) -> bytes:
    """The request body, refused past `limit` bytes whether the client declared its length or sent it chunked."""
    declared = environ.get("CONTENT_LENGTH")
    if declared and declared.isdigit() and int(declared) > limit:
        raise RequestEntityTooLarge()
    body = get_input_stream(environ, max_content_length=None).read(limit + 1)
    if len(body) > limit:
        raise RequestEntityTooLarge()
    return body


@lru_cache(maxsize=1)
def _wsdl_template() -> etree._ElementTree:
    source = importlib.resources.files("xweb_emulator.wsdl").joinpath("netForumXML.wsdl").read_bytes()
    return etree.ElementTree(etree.fromstring(source))


@lru_cache(maxsize=64)
def _wsdl_for(address: str) -> bytes:
    """Our WSDL, its soap:address the one the request came in on (as ASMX rewrites it)."""
    document = copy.deepcopy(_wsdl_template())
    for element in document.iterfind(".//{http://schemas.xmlsoap.org/wsdl/soap/}address"):
        element.set("location", address)
    return etree.tostring(document, xml_declaration=True, encoding="utf-8")


def _service_page(address: str) -> str:
    items = "".join(f"<li>{name}</li>" for name in OPERATIONS)
    return (
        "<!DOCTYPE html><html><head><title>netForumXML</title></head><body><h1>netForumXML</h1>"
        f"<p>xweb-emulator's netFORUM xWeb endpoint. The service description is at <a href='{address}?WSDL'>"
        f"{address}?WSDL</a>. Operations:</p><ul>{items}</ul></body></html>"
    )


def _text_response(status: int, text: str) -> Response:
    return Response(text + "\n", status, content_type="text/plain; charset=utf-8")


def create_app(settings: Settings) -> EmulatorApp:
    """The application over a database that `prepare_database` has made ready."""
    return EmulatorApp(settings, Database(settings.database_url))


def prepare_database(settings: Settings) -> None:
    """Bring the schema to the latest migration and the configured users (and demo data) in. Run once, before
    workers start."""
    database = Database(settings.database_url)
    try:
        database.upgrade()
        XWebTenant(database, settings).prepare()
    finally:
        database.dispose()


def wsgi_app() -> EmulatorApp:
    """The factory server workers call: settings from the environment the `serve` command set."""
    return create_app(Settings())
