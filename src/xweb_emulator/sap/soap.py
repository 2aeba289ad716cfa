"""The ManageCampaignInboundIn endpoint: HTTP Basic authentication of the communication user, then spyne
applications for SOAP 1.1 and SOAP 1.2 (chosen by Content-Type) that hand each message to the service.

What a client sees is SAP's: the soap-env: envelope with an empty Header, message roots in
http://sap.com/xi/SAPGlobal20/Global under the prefix n0 and unqualified children, faults with faultcode
soap-env:Client / soap-env:Server, a faultstring in xml:lang="en" ending in "(UTC timestamp …; Transaction ID …)"
and an empty detail, and 401 from the HTTP layer for missing or wrong credentials.
"""

from __future__ import annotations

import hmac
import logging
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from lxml import etree
from spyne import Application, Fault, ServiceBase, rpc
from spyne.error import ResourceNotFoundError
from spyne.protocol.soap import Soap12 as SpyneSoap12
from werkzeug import Request, Response
from werkzeug.http import parse_options_header

from xweb_emulator import clock, jsonnet
from xweb_emulator.sap.api import (
    NAMESPACE,
    OPERATIONS,
    SERVICE,
    SOAP_FAULT,
    UNAUTHORIZED,
    CampaignInboundService,
    Operation,
    operation_for,
)
from xweb_emulator.sap.errors import MalformedRequest, ProcessingError
from xweb_emulator.soap import Soap11, SoapWsgiApplication, VendorFault, XmlContent
from xweb_emulator.vendor import CallRecord

logger = logging.getLogger(__name__)

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
        operation = operation_for(root.namespace, root.localname, soap_action(ctx.transport.req_env))
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


def _method(operation: Operation) -> Callable:
    """The spyne method of an operation: the whole request message in, the whole confirmation out."""

    def call(ctx, message):
        service: CampaignInboundService = ctx.app.service
        record = CallRecord.of(ctx.transport.req_env)
        try:
            confirmation = service.call(operation, jsonnet.element_value(message), record)
        except MalformedRequest as error:
            raise sap_fault(service, "Client", str(error)) from None
        except ProcessingError:
            raise sap_fault(service, "Server", PROCESSING_ERROR) from None
        return confirmation.neutral()

    call.__name__ = operation.name  # spyne keys its methods by function name
    return rpc(MessageContent, _returns=MessageContent, _body_style="bare", _in_message_name=operation.request_element,
               _out_message_name=operation.confirmation_element)(call)


ManageCampaignInboundIn = type(SERVICE, (ServiceBase,), {name: _method(op) for name, op in OPERATIONS.items()})


def sap_fault(service: CampaignInboundService, code: str, text: str) -> SapFault:
    """A fault as SAP's SOAP runtime words it: the text, the UTC time and a transaction ID to look it up by."""
    try:
        now = service.now()
    except Exception:  # the database itself failed: the fault must still go out
        now = clock.utcnow()
    return SapFault(code, f"{text} (UTC timestamp {now:%Y%m%d%H%M%S}; Transaction ID {uuid.uuid4().hex.upper()})")


def _as_fault(ctx, error: Exception) -> SapFault:
    """spyne's own errors: a request it cannot read or route is the client's; anything else the provider's."""
    CallRecord.of(ctx.transport.req_env).outcome = SOAP_FAULT
    service: CampaignInboundService = ctx.app.service
    if isinstance(error, ResourceNotFoundError):
        action = soap_action(ctx.transport.req_env)
        return sap_fault(service, "Client", f"No operation of {SERVICE} takes the message "
                                            f"{ctx.method_request_string} (SOAPAction {action or 'not sent'})")
    if isinstance(error, Fault) and error.faultcode.startswith("Client"):
        return sap_fault(service, "Client", f"The request could not be read: {error.faultstring}")
    logger.error("SAP SOAP request failed: %r", error)
    return sap_fault(service, "Server", PROCESSING_ERROR)


class CampaignInboundEndpoint:
    """The WSGI application at the service's path: credentials first (nothing is processed without them), then the
    SOAP application for the request's SOAP version."""

    def __init__(self, service: CampaignInboundService, user: str, password: str, max_request_bytes: int) -> None:
        self._credentials = (user, password)
        self._soap11 = _soap_application(service, SapSoap11, max_request_bytes)
        self._soap12 = _soap_application(service, SapSoap12, max_request_bytes)

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        record = CallRecord.of(environ, "sap")
        authorization = Request(environ).authorization
        if authorization is not None:
            record.user = authorization.username
        if not self._authorized(authorization):
            record.outcome = UNAUTHORIZED
            response = Response("Logon failed: the user or password of the communication user is wrong.\n", 401,
                                {"WWW-Authenticate": REALM}, content_type="text/plain; charset=utf-8")
            return response(environ, start_response)
        content_type = parse_options_header(environ.get("CONTENT_TYPE", ""))[0]
        application = self._soap12 if content_type == SOAP12_CONTENT_TYPE else self._soap11
        return application(environ, start_response)

    def _authorized(self, authorization) -> bool:
        if authorization is None or authorization.type != "basic":
            return False
        user, password = self._credentials
        # Both compared, whichever is wrong (&, not and): the answer takes as long for a wrong user as for a wrong
        # password.
        return (hmac.compare_digest((authorization.username or "").encode(), user.encode())
                & hmac.compare_digest((authorization.password or "").encode(), password.encode()))


def _soap_application(service: CampaignInboundService, protocol: type, max_request_bytes: int) -> SoapWsgiApplication:
    application = Application([ManageCampaignInboundIn], tns=NAMESPACE, name=SERVICE,
                              in_protocol=protocol(validator=None), out_protocol=protocol())
    application.service = service
    return SoapWsgiApplication(application, as_fault=_as_fault, max_content_length=max_request_bytes)
