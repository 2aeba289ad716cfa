"""Contract tests for the WSDL the emulator serves (xweb/wsdl.py, written from the contract, xweb/contract.json).

No server needed: these check the document itself, as a SOAP client (zeep, .NET wsdl.exe, PHP SoapClient, ...) would
read it: every operation of the vendor's service as our own description declares it, always; and operation by
operation, type by type, as the vendor's xWeb 2010 WSDL in ../shared/reference beside this clone declares it, where
that is present.
"""
import copy
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from lxml import etree

from xweb_emulator.xweb.contract import Parameter, operation_contracts
from xweb_emulator.xweb.operations import OPERATIONS as emulated_operations
from xweb_emulator.xweb.operations import XWebOperation
from xweb_emulator.xweb.wsdl import DEFAULT_ADDRESS, served_wsdl, service_description

VENDOR_WSDL_PATH = (
    Path(__file__).resolve().parents[3] / "shared" / "reference" / "xweb" / "xWeb-2010.wsdl"
)

TNS = "http://www.avectra.com/2005/"
XSD = "http://www.w3.org/2001/XMLSchema"
WSDL = "http://schemas.xmlsoap.org/wsdl/"
SOAP11 = "http://schemas.xmlsoap.org/wsdl/soap/"
SOAP12 = "http://schemas.xmlsoap.org/wsdl/soap12/"
HTTP = "http://schemas.xmlsoap.org/wsdl/http/"
MS_TYPES = "http://microsoft.com/wsdl/types/"
NS = {"wsdl": WSDL, "s": XSD, "soap": SOAP11}

CONTRACTS = operation_contracts()
OPERATIONS = list(CONTRACTS)
# The operations that take no token: the vendor's three, and AuthenticateLdap, which issues one as Authenticate does.
TOKENLESS = {"Authenticate": (False, True), "AuthenticateLdap": (False, True), "GetDateTime": (False, False),
             "TestConnection": (False, False)}
# (AuthorizationToken header on input, on output).
HEADER_RULE = {op: TOKENLESS.get(op, (True, True)) for op in OPERATIONS}

# Hosts a WSDL of ours may name: namespaces, the vendor's documentation wiki, and the placeholder address the
# server rewrites. A vendor tenant's host would mean vendor text was copied in.
ALLOWED_HOSTS = {"localhost", "microsoft.com", "schemas.xmlsoap.org", "www.w3.org", "www.avectra.com",
                 "wiki.avectra.com"}
# How the description's .NET types are declared in a message: XSD type (None for an XmlNode's inline type).
SIMPLE = {"String": f"{{{XSD}}}string", "Guid": f"{{{MS_TYPES}}}guid", "Int32": f"{{{XSD}}}int",
          "Boolean": f"{{{XSD}}}boolean", "Decimal": f"{{{XSD}}}decimal", "DateTime": f"{{{XSD}}}dateTime",
          "XmlNode": None}


def declared_type(kind: str, flat: bool = False) -> str | None:
    """The type a parameter or result of the description's .NET type is declared with."""
    if kind in SIMPLE:
        return SIMPLE[kind]
    if kind.endswith("[]"):
        item = kind.removesuffix("[]")
        return f"{{{TNS}}}{item}" if flat else f"{{{TNS}}}ArrayOf{item}"
    return f"{{{TNS}}}{kind}"


def test_the_table_binds_only_operations_the_contract_describes():
    with pytest.raises(ValueError, match="GetEverything is no operation of the vendor's contract"):
        XWebOperation(name="GetEverything", run=lambda call, params: None)


@pytest.mark.parametrize("declaration", ["String", "optional String name", "nillable flat String name"])
def test_an_unreadable_parameter_declaration_is_refused(declaration):
    with pytest.raises(ValueError):
        Parameter.parse(declaration)


def test_declared_type_maps_the_descriptions_notation():
    assert [declared_type(kind) for kind in ("String", "XmlNode", "MailingListSetting[]", "IndividualType")] == [
        f"{{{XSD}}}string", None, f"{{{TNS}}}ArrayOfMailingListSetting", f"{{{TNS}}}IndividualType"]
    assert declared_type("Fee[]", flat=True) == f"{{{TNS}}}Fee"


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def served() -> bytes:
    return served_wsdl(DEFAULT_ADDRESS)


@pytest.fixture(scope="module")
def ours(served):
    return etree.fromstring(served)


@pytest.fixture(scope="module")
def vendor():
    if not VENDOR_WSDL_PATH.is_file():
        pytest.skip(
            f"vendor WSDL not found at {VENDOR_WSDL_PATH}: ../shared/reference is not "
            "beside this clone, so the vendor type comparison cannot run"
        )
    return etree.parse(str(VENDOR_WSDL_PATH)).getroot()


@pytest.fixture(scope="module")
def zeep_binding(served, tmp_path_factory):
    zeep = pytest.importorskip("zeep")
    path = tmp_path_factory.mktemp("wsdl") / "netForumXML.wsdl"
    path.write_bytes(served)
    client = zeep.Client(str(path))
    return client, client.wsdl.bindings[f"{{{TNS}}}netForumXMLSoap"]


def vendor_operations(vendor) -> list[str]:
    return [o.get("name") for o in vendor.findall("wsdl:portType[@name='netForumXMLSoap']/wsdl:operation", NS)]


def _soap_binding(root):
    bindings = root.findall("wsdl:binding", NS)
    soap11 = [b for b in bindings if b.find("soap:binding", NS) is not None]
    assert len(soap11) == 1
    return soap11[0]


def _qname(node, value):
    """Resolve a prefixed QName attribute value against node's in-scope namespaces."""
    prefix, _, local = value.rpartition(":")
    uri = node.nsmap.get(prefix or None)
    assert uri is not None, f"unbound prefix in {value!r}"
    return f"{{{uri}}}{local}"


# --------------------------------------------------------------------------- the file itself


def test_document_is_plain_pretty_printed_xml(served):
    raw = served
    assert raw.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    etree.fromstring(raw)  # well-formed
    assert b"\t" not in raw
    for n, line in enumerate(raw.decode("utf-8").splitlines(), 1):
        indent = len(line) - len(line.lstrip(" "))
        assert indent % 2 == 0, f"line {n} is not indented by a multiple of 2 spaces"


def test_names_no_tenant_host(served):
    hosts = {urlsplit(url).hostname for url in re.findall(r"https?://[^\s\"'<]+", served.decode("utf-8"))}
    assert hosts <= ALLOWED_HOSTS


def test_names_not_the_vendor_wsdls_tenant(served, vendor):
    (address,) = vendor.iterfind(".//soap:address", NS)
    tenant = urlsplit(address.get("location"))
    text = served.decode("utf-8").lower()
    assert tenant.hostname.lower() not in text
    assert tenant.path.split("/")[1].lower() not in text


def test_definitions_namespaces(ours):
    assert etree.QName(ours).localname == "definitions"
    assert ours.get("targetNamespace") == TNS
    assert ours.nsmap.get("tns") == TNS
    assert ours.nsmap.get("s") == XSD
    assert ours.nsmap.get("s1") == MS_TYPES
    schema_tns = [s.get("targetNamespace") for s in ours.findall("wsdl:types/s:schema", NS)]
    assert schema_tns == [TNS, MS_TYPES]
    main = ours.find("wsdl:types/s:schema", NS)
    assert main.get("elementFormDefault") == "qualified"


def test_service_ports_as_the_vendor_declares_them(ours):
    """The SOAP 1.1 port, and the HTTP GET and HTTP POST ports ASMX adds (no SOAP 1.2, as the vendor's)."""
    services = ours.findall("wsdl:service", NS)
    assert [s.get("name") for s in services] == ["netForumXML"]
    svc = services[0]
    doc = svc.findtext("wsdl:documentation", namespaces=NS) or ""
    assert "xweb-emulator" in doc
    ports = svc.findall("wsdl:port", NS)
    assert [(p.get("name"), p.get("binding")) for p in ports] == [
        ("netForumXMLSoap", "tns:netForumXMLSoap"),
        ("netForumXMLHttpGet", "tns:netForumXMLHttpGet"),
        ("netForumXMLHttpPost", "tns:netForumXMLHttpPost"),
    ]
    assert ports[0].find("soap:address", NS).get("location") == (
        "http://localhost:8080/xWeb/secure/netForumXML.asmx"
    )
    for port in ports[1:]:
        assert port.find(f"{{{HTTP}}}address").get("location") == "http://localhost:8080/xWeb/secure/netForumXML.asmx"
    bindings = ours.findall("wsdl:binding", NS)
    assert [b.get("name") for b in bindings] == ["netForumXMLSoap", "netForumXMLHttpGet", "netForumXMLHttpPost"]
    soap_binding = bindings[0].find("soap:binding", NS)
    assert soap_binding is not None
    assert soap_binding.get("transport") == "http://schemas.xmlsoap.org/soap/http"
    assert soap_binding.get("style", "document") == "document"
    assert [b.find(f"{{{HTTP}}}binding").get("verb") for b in bindings[1:]] == ["GET", "POST"]
    assert not ours.xpath("//*[namespace-uri()=$a]", a=SOAP12)
    assert [p.get("name") for p in ours.findall("wsdl:portType", NS)] == [
        "netForumXMLSoap", "netForumXMLHttpGet", "netForumXMLHttpPost"]


HTTP_OPERATIONS = [op for op in OPERATIONS if CONTRACTS[op].http_bindings]


@pytest.mark.parametrize("binding", ["netForumXMLHttpGet", "netForumXMLHttpPost"])
def test_http_bindings_have_the_operations_with_simple_parameters(ours, binding):
    names = [o.get("name") for o in ours.findall(f"wsdl:binding[@name='{binding}']/wsdl:operation", NS)]
    assert names == HTTP_OPERATIONS
    assert [o.get("name") for o in ours.findall(f"wsdl:portType[@name='{binding}']/wsdl:operation", NS)] == names
    assert {"GetQuery", "Authenticate"} <= set(names) and not {"WEBPhoneGet", "InsertFacadeObject"} & set(names)


def _http_facts(root, binding, op):
    """An HTTP binding's operation as the vendor declares it: location, input and output encodings, the messages'
    parts (the output's element resolved)."""
    bop = root.find(f"wsdl:binding[@name='{binding}']/wsdl:operation[@name='{op}']", NS)
    if bop is None:
        return None
    pto = root.find(f"wsdl:portType[@name='{binding}']/wsdl:operation[@name='{op}']", NS)
    index = _schema_index(root)

    def parts(message_ref):
        message = root.find(f"wsdl:message[@name='{message_ref.split(':')[1]}']", NS)
        found = []
        for part in message.findall("wsdl:part", NS):
            element = part.get("element")
            found.append((part.get("name"), part.get("type"),
                          describe(index[("element", _qname(part, element))], index) if element else None))
        return found

    return (
        bop.find(f"{{{HTTP}}}operation").get("location"),
        [etree.tostring(child, method="c14n", exclusive=True).decode() for io in ("input", "output")
         for child in bop.find(f"wsdl:{io}", NS)],
        parts(pto.find("wsdl:input", NS).get("message")),
        parts(pto.find("wsdl:output", NS).get("message")),
        pto.findtext("wsdl:documentation", namespaces=NS),
    )


def test_http_bindings_match_vendor_for_every_operation(ours, vendor):
    """Operation by operation, both HTTP bindings as the vendor declares them: which operations, and each one's
    location, encodings, messages' parts and documentation."""
    differing = [(binding, op) for binding in ("netForumXMLHttpGet", "netForumXMLHttpPost")
                 for op in vendor_operations(vendor) if _http_facts(ours, binding, op) != _http_facts(vendor, binding, op)]
    assert differing == []


def test_declares_every_operation_of_the_vendors_service(ours):
    """An operation answered over raw SOAP but missing here is one no WSDL-bound client (zeep, suds, .NET) can call:
    every one the description holds, the emulated ones among them."""
    assert len(OPERATIONS) == 262
    assert set(emulated_operations) < set(OPERATIONS)
    binding_ops = [o.get("name") for o in _soap_binding(ours).findall("wsdl:operation", NS)]
    assert binding_ops == OPERATIONS
    pt_ops = [o.get("name") for o in ours.findall("wsdl:portType[@name='netForumXMLSoap']/wsdl:operation", NS)]
    assert pt_ops == OPERATIONS


def test_the_token_rule_is_the_vendors():
    """Only Authenticate, GetDateTime and TestConnection (and the 2015 AuthenticateLdap) go without the token."""
    assert {op: (c.token_in, c.token_out) for op, c in CONTRACTS.items() if op in TOKENLESS} == TOKENLESS
    assert all(c.token_in and c.token_out for op, c in CONTRACTS.items() if op not in TOKENLESS)


@pytest.mark.parametrize("op", OPERATIONS)
def test_binding_operation(ours, op):
    contract = CONTRACTS[op]
    message = contract.message
    bop = _soap_binding(ours).find(f"wsdl:operation[@name='{op}']", NS)
    assert bop is not None
    sop = bop.find("soap:operation", NS)
    assert sop.get("soapAction") == TNS + message
    assert sop.get("style") == "document"
    messages = {m.get("name"): m for m in ours.findall("wsdl:message", NS)}
    for io, want_header in zip(("input", "output"), HEADER_RULE[op], strict=True):
        part = bop.find(f"wsdl:{io}", NS)
        assert part.get("name") == (message if message != op else None)
        assert part.find("soap:body", NS).get("use") == "literal"
        headers = part.findall("soap:header", NS)
        if not want_header:
            assert headers == [], f"{op} {io} must not declare the AuthorizationToken header"
            continue
        assert len(headers) == 1, f"{op} {io} must declare the AuthorizationToken header"
        h = headers[0]
        assert h.get("message") == f"tns:{message}AuthorizationToken"
        assert h.get("part") == "AuthorizationToken"
        assert h.get("use") == "literal"
        msg = messages[f"{message}AuthorizationToken"]
        parts = msg.findall("wsdl:part", NS)
        assert len(parts) == 1
        assert parts[0].get("name") == "AuthorizationToken"
        assert _qname(parts[0], parts[0].get("element")) == f"{{{TNS}}}AuthorizationToken"
    if HEADER_RULE[op] == (False, False):
        assert f"{message}AuthorizationToken" not in messages
    # port type -> SoapIn/SoapOut -> request/response elements
    pto = ours.find(f"wsdl:portType[@name='netForumXMLSoap']/wsdl:operation[@name='{op}']", NS)
    assert pto.findtext("wsdl:documentation", namespaces=NS) == contract.documentation
    for io, msg_name, element in (("input", f"{message}SoapIn", message),
                                  ("output", f"{message}SoapOut", f"{message}Response")):
        assert pto.find(f"wsdl:{io}", NS).get("message") == f"tns:{msg_name}"
        parts = messages[msg_name].findall("wsdl:part", NS)
        assert [(p.get("name"), _qname(p, p.get("element"))) for p in parts] == [
            ("parameters", f"{{{TNS}}}{element}")
        ]


def test_operations_the_vendor_names_apart_from_their_messages():
    """ASMX's MessageName: the method, and the messages and SOAPAction it is called by."""
    assert {op: c.message for op, c in CONTRACTS.items() if c.message != op} == {
        "WEBCentralizedShoppingCartExhibitorGetBoothList": "WEBCentralizedShoppingCartGetBoothList",
        "ElectronicSubscriptionGetCustomerListByIP": "ElectronicSubscriptionGetCstListByIP",
        "GetFundraisingEventRegistrationTotal": "GetFundraisingEventRegistrantionTotal",
    }


def test_authorization_token_declaration(ours):
    main = ours.find("wsdl:types/s:schema", NS)
    el = main.find("s:element[@name='AuthorizationToken']", NS)
    assert _qname(el, el.get("type")) == f"{{{TNS}}}AuthorizationToken"
    ct = main.find("s:complexType[@name='AuthorizationToken']", NS)
    seq = ct.findall("s:sequence/s:element", NS)
    assert [(e.get("name"), e.get("type"), e.get("minOccurs")) for e in seq] == [("Token", "s:string", "0")]
    assert ct.find("s:anyAttribute", NS) is not None


def _seq(root, type_name):
    ct = root.find(f"wsdl:types/s:schema/s:complexType[@name='{type_name}']", NS)
    assert ct is not None, type_name
    return [
        (e.get("name"), _qname(e, e.get("type")), e.get("minOccurs"), e.get("maxOccurs"), e.get("nillable"))
        for e in ct.findall("s:sequence/s:element", NS)
    ]


def test_communication_preference_types(ours):
    s = lambda n: f"{{{XSD}}}{n}"  # noqa: E731
    t = lambda n: f"{{{TNS}}}{n}"  # noqa: E731
    assert _seq(ours, "MailingListSetting") == [
        ("mailing_list_key", s("string"), "0", "1", None),
        ("mailing_list_name", s("string"), "0", "1", None),
        ("mailing_list_category", s("string"), "0", "1", None),
        ("status", t("MailingPerferenceStatus"), "1", "1", None),
        ("email_key", s("string"), "0", "1", None),
        ("address_key", s("string"), "0", "1", None),
        ("phone_key", s("string"), "0", "1", None),
        ("fax_key", s("string"), "0", "1", None),
    ]
    assert _seq(ours, "ArrayOfMailingListSetting") == [
        ("MailingListSetting", t("MailingListSetting"), "0", "unbounded", "true")
    ]
    assert _seq(ours, "MailingList") == [
        ("primary_key", s("string"), "0", "1", None),
        ("name", s("string"), "0", "1", None),
        ("category", s("string"), "0", "1", None),
    ]
    assert _seq(ours, "ArrayOfMailingList") == [("MailingList", t("MailingList"), "0", "unbounded", "true")]
    st = ours.find("wsdl:types/s:schema/s:simpleType[@name='MailingPerferenceStatus']", NS)
    restriction = st.find("s:restriction", NS)
    assert _qname(restriction, restriction.get("base")) == s("string")
    assert [e.get("value") for e in restriction.findall("s:enumeration", NS)] == ["OptIn", "OptOut", "Undefined"]
    # void response
    resp = ours.find(
        "wsdl:types/s:schema/s:element[@name='SetCustomerCommunicationPreferencesResponse']/s:complexType", NS
    )
    assert resp is not None and len(resp) == 0


# --------------------------------------------------------------------------- as zeep sees it


def test_zeep_service_and_port(zeep_binding):
    client, _ = zeep_binding
    assert list(client.wsdl.services) == ["netForumXML"]
    ports = client.wsdl.services["netForumXML"].ports
    assert list(ports) == ["netForumXMLSoap", "netForumXMLHttpGet", "netForumXMLHttpPost"]
    assert type(ports["netForumXMLSoap"].binding).__name__ == "Soap11Binding"
    assert type(ports["netForumXMLHttpGet"].binding).__name__ == "HttpGetBinding"
    assert type(ports["netForumXMLHttpPost"].binding).__name__ == "HttpPostBinding"
    assert sorted(client.wsdl.bindings[f"{{{TNS}}}netForumXMLSoap"]._operations) == sorted(OPERATIONS)


def _zeep_sig(elements):
    return [(name, el.type.qname.text if el.type.is_global else None) for name, el in elements]


@pytest.mark.parametrize("op", OPERATIONS)
def test_zeep_operation_signature(zeep_binding, op):
    """As zeep reads it, each operation takes and answers what the description says."""
    _, binding = zeep_binding
    contract = CONTRACTS[op]
    zop = binding.get(op)
    assert zop.soapaction == TNS + contract.message
    assert zop.style == "document"
    want_in = [(p.name, declared_type(p.kind, p.flat)) for p in contract.parameters]
    want_out = [] if contract.result_element is None else [(contract.result_element, declared_type(contract.returns))]
    assert zop.input.body.qname.text == f"{{{TNS}}}{contract.message}"
    assert zop.output.body.qname.text == f"{{{TNS}}}{contract.message}Response"
    assert _zeep_sig(zop.input.body.type.elements) == want_in
    assert _zeep_sig(zop.output.body.type.elements) == want_out
    for header, want in zip((zop.input.header, zop.output.header), HEADER_RULE[op], strict=True):
        names = [n for n, _ in header.type.elements] if header is not None else []
        assert names == (["AuthorizationToken"] if want else [])


def test_zeep_builds_set_preferences_request(zeep_binding):
    client, _ = zeep_binding
    env = client.create_message(
        client.service,
        "SetCustomerCommunicationPreferences",
        customerKey="2f3a9f1e-0000-4000-8000-000000000001",
        preferences={"MailingListSetting": [
            {"mailing_list_key": "e86b36bf-7ca2-4919-ad2e-3a7ef268ab39", "status": "OptOut"},
        ]},
        _soapheaders={"AuthorizationToken": {"Token": "b667d671-9ba0-4d9c-b37b-9180fcc85cda"}},
    )
    ns = {"t": TNS, "e": "http://schemas.xmlsoap.org/soap/envelope/"}
    assert env.xpath("string(e:Header/t:AuthorizationToken/t:Token)", namespaces=ns) == (
        "b667d671-9ba0-4d9c-b37b-9180fcc85cda"
    )
    setting = env.xpath(
        "e:Body/t:SetCustomerCommunicationPreferences/t:preferences/t:MailingListSetting", namespaces=ns
    )
    assert len(setting) == 1
    assert [etree.QName(c).localname for c in setting[0]] == ["mailing_list_key", "status"]
    assert setting[0].findtext("t:status", namespaces=ns) == "OptOut"


def test_zeep_reads_vendor_shaped_preference_response(zeep_binding):
    _, binding = zeep_binding
    env = etree.fromstring(
        b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Header>'
        b'<AuthorizationToken soap:actor="6476cd99-aa6b-4523-b974-3c378607ddc5" xmlns="http://www.avectra.com/2005/">'
        b"<Token>b667d671-9ba0-4d9c-b37b-9180fcc85cda</Token></AuthorizationToken></soap:Header><soap:Body>"
        b'<GetCustomerCommunicationPreferenceResponse xmlns="http://www.avectra.com/2005/"><mailing_list_setting>'
        b"<mailing_list_key>e86b36bf-7ca2-4919-ad2e-3a7ef268ab39</mailing_list_key>"
        b"<mailing_list_name>Annual Conference Mailing List</mailing_list_name>"
        b"<mailing_list_category>event</mailing_list_category><status>OptIn</status>"
        b"</mailing_list_setting></GetCustomerCommunicationPreferenceResponse></soap:Body></soap:Envelope>"
    )
    result = binding.get("GetCustomerCommunicationPreference").output.deserialize(env)
    assert result.header.AuthorizationToken.Token == "b667d671-9ba0-4d9c-b37b-9180fcc85cda"
    setting = result.body.mailing_list_setting
    assert setting.mailing_list_category == "event"
    assert setting.status == "OptIn"


# --------------------------------------------------------------------------- vendor compatibility


def _schema_index(root):
    """{(kind, '{ns}name'): node} for the top-level declarations of every schema in wsdl:types."""
    index = {}
    for schema in root.findall("wsdl:types/s:schema", NS):
        tns = schema.get("targetNamespace")
        for node in schema:
            if not isinstance(node.tag, str) or node.get("name") is None:
                continue
            kind = "element" if etree.QName(node).localname == "element" else "type"
            index[(kind, f"{{{tns}}}{node.get('name')}")] = node
    return index


_DEFAULTS = {"minOccurs": "1", "maxOccurs": "1", "nillable": "false", "mixed": "false"}
_QNAME_ATTRS = ("type", "base", "ref", "element")


def describe(node, index, _stack=(), expand=True):
    """A comparable tree for an XSD node: tag, attributes (QNames resolved, occurrence defaults
    made explicit), children in order, with every referenced named type in the schema expanded
    in place (unless not `expand`: the type by type comparison compares each once).
    Annotations/documentation are ignored."""
    local = etree.QName(node).localname
    attrs = dict(_DEFAULTS) if local in ("element", "any") else {}
    if local == "complexType":
        attrs["mixed"] = "false"
    expanded = []
    for key, value in node.attrib.items():
        if key in _QNAME_ATTRS:
            value = _qname(node, value)
            ref = index.get(("element" if key in ("ref", "element") else "type", value))
            if ref is not None and expand:
                if value in _stack:
                    expanded.append((key, "<recursive>", value))
                else:
                    expanded.append((key, describe(ref, index, _stack + (value,))))
        attrs[key] = value
    children = tuple(
        describe(child, index, _stack, expand)
        for child in node
        if isinstance(child.tag, str) and etree.QName(child).localname not in ("annotation", "documentation")
    )
    return (local, tuple(sorted(attrs.items())), tuple(expanded), children)


def _top_element(root, name):
    index = _schema_index(root)
    node = index.get(("element", f"{{{TNS}}}{name}"))
    assert node is not None, f"no top-level element {name}"
    return describe(node, index)


def test_request_and_response_match_vendor_for_every_operation(ours, vendor):
    """Operation by operation: each request and response element (the types they name compared one by one below)."""
    operations = vendor_operations(vendor)
    assert len(operations) == 231 and set(operations) < set(OPERATIONS)
    ours_index, vendor_index = _schema_index(ours), _schema_index(vendor)
    differing = [name for op in operations for name in (CONTRACTS[op].message, f"{CONTRACTS[op].message}Response")
                 if describe(ours_index[("element", f"{{{TNS}}}{name}")], ours_index, expand=False)
                 != describe(vendor_index[("element", f"{{{TNS}}}{name}")], vendor_index, expand=False)]
    assert differing == []


@pytest.mark.parametrize("op", list(emulated_operations))
def test_emulated_request_and_response_match_vendor_with_every_type_expanded(ours, vendor, op):
    if op not in vendor_operations(vendor):
        pytest.skip(f"{op} came with xWeb 2013.01: the 2010 WSDL lacks it")
    for name in (op, f"{op}Response"):
        assert _top_element(ours, name) == _top_element(vendor, name), f"{name} differs from the vendor WSDL"


def test_every_type_and_element_matches_vendor(ours, vendor):
    """Type by type: every named type and element of the vendor's schemas is ours, declared alike."""
    ours_index, vendor_index = _schema_index(ours), _schema_index(vendor)
    missing = sorted(key for key in vendor_index if key not in ours_index)
    differing = sorted(key for key in vendor_index if key in ours_index
                       and describe(ours_index[key], ours_index, expand=False)
                       != describe(vendor_index[key], vendor_index, expand=False))
    assert (missing, differing) == ([], [])
    assert len(vendor_index) > 900


def test_authorization_token_matches_vendor(ours, vendor):
    assert _top_element(ours, "AuthorizationToken") == _top_element(vendor, "AuthorizationToken")


def test_header_rule_and_documentation_match_vendor_for_every_operation(ours, vendor):
    def facts(root, op):
        bop = _soap_binding(root).find(f"wsdl:operation[@name='{op}']", NS)
        pto = root.find(f"wsdl:portType[@name='netForumXMLSoap']/wsdl:operation[@name='{op}']", NS)
        return (
            bop.find("soap:operation", NS).get("soapAction"),
            [(bop.find(f"wsdl:{io}", NS).get("name"), pto.find(f"wsdl:{io}", NS).get("name"),
              [(h.get("message"), h.get("part"), h.get("use")) for h in bop.findall(f"wsdl:{io}/soap:header", NS)])
             for io in ("input", "output")],
            pto.findtext("wsdl:documentation", namespaces=NS),
        )

    assert [op for op in vendor_operations(vendor) if facts(ours, op) != facts(vendor, op)] == []


def test_describe_detects_differences(vendor):
    """The comparison helper must see occurrence, order and nested-type changes."""
    base = _top_element(vendor, "WEBPhoneGetResponse")
    for xpath, mutate in (
        ("//s:complexType[@name='IndividualPhone_Phone_DataObjectType']/s:sequence/s:element[@name='phn_number']",
         lambda e: e.set("minOccurs", "1")),
        ("//s:complexType[@name='IndividualPhone_Phone_DataObjectType']/s:sequence/s:element[@name='phn_number']",
         lambda e: e.attrib.pop("nillable")),
        ("//s:simpleType[@name='av_key_Type']/s:restriction/s:pattern", lambda e: e.set("value", "x")),
        ("//s:complexType[@name='IndividualPhone_Country_DataObjectType']/s:sequence",
         lambda e: e.insert(0, e[-1])),
    ):
        root = copy.deepcopy(vendor)
        mutate(root.xpath(xpath, namespaces=NS)[0])
        assert _top_element(root, "WEBPhoneGetResponse") != base, xpath


# --------------------------------------------------------------------------- a tenant's extra elements


# An extender column of a tenant's Individual: IndividualType's Individual section is this data-object type.
PIN = {"Individual_Individual_DataObjectType": [("ind_pin_ext", "av_text_Type")]}


def _complex_types(root):
    return {node.get("name"): etree.tostring(node, method="c14n", exclusive=True)
            for node in root.findall("wsdl:types/s:schema/s:complexType", NS)}


def test_extra_elements_end_their_types_sequence_optional(ours):
    extended = service_description(PIN)
    path = "wsdl:types/s:schema/s:complexType[@name='Individual_Individual_DataObjectType']/s:sequence/s:element"
    plain, added = ours.findall(path, NS), extended.findall(path, NS)

    assert [e.get("name") for e in added] == [e.get("name") for e in plain] + ["ind_pin_ext"]
    last = added[-1]
    assert (last.get("minOccurs"), last.get("maxOccurs"), last.get("nillable")) == ("0", "1", "true")
    assert _qname(last, last.get("type")) == f"{{{TNS}}}av_text_Type"
    # Every other type is as without it, and the served WSDL without the mapping lacks it.
    before, after = _complex_types(ours), _complex_types(extended)
    assert [name for name in before if before[name] != after[name]] == ["Individual_Individual_DataObjectType"]
    assert b"ind_pin_ext" not in served_wsdl(DEFAULT_ADDRESS)


def test_the_wsdl_is_built_once_per_mapping():
    same = {"Individual_Individual_DataObjectType": [("ind_pin_ext", "av_text_Type")]}
    assert service_description(PIN) is service_description(same)
    assert service_description() is service_description({})
    assert service_description(PIN) is not service_description()
    assert served_wsdl("http://a/x.asmx", PIN) is served_wsdl("http://a/x.asmx", same)
    assert b'location="http://a/x.asmx"' in served_wsdl("http://a/x.asmx", PIN)


@pytest.mark.parametrize("extra", [{"NoSuchType": [("x_ext", "s:string")]},
                                   {"Individual_Individual_DataObjectType": [("ind_first_name", "s:string")]},
                                   {"AvailableValue": [("x_ext", "s:string")]}])
def test_extra_elements_a_type_cannot_take_are_refused(extra):
    with pytest.raises(ValueError):
        service_description(extra)


def test_zeep_bound_to_the_extended_wsdl_sends_the_extra_element(tmp_path):
    zeep = pytest.importorskip("zeep")
    path = tmp_path / "netForumXML.wsdl"
    path.write_bytes(served_wsdl(DEFAULT_ADDRESS, PIN))
    client = zeep.Client(str(path))

    section = client.get_type(f"{{{TNS}}}Individual_Individual_DataObjectType")
    individual = etree.Element(f"{{{TNS}}}Individual")
    section.render(individual, section(ind_first_name="Ada", ind_pin_ext="4711"))

    assert [etree.QName(child).localname for child in individual] == ["ind_first_name", "ind_pin_ext"]
    assert individual.findtext(f"{{{TNS}}}ind_pin_ext") == "4711"
