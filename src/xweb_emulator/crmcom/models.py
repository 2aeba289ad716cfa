"""CRM.COM records in the Web API's own field names (id, number, name, alternative_code …): it is what clients speak.

Ids are 32 upper-case hex characters, as CRM.COM writes them. Names, alternative codes and access token codes are not
unique: an identifier that matches several records is refused as ambiguous, as the Web API must.
"""

from __future__ import annotations

import os
from datetime import datetime

from sqlalchemy import DateTime, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from xweb_emulator.db import Base

POSTED = "POSTED"
WEB = "WEB"
EFFECTIVE = "EFFECTIVE"
ACCESS_TOKEN_STATES = (EFFECTIVE, "NOT_EFFECTIVE", "CANCELLED")

WEB_CUSTOMER_EVENT_NUMBERS = "web_customer_event"

UDF_STRINGS = tuple(f"udf_string_{n}" for n in range(1, 9))
UDF_FLOATS = tuple(f"udf_float_{n}" for n in range(1, 5))
UDF_DATES = tuple(f"udf_date_{n}" for n in range(1, 5))


# A random UUID's version (4) and variant (RFC 4122) bits, as uuid.UUID(bytes=…, version=4) sets them: the byte
# each is in, mapped through a table.
_VERSION_4 = bytes(byte & 0x0F | 0x40 for byte in range(256))
_RFC_4122 = bytes(byte & 0x3F | 0x80 for byte in range(256))


def new_id() -> str:
    return new_ids(1)[0]


def new_ids(count: int) -> list[str]:
    """`count` times uuid.uuid4().hex.upper(), without the UUID object made between: their random bytes read at
    once, their version and variant bits set, and their hex written at once (a bulk call makes a thousand: 0.75 ms
    one by one, 0.52 ms a number at a time, 0.12 ms so)."""
    random = bytearray(os.urandom(16 * count))
    random[6::16] = random[6::16].translate(_VERSION_4)
    random[8::16] = random[8::16].translate(_RFC_4122)
    written = random.hex().upper()
    return [written[start:start + 32] for start in range(0, 32 * count, 32)]


def _id() -> Mapped[str]:
    return mapped_column(String(32), primary_key=True, default=new_id)


class CrmComUser(Base):
    """A Web API user: what the login method (authentication/token) checks."""

    __tablename__ = "crmcom_user"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    password: Mapped[str] = mapped_column(String(128))
    organisation: Mapped[str] = mapped_column(String(64))


class LoginToken(Base):
    """A token the login method issued. It expires after an idle time: every call made with it moves `expires_at`."""

    __tablename__ = "crmcom_token"

    token: Mapped[str] = _id()
    username: Mapped[str] = mapped_column(ForeignKey("crmcom_user.username", ondelete="CASCADE"))
    issued_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime, index=True)


class AccountsReceivable(Base):
    __tablename__ = "crmcom_accounts_receivable"

    id: Mapped[str] = _id()
    number: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(255), index=True)


class RewardsParticipant(Base):
    __tablename__ = "crmcom_rewards_participant"

    id: Mapped[str] = _id()
    number: Mapped[str] = mapped_column(String(64), unique=True)
    accounts_receivable_id: Mapped[str | None] = mapped_column(ForeignKey("crmcom_accounts_receivable.id"))


class AccessToken(Base):
    """A rewards participant's access token (a card, a code, an OTP): one way a client names the participant."""

    __tablename__ = "crmcom_access_token"

    id: Mapped[str] = _id()
    rewards_participant_id: Mapped[str] = mapped_column(ForeignKey("crmcom_rewards_participant.id"), index=True)
    authentication_code: Mapped[str | None] = mapped_column(String(255), index=True)
    identifier: Mapped[str | None] = mapped_column(String(255), index=True)
    pass_code: Mapped[str | None] = mapped_column(String(255))
    one_time_password: Mapped[int | None] = mapped_column(Integer, index=True)
    life_cycle_state: Mapped[str] = mapped_column(String(16), default=EFFECTIVE)


class Unit(Base):
    __tablename__ = "crmcom_unit"

    id: Mapped[str] = _id()
    name: Mapped[str] = mapped_column(String(255), index=True)
    alternative_code: Mapped[str | None] = mapped_column(String(64))


class CustomerEventClassification(Base):
    __tablename__ = "crmcom_customer_event_classification"

    id: Mapped[str] = _id()
    name: Mapped[str] = mapped_column(String(255), index=True)
    alternative_code: Mapped[str | None] = mapped_column(String(64))


class NumberSequence(Base):
    """The last number handed out, per kind of record: numbers are drawn by an UPDATE in the call's transaction, so
    concurrent calls (any worker) get distinct, gap-free numbers."""

    __tablename__ = "crmcom_number_sequence"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_value: Mapped[int] = mapped_column(Integer, default=0)


class WebCustomerEvent(Base):
    """A web customer event, created in the POSTED life cycle state."""

    __tablename__ = "crmcom_web_customer_event"

    id: Mapped[str] = _id()
    number: Mapped[int] = mapped_column(Integer, unique=True)
    life_cycle_state: Mapped[str] = mapped_column(String(16), default=POSTED)
    accounts_receivable_id: Mapped[str | None] = mapped_column(
        ForeignKey("crmcom_accounts_receivable.id"), index=True)
    rewards_participant_id: Mapped[str | None] = mapped_column(
        ForeignKey("crmcom_rewards_participant.id"), index=True)
    classification_id: Mapped[str | None] = mapped_column(
        ForeignKey("crmcom_customer_event_classification.id"), index=True)
    performed_by_unit_id: Mapped[str] = mapped_column(ForeignKey("crmcom_unit.id"))
    performed_on: Mapped[datetime] = mapped_column(DateTime)
    description: Mapped[str | None] = mapped_column(String)
    website: Mapped[str] = mapped_column(String)
    external_system: Mapped[str | None] = mapped_column(String)
    external_system_reference_number: Mapped[str | None] = mapped_column(String)
    udf_string_1: Mapped[str | None] = mapped_column(String)
    udf_string_2: Mapped[str | None] = mapped_column(String)
    udf_string_3: Mapped[str | None] = mapped_column(String)
    udf_string_4: Mapped[str | None] = mapped_column(String)
    udf_string_5: Mapped[str | None] = mapped_column(String)
    udf_string_6: Mapped[str | None] = mapped_column(String)
    udf_string_7: Mapped[str | None] = mapped_column(String)
    udf_string_8: Mapped[str | None] = mapped_column(String)
    udf_float_1: Mapped[float | None] = mapped_column(Float)
    udf_float_2: Mapped[float | None] = mapped_column(Float)
    udf_float_3: Mapped[float | None] = mapped_column(Float)
    udf_float_4: Mapped[float | None] = mapped_column(Float)
    udf_date_1: Mapped[datetime | None] = mapped_column(DateTime)
    udf_date_2: Mapped[datetime | None] = mapped_column(DateTime)
    udf_date_3: Mapped[datetime | None] = mapped_column(DateTime)
    udf_date_4: Mapped[datetime | None] = mapped_column(DateTime)
    created_date: Mapped[datetime] = mapped_column(DateTime, index=True)
    created_by_user: Mapped[str] = mapped_column(String(64))

    # Read back with the event (show, list), in the same query.
    accounts_receivable: Mapped[AccountsReceivable | None] = relationship(lazy="joined")
    rewards_participant: Mapped[RewardsParticipant | None] = relationship(lazy="joined")
    classification: Mapped[CustomerEventClassification | None] = relationship(lazy="joined")
    performed_by_unit: Mapped[Unit] = relationship(lazy="joined")
