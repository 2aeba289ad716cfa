"""xWeb's SOAP endpoint as its clients meet it, over HTTP, on both database backends.

1. the seed InsertFacadeObject sample replayed byte for byte (its response shape, what is stored, what reads back);
2. zeep bound to the WSDL the emulator serves, calling every operation;
3. zeep bound to the vendor's own 2010 WSDL (../shared), pointed at the emulator;
4. faults in the vendor's exact shape (captured from a live tenant);
5. tokens as a tenant issues, rotates, kills and expires them;
6. lock-out after repeated bad passwords;
7. what ASP.NET (ASMX) does before netFORUM runs: mustUnderstand, SOAPAction routing, path case.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
import zeep
from lxml import etree

from support import NS, SHARED, SOAP_ENV, VENDOR_BINDING, XWEB, canonical, fault, parse, response_token
from xweb_emulator.clock import utcnow
from xweb_emulator.xweb.models import AuthenticationToken, CustomerMessagingActivity
from xweb_emulator.xweb.operations import OPERATIONS, VENDOR_OPERATIONS

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "xweb"
SAMPLE_REQUEST = FIXTURES / "insert_customer_messaging_activity.request.xml"
SAMPLE_RESPONSE = FIXTURES / "insert_customer_messaging_activity.response.xml"
MASKED_TOKEN = b"<ns:Token>***************</ns:Token>"

CAPTURED_AUTHENTICATE_FAILURE = SHARED / "reference" / "xweb" / "captured" / "authenticate_failure.xml"

XSI = "http://www.w3.org/2001/XMLSchema-instance"
VENDOR_CLASS = "Avectra.netForum.xWeb.xWebSecure.netForumXMLSecure"
GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

TOKEN_FREE = ("Authenticate", "GetDateTime", "TestConnection")

# Demo records (xweb/seed.py).
SAMPLE_CUSTOMER = "2a50c454-eac0-4768-9a85-0c97968be7fd"
PREFERENCES_CUSTOMER = "fadff57b-c6ef-4130-be1e-07000a38056f"
PREFERENCES_CUSTOMER_EMAIL = "abc320db-863f-441a-8ab4-5fc827fc33c2"
CONFERENCE_LIST = "e86b36bf-7ca2-4919-ad2e-3a7ef268ab39"  # promotional
ACCREDITATION_LIST = "6cc179ee-99c3-4b6b-8bab-36574550a5e5"  # promotional
INSTRUCTORS_LIST = "b31c52e4-29c1-4a65-8c53-0626342c920d"  # subscription
DEFAULT_PHONE_TYPE = "3445f817-a38f-483a-aabe-b8d3c084832b"


# ------------------------------------------------------------------------------------------------------- helpers


def q(name: str) -> str:
    return f"{{{XWEB}}}{name}"


def envelope(operation: str, body: str = "", header: str = "") -> str:
    """A SOAP 1.1 request as .NET clients write it: `body` are the children of the request element (default ns)."""
    head = f"<soap:Header>{header}</soap:Header>" if header else ""
    return (f'<soap:Envelope xmlns:soap="{SOAP_ENV}">{head}<soap:Body>'
            f'<{operation} xmlns="{XWEB}">{body}</{operation}></soap:Body></soap:Envelope>')


def token_header(token: str, must_understand: bool = False) -> str:
    attribute = ' soap:mustUnderstand="1"' if must_understand else ""
    return f'<AuthorizationToken{attribute} xmlns="{XWEB}"><Token>{token}</Token></AuthorizationToken>'


def post(url: str, body: str | bytes, **headers: str) -> requests.Response:
    """A POST with exactly the headers given (post_soap always adds a SOAPAction)."""
    return requests.post(url, data=body, headers={"Content-Type": "text/xml; charset=utf-8", **headers}, timeout=30)


def result(response: requests.Response, operation: str) -> etree._Element:
    assert response.status_code == 200, response.text
    element = parse(response).find(f"soap:Body/x:{operation}Response/x:{operation}Result", NS)
    assert element is not None, response.text
    return element


def records(parent: etree._Element) -> list[dict[str, str | None]]:
    """Each child element's children as {local name: text}."""
    return [{etree.QName(column).localname: column.text for column in record} for record in parent]


def shape(element: etree._Element) -> tuple:
    """What a client's parser depends on: element names with their namespaces, attribute names, nesting, order."""
    return (element.tag, sorted(element.attrib), [shape(child) for child in element if isinstance(child.tag, str)])


def facade_node(object_name: str, *rows: dict[str, str]) -> etree._Element:
    """An oNode's content: <XxxObjects><XxxObject>…</XxxObject>…</XxxObjects>."""
    objects = etree.Element(q(f"{object_name}Objects"), nsmap={None: XWEB})
    for row in rows:
        record = etree.SubElement(objects, q(f"{object_name}Object"))
        for name, value in row.items():
            etree.SubElement(record, q(name)).text = value
    return objects


def sent_date(value: datetime) -> str:
    """A stored date in the notation the seed sample sends it in (03/12/2012 13:44:55.892)."""
    return f"{value:%m/%d/%Y %H:%M:%S}.{value.microsecond // 1000:03d}"


def stored_text(value: object) -> str | None:
    if isinstance(value, datetime):
        return sent_date(value)
    return None if value is None else str(value)


class XWebSession:
    """A zeep service used as tenants' clients use it: the token read from each answer's AuthorizationToken
    header, and sent back in the header of the next call."""

    def __init__(self, service) -> None:
        self.service = service
        self.token: str | None = None
        self.tokens: list[str] = []

    def authenticate(self, user: str, password: str) -> str:
        answer = self.service.Authenticate(userName=user, password=password)
        assert answer.body.AuthenticateResult == XWEB  # the namespace URI, never the token
        self._take(answer.header)
        return self.token

    def call(self, operation: str, **params):
        answer = getattr(self.service, operation)(**params, _soapheaders={"AuthorizationToken": {"Token": self.token}})
        self._take(answer.header)
        return answer.body

    def _take(self, header) -> None:
        self.token = header.AuthorizationToken.Token
        assert GUID.fullmatch(self.token), self.token
        self.tokens.append(self.token)


def session_for(service, emulator) -> XWebSession:
    session = XWebSession(service)
    session.authenticate(emulator.settings.xweb_user, emulator.settings.xweb_password)
    return session


@pytest.fixture
def served_wsdl(emulator) -> XWebSession:
    """zeep bound to the WSDL the emulator serves, authenticated."""
    return session_for(zeep.Client(emulator.wsdl_url).service, emulator)


@pytest.fixture
def vendor(vendor_client, emulator) -> XWebSession:
    """zeep bound to the vendor's WSDL, its address overridden to the emulator, authenticated."""
    return session_for(vendor_client.create_service(VENDOR_BINDING, emulator.soap_url), emulator)


# ------------------------------------------------------------------------------ 1. the seed InsertFacadeObject sample


def replay_sample(emulator) -> requests.Response:
    sample = SAMPLE_REQUEST.read_bytes()
    assert sample.count(MASKED_TOKEN) == 1
    token = emulator.authenticate()
    request = sample.replace(MASKED_TOKEN, f"<ns:Token>{token}</ns:Token>".encode())
    return emulator.post_soap("InsertFacadeObject", request)


def sample_records() -> list[dict[str, str | None]]:
    root = etree.parse(str(SAMPLE_REQUEST)).getroot()
    return records(root.find(".//x:oNode/x:CustomerMessagingActivityObjects", NS))


def test_sample_insert_answers_in_the_documented_shape(emulator):
    response = replay_sample(emulator)

    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/xml")
    got = parse(response)
    expected = etree.parse(str(SAMPLE_RESPONSE), etree.XMLParser(remove_blank_text=True)).getroot()
    assert shape(got) == shape(expected)
    objects = got.find("soap:Body/x:InsertFacadeObjectResponse/x:InsertFacadeObjectResult/"
                       "x:CustomerMessagingActivityObjects", NS)
    expected_objects = expected.find(".//x:CustomerMessagingActivityObjects", NS)
    assert objects.get("recordReturn") == "2"
    assert objects.get(f"{{{XSI}}}schemaLocation") == expected_objects.get(f"{{{XSI}}}schemaLocation") \
        == f"{XWEB} CustomerMessagingActivity.xsd"
    keys = [record.findtext("x:cma_key", namespaces=NS) for record in objects]
    assert len(keys) == 2 and len(set(keys)) == 2
    assert all(GUID.fullmatch(key) for key in keys), keys
    assert GUID.fullmatch(response_token(response))


def test_sample_insert_answers_the_vendors_sample_byte_for_byte_but_values(emulator):
    """The seed's documented answer and ours, canonicalized (every prefix and namespace declaration counts): only the
    keys and the token differ."""
    sample = SAMPLE_RESPONSE.read_bytes().replace(b"***************************", str(uuid.uuid4()).encode())

    assert canonical(replay_sample(emulator).content) == canonical(sample)


def test_sample_insert_stores_every_sent_value(emulator):
    keys = [record.findtext("x:cma_key", namespaces=NS)
            for record in result(replay_sample(emulator), "InsertFacadeObject")[0]]

    rows = {str(row.cma_key): row for row in emulator.rows(CustomerMessagingActivity)}
    assert sorted(rows) == sorted(keys)
    for key, sent in zip(keys, sample_records(), strict=True):
        stored = {name: stored_text(getattr(rows[key], name)) for name in sent}
        assert stored == sent
    assert rows[keys[0]].cma_activity_date == datetime(2012, 3, 12, 13, 44, 55, 892000)
    assert rows[keys[0]].cma_add_user == emulator.settings.xweb_user


def test_sample_records_read_back_through_get_facade_object(emulator):
    response = replay_sample(emulator)
    token = response_token(response)
    keys = [record.findtext("x:cma_key", namespaces=NS) for record in result(response, "InsertFacadeObject")[0]]

    for key, sent, date in zip(keys, sample_records(), ("3/12/2012 1:44:55 PM", "3/12/2012 2:44:55 PM"), strict=True):
        answer = emulator.soap("GetFacadeObject", "<ns:szObjectName>CustomerMessagingActivity</ns:szObjectName>"
                                                  f"<ns:szObjectKey>{key}</ns:szObjectKey>", token)
        objects = result(answer, "GetFacadeObject").find("x:CustomerMessagingActivityObjects", NS)
        assert objects.get("recordReturn") == "1"
        (record,) = records(objects)
        assert record["cma_key"] == key
        assert {name: record[name] for name in sent} == {**sent, "cma_activity_date": date}


# ------------------------------------------------------------------------------------------ 2. zeep, served WSDL


@pytest.mark.parametrize("path", ["/xWeb/secure/netForumXML.asmx?WSDL", "/xweb/secure/netforumxml.asmx?wsdl",
                                  "/XWEB/Secure/NetForumXml.asmx?Wsdl"])
def test_served_wsdl_addresses_the_url_it_was_fetched_from(emulator, path):
    response = requests.get(emulator.base_url + path, timeout=30)

    assert response.status_code == 200
    locations = etree.fromstring(response.content).xpath(
        "//soap:address/@location", namespaces={"soap": "http://schemas.xmlsoap.org/wsdl/soap/"})
    assert locations and set(locations) == {emulator.base_url + path.split("?")[0]}


def test_served_wsdl_offers_every_operation_of_the_vendors_on_the_vendor_binding(emulator):
    client = zeep.Client(emulator.wsdl_url)

    # The SOAP binding, and the HTTP GET and POST bindings ASMX adds for the operations with simple parameters.
    http_bindings = {VENDOR_BINDING.replace("Soap", verb) for verb in ("HttpGet", "HttpPost")}
    assert set(client.wsdl.bindings) == {VENDOR_BINDING} | http_bindings
    assert set(client.wsdl.bindings[VENDOR_BINDING]._operations) == set(VENDOR_OPERATIONS) > set(OPERATIONS)


def test_zeep_served_session_operations(served_wsdl):
    assert served_wsdl.token == served_wsdl.tokens[0]
    assert served_wsdl.service.TestConnection() == "Connection to the database succeeded."
    now = served_wsdl.service.GetDateTime()
    assert isinstance(now, datetime) and now.tzinfo is not None, "a time without offset is read as local time"
    assert abs(now - datetime.now(UTC)) < timedelta(minutes=5)
    version = served_wsdl.call("GetVersion").GetVersionResult
    assert isinstance(version, str) and "xweb-emulator" in version


def test_zeep_served_facade_objects(served_wsdl):
    node = facade_node("CustomerMessagingActivity", {
        "cma_cst_key": SAMPLE_CUSTOMER, "cma_eml_address": "someone@somewhere.com", "cma_activity_code": "Clicked",
        "cma_activity_date": "01/02/2024 09:05:00"})
    inserted = served_wsdl.call("InsertFacadeObject", szObjectName="CustomerMessagingActivity",
                                oNode={"_value_1": node}).InsertFacadeObjectResult._value_1
    assert inserted.tag == q("CustomerMessagingActivityObjects") and inserted.get("recordReturn") == "1"
    key = inserted.findtext("x:CustomerMessagingActivityObject/x:cma_key", namespaces=NS)
    assert GUID.fullmatch(key)

    found = served_wsdl.call("GetFacadeObject", szObjectName="CustomerMessagingActivity",
                        szObjectKey=key).GetFacadeObjectResult._value_1
    (record,) = records(found)
    assert record["cma_key"] == key
    assert record["cma_activity_code"] == "Clicked"
    assert record["cma_activity_date"] == "1/2/2024 9:05:00 AM"


def read_side(session: XWebSession) -> None:
    """The read side as a connector uses it: list the objects, learn the Individual's columns from its typed
    definition, read the demo customer, change it, read it again."""
    listed = session.call("GetFacadeObjectList").GetFacadeObjectListResult._value_1
    assert listed.tag == q("ObjectObjects") and listed.get("recordReturn") == str(len(listed))
    assert {"Individual", "Organization"} <= {row["obj_name"] for row in records(listed)}

    definition = session.call("GetQueryDefinition", szObjectName="Individual").GetQueryDefinitionResult
    assert (definition.obj_name, definition.ListTable.lst_mdt_name) == ("Individual", "co_individual")
    assert GUID.fullmatch(definition.obj_key)
    columns = {column.mdc_name: column.mdc_table_name
               for table in definition.ListTable.ListFromTables.ListFromTable for column in table.Columns.Column}
    assert (columns["ind_cst_key"], columns["ind_last_name"], columns["eml_address"]) == (
        "co_individual", "co_individual", "co_email")

    def last_name() -> list[dict[str, str | None]]:
        found = session.call("GetQuery", szObjectName="Individual", szColumnList="ind_last_name",
                             szWhereClause=f"ind_cst_key = '{SAMPLE_CUSTOMER}'", szOrderBy="").GetQueryResult._value_1
        assert found.tag == q("IndividualObjects")
        return records(found)

    assert last_name() == [{"ind_cst_key": SAMPLE_CUSTOMER, "ind_last_name": "Somewhere"}]
    updated = session.call("UpdateFacadeObject", szObjectName="Individual", szObjectKey=SAMPLE_CUSTOMER,
                           oNode={"_value_1": facade_node("Individual", {"ind_last_name": "Elsewhere"})})
    (record,) = records(updated.UpdateFacadeObjectResult._value_1)
    assert (record["ind_cst_key"], record["ind_first_name"], record["ind_last_name"]) == (
        SAMPLE_CUSTOMER, "Someone", "Elsewhere")
    assert last_name() == [{"ind_cst_key": SAMPLE_CUSTOMER, "ind_last_name": "Elsewhere"}]

    information = session.call("GetIndividualInformation", IndividualKey=SAMPLE_CUSTOMER)
    (record,) = records(information.GetIndividualInformationResult._value_1)
    assert (record["ind_cst_key"], record["ind_last_name"], record["eml_address"]) == (
        SAMPLE_CUSTOMER, "Elsewhere", "someone@somewhere.com")


def test_zeep_served_read_side(served_wsdl):
    read_side(served_wsdl)


def test_zeep_served_communication_preferences(served_wsdl):
    promotional = served_wsdl.call("GetPromotionalMailingTypes").GetPromotionalMailingTypesResult.MailingList
    subscription = served_wsdl.call("GetSubscriptionMailingTypes").GetSubscriptionMailingTypesResult.MailingList
    assert {(item.primary_key, item.name, item.category) for item in promotional} == {
        (ACCREDITATION_LIST, "Accreditation", "Email Opt-In"),
        (CONFERENCE_LIST, "Annual Conference Mailing List", "event"),
    }
    assert [item.primary_key for item in subscription] == [INSTRUCTORS_LIST]

    nothing = served_wsdl.call("SetCustomerCommunicationPreferences", customerKey=PREFERENCES_CUSTOMER, preferences={
        "MailingListSetting": [
            {"mailing_list_key": CONFERENCE_LIST, "status": "OptIn", "email_key": PREFERENCES_CUSTOMER_EMAIL},
            {"mailing_list_key": INSTRUCTORS_LIST, "status": "OptOut"},
        ]})
    assert nothing is None  # a void operation: an empty response element

    setting = served_wsdl.call("GetCustomerCommunicationPreference", customerKey=PREFERENCES_CUSTOMER,
                          preferenceTypeKey=CONFERENCE_LIST).mailing_list_setting
    assert (setting.mailing_list_key, setting.mailing_list_name, setting.status, setting.email_key) == (
        CONFERENCE_LIST, "Annual Conference Mailing List", "OptIn", PREFERENCES_CUSTOMER_EMAIL)

    settings = served_wsdl.call("GetAllCustomerCommunicationPreferences", customerKey=PREFERENCES_CUSTOMER)
    statuses = {item.mailing_list_key: item.status
                for item in settings.GetAllCustomerCommunicationPreferencesResult.MailingListSetting}
    assert statuses == {CONFERENCE_LIST: "OptIn", INSTRUCTORS_LIST: "OptOut", ACCREDITATION_LIST: "Undefined"}


def phone_insert(session: XWebSession, number: str):
    """WEBPhoneInsert as real clients send it: Phone_XRef and Phone only (Customer and Country left out)."""
    return session.call("WEBPhoneInsert", oFacadeObject={
        "Phone_XRef": {"cph_cst_key": PREFERENCES_CUSTOMER, "cph_primary": 0},
        "Phone": {"phn_number": number},
        "Customer": zeep.xsd.SkipValue, "Country": zeep.xsd.SkipValue,
    }).WEBPhoneInsertResult


def phone_update(session: XWebSession, key: str, number: str) -> bool:
    return session.call("WEBPhoneUpdate", oFacadeObject={
        "CurrentKey": key, "Phone": {"phn_number": number},
        "Phone_XRef": zeep.xsd.SkipValue, "Customer": zeep.xsd.SkipValue, "Country": zeep.xsd.SkipValue,
    }).WEBPhoneUpdateResult


def test_zeep_served_phones(served_wsdl):
    inserted = phone_insert(served_wsdl, "800-555-0300")
    key = inserted.CurrentKey
    assert GUID.fullmatch(key) and inserted.Phone_XRef.cph_key == key
    assert inserted.Phone_XRef.cph_pht_key == DEFAULT_PHONE_TYPE
    assert inserted.Phone.phn_number == "800-555-0300"
    assert inserted.Customer.cst_key == PREFERENCES_CUSTOMER

    assert phone_update(served_wsdl, key, "800-555-0399") is True

    got = served_wsdl.call("WEBPhoneGet", key=key).WEBPhoneGetResult
    assert got.CurrentKey == key and got.Phone.phn_number == "800-555-0399"

    listing = served_wsdl.call("WEBPhoneGetPhonesByCustomer", CustomerKey=PREFERENCES_CUSTOMER)
    results = listing.WEBPhoneGetPhonesByCustomerResult._value_1
    assert results.tag == q("Results") and results.get("recordReturn") == "2"
    assert {row["cph_key"]: row["phn_number"] for row in records(results)}[key] == "800-555-0399"


# -------------------------------------------------------------------------------------------- 3. zeep, vendor WSDL


def test_vendor_wsdl_facade_object_round_trip(vendor):
    node = facade_node("CustomerMessagingActivity", {
        "cma_cst_key": SAMPLE_CUSTOMER, "cma_eml_address": "someone@somewhere.com", "cma_activity_code": "Bounced",
        "cma_activity_date": "03/12/2012 13:44:55.892"})
    inserted = vendor.call("InsertFacadeObject", szObjectName="CustomerMessagingActivity",
                           oNode={"_value_1": node}).InsertFacadeObjectResult._value_1
    key = inserted.findtext("x:CustomerMessagingActivityObject/x:cma_key", namespaces=NS)
    assert GUID.fullmatch(key)

    found = vendor.call("GetFacadeObject", szObjectName="CustomerMessagingActivity",
                        szObjectKey=key).GetFacadeObjectResult._value_1
    (record,) = records(found)
    assert (record["cma_key"], record["cma_activity_code"], record["cma_activity_date"]) == (
        key, "Bounced", "3/12/2012 1:44:55 PM")
    assert len(set(vendor.tokens)) == 1  # Absolute: the same token all along


def test_vendor_wsdl_read_side(vendor):
    read_side(vendor)


def test_vendor_wsdl_phone_round_trip(vendor):
    key = phone_insert(vendor, "800-555-0400").CurrentKey
    assert vendor.call("WEBPhoneGet", key=key).WEBPhoneGetResult.Phone.phn_number == "800-555-0400"

    assert phone_update(vendor, key, "800-555-0499") is True

    got = vendor.call("WEBPhoneGet", key=key).WEBPhoneGetResult
    assert got.CurrentKey == key and got.Phone.phn_number == "800-555-0499"
    assert got.Phone.phn_change_user is not None


# --------------------------------------------------------------------------------------------------- 4. faults


def bad_password(emulator) -> requests.Response:
    return emulator.soap("Authenticate", f"<ns:userName>{emulator.settings.xweb_user}</ns:userName>"
                                         "<ns:password>not-the-password</ns:password>")


def fault_outline(root: etree._Element) -> list[tuple[str, str | None]]:
    """Every element of the envelope in document order, with the text of each leaf."""
    return [(element.tag, None if len(element) else (element.text or ""))
            for element in root.iter() if isinstance(element.tag, str)]


def test_fault_has_the_vendor_shape(emulator):
    response = bad_password(emulator)

    assert response.status_code == 500
    assert response.headers["Content-Type"].startswith("text/xml")
    root = parse(response)
    assert root.find("soap:Header", NS) is None
    (body_fault,) = root.find("soap:Body", NS)
    assert body_fault.tag == f"{{{SOAP_ENV}}}Fault"
    assert [child.tag for child in body_fault] == ["faultcode", "faultstring", "faultactor", "detail"]
    assert body_fault.findtext("faultcode") == "soap:Client"
    assert body_fault.findtext("faultstring") == (
        "System.Web.Services.Protocols.SoapException: Invalid Credentials Supplied\n"
        f"   at {VENDOR_CLASS}.Authenticate(String userName, String password)")
    assert body_fault.findtext("faultactor") == emulator.soap_url
    (info,) = body_fault.find("detail")
    assert info.tag == q("InvalidCredentialsExceptionInfo")
    (exception,) = info
    assert exception.tag == q("XWebException")
    assert [(child.tag, child.text) for child in exception] == [
        (q("Message"), "Invalid Credentials Supplied"),
        (q("Number"), "0"),
        (q("Source"), "xWeb"),
        (q("Line"), "0"),
        (q("StackTrace"), f"   at {VENDOR_CLASS}.Authenticate(String userName, String password)"),
        (q("ErrorType"), "GeneralError"),
        (q("Errors"), None),
    ]


def test_fault_matches_the_captured_vendor_fault(emulator):
    if not CAPTURED_AUTHENTICATE_FAILURE.is_file():
        pytest.skip(f"no captured vendor fault at {CAPTURED_AUTHENTICATE_FAILURE} (../shared is absent)")
    captured = etree.parse(str(CAPTURED_AUTHENTICATE_FAILURE), etree.XMLParser(remove_blank_text=True)).getroot()
    captured.find("soap:Body/soap:Fault/faultactor", NS).text = emulator.soap_url

    assert fault_outline(parse(bad_password(emulator))) == fault_outline(captured)


def test_fault_after_a_valid_token_carries_no_header(emulator):
    token = emulator.authenticate()
    response = emulator.soap("GetFacadeObject", "<ns:szObjectName>NoSuchObject</ns:szObjectName>"
                                                f"<ns:szObjectKey>{uuid.uuid4()}</ns:szObjectKey>", token)

    assert fault(response) == {
        "faultcode": "soap:Client",
        "faultstring": "System.Web.Services.Protocols.SoapException: Invalid object name 'NoSuchObject'.\n"
                       f"   at {VENDOR_CLASS}.GetFacadeObject(String szObjectName, String szObjectKey)",
        "kind": "SystemExceptionInfo",
        "message": "Invalid object name 'NoSuchObject'.",
    }
    assert parse(response).find("soap:Header", NS) is None


# --------------------------------------------------------------------------------------------------- 5. tokens


def get_version(emulator, token: str | None) -> requests.Response:
    return emulator.soap("GetVersion", "", token)


def assert_token_refused(response: requests.Response) -> None:
    refused = fault(response)
    assert refused["kind"] == "InvalidTokenExceptionInfo", refused
    assert refused["faultstring"].endswith(f"   at {VENDOR_CLASS}.GetVersion()")


def test_authenticate_puts_the_token_in_the_header_and_the_namespace_in_the_body(emulator):
    response = emulator.soap("Authenticate", f"<ns:userName>{emulator.settings.xweb_user}</ns:userName>"
                                             f"<ns:password>{emulator.settings.xweb_password}</ns:password>")

    assert result(response, "Authenticate").text == XWEB
    token = response_token(response)
    assert GUID.fullmatch(token)
    assert emulator.rows(AuthenticationToken, token=uuid.UUID(token))


@pytest.mark.parametrize("operation", ["GetDateTime", "TestConnection"])
def test_headerless_operations_need_no_token_and_answer_none(emulator, operation):
    response = emulator.soap(operation)

    assert result(response, operation).text
    assert parse(response).find("soap:Header", NS) is None


def test_absolute_expiration_echoes_the_same_token_and_keeps_its_expiry(emulator):
    token = emulator.authenticate()
    (issued,) = emulator.rows(AuthenticationToken, token=uuid.UUID(token))
    assert issued.expires_at - issued.issued_at == timedelta(minutes=emulator.settings.xweb_token_timeout_minutes)

    for response in (get_version(emulator, token),
                     emulator.soap("GetPromotionalMailingTypes", "", token),
                     emulator.soap("WEBPhoneGet", "<ns:key>ae0c81e1-4af5-43bb-95f1-221459c07a80</ns:key>", token)):
        assert response.status_code == 200, response.text
        assert response_token(response) == token

    (after,) = emulator.rows(AuthenticationToken, token=uuid.UUID(token))
    assert after.expires_at == issued.expires_at


def test_sliding_expiration_answers_a_new_token_and_retires_the_previous_one(emulator_with):
    sliding = emulator_with(xweb_token_expiration="Sliding")
    tokens = [sliding.authenticate()]
    for _ in range(3):
        response = get_version(sliding, tokens[-1])
        assert response.status_code == 200, response.text
        tokens.append(response_token(response))
    assert len(set(tokens)) == len(tokens)

    for retired in tokens[:-1]:
        assert_token_refused(get_version(sliding, retired))
    assert get_version(sliding, tokens[-1]).status_code == 200  # refusing a retired token leaves the current alone


def test_a_fault_kills_the_token_it_was_called_with(emulator):
    token = emulator.authenticate()
    assert fault(emulator.soap("GetFacadeObject", "<ns:szObjectName>NoSuchObject</ns:szObjectName>"
                                                  f"<ns:szObjectKey>{uuid.uuid4()}</ns:szObjectKey>", token))

    assert_token_refused(get_version(emulator, token))
    assert not emulator.rows(AuthenticationToken, token=uuid.UUID(token))


def test_a_call_without_the_token_header_is_refused(emulator):
    assert_token_refused(get_version(emulator, None))


def test_a_token_that_is_no_guid_is_answered_locked(emulator):
    emulator.authenticate()
    refused = fault(get_version(emulator, XWEB))  # AuthenticateResult sent back as the token, as buggy clients do

    assert refused["message"] == "Locked"
    assert refused["faultstring"].split("\n")[0] == "System.Web.Services.Protocols.SoapException: Locked"


def test_an_expired_token_is_refused(emulator):
    token = emulator.authenticate()
    with emulator.emulator.database.transaction() as session:
        session.get(AuthenticationToken, uuid.UUID(token)).expires_at = utcnow() - timedelta(seconds=1)

    assert_token_refused(get_version(emulator, token))


def test_tokens_live_in_the_database_so_every_server_accepts_them(emulator, emulator_with):
    token = emulator.authenticate()
    other = emulator_with()

    response = get_version(other, token)
    assert response.status_code == 200, response.text
    assert response_token(response) == token


# ------------------------------------------------------------------------------------------------------ 6. lock-out


def test_credentials_lock_out_after_the_configured_failures(emulator_with):
    strict = emulator_with(xweb_fail_count=3)
    for _ in range(3):
        assert fault(bad_password(strict))["kind"] == "InvalidCredentialsExceptionInfo"

    locked = fault(strict.soap("Authenticate", f"<ns:userName>{strict.settings.xweb_user}</ns:userName>"
                                               f"<ns:password>{strict.settings.xweb_password}</ns:password>"))
    assert locked["kind"] == "LockedCredentialsExceptionInfo"
    assert locked["message"] == "Credentials Locked Out"


def test_a_success_before_the_limit_resets_the_failure_count(emulator_with):
    strict = emulator_with(xweb_fail_count=3)
    for _ in range(2):
        assert fault(bad_password(strict))["kind"] == "InvalidCredentialsExceptionInfo"
    strict.authenticate()
    for _ in range(2):
        assert fault(bad_password(strict))["kind"] == "InvalidCredentialsExceptionInfo"

    assert GUID.fullmatch(strict.authenticate())


# ------------------------------------------------------------------------------------------------ 7. ASMX behaviour


def asmx_fault(response: requests.Response) -> str:
    """An ASP.NET fault: HTTP 500, soap:Client, an empty detail; answers the faultstring."""
    refused = fault(response)
    assert refused["faultcode"] == "soap:Client" and refused["kind"] is None, refused
    return refused["faultstring"]


AUTHENTICATE_BODY = "<userName>{user}</userName><password>{password}</password>"


@pytest.mark.parametrize("operation", TOKEN_FREE)
def test_must_understand_token_on_a_headerless_operation_is_a_must_understand_fault(emulator, operation):
    token = emulator.authenticate()
    body = AUTHENTICATE_BODY.format(user=emulator.settings.xweb_user,
                                    password=emulator.settings.xweb_password) if operation == "Authenticate" else ""

    response = emulator.post_soap(operation, envelope(operation, body, token_header(token, must_understand=True)))

    refused = fault(response)
    assert refused["faultcode"] == "soap:MustUnderstand"
    assert refused["faultstring"] == "SOAP header AuthorizationToken was not understood."
    assert parse(response).findtext("soap:Body/soap:Fault/faultactor", namespaces=NS) == emulator.soap_url
    # The same header without mustUnderstand is ignored.
    plain = emulator.post_soap(operation, envelope(operation, body, token_header(token)))
    assert plain.status_code == 200, plain.text


def test_must_understand_token_works_on_an_operation_that_takes_it(emulator):
    token = emulator.authenticate()

    response = emulator.post_soap("GetVersion", envelope("GetVersion", "", token_header(token, must_understand=True)))

    assert "xweb-emulator" in result(response, "GetVersion").text
    assert response_token(response) == token


def test_an_unknown_soap_action_is_not_recognised(emulator):
    token = emulator.authenticate()
    action = f"{XWEB}NoSuchMethod"

    response = emulator.post_soap("GetVersion", envelope("GetVersion", "", token_header(token)),
                                  SOAPAction=f'"{action}"')

    assert asmx_fault(response) == (
        f"System.Web.Services.Protocols.SoapException: Server did not recognize the value of HTTP Header "
        f"SOAPAction: {action}.")


def test_a_request_without_soap_action_is_refused(emulator):
    token = emulator.authenticate()

    response = post(emulator.soap_url, envelope("GetVersion", "", token_header(token)))

    assert "Unable to handle request without a valid action parameter" in asmx_fault(response)


def test_an_unquoted_soap_action_is_accepted(emulator):
    token = emulator.authenticate()

    response = post(emulator.soap_url, envelope("GetVersion", "", token_header(token)),
                    SOAPAction=f"{XWEB}GetVersion")

    assert "xweb-emulator" in result(response, "GetVersion").text


def test_the_soap_path_is_case_insensitive(emulator):
    token = emulator.authenticate()
    url = emulator.base_url + "/XWEB/SECURE/NETFORUMXML.ASMX"

    response = post(url, envelope("GetVersion", "", token_header(token)), SOAPAction=f'"{XWEB}GetVersion"')

    assert "xweb-emulator" in result(response, "GetVersion").text
    assert response_token(response) == token


def test_an_unknown_must_understand_header_is_a_must_understand_fault(emulator):
    token = emulator.authenticate()
    envelope = (f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}" xmlns:ns="{XWEB}"><soapenv:Header>'
                f"<ns:AuthorizationToken><ns:Token>{token}</ns:Token></ns:AuthorizationToken>"
                '<ns:Tracking soapenv:mustUnderstand="1">x</ns:Tracking></soapenv:Header>'
                "<soapenv:Body><ns:GetVersion/></soapenv:Body></soapenv:Envelope>")
    response = emulator.post_soap("GetVersion", envelope)
    assert response.status_code == 500, response.text
    fault_element = parse(response).find("soap:Body/soap:Fault", NS)
    assert fault_element.findtext("faultcode") == "soap:MustUnderstand"
    assert "Tracking" in fault_element.findtext("faultstring")
