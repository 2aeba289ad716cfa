"""Individuals (WEBIndividual*): a person, with its customer record and its primary e-mail.

An IndividualType travels as sections. The emulator keeps three: Individual (co_individual), Customer (co_customer,
whose names follow the individual's and whose primary e-mail follows the Email section) and Email (the primary
e-mail, or the e-mail of the customer's that eml_key names). The vendor's other sections (addresses, phones, faxes,
the organization, …) are accepted and not kept, and read back empty.
"""

from __future__ import annotations

import uuid
from dataclasses import replace

from sqlalchemy import Connection, select

from xweb_emulator.xweb.errors import InvalidInput
from xweb_emulator.xweb.facade import (
    FACADE_OBJECTS,
    Actor,
    FacadeObject,
    check_key_kept,
    customer_object_rows,
    insert_or_refuse,
    require_record,
    update_customer_object,
    write_customer_email,
)
from xweb_emulator.xweb.models import Customer, Email, Individual
from xweb_emulator.xweb.sections import CUSTOMER, EMAIL_COLUMNS, Section, Sections, TypedObject
from xweb_emulator.xweb.values import parse_guid

INDIVIDUAL_OBJECT = FACADE_OBJECTS["individual"]
INDIVIDUAL = Section(INDIVIDUAL_OBJECT, (
    "ind_cst_key", "ind_prf_code", "ind_first_name", "ind_mid_name", "ind_last_name", "ind_sfx_code",
    "ind_designation", "ind_dob", "ind_gender", "ind_badge_name", "ind_deceased_flag", "ind_int_code",
    "ind_add_date", "ind_add_user", "ind_change_date", "ind_change_user", "ind_delete_flag",
))
# The individual's primary e-mail: which one that is, the section does not say (the vendor documents its eml_primary
# as read-only).
PRIMARY_EMAIL = Section(FACADE_OBJECTS["email"], EMAIL_COLUMNS, read_only=frozenset({"eml_primary"}))
INDIVIDUAL_TYPE = TypedObject("IndividualType", key=("Individual", "ind_cst_key"), sections={
    "Individual": INDIVIDUAL, "Customer": CUSTOMER, "Address_Change_Log": None, "TransferToCustomer": None,
    "Organization_XRef": None, "Organization": None, "Email": PRIMARY_EMAIL, "Website": None, "Messaging": None,
    "Business_Address": None, "Business_Address_XRef": None, "Business_Address_Country": None, "Business_Phone": None,
    "Business_Phone_Country": None, "Business_Phone_XRef": None, "Business_Fax": None, "Business_Fax_Country": None,
    "Business_Fax_XRef": None, "Home_Address": None, "Home_Address_Country": None, "Home_Address_XRef": None,
    "Home_Phone": None, "Home_Phone_Country": None, "Home_Phone_XRef": None, "Home_Fax": None,
    "Home_Fax_Country": None, "Home_Fax_XRef": None,
})


def get_individual(connection: Connection, served: FacadeObject, key_text: str | None, field: str = "key") -> Sections:
    """The individual as IndividualType; `served` is the Individual object of the tenant served, whose extender
    columns follow the vendor's in the Individual section."""
    individual = require_record(connection, Individual, parse_guid(key_text or "", field), field)
    customers, emails = Customer.__table__, Email.__table__
    customer = connection.execute(select(customers).where(customers.c.cst_key == individual.ind_cst_key)).one()
    email = connection.execute(select(emails).where(emails.c.eml_key == customer.cst_eml_key)).first()
    view = INDIVIDUAL_TYPE.view(individual.ind_cst_key, {"Individual": individual, "Customer": customer,
                                                         "Email": email})
    view["Individual"].update(served.extension_record(connection, individual.ind_cst_key))
    return view


def insert_individual(connection: Connection, actor: Actor, served: FacadeObject, sections: Sections) -> Sections:
    """A new individual and its customer record, with its primary e-mail when the Email section has an address; the
    whole object answered, its keys filled."""
    own = replace(INDIVIDUAL, facade=served).values(connection, sections, "Individual", new_record_key="ind_cst_key")
    extended = served.split_extension(own)
    customer = CUSTOMER.values(connection, sections, "Customer")
    email = PRIMARY_EMAIL.values(connection, sections, "Email", new_record_key="eml_cst_key")
    if email and email.get("eml_address") is None:
        raise InvalidInput("Email/eml_address is required to give the individual an e-mail.")
    rows = customer_object_rows(connection, INDIVIDUAL_OBJECT, own, customer, email or None)
    key: uuid.UUID = rows[Customer.__table__]["cst_key"]  # type: ignore[assignment]
    insert_or_refuse(connection, actor, [rows], INDIVIDUAL_OBJECT)
    if extended:
        served.extension.write(connection, actor, key, extended)
    return get_individual(connection, served, str(key))


def update_individual(connection: Connection, actor: Actor, served: FacadeObject, sections: Sections) -> bool:
    """Change only the elements sent, on the individual CurrentKey (or Individual/ind_cst_key) names: its own
    columns, its customer record's, and the e-mail of its Email section (Email/eml_key, else its primary)."""
    key: uuid.UUID = require_record(connection, Individual, parse_guid(INDIVIDUAL_TYPE.current_key(sections),
                                                                         "CurrentKey"), "CurrentKey").ind_cst_key
    own = replace(INDIVIDUAL, facade=served).values(connection, sections, "Individual")
    customer = CUSTOMER.values(connection, sections, "Customer")
    email = PRIMARY_EMAIL.values(connection, sections, "Email")
    check_key_kept(own, INDIVIDUAL_OBJECT.key_column, key)
    check_key_kept(customer, "cst_key", key)
    extended = served.split_extension(own)
    if extended:
        served.extension.write(connection, actor, key, extended)
    if not (own or customer or email):
        return True
    update_customer_object(connection, actor, INDIVIDUAL_OBJECT, key, own, customer)
    if email:
        try:
            write_customer_email(connection, actor, key, email)
        except InvalidInput as error:
            raise InvalidInput(f"Email: {error.message}") from None
    return True
