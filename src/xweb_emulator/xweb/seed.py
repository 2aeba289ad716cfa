"""Loading records: the demo data every fresh database gets, and the `seed` command's files.

A seed is facade objects by name, each a list of records in the vendor's column names, inserted in the order given
through the same rules as InsertFacadeObject — a seed cannot store what a client could not:

    {"Individual": [{"ind_cst_key": "…", "ind_first_name": "Ada", "ind_last_name": "Lovelace",
                     "eml_address": "ada@example.org"}],
     "Organization": [{"org_name": "Analytical Engines Ltd"}],
     "Email": [{"eml_cst_key": "…", "eml_address": "…"}]}

An Individual or Organization record holds its own columns (ind_*, org_*), its customer record's (cst_*) and its
primary e-mail address (eml_address); the customer's name columns follow the names given.

"WebUser" is no facade object: its records are web logins of customers seeded before them,
{"cst_key": "…", "login": "ada", "password": "…", "roles": ["Member"], "locked": false} (docs/sign-on.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from xweb_emulator.xweb.errors import InvalidInput
from xweb_emulator.xweb.facade import Actor, Record, insert_records
from xweb_emulator.xweb.tenant import tenant_of
from xweb_emulator.xweb import web_users
from xweb_emulator.xweb.models import Customer

SEED_USER = "seed"

# The records the xWeb seed documents' sample requests refer to, so that each of them succeeds on a fresh start.
_SAMPLE_CUSTOMER = "2a50c454-eac0-4768-9a85-0c97968be7fd"  # InsertFacadeObject / CustomerMessagingActivity
_PREFERENCES_CUSTOMER = "fadff57b-c6ef-4130-be1e-07000a38056f"  # SetCustomerCommunicationPreferences (JSON)
_UNITED_STATES = "0f4a8c42-9d5e-4f4b-a6c1-6a1d3b1f0a01"
_US_PHONE_TYPE_WORK = "3445f817-a38f-483a-aabe-b8d3c084832b"  # the vendor's default cph_pht_key

DEMO_DATA: dict[str, list[Record]] = {
    "Country": [
        {"cty_key": _UNITED_STATES, "cty_code": "UNITED STATES", "cty_iso_2": "US", "cty_iso_3": "USA",
         "cty_idd_code": "1"},
    ],
    "PhoneType": [
        {"pht_key": _US_PHONE_TYPE_WORK, "pht_code": "work"},
        {"pht_key": "243f7447-c38b-473f-be84-dbedd2f1f55e", "pht_code": "mobile"},
        {"pht_key": "6e0c8b7a-3f0d-4d7e-9a55-2f7d1b0e6c11", "pht_code": "home"},
    ],
    "Individual": [
        {"ind_cst_key": _SAMPLE_CUSTOMER, "ind_first_name": "Someone", "ind_last_name": "Somewhere",
         "cst_eml_address_dn": "someone@somewhere.com",
         "cst_eml_key": "5b0d9b1e-4c1a-4f43-9a9e-0d6f4a2c7e01", "cst_cph_key": "ae0c81e1-4af5-43bb-95f1-221459c07a80",
         "cst_phn_number_complete_dn": "800-555-0100"},
        {"ind_cst_key": _PREFERENCES_CUSTOMER, "ind_first_name": "Pat", "ind_last_name": "Instructor",
         "cst_eml_address_dn": "pat.instructor@example.org",
         "cst_eml_key": "abc320db-863f-441a-8ab4-5fc827fc33c2", "cst_cph_key": "f46291d8-6b16-467f-97ef-fb16028a2b98",
         "cst_phn_number_complete_dn": "800-555-0200"},
    ],
    "Email": [
        {"eml_key": "5b0d9b1e-4c1a-4f43-9a9e-0d6f4a2c7e01", "eml_cst_key": _SAMPLE_CUSTOMER,
         "eml_address": "someone@somewhere.com", "eml_type": "business", "eml_primary": "1"},
        {"eml_key": "abc320db-863f-441a-8ab4-5fc827fc33c2", "eml_cst_key": _PREFERENCES_CUSTOMER,
         "eml_address": "pat.instructor@example.org", "eml_type": "business", "eml_primary": "1"},
    ],
    "Phone": [
        {"phn_key": "d8d6f804-fc51-4f5d-8a42-4384aa2d37ba", "phn_cst_key_owner": _SAMPLE_CUSTOMER,
         "phn_number": "800-555-0100", "phn_number_display": "(800) 555-0100", "phn_cty_key": _UNITED_STATES},
        {"phn_key": "9c1f7d52-0b8e-4c3a-8f6e-5a4d2c1b0e02", "phn_cst_key_owner": _PREFERENCES_CUSTOMER,
         "phn_number": "800-555-0200", "phn_number_display": "(800) 555-0200", "phn_cty_key": _UNITED_STATES},
    ],
    "CustomerPhone": [
        {"cph_key": "ae0c81e1-4af5-43bb-95f1-221459c07a80", "cph_cst_key": _SAMPLE_CUSTOMER,
         "cph_phn_key": "d8d6f804-fc51-4f5d-8a42-4384aa2d37ba", "cph_pht_key": _US_PHONE_TYPE_WORK,
         "cph_primary": "1"},
        {"cph_key": "f46291d8-6b16-467f-97ef-fb16028a2b98", "cph_cst_key": _PREFERENCES_CUSTOMER,
         "cph_phn_key": "9c1f7d52-0b8e-4c3a-8f6e-5a4d2c1b0e02", "cph_pht_key": _US_PHONE_TYPE_WORK,
         "cph_primary": "1"},
    ],
    "MailingList": [
        {"mlt_key": "b31c52e4-29c1-4a65-8c53-0626342c920d", "mlt_name": "Instructors - Online",
         "mlt_category": "Instructors", "mlt_type": "subscription"},
        {"mlt_key": "6cc179ee-99c3-4b6b-8bab-36574550a5e5", "mlt_name": "Accreditation",
         "mlt_category": "Email Opt-In", "mlt_type": "promotional"},
        {"mlt_key": "e86b36bf-7ca2-4919-ad2e-3a7ef268ab39", "mlt_name": "Annual Conference Mailing List",
         "mlt_category": "event", "mlt_type": "promotional"},
    ],
}

WEB_USERS = "WebUser"

# One web user per demo individual (docs/sign-on.md lists them).
DEMO_WEB_USERS: list[dict[str, object]] = [
    {"cst_key": _SAMPLE_CUSTOMER, "login": "someone", "password": "someone-password", "roles": ["Member"]},
    {"cst_key": _PREFERENCES_CUSTOMER, "login": "pat", "password": "pat-password", "roles": ["Member", "Instructor"]},
]


def load(session: Session, actor: Actor, seed: Mapping[str, Sequence[Record]]) -> dict[str, list[str]]:
    """Insert a seed's records; answer the keys created, by object name."""
    if not isinstance(seed, Mapping):
        raise InvalidInput("An xWeb seed is an object of facade object names, each a list of records.")
    created: dict[str, list[str]] = {}
    for object_name, records in seed.items():
        if object_name == WEB_USERS:
            session.flush()
            created.setdefault(WEB_USERS, []).extend(web_users.seed(session, records))
            continue
        facade = tenant_of(session.connection()).facade_object(object_name)
        if not isinstance(records, Sequence) or isinstance(records, str) or not all(
            isinstance(record, Mapping) for record in records
        ):
            raise InvalidInput(f"{object_name}: expected a list of records.")
        records = [{name: _text(value) for name, value in record.items()} for record in records]
        session.flush()  # what the ORM still holds, before the rows that may refer to it
        keys = insert_records(session.connection(), actor, facade, records)
        created.setdefault(facade.name, []).extend(str(key) for key in keys)
    return created


def load_profile_web_users(session: Session) -> None:
    """The web users of the profile in force, as it gives them (a customer's web login the demo data or a seed
    gave is made so too)."""
    profile = tenant_of(session.connection()).profile
    for record in profile.web_users:
        web_users.put(session, record.cst_key, record.login, record.password, record.roles, record.locked)


def load_demo_if_empty(session: Session, actor: Actor) -> bool:
    if session.scalars(select(Customer.cst_key).limit(1)).first() is not None:
        return False
    load(session, actor, DEMO_DATA)
    load(session, actor, {WEB_USERS: DEMO_WEB_USERS})
    return True


def _text(value: object) -> str | None:
    return None if value is None else str(value)
