"""Every rule of ManageCampaignInboundIn, each made to fire: the Log item a client gets (severity, reference, note)
and what is, or is not, stored. A Campaign node with an error item is left unchanged and not confirmed."""

from __future__ import annotations

import pytest

from sap_support import (
    BOUNCE,
    PERMISSION,
    REACTION,
    REQUEST_ELEMENTS,
    answer,
    call,
    campaign,
    fixture,
    node,
    nothing_written,
    one,
    outbound,
    post,
    reaction,
    rows,
    seed,
    stored,
    tracking,
)
from xweb_emulator.sap.models import Campaign, CampaignOutbound, CampaignReaction, Customer, MailingPermission

LINK_733, LINK_734 = "00163E02-8B2E-1ED2-9D9D-BBF8587FD733", "00163E02-8B2E-1ED2-9D9D-BBF8587FD734"


def refused(emulator, operation: str, campaigns: str) -> list[tuple]:
    """Call, asserting that nothing is confirmed nor written; the Log items' (severity, reference, note)."""
    with nothing_written(emulator):
        result = call(emulator, operation, campaigns)
    assert result.campaigns == []
    assert result.maximum_severity == "3"
    assert all(item["CategoryCode"] == "SEI.SCV" and item["TypeID"].endswith("(/CM_A2X_MNG_CMPG_OUTB/)")
               for item in result.items)
    return result.notes


def bounce_of(emulator, campaign_id: str, customer: str) -> CampaignOutbound:
    campaign_uuid = one(emulator, Campaign, id=campaign_id).uuid
    return one(emulator, CampaignOutbound, campaign_uuid=campaign_uuid,
               customer_uuid=one(emulator, Customer, internal_id=customer).uuid)


# ------------------------------------------------------------------------------------------------- the campaign


def test_a_campaign_is_found_by_its_reference_id(emulator):
    result = call(emulator, BOUNCE, campaign(outbound(MailSystemErrorCode="5.1.1"), ReferenceID="EXT-1112"))

    assert [(c["ID"], c["ReferenceObjectNodeSenderTechnicalID"]) for c in result.campaigns] == [("1112", "1000")]
    assert bounce_of(emulator, "1112", "A2001").mail_system_error_code == "5.1.1"


@pytest.mark.parametrize(("identifiers", "note"), [
    ({"ID": "9999"}, "Campaign 9999 does not exist"),
    ({"ReferenceID": "EXT-9999"}, "Campaign EXT-9999 does not exist"),
    ({"ID": None}, "Specify the campaign by ID or ReferenceID"),
    ({"ID": "1112", "ReferenceID": "EXT-1114"},
     "Campaign ID 1112 and reference ID EXT-1114 denote different campaigns"),
], ids=["unknown ID", "unknown ReferenceID", "neither", "ID and ReferenceID disagree"])
def test_a_campaign_must_be_named_by_id_or_reference_id_and_exist(emulator, identifiers, note):
    assert refused(emulator, BOUNCE, campaign(outbound(MailSystemErrorCode="5.1.1"), **identifiers)) == [
        ("3", "1000", note)]


@pytest.mark.parametrize(("operation", "campaigns", "note"), [
    (BOUNCE, campaign(outbound(MailSystemErrorCode="5.1.1"), attributes={"actionCode": "04"}),
     ("1000", "Action code 04 is not allowed for node Campaign; only 06 (No Action) is supported")),
    # The seed's own example: an Outbound with actionCode 01 (Create) is answered with an error.
    (BOUNCE, campaign(outbound(attributes={"actionCode": "01"}, MailSystemErrorCode="5.1.6")),
     ("1001", "Action code 01 is not allowed for node Outbound; only 02 (Update) is supported")),
    (PERMISSION, campaign(outbound(attributes={"actionCode": "04"}, MailingPermissionDeniedIndicator="true")),
     ("1001", "Action code 04 is not allowed for node Outbound; only 02 (Update) is supported")),
    (REACTION, campaign(reaction(attributes={"actionCode": "02"}), ID="2831"),
     ("1011", "Action code 02 is not allowed for node InboundBusinessTransactionDocumentReference; "
              "only 01 (Create) is supported")),
], ids=["campaign 04", "outbound 01", "permission outbound 04", "reaction 02"])
def test_only_the_documented_action_codes_are_accepted(emulator, operation, campaigns, note):
    assert refused(emulator, operation, campaigns) == [("3", *note)]


def test_the_documented_action_codes_are_accepted_explicitly(emulator):
    bounce = call(emulator, BOUNCE, campaign(outbound(attributes={"actionCode": "02"}, MailSystemErrorCode="5.1.1"),
                                             attributes={"actionCode": "06"}))
    click = call(emulator, REACTION, campaign(reaction(attributes={"actionCode": "01"}), ID="2831",
                                              attributes={"actionCode": "06"}))

    assert [c["ID"] for c in bounce.campaigns] == ["1112"] and bounce.items == []
    assert [c["ID"] for c in click.campaigns] == ["2831"] and click.items == []


@pytest.mark.parametrize(("operation", "make_node", "allowed"), [
    (BOUNCE, lambda customer: outbound(customer=customer, contact=None, MailSystemErrorCode="5.1.1"), ["7"]),
    (PERMISSION, lambda customer: outbound(customer=customer, contact=None, MailingPermissionDeniedIndicator="true"),
     ["1", "2", "3", "4", "7"]),
    (REACTION, lambda customer: reaction(customer=customer, contact=None), ["7"]),
], ids=["bounces", "permissions", "reactions"])
def test_each_bundle_accepts_its_execution_types_only(emulator, operation, make_node, allowed):
    types = ["1", "2", "3", "4", "5", "7"]
    seed(emulator, {"Customer": [{"InternalID": "T1"}], "Campaign": [
        {"ID": f"T{code}", "ExecutionTypeCode": code, "Outbound": [{"CustomerInternalID": "T1"}]} for code in types]})
    campaigns = "".join(campaign(make_node("T1"), ID=f"T{code}", ObjectNodeSenderTechnicalID=code) for code in types)

    result = call(emulator, operation, campaigns)

    assert [c["ID"] for c in result.campaigns] == [f"T{code}" for code in allowed]
    refused_types = [code for code in types if code not in allowed]
    assert [(severity, reference) for severity, reference, _ in result.notes] == [("3", c) for c in refused_types]
    assert all(f"has execution type {reference}; " in note for _, reference, note in result.notes)


# ---------------------------------------------------------------------------------------------- the addressee


@pytest.mark.parametrize(("operation", "campaigns", "notes"), [
    (BOUNCE, campaign(outbound(customer=None, MailSystemErrorCode="5.1.1")),
     [("1001", "Specify the account (CustomerUUID or CustomerInternalID); a contact person alone is not allowed")]),
    (REACTION, campaign(reaction(customer=None), ID="2831"),
     [("1011", "Specify the account (CustomerUUID or CustomerInternalID); a contact person alone is not allowed")]),
    (BOUNCE, campaign(outbound(customer="A9999", contact="CP9999", MailSystemErrorCode="5.1.1")),
     [("1001", "Account A9999 does not exist"), ("1001", "Contact person CP9999 does not exist")]),
    (PERMISSION, campaign(node("Outbound", None, ObjectNodeSenderTechnicalID="1001",
                               CustomerUUID="00163e02-0000-0000-0000-000000000000",
                               MailingPermissionDeniedIndicator="true")),
     [("1001", "Account 00163E02-0000-0000-0000-000000000000 does not exist")]),
    (REACTION, campaign(reaction(contact="CP2002"), ID="2831"),
     [("1011", "Contact person CP2002 is not a contact person of account MC9785")]),
    (BOUNCE, campaign(node("Outbound", None, ObjectNodeSenderTechnicalID="1001",
                           CustomerUUID="00163e02-8b34-1ed1-bad4-6ecb99642010", CustomerInternalID="A2001",
                           MailSystemErrorCode="5.1.1")),
     [("1001", "Account UUID 00163E02-8B34-1ED1-BAD4-6ECB99642010 and account ID A2001 denote different accounts")]),
    (BOUNCE, campaign(outbound(customer="MC9785", contact="MCP9785", MailSystemErrorCode="5.1.1")),
     [("1001", "Campaign 1112 has no outbound for account MC9785 and contact person MCP9785")]),
    (PERMISSION, campaign(outbound(contact=None, MailingPermissionDeniedIndicator="true")),
     [("1001", "Campaign 1112 has no outbound for account A2001")]),
], ids=["contact person alone", "reaction: contact person alone", "account and contact person missing",
        "account UUID missing", "contact person of another account", "UUID and ID disagree", "no such outbound",
        "no account-only outbound"])
def test_addressees_must_be_an_account_and_exist(emulator, operation, campaigns, notes):
    assert refused(emulator, operation, campaigns) == [("3", *note) for note in notes]


def test_addressees_are_found_by_uuid(emulator):
    bounce = node("Outbound", None, ObjectNodeSenderTechnicalID="1001",
                  CustomerUUID="00163E02-8B34-1ED1-BAD4-6ECB99642001",
                  ContactPersonUUID="00163E02-8B34-1ED1-BAD4-6ECB99642002", MailSystemErrorCode="4.2.2")

    result = call(emulator, BOUNCE, campaign(bounce))

    assert result.items == [] and [c["ID"] for c in result.campaigns] == ["1112"]
    assert bounce_of(emulator, "1112", "A2001").mail_system_error_code == "4.2.2"


# ------------------------------------------------------------------------------------------------------ bounces


def test_mail_system_error_codes_follow_rfc_3463(emulator):
    codes = ["3.1.1", "5.1", "5.1234.1", "5.a.1", "5.1.1.1", "51.1.1", "5..1"]
    nodes = [outbound(str(index), MailSystemErrorCode=code) for index, code in enumerate(codes)]
    nodes.append(outbound("missing"))

    notes = refused(emulator, BOUNCE, campaign(*nodes))

    assert notes == [
        ("3", str(index), f"Mail system error code {code} is invalid; expected class.subject.detail as in RFC 3463 "
                          "(class 2, 4 or 5; subject and detail of 1 to 3 digits)")
        for index, code in enumerate(codes)
    ] + [("3", "missing", "Specify the mail system error code (MailSystemErrorCode)")]


BOUNCE_TABLE = [
    # customer, (denied, status) before, MailSystemErrorCode, CommunicationDataUsageDeniedIndicator sent,
    # (denied, status) after
    ("B1", (False, "2"), "2.0.0", None, (False, "2")),  # 2.x.x: not relevant, not affected
    ("B2", (False, "2"), "2.1.5", "true", (False, "2")),  # … even where the request says true
    ("B3", (False, "2"), "4.1.1", None, (True, "3")),  # 4.1.x and 5.1.x: true, status 3
    ("B4", (False, "2"), "5.123.999", None, (False, "3")),  # subject 123: not 5.1.x
    ("B5", (False, "2"), "5.1.3", "false", (False, "3")),  # the request's indicator overrules
    ("B6", (True, "2"), "4.2.2", None, (True, "3")),  # other 4.x / 5.x: the indicator applied only where true
    ("B7", (False, "2"), "4.2.2", None, (False, "3")),
    ("B8", (False, "2"), "5.7.1", "true", (True, "3")),
    ("B9", (True, "2"), "4.4.7", "false", (True, "3")),
]


def test_the_error_code_determines_the_indicator_and_status_unless_the_request_overrules_it(emulator):
    seed(emulator, {"Customer": [{"InternalID": customer} for customer, *_ in BOUNCE_TABLE], "Campaign": [
        {"ID": "4000", "ExecutionTypeCode": "7", "Outbound": [
            {"CustomerInternalID": customer, "CommunicationDataUsageDeniedIndicator": before[0],
             "OutboundCommunicationStatusCode": before[1]} for customer, before, *_ in BOUNCE_TABLE]}]})
    nodes = [outbound(customer, customer=customer, contact=None, MailSystemErrorCode=code,
                      CommunicationDataUsageDeniedIndicator=sent) for customer, _, code, sent, _ in BOUNCE_TABLE]
    nodes.append(outbound("dated", customer="B1", contact=None, MailSystemErrorCode="2.0.0",
                          FailedDeliveryStatusDateTime="2024-05-01T10:11:12.5Z"))

    result = call(emulator, BOUNCE, campaign(*nodes, ID="4000"))

    assert result.items == [] and [c["ID"] for c in result.campaigns] == ["4000"]
    for customer, _, code, _, after in BOUNCE_TABLE:
        stored_outbound = bounce_of(emulator, "4000", customer)
        assert (stored_outbound.communication_data_usage_denied_indicator,
                stored_outbound.outbound_communication_status_code) == after, customer
        assert stored_outbound.mail_system_error_code == code
    dated = bounce_of(emulator, "4000", "B1").failed_delivery_status_date_time
    assert dated.isoformat() == "2024-05-01T10:11:12.500000"
    assert bounce_of(emulator, "4000", "B2").failed_delivery_status_date_time is None


def test_every_addressee_of_a_large_bundle_is_found_by_internal_id_or_uuid(emulator):
    # More accounts than one lookup takes (they are read some 500 at a time), every other one named by its UUID.
    accounts = [f"L{n:04d}" for n in range(700)]
    uuids = {account: f"00163E02-8B34-1ED1-BAD4-6ECB9964{n:04d}" for n, account in enumerate(accounts)}
    seed(emulator, {"Customer": [{"InternalID": account, "UUID": uuids[account]} for account in accounts],
                    "ContactPerson": [{"InternalID": f"C{account}", "CustomerInternalID": account}
                                      for account in accounts],
                    "Campaign": [{"ID": "5000", "ExecutionTypeCode": "7", "Outbound": [
                        {"CustomerInternalID": account, "ContactPersonInternalID": f"C{account}"}
                        for account in accounts]}]})
    nodes = [outbound(account, customer=None if n % 2 else account, contact=f"C{account}",
                      CustomerUUID=uuids[account] if n % 2 else None, MailSystemErrorCode="4.2.2")
             for n, account in enumerate(accounts)]

    notes = refused(emulator, BOUNCE, campaign(*nodes, outbound("unknown", customer="L9999", contact=None,
                                                                MailSystemErrorCode="4.2.2"), ID="5000"))
    result = call(emulator, BOUNCE, campaign(*nodes, ID="5000"))

    assert notes == [("3", "unknown", "Account L9999 does not exist")]
    assert result.items == [] and [c["ID"] for c in result.campaigns] == ["5000"]
    campaign_uuid = one(emulator, Campaign, id="5000").uuid
    assert sorted(outbound.mail_system_error_code for outbound in rows(emulator, CampaignOutbound,
                                                                       campaign_uuid=campaign_uuid)) == ["4.2.2"] * 700


# ------------------------------------------------------------------------------------------ mailing permissions


def test_the_mailing_permission_denied_indicator_is_mandatory(emulator):
    assert refused(emulator, PERMISSION, campaign(outbound())) == [
        ("3", "1001", "Specify the mailing permission denied indicator (MailingPermissionDeniedIndicator)")]


def test_unsubscribe_then_subscribe_makes_an_account_usable_again(emulator):
    seed(emulator, {"Campaign": [{"ID": "3001", "ExecutionTypeCode": "3",
                                  "Outbound": [{"CustomerInternalID": "A2001"}]}]})
    a2001 = one(emulator, Customer, internal_id="A2001").uuid

    call(emulator, PERMISSION, campaign(outbound(contact=None, MailingPermissionDeniedIndicator="true"), ID="3001"))
    unsubscribed = one(emulator, MailingPermission, customer_uuid=a2001)
    call(emulator, PERMISSION, campaign(outbound(contact=None, MailingPermissionDeniedIndicator="false"), ID="3001"))
    subscribed = one(emulator, MailingPermission, customer_uuid=a2001)

    assert (unsubscribed.contact_person_uuid, unsubscribed.mailing_permission_denied_indicator) == (None, True)
    assert (subscribed.uuid, subscribed.mailing_permission_denied_indicator) == (unsubscribed.uuid, False)


# ---------------------------------------------------------------------------------------------------- reactions


def test_reactions_need_a_creation_time_a_known_type_and_for_a_click_a_link_of_the_campaign(emulator):
    nodes = [
        reaction("no time", CreationDateTime=""),
        reaction("no type", CampaignReactionTypeCode=""),
        reaction("type 22", CampaignReactionTypeCode="22"),
        reaction("click without link", CampaignReactionTypeCode="21"),
        reaction("unknown URI", tracking=tracking(uri="http://www.example.com"), CampaignReactionTypeCode="21"),
        # The UUID wins: an unknown UUID is an error even where the URI names a link of the campaign.
        reaction("unknown UUID", tracking=tracking(uuid="00163E02-8B2E-1ED2-9D9D-000000000000",
                                                   uri="http://www.sap.com"), CampaignReactionTypeCode="21"),
        reaction("link of another campaign", tracking=tracking(uuid=LINK_734), CampaignReactionTypeCode="21"),
    ]
    seed(emulator, {"Campaign": [{"ID": "2900", "Outbound": [{"CustomerInternalID": "MC9785"}]}]})

    notes = refused(emulator, REACTION, campaign(*nodes[:-1], ID="2831")
                    + campaign(nodes[-1], ID="2900", ObjectNodeSenderTechnicalID="2000"))

    assert notes == [
        ("3", "no time", "Specify the reaction's creation time (CreationDateTime)"),
        ("3", "no type", "Specify the reaction type (CampaignReactionTypeCode)"),
        ("3", "type 22", "Reaction type 22 is not supported; use 20 (E-mail opened) or 21 (Link clicked)"),
        ("3", "click without link",
         "A link click needs the clicked link (ReactionTracking with TargetLinkUUID or TargetLinkWebURI)"),
        ("3", "unknown URI", "Campaign 2831 has no tracking link http://www.example.com"),
        ("3", "unknown UUID", "Campaign 2831 has no tracking link 00163E02-8B2E-1ED2-9D9D-000000000000"),
        ("3", "link of another campaign", f"Campaign 2900 has no tracking link {LINK_734}"),
    ]


def test_a_click_naming_link_uuid_and_uri_is_tracked_on_the_uuids_link(emulator):
    result = call(emulator, REACTION, campaign(
        reaction(tracking=tracking(uuid=LINK_734, uri="http://www.sap.com"), CampaignReactionTypeCode="21"),
        ID="2831"))

    assert result.items == []
    assert str(one(emulator, CampaignReaction).tracking_link_uuid).upper() == LINK_734


def test_reaction_list_processing_is_not_supported(emulator):
    attributes = {"inboundBusinessTransactionDocumentReferenceListCompleteTransmissionIndicator": "true"}

    assert refused(emulator, REACTION, campaign(reaction(), ID="2831", attributes=attributes)) == [
        ("3", "1000", "List processing is not supported: "
                      "inboundBusinessTransactionDocumentReferenceListCompleteTransmissionIndicator must be false")]


# ---------------------------------------------------------------------------------------- atomicity and limits


def test_each_campaign_is_processed_atomically(emulator):
    before = {campaign.id: campaign.change_state_id for campaign in rows(emulator, Campaign)}
    campaigns = (campaign(outbound(MailingPermissionDeniedIndicator="true"),
                          outbound("1002", "A2010", "CP2012"))
                 + campaign(outbound("2001", "A2020", "CP2022", MailingPermissionDeniedIndicator="true"),
                            ID="1114", ObjectNodeSenderTechnicalID="2000"))

    result = call(emulator, PERMISSION, campaigns)

    assert [c["ID"] for c in result.campaigns] == ["1114"]
    assert result.maximum_severity == "3"
    assert result.notes == [
        ("3", "1002", "Specify the mailing permission denied indicator (MailingPermissionDeniedIndicator)")]
    after = {campaign.id: campaign.change_state_id for campaign in rows(emulator, Campaign)}
    assert after["1112"] == before["1112"] and after["1114"] == result.campaigns[0]["ChangeStateID"] != before["1114"]
    permissions = rows(emulator, MailingPermission)
    assert [one(emulator, Customer, uuid=p.customer_uuid).internal_id for p in permissions] == ["A2020"]


def test_at_most_1000_instances_are_accepted_in_one_call(emulator):
    def reactions(count: int) -> str:
        return campaign(*(reaction(str(index)) for index in range(count)), ID="2831")

    accepted = call(emulator, REACTION, reactions(1000))
    assert accepted.items == [] and [c["ID"] for c in accepted.campaigns] == ["2831"]
    assert len(rows(emulator, CampaignReaction)) == 1000

    assert refused(emulator, REACTION, reactions(1001)) == [
        ("3", None, "The request holds 1001 inbound instances; at most 1000 are supported in one call")]


# ---------------------------------------------------------------------------------------------------- Check*

UNKNOWN_ACCOUNT = (b"<ObjectNodeSenderTechnicalID>9</ObjectNodeSenderTechnicalID>"
                   b"<CustomerInternalID>A9999</CustomerInternalID>")


@pytest.mark.parametrize(("sample", "operation", "campaign_id", "unknown_account_node"), [
    ("failed_delivery_status.request.xml", BOUNCE, b"1112",
     b"<Outbound>" + UNKNOWN_ACCOUNT + b"<MailSystemErrorCode>5.1.1</MailSystemErrorCode></Outbound>"),
    ("mailing_permission_two_campaigns.request.xml", PERMISSION, b"1112",
     b"<Outbound>" + UNKNOWN_ACCOUNT
     + b"<MailingPermissionDeniedIndicator>true</MailingPermissionDeniedIndicator></Outbound>"),
    ("reaction.request.xml", REACTION, b"2831",
     b"<InboundBusinessTransactionDocumentReference>" + UNKNOWN_ACCOUNT
     + b"<CreationDateTime>2024-05-01T10:00:00Z</CreationDateTime><CampaignReactionTypeCode>20"
       b"</CampaignReactionTypeCode></InboundBusinessTransactionDocumentReference>"),
], ids=["bounces", "permissions", "reactions"])
def test_check_operations_answer_as_maintain_does_and_write_nothing(emulator, sample, operation, campaign_id,
                                                                     unknown_account_node):
    check = f"Check{operation}"
    payload = fixture(sample)
    broken = payload.replace(b"<ID>%s</ID>" % campaign_id, b"<ID>%s</ID>%s" % (campaign_id, unknown_account_node))

    def as_check(message: bytes) -> bytes:
        return message.replace(REQUEST_ELEMENTS[operation].encode(), REQUEST_ELEMENTS[check].encode())

    with nothing_written(emulator):
        checked = call_raw(emulator, check, as_check(payload))
        checked_broken = call_raw(emulator, check, as_check(broken))
    before = stored(emulator)
    maintained_broken = call_raw(emulator, operation, broken)
    maintained = call_raw(emulator, operation, payload)

    assert checked.root.tag.endswith("RequestBundleCheckMaintainResponse_sync")
    assert [(c["ReferenceObjectNodeSenderTechnicalID"], c["ID"], c["UUID"]) for c in checked.campaigns] == [
        (c["ReferenceObjectNodeSenderTechnicalID"], c["ID"], c["UUID"]) for c in maintained.campaigns]
    assert checked.items == maintained.items == []
    assert checked_broken.items == maintained_broken.items
    assert ("3", "9", "Account A9999 does not exist") in checked_broken.notes
    assert stored(emulator) != before  # what Check left alone, Maintain did write


def call_raw(emulator, operation: str, payload: bytes):
    return answer(post(emulator, operation, payload))
