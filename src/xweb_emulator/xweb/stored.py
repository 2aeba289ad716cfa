"""Columns the emulator's schema does not have, kept in xweb_tenant_record: the records of the objects a tenant
profile declares, and the extender columns it adds to built-in objects (a record's row of <table>_ext).

A stored column is read in SQL from the row's JSON values and cast to its type, so that GetQuery's where clause,
order and keyset paging treat it as they treat a real column. Each value is kept as the database keeps that type in
a column of its own (a GUID as SQLite's 32 hex digits, which PostgreSQL casts to a uuid; a date as
'YYYY-MM-DD HH:MM:SS.ffffff'), so a value bound in a comparison is the stored value's equal.
"""

from __future__ import annotations

import uuid
from collections.abc import Container, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import cache, cached_property
from typing import Any

from sqlalchemy import (Column, Connection, DateTime, FromClause, Integer, MetaData, Numeric, Select, SmallInteger,
                        String, Table, Uuid, bindparam, select, update)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal

from xweb_emulator.xweb.errors import InvalidInput
from xweb_emulator.xweb.models import TenantRecord
from xweb_emulator.xweb.profile import AUDIT_SUFFIXES, ProfileColumn, ProfileObject, ProfileTable
from xweb_emulator.xweb.values import value_reader

RECORDS = TenantRecord.__table__
_AUDIT_COLUMNS = dict(zip(AUDIT_SUFFIXES, ("add_user", "add_date", "change_user", "change_date", "delete_flag"),
                          strict=True))
# The audit columns' types, as GetQueryDefinition describes them.
AUDIT_TYPES = {"_add_user": "av_user", "_add_date": "av_date", "_change_user": "av_user",
               "_change_date": "av_date", "_delete_flag": "av_delete_flag"}


def sql_type(column: ProfileColumn) -> Any:
    kind = column.kind
    if kind == "guid":
        return Uuid()
    if kind == "datetime":
        return DateTime()
    if kind == "flag":
        return SmallInteger()
    if kind == "integer":
        return Integer()
    if kind == "decimal":
        return Numeric(asdecimal=False)
    return String(column.width)


def described_columns(table_name: str, columns: tuple[ProfileColumn, ...]) -> list[Column]:
    """The profile's columns as SQLAlchemy columns of a table that is never created: what reads a client's values
    (values.value_reader) and renders them reads their type, width and nullability there."""
    table = Table(table_name, MetaData(), *(Column(column.name, sql_type(column), nullable=column.nullable)
                                           for column in columns))
    return list(table.columns)


def stored_form(value: object) -> object:
    """A parsed value as the database would keep it in a column of its own (see the module's documentation)."""
    if isinstance(value, uuid.UUID):
        return value.hex
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="microseconds")
    if isinstance(value, Decimal):
        return float(value)
    return value


class StoredValue(ColumnElement[Any]):
    """One column of a row's JSON values, of its SQL type."""

    inherit_cache = True
    _traverse_internals = [("values", InternalTraversal.dp_clauseelement), ("name", InternalTraversal.dp_string),
                           ("type", InternalTraversal.dp_type)]

    def __init__(self, values: ColumnElement[Any], name: str, type_: Any, *, table_name: str, nullable: bool) -> None:
        self.values = values
        self.name = name
        self.type = type_
        self.table_name = table_name
        """mdc_table_name, which a client may qualify the column with."""
        self.nullable = nullable

    @property
    def _from_objects(self) -> list[FromClause]:
        return self.values._from_objects


@compiles(StoredValue)
def _compile_sqlite(element: StoredValue, compiler: Any, **kw: Any) -> str:
    return f"""JSON_EXTRACT({compiler.process(element.values, **kw)}, '$."{element.name}"')"""


@compiles(StoredValue, "postgresql")
def _compile_postgresql(element: StoredValue, compiler: Any, **kw: Any) -> str:
    text = f"({compiler.process(element.values, **kw)} ->> '{element.name}')"
    if isinstance(element.type, String):
        return text
    type_name = "FLOAT" if isinstance(element.type, Numeric) else compiler.dialect.type_compiler_instance.process(
        element.type)
    return f"CAST({text} AS {type_name})"


def rows_of(table_name: str, alias: str) -> FromClause:
    """The stored rows of one table, as a table of their own named `alias`."""
    return (select(RECORDS.c.record_key, RECORDS.c["values"], RECORDS.c.add_user, RECORDS.c.add_date,
                   RECORDS.c.change_user, RECORDS.c.change_date, RECORDS.c.delete_flag)
            .where(RECORDS.c.table_name == table_name).subquery(alias))


def stored_values(rows: FromClause, columns: tuple[ProfileColumn, ...], table_name: str) -> dict[str, StoredValue]:
    return {column.name: StoredValue(rows.c["values"], column.name, sql_type(column),
                                     table_name=column.table or table_name, nullable=column.nullable)
            for column in columns}


def record_audit(actor: Any, *, added: bool) -> dict[str, object]:
    changed = {"change_user": actor.user_name, "change_date": actor.now}
    return {"add_user": actor.user_name, "add_date": actor.now, **changed} if added else changed


# --------------------------------------------------------------------------------------------- extender columns


@dataclass(frozen=True)
class Extension:
    """The extender columns a profile adds to a built-in object: its table's <table>_ext row, keyed by the
    record's key."""

    table_name: str
    columns: tuple[ProfileColumn, ...]

    @cached_property
    def names(self) -> frozenset[str]:
        return frozenset(column.name.lower() for column in self.columns)

    def values_of(self, source: FromClause, base_key: ColumnElement[Any]) -> tuple[FromClause, dict[str, StoredValue]]:
        """`source` with the extender rows joined, and their columns."""
        rows = rows_of(self.table_name, self.table_name)
        return (source.outerjoin(rows, rows.c.record_key == base_key),
                stored_values(rows, self.columns, self.table_name))

    @cache
    def row_of(self) -> Select:
        """The extender columns of the record the parameter `key` names."""
        rows = rows_of(self.table_name, self.table_name)
        columns = stored_values(rows, self.columns, self.table_name)
        return select(*(column.label(name) for name, column in columns.items())).where(
            rows.c.record_key == bindparam("key"))

    def write(self, connection: Connection, actor: Any, key: uuid.UUID, values: Mapping[str, object]) -> None:
        """Set the extender columns sent of the record `key` (its row made when it has none)."""
        if values:
            write_values(connection, actor, self.table_name, key, values)

    def write_new(self, connection: Connection, actor: Any, records: list[tuple[uuid.UUID, Mapping[str, object]]],
                  made_keys: Container[object]) -> None:
        """`write` for records just inserted, each its key and the extender columns' values sent: their rows go in
        together, not a look-up and an insert each. A record whose key was made for it (in `made_keys`) can have no
        row (db.insert_all); one whose key the client chose has the values merged into any row it has (none should,
        its record being new), as `write` does (db.insert_new finds it)."""
        from xweb_emulator.db import insert_all, insert_new

        common = {"table_name": self.table_name, "delete_flag": 0, **record_audit(actor, added=True)}
        rows = [{"record_key": key,
                 "values": _without_nulls({name: stored_form(value) for name, value in values.items()})}
                for key, values in records]
        made = [row for row in rows if row["record_key"] in made_keys]
        if made:
            insert_all(connection, RECORDS, made, common)
        if len(made) < len(rows):
            taken = {row["record_key"] for row in insert_new(connection, RECORDS, [
                {**row, **common} for row in rows if row["record_key"] not in made_keys])}
            for key, values in records:
                if key in taken:
                    write_values(connection, actor, self.table_name, key, values)


def write_values(connection: Connection, actor: Any, table_name: str, key: uuid.UUID,
                 values: Mapping[str, object]) -> None:
    """Change the values sent of a stored row, or add the row: the other values stay as they are."""
    current = connection.execute(_VALUES, {"table": table_name, "key": key}).first()
    stored = {name: stored_form(value) for name, value in values.items()}
    if current is None:
        connection.execute(RECORDS.insert(), {"table_name": table_name, "record_key": key,
                                               "values": _without_nulls(stored), **record_audit(actor, added=True)})
        return
    connection.execute(update(RECORDS).where(RECORDS.c.table_name == table_name, RECORDS.c.record_key == key)
                       .values(values=_without_nulls({**current.values, **stored}),
                               **record_audit(actor, added=False)))


_VALUES = select(RECORDS.c["values"]).where(RECORDS.c.table_name == bindparam("table"),
                                            RECORDS.c.record_key == bindparam("key"))


def _without_nulls(values: Mapping[str, object]) -> dict[str, object]:
    return {name: value for name, value in values.items() if value is not None}


# ------------------------------------------------------------------------------------------------ stored objects


@dataclass(frozen=True, eq=False)
class StoredObject:
    """An object the tenant profile declares and the emulator does not build in: its records kept whole in
    xweb_tenant_record under its table's name."""

    declared: ProfileObject
    name: str
    description: str
    prefix: str
    table_name: str
    key_column: str
    list_columns: tuple[str, ...]
    order_by: str | None
    obj_key: str | None

    @classmethod
    def of(cls, declared: ProfileObject) -> StoredObject:
        prefix = declared.prefix or (declared.key_column or "").split("_", 1)[0] or declared.name[:3].lower()
        key_column = declared.key_column or f"{prefix}_key"
        return cls(declared, declared.name, declared.description or declared.name, prefix,
                   declared.table or f"{prefix}_{declared.name.lower()}", key_column,
                   tuple(declared.list_columns or ()), declared.order_by, declared.key)

    @cached_property
    def columns(self) -> tuple[ProfileColumn, ...]:
        """Every column: the key, those declared, then the audit columns the profile left out."""
        declared = {column.name.lower(): column for column in self.declared.columns}
        key = declared.pop(self.key_column.lower(), None) or ProfileColumn(
            name=self.key_column, type="av_key", nullable=False, description="Primary Key")
        audit = [ProfileColumn(name=f"{self.prefix}{suffix}", type=AUDIT_TYPES[suffix],
                               nullable=suffix != "_delete_flag")
                 for suffix in AUDIT_SUFFIXES if f"{self.prefix}{suffix}".lower() not in declared]
        return (key, *declared.values(), *audit)

    @cached_property
    def audit_columns(self) -> dict[str, str]:
        """The audit columns by name, each with the real column of xweb_tenant_record that keeps it."""
        return {f"{self.prefix}{suffix}": column for suffix, column in _AUDIT_COLUMNS.items()}

    @cached_property
    def value_columns(self) -> tuple[ProfileColumn, ...]:
        """The columns kept in the JSON values: all but the key and the audit columns."""
        audit = {name.lower() for name in self.audit_columns}
        return tuple(column for column in self.columns[1:] if column.name.lower() not in audit)

    @cached_property
    def readers(self) -> dict[str, Any]:
        """How a client's value of each writable column is read, by column name in lower case."""
        described = described_columns(self.table_name, (self.columns[0], *self.value_columns))
        return {column.name.lower(): value_reader(column) for column in described}

    @cached_property
    def required(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.value_columns if not column.nullable)

    @cached_property
    def tables(self) -> tuple[ProfileTable, ...]:
        return self.declared.tables

    @cached_property
    def queryable(self) -> Any:
        from xweb_emulator.xweb.query import QueryableObject

        rows = rows_of(self.table_name, self.table_name)
        columns: dict[str, ColumnElement[Any]] = {self.key_column: rows.c.record_key}
        stored = stored_values(rows, self.value_columns, self.table_name)
        audit = {name.lower(): rows.c[column] for name, column in self.audit_columns.items()}
        for column in self.columns[1:]:
            columns[column.name] = audit.get(column.name.lower(), stored.get(column.name))
        return QueryableObject(self.name, rows, columns, self.key_column,
                               self.list_columns or tuple(column.name for column in self.columns), self.order_by)

    @cached_property
    def _audit_names(self) -> frozenset[str]:
        return frozenset(name.lower() for name in self.audit_columns)

    def parse(self, record: Mapping[str, str | None]) -> dict[str, object]:
        """A client's record, its columns parsed; audit columns, netFORUM's to fill, are passed over."""
        values: dict[str, object] = {}
        readers = self.readers
        for name, text in record.items():
            reader = readers.get(name) or readers.get(name.lower())  # the column's name, mostly as it is sent
            if reader is not None:
                values[reader.column] = reader.read(text)
            elif name.lower() not in self._audit_names:
                raise InvalidInput(f"Invalid column name '{name}'.")
        return values


def insert_stored(connection: Connection, actor: Any, stored: StoredObject,
                  records: list[dict[str, object]]) -> tuple[list[uuid.UUID], uuid.UUID | None]:
    """New records (parsed), each under the key sent, else a new one: their keys, and the first key found taken
    (the database's own uniqueness tells, as for built-in records: db.insert_new). The records with a new key, which
    no stored row can hold, go in together by db.insert_all."""
    from xweb_emulator.db import insert_all, insert_new

    rows = [{"record_key": values.pop(stored.key_column, None),
             "values": _without_nulls({name: stored_form(value) for name, value in values.items()})}
            for values in records]
    common = {"table_name": stored.table_name, **record_audit(actor, added=True), "delete_flag": 0}
    chosen = [{**row, **common} for row in rows if row["record_key"] is not None]
    made = [row for row in rows if row["record_key"] is None]
    for row in made:
        row["record_key"] = uuid.uuid4()
    if made:
        insert_all(connection, RECORDS, made, common)
    taken = insert_new(connection, RECORDS, chosen) if chosen else []
    return [row["record_key"] for row in rows], taken[0]["record_key"] if taken else None


def stored_exists(connection: Connection, stored: StoredObject, key: uuid.UUID) -> bool:
    return connection.execute(_VALUES, {"table": stored.table_name, "key": key}).first() is not None
