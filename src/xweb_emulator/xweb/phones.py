"""Customer phones (WEBPhone*): a phone number, and the cross-reference that gives it to a customer with a type.

A CustomerPhoneType travels as sections — Phone_XRef, Customer, Phone, Country — each a record of its table's
columns. Customer and Country are read-only context (the vendor documents Customer as read-only).
"""

from __future__ import annotations

import uuid

from sqlalchemy import Uuid, select
from sqlalchemy.orm import Session

from xweb_emulator.db import Base, insert_new
from xweb_emulator.xweb.errors import InvalidInput
from xweb_emulator.xweb.facade import (
    FACADE_OBJECTS,
    Actor,
    Record,
    check_references,
    parse_record,
    render_record,
    require_record,
)
from xweb_emulator.xweb.models import DEFAULT_PHONE_TYPE_KEY, Country, Customer, CustomerPhone, Phone, PhoneType
from xweb_emulator.xweb.values import format_guid, parse_guid

Sections = dict[str, Record | None]

# Section → (facade object, the modelled columns in the order of the vendor's *_DataObjectType sequences).
_SECTIONS = {
    "Phone_XRef": ("customerphone", (
        "cph_key", "cph_cst_key", "cph_phn_key", "cph_pht_key", "cph_add_user", "cph_add_date", "cph_change_user",
        "cph_change_date", "cph_delete_flag", "cph_unlisted_flag", "cph_phn_number_complete", "cph_extension",
        "cph_primary",
    )),
    "Customer": ("customer", (
        "cst_key", "cst_type", "cst_name_cp", "cst_sort_name_dn", "cst_ind_full_name_dn", "cst_add_date",
        "cst_add_user", "cst_change_date", "cst_change_user", "cst_delete_flag", "cst_recno", "cst_id",
        "cst_no_email_flag", "cst_eml_address_dn", "cst_eml_key", "cst_no_phone_flag", "cst_phn_number_complete_dn",
        "cst_cph_key", "cst_member_flag",
    )),
    "Phone": ("phone", (
        "phn_key", "phn_cst_key_owner", "phn_number", "phn_number_display", "phn_cty_key", "phn_add_user",
        "phn_add_date", "phn_change_user", "phn_change_date", "phn_delete_flag",
    )),
    "Country": ("country", (
        "cty_code", "cty_add_date", "cty_add_user", "cty_change_date", "cty_change_user", "cty_delete_flag",
        "cty_key", "cty_idd_code", "cty_iso_2", "cty_iso_3",
    )),
}


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
    return [
        {**_section(xref, "Phone_XRef"), **_section(phone, "Phone"), "pht_code": phone_type.pht_code}
        for xref, phone, phone_type in rows
    ]


def insert_phone(session: Session, actor: Actor, sections: Sections) -> Sections:
    xref_values = _values(session, sections, "Phone_XRef")
    phone_values = _values(session, sections, "Phone")
    if xref_values.get("cph_cst_key") is None:
        raise InvalidInput("Phone_XRef/cph_cst_key is required.")
    if phone_values.get("phn_number") is None:
        raise InvalidInput("Phone/phn_number is required.")
    phone_values.setdefault("phn_cst_key_owner", xref_values["cph_cst_key"])
    phone_key = _insert(session, Phone, phone_values, "phn_key", actor)
    if xref_values.get("cph_phn_key") not in (None, phone_key):
        raise InvalidInput("Phone_XRef/cph_phn_key must be the inserted phone's phn_key.")
    xref_values["cph_phn_key"] = phone_key
    if xref_values.get("cph_pht_key") is None:
        xref_values["cph_pht_key"] = DEFAULT_PHONE_TYPE_KEY
        check_references(session, CustomerPhone, xref_values)
    xref_key = _insert(session, CustomerPhone, xref_values, "cph_key", actor)
    return _view(session, session.get(CustomerPhone, xref_key))


def update_phone(session: Session, actor: Actor, sections: Sections) -> bool:
    """Change only the elements sent, on the cross-reference named by CurrentKey (or Phone_XRef/cph_key)."""
    key_text = sections.get("CurrentKey") or (sections.get("Phone_XRef") or {}).get("cph_key")
    if not key_text:
        raise InvalidInput("CurrentKey (or Phone_XRef/cph_key) is required to update a phone.")
    xref = require_record(session, CustomerPhone, parse_guid(key_text, "CurrentKey"), "CurrentKey")
    xref_values = _values(session, sections, "Phone_XRef")
    phone_values = _values(session, sections, "Phone")
    for values, key_name, current in (
        (xref_values, "cph_key", xref.cph_key),
        (xref_values, "cph_phn_key", xref.cph_phn_key),
        (phone_values, "phn_key", xref.cph_phn_key),
    ):
        if values.pop(key_name, current) not in (None, current):
            raise InvalidInput(f"{key_name} does not match the phone being updated ({current}).")
    phone = session.get(Phone, xref.cph_phn_key)
    for row, values, prefix in ((xref, xref_values, "cph"), (phone, phone_values, "phn")):
        if not values:
            continue
        for name, value in values.items():
            setattr(row, name, value)
        setattr(row, f"{prefix}_change_user", actor.user_name)
        setattr(row, f"{prefix}_change_date", actor.now)
    session.flush()
    return True


def _insert(session: Session, model: type[Base], values: dict[str, object], key: str, actor: Actor) -> uuid.UUID:
    """Insert a row under the key the client chose, or a new one: a key stored already, or inserted by a concurrent
    call, is refused (the database's own uniqueness tells)."""
    prefix = key.split("_", 1)[0]
    row = {**values, f"{prefix}_add_user": actor.user_name, f"{prefix}_add_date": actor.now}
    row.setdefault(key, uuid.uuid4())
    if insert_new(session, model.__table__, [row]):
        raise InvalidInput(f"{key} {row[key]} already exists.")
    return row[key]


def _values(session: Session, sections: Sections, section: str) -> dict[str, object]:
    """The writable columns a section sets, parsed and checked; the audit columns are netFORUM's to fill."""
    facade = FACADE_OBJECTS[_SECTIONS[section][0]]
    try:
        values = parse_record(facade, sections.get(section) or {}, unmodelled_columns_allowed=True)
    except InvalidInput as error:
        raise InvalidInput(f"{section}: {error.message}") from None
    # A sent element with no value clears a column, except keys (GUID columns: av_key_Type in the vendor's WSDL),
    # which an empty element leaves as they are. A member not sent (nil) is not in the section at all.
    keys = {name for name, column in facade.writable_columns.items() if isinstance(column.type, Uuid)}
    values = {name: value for name, value in values.items() if value is not None or name not in keys}
    check_references(session, facade.model, values)
    return values


def _view(session: Session, xref: CustomerPhone) -> Sections:
    phone = session.get(Phone, xref.cph_phn_key)
    country = session.get(Country, phone.phn_cty_key) if phone.phn_cty_key else None
    rows = {"Phone_XRef": xref, "Customer": session.get(Customer, xref.cph_cst_key), "Phone": phone,
            "Country": country}
    view: Sections = {"CurrentKey": format_guid(xref.cph_key)}
    for section, row in rows.items():
        view[section] = None if row is None else _section(row, section)
    return view


def _section(row, section: str) -> Record:
    facade_name, order = _SECTIONS[section]
    record = render_record(FACADE_OBJECTS[facade_name], row)
    return {name: record[name] for name in order}
