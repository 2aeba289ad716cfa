"""Customer e-mail addresses (WEBEmail*): the e-mails of a customer, one of them its primary.

A CustomerEmailType travels as sections, Email and Customer; Customer is read-only context (the vendor documents it
so). eml_primary=1 makes an e-mail its customer's primary (see facade.set_primary).
"""

from __future__ import annotations

import uuid

from sqlalchemy import Connection, select

from xweb_emulator.xweb.facade import (
    FACADE_OBJECTS,
    Actor,
    Record,
    add_email,
    change_email,
    require_record,
)
from xweb_emulator.xweb.models import Customer, Email
from xweb_emulator.xweb.sections import CUSTOMER, EMAIL_COLUMNS, Section, Sections, TypedObject
from xweb_emulator.xweb.values import parse_guid

EMAIL = Section(FACADE_OBJECTS["email"], EMAIL_COLUMNS)
CUSTOMER_EMAIL_TYPE = TypedObject("CustomerEmailType", key=("Email", "eml_key"),
                                  sections={"Email": EMAIL, "Customer": CUSTOMER})


def get_email(connection: Connection, key_text: str | None, field: str = "key") -> Sections:
    email = require_record(connection, Email, parse_guid(key_text or "", field), field)
    customer = require_record(connection, Customer, email.eml_cst_key, "eml_cst_key")
    return CUSTOMER_EMAIL_TYPE.view(email.eml_key, {"Email": email, "Customer": customer})


def emails_by_customer(connection: Connection, customer_key: str | None) -> list[Record]:
    """The customer's e-mails, its primary first, each the Email section's columns."""
    customer = require_record(connection, Customer, parse_guid(customer_key or "", "CustomerKey"), "CustomerKey")
    emails = Email.__table__
    rows = connection.execute(
        select(emails).where(emails.c.eml_cst_key == customer.cst_key, emails.c.eml_delete_flag == 0)
        .order_by(emails.c.eml_primary.desc(), emails.c.eml_add_date, emails.c.eml_key))
    return [EMAIL.render(row) for row in rows]


def insert_email(connection: Connection, actor: Actor, sections: Sections) -> Sections:
    """A new e-mail for the customer Email/eml_cst_key names; the whole object answered, its keys filled."""
    key = add_email(connection, actor, EMAIL.values(connection, sections, "Email"))
    return get_email(connection, str(key))


def update_email(connection: Connection, actor: Actor, sections: Sections) -> bool:
    """Change only the elements sent, on the e-mail CurrentKey (or Email/eml_key) names."""
    key: uuid.UUID = require_record(connection, Email, parse_guid(CUSTOMER_EMAIL_TYPE.current_key(sections),
                                                                    "CurrentKey"), "CurrentKey").eml_key
    values = EMAIL.values(connection, sections, "Email")
    if values:
        change_email(connection, actor, key, values)
    return True
