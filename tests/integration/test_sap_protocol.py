"""The endpoint as a SOAP client meets it: Basic authentication, the WSDL, SOAP 1.1 and 1.2, dispatch, SOAP faults
for what cannot be read, the injected fault kinds, and the request journal's record of each call."""

from __future__ import annotations

import re

import pytest
import requests
import zeep
from lxml import etree

from sap_support import (
    GLOBAL,
    REQUEST_ELEMENTS,
    SERVICE_PATH,
    SOAP12,
    answer,
    envelope,
    fixture,
    message,
    nothing_written,
    post,
    service_url,
    soap_action,
    soap_fault,
)

BOUNCE = "MaintainFailedDeliveryStatusBundle"
SAMPLE = "failed_delivery_status.request.xml"
FAULT_SUFFIX = r"\(UTC timestamp \d{14}; Transaction ID [0-9A-F]{32}\)$"


def journal(emulator) -> list[dict]:
    response = requests.get(f"{emulator.base_url}/_emulator/requests", params={"vendor": "sap"}, timeout=30)
    return response.json()["requests"]


# ---------------------------------------------------------------------------------------------- authentication


@pytest.mark.parametrize("auth", [None, ("demo", "wrong"), ("someone", "demo")], ids=["none", "password", "user"])
def test_missing_or_wrong_credentials_get_401_and_nothing_is_processed(emulator, auth):
    with nothing_written(emulator):
        response = post(emulator, BOUNCE, fixture(SAMPLE), auth=auth)

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Basic realm=")
    (entry,) = journal(emulator)
    assert (entry["outcome"], entry["operation"], entry["user"]) == ("Unauthorized", BOUNCE, auth and auth[0])


def test_the_communication_user_is_configurable(emulator_with):
    emulator = emulator_with(sap_user="COMM_USER", sap_password="s3cret")

    assert post(emulator, BOUNCE, fixture(SAMPLE)).status_code == 401
    assert answer(post(emulator, BOUNCE, fixture(SAMPLE), auth=("COMM_USER", "s3cret"))).campaigns
    assert any("COMM_USER / s3cret" in line for line in emulator.emulator.describe(emulator.base_url))


def test_calls_are_journaled_with_operation_user_and_outcome(emulator):
    post(emulator, BOUNCE, fixture(SAMPLE))
    post(emulator, None, message("CheckMaintainReactionBundle", "<Campaign><ID>9999</ID></Campaign>"))

    assert [(entry["operation"], entry["user"], entry["outcome"], entry["status"]) for entry in journal(emulator)] == [
        (BOUNCE, "demo", "ok", 200),
        ("CheckMaintainReactionBundle", "demo", "BusinessError", 200),
    ]


# ----------------------------------------------------------------------------------------------------- the WSDL


def test_the_wsdl_is_served_with_the_requests_address_and_both_bindings(emulator):
    url = f"{service_url(emulator)}?sap-vhost=my000001.sapbydesign.com&wsdl"
    document = etree.fromstring(requests.get(url, timeout=30).content)
    client = zeep.Client(url)

    addresses = {element.get("location") for element in document.iter(
        "{http://schemas.xmlsoap.org/wsdl/soap/}address", "{http://schemas.xmlsoap.org/wsdl/soap12/}address")}
    assert addresses == {f"{service_url(emulator)}?sap-vhost=my000001.sapbydesign.com"}
    operations = sorted(REQUEST_ELEMENTS)
    for port in ("binding", "binding_SOAP12"):
        binding = client.wsdl.services["service"].ports[port].binding
        assert sorted(binding._operations) == operations
        for name in operations:
            assert binding._operations[name].soapaction == soap_action(name)
            assert binding._operations[name].input.body.qname == etree.QName(GLOBAL, REQUEST_ELEMENTS[name])


def test_a_get_without_wsdl_is_refused(emulator):
    response = requests.get(service_url(emulator), timeout=30)

    assert response.status_code == 405 and "?wsdl" in response.text


# --------------------------------------------------------------------------------------- addressing and dispatch


def test_the_path_takes_sap_vhost_and_any_case(emulator):
    url = f"{emulator.base_url}{SERVICE_PATH.upper()}?sap-vhost=my000001.sapbydesign.com"
    response = requests.post(url, data=envelope(fixture(SAMPLE)), auth=("demo", "demo"),
                             headers={"Content-Type": "text/xml; charset=utf-8"}, timeout=30)

    assert [c["ID"] for c in answer(response).campaigns] == ["1112"]


def test_the_body_decides_the_operation_over_the_soap_action(emulator):
    """SAP dispatches on the body: a Maintain message sent with a Check SOAPAction is maintained."""
    response = post(emulator, f"Check{BOUNCE}", fixture(SAMPLE))

    assert answer(response).root.tag == f"{{{GLOBAL}}}CampaignFailedDeliveryStatusBundleMaintainConfirmation_sync"
    assert journal(emulator)[0]["operation"] == BOUNCE


@pytest.mark.parametrize(("root", "action", "operation"), [
    ("CampaignReactionBundleCheckMaintainQuery_sync", None, "CheckMaintainReactionBundle"),
    ("SomethingElse", "CheckMaintainReactionBundle", "CheckMaintainReactionBundle"),
], ids=["Check root named otherwise", "unknown root, SOAPAction"])
def test_other_root_names_are_dispatched_by_name_or_soap_action(emulator, root, action, operation):
    campaigns = ("<Campaign><ID>2831</ID><InboundBusinessTransactionDocumentReference><CustomerInternalID>MC9785"
                 "</CustomerInternalID><CreationDateTime>2024-05-01T10:00:00Z</CreationDateTime>"
                 "<CampaignReactionTypeCode>20</CampaignReactionTypeCode></InboundBusinessTransactionDocumentReference>"
                 "</Campaign>")
    with nothing_written(emulator):
        result = answer(post(emulator, action, message(operation, campaigns, root=root)))

    assert result.root.tag == f"{{{GLOBAL}}}CampaignReactionRequestBundleCheckMaintainResponse_sync"
    assert [c["ID"] for c in result.campaigns] == ["2831"]


def test_soap_12_is_answered_in_soap_12(emulator):
    body = (f'<env:Envelope xmlns:env="{SOAP12}"><env:Header/><env:Body>').encode() + fixture(SAMPLE) + \
        b"</env:Body></env:Envelope>"
    content_type = f'application/soap+xml; charset=utf-8; action="{soap_action(BOUNCE)}"'
    response = requests.post(service_url(emulator), data=body, auth=("demo", "demo"),
                             headers={"Content-Type": content_type}, timeout=30)
    malformed = requests.post(service_url(emulator), data=body.replace(b"<ID>1112</ID>", b"<ID>1112</ID>"
                                                                       b"<Outbound><CommunicationDataUsageDenied"
                                                                       b"Indicator>maybe</CommunicationDataUsage"
                                                                       b"DeniedIndicator></Outbound>"),
                              auth=("demo", "demo"), headers={"Content-Type": content_type}, timeout=30)

    assert response.status_code == 200 and response.headers["Content-Type"].startswith("application/soap+xml")
    document = etree.fromstring(response.content)
    assert document.tag == f"{{{SOAP12}}}Envelope" and document.prefix == "soap-env"
    (confirmation,) = document.find(f"{{{SOAP12}}}Body")
    assert confirmation.findtext("Campaign/ID") == "1112"
    assert malformed.status_code == 500
    fault = etree.fromstring(malformed.content).find(f"{{{SOAP12}}}Body/{{{SOAP12}}}Fault")
    assert fault.findtext(f"{{{SOAP12}}}Code/{{{SOAP12}}}Value") == "soap-env:Sender"
    assert "is not an Indicator" in fault.findtext(f"{{{SOAP12}}}Reason/{{{SOAP12}}}Text")


# ------------------------------------------------------------------------------------------------------ faults


@pytest.mark.parametrize(("body", "reason"), [
    (b"<soapenv:Envelope", "could not be read"),
    (envelope(b"<Campaign/>"), "No operation of ManageCampaignInboundIn takes the message"),
    (envelope(message(BOUNCE, "<Campaign><ID>1112</ID><Outbound><CustomerInternalID>A2001</CustomerInternalID>"
                              "<MailSystemErrorCode>5.1.1</MailSystemErrorCode><FailedDeliveryStatusDateTime>"
                              "yesterday</FailedDeliveryStatusDateTime></Outbound></Campaign>")),
     "Value 'yesterday' of FailedDeliveryStatusDateTime is not a date-time"),
    (envelope(message("MaintainReactionBundle", "<Campaign><ID>2831</ID><InboundBusinessTransactionDocumentReference>"
                                                "<CustomerUUID>not-a-uuid</CustomerUUID>"
                                                "</InboundBusinessTransactionDocumentReference></Campaign>")),
     "Value 'not-a-uuid' of CustomerUUID is not a UUID"),
    (envelope(message(BOUNCE, "<Campaign>1112</Campaign>")), "Campaign must be an element with child elements"),
], ids=["not XML", "unknown message", "date-time", "UUID", "text for a node"])
def test_requests_that_cannot_be_read_get_a_client_fault_and_change_nothing(emulator, body, reason):
    with nothing_written(emulator):
        response = requests.post(service_url(emulator), data=body, auth=("demo", "demo"),
                                 headers={"Content-Type": "text/xml; charset=utf-8"}, timeout=30)

    fault = soap_fault(response)
    assert fault["faultcode"] == "soap-env:Client"
    assert reason in fault["faultstring"]
    assert fault["lang"] == "en"
    assert fault["detail"] is None  # empty
    assert journal(emulator)[0]["outcome"] == "SOAPFault"


def test_an_injected_soap_fault_is_the_runtimes_processing_error_and_writes_nothing(emulator):
    rule = {"vendor": "sap", "action": "fault", "fault_kind": "SOAPFault", "count": 1}
    assert requests.post(f"{emulator.base_url}/_emulator/faults", json=rule, timeout=30).status_code == 201

    with nothing_written(emulator):
        fault = soap_fault(post(emulator, BOUNCE, fixture(SAMPLE)))
    after = post(emulator, BOUNCE, fixture(SAMPLE))

    assert fault["faultcode"] == "soap-env:Server"
    assert fault["faultstring"].startswith("Web service processing error; more details in the Web service error log "
                                           "on provider side (UTC timestamp ")
    assert re.search(FAULT_SUFFIX, fault["faultstring"])
    assert answer(after).campaigns  # the rule fired once
    assert [entry["outcome"] for entry in journal(emulator)] == ["SOAPFault", "ok"]


def test_an_injected_error_log_confirms_no_campaign_and_writes_nothing(emulator):
    rule = {"vendor": "sap", "operation": BOUNCE, "action": "fault", "fault_kind": "ErrorLog"}
    assert requests.post(f"{emulator.base_url}/_emulator/faults", json=rule, timeout=30).status_code == 201

    with nothing_written(emulator):
        result = answer(post(emulator, BOUNCE, fixture(SAMPLE)))
    other_operation = answer(post(emulator, "MaintainReactionBundle", fixture("reaction.request.xml")))

    assert result.campaigns == [] and result.maximum_severity == "3"
    assert result.notes == [("3", None, "Processing error (injected by xweb-emulator); nothing was changed")]
    assert other_operation.campaigns and other_operation.items == []
    assert [entry["outcome"] for entry in journal(emulator)] == ["BusinessError", "ok"]
