"""SOAP machinery every vendor adapter shares, on top of spyne.

- `XmlContent`: a parameter or result whose content we read and write ourselves, in the neutral form of
  xweb_emulator.jsonnet, so that element names and nesting are exactly the vendor's (spyne's own AnyXml keeps only
  the first child element).
- `Soap11`: spyne's SOAP 1.1 with the envelope prefix real .NET servers use (soap:), documents with a DOCTYPE refused
  before anything reads them (no DTD is loaded, no entity resolved), and vendor-shaped faults.
- `AsmxSoap11`, `asmx_answer`: the same, its faults and answers written as ASP.NET's ASMX writes them (the XML
  declaration in double quotes, `soap:Envelope` declaring soap, xsi and xsd, each header block and the body's element
  declaring the service's namespace as the default one, everything below unprefixed, empty elements as `<x />`).
- `SoapServer`: a spyne application driven by the call pipeline: it reads a call's body into a method context and
  writes that context's result or fault. The vendor's runner, not spyne, runs the operation: the @rpc methods of
  a vendor's service only declare its messages.
"""

from __future__ import annotations

import copy
import importlib.resources
import logging
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import spyne.const
from lxml import etree
from lxml.etree import XMLParser
from spyne import AnyXml, Application, Fault, MethodContext
from spyne.evmgr import EventManager
from spyne.protocol.soap import Soap11 as SpyneSoap11
from spyne.server import ServerBase
from werkzeug.http import parse_options_header

from xweb_emulator import jsonnet
from xweb_emulator.call import Call

SOAP11_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XSD = "http://www.w3.org/2001/XMLSchema"
_EMPTY_ELEMENT = re.compile(rb"(<[^<>]*[^<> ])/>")
_SOAP_ADDRESSES = ("{http://schemas.xmlsoap.org/wsdl/soap/}address", "{http://schemas.xmlsoap.org/wsdl/soap12/}address",
                   "{http://schemas.xmlsoap.org/wsdl/http/}address")

# spyne logs every fault a client provokes, with a traceback and the whole request. The client got its fault; the
# pipeline logs what is the emulator's own failure.
logging.getLogger("spyne").setLevel(logging.CRITICAL + 1)

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
        """spyne's reading of the envelope (soap11._parse_xml_string, for SoapServer's contexts, which are no HTTP
        transport's), but for etree.XMLID's search of the elements with an id attribute (which SOAP-encoded href
        references name), made through the attributes (_ids): 0.2 ms against 1.1 ms of a thousand records' request."""
        document = b"".join(ctx.in_string)
        if charset:
            document = document.decode(charset)
        try:
            try:
                root = etree.XML(document, XMLParser(**self.parser_kwargs))
            except ValueError:  # a str with an encoding declaration
                root = etree.XML(document.encode(charset), XMLParser(**self.parser_kwargs))
        except etree.XMLSyntaxError as error:
            raise Fault("Client.XMLSyntaxError", str(error)) from None
        ctx.in_document = root, _ids(root)
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


@lru_cache(maxsize=64)  # a client sends one or two Content-Types; parsing one took 7 us of a call
def _charset(content_type: str) -> str | None:
    return parse_options_header(content_type)[1].get("charset")


def _ids(root: etree._Element) -> dict[str, etree._Element]:
    """What etree.XMLID answers besides the root: the elements with an id attribute that is not empty, by it (the
    last of those sharing one), found through the id attributes rather than by testing every element."""
    return {value: value.getparent() for value in _ID_ATTRIBUTES(root) if value}


_ID_ATTRIBUTES = etree.XPath("//@id")


class AsmxSoap11(Soap11):
    """SOAP 1.1 faults as ASP.NET's ASMX writes them (see `asmx_document`); requests are read as by Soap11. Answers
    are written by `asmx_answer`."""

    def __init__(self, *args: Any, namespace: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.namespace = namespace

    def create_out_string(self, ctx, charset=None) -> None:
        ctx.out_string = [asmx_document(ctx.out_document, self.namespace)]


_ASMX_ENVELOPE = (f'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{SOAP11_ENV}" xmlns:xsi="{XSI}" '
                  f'xmlns:xsd="{XSD}">').encode()


def asmx_answer(namespace: str, headers: Sequence[bytes], response: str,
                content: bytearray | None) -> bytearray:
    """An answer as ASMX writes it (see asmx_document), written straight from its parts: each header block's markup
    (declaring `namespace` itself), then the body's `response` element declaring `namespace`, holding `content` (the
    result's markup, unprefixed), or empty for None. The answer is `content` itself, the envelope written around it
    where it lies: a copy would hold a GetQuery @TOP -1 answer (tens of MB) twice."""
    head = bytearray(_ASMX_ENVELOPE)
    if headers:
        head += b"<soap:Header>" + b"".join(headers) + b"</soap:Header>"
    if content is None:
        head += f'<soap:Body><{response} xmlns="{namespace}" /></soap:Body></soap:Envelope>'.encode()
        return head
    content[:0] = head + f'<soap:Body><{response} xmlns="{namespace}">'.encode()
    content += f"</{response}></soap:Body></soap:Envelope>".encode()
    return content


def asmx_document(envelope: etree._Element, namespace: str) -> bytes:
    """spyne's fault envelope rewritten as ASMX writes it (its few elements copied): `<?xml version="1.0"
    encoding="utf-8"?>`, then `<soap:Envelope xmlns:soap=… xmlns:xsi=… xmlns:xsd=…>`; each header block, the body's
    element and a fault detail's element carrying `xmlns="<namespace>"` with every element below it unprefixed; empty
    elements as `<x />` (XmlTextWriter's space before the slash); no indentation."""
    out = etree.Element(f"{{{SOAP11_ENV}}}Envelope", nsmap={"soap": SOAP11_ENV, "xsi": XSI, "xsd": XSD})
    for part in envelope:
        if not isinstance(part.tag, str):
            continue
        out_part = etree.SubElement(out, part.tag)
        for block in part:
            if not isinstance(block.tag, str):
                continue
            if block.tag == f"{{{SOAP11_ENV}}}Fault":
                _copy_fault(out_part, block, namespace)
            else:
                _copy_block(out_part, block, namespace)
    return b'<?xml version="1.0" encoding="utf-8"?>' + _EMPTY_ELEMENT.sub(rb"\1 />",
                                                                 etree.tostring(out, encoding="utf-8"))


def _copy_fault(parent: etree._Element, fault: etree._Element, namespace: str) -> None:
    out = etree.SubElement(parent, fault.tag)
    for child in fault:
        if not isinstance(child.tag, str):
            continue
        if etree.QName(child).localname == "detail":
            detail = etree.SubElement(out, child.tag)
            for item in child:
                if isinstance(item.tag, str):
                    _copy_block(detail, item, namespace)
        else:
            etree.SubElement(out, child.tag).text = child.text


def _copy_block(parent: etree._Element, element: etree._Element, namespace: str) -> None:
    """`element` written anew under `parent`, the service's namespace the default one from it down."""
    _copy(parent, element, {None: namespace} if etree.QName(element).namespace == namespace else None)


def _copy(parent: etree._Element, element: etree._Element, nsmap: dict | None = None) -> None:
    # Copied element by element: moving the subtree instead (lxml then refers every moved element to the new default
    # namespace) takes time quadratic in its size.
    out = etree.SubElement(parent, element.tag, nsmap=nsmap)
    for name, value in element.attrib.items():
        out.set(name, value)
    out.text = element.text
    for child in element:
        if isinstance(child.tag, str):
            _copy(out, child)


class SoapServer(ServerBase):
    """spyne's reading and writing of one SOAP application, for calls the pipeline hands it."""

    transport = "http://schemas.xmlsoap.org/soap/http"

    def __init__(self, app: Application) -> None:
        super().__init__(app)
        managers = [part.event_manager for part in (self, app, app.in_protocol, app.out_protocol)]
        managers += [manager for method in app.interface.method_id_map.values() for manager in method.event_managers]
        for manager in managers:
            # The class swapped in place: the methods' descriptors hold the same managers (see _Events).
            manager.__class__ = _Events

    def read(self, call: Call) -> MethodContext:
        """The call's body read into a method context: its method, header and arguments, or `in_error` for what
        could not be read. The context keeps the call as its `udc`."""
        ctx = MethodContext(self, MethodContext.SERVER)
        ctx.udc = call
        ctx.in_string = [call.body]
        charset = _charset(call.request.content_type or "")
        try:
            ctx = _detached(self.generate_contexts(ctx, charset)[0])
            if ctx.in_error is None:
                self.get_in_object(ctx)
        except Exception as error:
            # spyne raises plain exceptions for some unreadable requests (an empty body, bytes that are not in the
            # declared charset, an empty soap:Body): they are the client faults they are.
            ctx.in_error = Fault("Client.UnreadableRequest", unreadable_xml(call.body, error))
        else:
            if isinstance(ctx.in_error, Fault) and _is_reading_fault(ctx.in_error):
                ctx.in_error = Fault("Client.UnreadableRequest", unreadable_xml(call.body, ctx.in_error))
        return ctx

    def write(self, ctx: MethodContext | None, result: Any = None, header: Any = None) -> bytes | bytearray:
        """The answer to a method context read by `read`: its result, with the header given."""
        ctx.out_object = [result]
        ctx.out_header = header
        ctx.protocol = ctx.outprot_ctx
        self.get_out_string(ctx)
        return _whole(ctx.out_string)

    def write_fault(self, call: Call, fault: Fault) -> bytes | bytearray:
        ctx = _detached(MethodContext(self, MethodContext.SERVER))
        ctx.udc = call
        ctx.out_error = fault
        self.get_out_string(ctx)
        return _whole(ctx.out_string)


def _whole(pieces: list[bytes | bytearray]) -> bytes | bytearray:
    """An answer's pieces as one; one piece as it is, not copied (see asmx_document)."""
    return pieces[0] if len(pieces) == 1 else b"".join(pieces)


class _Events(EventManager):
    """spyne's events, fired without building an empty ordered set (a reference cycle, left for the garbage
    collector) for each event that has no listener: nine a call. See _detached."""

    def fire_event(self, event_name: str, ctx: MethodContext, *args: Any, **kwargs: Any) -> None:
        for handler in self.handlers.get(event_name, ()):
            handler(ctx, *args, **kwargs)


def _detached(ctx: MethodContext) -> MethodContext:
    """`ctx` with no references from its parts back to it: spyne's `parent` (which none of the protocols used here
    reads) and each protocol part's factory of sub-parts (spyne's cloth protocol's). Freed by reference counting as
    the call ends, with the call and the documents it holds, rather than left as a cycle of some 90 objects a call
    for the garbage collector: with 10,000 of them at a time a collection held a call up 10 to 30 ms (the paging
    benchmark's p99, bench/run.py; a collection every 100 calls)."""
    for part in (ctx.transport, ctx.inprot_ctx, ctx.outprot_ctx, ctx.event, ctx.aux):
        if part is not None:
            part.parent = None
            if hasattr(part, "_subctx"):
                part._subctx = {}
    return ctx


_LIBXML2_POSITION = re.compile(r"line (\d+), column (\d+)")
# libxml2 on a NUL, written raw or as a character reference (an XML 1.0 document holds none).
_LIBXML2_NUL = re.compile(r"invalid xmlChar value 0\b|Char 0x0 out of allowed range")
_PYTHON_WORDING = re.compile(r"\w+Error\(|\w+Error:|Traceback|<string>|XML_PARSE")


def _is_reading_fault(fault: Fault) -> bool:
    """spyne's faults for a document it could not parse, worded by libxml2 or Python rather than by .NET."""
    code = str(fault.faultcode)
    return (code in ("Client.XMLSyntaxError", "Client.SoapError")
            or bool(_PYTHON_WORDING.search(str(fault.faultstring or ""))))


def unreadable_xml(body: bytes, error: BaseException) -> str:
    """Why a request is no XML document, as .NET's XmlSerializer words it (ASMX wraps it in "Server was unable to
    read request."): never libxml2's or Python's own wording."""
    if not body.strip() or isinstance(error, (StopIteration, AttributeError)) or (
            "envelope is empty" in str(getattr(error, "faultstring", ""))):
        return "Root element is missing."
    if isinstance(error, UnicodeError):
        start = getattr(error, "start", 0) + 1
        return (f"There is an error in XML document (1, {start}). ---> Invalid character in the given encoding. "
                f"Line 1, position {start}.")
    text = str(getattr(error, "faultstring", None) or error)
    found = _LIBXML2_POSITION.search(text)
    line, column = (int(found.group(1)), int(found.group(2))) if found else (1, 1)
    if found is None and not _PYTHON_WORDING.search(text) and text.endswith("."):
        return text  # spyne's own phrase that names no internals ("No {…}Envelope element was found!")
    if _LIBXML2_NUL.search(text):
        # XmlReader's XmlException, which shows NUL as '.'.
        return (f"There is an error in XML document ({line}, {column}). ---> '.', hexadecimal value 0x00, is an "
                f"invalid character. Line {line}, position {column}.")
    return f"There is an error in XML document ({line}, {column})."


def declared(name: str) -> Any:
    """The body of a SOAP method that only declares its messages: the vendor's runner runs the operation."""

    def method(ctx: MethodContext, *args: Any) -> Any:
        raise NotImplementedError(f"{name} is run by the call pipeline, not by spyne")

    method.__name__ = name  # spyne keys its methods by function name
    return method


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
