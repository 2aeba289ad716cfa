"""SOAP machinery every vendor adapter shares, on top of spyne.

- `XmlContent`: a parameter or result whose content we read and write ourselves, in the neutral form of
  xweb_emulator.jsonnet, so that element names and nesting are exactly the vendor's (spyne's own AnyXml keeps only
  the first child element).
- `Soap11`: spyne's SOAP 1.1 with the envelope prefix real .NET servers use (soap:), documents with a DOCTYPE refused
  before anything reads them (no DTD is loaded, no entity resolved), and vendor-shaped faults.
- `SoapWsgiApplication`: spyne's WSGI server, with every error — spyne's own included — turned into the vendor's
  fault by the vendor's `as_fault` before it is written.
"""

from __future__ import annotations

import copy
import importlib.resources
import logging
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import spyne.const
from lxml import etree
from spyne import AnyXml, Fault
from spyne.protocol.soap import Soap11 as SpyneSoap11
from spyne.server.wsgi import WsgiApplication

from xweb_emulator import jsonnet

SOAP11_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
_SOAP_ADDRESSES = ("{http://schemas.xmlsoap.org/wsdl/soap/}address", "{http://schemas.xmlsoap.org/wsdl/soap12/}address")

# spyne logs every fault a client provokes, with a traceback and the whole request. The client got its fault; our
# adapters log what is the emulator's own failure.
logging.getLogger("spyne").setLevel(logging.CRITICAL)

# spyne runs a full gc.collect() once a second in every process, to release the file descriptors of uploaded
# attachments; we take none, and each collection stalls a request for tens of milliseconds under load.
spyne.const.MIN_GC_INTERVAL = float("inf")


class XmlContent(AnyXml):
    """Content in neutral form: in, the element itself; out, a value written under the result element, null
    members as empty elements (an untyped XmlNode result)."""

    item: str | None = None
    """For an array result, the name of each item's element (ArrayOfMailingListSetting → MailingListSetting)."""
    omit_none: bool = False


class TypedContent(XmlContent):
    """A result the WSDL types: null members are left out, as .NET's XmlSerializer does."""

    omit_none = True


class VendorFault(Fault):
    """A fault in a vendor's exact shape: faultcode, faultstring, faultactor and a detail in neutral form."""

    def __init__(self, code: str, string: str, actor: str, detail: dict | None, detail_namespace: str) -> None:
        super().__init__(faultcode=code, faultstring=string, faultactor=actor)
        self.vendor_detail = detail
        self.detail_namespace = detail_namespace


class DoctypeRefused(Fault):
    """A request carrying a DOCTYPE: refused, as .NET's XmlReader refuses DTDs."""

    def __init__(self) -> None:
        super().__init__("Client.DoctypeRefused", "For security reasons DTD is prohibited in this XML document.")


class Soap11(SpyneSoap11):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("cleanup_namespaces", True)
        super().__init__(*args, **kwargs)
        self.parser_kwargs.update(resolve_entities=False, load_dtd=False, no_network=True, huge_tree=False)
        self.serialization_handlers[XmlContent] = self._xml_content_to_parent
        self.serialization_handlers[VendorFault] = self._vendor_fault_to_parent
        self.deserialization_handlers[XmlContent] = lambda ctx, cls, element: element

    def set_app(self, value) -> None:
        super().set_app(value)
        if value is not None:
            # .NET answers with soap: for the envelope; spyne's default prefix is soap11env.
            nsmap = value.interface.nsmap
            for prefix in [prefix for prefix, namespace in nsmap.items() if namespace == SOAP11_ENV]:
                del nsmap[prefix]
            nsmap["soap"] = SOAP11_ENV
            self.soap_env = "soap"

    def create_in_document(self, ctx, charset=None) -> None:
        super().create_in_document(ctx, charset)
        root, _ids = ctx.in_document
        if root.getroottree().docinfo.doctype:
            raise DoctypeRefused()

    def _xml_content_to_parent(self, ctx, cls, inst, parent, ns, name, **_) -> None:
        element = etree.SubElement(parent, f"{{{ns}}}{name}")
        jsonnet.fill(element, {cls.item: inst} if cls.item else inst, ns, cls.omit_none)

    def _vendor_fault_to_parent(self, ctx, cls, inst: VendorFault, parent, ns, *args, **kwargs) -> None:
        fault = etree.SubElement(parent, f"{{{SOAP11_ENV}}}Fault")
        etree.SubElement(fault, "faultcode").text = f"soap:{inst.faultcode}"
        etree.SubElement(fault, "faultstring").text = inst.faultstring
        etree.SubElement(fault, "faultactor").text = inst.faultactor
        detail = etree.SubElement(fault, "detail")
        if inst.vendor_detail:
            jsonnet.fill(detail, inst.vendor_detail, inst.detail_namespace)


class SoapWsgiApplication(WsgiApplication):
    """spyne's WSGI server, with `as_fault(ctx, error)` making every error the vendor's fault."""

    def __init__(self, app, as_fault: Callable[[Any, Exception], VendorFault], max_content_length: int) -> None:
        super().__init__(app, max_content_length=max_content_length)
        self._as_fault = as_fault

    def generate_contexts(self, ctx, in_string_charset=None):
        """spyne raises plain exceptions for some unreadable requests (an empty body, bytes that are not in the
        declared charset, an empty soap:Body): make them the client faults they are."""
        try:
            return super().generate_contexts(ctx, in_string_charset)
        except Exception as error:
            reason = "Root element is missing." if isinstance(error, StopIteration) else (
                f"There is an error in the XML document: {type(error).__name__}: {error}")
            ctx.in_object = None
            ctx.in_error = ctx.out_error = Fault("Client.UnreadableRequest", reason)
            return (ctx,)

    def handle_error(self, p_ctx, others, error, start_response):
        fault = error if isinstance(error, VendorFault) else self._as_fault(p_ctx, error)
        p_ctx.out_error = fault
        p_ctx.out_header = None  # a fault carries no token
        return super().handle_error(p_ctx, others, fault, start_response)


@lru_cache(maxsize=16)
def _wsdl_template(file_name: str) -> etree._ElementTree:
    source = importlib.resources.files("xweb_emulator.wsdl").joinpath(file_name).read_bytes()
    return etree.ElementTree(etree.fromstring(source))


@lru_cache(maxsize=64)
def wsdl_document(file_name: str, address: str) -> bytes:
    """One of our WSDLs (wsdl/<file_name>), its soap:address the one the request came in on, as ASMX and SAP's
    SOAP runtime write it."""
    document = copy.deepcopy(_wsdl_template(file_name))
    for tag in _SOAP_ADDRESSES:
        for element in document.iterfind(f".//{tag}"):
            element.set("location", address)
    return etree.tostring(document, xml_declaration=True, encoding="utf-8")
