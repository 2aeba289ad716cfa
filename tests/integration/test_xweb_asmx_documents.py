"""What ASMX serves on a GET of the service's address (issue 11 part 3): the help page that links the discovery
document, the DISCO document pointing at the WSDL and the SOAP binding, and each operation's help page with its
SOAP 1.1 request and response samples (and its HTTP GET and POST forms where it has them), generated from the
contract and the schema we serve: every operation of the vendor's, each saying whether the emulator emulates it."""

from __future__ import annotations

import html
import re

import pytest
import requests
from lxml import etree

from support import XWEB
from xweb_emulator.xweb.operations import NOT_EMULATED, OPERATIONS

EVERY_OPERATION = OPERATIONS | NOT_EMULATED
NOT_EMULATED_NOTE = "Not emulated: xweb-emulator answers it with a SystemExceptionInfo fault saying so."

DISCO = "http://schemas.xmlsoap.org/disco/"
WSDL = "http://schemas.xmlsoap.org/wsdl/"


def get(url: str) -> requests.Response:
    response = requests.get(url, timeout=30)
    assert response.status_code == 200, response.text
    return response


def test_the_service_page_links_the_discovery_document_and_every_operation(emulator):
    response = get(emulator.soap_url)

    assert response.headers["Content-Type"].startswith("text/html")
    assert f'<link rel="alternate" type="text/xml" href="{emulator.soap_url}?disco" />' in response.text
    assert f'href="{emulator.soap_url}?WSDL"' in response.text
    items = re.findall(r"<li>(.*?)</li>", response.text, re.DOTALL)
    assert [re.search(r">(\w+)</a>", item).group(1) for item in items] == sorted(EVERY_OPERATION)
    for name, item in zip(sorted(EVERY_OPERATION), items, strict=True):
        assert f'<a href="{emulator.soap_url}?op={name}">{name}</a>' in item
        assert (NOT_EMULATED_NOTE in item) == (name in NOT_EMULATED)
    assert len(items) == 262


@pytest.mark.parametrize("query", ["?disco", "?DISCO"])
def test_the_discovery_document(emulator, query):
    response = get(emulator.soap_url + query)

    assert response.headers["Content-Type"].startswith("text/xml")
    assert response.text.startswith('<?xml version="1.0" encoding="utf-8"?>')
    root = etree.fromstring(response.content)
    assert root.tag == f"{{{DISCO}}}discovery"
    contract = root.find("{http://schemas.xmlsoap.org/disco/scl/}contractRef")
    assert (contract.get("ref"), contract.get("docRef")) == (emulator.soap_url + "?wsdl", emulator.soap_url)
    (soap,) = root.findall("{http://schemas.xmlsoap.org/disco/soap/}soap")
    assert soap.get("address") == emulator.soap_url
    prefix, _, binding = soap.get("binding").partition(":")
    assert (soap.nsmap[prefix], binding) == (XWEB, "netForumXMLSoap")

    # The contract it names is the WSDL, whose SOAP binding is the one named.
    wsdl = etree.fromstring(get(contract.get("ref")).content)
    assert wsdl.find(f"{{{WSDL}}}binding[@name='{binding}']") is not None


def sample_blocks(page: str) -> list[str]:
    return [html.unescape(block) for block in re.findall(r"<pre>(.*?)</pre>", page, re.DOTALL)]


def envelope_of(block: str) -> etree._Element:
    return etree.fromstring(block[block.index("<?xml"):].encode())


@pytest.mark.parametrize("name", sorted(EVERY_OPERATION))
def test_each_operation_has_its_help_page_with_soap_samples(emulator, name):
    operation = EVERY_OPERATION[name]
    message = operation.message
    page = get(f"{emulator.soap_url}?op={name}").text

    assert f"<h2>{name}</h2>" in page
    assert (NOT_EMULATED_NOTE in page) == (not operation.emulated)
    blocks = sample_blocks(page)
    request, response = blocks[0], blocks[1]
    assert f'SOAPAction: "{XWEB}{message}"' in request
    sent, answered = envelope_of(request), envelope_of(response)
    ns = {"soap": "http://schemas.xmlsoap.org/soap/envelope/", "x": XWEB}
    (body,) = sent.find("soap:Body", ns)
    assert etree.QName(body).localname == message and etree.QName(body).namespace == XWEB
    # A flat array's element shown twice, as any repeated element.
    assert [etree.QName(child).localname for child in body] == [
        parameter.name for parameter in operation.contract.parameters for _ in range(2 if parameter.flat else 1)]
    (result,) = answered.find("soap:Body", ns)
    assert etree.QName(result).localname == f"{message}Response"
    if operation.returns != "void":
        assert [etree.QName(child).localname for child in result] == [operation.contract.result_element]
    assert (sent.find("soap:Header/x:AuthorizationToken", ns) is not None) == operation.takes_token
    assert (answered.find("soap:Header/x:AuthorizationToken", ns) is not None) == operation.contract.token_out
    assert ("<h3>HTTP GET</h3>" in page) == ("<h3>HTTP POST</h3>" in page) == operation.http_bindings
    if operation.http_bindings:
        assert f"GET /xWeb/secure/netForumXML.asmx/{name}" in page


def test_an_unknown_operation_gets_the_service_page(emulator):
    assert '<link rel="alternate"' in get(f"{emulator.soap_url}?op=NoSuchThing").text


def test_get_query_and_get_query_definition_pages_show_their_http_forms_and_the_typed_object(emulator):
    """GetQuery's four query-string parameters; GetQueryDefinition's typed Object drawn down to its columns, in the
    SOAP response and as the HTTP result document (the WSDL's Object element)."""
    page = get(f"{emulator.soap_url}?op=GetQuery").text
    assert ("GET /xWeb/secure/netForumXML.asmx/GetQuery?szObjectName=string&amp;szColumnList=string&amp;"
            "szWhereClause=string&amp;szOrderBy=string HTTP/1.1") in page
    assert "Provides a means of retrieving single or multiple data records" in page

    blocks = sample_blocks(get(f"{emulator.soap_url}?op=GetQueryDefinition").text)
    ns = {"soap": "http://schemas.xmlsoap.org/soap/envelope/", "x": XWEB}
    soap_result = envelope_of(blocks[1]).find("soap:Body/x:GetQueryDefinitionResponse/x:GetQueryDefinitionResult", ns)
    http_result = envelope_of(blocks[3])
    assert http_result.tag == f"{{{XWEB}}}Object"
    for result in (soap_result, http_result):
        assert [etree.QName(child).localname for child in result] == [
            "obj_key", "obj_name", "obj_description", "ListTable"]
        column = result.find("x:ListTable/x:ListFromTables/x:ListFromTable/x:Columns/x:Column", ns)
        assert [etree.QName(child).localname for child in column] == [
            "mdc_name", "mdc_description", "mdc_data_type", "mdc_ext", "mdc_nullable", "mdc_table_name",
            "mdc_width_max"]
