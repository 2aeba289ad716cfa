"""xWeb's HTTP GET and HTTP POST bindings, as ASMX serves them beside SOAP for every operation whose parameters are
simple values (XWebOperation.http_bindings; the vendor's WSDL declares them as the ports netForumXMLHttpGet and
netForumXMLHttpPost):

    GET  /xWeb/secure/netForumXML.asmx/<Operation>?name=value&…
    POST /xWeb/secure/netForumXML.asmx/<Operation>      (application/x-www-form-urlencoded: name=value&…)

The answer is the bare result document, as XmlSerializer writes the result's type: `<string xmlns="…">…</string>`
for a String, the node itself for an XmlNode, a typed result as its type's element. These bindings carry no SOAP
header, so no AuthorizationToken: Authenticate answers the namespace (its token is lost, as on a live tenant: "it
will not work in a web browser"), and every operation that takes a token fails as a call without one does. An
error is what ASMX writes for an exception on these bindings: HTTP 500, text/plain, the exception as text.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import parse_qsl
from typing import Any

from lxml import etree

from xweb_emulator import jsonnet
from xweb_emulator.call import Answer, Call
from xweb_emulator.inputs import UnreadableValue, read_values
from xweb_emulator.soap import XSD, XSI
from xweb_emulator.vendor import Incoming, Wire
from xweb_emulator.xweb import auth
from xweb_emulator.xweb.errors import NAMESPACE, AsmxFault, XWebError, fault_string, holds_nul
from xweb_emulator.xweb.operations import Reply, Result, XWebOperation

_XML = [("Content-Type", "text/xml; charset=utf-8")]
_TEXT = [("Content-Type", "text/plain; charset=utf-8")]
_FORM = "application/x-www-form-urlencoded"
# XmlSerializer's element for a simple result.
_SIMPLE_ELEMENTS = {"String": "string", "Boolean": "boolean", "DateTime": "dateTime", "Int32": "int", "Guid": "guid"}
_PROTOCOL_TRACE = "   at System.Web.Services.Protocols.HttpServerProtocol.ReadParameters()"


class RequestRefused(AsmxFault):
    """What ASMX refuses before the operation runs (an unknown method, a missing parameter): its
    InvalidOperationException."""

    def __init__(self, message: str, trace: str = _PROTOCOL_TRACE) -> None:
        super().__init__(message)
        self.trace = trace


class HttpBindingsWire(Wire):
    def __init__(self, service_path: str) -> None:
        self._prefix = service_path.lower() + "/"

    def read(self, call: Call) -> Incoming:
        request = call.request
        name = request.path[len(self._prefix):].rstrip("/")
        operation = call.routed
        if operation is None:
            return Incoming(None, unreadable=RequestRefused(
                f"{name} Web Service method name is not valid.",
                "   at System.Web.Services.Protocols.HttpServerProtocol.Initialize()"))
        if not operation.http_bindings or request.method not in ("GET", "POST") or (
                request.method == "POST" and request.mimetype != _FORM and (request.mimetype or call.body)):
            return Incoming(None, unreadable=RequestRefused(
                f"Request format is unrecognized for URL unexpectedly ending in '/{name}'.",
                "   at System.Web.Services.Protocols.WebServiceHandlerFactory.CoreGetHandler(Type type, "
                "HttpContext context, HttpRequest request, HttpResponse response)"))
        # The pipeline has read the body: a form is decoded from it.
        try:
            values = read_values(request.args.items(multi=True) if request.method == "GET"
                                 else parse_qsl(call.body.decode("utf-8", "replace"), keep_blank_values=True))
        except UnreadableValue as error:
            return Incoming(operation, unreadable=RequestRefused(holds_nul(error.name)))
        given: dict[str, str] = {}
        for key, value in values:
            given.setdefault(key.lower(), value)
        params: dict[str, Any] = {}
        for parameter in operation.parameter_names:
            if parameter.lower() not in given:
                return Incoming(operation, unreadable=RequestRefused(f"Missing parameter: {parameter}."))
            params[parameter] = given[parameter.lower()]
        # No SOAP header on these bindings: a token-taking operation is called without its token.
        return Incoming(operation, params, auth.Credentials(token=None, required=operation.takes_token))

    def write(self, call: Call, incoming: Incoming, reply: Reply) -> Answer:
        operation: XWebOperation = incoming.operation
        if operation.result is Result.VOID:
            return Answer(200, [], b"")
        return Answer(200, list(_XML), result_document(operation, reply.result))

    def write_error(self, call: Call, incoming: Incoming | None, error: XWebError) -> Answer:
        if isinstance(error, RequestRefused):
            text = f"System.InvalidOperationException: {error.message}\r\n{error.trace}"
        else:
            operation = incoming.operation if incoming is not None else None
            trace = operation.stack_trace if operation is not None else ""
            text = fault_string(error, trace).replace("\n", "\r\n")
        return Answer(500, list(_TEXT), (text + "\r\n").encode())


def result_document(operation: XWebOperation, result: Any) -> bytes:
    """The result as XmlSerializer writes it on its own (indented, CRLF)."""
    if operation.result is Result.XML_NODE:
        (name, value), = result.items()
        root = etree.Element(f"{{{NAMESPACE}}}{name}", nsmap={None: NAMESPACE, "xsi": XSI})
        jsonnet.fill(root, value, NAMESPACE)
        etree.cleanup_namespaces(root)
    elif operation.result is Result.SCALAR:
        root = etree.Element(f"{{{NAMESPACE}}}{_SIMPLE_ELEMENTS[operation.returns]}", nsmap={None: NAMESPACE})
        root.text = result.isoformat() if isinstance(result, datetime) else jsonnet.text_of(result)
    else:
        root = etree.Element(f"{{{NAMESPACE}}}{operation.returns}", nsmap={"xsi": XSI, "xsd": XSD, None: NAMESPACE})
        item = operation.returns.removeprefix("ArrayOf") if operation.returns.startswith("ArrayOf") else None
        jsonnet.fill(root, {item: result} if item else result, NAMESPACE, omit_none=True)
    etree.indent(root, space="  ")
    text = etree.tostring(root, encoding="unicode").replace("/>", " />").replace("\n", "\r\n")
    return ('<?xml version="1.0" encoding="utf-8"?>\r\n' + text).encode()
