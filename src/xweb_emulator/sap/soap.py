"""The ManageCampaignInboundIn endpoint's wire: HTTP Basic credentials of the communication user, and spyne
applications for SOAP 1.1 and SOAP 1.2 (chosen by Content-Type) that read each message and write its confirmation.

What a client sees is SAP's: the soap-env: envelope with an empty Header, message roots in
http://sap.com/xi/SAPGlobal20/Global under the prefix n0 and unqualified children, faults with faultcode
soap-env:Client / soap-env:Server, a faultstring in xml:lang="en" ending in "(UTC timestamp …; Transaction ID …)"
and an empty detail, and 401 from the HTTP layer for missing or wrong credentials.
"""

from __future__ import annotations

import uuid
from typing import Any

from lxml import etree
from spyne import Application, Fault, ServiceBase, rpc
from spyne.error import ResourceNotFoundError
from spyne.protocol.soap import Soap12 as SpyneSoap12
from werkzeug.http import parse_options_header

from xweb_emulator import jsonnet
from xweb_emulator.call import Answer, Call
from xweb_emulator.errors import EmulatorError
from xweb_emulator.sap.errors import MalformedRequest, Refused, SoapFault, Unauthorized
from xweb_emulator.sap.log import Confirmation
from xweb_emulator.sap.operations import NAMESPACE, OPERATIONS, SERVICE, SapOperation, operation_for
from xweb_emulator.soap import Soap11, SoapServer, VendorFault, XmlContent, declared
from xweb_emulator.vendor import Incoming, Wire

ENVELOPE_PREFIX = "soap-env"
MESSAGE_PREFIX = "n0"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
SOAP12_CONTENT_TYPE = "application/soap+xml"
PROCESSING_ERROR = "Web service processing error; more details in the Web service error log on provider side"
# The ICF's answer to a request without valid credentials (its realm names the system; ours names the emulator).
REALM = 'Basic realm="SAP NetWeaver Application Server (xweb-emulator)"'


class MessageContent(XmlContent):
    """A whole request or confirmation message: read as the body's root element; written as the root in NAMESPACE
    (prefix n0, as SAP writes it) with unqualified children."""


class SapFault(VendorFault):
    def __init__(self, code: str, string: str) -> None:
        super().__init__(code, string, "", None, NAMESPACE)


class _SapProtocol:
    """SAP's SOAP wire, for either SOAP version (mixed in before the shared Soap11 and, for 1.2, spyne's Soap12)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.serialization_handlers[MessageContent] = self._message_to_parent
        self.serialization_handlers[SapFault] = self._fault_to_parent

    def set_app(self, value) -> None:
        super().set_app(value)
        if value is not None:
            # The envelope declares soap-env only: the message root declares n0 itself (spyne would declare the
            # messages' namespace on the envelope as tns, and lxml reuse that prefix for the root).
            nsmap = value.interface.nsmap
            for prefix in [prefix for prefix, namespace in nsmap.items()
                           if namespace in (self.ns_soap_env, Soap11.ns_soap_env, NAMESPACE)]:
                del nsmap[prefix]
            nsmap[ENVELOPE_PREFIX] = self.ns_soap_env
            self.soap_env = ENVELOPE_PREFIX

    def get_call_handles(self, ctx) -> list:
        root = etree.QName(ctx.method_request_string)
        operation = operation_for(root.namespace, root.localname, soap_action(ctx.udc.request.environ))
        if operation is None:
            return []
        return self.app.interface.service_method_map.get(f"{{{NAMESPACE}}}{operation.request_element}", [])

    def serialize(self, ctx, message) -> None:
        super().serialize(ctx, message)
        # SAP writes an empty Header into every answer, faults included.
        if ctx.out_document.find(f"{{{self.ns_soap_env}}}Header") is None:
            ctx.out_document.insert(0, etree.Element(f"{{{self.ns_soap_env}}}Header"))

    def _message_to_parent(self, ctx, cls, inst, parent, ns, name, **_) -> None:
        element = etree.SubElement(parent, f"{{{NAMESPACE}}}{name}", nsmap={MESSAGE_PREFIX: NAMESPACE})
        jsonnet.fill(element, inst, "", omit_none=True)

    def _fault_to_parent(self, ctx, cls, inst: SapFault, parent, ns, *args, **kwargs) -> None:
        env = self.ns_soap_env
        fault = etree.SubElement(parent, f"{{{env}}}Fault")
        if env == Soap11.ns_soap_env:
            etree.SubElement(fault, "faultcode").text = f"{ENVELOPE_PREFIX}:{inst.faultcode}"
            etree.SubElement(fault, "faultstring", {XML_LANG: "en"}).text = inst.faultstring
            etree.SubElement(fault, "detail")
            return
        code = etree.SubElement(etree.SubElement(fault, f"{{{env}}}Code"), f"{{{env}}}Value")
        code.text = f"{ENVELOPE_PREFIX}:{'Sender' if inst.faultcode == 'Client' else 'Receiver'}"
        reason = etree.SubElement(fault, f"{{{env}}}Reason")
        etree.SubElement(reason, f"{{{env}}}Text", {XML_LANG: "en"}).text = inst.faultstring
        etree.SubElement(fault, f"{{{env}}}Detail")


class SapSoap11(_SapProtocol, Soap11):
    pass


class SapSoap12(_SapProtocol, Soap11, SpyneSoap12):
    """SOAP 1.2: spyne's Soap12 envelope under the shared Soap11's reading rules (XmlContent, no DTD)."""


def soap_action(environ: dict) -> str | None:
    """The SOAPAction header (SOAP 1.1), or the action parameter of the Content-Type (SOAP 1.2)."""
    action = environ.get("HTTP_SOAPACTION")
    if action is None:
        action = parse_options_header(environ.get("CONTENT_TYPE", ""))[1].get("action")
    return action.strip().strip('"') if action else None


def _method(operation: SapOperation) -> Any:
    """The spyne method of an operation: the whole request message in, the whole confirmation out."""
    return rpc(MessageContent, _args=["message"], _returns=MessageContent, _body_style="bare",
               _in_message_name=operation.request_element,
               _out_message_name=operation.confirmation_element)(declared(operation.name))


ManageCampaignInboundIn = type(SERVICE, (ServiceBase,), {name: _method(op) for name, op in OPERATIONS.items()})
_CONTENT_TYPES = {SapSoap11: "text/xml; charset=utf-8", SapSoap12: f"{SOAP12_CONTENT_TYPE}; charset=utf-8"}


class SapSoapWire(Wire):
    """The endpoint's SOAP 1.1 and SOAP 1.2 (chosen by Content-Type), behind the ICF's HTTP Basic logon."""

    def __init__(self) -> None:
        self._servers = {protocol: SoapServer(Application([ManageCampaignInboundIn], tns=NAMESPACE, name=SERVICE,
                                                          in_protocol=protocol(validator=None),
                                                          out_protocol=protocol()))
                         for protocol in (SapSoap11, SapSoap12)}

    def read(self, call: Call) -> Incoming:
        authorization = call.request.authorization
        # The ICF checks the logon before the SOAP runtime reads anything: the credentials are known either way.
        credentials = ((authorization.username, authorization.password)
                       if authorization is not None and authorization.type == "basic" else (None, None))
        protocol = _protocol(call)
        ctx = self._servers[protocol].read(call)
        if ctx.in_error is not None:
            return Incoming(None, credentials=credentials, unreadable=_unreadable(call, ctx))
        operation = OPERATIONS[ctx.descriptor.operation_name]
        return Incoming(operation, jsonnet.element_value(ctx.in_object, operation.bundle.kept), credentials,
                        wire_state=ctx)

    def write(self, call: Call, incoming: Incoming, confirmation: Confirmation) -> Answer:
        ctx = incoming.wire_state
        return Answer(200, [("Content-Type", _CONTENT_TYPES[type(ctx.app.out_protocol)])],
                      self._servers[type(ctx.app.out_protocol)].write(ctx, confirmation.neutral()))

    def write_error(self, call: Call, incoming: Incoming | None, error: EmulatorError) -> Answer:
        if isinstance(error, Unauthorized):
            return Answer.text(401, error.message, [("WWW-Authenticate", REALM)])
        if isinstance(error, Refused) and incoming is not None and incoming.operation is not None:
            return self.write(call, incoming, Confirmation(items=[error.item]))
        if isinstance(error, SoapFault) and error.faultcode == "Client":
            fault = sap_fault(call, "Client", error.message)
        else:
            fault = sap_fault(call, "Server", PROCESSING_ERROR)
        protocol = _protocol(call)
        return Answer(500, [("Content-Type", _CONTENT_TYPES[protocol])], self._servers[protocol].write_fault(call, fault))


def _protocol(call: Call) -> type:
    content_type = parse_options_header(call.request.content_type or "")[0]
    return SapSoap12 if content_type == SOAP12_CONTENT_TYPE else SapSoap11


def sap_fault(call: Call, code: str, text: str) -> SapFault:
    """A fault as SAP's SOAP runtime words it: the text, the UTC time and a transaction ID to look it up by."""
    return SapFault(code, f"{text} (UTC timestamp {call.now:%Y%m%d%H%M%S}; Transaction ID {uuid.uuid4().hex.upper()})")


def _unreadable(call: Call, ctx: Any) -> MalformedRequest:
    """spyne's own errors: a request it cannot read or route is the client's."""
    error = ctx.in_error
    if isinstance(error, ResourceNotFoundError):
        action = soap_action(call.request.environ)
        return MalformedRequest(f"No operation of {SERVICE} takes the message {ctx.method_request_string} "
                                f"(SOAPAction {action or 'not sent'})")
    if isinstance(error, Fault) and error.faultcode.startswith("Client"):
        return MalformedRequest(f"The request could not be read: {error.faultstring}")
    raise error
