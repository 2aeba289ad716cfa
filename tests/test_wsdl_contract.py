"""Contract tests for the emulator's own WSDL (wsdl/netForumXML.wsdl).

No server needed: these check the file itself, as a SOAP client (zeep, .NET
wsdl.exe, PHP SoapClient, ...) would read it, and compare its types with the
real vendor xWeb 2010 WSDL kept in ../shared/reference beside this clone.
"""
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from lxml import etree

from xweb_emulator.xweb.operations import OPERATIONS as emulated_operations

WSDL_PATH = Path(__file__).resolve().parents[1] / "wsdl" / "netForumXML.wsdl"
VENDOR_WSDL_PATH = (
    Path(__file__).resolve().parents[2] / "shared" / "reference" / "xweb" / "xWeb-2010.wsdl"
)

TNS = "http://www.avectra.com/2005/"
XSD = "http://www.w3.org/2001/XMLSchema"
WSDL = "http://schemas.xmlsoap.org/wsdl/"
SOAP11 = "http://schemas.xmlsoap.org/wsdl/soap/"
SOAP12 = "http://schemas.xmlsoap.org/wsdl/soap12/"
HTTP = "http://schemas.xmlsoap.org/wsdl/http/"
MS_TYPES = "http://microsoft.com/wsdl/types/"
NS = {"wsdl": WSDL, "s": XSD, "soap": SOAP11}

OPERATIONS = [
    "Authenticate",
    "TestConnection",
    "GetDateTime",
    "GetVersion",
    "InsertFacadeObject",
    "GetFacadeObject",
    "UpdateFacadeObject",
    "GetQuery",
    "GetQueryDefinition",
    "GetFacadeObjectList",
    "GetIndividualInformation",
    "SetCustomerCommunicationPreferences",
    "GetCustomerCommunicationPreference",
    "GetAllCustomerCommunicationPreferences",
    "GetPromotionalMailingTypes",
    "GetSubscriptionMailingTypes",
    "WEBIndividualGet",
    "WEBIndividualUpdate",
    "WEBIndividualInsert",
    "WEBPhoneUpdate",
    "WEBPhoneGet",
    "WEBPhoneInsert",
    "WEBPhoneGetPhonesByCustomer",
    "WEBEmailGet",
    "WEBEmailUpdate",
    "WEBEmailInsert",
    "WEBEmailGetEmailsByCustomer",
]
# Operations that exist in the vendor's 2010 WSDL (the other five are 2013.01+).
VENDOR_OPERATIONS = [
    "Authenticate",
    "TestConnection",
    "GetDateTime",
    "GetVersion",
    "InsertFacadeObject",
    "GetFacadeObject",
    "UpdateFacadeObject",
    "GetQuery",
    "GetQueryDefinition",
    "GetFacadeObjectList",
    "GetIndividualInformation",
    "WEBIndividualGet",
    "WEBIndividualUpdate",
    "WEBIndividualInsert",
    "WEBPhoneUpdate",
    "WEBPhoneGet",
    "WEBPhoneInsert",
    "WEBPhoneGetPhonesByCustomer",
    "WEBEmailGet",
    "WEBEmailUpdate",
    "WEBEmailInsert",
    "WEBEmailGetEmailsByCustomer",
]
# (AuthorizationToken header on input, on output), as the vendor declares it.
HEADER_RULE = {op: (True, True) for op in OPERATIONS}
HEADER_RULE.update({
    "Authenticate": (False, True),
    "GetDateTime": (False, False),
    "TestConnection": (False, False),
})

# Hosts a WSDL of ours may name: namespaces, the vendor's documentation wiki, and the placeholder address the
# server rewrites. A vendor tenant's host would mean vendor text was copied in.
ALLOWED_HOSTS = {"localhost", "microsoft.com", "schemas.xmlsoap.org", "www.w3.org", "www.avectra.com",
                 "wiki.avectra.com"}

_XS_STRING = f"{{{XSD}}}string"
_ANON = None  # anonymous (inline) complexType
# op -> (request element children, response element children) as
# [(element name, type QName or None for an inline type)], in order.
SIGNATURES = {
    "Authenticate": (
        [("userName", _XS_STRING), ("password", _XS_STRING)],
        [("AuthenticateResult", _XS_STRING)],
    ),
    "TestConnection": ([], [("TestConnectionResult", _XS_STRING)]),
    "GetDateTime": ([], [("GetDateTimeResult", f"{{{XSD}}}dateTime")]),
    "GetVersion": ([], [("GetVersionResult", _XS_STRING)]),
    "InsertFacadeObject": (
        [("szObjectName", _XS_STRING), ("oNode", _ANON)],
        [("InsertFacadeObjectResult", _ANON)],
    ),
    "GetFacadeObject": (
        [("szObjectName", _XS_STRING), ("szObjectKey", _XS_STRING)],
        [("GetFacadeObjectResult", _ANON)],
    ),
    "UpdateFacadeObject": (
        [("szObjectName", _XS_STRING), ("szObjectKey", _XS_STRING), ("oNode", _ANON)],
        [("UpdateFacadeObjectResult", _ANON)],
    ),
    "GetQuery": (
        [("szObjectName", _XS_STRING), ("szColumnList", _XS_STRING), ("szWhereClause", _XS_STRING),
         ("szOrderBy", _XS_STRING)],
        [("GetQueryResult", _ANON)],
    ),
    "GetQueryDefinition": ([("szObjectName", _XS_STRING)], [("GetQueryDefinitionResult", f"{{{TNS}}}Object")]),
    "GetFacadeObjectList": ([], [("GetFacadeObjectListResult", _ANON)]),
    "GetIndividualInformation": ([("IndividualKey", _XS_STRING)], [("GetIndividualInformationResult", _ANON)]),
    "SetCustomerCommunicationPreferences": (
        [("customerKey", _XS_STRING), ("preferences", f"{{{TNS}}}ArrayOfMailingListSetting")],
        [],
    ),
    "GetCustomerCommunicationPreference": (
        [("customerKey", _XS_STRING), ("preferenceTypeKey", _XS_STRING)],
        [("mailing_list_setting", f"{{{TNS}}}MailingListSetting")],
    ),
    "GetAllCustomerCommunicationPreferences": (
        [("customerKey", _XS_STRING)],
        [("GetAllCustomerCommunicationPreferencesResult", f"{{{TNS}}}ArrayOfMailingListSetting")],
    ),
    "GetPromotionalMailingTypes": (
        [],
        [("GetPromotionalMailingTypesResult", f"{{{TNS}}}ArrayOfMailingList")],
    ),
    "GetSubscriptionMailingTypes": (
        [],
        [("GetSubscriptionMailingTypesResult", f"{{{TNS}}}ArrayOfMailingList")],
    ),
    "WEBPhoneUpdate": (
        [("oFacadeObject", f"{{{TNS}}}CustomerPhoneType")],
        [("WEBPhoneUpdateResult", f"{{{XSD}}}boolean")],
    ),
    "WEBPhoneGet": (
        [("key", f"{{{MS_TYPES}}}guid")],
        [("WEBPhoneGetResult", f"{{{TNS}}}CustomerPhoneType")],
    ),
    "WEBPhoneInsert": (
        [("oFacadeObject", f"{{{TNS}}}CustomerPhoneType")],
        [("WEBPhoneInsertResult", f"{{{TNS}}}CustomerPhoneType")],
    ),
    "WEBPhoneGetPhonesByCustomer": (
        [("CustomerKey", f"{{{MS_TYPES}}}guid")],
        [("WEBPhoneGetPhonesByCustomerResult", _ANON)],
    ),
    "WEBIndividualGet": (
        [("key", f"{{{MS_TYPES}}}guid")],
        [("WEBIndividualGetResult", f"{{{TNS}}}IndividualType")],
    ),
    "WEBIndividualUpdate": (
        [("oFacadeObject", f"{{{TNS}}}IndividualType")],
        [("WEBIndividualUpdateResult", f"{{{XSD}}}boolean")],
    ),
    "WEBIndividualInsert": (
        [("oFacadeObject", f"{{{TNS}}}IndividualType")],
        [("WEBIndividualInsertResult", f"{{{TNS}}}IndividualType")],
    ),
    "WEBEmailGet": (
        [("key", f"{{{MS_TYPES}}}guid")],
        [("WEBEmailGetResult", f"{{{TNS}}}CustomerEmailType")],
    ),
    "WEBEmailUpdate": (
        [("oFacadeObject", f"{{{TNS}}}CustomerEmailType")],
        [("WEBEmailUpdateResult", f"{{{XSD}}}boolean")],
    ),
    "WEBEmailInsert": (
        [("oFacadeObject", f"{{{TNS}}}CustomerEmailType")],
        [("WEBEmailInsertResult", f"{{{TNS}}}CustomerEmailType")],
    ),
    "WEBEmailGetEmailsByCustomer": (
        [("CustomerKey", f"{{{MS_TYPES}}}guid")],
        [("WEBEmailGetEmailsByCustomerResult", _ANON)],
    ),
}


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def ours():
    assert WSDL_PATH.is_file(), f"missing {WSDL_PATH}"
    return etree.parse(str(WSDL_PATH)).getroot()


@pytest.fixture(scope="module")
def vendor():
    if not VENDOR_WSDL_PATH.is_file():
        pytest.skip(
            f"vendor WSDL not found at {VENDOR_WSDL_PATH}: ../shared/reference is not "
            "beside this clone, so the vendor type comparison cannot run"
        )
    return etree.parse(str(VENDOR_WSDL_PATH)).getroot()


@pytest.fixture(scope="module")
def zeep_binding():
    zeep = pytest.importorskip("zeep")
    client = zeep.Client(str(WSDL_PATH))
    return client, client.wsdl.bindings[f"{{{TNS}}}netForumXMLSoap"]


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


def test_file_is_plain_pretty_printed_xml():
    raw = WSDL_PATH.read_bytes()
    assert raw.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    etree.fromstring(raw)  # well-formed
    assert b"\t" not in raw
    for n, line in enumerate(raw.decode("utf-8").splitlines(), 1):
        indent = len(line) - len(line.lstrip(" "))
        assert indent % 2 == 0, f"line {n} is not indented by a multiple of 2 spaces"


def test_names_no_tenant_host():
    hosts = {urlsplit(url).hostname for url in re.findall(r"https?://[^\s\"'<]+", WSDL_PATH.read_text("utf-8"))}
    assert hosts <= ALLOWED_HOSTS


def test_names_not_the_vendor_wsdls_tenant(vendor):
    (address,) = vendor.iterfind(".//soap:address", NS)
    tenant = urlsplit(address.get("location"))
    text = WSDL_PATH.read_text("utf-8").lower()
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


HTTP_OPERATIONS = [op for op in OPERATIONS if emulated_operations[op].http_bindings]


@pytest.mark.parametrize("binding", ["netForumXMLHttpGet", "netForumXMLHttpPost"])
def test_http_bindings_have_the_operations_with_simple_parameters(ours, binding):
    names = [o.get("name") for o in ours.findall(f"wsdl:binding[@name='{binding}']/wsdl:operation", NS)]
    assert names == HTTP_OPERATIONS
    assert [o.get("name") for o in ours.findall(f"wsdl:portType[@name='{binding}']/wsdl:operation", NS)] == names


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


@pytest.mark.parametrize("binding", ["netForumXMLHttpGet", "netForumXMLHttpPost"])
@pytest.mark.parametrize("op", [op for op in VENDOR_OPERATIONS if op in HTTP_OPERATIONS])
def test_http_bindings_match_vendor(ours, vendor, binding, op):
    assert _http_facts(ours, binding, op) == _http_facts(vendor, binding, op)


def test_the_vendor_binds_over_http_exactly_the_operations_we_do(vendor):
    """Which of the vendor's operations (among ours) have HTTP GET and POST bindings: the rule XWebOperation
    .http_bindings follows (simple parameters a query string carries: no Guid)."""
    for binding in ("netForumXMLHttpGet", "netForumXMLHttpPost"):
        names = {o.get("name") for o in vendor.findall(f"wsdl:binding[@name='{binding}']/wsdl:operation", NS)}
        assert sorted(names & set(VENDOR_OPERATIONS)) == sorted(op for op in VENDOR_OPERATIONS if op in HTTP_OPERATIONS)


def test_declares_exactly_the_operations_the_table_answers():
    """An operation answered over raw SOAP but missing here is one no WSDL-bound client (zeep, suds, .NET) can call."""
    assert sorted(OPERATIONS) == sorted(emulated_operations)


def test_binding_and_porttype_have_exactly_the_operations(ours):
    binding_ops = [o.get("name") for o in _soap_binding(ours).findall("wsdl:operation", NS)]
    assert sorted(binding_ops) == sorted(OPERATIONS)
    assert len(binding_ops) == len(set(binding_ops))
    pt_ops = [o.get("name") for o in ours.findall("wsdl:portType[@name='netForumXMLSoap']/wsdl:operation", NS)]
    assert sorted(pt_ops) == sorted(OPERATIONS)


@pytest.mark.parametrize("op", OPERATIONS)
def test_binding_operation(ours, op):
    bop = _soap_binding(ours).find(f"wsdl:operation[@name='{op}']", NS)
    assert bop is not None
    sop = bop.find("soap:operation", NS)
    assert sop.get("soapAction") == TNS + op
    assert sop.get("style") == "document"
    messages = {m.get("name"): m for m in ours.findall("wsdl:message", NS)}
    for io, want_header in zip(("input", "output"), HEADER_RULE[op], strict=True):
        part = bop.find(f"wsdl:{io}", NS)
        assert part.find("soap:body", NS).get("use") == "literal"
        headers = part.findall("soap:header", NS)
        if not want_header:
            assert headers == [], f"{op} {io} must not declare the AuthorizationToken header"
            continue
        assert len(headers) == 1, f"{op} {io} must declare the AuthorizationToken header"
        h = headers[0]
        assert h.get("message") == f"tns:{op}AuthorizationToken"
        assert h.get("part") == "AuthorizationToken"
        assert h.get("use") == "literal"
        msg = messages[f"{op}AuthorizationToken"]
        parts = msg.findall("wsdl:part", NS)
        assert len(parts) == 1
        assert parts[0].get("name") == "AuthorizationToken"
        assert _qname(parts[0], parts[0].get("element")) == f"{{{TNS}}}AuthorizationToken"
    if HEADER_RULE[op] == (False, False):
        assert f"{op}AuthorizationToken" not in messages
    # port type -> SoapIn/SoapOut -> request/response elements
    pto = ours.find(f"wsdl:portType[@name='netForumXMLSoap']/wsdl:operation[@name='{op}']", NS)
    for io, msg_name, element in (("input", f"{op}SoapIn", op), ("output", f"{op}SoapOut", f"{op}Response")):
        assert pto.find(f"wsdl:{io}", NS).get("message") == f"tns:{msg_name}"
        parts = messages[msg_name].findall("wsdl:part", NS)
        assert [(p.get("name"), _qname(p, p.get("element"))) for p in parts] == [
            ("parameters", f"{{{TNS}}}{element}")
        ]


@pytest.mark.parametrize("op", [o for o in OPERATIONS if o != "GetDateTime"])
def test_operation_documentation_present(ours, op):
    # GetDateTime is undocumented in the vendor WSDL too.
    doc = ours.findtext(f"wsdl:portType[@name='netForumXMLSoap']/wsdl:operation[@name='{op}']/wsdl:documentation",
                        namespaces=NS)
    assert doc and doc.strip()


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
    _, binding = zeep_binding
    zop = binding.get(op)
    assert zop.soapaction == TNS + op
    assert zop.style == "document"
    want_in, want_out = SIGNATURES[op]
    assert zop.input.body.qname.text == f"{{{TNS}}}{op}"
    assert zop.output.body.qname.text == f"{{{TNS}}}{op}Response"
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


def describe(node, index, _stack=()):
    """A comparable tree for an XSD node: tag, attributes (QNames resolved, occurrence defaults
    made explicit), children in order, with every referenced named type in the schema expanded
    in place.  Annotations/documentation are ignored."""
    local = etree.QName(node).localname
    attrs = dict(_DEFAULTS) if local in ("element", "any") else {}
    if local == "complexType":
        attrs["mixed"] = "false"
    expanded = []
    for key, value in node.attrib.items():
        if key in _QNAME_ATTRS:
            value = _qname(node, value)
            ref = index.get(("element" if key in ("ref", "element") else "type", value))
            if ref is not None:
                if value in _stack:
                    expanded.append((key, "<recursive>", value))
                else:
                    expanded.append((key, describe(ref, index, _stack + (value,))))
        attrs[key] = value
    children = tuple(
        describe(child, index, _stack)
        for child in node
        if isinstance(child.tag, str) and etree.QName(child).localname not in ("annotation", "documentation")
    )
    return (local, tuple(sorted(attrs.items())), tuple(expanded), children)


def _top_element(root, name):
    index = _schema_index(root)
    node = index.get(("element", f"{{{TNS}}}{name}"))
    assert node is not None, f"no top-level element {name}"
    return describe(node, index)


@pytest.mark.parametrize("op", VENDOR_OPERATIONS)
def test_request_and_response_match_vendor(ours, vendor, op):
    for name in (op, f"{op}Response"):
        assert _top_element(ours, name) == _top_element(vendor, name), f"{name} differs from the vendor WSDL"


def test_authorization_token_matches_vendor(ours, vendor):
    assert _top_element(ours, "AuthorizationToken") == _top_element(vendor, "AuthorizationToken")


@pytest.mark.parametrize("op", VENDOR_OPERATIONS)
def test_header_rule_and_documentation_match_vendor(ours, vendor, op):
    def facts(root):
        bop = _soap_binding(root).find(f"wsdl:operation[@name='{op}']", NS)
        pto = root.find(f"wsdl:portType[@name='netForumXMLSoap']/wsdl:operation[@name='{op}']", NS)
        return (
            bop.find("soap:operation", NS).get("soapAction"),
            [
                [(h.get("message"), h.get("part"), h.get("use")) for h in bop.findall(f"wsdl:{io}/soap:header", NS)]
                for io in ("input", "output")
            ],
            pto.findtext("wsdl:documentation", namespaces=NS),
        )

    assert facts(ours) == facts(vendor)


def test_describe_detects_differences(vendor):
    """The comparison helper must see occurrence, order and nested-type changes."""
    import copy

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
