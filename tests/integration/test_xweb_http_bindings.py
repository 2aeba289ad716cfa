"""xWeb's HTTP GET and HTTP POST bindings (issue 11 part 4), as ASMX serves them beside SOAP for the operations whose
parameters a query string carries: /xWeb/secure/netForumXML.asmx/<Operation>?name=value, or the same as a form
POST; the answer is the bare result document. They carry no SOAP header, so no token: Authenticate answers the
namespace and its token is lost, and an operation that takes a token fails as a call without one does (NOTES.md §6:
"Authenticate will not work in a web browser"). Errors are ASMX's for these bindings: HTTP 500, the exception as
plain text."""

from __future__ import annotations

from datetime import datetime

import pytest
import requests
from lxml import etree

from support import SAMPLE_CUSTOMER, XWEB
from xweb_emulator.xweb.facade import FACADE_OBJECTS, query_definition
from xweb_emulator.xweb.http_bindings import result_document
from xweb_emulator.xweb.operations import OPERATIONS
from xweb_emulator.xweb.wsdl import DEFAULT_ADDRESS, served_wsdl

DECLARATION = '<?xml version="1.0" encoding="utf-8"?>\r\n'


def url(emulator, operation: str) -> str:
    return f"{emulator.soap_url}/{operation}"


def call(emulator, verb: str, operation: str, **params: str) -> requests.Response:
    if verb == "GET":
        return requests.get(url(emulator, operation), params=params, timeout=30)
    return requests.post(url(emulator, operation), data=params, timeout=30)


@pytest.mark.parametrize("verb", ["GET", "POST"])
def test_test_connection_answers_a_string_document(emulator, verb):
    response = call(emulator, verb, "TestConnection")

    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert response.text == (DECLARATION + f'<string xmlns="{XWEB}">Connection to the database succeeded.</string>')
    (entry,) = emulator.journal(operation="TestConnection")
    assert (entry["outcome"], entry["status"]) == ("ok", 200)


@pytest.mark.parametrize("verb", ["GET", "POST"])
def test_get_date_time_answers_a_date_time_document(emulator, verb):
    response = call(emulator, verb, "GetDateTime")

    assert response.status_code == 200, response.text
    root = etree.fromstring(response.content)
    assert root.tag == f"{{{XWEB}}}dateTime"
    assert datetime.fromisoformat(root.text).tzinfo is not None


@pytest.mark.parametrize("verb", ["GET", "POST"])
def test_authenticate_answers_the_namespace_and_the_token_is_lost(emulator, verb):
    """The token travels in a SOAP header these bindings do not have."""
    settings = emulator.settings
    response = call(emulator, verb, "Authenticate", userName=settings.xweb_user, password=settings.xweb_password)

    assert response.status_code == 200, response.text
    assert response.text == DECLARATION + f'<string xmlns="{XWEB}">{XWEB}</string>'
    assert "Token" not in response.text and "WWW-Authenticate" not in response.headers
    (entry,) = emulator.journal(operation="Authenticate")
    assert (entry["outcome"], entry["user"]) == ("ok", settings.xweb_user)


def test_authenticate_with_wrong_credentials_is_the_vendors_exception_as_text(emulator):
    response = call(emulator, "GET", "Authenticate", userName=emulator.settings.xweb_user, password="wrong")

    assert response.status_code == 500
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert response.text == (
        "System.Web.Services.Protocols.SoapException: Invalid Credentials Supplied\r\n"
        "   at Avectra.netForum.xWeb.xWebSecure.netForumXMLSecure.Authenticate(String userName, String password)\r\n")


@pytest.mark.parametrize("verb", ["GET", "POST"])
@pytest.mark.parametrize("operation, params", [
    ("GetVersion", {}),
    ("GetFacadeObject", {"szObjectName": "Customer", "szObjectKey": "2a50c454-eac0-4768-9a85-0c97968be7fd"}),
    ("GetPromotionalMailingTypes", {}),
    ("GetQuery", {"szObjectName": "Individual", "szColumnList": "ind_last_name",
                  "szWhereClause": f"ind_cst_key = '{SAMPLE_CUSTOMER}'", "szOrderBy": ""}),
    ("GetQueryDefinition", {"szObjectName": "Individual"}),
    ("GetFacadeObjectList", {}),
    ("GetIndividualInformation", {"IndividualKey": SAMPLE_CUSTOMER}),
])
def test_an_operation_that_takes_a_token_fails_without_one(emulator, verb, operation, params):
    with emulator.nothing_written():
        response = call(emulator, verb, operation, **params)

    assert response.status_code == 500
    assert response.text.startswith("System.Web.Services.Protocols.SoapException: Failed to validate the "
                                    "authentication token: no token was supplied.\r\n   at Avectra.netForum.xWeb."
                                    f"xWebSecure.netForumXMLSecure.{operation}(")
    (entry,) = emulator.journal(operation=operation)
    assert (entry["outcome"], entry["status"]) == ("InvalidTokenExceptionInfo", 500)


def test_a_missing_parameter(emulator):
    response = call(emulator, "GET", "Authenticate", userName="someone")

    assert response.status_code == 500
    assert response.text.startswith("System.InvalidOperationException: Missing parameter: password.\r\n")


def test_parameter_and_method_names_in_any_case(emulator):
    settings = emulator.settings
    response = call(emulator, "GET", "authenticate", USERNAME=settings.xweb_user, Password=settings.xweb_password)

    assert response.status_code == 200, response.text


def test_an_unknown_method(emulator):
    response = call(emulator, "GET", "NoSuchMethod")

    assert response.status_code == 500
    assert response.text.startswith("System.InvalidOperationException: NoSuchMethod Web Service method name is not "
                                    "valid.\r\n")


@pytest.mark.parametrize("operation", ["InsertFacadeObject", "UpdateFacadeObject", "WEBPhoneGet",
                                       "SetCustomerCommunicationPreferences"])
def test_operations_without_http_bindings_are_refused(emulator, operation):
    """Only operations whose parameters a query string carries are bound (WEBPhoneGet's Guid is not, as in the
    vendor's WSDL)."""
    response = call(emulator, "GET", operation, key="x")

    assert response.status_code == 500
    assert response.text.startswith("System.InvalidOperationException: Request format is unrecognized for URL "
                                    f"unexpectedly ending in '/{operation}'.\r\n")


def test_a_post_that_is_not_a_form_is_refused(emulator):
    response = requests.post(url(emulator, "TestConnection"), data="{}", timeout=30,
                             headers={"Content-Type": "application/json"})

    assert response.status_code == 500
    assert "Request format is unrecognized" in response.text


def test_zeep_calls_the_http_get_port(emulator):
    zeep = pytest.importorskip("zeep")
    client = zeep.Client(emulator.wsdl_url)
    service = client.bind("netForumXML", "netForumXMLHttpGet")

    assert service.TestConnection() == "Connection to the database succeeded."


# ------------------------------------------------------------------- the result documents no token-free call answers


def test_an_xml_node_result_is_the_node_itself():
    document = result_document(OPERATIONS["GetFacadeObject"], {"CustomerObjects": {
        "@xsi:schemaLocation": f"{XWEB} Customer.xsd", "@recordReturn": "1",
        "CustomerObject": [{"cst_key": "k", "cst_id": None}]}})

    assert document.decode().startswith(DECLARATION + f'<CustomerObjects xmlns="{XWEB}" xmlns:xsi=')
    root = etree.fromstring(document)
    assert root.get("recordReturn") == "1"
    assert [(etree.QName(child).localname, child.text) for child in root[0]] == [("cst_key", "k"), ("cst_id", None)]
    assert b"<cst_id />" in document


def test_a_typed_result_is_its_types_element():
    document = result_document(OPERATIONS["GetPromotionalMailingTypes"], [
        {"primary_key": "k", "name": "News", "category": None}])

    root = etree.fromstring(document)
    assert root.tag == f"{{{XWEB}}}ArrayOfMailingList"
    assert [etree.QName(child).localname for child in root[0]] == ["primary_key", "name"]


def test_get_query_definitions_object_is_the_element_the_wsdl_declares_for_it(tmp_path):
    """GetQueryDefinition's answer over HTTP GET and POST: its typed Object as the WSDL's tns:Object, which zeep reads
    down to the columns."""
    zeep = pytest.importorskip("zeep")
    document = result_document(OPERATIONS["GetQueryDefinition"], query_definition(FACADE_OBJECTS["individual"]))

    root = etree.fromstring(document)
    assert root.tag == f"{{{XWEB}}}Object"
    wsdl = tmp_path / "netForumXML.wsdl"
    wsdl.write_bytes(served_wsdl(DEFAULT_ADDRESS))
    client = zeep.Client(str(wsdl))
    read = client.get_element(f"{{{XWEB}}}Object").parse(root, client.wsdl.types)
    assert (read.obj_name, read.ListTable.lst_mdt_name) == ("Individual", "co_individual")
    columns = {column.mdc_name: column.mdc_table_name
               for table in read.ListTable.ListFromTables.ListFromTable for column in table.Columns.Column}
    assert (columns["ind_last_name"], columns["eml_address"]) == ("co_individual", "co_email")
