"""The tenant's records the ManageCampaignInboundIn service reads and writes, in the service's element language
(snake case): customers and contact persons (master data, only referenced), marketing campaigns with their tracking
links and outbounds (transactional data, only updated), and what the service records on them: bounces on the
outbounds, mailing permissions per customer or contact person, campaign reactions.

Keys are the SAP node UUIDs; internal IDs (A2001, CP2002, 1112) are unique alternate keys, as on a tenant.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, String, Uuid, column
from sqlalchemy.orm import Mapped, mapped_column

from xweb_emulator.db import Base


def _uuid() -> Mapped[uuid.UUID]:
    return mapped_column(Uuid, primary_key=True, default=uuid.uuid4)


class Customer(Base):
    """An account (business partner of role customer)."""

    __tablename__ = "sap_customer"

    uuid: Mapped[uuid.UUID] = _uuid()
    internal_id: Mapped[str] = mapped_column(String(10), unique=True)
    name: Mapped[str | None] = mapped_column(String(80))
    email: Mapped[str | None] = mapped_column(String(255))


class ContactPerson(Base):
    """A contact person of one account."""

    __tablename__ = "sap_contact_person"

    uuid: Mapped[uuid.UUID] = _uuid()
    internal_id: Mapped[str] = mapped_column(String(10), unique=True)
    customer_uuid: Mapped[uuid.UUID] = mapped_column(ForeignKey("sap_customer.uuid"), index=True)
    name: Mapped[str | None] = mapped_column(String(80))
    email: Mapped[str | None] = mapped_column(String(255))


class Campaign(Base):
    """A marketing campaign. `change_state_id` changes with every change the service makes to the campaign or to
    anything below it, as the confirmation reports it."""

    __tablename__ = "sap_campaign"

    uuid: Mapped[uuid.UUID] = _uuid()
    id: Mapped[str] = mapped_column(String(35), unique=True)
    reference_id: Mapped[str | None] = mapped_column(String(35), unique=True)
    name: Mapped[str | None] = mapped_column(String(80))
    execution_type_code: Mapped[str] = mapped_column(String(2))
    life_cycle_status_code: Mapped[str] = mapped_column(String(2))
    change_state_id: Mapped[str] = mapped_column(String(40))


class TrackingLink(Base):
    """A hyperlink of a campaign's e-mail whose clicks are tracked."""

    __tablename__ = "sap_tracking_link"

    uuid: Mapped[uuid.UUID] = _uuid()
    campaign_uuid: Mapped[uuid.UUID] = mapped_column(ForeignKey("sap_campaign.uuid"), index=True)
    web_uri: Mapped[str] = mapped_column(String(1024))


class CampaignOutbound(Base):
    """One addressee of a campaign (an account, or a contact person of it) and how sending to it went."""

    __tablename__ = "sap_campaign_outbound"

    uuid: Mapped[uuid.UUID] = _uuid()
    campaign_uuid: Mapped[uuid.UUID] = mapped_column(ForeignKey("sap_campaign.uuid"), index=True)
    customer_uuid: Mapped[uuid.UUID] = mapped_column(ForeignKey("sap_customer.uuid"), index=True)
    contact_person_uuid: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("sap_contact_person.uuid"))
    mail_system_error_code: Mapped[str | None] = mapped_column(String(11))
    communication_data_usage_denied_indicator: Mapped[bool] = mapped_column(Boolean, default=False)
    outbound_communication_status_code: Mapped[str] = mapped_column(String(2))
    failed_delivery_status_date_time: Mapped[datetime | None] = mapped_column(DateTime)
    changed_at: Mapped[datetime | None] = mapped_column(DateTime)


class MailingPermission(Base):
    """Whether an account, or a contact person of it, may be addressed by new campaigns; the last campaign whose
    inbound set it."""

    __tablename__ = "sap_mailing_permission"
    # One permission per person: a contact person's, and an account's own (no contact person; NULLs are distinct in
    # a unique key, hence the partial index). Concurrent first permissions upsert on these.
    __table_args__ = (
        Index("uq_sap_mailing_permission_person", "customer_uuid", "contact_person_uuid", unique=True),
        Index("uq_sap_mailing_permission_account", "customer_uuid", unique=True,
              sqlite_where=column("contact_person_uuid").is_(None),
              postgresql_where=column("contact_person_uuid").is_(None)),
    )

    uuid: Mapped[uuid.UUID] = _uuid()
    customer_uuid: Mapped[uuid.UUID] = mapped_column(ForeignKey("sap_customer.uuid"), index=True)
    contact_person_uuid: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("sap_contact_person.uuid"))
    mailing_permission_denied_indicator: Mapped[bool] = mapped_column(Boolean)
    campaign_uuid: Mapped[uuid.UUID] = mapped_column(ForeignKey("sap_campaign.uuid"))
    changed_at: Mapped[datetime] = mapped_column(DateTime)


class CampaignReaction(Base):
    """An e-mail opened (20) or a link clicked (21) by an addressee of a campaign."""

    __tablename__ = "sap_campaign_reaction"

    uuid: Mapped[uuid.UUID] = _uuid()
    campaign_uuid: Mapped[uuid.UUID] = mapped_column(ForeignKey("sap_campaign.uuid"), index=True)
    customer_uuid: Mapped[uuid.UUID] = mapped_column(ForeignKey("sap_customer.uuid"), index=True)
    contact_person_uuid: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("sap_contact_person.uuid"))
    outbound_uuid: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("sap_campaign_outbound.uuid"))
    campaign_reaction_type_code: Mapped[str] = mapped_column(String(2))
    creation_date_time: Mapped[datetime] = mapped_column(DateTime)
    tracking_link_uuid: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("sap_tracking_link.uuid"))
    sender_technical_id: Mapped[str | None] = mapped_column(String(70))
    recorded_at: Mapped[datetime] = mapped_column(DateTime)
