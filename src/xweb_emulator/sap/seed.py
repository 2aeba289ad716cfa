"""Loading records: the demo data every fresh database gets, and the `seed` command's `sap` section.

The service only references master data and only updates campaigns, so what it works on has to be loaded: a seed
holds customers, contact persons and campaigns (with their tracking links and outbounds), in SAP's element names,
loaded in that order in one transaction, referring to each other by internal ID or UUID:

    {"Customer": [{"InternalID": "A2001", "Name": "…"}],
     "ContactPerson": [{"InternalID": "CP2002", "CustomerInternalID": "A2001"}],
     "Campaign": [{"ID": "1112", "ExecutionTypeCode": "7",
                   "TrackingLink": [{"WebURI": "http://www.sap.com"}],
                   "Outbound": [{"CustomerInternalID": "A2001", "ContactPersonInternalID": "CP2002"}]}]}
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from xweb_emulator.db import unfit_column
from xweb_emulator.sap.bundle import EXTERNAL_EXECUTION, Directory, change_state_id, find_addressee
from xweb_emulator.sap.errors import MalformedRequest
from xweb_emulator.sap.models import Campaign, CampaignOutbound, ContactPerson, Customer, TrackingLink
from xweb_emulator.sap.request import indicator, read_party, text, uuid_value
from xweb_emulator.vendor import SeedError

ACTIVE = "2"  # campaign life cycle status of the demo campaigns (inferred code list)
SENT = "2"  # outbound communication status of an outbound the external system has sent (inferred code list)

_FIELDS = {
    "Customer": {"InternalID", "UUID", "Name", "Email"},
    "ContactPerson": {"InternalID", "UUID", "CustomerInternalID", "CustomerUUID", "Name", "Email"},
    "Campaign": {"ID", "UUID", "ReferenceID", "Name", "ExecutionTypeCode", "LifeCycleStatusCode", "TrackingLink",
                 "Outbound"},
    "TrackingLink": {"UUID", "WebURI"},
    "Outbound": {"UUID", "CustomerInternalID", "CustomerUUID", "ContactPersonInternalID", "ContactPersonUUID",
                 "OutboundCommunicationStatusCode", "CommunicationDataUsageDeniedIndicator"},
}

# Everything the seed's sample requests refer to, so that each of them succeeds unchanged on a fresh start. Every
# record has a fixed UUID, so that a test may look one up by it after any reset.
DEMO_DATA: dict[str, list[dict[str, Any]]] = {
    "Customer": [
        {"InternalID": "A2001", "UUID": "00163e02-8b34-1ed1-bad4-6ecb99642001", "Name": "Ada Bouncer GmbH",
         "Email": "info@ada-bouncer.example"},
        {"InternalID": "A2010", "UUID": "00163e02-8b34-1ed1-bad4-6ecb99642010", "Name": "Blue Mail AG",
         "Email": "info@blue-mail.example"},
        {"InternalID": "A2020", "UUID": "00163e02-8b34-1ed1-bad4-6ecb99642020", "Name": "Carrier Pigeon Ltd",
         "Email": "info@carrier-pigeon.example"},
        {"InternalID": "MC9785", "UUID": "00163e02-8b34-1ed1-bad4-6ecb99649785", "Name": "Marketing Corp",
         "Email": "info@marketing-corp.example"},
        {"InternalID": "A2030", "UUID": "00300571-ce9b-1ded-89de-4402ab375ec4", "Name": "Clicks & Co",
         "Email": "info@clicks.example"},
        {"InternalID": "A2040", "UUID": "00300571-ce9b-1ded-89de-4b7ca3968564", "Name": "Opens Inc",
         "Email": "info@opens.example"},
    ],
    "ContactPerson": [
        {"InternalID": "CP2002", "UUID": "00163e02-8b34-1ed1-bad4-6ecb99642002", "CustomerInternalID": "A2001",
         "Name": "Anna Adams", "Email": "anna.adams@ada-bouncer.example"},
        {"InternalID": "CP2012", "UUID": "00163e02-8b34-1ed1-bad4-6ecb99642012", "CustomerInternalID": "A2010",
         "Name": "Ben Brown", "Email": "ben.brown@blue-mail.example"},
        {"InternalID": "CP2022", "UUID": "00163e02-8b34-1ed1-bad4-6ecb99642022", "CustomerInternalID": "A2020",
         "Name": "Cara Clark", "Email": "cara.clark@carrier-pigeon.example"},
        {"InternalID": "MCP9785", "UUID": "00163e02-8b34-1ed1-bad4-6ecb9964a785", "CustomerInternalID": "MC9785",
         "Name": "Max Campaign", "Email": "max.campaign@marketing-corp.example"},
        {"InternalID": "CP2032", "UUID": "00300571-ce9b-1ded-89de-389fe45c1ec4", "CustomerInternalID": "A2030",
         "Name": "Dana Click", "Email": "dana.click@clicks.example"},
        {"InternalID": "CP2042", "UUID": "00300571-ce9b-1ddd-89de-2dbb185f5bdf", "CustomerInternalID": "A2040",
         "Name": "Eli Open", "Email": "eli.open@opens.example"},
    ],
    "Campaign": [
        {"ID": "1112", "UUID": "00163e02-8b34-1ed1-bad4-6ecb99649077", "ReferenceID": "EXT-1112",
         "Name": "Spring newsletter (external execution)", "ExecutionTypeCode": EXTERNAL_EXECUTION,
         "Outbound": [
             {"UUID": "00163e02-8b34-1ed1-bad4-6ecb99650001", "CustomerInternalID": "A2001",
              "ContactPersonInternalID": "CP2002"},
             {"UUID": "00163e02-8b34-1ed1-bad4-6ecb99650002", "CustomerInternalID": "A2010",
              "ContactPersonInternalID": "CP2012"},
             {"UUID": "00163e02-8b34-1ed1-bad4-6ecb99650003", "CustomerInternalID": "A2020",
              "ContactPersonInternalID": "CP2022"},
         ]},
        {"ID": "1114", "UUID": "00163e02-8b34-1ed1-bad4-6ecb99649114", "ReferenceID": "EXT-1114",
         "Name": "Trade fair invitation (e-mail using file export)", "ExecutionTypeCode": "1",
         "Outbound": [
             {"UUID": "00163e02-8b34-1ed1-bad4-6ecb99650004", "CustomerInternalID": "A2020",
              "ContactPersonInternalID": "CP2022"},
         ]},
        {"ID": "2831", "UUID": "00163e02-8b2e-1ed2-9d9d-bbf8587f2831", "ReferenceID": "EXT-2831",
         "Name": "Product launch mailing (external execution)", "ExecutionTypeCode": EXTERNAL_EXECUTION,
         "TrackingLink": [
             {"UUID": "00163e02-8b2e-1ed2-9d9d-bbf8587fd733", "WebURI": "http://www.sap.com"},
             {"UUID": "00163e02-8b2e-1ed2-9d9d-bbf8587fd734", "WebURI": "http://www.sap.com/campaign-offer"},
         ],
         "Outbound": [
             {"UUID": "00163e02-8b34-1ed1-bad4-6ecb99650005", "CustomerInternalID": "A2030",
              "ContactPersonInternalID": "CP2032"},
             {"UUID": "00163e02-8b34-1ed1-bad4-6ecb99650006", "CustomerInternalID": "A2040",
              "ContactPersonInternalID": "CP2042"},
             {"UUID": "00163e02-8b34-1ed1-bad4-6ecb99650007", "CustomerInternalID": "MC9785",
              "ContactPersonInternalID": "MCP9785"},
         ]},
    ],
}


def load(session: Session, now: datetime, section: Any) -> dict[str, list[str]]:
    """Store a seed section; answer the UUIDs created, by object name. Raises SeedError, storing nothing."""
    if not isinstance(section, Mapping):
        raise SeedError('an SAP seed is an object of Customer, ContactPerson and Campaign lists')
    unknown = sorted(set(section) - {"Customer", "ContactPerson", "Campaign"})
    if unknown:
        raise SeedError(f"unknown object {unknown[0]!r}: an SAP seed holds Customer, ContactPerson and Campaign")
    created: dict[str, list[str]] = {}
    try:
        for record in _records(section, "Customer"):
            _add(session, created, "Customer", _customer(session, record))
        for record in _records(section, "ContactPerson"):
            _add(session, created, "ContactPerson", _contact_person(session, record))
        for record in _records(section, "Campaign"):
            _campaign(session, now, record, created)
    except MalformedRequest as error:
        raise SeedError(str(error)) from None
    return created


def load_demo_if_empty(session: Session, now: datetime) -> bool:
    if session.scalars(select(Customer.uuid).limit(1)).first() is not None:
        return False
    if session.scalars(select(Campaign.uuid).limit(1)).first() is not None:
        return False
    load(session, now, DEMO_DATA)
    return True


def _customer(session: Session, record: Mapping) -> Customer:
    internal_id = _required(record, "InternalID", "Customer")
    return Customer(uuid=uuid_value(record, "UUID") or uuid.uuid4(), internal_id=internal_id,
                    name=text(record, "Name"), email=text(record, "Email"))


def _contact_person(session: Session, record: Mapping) -> ContactPerson:
    internal_id = _required(record, "InternalID", "ContactPerson")
    party = read_party(record)
    addressee, items = find_addressee(Directory(session.connection(), [party]), party, None)
    if addressee is None:
        raise SeedError(f"ContactPerson {internal_id}: {'; '.join(item.note for item in items)}")
    return ContactPerson(uuid=uuid_value(record, "UUID") or uuid.uuid4(), internal_id=internal_id,
                         customer_uuid=addressee.customer_uuid, name=text(record, "Name"), email=text(record, "Email"))


def _campaign(session: Session, now: datetime, record: Mapping, created: dict[str, list[str]]) -> None:
    campaign_id = _required(record, "ID", "Campaign")
    campaign = Campaign(
        uuid=uuid_value(record, "UUID") or uuid.uuid4(), id=campaign_id, reference_id=text(record, "ReferenceID"),
        name=text(record, "Name"), execution_type_code=text(record, "ExecutionTypeCode") or EXTERNAL_EXECUTION,
        life_cycle_status_code=text(record, "LifeCycleStatusCode") or ACTIVE, change_state_id=change_state_id(now),
    )
    _add(session, created, "Campaign", campaign)
    for link in _records(record, "TrackingLink"):
        _add(session, created, "TrackingLink", TrackingLink(
            uuid=uuid_value(link, "UUID") or uuid.uuid4(), campaign_uuid=campaign.uuid,
            web_uri=_required(link, "WebURI", f"Campaign {campaign_id} TrackingLink")))
    outbounds = [(outbound, read_party(outbound)) for outbound in _records(record, "Outbound")]
    directory = Directory(session.connection(), [party for _, party in outbounds])
    for outbound, party in outbounds:
        addressee, items = find_addressee(directory, party, None)
        if addressee is None:
            raise SeedError(f"Campaign {campaign_id} Outbound: {'; '.join(item.note for item in items)}")
        duplicate = select(CampaignOutbound).where(
            CampaignOutbound.campaign_uuid == campaign.uuid, CampaignOutbound.customer_uuid == addressee.customer_uuid,
            CampaignOutbound.contact_person_uuid == addressee.contact_person_uuid)
        if session.scalars(duplicate).first() is not None:
            raise SeedError(f"Campaign {campaign_id} has two outbounds for {addressee.describe()}")
        _add(session, created, "CampaignOutbound", CampaignOutbound(
            uuid=uuid_value(outbound, "UUID") or uuid.uuid4(), campaign_uuid=campaign.uuid,
            customer_uuid=addressee.customer_uuid, contact_person_uuid=addressee.contact_person_uuid,
            outbound_communication_status_code=text(outbound, "OutboundCommunicationStatusCode") or SENT,
            communication_data_usage_denied_indicator=_flag(outbound, "CommunicationDataUsageDeniedIndicator")))


def _records(section: Mapping, name: str) -> list[Mapping]:
    records = section.get(name) or []
    if not isinstance(records, list) or not all(isinstance(record, Mapping) for record in records):
        raise SeedError(f"{name}: expected a list of records")
    for record in records:
        unknown = sorted(set(record) - _FIELDS[name])
        if unknown:
            raise SeedError(f"{name} has no field {unknown[0]!r}: its fields are {', '.join(sorted(_FIELDS[name]))}")
    return records


def _flag(record: Mapping, name: str) -> bool:
    value = record.get(name)
    return value if isinstance(value, bool) else bool(indicator(record, name))


def _required(record: Mapping, name: str, where: str) -> str:
    value = text(record, name)
    if value is None:
        raise SeedError(f"{where}: {name} is required")
    return value


def _add(session: Session, created: dict[str, list[str]], object_name: str, record: Any) -> None:
    unfit = unfit_column(record)
    if unfit is not None:
        column, why = unfit
        raise SeedError(f"{object_name} {column.name}: {getattr(record, column.key)!r:.60} is {why}")
    session.add(record)
    try:
        session.flush()
    except IntegrityError:
        # The whole seed is rolled back; the record's own keys say which one clashed.
        keys = ", ".join(str(value) for value in (record.uuid, getattr(record, "internal_id", None),
                                                  getattr(record, "id", None)) if value)
        raise SeedError(f"{object_name} {keys}: a stored record has the same UUID or ID") from None
    created.setdefault(object_name, []).append(str(record.uuid))
