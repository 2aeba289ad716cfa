"""xWeb's SOAP wire: a spyne application whose methods are declared from the operation table, read and written for
the call pipeline.

Everything a client sees is the vendor's: element names and nesting, the AuthorizationToken header (in on every
operation that takes a token; out on every answer but a fault), faults with XWebException detail, and the ASMX
faults for requests that never reach netFORUM (unreadable XML, an unknown method or SOAPAction, a DOCTYPE).
"""

from __future__ import annotations

import threading
import uuid
from functools import cache
from typing import Any

from lxml import etree
from spyne import (
    Application,
    Boolean,
    ComplexModel,
    DateTime,
    Fault,
    Integer,
    MethodContext,
    ServiceBase,
    Unicode,
    rpc,
)
from spyne.error import ResourceNotFoundError

from xweb_emulator import jsonnet
from xweb_emulator.call import Answer, Call
from xweb_emulator.soap import (
    AsmxSoap11, DoctypeRefused, Soap11, SoapServer, TypedContent, VendorFault, XmlContent, asmx_answer, declared)
from xweb_emulator.vendor import Incoming, Wire
from xweb_emulator.xweb import auth
from xweb_emulator.xweb.errors import (
    NAMESPACE, AsmxFault, MustUnderstand, XWebError, fault_detail, fault_string, unwritable_answer)
from xweb_emulator.xweb.operations import NOT_EMULATED_MESSAGES, OPERATIONS, Reply, Result, XWebOperation

_CONTENT_TYPE = [("Content-Type", "text/xml; charset=utf-8")]
_SIMPLE = {"String": Unicode, "Guid": Unicode, "Int32": Integer, "Boolean": Boolean, "DateTime": DateTime}


class AuthorizationToken(ComplexModel):
    __namespace__ = NAMESPACE
    Token = Unicode


def soap_action(environ: dict) -> str | None:
    action = environ.get("HTTP_SOAPACTION")
    return action.strip().strip('"') if action is not None else None


class SoapWire(Wire):
    def read(self, call: Call) -> Incoming:
        ctx = _server().read(call)
        not_emulated = _not_emulated(call, ctx)
        if not_emulated is not None:
            return not_emulated
        if ctx.in_error is not None:
            return Incoming(None, unreadable=_unreadable(call, ctx.in_error))
        operation = OPERATIONS[ctx.descriptor.operation_name]
        refusal = _misrouted(call, operation, ctx)
        if refusal is not None:
            return Incoming(None, unreadable=refusal)
        params = {name: _neutral(kind, value) for name, kind, value in
                  zip(operation.parameter_names, operation.parameter_types, ctx.in_object, strict=True)}
        header = ctx.in_header
        token = header.Token if isinstance(header, AuthorizationToken) else None
        return Incoming(operation, params, auth.Credentials(token=token, required=operation.takes_token),
                        wire_state=ctx)

    def write(self, call: Call, incoming: Incoming, reply: Reply) -> Answer:
        operation: XWebOperation = incoming.operation
        headers = []
        if reply.token is not None and (operation.takes_token or operation.issues_token):
            # soap:actor: a fresh GUID on Authenticate's answer, as captured from live tenants; absent elsewhere.
            actor = f' soap:actor="{uuid.uuid4()}"' if operation.issues_token else ""
            headers.append(f'<AuthorizationToken xmlns="{NAMESPACE}"{actor}>'.encode()
                           + jsonnet.markup("Token", reply.token) + b"</AuthorizationToken>")
        try:
            content = _result_markup(operation, reply.result)
        except jsonnet.NotXmlText as error:
            raise unwritable_answer(error.character) from None
        return Answer(200, _CONTENT_TYPE, asmx_answer(NAMESPACE, headers, f"{operation.message}Response", content))

    def write_error(self, call: Call, incoming: Incoming | None, error: XWebError) -> Answer:
        operation = incoming.operation if incoming is not None else None
        trace = operation.stack_trace if operation is not None and not isinstance(error, AsmxFault) else ""
        fault = VendorFault(error.faultcode, fault_string(error, trace), _actor(call), fault_detail(error, trace),
                            NAMESPACE)
        return Answer(500, _CONTENT_TYPE, _server().write_fault(call, fault))


def _server() -> SoapServer:
    """The spyne application, built by the first call that needs it: once in a process, and never in `serve`'s own,
    which answers no call (its 262 methods took 0.02 s of every start, twice: there and in the worker)."""
    if not _BUILT:
        with _BUILDING:  # the first calls of a worker's threads: one builds it, the others wait for it
            if not _BUILT:
                application = Application([_service()], tns=NAMESPACE, name="netForumXML", in_protocol=Soap11(
                    validator=None), out_protocol=AsmxSoap11(namespace=NAMESPACE))
                _BUILT.append(SoapServer(application))
    return _BUILT[0]


_BUILDING = threading.Lock()
_BUILT: list[SoapServer] = []


def _result_markup(operation: XWebOperation, result: Any) -> bytearray | None:
    """The body element's content as spyne would write the method's declared result: None for none."""
    if result is None or operation.result is Result.VOID:
        return None
    name = operation.result_name or f"{operation.name}Result"
    if operation.result is Result.SCALAR:
        return jsonnet.markup(name, _server().app.out_protocol.to_unicode(_SIMPLE[operation.returns], result))
    kind = _result_type(operation.returns)
    return jsonnet.markup(name, {kind.item: result} if kind.item else result, kind.omit_none)


def _service() -> type[ServiceBase]:
    """The netForumXML service, each method's messages declared from its table entry."""
    methods = {name: _method(operation) for name, operation in OPERATIONS.items()}
    return type("NetForumXML", (ServiceBase,), methods)


def _method(operation: XWebOperation) -> Any:
    """spyne reads its request; its answer is written by SoapWire.write."""
    options: dict[str, Any] = {"_args": operation.parameter_names}
    if operation.takes_token:
        options["_in_header"] = (AuthorizationToken,)
    return rpc(*[_SIMPLE.get(kind, XmlContent) for kind in operation.parameter_types], **options)(
        declared(operation.name))


def _result_type(returns: str) -> Any:
    if returns == "void":
        return None
    if returns == "XmlNode":
        return XmlContent
    if returns in _SIMPLE:
        return _SIMPLE[returns]
    return _typed(returns.removeprefix("ArrayOf") if returns.startswith("ArrayOf") else None)


@cache
def _typed(item: str | None) -> type[TypedContent]:
    """A typed result; for an array, each item under its own element (ArrayOfMailingList → <MailingList>)."""
    return type(f"ArrayOf{item}" if item else "TypedResult", (TypedContent,), {"item": item})


def _neutral(kind: str, value: Any) -> Any:
    """A parameter in neutral form: simple values as spyne read them, XML as JSON.NET would see it."""
    if kind in _SIMPLE or value is None:
        return value
    if kind.endswith("[]"):
        return jsonnet.children_values(value)
    return jsonnet.element_value(value)


def _not_emulated(call: Call, ctx: MethodContext) -> Incoming | None:
    """A call of one of the vendor's operations that the emulator does not emulate, once spyne has read the envelope:
    named by the SOAPAction (its message's name), its parameters are not read, whatever the body holds, only the token
    header. Named by the body's element alone, it is refused as ASMX refuses any operation whose SOAPAction is missing
    or another's.
    None for any other request."""
    envelope = ctx.in_document
    if not etree.iselement(envelope):
        return None  # no SOAP envelope was read: the request is refused as unreadable, whichever it names
    operation = NOT_EMULATED_MESSAGES.get((soap_action(call.request.environ) or "").removeprefix(NAMESPACE))
    body = ctx.in_body_doc
    if operation is None and ctx.descriptor is None and body is not None:  # no emulated operation's element either
        element = etree.QName(body)
        operation = NOT_EMULATED_MESSAGES.get(element.localname) if element.namespace == NAMESPACE else None
    if operation is None:
        return None
    refusal = _misrouted(call, operation, ctx)
    if refusal is not None:
        return Incoming(None, unreadable=refusal)
    token = envelope.findtext(f"{{{Soap11.ns_soap_env}}}Header/{{{NAMESPACE}}}AuthorizationToken/{{{NAMESPACE}}}Token")
    return Incoming(operation, credentials=auth.Credentials(token=token, required=operation.takes_token))


def _misrouted(call: Call, operation: XWebOperation, ctx: MethodContext) -> AsmxFault | None:
    """ASMX routes on SOAPAction and checks the headers it must understand; so do we, once spyne read the body."""
    action = soap_action(call.request.environ)
    if action is None:
        return AsmxFault("Unable to handle request without a valid action parameter. Please supply a valid soap action.")
    if action != NAMESPACE + operation.message:
        return AsmxFault(f"Server did not recognize the value of HTTP Header SOAPAction: {action}.")
    understood = (f"{{{NAMESPACE}}}AuthorizationToken",) if operation.takes_token else ()
    for header in ctx.in_document.iterfind(f"{{{Soap11.ns_soap_env}}}Header/*"):
        if header.get(f"{{{Soap11.ns_soap_env}}}mustUnderstand") in ("1", "true") and header.tag not in understood:
            return MustUnderstand(f"SOAP header {etree.QName(header).localname} was not understood.")
    return None


def _unreadable(call: Call, error: Exception) -> AsmxFault:
    """spyne's own errors as ASP.NET words them."""
    if isinstance(error, DoctypeRefused):
        return AsmxFault(f"Server was unable to read request. ---> {error.faultstring}")
    if isinstance(error, ResourceNotFoundError):
        return AsmxFault(f"Server did not recognize the value of HTTP Header SOAPAction: "
                         f"{soap_action(call.request.environ) or ''}.")
    if isinstance(error, Fault) and error.faultcode.startswith("Client"):
        return AsmxFault(f"Server was unable to read request. ---> {error.faultstring}")
    raise error


def _actor(call: Call) -> str:
    return call.request.base_url
