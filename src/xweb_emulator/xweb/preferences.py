"""Customer communication preferences: which mailing lists a customer opted in to or out of."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from xweb_emulator.db import upsert
from xweb_emulator.xweb.errors import InvalidInput
from xweb_emulator.xweb.facade import Actor, audit_values, require_record
from xweb_emulator.xweb.models import (
    MAILING_STATUSES,
    PROMOTIONAL,
    SUBSCRIPTION,
    UNDEFINED,
    Customer,
    CustomerMailingPreference,
    CustomerPhone,
    Email,
    MailingList,
)
from xweb_emulator.xweb.values import format_guid, parse_guid


@dataclass(frozen=True)
class MailingListSetting:
    """xWeb's MailingListSetting, field for field."""

    mailing_list_key: str | None = None
    mailing_list_name: str | None = None
    mailing_list_category: str | None = None
    status: str | None = None
    email_key: str | None = None
    address_key: str | None = None
    phone_key: str | None = None
    fax_key: str | None = None


@dataclass(frozen=True)
class MailingListEntry:
    """xWeb's MailingList, as GetPromotionalMailingTypes / GetSubscriptionMailingTypes list them."""

    primary_key: str
    name: str
    category: str | None


def mailing_types(session: Session, mailing_type: str) -> list[MailingListEntry]:
    lists = session.scalars(
        select(MailingList)
        .where(MailingList.mlt_type == mailing_type, MailingList.mlt_delete_flag == 0)
        .order_by(MailingList.mlt_name)
    )
    return [MailingListEntry(format_guid(item.mlt_key), item.mlt_name, item.mlt_category) for item in lists]


def set_preferences(session: Session, actor: Actor, customer_key: str | None,
                    settings: list[MailingListSetting]) -> None:
    """Store every setting or none."""
    customer = _customer(session, customer_key)
    if not settings:
        raise InvalidInput("preferences is required: pass at least one MailingListSetting.")
    for position, setting in enumerate(settings, start=1):
        try:
            _store(session, actor, customer, setting)
        except InvalidInput as error:
            raise InvalidInput(f"MailingListSetting {position}: {error.message}") from None


def get_preference(session: Session, customer_key: str | None, preference_type_key: str | None) -> MailingListSetting:
    customer = _customer(session, customer_key)
    mailing_list = require_record(
        session, MailingList, parse_guid(preference_type_key or "", "preferenceTypeKey"), "preferenceTypeKey"
    )
    return _setting(mailing_list, _stored(session, customer.cst_key).get(mailing_list.mlt_key))


def get_all_preferences(session: Session, customer_key: str | None) -> list[MailingListSetting]:
    """A setting for every promotional and subscription list; Undefined where the customer never chose."""
    customer = _customer(session, customer_key)
    stored = _stored(session, customer.cst_key)
    lists = session.scalars(
        select(MailingList)
        .where(MailingList.mlt_type.in_((PROMOTIONAL, SUBSCRIPTION)), MailingList.mlt_delete_flag == 0)
        .order_by(MailingList.mlt_name)
    )
    return [_setting(mailing_list, stored.get(mailing_list.mlt_key)) for mailing_list in lists]


def _customer(session: Session, customer_key: str | None) -> Customer:
    return require_record(session, Customer, parse_guid(customer_key or "", "customerKey"), "customerKey")


def _stored(session: Session, cst_key: uuid.UUID) -> dict[uuid.UUID, CustomerMailingPreference]:
    rows = session.scalars(select(CustomerMailingPreference).where(CustomerMailingPreference.cmp_cst_key == cst_key))
    return {row.cmp_mlt_key: row for row in rows}


def _store(session: Session, actor: Actor, customer: Customer, setting: MailingListSetting) -> None:
    if not setting.mailing_list_key:
        raise InvalidInput("mailing_list_key is required.")
    mailing_list = require_record(
        session, MailingList, parse_guid(setting.mailing_list_key, "mailing_list_key"), "mailing_list_key"
    )
    if setting.status not in MAILING_STATUSES:
        raise InvalidInput(f"status '{setting.status}' is not valid: use one of {', '.join(MAILING_STATUSES)}.")
    # The setting is stored as sent, whole: a member left out is null by the time netFORUM's .NET code sees it
    # (XmlSerializer and JSON.NET read an absent member as null), so a setting without email_key clears the one stored.
    email_key = _owned_key(session, Email, "eml_cst_key", customer, setting.email_key, "email_key")
    phone_key = _owned_key(session, CustomerPhone, "cph_cst_key", customer, setting.phone_key, "phone_key")
    values = {
        "cmp_status": setting.status,
        "cmp_eml_key": email_key,
        "cmp_cph_key": phone_key,
        "cmp_adr_key": parse_guid(setting.address_key, "address_key") if setting.address_key else None,
        "cmp_fax_key": parse_guid(setting.fax_key, "fax_key") if setting.fax_key else None,
    }
    # One atomic statement: concurrent first settings of the same list both land (the last one wins), where a check
    # then an insert would have the second fail on the unique key.
    table = CustomerMailingPreference.__table__
    statement = upsert(session, table).values(
        cmp_key=uuid.uuid4(), cmp_cst_key=customer.cst_key, cmp_mlt_key=mailing_list.mlt_key, cmp_delete_flag=0,
        **audit_values(table, actor, added=True), **values)
    session.execute(statement.on_conflict_do_update(
        index_elements=[table.c.cmp_cst_key, table.c.cmp_mlt_key],
        set_={**values, **audit_values(table, actor, added=False)}))


def _owned_key(session: Session, model, owner_column: str, customer: Customer, text: str | None,
               field: str) -> uuid.UUID | None:
    """A key of one of the customer's own records (an email, a phone), or None when none was sent."""
    if not text:
        return None
    key = parse_guid(text, field)
    row = require_record(session, model, key, field)
    if getattr(row, owner_column) != customer.cst_key:
        raise InvalidInput(f"{field}: {key} does not belong to customer {customer.cst_key}.")
    return key


def _setting(mailing_list: MailingList, preference: CustomerMailingPreference | None) -> MailingListSetting:
    return MailingListSetting(
        mailing_list_key=format_guid(mailing_list.mlt_key),
        mailing_list_name=mailing_list.mlt_name,
        mailing_list_category=mailing_list.mlt_category,
        status=preference.cmp_status if preference else UNDEFINED,
        email_key=format_guid(preference.cmp_eml_key) if preference else None,
        address_key=format_guid(preference.cmp_adr_key) if preference else None,
        phone_key=format_guid(preference.cmp_cph_key) if preference else None,
        fax_key=format_guid(preference.cmp_fax_key) if preference else None,
    )
