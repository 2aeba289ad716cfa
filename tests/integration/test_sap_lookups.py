"""A bundle's addressees are found in one of two ways. A campaign that holds not many more outbounds than the bundle
names is read whole, with the outbounds' accounts and contact persons, and a node that names its addressee by
internal IDs is found among them at once; the accounts and contact persons of a larger campaign's nodes are read by
the identifiers the request names. Both answer alike: the same nodes sent to a small campaign and to a large one with
the same outbounds (and a hundred and fifty more) get the same Log, node for node, and record the same bounces on the
same addressees' outbounds.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from sap_support import BOUNCE, PERMISSION, call, campaign, node, one, rows, seed
from xweb_emulator.sap.models import Campaign, CampaignOutbound, ContactPerson, Customer

SMALL, LARGE = "6100", "6200"
ACCOUNTS = [f"K{n}" for n in range(4)]
UUIDS = {account: f"00163E02-8B34-1ED1-BAD4-6ECB9966{n:04d}" for n, account in enumerate([*ACCOUNTS, "KZ"])}
CONTACTS = {f"CK{n}": account for n, account in enumerate([*ACCOUNTS, "KZ"])}  # one contact person each
# The campaigns' outbounds: some to an account alone, some to its contact person; none to KZ, whose records exist.
OUTBOUNDS = [("K0", None), ("K0", "CK0"), ("K1", "CK1"), ("K2", None), ("K3", "CK3")]
FILLERS = [f"F{n:03d}" for n in range(150)]

customers = st.sampled_from([None, *ACCOUNTS, "KZ", "K9"])
contacts = st.sampled_from([None, *CONTACTS, "CK9"])
uuids = st.sampled_from([None, None, *UUIDS.values(), "00163E02-0000-0000-0000-000000000000"])


@st.composite
def outbound_nodes(draw, reference: int) -> str:
    return node("Outbound", {"actionCode": draw(st.sampled_from(["02", "01"]))} if draw(st.booleans()) else None,
                ObjectNodeSenderTechnicalID=str(reference), CustomerUUID=draw(uuids),
                CustomerInternalID=draw(customers), ContactPersonUUID=draw(uuids),
                ContactPersonInternalID=draw(contacts),
                MailSystemErrorCode=draw(st.sampled_from([None, "5.1.1", "4.2.2", "5.x"])),
                MailingPermissionDeniedIndicator=draw(st.sampled_from([None, "true", "false"])))


bundles = st.integers(1, 8).flatmap(lambda count: st.tuples(*(outbound_nodes(n) for n in range(count))))


@pytest.fixture
def campaigns(emulator):
    seed(emulator, {
        "Customer": [{"InternalID": account, "UUID": uuid} for account, uuid in UUIDS.items()]
        + [{"InternalID": filler} for filler in FILLERS],
        "ContactPerson": [{"InternalID": contact, "CustomerInternalID": account}
                          for contact, account in CONTACTS.items()],
        "Campaign": [{"ID": campaign_id, "ExecutionTypeCode": "7", "Outbound": [
            {"CustomerInternalID": account} | ({"ContactPersonInternalID": contact} if contact else {})
            for account, contact in OUTBOUNDS] + [{"CustomerInternalID": filler} for filler in fillers]}
            for campaign_id, fillers in ((SMALL, []), (LARGE, FILLERS))],
    })
    return emulator


def bounces(emulator, campaign_id: str) -> dict[tuple[str, str | None], tuple]:
    """What the campaign's outbounds to OUTBOUNDS' addressees hold of a bounce."""
    names = {record.uuid: record.internal_id for model in (Customer, ContactPerson) for record in rows(emulator, model)}
    return {(names[outbound.customer_uuid], names.get(outbound.contact_person_uuid)): (
        outbound.mail_system_error_code, outbound.communication_data_usage_denied_indicator,
        outbound.outbound_communication_status_code)
        for outbound in rows(emulator, CampaignOutbound, campaign_uuid=one(emulator, Campaign, id=campaign_id).uuid)
        if names[outbound.customer_uuid] in ACCOUNTS}


@pytest.mark.parametrize("operation", [BOUNCE, f"Check{PERMISSION}"])
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(nodes=bundles)
@example(nodes=(node("Outbound", None, ObjectNodeSenderTechnicalID="0", CustomerInternalID="K0",
                     ContactPersonInternalID="CK0", MailSystemErrorCode="5.1.1",
                     MailingPermissionDeniedIndicator="true"),))
def test_a_small_and_a_large_campaign_find_the_same_addressees(campaigns, operation, nodes):
    # The bounces' codes differ from one example to the next; a Check operation writes nothing.
    small, large = (call(campaigns, operation, campaign(*nodes, ID=campaign_id)) for campaign_id in (SMALL, LARGE))

    assert [note[:2] for note in large.notes] == [note[:2] for note in small.notes]
    assert [note.replace(LARGE, "") for _, _, note in large.notes] == [
        note.replace(SMALL, "") for _, _, note in small.notes]
    assert [c["ID"] for c in small.campaigns] == ([SMALL] if not small.items else [])
    assert [c["ID"] for c in large.campaigns] == ([LARGE] if not large.items else [])
    if operation == BOUNCE:
        assert bounces(campaigns, LARGE) == bounces(campaigns, SMALL)
