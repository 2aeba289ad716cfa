"""What ASMX serves on a GET of the service's address, none of it a call: the WSDL (`?WSDL`), the discovery document
(`?disco`), the service's help page (the bare address, which links the discovery document, so that "Add Web
Reference" and `wsdl <address>` find the contract) and each operation's help page (`?op=<Operation>`) with its
request and response samples, as ASP.NET's DefaultWsdlHelpGenerator writes them.

Every operation of the vendor's service is listed and has its page, each saying whether the emulator emulates it. The
samples are generated: the operations, their headers and HTTP bindings from the contract (contract.py), the elements
under each message from the schema of the WSDL we serve (wsdl.py).
"""

from __future__ import annotations

import html
from functools import cache
from urllib.parse import urlsplit

from lxml import etree
from sqlalchemy import Connection
from werkzeug import Request

from xweb_emulator.call import Answer
from xweb_emulator.xweb.contract import description
from xweb_emulator.xweb.errors import NAMESPACE
from xweb_emulator.xweb.operations import NOT_EMULATED, OPERATIONS, XWebOperation, operation_named
from xweb_emulator.xweb.tenant import tenant_of
from xweb_emulator.xweb.wsdl import SERVICE, served_wsdl, service_description

SOAP_BINDING = "netForumXMLSoap"
_XS = "http://www.w3.org/2001/XMLSchema"
_WSDL = "http://schemas.xmlsoap.org/wsdl/"
_HTML = [("Content-Type", "text/html; charset=utf-8")]
_XML = [("Content-Type", "text/xml; charset=utf-8")]
_PLACEHOLDERS = {"string": "string", "boolean": "boolean", "dateTime": "dateTime", "int": "int",
                 "unsignedByte": "unsignedByte", "guid": "guid", "decimal": "decimal"}


def service_document(request: Request, connection: Connection) -> Answer:
    """GET on the .asmx: ?WSDL (the tenant's: its typed objects carry its extender columns), ?disco,
    ?op=<Operation>, else the service's help page (query names in any case)."""
    args = {key.lower(): value for key, value in request.args.items()}
    address = request.base_url
    if "wsdl" in args:
        return Answer(200, list(_XML), served_wsdl(address, tenant_of(connection).wsdl_extras))
    if "disco" in args:
        return Answer(200, list(_XML), discovery_document(address).encode())
    if "op" in args:
        operation = operation_named(args["op"])
        if operation is not None:
            return Answer(200, list(_HTML), operation_page(address, operation).encode())
    return Answer(200, list(_HTML), service_page(address).encode())


def discovery_document(address: str) -> str:
    """The DISCO document: the contract (?wsdl) and the SOAP binding's address."""
    at = html.escape(address, quote=True)
    return (
        '<?xml version="1.0" encoding="utf-8"?>\r\n'
        '<discovery xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xmlns="http://schemas.xmlsoap.org/disco/">\r\n'
        f'  <contractRef ref="{at}?wsdl" docRef="{at}" xmlns="http://schemas.xmlsoap.org/disco/scl/" />\r\n'
        f'  <soap address="{at}" xmlns:q1="{NAMESPACE}" binding="q1:{SOAP_BINDING}" '
        'xmlns="http://schemas.xmlsoap.org/disco/soap/" />\r\n'
        "</discovery>"
    )


def _page(address: str, title: str, body: str) -> str:
    at = html.escape(address, quote=True)
    return (
        "<html>\r\n  <head>\r\n"
        f'    <link rel="alternate" type="text/xml" href="{at}?disco" />\r\n'
        f"    <title>{html.escape(title)}</title>\r\n"
        "  </head>\r\n  <body>\r\n"
        f'    <div id="content">\r\n      <p class="heading1">{SERVICE}</p><br>\r\n{body}\r\n    </div>\r\n'
        "  </body>\r\n</html>"
    )


def service_page(address: str) -> str:
    """The service's help page: its description, its operations (each saying whether it is emulated), the link to the
    service description."""
    at = html.escape(address, quote=True)
    operations = sorted(OPERATIONS | NOT_EMULATED)
    items = "\r\n".join(
        f'        <li><a href="{at}?op={name}">{name}</a>{_documentation_html(name)}{_emulation_html(name)}</li>'
        for name in operations)
    body = (
        f"      <span><p class=\"intro\">{html.escape(description()['documentation'])}</p>"
        f"<p class=\"intro\">(xweb-emulator: every operation of the netFORUM xWeb service; it emulates {len(OPERATIONS)}"
        f" of these {len(operations)}, and answers the others with a fault saying so.)</p></span>\r\n"
        f'      <span><p class="intro">The following operations are supported.  For a formal definition, please review '
        f'the <a href="{at}?WSDL">Service Description</a>. </p>\r\n      <ul>\r\n{items}\r\n      </ul>\r\n'
        "      </span>"
    )
    return _page(address, f"{SERVICE} Web Service", body)


def operation_page(address: str, operation: XWebOperation) -> str:
    """An operation's help page: its SOAP 1.1 request and response, and its HTTP GET and POST forms where it has
    them, each with placeholders for the values."""
    path = urlsplit(address).path
    host = urlsplit(address).netloc
    sections = [
        ("SOAP 1.1", "The following is a sample SOAP 1.1 request and response.  The <font class=value>placeholders"
                     "</font> shown need to be replaced with actual values.",
         _http_request("POST", path, host, "text/xml; charset=utf-8", f'SOAPAction: "{NAMESPACE}{operation.message}"',
                       soap_request_sample(operation)),
         _http_response("text/xml; charset=utf-8", soap_response_sample(operation))),
    ]
    if operation.http_bindings:
        query = "&".join(f"{name}=string" for name in operation.parameter_names)
        result = result_document_sample(operation)
        sections.append(("HTTP GET", "The following is a sample HTTP GET request and response.",
                         f"GET {path}/{operation.name}{'?' + query if query else ''} HTTP/1.1\r\nHost: {host}",
                         _http_response("text/xml; charset=utf-8", result)))
        sections.append(("HTTP POST", "The following is a sample HTTP POST request and response.",
                         _http_request("POST", f"{path}/{operation.name}", host, "application/x-www-form-urlencoded",
                                       None, query),
                         _http_response("text/xml; charset=utf-8", result)))
    body = [f'      <span>\r\n        <p class="intro">Click <a href="{html.escape(address, quote=True)}">here</a> '
            f"for a complete list of operations.</p>\r\n        <h2>{operation.name}</h2>\r\n"
            f'        <p class="intro">{_documentation_html(operation.name)}{_emulation_html(operation.name)}</p>']
    for title, intro, request_sample, response_sample in sections:
        body.append(f"        <span>\r\n          <h3>{title}</h3>\r\n          <p>{intro}</p>\r\n"
                    f"          <pre>{html.escape(request_sample)}</pre>\r\n"
                    f"          <pre>{html.escape(response_sample)}</pre>\r\n        </span>")
    body.append("      </span>")
    return _page(address, f"{SERVICE} Web Service", "\r\n".join(body))


def _http_request(verb: str, path: str, host: str, content_type: str, extra: str | None, body: str) -> str:
    lines = [f"{verb} {path} HTTP/1.1", f"Host: {host}", f"Content-Type: {content_type}", "Content-Length: length"]
    if extra:
        lines.append(extra)
    return "\r\n".join(lines) + "\r\n\r\n" + body


def _http_response(content_type: str, body: str) -> str:
    return f"HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: length\r\n\r\n{body}"


# ----------------------------------------------------------------------------------------------------- samples


def soap_request_sample(operation: XWebOperation) -> str:
    return _envelope(operation.takes_token, _element_sample(operation.message, 2))


def soap_response_sample(operation: XWebOperation) -> str:
    return _envelope(operation.contract.token_out, _element_sample(f"{operation.message}Response", 2))


def result_document_sample(operation: XWebOperation) -> str:
    """The bare result document the HTTP GET and POST bindings answer: the result's type as an element; nothing for
    a void method."""
    if operation.returns == "void":
        return ""
    (result,) = _schema_element(f"{operation.message}Response").iterfind(f".//{{{_XS}}}sequence/{{{_XS}}}element")
    kind = result.get("type")
    name = etree.QName(_resolve(result, kind)).localname if kind else "anyType"
    lines = ['<?xml version="1.0" encoding="utf-8"?>']
    if kind is None:  # an untyped XmlNode: the node itself
        lines.append("xml")
    else:
        lines.extend(_render(result, 0, name=name, with_namespace=True))
    return "\n".join(lines)


def _envelope(with_token: bool, body: list[str]) -> str:
    lines = ['<?xml version="1.0" encoding="utf-8"?>',
             '<soap:Envelope xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
             'xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">']
    if with_token:
        lines += ["  <soap:Header>", f'    <AuthorizationToken xmlns="{NAMESPACE}">', "      <Token>string</Token>",
                  "    </AuthorizationToken>", "  </soap:Header>"]
    lines += ["  <soap:Body>", *body, "  </soap:Body>", "</soap:Envelope>"]
    return "\n".join(lines)


def _element_sample(name: str, depth: int) -> list[str]:
    return _render(_schema_element(name), depth, with_namespace=True)


def _render(element: etree._Element, depth: int, *, name: str | None = None, with_namespace: bool = False,
            drawn: set[str] | None = None) -> list[str]:
    """An element of the schema as ASMX's help shows it: its children nested, simple values as their type's name, a
    repeated element twice. A type is drawn once in a sample, where it first appears (which also ends recursion):
    the shopping cart's objects would otherwise draw the same sections over and over, megabytes of them."""
    drawn = set() if drawn is None else drawn
    pad = "  " * depth
    name = name or element.get("name")
    open_tag = f'{name} xmlns="{NAMESPACE}"' if with_namespace else name
    kind = element.get("type")
    if kind is None:
        complex_type = element.find(f"{{{_XS}}}complexType")
        if complex_type is None or complex_type.get("mixed") == "true" and complex_type.find(f".//{{{_XS}}}any") is not None:
            return [f"{pad}<{open_tag}>xml</{name}>"] if complex_type is not None else [f"{pad}<{open_tag} />"]
    else:
        qname = etree.QName(_resolve(element, kind))
        if qname.namespace != NAMESPACE:
            return [f"{pad}<{open_tag}>{_PLACEHOLDERS.get(qname.localname, qname.localname)}</{name}>"]
        complex_type = _schema_type("complexType", qname.localname)
        if complex_type is None:
            simple = _schema_type("simpleType", qname.localname)
            enumerations = [] if simple is None else [item.get("value") for item in simple.iter(f"{{{_XS}}}enumeration")]
            value = " or ".join(enumerations) if enumerations else "string"
            return [f"{pad}<{open_tag}>{value}</{name}>"]
        if qname.localname in drawn:
            return [f"{pad}<{open_tag} />"]
        drawn.add(qname.localname)
    children = list(complex_type.iterfind(f"{{{_XS}}}sequence/{{{_XS}}}element"))
    if not children:
        return [f"{pad}<{open_tag} />"]
    lines = [f"{pad}<{open_tag}>"]
    for child in children:
        child_lines = _render(child, depth + 1, drawn=drawn)
        lines += child_lines * 2 if child.get("maxOccurs") == "unbounded" else child_lines
    lines.append(f"{pad}</{name}>")
    return lines


def _resolve(element: etree._Element, qualified: str) -> str:
    prefix, _, local = qualified.rpartition(":")
    return f"{{{element.nsmap.get(prefix or None, '')}}}{local}"


@cache
def _declarations() -> dict[tuple[str, str], etree._Element]:
    """The served schema's top-level declarations by kind (element, complexType, simpleType) and name."""
    schema = service_description().find(f"{{{_WSDL}}}types/{{{_XS}}}schema")
    return {(etree.QName(node).localname, node.get("name")): node for node in schema.iterchildren(f"{{{_XS}}}*")}


def _schema_element(name: str) -> etree._Element:
    return _declarations()[("element", name)]


def _schema_type(kind: str, name: str) -> etree._Element | None:
    return _declarations().get((kind, name))


def _documentation_html(name: str) -> str:
    text = operation_named(name).contract.documentation
    return f'<span><br>{html.escape(text)}</span>' if text else ""


def _emulation_html(name: str) -> str:
    if operation_named(name).emulated:
        return ""
    return ("<span><br><i>Not emulated: xweb-emulator answers it with a SystemExceptionInfo fault saying so.</i>"
            "</span>")
