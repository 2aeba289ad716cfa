"""Loading records: the demo data every fresh database gets, and the `seed` command's "crmcom" section.

A section holds objects by name, each a list of records in the Web API's field names; a record refers to another
through the same identifier objects a client sends, and a WebCustomerEvent record is a bulk create's event (without
request_unique_identifier), checked by the same rules:

    {"AccountsReceivable": [{"number": "ACR0000000020", "name": "…"}],
     "RewardsParticipant": [{"number": "RP0000000019", "accounts_receivable_identifier": {"number": "ACR0000000020"}}],
     "AccessToken": [{"rewards_participant_identifier": {"number": "RP0000000019"}, "identifier": "…",
                      "pass_code": "…", "life_cycle_state": "EFFECTIVE"}],
     "Unit": [{"name": "Admin Unit"}], "CustomerEventClassification": [{"name": "…"}],
     "WebCustomerEvent": [{"accounts_receivable_identifier": {…}, "performed_by_unit_identifier": {…}, …}]}

Objects are loaded in that order, whatever the order of the section. Ids may be given (32 hex characters) or are
drawn.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xweb_emulator.crmcom import events, values
from xweb_emulator.crmcom.errors import InvalidValue, InvalidValueType
from xweb_emulator.crmcom.models import (
    ACCESS_TOKEN_STATES,
    EFFECTIVE,
    AccessToken,
    AccountsReceivable,
    CustomerEventClassification,
    RewardsParticipant,
    Unit,
    WebCustomerEvent,
    new_id,
)
from xweb_emulator.db import Base, unfit_column

SEED_USER = "seed"

_ID = re.compile(r"[0-9A-Fa-f]{32}")

# What the vendor's bulk create example refers to, so that it gets the example's answer on a fresh start: two
# accounts that exist (ACR0000000020, ACR0000000077; ACR00045000 and ACR00670040 must not) and the "Admin Unit".
# A rewards participant with an effective and a not effective access token shows the other way to name a customer.
DEMO_DATA: dict[str, list[dict[str, Any]]] = {
    "AccountsReceivable": [
        {"id": "6A1F0D2C9B8E4F3A8C7D5E4F3A2B1C20", "number": "ACR0000000020", "name": "Maria Georgiou"},
        {"id": "0B9C8D7E6F5A4B3C2D1E0F9A8B7C6D77", "number": "ACR0000000077", "name": "Andreas Christodoulou"},
    ],
    "RewardsParticipant": [
        {"id": "3E2D1C0B9A8F4E7D6C5B4A3F2E1D0C19", "number": "RP0000000019",
         "accounts_receivable_identifier": {"number": "ACR0000000020"}},
    ],
    "AccessToken": [
        {"id": "9F8E7D6C5B4A4392817065F4E3D2C1B0", "rewards_participant_identifier": {"number": "RP0000000019"},
         "authentication_code": "AC0000000019", "identifier": "6010000000000019", "pass_code": "1919",
         "life_cycle_state": EFFECTIVE},
        {"id": "1A2B3C4D5E6F47089A1B2C3D4E5F6071", "rewards_participant_identifier": {"number": "RP0000000019"},
         "authentication_code": "AC0000000018", "identifier": "6010000000000018", "pass_code": "1818",
         "life_cycle_state": "NOT_EFFECTIVE"},
    ],
    "Unit": [
        {"id": "5C4B3A2F1E0D4C9B8A7F6E5D4C3B2A10", "name": "Admin Unit", "alternative_code": "ADMIN"},
    ],
    "CustomerEventClassification": [
        {"id": "7E6D5C4B3A2F4E1D0C9B8A7F6E5D4C30", "name": "Website Visit", "alternative_code": "WEBVISIT"},
    ],
}


def load(session: Session, now: datetime, section: Any) -> dict[str, list[str]]:
    """Store a section's records; answer the ids created, by object name."""
    if not isinstance(section, Mapping):
        raise InvalidValueType("A crmcom seed is an object of object names, each a list of records.")
    unknown = sorted(set(section) - set(_LOADERS))
    if unknown:
        raise InvalidValue(f"Object ({unknown[0]}) Not Known: the objects are {', '.join(_LOADERS)}.")
    finder = events.Finder(session.connection())
    created: dict[str, list[str]] = {}
    for object_name, loader in _LOADERS.items():
        records = section.get(object_name)
        if records is None:
            continue
        if not isinstance(records, list) or not all(isinstance(record, Mapping) for record in records):
            raise InvalidValueType(f"{object_name}: expected a list of records.")
        created[object_name] = loader(session, finder, now, records)
    return created


def load_demo_if_empty(session: Session, now: datetime) -> None:
    models = (AccountsReceivable, RewardsParticipant, AccessToken, Unit, CustomerEventClassification, WebCustomerEvent)
    if all(session.scalars(select(model.id).limit(1)).first() is None for model in models):
        load(session, now, DEMO_DATA)


def _added(session: Session, row: Base) -> Base:
    model = type(row)
    unfit = unfit_column(row)
    if unfit is not None:
        column, why = unfit
        raise InvalidValue(f"{model.__name__} {column.name} ({getattr(row, column.key)}) {why.title()}.")
    if session.get(model, row.id) is not None:
        raise InvalidValue(f"{model.__name__} ({row.id}) Already Exists.")
    number = getattr(row, "number", None)
    if number is not None and session.scalars(select(model.id).where(model.number == number)).first() is not None:
        raise InvalidValue(f"{model.__name__} ({number}) Already Exists.")
    session.add(row)
    session.flush()  # the next record may name this one
    return row


def _id(record: Mapping[str, Any]) -> str:
    given = values.text(record, "id")
    if given is None:
        return new_id()
    if not _ID.fullmatch(given):
        raise InvalidValue(f"Id ({given}) Is Not 32 Hexadecimal Characters.")
    return given.upper()


def _accounts_receivable(finder: events.Finder, record: Mapping[str, Any]) -> AccountsReceivable:
    return AccountsReceivable(id=_id(record), number=values.mandatory_text(record, "number"),
                              name=values.mandatory_text(record, "name"))


def _rewards_participant(finder: events.Finder, record: Mapping[str, Any]) -> RewardsParticipant:
    accounts_receivable = finder.find(events.ACCOUNTS_RECEIVABLE, "accounts_receivable_identifier",
                                      record.get("accounts_receivable_identifier"))
    return RewardsParticipant(id=_id(record), number=values.mandatory_text(record, "number"),
                              accounts_receivable_id=accounts_receivable.id if accounts_receivable else None)


def _access_token(finder: events.Finder, record: Mapping[str, Any]) -> AccessToken:
    participant = finder.get(events.REWARDS_PARTICIPANT, "rewards_participant_identifier",
                             record.get("rewards_participant_identifier"))
    state = values.text(record, "life_cycle_state") or EFFECTIVE
    if state not in ACCESS_TOKEN_STATES:
        raise InvalidValue(f"Life Cycle State ({state}) Not One Of {', '.join(ACCESS_TOKEN_STATES)}.")
    identifier = values.text(record, "identifier")
    # An identifier is "validated against the specified pass code": one without a pass code could never be used.
    pass_code = values.text(record, "pass_code") if identifier is None else values.mandatory_text(record, "pass_code")
    return AccessToken(id=_id(record), rewards_participant_id=participant.id,
                       authentication_code=values.text(record, "authentication_code"), identifier=identifier,
                       pass_code=pass_code, one_time_password=values.integer(record, "one_time_password"),
                       life_cycle_state=state)


def _named(model: type[Unit] | type[CustomerEventClassification]) -> Callable[[events.Finder, Mapping], Base]:
    return lambda finder, record: model(id=_id(record), name=values.mandatory_text(record, "name"),
                                        alternative_code=values.text(record, "alternative_code"))


Loader = Callable[[Session, events.Finder, datetime, list[Mapping[str, Any]]], list[str]]
"""Stores records, answering their ids."""


def _each(build: Callable[[events.Finder, Mapping[str, Any]], Base]) -> Loader:
    """A loader that stores records one by one, each visible to the next (a participant names an account)."""
    return lambda session, finder, now, records: [_added(session, build(finder, record)).id for record in records]


def _web_customer_events(session: Session, finder: events.Finder, now: datetime,
                         records: list[Mapping[str, Any]]) -> list[str]:
    checked = [events.validate_event(finder, record) for record in records]
    return [id_ for id_, _number in events.insert_events(session.connection(), events.Actor(SEED_USER, now), checked)]


_LOADERS: dict[str, Loader] = {
    "AccountsReceivable": _each(_accounts_receivable),
    "RewardsParticipant": _each(_rewards_participant),
    "AccessToken": _each(_access_token),
    "Unit": _each(_named(Unit)),
    "CustomerEventClassification": _each(_named(CustomerEventClassification)),
    "WebCustomerEvent": _web_customer_events,
}
