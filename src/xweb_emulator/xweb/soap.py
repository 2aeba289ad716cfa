"""xWeb's SOAP endpoint: a spyne application whose methods hand their arguments to the xWeb API.

Everything a client sees is the vendor's: element names and nesting, the AuthorizationToken header (in on every
operation but Authenticate, GetDateTime and TestConnection; out on every answer but a fault), faults with
XWebException detail, and the ASMX faults for requests that never reach netFORUM (unreadable XML, an unknown
method or SOAPAction, a DOCTYPE).
"""

from __future__ import annotations

import logging
from typing import Any

from lxml import etree
from spyne import Application, Boolean, ComplexModel, DateTime, Fault, ServiceBase, Unicode, rpc
from spyne.error import ResourceNotFoundError

from xweb_emulator import jsonnet
from xweb_emulator.soap import DoctypeRefused, Soap11, SoapWsgiApplication, TypedContent, VendorFault, XmlContent
from xweb_emulator.vendor import CallRecord
from xweb_emulator.xweb.api import NAMESPACE, OPERATIONS, Caller, XWebTenant, fault_detail, fault_string
from xweb_emulator.xweb.errors import XWebError

log = logging.getLogger(__name__)

TOKEN_FREE = ("Authenticate", "GetDateTime", "TestConnection")
ASMX_FAULT = "SoapException"  # the journal's outcome for a request ASP.NET refuses before netFORUM sees it


class AuthorizationToken(ComplexModel):
    __namespace__ = NAMESPACE
    Token = Unicode


TOKEN_HEADER = (AuthorizationToken,)


class MailingListSettings(TypedContent):
    item = "MailingListSetting"


class MailingLists(TypedContent):
    item = "MailingList"


def _call(ctx, operation_name: str, **params: Any):
    """Run an xWeb operation for a spyne method: the caller from the transport and header, the answer's token out."""
    tenant: XWebTenant = ctx.app.tenant
    operation = OPERATIONS[operation_name]
    header = ctx.in_header
    caller = Caller(
        client_address=ctx.transport.req_env.get("REMOTE_ADDR", ""),
        token=header.Token if isinstance(header, AuthorizationToken) else None,
        record=CallRecord.of(ctx.transport.req_env),
    )
    _refuse_misrouted(ctx, operation_name)
    try:
        reply = tenant.call(operation, caller, params)
    except XWebError as error:
        raise xweb_fault(ctx, error) from None
    if reply.token is not None:
        ctx.out_header = AuthorizationToken(Token=reply.token)
    return reply.result


def _neutral(element: etree._Element | None) -> Any:
    return None if element is None else jsonnet.element_value(element)


class NetForumXML(ServiceBase):
    @rpc(Unicode, Unicode, _returns=Unicode, _out_header=TOKEN_HEADER)
    def Authenticate(ctx, userName, password):
        return _call(ctx, "Authenticate", userName=userName, password=password)

    @rpc(_returns=Unicode)
    def TestConnection(ctx):
        return _call(ctx, "TestConnection")

    @rpc(_returns=DateTime)
    def GetDateTime(ctx):
        return _call(ctx, "GetDateTime")

    @rpc(_returns=Unicode, _in_header=TOKEN_HEADER, _out_header=TOKEN_HEADER)
    def GetVersion(ctx):
        return _call(ctx, "GetVersion")

    @rpc(Unicode, XmlContent, _returns=XmlContent, _in_header=TOKEN_HEADER, _out_header=TOKEN_HEADER)
    def InsertFacadeObject(ctx, szObjectName, oNode):
        return _call(ctx, "InsertFacadeObject", szObjectName=szObjectName, oNode=_neutral(oNode))

    @rpc(Unicode, Unicode, _returns=XmlContent, _in_header=TOKEN_HEADER, _out_header=TOKEN_HEADER)
    def GetFacadeObject(ctx, szObjectName, szObjectKey):
        return _call(ctx, "GetFacadeObject", szObjectName=szObjectName, szObjectKey=szObjectKey)

    @rpc(Unicode, XmlContent, _returns=None, _in_header=TOKEN_HEADER, _out_header=TOKEN_HEADER)
    def SetCustomerCommunicationPreferences(ctx, customerKey, preferences):
        settings = None if preferences is None else jsonnet.children_values(preferences)
        return _call(ctx, "SetCustomerCommunicationPreferences", customerKey=customerKey, preferences=settings)

    @rpc(Unicode, Unicode, _returns=TypedContent, _out_variable_name="mailing_list_setting",
         _in_header=TOKEN_HEADER, _out_header=TOKEN_HEADER)
    def GetCustomerCommunicationPreference(ctx, customerKey, preferenceTypeKey):
        return _call(ctx, "GetCustomerCommunicationPreference", customerKey=customerKey,
                     preferenceTypeKey=preferenceTypeKey)

    @rpc(Unicode, _returns=MailingListSettings, _in_header=TOKEN_HEADER, _out_header=TOKEN_HEADER)
    def GetAllCustomerCommunicationPreferences(ctx, customerKey):
        return _call(ctx, "GetAllCustomerCommunicationPreferences", customerKey=customerKey)

    @rpc(_returns=MailingLists, _in_header=TOKEN_HEADER, _out_header=TOKEN_HEADER)
    def GetPromotionalMailingTypes(ctx):
        return _call(ctx, "GetPromotionalMailingTypes")

    @rpc(_returns=MailingLists, _in_header=TOKEN_HEADER, _out_header=TOKEN_HEADER)
    def GetSubscriptionMailingTypes(ctx):
        return _call(ctx, "GetSubscriptionMailingTypes")

    @rpc(XmlContent, _returns=Boolean, _in_header=TOKEN_HEADER, _out_header=TOKEN_HEADER)
    def WEBPhoneUpdate(ctx, oFacadeObject):
        return _call(ctx, "WEBPhoneUpdate", oFacadeObject=_neutral(oFacadeObject))

    @rpc(Unicode, _returns=TypedContent, _in_header=TOKEN_HEADER, _out_header=TOKEN_HEADER)
    def WEBPhoneGet(ctx, key):
        return _call(ctx, "WEBPhoneGet", key=key)

    @rpc(XmlContent, _returns=TypedContent, _in_header=TOKEN_HEADER, _out_header=TOKEN_HEADER)
    def WEBPhoneInsert(ctx, oFacadeObject):
        return _call(ctx, "WEBPhoneInsert", oFacadeObject=_neutral(oFacadeObject))

    @rpc(Unicode, _returns=XmlContent, _in_header=TOKEN_HEADER, _out_header=TOKEN_HEADER)
    def WEBPhoneGetPhonesByCustomer(ctx, CustomerKey):
        return _call(ctx, "WEBPhoneGetPhonesByCustomer", CustomerKey=CustomerKey)


def _refuse_misrouted(ctx, operation_name: str) -> None:
    """ASMX routes on SOAPAction and checks headers it must understand; so do we, after spyne matched the body."""
    action = ctx.transport.req_env.get("HTTP_SOAPACTION")
    if action is None:
        raise asmx_fault(ctx, "Unable to handle request without a valid action parameter. "
                              "Please supply a valid soap action.")
    requested = action.strip('"')
    if requested != NAMESPACE + operation_name:
        raise asmx_fault(ctx, f"Server did not recognize the value of HTTP Header SOAPAction: {requested}.")
    understood = () if operation_name in TOKEN_FREE else (f"{{{NAMESPACE}}}AuthorizationToken",)
    for header in ctx.in_document.iterfind(f"{{{Soap11.ns_soap_env}}}Header/*"):
        if header.get(f"{{{Soap11.ns_soap_env}}}mustUnderstand") in ("1", "true") and header.tag not in understood:
            raise VendorFault("MustUnderstand", f"SOAP header {etree.QName(header).localname} was not understood.",
                              _actor(ctx), None, NAMESPACE)


def _actor(ctx) -> str:
    env = ctx.transport.req_env
    scheme = env.get("wsgi.url_scheme", "http")
    host = env.get("HTTP_HOST") or f"{env.get('SERVER_NAME', 'localhost')}:{env.get('SERVER_PORT', '80')}"
    return f"{scheme}://{host}{env.get('SCRIPT_NAME', '')}{env.get('PATH_INFO', '')}"


def xweb_fault(ctx, error: XWebError) -> VendorFault:
    operation = OPERATIONS.get(ctx.method_name) if ctx.method_name else None
    return VendorFault("Client", fault_string(error, operation), _actor(ctx), fault_detail(error, operation), NAMESPACE)


def asmx_fault(ctx, message: str) -> VendorFault:
    """A fault raised by ASP.NET before netFORUM runs: no XWebException, an empty detail."""
    CallRecord.of(ctx.transport.req_env).outcome = ASMX_FAULT
    return VendorFault("Client", f"System.Web.Services.Protocols.SoapException: {message}", _actor(ctx), None,
                       NAMESPACE)


def _as_fault(ctx, error: Exception) -> VendorFault:
    """spyne's own errors as ASP.NET words them."""
    if isinstance(error, DoctypeRefused):
        return asmx_fault(ctx, f"Server was unable to read request. ---> {error.faultstring}")
    if isinstance(error, ResourceNotFoundError):
        action = (ctx.transport.req_env.get("HTTP_SOAPACTION") or "").strip('"')
        return asmx_fault(ctx, f"Server did not recognize the value of HTTP Header SOAPAction: {action}.")
    if isinstance(error, Fault) and error.faultcode.startswith("Client"):
        return asmx_fault(ctx, f"Server was unable to read request. ---> {error.faultstring}")
    log.error("xWeb SOAP request failed: %r", error)
    return xweb_fault(ctx, XWebError("An unexpected error occurred in the emulator; nothing was written."))


def create_soap_app(tenant: XWebTenant, max_request_bytes: int) -> SoapWsgiApplication:
    application = Application(
        [NetForumXML], tns=NAMESPACE, name="netForumXML",
        in_protocol=Soap11(validator=None), out_protocol=Soap11(),
    )
    application.tenant = tenant
    return SoapWsgiApplication(application, as_fault=_as_fault, max_content_length=max_request_bytes)
