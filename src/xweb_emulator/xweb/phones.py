"""Customer phones (WEBPhone*): a phone number, and the cross-reference that gives it to a customer with a type.

A CustomerPhoneType travels as sections — Phone_XRef, Customer, Phone, Country — each a record of its table's
columns. Customer and Country are read-only context (the vendor documents Customer as read-only). cph_primary=1
makes a phone its customer's primary (cst_cph_key, and cst_phn_number_complete_dn its complete number: see
facade.set_primary), as eml_primary does an e-mail.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from xweb_emulator.xweb.errors import InvalidInput
from xweb_emulator.xweb.facade import (
    FACADE_OBJECTS,
    PRIMARY_PHONES,
    Actor,
    Record,
    check_key_kept,
    check_references,
    insert_or_refuse,
    keep_primary,
    require_record,
    set_primary,
    update_row,
)
from xweb_emulator.xweb.models import DEFAULT_PHONE_TYPE_KEY, Country, Customer, CustomerPhone, Phone, PhoneType
from xweb_emulator.xweb.sections import CUSTOMER, Section, Sections, TypedObject
from xweb_emulator.xweb.values import parse_guid

XREF = Section(FACADE_OBJECTS["customerphone"], (
    "cph_key", "cph_cst_key", "cph_phn_key", "cph_pht_key", "cph_add_user", "cph_add_date", "cph_change_user",
    "cph_change_date", "cph_delete_flag", "cph_unlisted_flag", "cph_phn_number_complete", "cph_extension",
    "cph_primary",
))
PHONE = Section(FACADE_OBJECTS["phone"], (
    "phn_key", "phn_cst_key_owner", "phn_number", "phn_number_display", "phn_cty_key", "phn_add_user",
    "phn_add_date", "phn_change_user", "phn_change_date", "phn_delete_flag",
))
COUNTRY = Section(FACADE_OBJECTS["country"], (
    "cty_code", "cty_add_date", "cty_add_user", "cty_change_date", "cty_change_user", "cty_delete_flag",
    "cty_key", "cty_idd_code", "cty_iso_2", "cty_iso_3",
))
CUSTOMER_PHONE_TYPE = TypedObject("CustomerPhoneType", key=("Phone_XRef", "cph_key"), sections={
    "Phone_XRef": XREF, "Customer": CUSTOMER, "Phone": PHONE, "Country": COUNTRY})


def get_phone(session: Session, key_text: str | None, field: str = "key") -> Sections:
    xref = require_record(session, CustomerPhone, parse_guid(key_text or "", field), field)
    return _view(session, xref)


def phones_by_customer(session: Session, customer_key: str | None) -> list[Record]:
    """The customer's phones, one flat record each: the cross-reference's columns, the phone's, and the type code."""
    customer = require_record(session, Customer, parse_guid(customer_key or "", "CustomerKey"), "CustomerKey")
    rows = session.execute(
        select(CustomerPhone, Phone, PhoneType)
        .join(Phone, Phone.phn_key == CustomerPhone.cph_phn_key)
        .join(PhoneType, PhoneType.pht_key == CustomerPhone.cph_pht_key)
        .where(CustomerPhone.cph_cst_key == customer.cst_key, CustomerPhone.cph_delete_flag == 0)
        .order_by(CustomerPhone.cph_primary.desc(), CustomerPhone.cph_add_date)
    )
    return [{**XREF.render(xref), **PHONE.render(phone), "pht_code": phone_type.pht_code}
            for xref, phone, phone_type in rows]


def insert_phone(session: Session, actor: Actor, sections: Sections) -> Sections:
    connection = session.connection()
    xref_values = XREF.values(connection, sections, "Phone_XRef")
    phone_values = PHONE.values(connection, sections, "Phone")
    if xref_values.get("cph_cst_key") is None:
        raise InvalidInput("Phone_XRef/cph_cst_key is required.")
    if phone_values.get("phn_number") is None:
        raise InvalidInput("Phone/phn_number is required.")
    phone_values.setdefault("phn_cst_key_owner", xref_values["cph_cst_key"])
    phone_key = phone_values["phn_key"] = phone_values.get("phn_key") or uuid.uuid4()
    if xref_values.get("cph_phn_key") not in (None, phone_key):
        raise InvalidInput("Phone_XRef/cph_phn_key must be the inserted phone's phn_key.")
    if xref_values.get("cph_pht_key") is None:
        xref_values["cph_pht_key"] = DEFAULT_PHONE_TYPE_KEY
        check_references(connection, CustomerPhone, {"cph_pht_key": DEFAULT_PHONE_TYPE_KEY})
    xref_values["cph_phn_key"] = phone_key
    xref_key = xref_values["cph_key"] = xref_values.get("cph_key") or uuid.uuid4()
    primary = xref_values.pop("cph_primary", None)
    # Keys the client chose are refused when taken, by the database's own uniqueness (concurrent calls included).
    insert_or_refuse(connection, actor, [{Phone.__table__: phone_values, CustomerPhone.__table__: xref_values}])
    if primary:
        set_primary(connection, actor, PRIMARY_PHONES, xref_values["cph_cst_key"], xref_key)
    return _view(session, session.get(CustomerPhone, xref_key))


def update_phone(session: Session, actor: Actor, sections: Sections) -> bool:
    """Change only the elements sent, on the cross-reference named by CurrentKey (or Phone_XRef/cph_key)."""
    connection = session.connection()
    key_text = CUSTOMER_PHONE_TYPE.current_key(sections)
    xref = require_record(session, CustomerPhone, parse_guid(key_text, "CurrentKey"), "CurrentKey")
    xref_values = XREF.values(connection, sections, "Phone_XRef")
    phone_values = PHONE.values(connection, sections, "Phone")
    check_key_kept(xref_values, "cph_key", xref.cph_key)
    check_key_kept(xref_values, "cph_phn_key", xref.cph_phn_key)
    check_key_kept(phone_values, "phn_key", xref.cph_phn_key)
    primary = xref_values.pop("cph_primary", None)
    for table, key, values in ((CustomerPhone.__table__, xref.cph_key, xref_values),
                               (Phone.__table__, xref.cph_phn_key, phone_values)):
        if values:
            update_row(connection, actor, table, key, values)
    keep_primary(connection, actor, PRIMARY_PHONES, xref.cph_cst_key, xref.cph_key, primary,
                 "cph_phn_number_complete" in xref_values or "phn_number" in phone_values)
    return True


def _view(session: Session, xref: CustomerPhone) -> Sections:
    phone = session.get(Phone, xref.cph_phn_key)
    country = session.get(Country, phone.phn_cty_key) if phone.phn_cty_key else None
    customer = session.get(Customer, xref.cph_cst_key)
    return CUSTOMER_PHONE_TYPE.view(xref.cph_key, {"Phone_XRef": xref, "Customer": customer, "Phone": phone,
                                                   "Country": country})
