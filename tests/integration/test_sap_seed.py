"""Loading SAP records: the demo data of a fresh start, and seeds through the control plane (the `seed` command's
path), all or nothing."""

from __future__ import annotations

import uuid

import pytest
import requests

from sap_support import call, nothing_written, one, rows, stored
from xweb_emulator.sap.models import Campaign, CampaignOutbound, ContactPerson, Customer, TrackingLink
from xweb_emulator.sap.seed import DEMO_DATA


def post_seed(emulator, section) -> requests.Response:
    return requests.post(f"{emulator.base_url}/_emulator/seed", json={"sap": section}, timeout=30)


def test_a_fresh_start_has_the_demo_records(emulator):
    assert sorted(c.internal_id for c in rows(emulator, Customer)) == sorted(
        record["InternalID"] for record in DEMO_DATA["Customer"])
    assert sorted(c.id for c in rows(emulator, Campaign)) == ["1112", "1114", "2831"]
    assert len(rows(emulator, CampaignOutbound)) == 7
    assert {str(link.uuid).upper(): link.web_uri for link in rows(emulator, TrackingLink)} == {
        "00163E02-8B2E-1ED2-9D9D-BBF8587FD733": "http://www.sap.com",
        "00163E02-8B2E-1ED2-9D9D-BBF8587FD734": "http://www.sap.com/campaign-offer",
    }


def test_a_seed_adds_records_that_calls_then_find(emulator):
    response = post_seed(emulator, {
        "Customer": [{"InternalID": "S1", "Name": "Seeded Ltd", "Email": "info@seeded.example"}],
        "ContactPerson": [{"InternalID": "SCP1", "CustomerInternalID": "S1"}],
        "Campaign": [{"ID": 5000, "ReferenceID": "EXT-5000", "ExecutionTypeCode": "7",
                      "TrackingLink": [{"WebURI": "https://example.org/offer"}],
                      "Outbound": [{"CustomerInternalID": "S1", "ContactPersonInternalID": "SCP1"}]}],
    })
    assert response.status_code == 200, response.text
    created = response.json()["created"]["sap"]

    result = call(emulator, "MaintainFailedDeliveryStatusBundle",
                  "<Campaign><ReferenceID>EXT-5000</ReferenceID><Outbound><CustomerInternalID>S1</CustomerInternalID>"
                  "<ContactPersonInternalID>SCP1</ContactPersonInternalID><MailSystemErrorCode>5.1.1"
                  "</MailSystemErrorCode></Outbound></Campaign>")

    assert sorted(created) == ["Campaign", "CampaignOutbound", "ContactPerson", "Customer", "TrackingLink"]
    assert [c["UUID"] for c in result.campaigns] == created["Campaign"]
    outbound = one(emulator, CampaignOutbound, uuid=uuid.UUID(created["CampaignOutbound"][0]))
    assert (outbound.mail_system_error_code, outbound.communication_data_usage_denied_indicator) == ("5.1.1", True)
    assert one(emulator, ContactPerson, internal_id="SCP1").customer_uuid == one(
        emulator, Customer, internal_id="S1").uuid


@pytest.mark.parametrize(("section", "error"), [
    ({"Customer": [{"InternalID": "S1"}], "Account": []}, "unknown object 'Account'"),
    ({"Customer": [{"InternalID": "S1", "Phone": "1"}]}, "Customer has no field 'Phone'"),
    ({"Customer": [{"InternalID": "S1"}, {"InternalID": "A2001"}]}, "a stored record has the same UUID or ID"),
    ({"Customer": [{"InternalID": "S1"}], "ContactPerson": [{"InternalID": "SCP1", "CustomerInternalID": "S2"}]},
     "ContactPerson SCP1: Account S2 does not exist"),
    ({"Campaign": [{"ID": "5000", "Outbound": [{"CustomerInternalID": "A2001"}, {"CustomerInternalID": "A2001"}]}]},
     "Campaign 5000 has two outbounds for account A2001"),
    ({"Campaign": [{"ID": "5000", "UUID": "not-a-uuid"}]}, "Value 'not-a-uuid' of UUID is not a UUID"),
    ({"Campaign": [{"ReferenceID": "EXT"}]}, "Campaign: ID is required"),
], ids=["unknown object", "unknown field", "duplicate", "unknown account", "duplicate outbound", "bad UUID",
        "no ID"])
def test_a_seed_that_cannot_be_stored_stores_nothing(emulator, section, error):
    with nothing_written(emulator):
        response = post_seed(emulator, section)

    assert response.status_code == 400
    assert error in response.json()["error"]


def test_the_demo_data_is_loaded_only_into_an_empty_database(emulator):
    before = stored(emulator)
    emulator.emulator.prepare()

    assert stored(emulator) == before
