"""The seed's sample requests, sent byte for byte to a fresh server: each is confirmed in the seed's shape and its
effect is visible through the control plane's state route. And a zeep client bound to the served WSDL."""

from __future__ import annotations

import pytest
import requests
import zeep
from lxml import etree

from sap_support import (
    GLOBAL,
    SERVICE_PATH,
    answer,
    fixture,
    nothing_written,
    post,
    seed,
)

CAMPAIGN_1112 = "00163e02-8b34-1ed1-bad4-6ecb99649077"  # the UUID of the seed's sample confirmation
CAMPAIGN_1114 = "00163e02-8b34-1ed1-bad4-6ecb99649114"
CAMPAIGN_2831 = "00163e02-8b2e-1ed2-9d9d-bbf8587f2831"

SAMPLES = [
    # fixture, operation, confirmation element, the campaigns confirmed (ReferenceObjectNodeSenderTechnicalID, ID, UUID)
    ("failed_delivery_status.request.xml", "MaintainFailedDeliveryStatusBundle",
     "CampaignFailedDeliveryStatusBundleMaintainConfirmation_sync", [("1000", "1112", CAMPAIGN_1112)]),
    ("failed_delivery_status_commented.request.xml", "MaintainFailedDeliveryStatusBundle",
     "CampaignFailedDeliveryStatusBundleMaintainConfirmation_sync", [("1000", "1112", CAMPAIGN_1112)]),
    ("mailing_permission.request.xml", "MaintainMailingPermissionBundle",
     "CampaignMailingPermissionBundleMaintainConfirmation_sync", [("1000", "1112", CAMPAIGN_1112)]),
    ("mailing_permission_two_campaigns.request.xml", "MaintainMailingPermissionBundle",
     "CampaignMailingPermissionBundleMaintainConfirmation_sync",
     [("1000", "1112", CAMPAIGN_1112), ("2000", "1114", CAMPAIGN_1114)]),
    ("reaction.request.xml", "MaintainReactionBundle",
     "CampaignReactionBundleMaintainConfirmation_sync", [("1000", "2831", CAMPAIGN_2831)]),
]


def state(emulator, object_name: str, **filters: str) -> list[dict]:
    response = requests.get(f"{emulator.base_url}/_emulator/state/sap/{object_name}", params=filters, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()["records"]


def outbounds_by_customer(emulator, campaign_uuid: str) -> dict[str, dict]:
    customers = {record["uuid"]: record["internal_id"] for record in state(emulator, "Customer")}
    return {customers[record["customer_uuid"]]: record
            for record in state(emulator, "CampaignOutbound", campaign_uuid=campaign_uuid)}


def _shape(element: etree._Element) -> list:
    """Element names in document order, namespaces as written (what a client's parser walks)."""
    return [(child.tag, _shape(child)) for child in element]


@pytest.mark.parametrize(("name", "operation", "confirmation", "campaigns"), SAMPLES, ids=[s[0] for s in SAMPLES])
def test_each_sample_request_is_confirmed_as_the_seed_shows(emulator, name, operation, confirmation, campaigns):
    response = post(emulator, operation, fixture(name))

    result = answer(response)
    assert result.root.tag == f"{{{GLOBAL}}}{confirmation}"
    assert result.root.prefix == "n0"
    assert [(c["ReferenceObjectNodeSenderTechnicalID"], c["ID"], c["UUID"]) for c in result.campaigns] == campaigns
    assert result.maximum_severity is None and result.items == []
    for campaign in result.campaigns:
        assert len(campaign["ChangeStateID"]) == 22 and campaign["ChangeStateID"][14] == "."
    stored = {record["id"]: record["change_state_id"] for record in state(emulator, "Campaign")}
    assert all(stored[c["ID"]] == c["ChangeStateID"] for c in result.campaigns)


def test_the_bounce_confirmation_has_the_seed_samples_element_structure(emulator):
    result = answer(post(emulator, "MaintainFailedDeliveryStatusBundle", fixture("failed_delivery_status.request.xml")))
    sample = etree.fromstring(fixture("failed_delivery_status.confirmation.xml"))

    assert result.root.tag == sample.tag
    assert _shape(result.root) == _shape(sample)


def test_the_bounce_samples_set_error_codes_indicators_and_status(emulator):
    post(emulator, "MaintainFailedDeliveryStatusBundle", fixture("failed_delivery_status.request.xml"))
    first = outbounds_by_customer(emulator, CAMPAIGN_1112)
    post(emulator, "MaintainFailedDeliveryStatusBundle", fixture("failed_delivery_status_commented.request.xml"))
    second = outbounds_by_customer(emulator, CAMPAIGN_1112)

    def effect(record):
        return (record["mail_system_error_code"], record["communication_data_usage_denied_indicator"],
                record["outbound_communication_status_code"])

    assert {customer: effect(record) for customer, record in first.items()} == {
        "A2001": ("5.1.2", True, "3"),
        "A2010": ("5.1.3", False, "3"),  # the request's indicator overrules the error code
        "A2020": ("5.1.6", False, "3"),
    }
    # The commented sample sends no indicator for A2020: its error code 5.1.6 determines it.
    assert effect(second["A2020"]) == ("5.1.6", True, "3")


def test_the_mailing_permission_samples_unsubscribe_and_subscribe(emulator):
    post(emulator, "MaintainMailingPermissionBundle", fixture("mailing_permission.request.xml"))
    post(emulator, "MaintainMailingPermissionBundle", fixture("mailing_permission_two_campaigns.request.xml"))

    customers = {record["uuid"]: record["internal_id"] for record in state(emulator, "Customer")}
    contacts = {record["uuid"]: record["internal_id"] for record in state(emulator, "ContactPerson")}
    campaigns = {record["uuid"]: record["id"] for record in state(emulator, "Campaign")}
    permissions = {
        (customers[record["customer_uuid"]], contacts[record["contact_person_uuid"]]):
            (record["mailing_permission_denied_indicator"], campaigns[record["campaign_uuid"]])
        for record in state(emulator, "MailingPermission")
    }
    assert permissions == {
        ("A2001", "CP2002"): (True, "1112"),
        ("A2010", "CP2012"): (False, "1112"),  # unsubscribed by the first sample, subscribed again by the second
        ("A2020", "CP2022"): (True, "1114"),
    }


def test_the_reaction_sample_creates_a_reaction_per_node(emulator):
    post(emulator, "MaintainReactionBundle", fixture("reaction.request.xml"))

    reactions = {record["sender_technical_id"]: record for record in state(emulator, "CampaignReaction")}
    assert sorted(reactions) == ["1011", "1012", "1013"]
    assert {key: (record["campaign_reaction_type_code"], record["creation_date_time"], record["tracking_link_uuid"])
            for key, record in reactions.items()} == {
        "1011": ("21", "2013-02-15T12:00:00.123456", "00163e02-8b2e-1ed2-9d9d-bbf8587fd733"),  # http://www.sap.com
        "1012": ("21", "2013-02-15T12:01:00.123456", "00163e02-8b2e-1ed2-9d9d-bbf8587fd734"),
        "1013": ("20", "2013-02-15T12:02:00.123456", None),
    }
    assert reactions["1011"]["customer_uuid"] == "00300571-ce9b-1ded-89de-4402ab375ec4"
    assert reactions["1011"]["contact_person_uuid"] == "00300571-ce9b-1ded-89de-389fe45c1ec4"
    assert all(record["outbound_uuid"] for record in reactions.values())
    assert all(record["campaign_uuid"] == CAMPAIGN_2831 for record in reactions.values())


def test_the_failure_sample_is_the_answer_of_a_tenant_without_account_a2001(emulator):
    """The seed shows the bounce sample failing with "Account A2001 does not exist" and "Contact person CP2002 does
    not exist": the answer of a tenant that lacks both (on the demo data, where they exist, the same request succeeds,
    as the seed's success sample shows)."""
    emulator.emulator.reset(demo_data=False)
    seed(emulator, {
        "Customer": [{"InternalID": "A2010"}, {"InternalID": "A2020"}],
        "ContactPerson": [{"InternalID": "CP2012", "CustomerInternalID": "A2010"},
                          {"InternalID": "CP2022", "CustomerInternalID": "A2020"}],
        "Campaign": [{"ID": "1112", "ExecutionTypeCode": "7", "Outbound": [
            {"CustomerInternalID": "A2010", "ContactPersonInternalID": "CP2012"},
            {"CustomerInternalID": "A2020", "ContactPersonInternalID": "CP2022"}]}],
    })
    sample = etree.fromstring(fixture("failed_delivery_status.failure.txt").replace(b" ... ", b" "))
    expected = [{child.tag: " ".join(child.text.split()) for child in item} for item in sample.iter("Item")]

    with nothing_written(emulator):
        result = answer(post(emulator, "MaintainFailedDeliveryStatusBundle",
                             fixture("failed_delivery_status.request.xml")))

    assert result.campaigns == []
    assert result.root.tag == sample.tag
    assert result.maximum_severity == sample.findtext("Log/MaximumLogItemSeverityCode") == "3"
    assert result.items == expected


def test_a_zeep_client_bound_to_the_served_wsdl_maintains_and_checks(emulator):
    session = requests.Session()
    session.auth = ("demo", "demo")
    client = zeep.Client(f"{emulator.base_url}{SERVICE_PATH}?wsdl", transport=zeep.Transport(session=session))
    campaign = {"ObjectNodeSenderTechnicalID": "1", "ID": "1112", "Outbound": [
        {"ObjectNodeSenderTechnicalID": "2", "CustomerInternalID": "A2001", "ContactPersonInternalID": "CP2002",
         "MailSystemErrorCode": "4.1.1"}]}

    with nothing_written(emulator):
        checked = client.service.CheckMaintainFailedDeliveryStatusBundle(BasicMessageHeader={}, Campaign=[campaign])
    maintained = client.service.MaintainFailedDeliveryStatusBundle(BasicMessageHeader={}, Campaign=[campaign])
    refused = client.service.MaintainReactionBundle(BasicMessageHeader={}, Campaign=[
        {"ID": "2831", "InboundBusinessTransactionDocumentReference": [
            {"ObjectNodeSenderTechnicalID": "7", "CustomerInternalID": "A9999",
             "CreationDateTime": "2024-05-01T10:00:00Z", "CampaignReactionTypeCode": "20"}]}])

    assert [(c.ReferenceObjectNodeSenderTechnicalID, c.ID._value_1, c.UUID._value_1) for c in checked.Campaign] == [
        ("1", "1112", CAMPAIGN_1112)]
    assert [(c.ID._value_1, c.UUID._value_1) for c in maintained.Campaign] == [("1112", CAMPAIGN_1112)]
    assert maintained.Log is None  # an empty <Log/>
    assert outbounds_by_customer(emulator, CAMPAIGN_1112)["A2001"]["mail_system_error_code"] == "4.1.1"
    assert refused.Campaign == []
    assert refused.Log.MaximumLogItemSeverityCode == "3"
    assert [(item.SeverityCode, item.ReferenceObjectNodeSenderTechnicalID, item.Note) for item in refused.Log.Item] == [
        ("3", "7", "Account A9999 does not exist")]
