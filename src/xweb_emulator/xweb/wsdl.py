"""The WSDL the emulator serves for netForumXML.asmx, written from the contract (contract.py) as ASMX writes a
service's: every operation of the vendor's, emulated or not, with its request and response elements, the types they
use, the AuthorizationToken header, the SOAP 1.1 binding, and the HTTP GET and POST bindings of the operations whose
parameters a query string carries.

A tenant's typed objects may carry extender columns the vendor's WSDL lacks: `extra_elements` maps a complex type's
name to the (element name, XSD type) pairs added at the end of its sequence, each optional (minOccurs="0") and
nillable as the data-object columns are. Types are written as contract.json writes them: `s:<name>` for XML Schema's,
`s1:guid`, a bare name for the service's own (av_text_Type, Individual_Individual_DataObjectType).

The document is built and written once per process for each mapping (it is served often, and is 3.7 MB), its
address set for each address it is served at.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from lxml import etree

from xweb_emulator.xweb.contract import SIMPLE_TYPES, OperationContract, description, operation_contracts
from xweb_emulator.xweb.errors import NAMESPACE

WSDL = "http://schemas.xmlsoap.org/wsdl/"
XS = "http://www.w3.org/2001/XMLSchema"
SOAP = "http://schemas.xmlsoap.org/wsdl/soap/"
HTTP = "http://schemas.xmlsoap.org/wsdl/http/"
MIME = "http://schemas.xmlsoap.org/wsdl/mime/"
MS_TYPES = "http://microsoft.com/wsdl/types/"
NSMAP = {"wsdl": WSDL, "s": XS, "soap": SOAP, "tns": NAMESPACE, "s1": MS_TYPES, "http": HTTP, "mime": MIME}
SERVICE = "netForumXML"
DEFAULT_ADDRESS = "http://localhost:8080/xWeb/secure/netForumXML.asmx"
SERVICE_DOCUMENTATION = (
    "xweb-emulator's WSDL: a local emulator of the netFORUM Enterprise xWeb netForumXML SOAP 1.1 service. Declares "
    "every operation of the vendor's service (SOAP 1.1, and HTTP GET and POST for those with simple parameters, as "
    "ASMX does), typed as the vendor types them; those the emulator does not emulate answer with a SystemExceptionInfo "
    "fault saying so (the service's help page lists which). This is not a vendor-published WSDL.")
# The element each kind of result is written as by the HTTP GET and POST bindings: (name, nillable).
_HTTP_RESULT_ELEMENTS = {"String": ("string", True), "Boolean": ("boolean", False), "DateTime": ("dateTime", False),
                         "Int32": ("int", False), "Decimal": ("decimal", False)}
_SOAP_ADDRESS, _HTTP_ADDRESS = f"{{{SOAP}}}address", f"{{{HTTP}}}address"

ExtraElements = Mapping[str, Sequence[tuple[str, str]]]
_Frozen = tuple[tuple[str, tuple[tuple[str, str], ...]], ...]


@lru_cache(maxsize=64)
def data_object_types(element: str) -> tuple[str, ...]:
    """The service's named complex types with `element` among theirs: the typed objects' sections that carry one
    table's record (Individual_Individual_DataObjectType and the other seven with ind_cst_key)."""
    return tuple(complex_type.get("name") for complex_type in service_description().iter(f"{{{XS}}}complexType")
                 if complex_type.get("name") and complex_type.find(f".//{{{XS}}}element[@name='{element}']") is not None)


def column_type(data_type: str, kind: str, width: int | None = None) -> str:
    """The service's simple type for a column of netFORUM's data type `data_type` (av_date: av_date_Type), else
    by the kind of value it holds (a string's by its width where the service has that one: stringLength50_Type)."""
    for own in (f"{data_type}_Type", f"stringLength{width}_Type" if kind == "string" and width else ""):
        if own in _simple_type_names():
            return own
    return {"guid": "av_key_Type", "datetime": "av_date_Type", "flag": "av_flag_Type", "integer": "av_integer_Type",
            "decimal": "av_decimal_Type"}.get(kind, "s:string")


@lru_cache(maxsize=1)
def _simple_type_names() -> frozenset[str]:
    return frozenset(simple.get("name") for simple in service_description().iter(f"{{{XS}}}simpleType"))


def served_wsdl(address: str, extra_elements: ExtraElements | None = None) -> bytes:
    """The WSDL as served at `address` (its ports' locations), with a tenant's extra elements."""
    return _served(address, _frozen(extra_elements))


def service_description(extra_elements: ExtraElements | None = None) -> etree._Element:
    """The WSDL as a tree (the help pages read it), shared: not to be changed."""
    return _parsed(_frozen(extra_elements))


def _frozen(extra_elements: ExtraElements | None) -> _Frozen:
    return tuple(sorted((name, tuple((element, kind) for element, kind in pairs))
                        for name, pairs in (extra_elements or {}).items()))


@lru_cache(maxsize=8)
def _parsed(extras: _Frozen) -> etree._Element:
    return etree.fromstring(_written(extras))


@lru_cache(maxsize=16)
def _served(address: str, extras: _Frozen) -> bytes:
    location = f'location="{html.escape(address, quote=True)}"'.encode()
    return _written(extras).replace(f'location="{DEFAULT_ADDRESS}"'.encode(), location)


@lru_cache(maxsize=8)
def _written(extras: _Frozen) -> bytes:
    """The document, written once: the tree it is built as is not kept (some 30 MB)."""
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + etree.tostring(_built(extras), encoding="utf-8")


def _built(extras: _Frozen) -> etree._Element:
    contracts = list(operation_contracts().values())
    http = [contract for contract in contracts if contract.http_bindings]
    root = etree.Element(_w("definitions"), nsmap=NSMAP, targetNamespace=NAMESPACE)
    _sub(root, _w("documentation")).text = description()["documentation"]
    types = _sub(root, _w("types"))
    types.append(_schema(contracts, http, dict(extras)))
    guid = _sub(_sub(_sub(types, _s("schema"), elementFormDefault="qualified", targetNamespace=MS_TYPES),
                     _s("simpleType"), name="guid"), _s("restriction"), base="s:string")
    _sub(guid, _s("pattern"), value="[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
    for contract in contracts:
        _message(root, f"{contract.message}SoapIn", ("parameters", "element", f"tns:{contract.message}"))
        _message(root, f"{contract.message}SoapOut", ("parameters", "element", f"tns:{contract.message}Response"))
        if contract.token_in or contract.token_out:
            _message(root, f"{contract.message}AuthorizationToken",
                     ("AuthorizationToken", "element", "tns:AuthorizationToken"))
    for verb in ("HttpGet", "HttpPost"):
        for contract in http:
            _message(root, f"{contract.message}{verb}In",
                     *((parameter.name, "type", "s:string") for parameter in contract.parameters))
            _message(root, f"{contract.message}{verb}Out", *_http_output_parts(contract))
    for binding, kind, operations in (("netForumXMLSoap", "Soap", contracts), ("netForumXMLHttpGet", "HttpGet", http),
                                      ("netForumXMLHttpPost", "HttpPost", http)):
        port_type = _sub(root, _w("portType"), name=binding)
        for contract in operations:
            operation = _sub(port_type, _w("operation"), name=contract.name)
            if contract.documentation:
                _sub(operation, _w("documentation")).text = contract.documentation
            for io, suffix in (("input", "In"), ("output", "Out")):
                _sub(operation, _w(io), **_message_name(contract), message=f"tns:{contract.message}{kind}{suffix}")
    _soap_binding(root, contracts)
    for verb in ("GET", "POST"):
        _http_binding(root, verb, http)
    service = _sub(root, _w("service"), name=SERVICE)
    _sub(service, _w("documentation")).text = SERVICE_DOCUMENTATION
    for binding, address in (("netForumXMLSoap", _SOAP_ADDRESS), ("netForumXMLHttpGet", _HTTP_ADDRESS),
                             ("netForumXMLHttpPost", _HTTP_ADDRESS)):
        _sub(_sub(service, _w("port"), name=binding, binding=f"tns:{binding}"), address, location=DEFAULT_ADDRESS)
    etree.indent(root, space="  ")
    return root



# ------------------------------------------------------------------------------------------------------ the schema


def _schema(contracts: list[OperationContract], http: list[OperationContract],
            extras: dict[str, tuple[tuple[str, str], ...]]) -> etree._Element:
    described = description()
    complex_types, columns = described["complex_types"], described["columns"]
    unknown = set(extras) - set(complex_types)
    if unknown:
        raise ValueError(f"extra elements for types the contract does not have: {', '.join(sorted(unknown))}")
    schema = etree.Element(_s("schema"), elementFormDefault="qualified", targetNamespace=NAMESPACE)
    _sub(schema, _s("import"), namespace=MS_TYPES)
    _sub(schema, _s("element"), name="AuthorizationToken", type="tns:AuthorizationToken")
    for contract in contracts:
        request = _sub(_sub(schema, _s("element"), name=contract.message), _s("complexType"))
        if contract.parameters:
            sequence = _sub(request, _s("sequence"))
            for parameter in contract.parameters:
                if parameter.kind == "XmlNode":
                    _xml_node(sequence, parameter.name)
                elif parameter.kind in SIMPLE_TYPES:
                    kind, optional = SIMPLE_TYPES[parameter.kind]
                    _element(sequence, parameter.name, kind,
                             "1..1 nillable" if parameter.nillable else "0..1" if optional else "1..1")
                elif parameter.flat:
                    _element(sequence, parameter.name, _qualified(parameter.kind.removesuffix("[]")), "0..*")
                else:
                    kind = parameter.kind
                    _element(sequence, parameter.name,
                             _qualified(f"ArrayOf{kind.removesuffix('[]')}" if kind.endswith("[]") else kind), "0..1")
        response = _sub(_sub(schema, _s("element"), name=f"{contract.message}Response"), _s("complexType"))
        if contract.result_element is not None:
            sequence = _sub(response, _s("sequence"))
            if contract.returns == "XmlNode":
                _xml_node(sequence, contract.result_element)
            elif contract.returns in SIMPLE_TYPES:
                kind, optional = SIMPLE_TYPES[contract.returns]
                _element(sequence, contract.result_element, kind, "0..1" if optional else "1..1")
            else:
                _element(sequence, contract.result_element, _qualified(contract.returns), "0..1")
    for name, declared in complex_types.items():
        schema.append(_complex_type(name, declared, complex_types, columns, extras.get(name, ())))
    for name, declared in described["simple_types"].items():
        simple = _sub(schema, _s("simpleType"), name=name)
        _documentation(simple, declared.get("documentation"))
        restriction = _sub(simple, _s("restriction"), base=_qualified(declared["base"]))
        for facet, value in declared["facets"]:
            _sub(restriction, _s(facet), value=value)
    for name, kind in described["facade_roots"].items():
        _element(schema, name, _qualified(kind), "")
    written = set()
    for contract in http:
        body = _http_result(contract)
        if body is not None and body[0] not in written:
            written.add(body[0])
            _element(schema, body[0], body[1], "nillable" if body[2] else "")
    return schema


def _complex_type(name: str, declared: Any, complex_types: dict, columns: dict,
                  extras: tuple[tuple[str, str], ...]) -> etree._Element:
    node = etree.Element(_s("complexType"), name=name)
    while isinstance(declared, str):  # a data-object type with the columns of the type it names
        declared = complex_types[declared]
    if isinstance(declared, list):  # a data-object type: its columns
        sequence = _sub(node, _s("sequence"))
        for column in declared:
            kind, *text = columns[column]
            _element(sequence, column, _qualified(kind), "0..1 nillable", *text)
    else:
        parent = node
        if "extends" in declared:
            parent = _sub(_sub(node, _s("complexContent"), mixed="false"), _s("extension"),
                          base=_qualified(declared["extends"]))
        sequence = _sub(parent, _s("sequence")) if "elements" in declared else None
        for element_name, kind, occurs, *text in declared.get("elements", ()):
            _element(sequence, element_name, _qualified(kind), occurs, *text)
        for attribute, kind in declared.get("attributes", ()):
            _sub(node, _s("attribute"), name=attribute, type=_qualified(kind))
        if declared.get("any_attribute"):
            _sub(node, _s("anyAttribute"))
    if extras:
        sequence = node.find(f".//{_s('sequence')}")
        if sequence is None:
            raise ValueError(f"{name} has no sequence to add elements to")
        present = {element.get("name") for element in sequence}
        for element_name, kind in extras:
            if element_name in present:
                raise ValueError(f"{name} already has an element {element_name}")
            _element(sequence, element_name, _qualified(kind), "0..1 nillable")
    return node


def _element(parent: etree._Element, name: str, kind: str, occurs: str, text: str | None = None) -> etree._Element:
    """An element declaration: occurs is "" (no occurrence stated), or "min..max" (* for unbounded), and may end in
    "nillable"; attributes in ASMX's order."""
    bounds, _, nillable = occurs.partition("nillable")
    attributes = {}
    if bounds.strip():
        low, high = bounds.strip().split("..")
        attributes = {"minOccurs": low, "maxOccurs": "unbounded" if high == "*" else high}
    attributes["name"] = name
    if occurs.endswith("nillable"):
        attributes["nillable"] = "true"
    attributes["type"] = kind
    element = _sub(parent, _s("element"), **attributes)
    _documentation(element, text)
    return element


def _xml_node(parent: etree._Element, name: str) -> None:
    """An XmlNode: any content."""
    complex_type = _sub(_sub(parent, _s("element"), minOccurs="0", maxOccurs="1", name=name), _s("complexType"),
                        mixed="true")
    _sub(_sub(complex_type, _s("sequence")), _s("any"))


def _documentation(parent: etree._Element, text: str | None) -> None:
    if text:
        _sub(_sub(parent, _s("annotation")), _s("documentation")).text = text


def _qualified(kind: str) -> str:
    return kind if ":" in kind else f"tns:{kind}"


def _http_result(contract: OperationContract) -> tuple[str, str, bool] | None:
    """The element the HTTP bindings answer with: (name, type, nillable); None for XmlNode and void."""
    if contract.returns in ("XmlNode", "void"):
        return None
    if contract.returns in _HTTP_RESULT_ELEMENTS:
        name, nillable = _HTTP_RESULT_ELEMENTS[contract.returns]
        return name, SIMPLE_TYPES[contract.returns][0], nillable
    return contract.returns, _qualified(contract.returns), True


# ---------------------------------------------------------------------------------------------------- the bindings


def _soap_binding(root: etree._Element, contracts: list[OperationContract]) -> None:
    binding = _sub(root, _w("binding"), name="netForumXMLSoap", type="tns:netForumXMLSoap")
    _sub(binding, f"{{{SOAP}}}binding", transport="http://schemas.xmlsoap.org/soap/http")
    for contract in contracts:
        operation = _sub(binding, _w("operation"), name=contract.name)
        _sub(operation, f"{{{SOAP}}}operation", soapAction=f"{NAMESPACE}{contract.message}", style="document")
        for io, header in (("input", contract.token_in), ("output", contract.token_out)):
            part = _sub(operation, _w(io), **_message_name(contract))
            _sub(part, f"{{{SOAP}}}body", use="literal")
            if header:
                _sub(part, f"{{{SOAP}}}header", message=f"tns:{contract.message}AuthorizationToken",
                     part="AuthorizationToken", use="literal")


def _http_binding(root: etree._Element, verb: str, contracts: list[OperationContract]) -> None:
    name = f"netForumXMLHttp{verb.title()}"
    binding = _sub(root, _w("binding"), name=name, type=f"tns:{name}")
    _sub(binding, f"{{{HTTP}}}binding", verb=verb)
    for contract in contracts:
        operation = _sub(binding, _w("operation"), name=contract.name)
        _sub(operation, f"{{{HTTP}}}operation", location=f"/{contract.name}")
        if verb == "GET":
            _sub(_sub(operation, _w("input")), f"{{{HTTP}}}urlEncoded")
        else:
            _sub(_sub(operation, _w("input")), f"{{{MIME}}}content", type="application/x-www-form-urlencoded")
        output = _sub(operation, _w("output"))
        if contract.returns == "XmlNode":
            _sub(output, f"{{{MIME}}}content", part="Body", type="text/xml")
        elif contract.returns != "void":
            _sub(output, f"{{{MIME}}}mimeXml", part="Body")


def _http_output_parts(contract: OperationContract) -> list[tuple[str, str | None, str | None]]:
    """The HTTP bindings' answer: nothing for void, the bare node for an XmlNode, else its result's element."""
    if contract.returns == "void":
        return []
    result = _http_result(contract)
    return [("Body", "element", f"tns:{result[0]}") if result else ("Body", None, None)]


def _message(root: etree._Element, name: str, *parts: tuple[str, str | None, str | None]) -> None:
    message = _sub(root, _w("message"), name=name)
    for part, attribute, value in parts:
        _sub(message, _w("part"), name=part, **({attribute: value} if attribute else {}))


def _message_name(contract: OperationContract) -> dict[str, str]:
    """A port type's or binding's input and output are named only where the messages are not the method's."""
    return {"name": contract.message} if contract.message != contract.name else {}


def _sub(parent: etree._Element, tag: str, **attributes: str) -> etree._Element:
    return etree.SubElement(parent, tag, attributes)


def _w(name: str) -> str:
    return f"{{{WSDL}}}{name}"


def _s(name: str) -> str:
    return f"{{{XS}}}{name}"
