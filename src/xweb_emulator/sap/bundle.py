"""What the three bundle operations share: the call as a whole (at most 1000 inbound instances), each Campaign node
processed atomically (every check first; a campaign with an error item is left unchanged and not confirmed), and
the lookups of campaigns, addressees and outbounds their checks are made of.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache, partial
from typing import Generic, NamedTuple, TypeVar

from lxml import etree
from sqlalchemy import Column, Connection, TypeDecorator, Uuid, bindparam, select, type_coerce, update
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from xweb_emulator.db import Prepared
from xweb_emulator.sap import log
from xweb_emulator.sap.errors import Refused
from xweb_emulator.sap.log import CampaignConfirmation, Confirmation, LogItem, Message
from xweb_emulator.sap.models import Campaign, CampaignOutbound, ContactPerson, Customer
from xweb_emulator.sap.request import CampaignNode, Node, Party

MAX_INSTANCES = 1000  # "The web service does not support more than 1000 inbounds in one call."

NO_ACTION, UPDATE, CREATE = "06", "02", "01"
ACTION_MEANINGS = {CREATE: "Create", UPDATE: "Update", NO_ACTION: "No Action"}

EXTERNAL_EXECUTION = "7"
# Campaign execution types 1 E-Mail, 2 Fax, 3 Letter, 4 Phone Call (each using file export), 7 External Execution.
FILE_EXPORT_OR_EXTERNAL_EXECUTION = ("1", "2", "3", "4", EXTERNAL_EXECUTION)

Change = Callable[[], None] | dict[str, object]
"""What a checked node will write, only once every node of its campaign passed: a row of its bundle's statement
(Bundle.statement), else a callable that writes it."""


class CampaignRecord(NamedTuple):
    """A campaign a request names, as find_campaign reads it."""

    uuid: uuid.UUID
    id: str
    execution_type_code: str
    change_state_id: str


class Account(NamedTuple):
    """An account a request names, as the Directory reads it (its UUID as stored, see StoredUuid)."""

    uuid: object
    internal_id: str


class AccountContact(NamedTuple):
    """A contact person a request names, as the Directory reads it (UUIDs as stored)."""

    uuid: object
    internal_id: str
    customer_uuid: object


class Outbound(NamedTuple):
    """A campaign outbound, as CampaignScope.outbound reads it (UUIDs as stored)."""

    uuid: object
    customer_uuid: object
    contact_person_uuid: object | None


NodeT = TypeVar("NodeT", bound=Node)


class StoredUuid(TypeDecorator):
    """A Uuid column's values as the database driver holds them (SQLite: the 32 hex digits; PostgreSQL: uuid.UUID),
    bound and read without a uuid.UUID made of each: the checks only compare them, and a bundle of a thousand
    outbounds reads some 6000 (5 ms of parsing). Directory.as_uuid gives one as uuid.UUID where a record is written."""

    impl = Uuid
    cache_ok = True

    def bind_processor(self, dialect: Dialect) -> None:
        return None

    def result_processor(self, dialect: Dialect, coltype: object) -> None:
        return None


STORED_UUID = StoredUuid()


class Addressee(NamedTuple):  # not a frozen dataclass: a bundle makes a thousand (see request.Party)
    customer: Account
    contact_person: AccountContact | None
    loaded: Callable[[object], uuid.UUID]
    """A stored UUID as uuid.UUID (Directory.as_uuid)."""

    @property
    def stored_keys(self) -> tuple[object, object | None]:
        """The account's and contact person's UUIDs as stored: the key of their outbound."""
        return self.customer.uuid, self.contact_person.uuid if self.contact_person is not None else None

    @property
    def customer_uuid(self) -> uuid.UUID:
        return self.loaded(self.customer.uuid)

    @property
    def contact_person_uuid(self) -> uuid.UUID | None:
        return self.loaded(self.contact_person.uuid) if self.contact_person is not None else None

    def describe(self) -> str:
        if self.contact_person is None:
            return f"account {self.customer.internal_id}"
        return f"account {self.customer.internal_id} and contact person {self.contact_person.internal_id}"


class Directory:
    """The accounts and contact persons a request names, read on the first look-up (none where every node is found
    by CampaignScope.named_outbound): each kind in one query per 512 identifiers (a bundle of a thousand outbounds
    would otherwise look each one up on its own). Only the columns the checks need are read, as rows: a thousand ORM
    objects cost several times as much to load; their UUIDs as stored (StoredUuid)."""

    _RECORDS = {Customer: Account, ContactPerson: AccountContact}

    def __init__(self, connection: Connection, parties: list[Party]) -> None:
        self.connection = connection
        self._parties = parties
        dialect = connection.dialect
        # How the driver holds a uuid.UUID, and back: Uuid's own processors (None where the driver takes uuid.UUID).
        self._stored = Uuid().bind_processor(dialect) or _unchanged
        self.as_uuid = Uuid().result_processor(dialect, None) or _unchanged
        self._by_uuid: dict[type, dict[object, Account | AccountContact]] | None = None  # by the UUID as stored
        self._by_internal_id: dict[type, dict[str, Account | AccountContact]] = {}

    def by_uuid(self, model: type, key: uuid.UUID) -> Account | AccountContact | None:
        self._read_once()
        return self._by_uuid[model].get(self._stored(key))

    def by_internal_id(self, model: type, internal_id: str) -> Account | AccountContact | None:
        self._read_once()
        return self._by_internal_id[model].get(internal_id)

    def stored_account_uuids(self) -> list[object]:
        """The UUIDs as stored of the accounts the request names that exist."""
        self._read_once()
        return list(self._by_uuid[Customer])

    def _read_once(self) -> None:
        if self._by_uuid is not None:
            return
        self._by_uuid, parties = {}, self._parties
        for model, keys, internal_ids in (
            (Customer, {p.customer_uuid for p in parties}, {p.customer_internal_id for p in parties}),
            (ContactPerson, {p.contact_person_uuid for p in parties}, {p.contact_person_internal_id for p in parties}),
        ):
            # One row per record, whichever of its two keys found it: the checks compare records by identity.
            by_uuid = self._by_uuid[model] = {}
            for row in self._read(model, "uuid", keys) + self._read(model, "internal_id", internal_ids):
                by_uuid.setdefault(row.uuid, row)
            self._by_internal_id[model] = {row.internal_id: row for row in by_uuid.values()}

    def _read(self, model: type, column: str, wanted: set) -> list[Account | AccountContact]:
        rows = _rows_of(self.connection, partial(_rows_by, model, column),
                        sorted(value for value in wanted if value is not None))
        return list(map(self._RECORDS[model]._make, rows))


@dataclass
class CampaignScope:
    """One Campaign node under processing: its campaign and the Log items found for it."""

    connection: Connection
    open_session: Callable[[], Session]
    """The call's ORM session, made on first use (by the checks that work with mapped objects: reactions')."""
    now: datetime
    campaign: CampaignRecord
    directory: Directory
    nodes: int
    """How many nodes the Campaign node holds."""
    items: list[LogItem] = field(default_factory=list)
    _outbounds: dict[tuple[object, object | None], Outbound] | None = None
    """The campaign's outbounds by their account's and contact person's UUIDs as stored."""
    _named_outbounds: dict[tuple[str, str | None], object] | None = None
    """The campaign's outbounds' UUIDs as stored, by their account's and contact person's internal IDs."""
    _named_outbounds_read: bool = False

    def error(self, message: Message, reference: str | None, **values: object) -> None:
        self.items.append(message.item(reference, **values))

    def check_action_code(self, node: Node, node_name: str, allowed: str) -> None:
        if node.action_code not in (None, allowed):
            self.error(log.ACTION_CODE_NOT_ALLOWED, node.reference, code=node.action_code, node=node_name,
                       allowed=allowed, meaning=ACTION_MEANINGS[allowed])

    def named_outbound(self, party: Party) -> object | None:
        """The UUID as stored of the outbound of a party that names its account, and its contact person if any, by
        internal ID alone, where one of the campaign's outbounds is theirs: found in one look-up, with nothing to
        report (what `addressee` and `outbound` would find). None for any other party: those two then find what to
        report."""
        if party.customer_uuid is not None or party.contact_person_uuid is not None:
            return None
        if not self._named_outbounds_read:
            self._read_named_outbounds()
        if self._named_outbounds is None:
            return None
        return self._named_outbounds.get((party.customer_internal_id, party.contact_person_internal_id))

    def _read_named_outbounds(self) -> None:
        """The campaign's outbounds by internal IDs, in one query, where the campaign holds not many more outbounds
        than the node names (a larger one's nodes are left to `addressee` and `outbound`, so that a call's reads grow
        with the request, not the campaign)."""
        self._named_outbounds_read = True
        most = _NAMED_OUTBOUNDS_PER_NODE * self.nodes + _NAMED_OUTBOUNDS_ANYWAY
        rows = _CAMPAIGN_NAMED_OUTBOUNDS.rows(self.connection, {"campaign": self.campaign.uuid, "most": most + 1})
        if len(rows) <= most:
            # The seed gives a campaign one outbound per account and contact person, a contact person of that account.
            self._named_outbounds = {(customer, contact): outbound for outbound, customer, contact in rows}

    def addressee(self, node: Node) -> Addressee | None:
        addressee, items = find_addressee(self.directory, node.party, node.reference)
        self.items.extend(items)
        return addressee

    def outbound(self, addressee: Addressee) -> Outbound | None:
        if self._outbounds is None:  # the campaign's outbounds to the accounts the request names, read once
            self._outbounds = {}
            for row in _rows_of(self.connection, _outbounds_to, self.directory.stored_account_uuids(),
                                campaign=self.campaign.uuid):
                outbound = Outbound._make(row)
                self._outbounds.setdefault((outbound.customer_uuid, outbound.contact_person_uuid), outbound)
        return self._outbounds.get(addressee.stored_keys)

    @property
    def session(self) -> Session:
        return self.open_session()


@dataclass(frozen=True)
class Bundle(Generic[NodeT]):
    """One kind of campaign inbound: the nodes its Campaign nodes hold, the campaigns it may touch, its checks."""

    name: str  # FailedDeliveryStatus, MailingPermission, Reaction
    inbounds: str  # what the Log calls them
    node_element: str
    read_node: Callable[[Mapping], NodeT]
    execution_types: tuple[str, ...]
    check: Callable[[CampaignScope, NodeT], Change | None]
    statement: Prepared | None = None
    """The statement every change of the bundle is a row of, run for a campaign's changes in one execution (the
    driver's executemany): a bundle of a thousand bounces is one UPDATE."""
    read_element: Callable[[etree._Element], NodeT | None] | None = None
    """A node read straight from its element, where that reads it (see request.read_campaigns)."""

    @property
    def kept(self) -> frozenset[str] | None:
        """The elements the wire leaves as they are, for read_element (jsonnet.element_value's `kept`)."""
        return frozenset({self.node_element}) if self.read_element is not None else None


def _unchanged(value: object) -> object:
    return value


def _stored(*columns: Column) -> list:
    """The columns to read, their UUIDs as stored."""
    return [type_coerce(column, STORED_UUID).label(column.key) if isinstance(column.type, Uuid) else column
            for column in columns]


# Statements run on the driver's cursor (Prepared), their rows read as the named tuples above: through
# Connection.execute, the thousand values of an IN list rendered anew each time and the rows made into Row objects
# cost as much again as the statements themselves.
_CAMPAIGN_NAMED_OUTBOUNDS = Prepared(
    select(*_stored(CampaignOutbound.uuid), Customer.internal_id, ContactPerson.internal_id)
    .select_from(CampaignOutbound)
    .join(Customer, Customer.uuid == CampaignOutbound.customer_uuid)
    .outerjoin(ContactPerson, ContactPerson.uuid == CampaignOutbound.contact_person_uuid)
    .where(CampaignOutbound.campaign_uuid == bindparam("campaign")).limit(bindparam("most")))
# The most of a campaign's outbounds read by internal IDs: 4 for each node the Campaign node holds, and 100.
_NAMED_OUTBOUNDS_PER_NODE, _NAMED_OUTBOUNDS_ANYWAY = 4, 100
_CAMPAIGN_BY_ID, _CAMPAIGN_BY_REFERENCE_ID = (
    Prepared(select(Campaign.uuid, Campaign.id, Campaign.execution_type_code, Campaign.change_state_id)
             .where(named_by == bindparam("wanted")))
    for named_by in (Campaign.id, Campaign.reference_id))
_CHANGE_STATE = Prepared(update(Campaign).where(Campaign.uuid == bindparam("campaign"))
                         .values(change_state_id=bindparam("changed")))
_COLUMNS = {Customer: _stored(Customer.uuid, Customer.internal_id),
            ContactPerson: _stored(ContactPerson.uuid, ContactPerson.internal_id, ContactPerson.customer_uuid)}
_MOST_WANTED = 512  # values looked up in one statement (SQLite before 3.32 binds at most 999)
_WANTED = [f"wanted_{n}" for n in range(_MOST_WANTED)]


@cache
def _rows_by(model: type, column: str, size: int) -> Prepared:
    """The rows of `model` whose `column` is one of `size` values (a power of two: a few statements serve every
    count), bound as wanted_0 …. Built once: a statement built per call leaves reference cycles for the garbage
    collector (tests/integration/test_reference_cycles.py)."""
    compared = getattr(model, column)
    return Prepared(select(*_COLUMNS[model]).where(
        compared.in_([bindparam(name, type_=compared.type) for name in _WANTED[:size]])))


@cache
def _outbounds_to(size: int) -> Prepared:
    """The outbounds of a campaign to one of `size` accounts (their UUIDs as stored), bound as wanted_0 …: a call
    reads those its nodes name, not the whole campaign."""
    account = type_coerce(CampaignOutbound.customer_uuid, STORED_UUID)
    return Prepared(select(*_stored(
        CampaignOutbound.uuid, CampaignOutbound.customer_uuid, CampaignOutbound.contact_person_uuid,
    )).where(CampaignOutbound.campaign_uuid == bindparam("campaign"),
             account.in_([bindparam(name, type_=STORED_UUID) for name in _WANTED[:size]])))


def _rows_of(connection: Connection, statement: Callable[[int], Prepared], wanted: list, **bound: object
             ) -> list[tuple]:
    """The rows `statement(size)` answers for `wanted` values (and the values `bound`), 512 values a statement,
    each padded with nulls to a power of two, which IN matches to nothing."""
    rows: list[tuple] = []
    for start in range(0, len(wanted), _MOST_WANTED):
        chunk = wanted[start:start + _MOST_WANTED]
        size = 1 << (len(chunk) - 1).bit_length()
        values = dict(zip(_WANTED, chunk + [None] * (size - len(chunk))))
        rows += statement(size).rows(connection, values | bound)
    return rows


def run(connection: Connection, open_session: Callable[[], Session], now: datetime, bundle: Bundle,
        campaigns: list[CampaignNode]) -> Confirmation:
    """Check every Campaign node and write those that passed; answer the confirmation. A request over the limit is
    refused whole (Refused). The campaigns, addressees and outbounds are read, and the bounces written, on the
    connection: a bundle of bounces needs no ORM session (its savepoint, its commit and its look-ups were a tenth of a
    thousand bounces' CPU)."""
    count = sum(len(campaign.nodes) for campaign in campaigns)
    if count > MAX_INSTANCES:
        raise Refused(log.TOO_MANY_INSTANCES.item(None, count=count, limit=MAX_INSTANCES))
    confirmation = Confirmation()
    directory = Directory(connection, [child.party for node in campaigns for child in node.nodes])
    for node in campaigns:
        campaign, items = find_campaign(connection, node)
        if campaign is None:
            confirmation.items.extend(items)
            continue
        scope = CampaignScope(connection, open_session, now, campaign, directory, len(node.nodes), items)
        changes = _check_campaign(scope, bundle, node)
        confirmation.items.extend(scope.items)
        if any(item.severity == log.ERROR for item in scope.items):
            continue
        if bundle.statement is not None:
            bundle.statement.many(connection, changes)
        else:
            for change in changes:
                change()
        if changes:
            campaign = campaign._replace(change_state_id=change_state_id(now))
            _CHANGE_STATE.rows(connection, {"campaign": campaign.uuid, "changed": campaign.change_state_id})
        confirmation.campaigns.append(
            CampaignConfirmation(campaign.change_state_id, node.reference, str(campaign.uuid), campaign.id))
    return confirmation


def _check_campaign(scope: CampaignScope, bundle: Bundle, node: CampaignNode) -> list[Change]:
    campaign = scope.campaign
    if node.action_code not in (None, NO_ACTION):
        scope.error(log.ACTION_CODE_NOT_ALLOWED, node.reference, code=node.action_code, node="Campaign",
                    allowed=NO_ACTION, meaning=ACTION_MEANINGS[NO_ACTION])
    if campaign.execution_type_code not in bundle.execution_types:
        scope.error(log.EXECUTION_TYPE_NOT_ALLOWED, node.reference, id=campaign.id,
                    code=campaign.execution_type_code, inbounds=bundle.inbounds,
                    allowed=", ".join(bundle.execution_types))
    if node.list_complete_transmission_indicator:
        scope.error(log.LIST_PROCESSING_NOT_SUPPORTED, node.reference)
    changes = [bundle.check(scope, child) for child in node.nodes]
    return [change for change in changes if change is not None]


def change_state_id(now: datetime) -> str:
    """A tenant's ChangeStateID: the UTC time of the change, YYYYMMDDhhmmss.fffffff."""
    return now.strftime("%Y%m%d%H%M%S.%f") + "0"


# -------------------------------------------------------------------------------------------------------- lookups


def find_campaign(connection: Connection, node: CampaignNode) -> tuple[CampaignRecord | None, list[LogItem]]:
    """The campaign a Campaign node names by ID or ReferenceID (both, where sent, must name the same one)."""
    if node.id is None and node.reference_id is None:
        return None, [log.CAMPAIGN_NOT_IDENTIFIED.item(node.reference)]
    by_id = by_reference = None
    if node.id is not None:
        by_id = _CAMPAIGN_BY_ID.first(connection, {"wanted": node.id})
        if by_id is None:
            return None, [log.CAMPAIGN_MISSING.item(node.reference, id=node.id)]
    if node.reference_id is not None:
        by_reference = _CAMPAIGN_BY_REFERENCE_ID.first(connection, {"wanted": node.reference_id})
        if by_reference is None:
            return None, [log.CAMPAIGN_MISSING.item(node.reference, id=node.reference_id)]
    if by_id is not None and by_reference is not None and by_id != by_reference:  # rows of two campaigns
        return None, [log.CAMPAIGN_IDS_DISAGREE.item(node.reference, id=node.id, reference_id=node.reference_id)]
    return CampaignRecord._make(by_id or by_reference), []


def find_addressee(directory: Directory, party: Party, reference: str | None) -> tuple[Addressee | None, list[LogItem]]:
    """The account (and contact person) a node names. Every problem is reported, as the seed's failure sample shows
    both a missing account and its missing contact person."""
    if party.customer_uuid is None and party.customer_internal_id is None:
        return None, [log.ACCOUNT_REQUIRED.item(reference)]
    items: list[LogItem] = []
    customer = _find(directory, Customer, party.customer_uuid, party.customer_internal_id, reference, items,
                     log.ACCOUNT_MISSING, log.ACCOUNT_IDS_DISAGREE)
    contact_person = None
    if party.contact_person_uuid is not None or party.contact_person_internal_id is not None:
        contact_person = _find(directory, ContactPerson, party.contact_person_uuid, party.contact_person_internal_id,
                               reference, items, log.CONTACT_PERSON_MISSING, log.CONTACT_PERSON_IDS_DISAGREE)
    if customer is None or items:
        return None, items
    if contact_person is not None and contact_person.customer_uuid != customer.uuid:
        return None, [log.CONTACT_PERSON_OF_OTHER_ACCOUNT.item(
            reference, contact=contact_person.internal_id, account=customer.internal_id)]
    return Addressee(customer, contact_person, directory.as_uuid), []


def _find(directory: Directory, model: type[Customer] | type[ContactPerson], key: uuid.UUID | None,
          internal_id: str | None, reference: str | None, items: list[LogItem], missing: Message,
          disagree: Message) -> Account | AccountContact | None:
    by_uuid = by_internal_id = None
    if key is not None:
        by_uuid = directory.by_uuid(model, key)
        if by_uuid is None:
            items.append(missing.item(reference, id=str(key).upper()))
            return None
    if internal_id is not None:
        by_internal_id = directory.by_internal_id(model, internal_id)
        if by_internal_id is None:
            items.append(missing.item(reference, id=internal_id))
            return None
    if by_uuid is not None and by_internal_id is not None and by_uuid is not by_internal_id:
        items.append(disagree.item(reference, uuid=str(key).upper(), id=internal_id))
        return None
    return by_uuid or by_internal_id
