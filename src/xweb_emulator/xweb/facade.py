"""Facade objects: netFORUM's generic records, inserted and read by name (InsertFacadeObject, GetFacadeObject).

The registry maps an object name to its table. Which columns exist, their types, their lengths and what they refer to
come from the table itself, so a new object needs one line here; the rules beyond the schema (required columns) are
declared beside it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import cache, cached_property

from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    Integer,
    Select,
    SmallInteger,
    String,
    Table,
    Uuid,
    bindparam,
    literal,
    select,
)
from sqlalchemy.orm import Session

from xweb_emulator.db import Base, insert_new
from xweb_emulator.xweb.errors import InvalidInput
from xweb_emulator.xweb.models import (
    Country,
    Customer,
    CustomerMessagingActivity,
    CustomerPhone,
    Email,
    MailingList,
    Phone,
    PhoneType,
)
from xweb_emulator.xweb.values import format_date, format_guid, parse_date, parse_guid, parse_int

Value = str | None
Record = dict[str, Value]

_AUDIT_SUFFIXES = ("_add_user", "_add_date", "_change_user", "_change_date", "_delete_flag")


@dataclass(frozen=True)
class FacadeObject:
    name: str
    model: type[Base]
    required: tuple[str, ...] = ()
    # Groups of columns of which at least one must have a value.
    required_one_of: tuple[tuple[str, ...], ...] = ()

    # Cached: a call of a thousand records asks for these a thousand times (the dataclass is frozen, its table too).
    @cached_property
    def columns(self) -> list[Column]:
        return list(self.model.__table__.columns)

    @cached_property
    def key_column(self) -> str:
        (key,) = self.model.__table__.primary_key.columns
        return key.name

    @cached_property
    def prefix(self) -> str:
        """The table's column prefix: cma, cst, cph …"""
        return self.key_column.split("_", 1)[0]

    @cached_property
    def writable_columns(self) -> dict[str, Column]:
        """Columns a client may set; the audit columns are netFORUM's to fill."""
        return {column.name: column for column in self.columns if not column.name.endswith(_AUDIT_SUFFIXES)}


FACADE_OBJECTS = {
    facade.name.lower(): facade
    for facade in (
        FacadeObject(
            "CustomerMessagingActivity",
            CustomerMessagingActivity,
            required=("cma_cst_key", "cma_activity_date"),
            required_one_of=(("cma_eml_key", "cma_eml_address"),),
        ),
        FacadeObject("Customer", Customer),
        FacadeObject("Email", Email, required=("eml_cst_key", "eml_address")),
        FacadeObject("Phone", Phone, required=("phn_number",)),
        FacadeObject("CustomerPhone", CustomerPhone, required=("cph_cst_key", "cph_phn_key")),
        FacadeObject("PhoneType", PhoneType, required=("pht_code",)),
        FacadeObject("Country", Country, required=("cty_code",)),
        FacadeObject("MailingList", MailingList, required=("mlt_name", "mlt_type")),
    )
}


@dataclass(frozen=True)
class Actor:
    """Who is calling and when: what the audit columns record."""

    user_name: str | None
    now: datetime


def facade_object(name: str | None) -> FacadeObject:
    facade = FACADE_OBJECTS.get((name or "").strip().lower())
    if facade is None:
        raise InvalidInput(f"Invalid object name '{name}'.")
    return facade


def insert_records(connection: Connection, actor: Actor, facade: FacadeObject,
                   records: list[Record]) -> list[uuid.UUID]:
    """Insert every record or none: the first invalid one fails the whole call."""
    if not records:
        raise InvalidInput(f"No {facade.name}Object was supplied in oNode.")
    table = facade.model.__table__
    key_column = facade.key_column
    confirmed: set[tuple[Table, object]] = set()
    audit = {f"{facade.prefix}_add_user": actor.user_name, f"{facade.prefix}_add_date": actor.now}
    rows, keys = [], set()
    for position, record in enumerate(records, start=1):
        try:
            values = _column_values(connection, facade, record, confirmed)
            key = values.get(key_column)
            if key is None:
                key = values[key_column] = uuid.uuid4()
            elif key in keys:
                raise _duplicate_key(key_column, key)
            keys.add(key)
        except InvalidInput as error:
            raise InvalidInput(f"{_where(facade, records, position)}: {error.message}") from None
        rows.append({**values, **audit})
    # A key the client chose may be stored already, or be inserted by a concurrent call: the database tells.
    taken = insert_new(connection, table, _with_defaults(table, rows))
    if taken:
        key = taken[0][key_column]
        position = [row[key_column] for row in rows].index(key) + 1
        raise InvalidInput(f"{_where(facade, records, position)}: {_duplicate_key(key_column, key).message}")
    return [row[key_column] for row in rows]


def _duplicate_key(key_column: str, key: object) -> InvalidInput:
    return InvalidInput(f"Cannot insert duplicate key: {key_column} {key} already exists.")


def _where(facade: FacadeObject, records: list[Record], position: int) -> str:
    return f"{facade.name}Object {position}" if len(records) > 1 else f"{facade.name}Object"


def _with_defaults(table: Table, rows: list[dict[str, object]]) -> list[dict[str, object]]:
    """Rows that all name the same columns (one statement inserts them all): what a row leaves out is the column's
    default, as an ORM insert would give it."""
    named = {name for row in rows for name in row}
    defaults = {}
    for name in named:
        default = table.c[name].default
        defaults[name] = None if default is None else (default.arg(None) if default.is_callable else default.arg)
    return [{**defaults, **row} for row in rows]


@cache
def _exists(column: Column) -> Select:
    """Whether a row has this value in `column` (bound: key). Built once per column: it runs for every reference."""
    return select(literal(1)).where(column == bindparam("key"))


def get_record(session: Session, facade: FacadeObject, key_text: str | None) -> Record | None:
    key = parse_guid(key_text or "", "szObjectKey")
    row = session.get(facade.model, key)
    return None if row is None else render_record(facade, row)


def render_record(facade: FacadeObject, row: Base) -> Record:
    return {column.name: render_value(column, getattr(row, column.name)) for column in facade.columns}


def render_value(column: Column, value: object) -> Value:
    if value is None:
        return None
    if isinstance(column.type, Uuid):
        return format_guid(value)
    if isinstance(column.type, DateTime):
        return format_date(value)
    return str(value)


def parse_record(facade: FacadeObject, record: Record, *, unmodelled_columns_allowed: bool) -> dict[str, object]:
    """A record's writable columns, parsed. Audit columns are netFORUM's to fill and are passed over. Another column
    of the table's prefix that is not modelled here is refused, unless `unmodelled_columns_allowed` (a typed WEB*
    object, whose WSDL lists vendor columns this emulator does not keep); any other name is refused."""
    writable = facade.writable_columns
    values: dict[str, object] = {}
    for name, text in record.items():
        column = writable.get(name.lower())
        if column is not None:
            values[column.name] = parse_value(column, text)
            continue
        own_prefix = name.lower().startswith(facade.prefix + "_")
        if own_prefix and (unmodelled_columns_allowed or name.lower().endswith(_AUDIT_SUFFIXES)):
            continue
        raise InvalidInput(f"Invalid column name '{name}'.")
    return values


def _column_values(connection: Connection, facade: FacadeObject, record: Record,
                   confirmed: set[tuple[Table, object]]) -> dict[str, object]:
    values = parse_record(facade, record, unmodelled_columns_allowed=False)
    for name in facade.required:
        if values.get(name) is None:
            raise InvalidInput(f"{name} is required.")
    for group in facade.required_one_of:
        if all(values.get(name) is None for name in group):
            raise InvalidInput(f"Either {' or '.join(group)} is required.")
    check_references(connection, facade.model, values, confirmed)
    return values


def parse_value(column: Column, text: Value) -> object:
    """A column's value from the text a client sent; an empty element means no value."""
    if text is None or not text.strip():
        return None
    if isinstance(column.type, Uuid):
        return parse_guid(text, column.name)
    if isinstance(column.type, DateTime):
        return parse_date(text, column.name)
    if isinstance(column.type, (Integer, SmallInteger)):
        return parse_int(text, column.name)
    if isinstance(column.type, String) and column.type.length and len(text) > column.type.length:
        raise InvalidInput(
            f"String or binary data would be truncated: {column.name} holds at most {column.type.length} characters."
        )
    return text


def check_references(session: Session | Connection, model: type[Base], values: dict[str, object],
                     confirmed: set[tuple[Table, object]] | None = None) -> None:
    """Every key that refers to another record must name one that exists. `confirmed` remembers, across the records
    of one call, the references already found, so a thousand activities of one customer look it up once."""
    connection = session.connection() if isinstance(session, Session) else session
    for name, target in _references(model.__table__):
        value = values.get(name)
        if value is None or (confirmed is not None and (target.table, value) in confirmed):
            continue
        if connection.execute(_exists(target), {"key": value}).first() is None:
            raise InvalidInput(f"{name}: no {target.table.name} record has {target.name} {value}.")
        if confirmed is not None:
            confirmed.add((target.table, value))


@cache
def _references(table: Table) -> tuple[tuple[str, Column], ...]:
    """The table's columns that refer to another's key, each with the key it refers to."""
    return tuple((column.name, foreign_key.column) for column in table.columns for foreign_key in column.foreign_keys)


def require_record(session: Session, model: type[Base], key: object, field: str) -> Base:
    """The record `field` refers to, or the error a client gets for a key that names nothing."""
    row = session.get(model, key)
    if row is None:
        table = model.__table__
        (key_column,) = table.primary_key.columns
        raise InvalidInput(f"{field}: no {table.name} record has {key_column.name} {key}.")
    return row
