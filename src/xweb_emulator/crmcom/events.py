"""Web customer events: create (one, or up to 1000 with a result per event), show and list.

Every event, whether it comes alone, in a bulk call or from a seed, passes the same checks (`validate_event`) before
anything is written; the events that pass are then numbered and inserted together. In a bulk call an event that
fails lands in unprocessed_customer_events_set and stops none of the others (the vendor's documented behaviour).
"""

from __future__ import annotations

from collections import Counter, namedtuple
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache, lru_cache
from typing import Any

from sqlalchemy import Connection, Integer, bindparam, insert, select, update
from sqlalchemy.orm import Session

from xweb_emulator.crmcom import values
from xweb_emulator.crmcom.errors import (
    AmbiguousValue,
    CrmComError,
    DuplicateValue,
    InvalidValue,
    InvalidValueType,
    MaximumValuesExceeded,
    MissingMandatoryValue,
    NotFoundValue,
)
from xweb_emulator.crmcom.models import (
    EFFECTIVE,
    POSTED,
    UDF_DATES,
    UDF_FLOATS,
    UDF_STRINGS,
    WEB,
    WEB_CUSTOMER_EVENT_NUMBERS,
    AccessToken,
    AccountsReceivable,
    CustomerEventClassification,
    NumberSequence,
    RewardsParticipant,
    Unit,
    WebCustomerEvent,
    new_ids,
)
from xweb_emulator.db import Base, Prepared
from xweb_emulator.inputs import read_integer

MAX_EVENTS_PER_CALL = 1000
MAX_INTEGER = 2**31 - 1  # an Integer column's largest value on every backend
EVENTS_SET = "web_customer_events_set"

# Result fields, in the order of the vendor's example answer.
PROCESSED_FIELDS = ("number", "id", "request_unique_identifier")
UNPROCESSED_FIELDS = ("error_description", "error_code", "request_unique_identifier")

EVENT_FIELDS = (
    "id", "number", "type", "life_cycle_state", "performed_on", "description", "website", "external_system",
    "external_system_reference_number", "accounts_receivable", "rewards_participant", "classification",
    "performed_by_unit", *UDF_STRINGS, *UDF_FLOATS, *UDF_DATES, "log_information",
)


@dataclass(frozen=True)
class Actor:
    username: str
    now: datetime


# ------------------------------------------------------------------------------------------------- identifiers


@dataclass(frozen=True)
class Identified:
    """A kind of record a client names through an identifier object: exactly one of `fields` given."""

    label: str  # as error messages name it: "Account (ACR00045000) Not Found."
    model: type[Base]
    fields: tuple[str, ...]


ACCOUNTS_RECEIVABLE = Identified("Account", AccountsReceivable, ("id", "number", "name"))
REWARDS_PARTICIPANT = Identified("Rewards Participant", RewardsParticipant, ("id", "number", "access_token_identifier"))
ACCESS_TOKEN = Identified("Access Token", AccessToken, ("authentication_code", "identifier", "one_time_password"))
CLASSIFICATION = Identified("Customer Event Classification", CustomerEventClassification,
                            ("id", "name", "alternative_code"))
UNIT = Identified("Unit", Unit, ("id", "name", "alternative_code"))
WEB_CUSTOMER_EVENT = Identified("Web Customer Event", WebCustomerEvent, ("id", "number"))


class Finder:
    """Finds the records identifiers name, remembering what it found for the call: a bulk call may name the same
    unit a thousand times. A record is found as a row of its columns, named as the model's attributes."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._matches: dict[tuple, list] = {}
        self._found: dict[tuple, Any] = {}

    def find(self, kind: Identified, parameter: str, identifier: Any) -> Any:
        """The one record `identifier` names, or None when it names nothing (absent, or every field empty)."""
        if identifier is None:
            return None
        # An identifier of strings found before in the call is not checked again: the thousand events of a bulk
        # call name a few accounts and units. (Only strings: 1 and True would be one key, but are different text.
        # A key of other values equals no key kept, as no string equals them: it is looked up before it is checked.)
        if identifier.__class__ is dict:
            key = (kind.label, *identifier.items())
            try:
                return self._found[key]
            except (KeyError, TypeError):  # not found yet, or a value no key can hold (a list, an object)
                pass
            if all(value.__class__ is str for value in identifier.values()):
                self._found[key] = found = self._find(kind, parameter, identifier)
                return found
        return self._find(kind, parameter, identifier)

    def _find(self, kind: Identified, parameter: str, identifier: Any) -> Any:
        field = _chosen_field(kind, parameter, identifier)
        if field is None:
            return None
        if field == "access_token_identifier":
            return self._participant_by_access_token(identifier[field])
        return self._only(kind, field, values.mandatory_text(identifier, field))

    def get(self, kind: Identified, parameter: str, identifier: Any) -> Any:
        return values.mandatory(self.find(kind, parameter, identifier), parameter)

    def _participant_by_access_token(self, identifier: Any) -> Any:
        """"Only effective access tokens can be used to identify a rewards participant"; an identifier is "validated
        against the specified pass code", which is "mandatory if the identifier is specified"."""
        field = values.mandatory(_chosen_field(ACCESS_TOKEN, "access_token_identifier", identifier),
                                 "access_token_identifier")
        if field == "one_time_password":
            value: Any = values.integer(identifier, field)
        else:
            value = values.mandatory_text(identifier, field)
        if field == "identifier":
            pass_code = values.mandatory_text(identifier, "pass_code")
        token = self._only(ACCESS_TOKEN, field, value)
        if field == "identifier" and token.pass_code != pass_code:
            raise InvalidValue(f"Access Token ({value}) Pass Code Not Valid.")
        if token.life_cycle_state != EFFECTIVE:
            raise InvalidValue(f"Access Token ({value}) Not Effective.")
        participants = self._rows(RewardsParticipant, "id", token.rewards_participant_id)
        return participants[0] if participants else None

    def _only(self, kind: Identified, field: str, value: Any) -> Any:
        matches = self._rows(kind.model, field, value)
        if not matches:
            raise NotFoundValue(f"{kind.label} ({value}) Not Found.")
        if len(matches) > 1:
            raise AmbiguousValue(f"{kind.label} ({value}) Not Unique.")
        return matches[0]

    def _rows(self, model: type[Base], field: str, value: Any) -> list:
        """At most two rows of `model` whose `field` is `value`."""
        key = (model, field, value)
        if key not in self._matches:
            wanted = _stored_integer(value) if isinstance(model.__table__.columns[field].type, Integer) else value
            self._matches[key] = [] if wanted is None else list(map(
                _row_type(model)._make, _matching(model, field).rows(self.connection, {"wanted": wanted})))
        return self._matches[key]


# Look-ups on the driver's cursor (Prepared), their rows as named tuples: through an ORM Session (its savepoint, its
# commit, each select's cache key and loading), a thousand-event bulk create's few look-ups and its token check
# (auth.use_token) cost about 2.4 of its 16.8 ms of CPU.
@cache
def _matching(model: type[Base], field: str) -> Prepared:
    column = model.__table__.columns[field]
    return Prepared(select(model.__table__).where(column == bindparam("wanted", type_=column.type)).limit(2))


@cache
def _row_type(model: type[Base]) -> type[tuple]:
    return namedtuple(f"{model.__name__}Row", [column.key for column in model.__table__.columns])


def _stored_integer(value: int | str) -> int | None:
    """The integer column value `value` can match; None where it can match none ("ABC" as an event number, or a
    number no integer column holds)."""
    if isinstance(value, str):
        if not value.isdigit():
            return None
        try:
            value = read_integer(value)
        except ValueError:  # other scripts' digits, or more digits than any integer column holds
            return None
    return value if -MAX_INTEGER <= value <= MAX_INTEGER else None


def _chosen_field(kind: Identified, parameter: str, identifier: Any) -> str | None:
    """The one field an identifier object gives; None for no identifier (null, {}, or all its fields null)."""
    if identifier is None:
        return None
    if not isinstance(identifier, Mapping):
        raise InvalidValueType(f"Parameter ({parameter}) Is Not An Object.")
    given = [field for field in kind.fields if values.is_specified(identifier.get(field))]
    if len(given) > 1:
        raise InvalidValue(f"Parameter ({parameter}) Specifies More Than One Of {', '.join(given)}.")
    if not given:
        if any(values.is_specified(value) for value in identifier.values()):
            raise MissingMandatoryValue(f"Parameter ({parameter}) Specifies None Of {', '.join(kind.fields)}.")
        return None
    return given[0]


# ---------------------------------------------------------------------------------------------------- creating


def validate_event(finder: Finder, item: Any) -> dict[str, Any]:
    """The columns the web customer event `item` gives a value, every reference resolved; nothing is written. A
    column it leaves out or gives null is not among them (null all the same: insert_events binds it so)."""
    if item.__class__ is not dict and not isinstance(item, Mapping):  # a JSON object is a dict: no ABC check for it
        raise InvalidValueType("Web Customer Event Is Not An Object.")
    accounts_receivable = finder.find(ACCOUNTS_RECEIVABLE, "accounts_receivable_identifier",
                                      item.get("accounts_receivable_identifier"))
    participant = finder.find(REWARDS_PARTICIPANT, "rewards_participant_identifier",
                              item.get("rewards_participant_identifier"))
    if accounts_receivable is None and participant is None:
        raise MissingMandatoryValue(
            "Parameter (accounts_receivable_identifier or rewards_participant_identifier) Not Specified.")
    if accounts_receivable is not None and participant is not None \
            and participant.accounts_receivable_id != accounts_receivable.id:
        raise InvalidValue(f"Rewards Participant ({participant.number}) Does Not Belong To Account "
                           f"({accounts_receivable.number}).")
    classification = finder.find(CLASSIFICATION, "classification_identifier", item.get("classification_identifier"))
    unit = finder.get(UNIT, "performed_by_unit_identifier", item.get("performed_by_unit_identifier"))
    columns: dict[str, Any] = {
        "performed_by_unit_id": unit.id,
        "performed_on": values.mandatory(values.date(item, "performed_on"), "performed_on"),
    }
    if accounts_receivable is not None:
        columns["accounts_receivable_id"] = accounts_receivable.id
    if participant is not None:
        columns["rewards_participant_id"] = participant.id
    if classification is not None:
        columns["classification_id"] = classification.id
    # Read in the order their errors are reported: description, website, then the external system's (those not
    # given are not read: most events give none).
    if "description" in item and (description := values.text(item, "description")) is not None:
        columns["description"] = description
    columns["website"] = values.mandatory_text(item, "website")
    if "external_system" in item and (external_system := values.text(item, "external_system")) is not None:
        columns["external_system"] = external_system
    if "external_system_reference_number" in item \
            and (reference := values.text(item, "external_system_reference_number")) is not None:
        columns["external_system_reference_number"] = reference
    if not _UDFS.isdisjoint(item):
        udfs = {name: values.text(item, name) for name in UDF_STRINGS if name in item}
        udfs.update({name: values.floating(item, name) for name in UDF_FLOATS if name in item})
        udfs.update({name: values.date(item, name) for name in UDF_DATES if name in item})
        columns.update({name: value for name, value in udfs.items() if value is not None})
    return columns


_UDFS = frozenset((*UDF_STRINGS, *UDF_FLOATS, *UDF_DATES))

CreatedEvent = tuple[str, int]
"""An inserted event's id and number."""


def insert_events(connection: Connection, actor: Actor, checked: Sequence[dict[str, Any]]) -> list[CreatedEvent]:
    """Insert validated events (validate_event's columns, each given its id and number here), numbered in order after
    the last number handed out."""
    if not checked:
        return []
    # The UPDATE holds the sequence row until the transaction ends, so concurrent calls number one after the other.
    (last,) = _TAKE_NUMBERS.first(connection, {"taken": len(checked)})
    ids, numbers = new_ids(len(checked)), range(last - len(checked) + 1, last + 1)
    for columns, id_, number in zip(checked, ids, numbers, strict=True):
        columns["id"] = id_
        columns["number"] = number
    # Every row names the same columns (one statement inserts them all): those some event gives a value, and those
    # with a default (a null given must not become the default). The others, null in every event, are left out:
    # null all the same, they would be most of each row's 30 parameters (the udf_ columns, as a rule).
    named = tuple(sorted(set().union(*checked, _DEFAULTED, _SET_ON_INSERT)))
    # Through the driver's executemany, not the ORM nor Connection.execute: a bulk call makes a thousand rows, whose
    # parameter sets those would build and process one by one first. What every row has is bound once; a column a
    # row leaves out (one another event gives) is null.
    _insert_events(named).many(connection, checked, {"life_cycle_state": POSTED, "created_date": actor.now,
                                                     "created_by_user": actor.username}, dict.fromkeys(named))
    return list(zip(ids, numbers, strict=True))


@lru_cache(maxsize=64)
def _insert_events(columns: tuple[str, ...]) -> Prepared:
    """The INSERT of events that give `columns` (sorted), compiled once for each set of columns a call names: the
    user-defined fields events give are few, and the same from one call of a client to the next."""
    return Prepared(insert(WebCustomerEvent), keys=columns)


# Built once, as every statement a call runs: one built per call leaves reference cycles (SQLAlchemy's expressions
# keep their comparators, which refer back to them) for the garbage collector
# (tests/integration/test_reference_cycles.py).
_TAKE_NUMBERS = Prepared(update(NumberSequence).where(NumberSequence.name == WEB_CUSTOMER_EVENT_NUMBERS)
                         .values(last_value=NumberSequence.last_value + bindparam("taken", type_=Integer))
                         .returning(NumberSequence.last_value))
_DEFAULTED = {column.name for column in WebCustomerEvent.__table__.columns if column.default is not None}
_SET_ON_INSERT = {"id", "number", "life_cycle_state", "created_date", "created_by_user"}


def ensure_numbering(session: Session) -> None:
    if session.get(NumberSequence, WEB_CUSTOMER_EVENT_NUMBERS) is None:
        session.add(NumberSequence(name=WEB_CUSTOMER_EVENT_NUMBERS, last_value=0))


def create(session: Session, actor: Actor, item: Mapping[str, Any], fields_set: Any) -> dict[str, Any]:
    """customer_events/web/create: one event, answered as show answers it."""
    fields = values.requested_fields(fields_set, EVENT_FIELDS)
    connection = session.connection()
    ((created, _number),) = insert_events(connection, actor, [validate_event(Finder(connection), item)])
    return values.selected(event_record(session.get(WebCustomerEvent, created)), fields)


def bulk_create(connection: Connection, actor: Actor, items: Any, fields_set: Any,
                item_failure: CrmComError | None = None) -> dict[str, list[dict[str, Any]]]:
    """customer_events/bulk/web/create. `item_failure` (a fault rule's) fails every event as its own error would."""
    if items is None or items == []:
        raise MissingMandatoryValue(f"Parameter ({EVENTS_SET}) Not Specified.")
    if not isinstance(items, list):
        raise InvalidValueType(f"Parameter ({EVENTS_SET}) Is Not A Set.")
    if len(items) > MAX_EVENTS_PER_CALL:
        raise MaximumValuesExceeded(f"Parameter ({EVENTS_SET}) Holds {len(items)} Web Customer Events; "
                                    f"The Maximum Is {MAX_EVENTS_PER_CALL}.")
    fields = values.requested_fields(fields_set, {*PROCESSED_FIELDS, *UNPROCESSED_FIELDS})
    identifiers = [_request_identifier(item) for item in items]
    uses = Counter(identifier for identifier in identifiers if identifier is not None)
    finder = Finder(connection)
    accepted: list[str] = []  # the events that pass: their identifiers, and their columns
    checked: list[dict[str, Any]] = []
    unprocessed = []
    for item, identifier in zip(items, identifiers, strict=True):
        try:
            if item_failure is not None:
                raise item_failure
            # An identifier was read above; an event without one (or with one of the wrong type) is refused here.
            if identifier is None and (item.__class__ is dict or isinstance(item, Mapping)):
                values.mandatory_text(item, "request_unique_identifier")
            if uses[identifier] > 1:
                raise DuplicateValue(f"Request Unique Identifier ({identifier}) Specified More Than Once.")
            checked.append(validate_event(finder, item))
            accepted.append(identifier)
        except CrmComError as error:
            unprocessed.append(values.selected({"error_description": error.error_description,
                                                "error_code": error.code,
                                                "request_unique_identifier": identifier}, fields))
    processed = [{"number": str(number), "id": id_, "request_unique_identifier": identifier}
                 for identifier, (id_, number) in zip(accepted, insert_events(connection, actor, checked), strict=True)]
    if fields is not None:
        processed = [values.selected(result, fields) for result in processed]
    return {"unprocessed_customer_events_set": unprocessed, "processed_customer_events_set": processed}


def _request_identifier(item: Any) -> str | None:
    """The identifier an event's result is reported under (None where the event gives none that is a string)."""
    try:
        return (values.text(item, "request_unique_identifier")
                if item.__class__ is dict or isinstance(item, Mapping) else None)
    except InvalidValueType:
        return None


# ----------------------------------------------------------------------------------------------------- reading


def show(session: Session, identifier: Any, fields_set: Any) -> dict[str, Any]:
    """customer_events/web/show: the event customer_event_identifier (id or number) names."""
    fields = values.requested_fields(fields_set, EVENT_FIELDS)
    found = Finder(session.connection()).get(WEB_CUSTOMER_EVENT, "customer_event_identifier", identifier)
    return values.selected(event_record(session.get(WebCustomerEvent, found.id)), fields)


def list_events(session: Session, params: Mapping[str, Any]) -> list[dict[str, Any]]:
    """customer_events/web/list: the events of an accounts receivable, rewards participant or classification,
    submitted in a period, in number order; number_of_results and offset page through them."""
    fields = values.requested_fields(params.get("fields_set"), EVENT_FIELDS)
    finder = Finder(session.connection())
    statement = select(WebCustomerEvent).order_by(WebCustomerEvent.number)
    for kind, parameter, column in (
        (ACCOUNTS_RECEIVABLE, "accounts_receivable_identifier", WebCustomerEvent.accounts_receivable_id),
        (REWARDS_PARTICIPANT, "rewards_participant_identifier", WebCustomerEvent.rewards_participant_id),
        (CLASSIFICATION, "classification_identifier", WebCustomerEvent.classification_id),
    ):
        record = finder.find(kind, parameter, params.get(parameter))
        if record is not None:
            statement = statement.where(column == record.id)
    after, before = values.date(params, "submitted_after_date"), values.date(params, "submitted_before_date")
    if after is not None:
        statement = statement.where(WebCustomerEvent.created_date > after)
    if before is not None:
        statement = statement.where(WebCustomerEvent.created_date < before)
    limit, offset = values.integer(params, "number_of_results"), values.integer(params, "offset")
    if (limit is not None and not 1 <= limit <= MAX_INTEGER) or (offset is not None and not 0 <= offset <= MAX_INTEGER):
        raise InvalidValue("Parameters (number_of_results, offset) Out Of Range.")
    statement = statement.limit(limit).offset(offset)
    return [values.selected(event_record(event), fields) for event in session.scalars(statement)]


def event_record(event: WebCustomerEvent) -> dict[str, Any]:
    """A web customer event as show and list answer it."""
    accounts_receivable, participant = event.accounts_receivable, event.rewards_participant
    classification, unit = event.classification, event.performed_by_unit
    record: dict[str, Any] = {
        "id": event.id,
        "number": str(event.number),
        "type": WEB,
        "life_cycle_state": event.life_cycle_state,
        "performed_on": values.written_date(event.performed_on),
        "description": event.description,
        "website": event.website,
        "external_system": event.external_system,
        "external_system_reference_number": event.external_system_reference_number,
        "accounts_receivable": None if accounts_receivable is None else {
            "id": accounts_receivable.id, "number": accounts_receivable.number, "name": accounts_receivable.name},
        "rewards_participant": None if participant is None else {"id": participant.id, "number": participant.number},
        "classification": None if classification is None else {
            "id": classification.id, "name": classification.name, "alternative_code": classification.alternative_code},
        "performed_by_unit": {"id": unit.id, "name": unit.name, "alternative_code": unit.alternative_code},
    }
    record.update({name: getattr(event, name) for name in (*UDF_STRINGS, *UDF_FLOATS)})
    record.update({name: values.written_date(getattr(event, name)) for name in UDF_DATES})
    record["log_information"] = {"created_date": values.written_date(event.created_date),
                                 "created_by_user": event.created_by_user}
    return record
