"""Facade objects: netFORUM's generic records, inserted and read by name (InsertFacadeObject, GetFacadeObject).

The registry maps an object name to its table. Which columns exist, their types, their lengths and what they refer to
come from the table itself, so a new object needs one line here; the rules beyond the schema (required columns) are
declared beside it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import cache, cached_property
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    FromClause,
    Join,
    Integer,
    Select,
    SmallInteger,
    String,
    Table,
    Uuid,
    bindparam,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from xweb_emulator.db import Base, Prepared, insert_all, insert_new, null_refused, python_default, take_turns
from xweb_emulator.xweb.errors import InvalidInput
from xweb_emulator.xweb.stored import Extension, StoredObject, described_columns, insert_stored, stored_exists, \
    write_values
from xweb_emulator.xweb.models import (
    Country,
    Customer,
    CustomerMessagingActivity,
    CustomerPhone,
    Email,
    Individual,
    MailingList,
    Organization,
    Phone,
    PhoneType,
)
from xweb_emulator.xweb.profile import ProfileColumn, ProfileObject, default_profile
from xweb_emulator.xweb.values import (
    GuidAsStored,
    ValueReader,
    as_stored,
    format_date,
    format_guid,
    format_stored_guid,
    parse_guid,
    reading_once,
    value_reader,
)

if TYPE_CHECKING:  # GetQuery's module imports sqlglot, 0.2 s of a worker's start: it is imported when first needed
    from xweb_emulator.xweb.query import QueryableObject

Value = str | None
Record = dict[str, Value]

_AUDIT_SUFFIXES = ("_add_user", "_add_date", "_change_user", "_change_date", "_delete_flag")


@dataclass(frozen=True)
class FacadeObject:
    """An object clients name in szObjectName. Most are one table; a customer object (Individual, Organization) is
    its own table joined to its customer record (co_customer, the same key) and its primary e-mail address."""

    name: str
    model: type[Base]
    required: tuple[str, ...] = ()
    # Groups of columns of which at least one must have a value.
    required_one_of: tuple[tuple[str, ...], ...] = ()
    list_columns: tuple[str, ...] = ()
    """GetQuery's default list when szColumnList is empty (the key comes first in any case); empty: every column."""
    customer_type: str | None = None
    """cst_type of a customer object's customer record; None for an object of one table."""
    # What the tenant profile says of it (tenant.py; the default profile for the built-in shape).
    description: str = ""
    """obj_description, as GetFacadeObjectList answers it."""
    order_by: str | None = None
    """GetQuery's order when szOrderBy is empty."""
    obj_key: str | None = None
    extension: Extension | None = None
    """The extender columns the profile adds."""

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

    @cached_property
    def readers(self) -> dict[str, ValueReader]:
        """The writable columns' readers, by column name (an extender column's in lower case)."""
        readers = {name: value_reader(column) for name, column in self.writable_columns.items()}
        if self.extension is not None:
            readers.update((column.name.lower(), value_reader(column)) for column in described_columns(
                self.extension.table_name, self.extension.columns))
        return readers

    @cached_property
    def queryable(self) -> QueryableObject:
        """What GetQuery, GetFacadeObject and GetQueryDefinition read: every column clients may name, in order."""
        from xweb_emulator.xweb.query import QueryableObject

        table = self.model.__table__
        source: FromClause = table
        columns: dict[str, ColumnElement[Any]] = {column.name: column for column in table.columns}
        if self.customer_type is not None:
            customer, email = Customer.__table__, Email.__table__
            source = table.join(customer, table.c[self.key_column] == customer.c.cst_key).outerjoin(
                email, email.c.eml_key == customer.c.cst_eml_key)
            columns.update({column.name: column for column in customer.columns if column.name != "cst_key"})
            columns[PRIMARY_EMAIL] = email.c.eml_address
        if self.extension is not None:
            source, extended = self.extension.values_of(source, table.c[self.key_column])
            columns.update(extended)
        return QueryableObject(self.name, source, columns, self.key_column, self.list_columns or tuple(columns),
                               self.order_by)

    def shaped(self, declared: ProfileObject) -> FacadeObject:
        """This object as a profile declares it: its description, default list and order; the extender columns it
        adds (profile.py allows no other column on a built-in object)."""
        extender = declared.columns
        return replace(self, description=declared.description or self.name,
                       list_columns=tuple(declared.list_columns or ()), order_by=declared.order_by,
                       obj_key=declared.key,
                       extension=Extension(f"{self.model.__table__.name}_ext", extender) if extender else None)

    def extension_record(self, connection: Connection, key: uuid.UUID) -> Record:
        """The record's extender columns as clients read them (each null where it has no value)."""
        if self.extension is None:
            return {}
        statement = self.extension.row_of()
        row = connection.execute(statement, {"key": key}).first()
        if row is None:
            return {column.name: None for column in self.extension.columns}
        return render_row(statement.selected_columns, row)

    def split_extension(self, values: dict[str, object]) -> dict[str, object]:
        """The extender columns' values taken out of a record's parsed values."""
        if self.extension is None:
            return {}
        return {name: values.pop(name) for name in list(values) if name.lower() in self.extension.names}


PRIMARY_EMAIL = "eml_address"
"""A customer object's column for its primary e-mail address (the co_email row its cst_eml_key names)."""

# The objects the emulator builds in: their tables and rules. What a tenant says of them (description, default list,
# order, extender columns) is its profile's (FacadeObject.shaped); FACADE_OBJECTS has them as the default profile
# says, and tenant.Tenant the objects a tenant serves.
_BUILT_IN = {
    facade.name.lower(): facade
    for facade in (
        FacadeObject("CustomerMessagingActivity", CustomerMessagingActivity, required=("cma_cst_key", "cma_activity_date"),
                     required_one_of=(("cma_eml_key", "cma_eml_address"),)),
        FacadeObject("Individual", Individual, customer_type="Individual"),
        FacadeObject("Organization", Organization, customer_type="Organization"),
        FacadeObject("Customer", Customer),
        FacadeObject("Email", Email, required=("eml_cst_key", "eml_address")),
        FacadeObject("Phone", Phone, required=("phn_number",)),
        FacadeObject("CustomerPhone", CustomerPhone, required=("cph_cst_key", "cph_phn_key")),
        FacadeObject("PhoneType", PhoneType, required=("pht_code",)),
        FacadeObject("Country", Country, required=("cty_code",)),
        FacadeObject("MailingList", MailingList, required=("mlt_name", "mlt_type")),
    )
}
FACADE_OBJECTS = {name: _BUILT_IN[name].shaped(declared)
                  for name, declared in ((each.name.lower(), each) for each in default_profile().objects)}


@dataclass(frozen=True)
class Actor:
    """Who is calling and when: what the audit columns record."""

    user_name: str | None
    now: datetime


def insert_records(connection: Connection, actor: Actor, facade: FacadeObject,
                   records: list[Record]) -> list[uuid.UUID]:
    """Insert every record or none: the first invalid one fails the whole call. The records are checked in order,
    each wholly (its values, the records its keys refer to, its key) before the next; the first record that fails a
    check is the one refused."""
    if not records:
        raise InvalidInput(f"No {facade.name}Object was supplied in oNode.")
    if isinstance(facade, StoredObject):
        return _insert_stored_records(connection, actor, facade, records)
    made_keys: set[object] = set()  # the keys made for the rows: before insert_rows (a customer object's) or by it
    if facade.customer_type is None:
        new_objects, extended = _own_rows(connection, facade, records)
    else:
        new_objects, extended = _customer_objects_rows(connection, facade, records, made_keys)
    taken = insert_rows(connection, actor, new_objects, made_keys)
    if taken is not None:
        column, key = taken
        # The record whose row holds the taken key: its own, or another table's (an Individual's e-mail).
        position = next(position for position, rows in enumerate(new_objects, start=1)
                        if any(values.get(column) == key for values in rows.values()))
        refusal = _duplicate_key(_key_name(facade, column), key)
        raise InvalidInput(f"{_where(facade, records, position)}: {refusal.message}")
    own_table, key_column = facade.model.__table__, facade.key_column
    if extended:
        facade.extension.write_new(connection, actor, [(rows[own_table][key_column], extension_values)
                                                       for rows, extension_values in extended], made_keys)
    return [rows[own_table][key_column] for rows in new_objects]


NewRows = dict[Table, dict[str, object]]
"""A new record's rows, by table (insert_rows)."""


def _own_rows(connection: Connection, facade: FacadeObject, records: list[Record]
              ) -> tuple[list[NewRows], list[tuple[NewRows, dict[str, object]]]]:
    """The rows of records of an object of one table (each without a key where the client sent none: insert_rows
    makes it), and the extender columns' values of those that have some. What a thousand records have in common is
    done once for them all: the records their keys refer to are looked up together (_missing_reference), after
    each record's own values are read; the refusal is still the first record's that fails."""
    table, key_column = facade.model.__table__, facade.key_column
    rows: list[dict[str, object]] = []
    extended = []
    unreadable = None
    readers = reading_once(facade.readers)
    for position, record in enumerate(records, start=1):
        try:
            values = _column_values(facade, record, readers)
        except InvalidInput as error:
            unreadable = position, error.message
            break
        rows.append(values)
        if facade.extension is not None:
            extension_values = facade.split_extension(values)
            if extension_values:
                extended.append(({table: values}, extension_values))
    # Of the records read, the first that refers to no record or repeats a key; a record's references are checked
    # before its key, and both before the next record is read.
    refusals = [refusal for refusal in (_missing_reference(connection, table, rows),
                                        _repeated_key(key_column, rows), unreadable) if refusal is not None]
    if refusals:
        position, message = min(refusals, key=lambda refusal: refusal[0])
        raise InvalidInput(f"{_where(facade, records, position)}: {message}")
    return [{table: values} for values in rows], extended


def _customer_objects_rows(connection: Connection, facade: FacadeObject, records: list[Record], made_keys: set[object]
                           ) -> tuple[list[NewRows], list[tuple[NewRows, dict[str, object]]]]:
    """The rows of customer objects' records (customer_object_rows), each record checked wholly in turn; the keys
    made for them added to `made_keys`."""
    confirmed: set[tuple[Table, object]] = set()
    new_objects: list[NewRows] = []
    extended = []
    keys: set[object] = set()
    for position, record in enumerate(records, start=1):
        try:
            rows, extension_values = _new_rows(connection, facade, record, confirmed, made_keys)
            key = rows[facade.model.__table__][facade.key_column]
            if key in keys:
                raise _duplicate_key(facade.key_column, key)
        except InvalidInput as error:
            raise InvalidInput(f"{_where(facade, records, position)}: {error.message}") from None
        keys.add(key)
        new_objects.append(rows)
        if extension_values:
            extended.append((rows, extension_values))
    return new_objects, extended


def _repeated_key(key_column: str, rows: list[dict[str, object]]) -> tuple[int, str] | None:
    """The first row (its position) whose key, sent by the client, an earlier row has sent too."""
    sent: set[object] = set()
    for position, values in enumerate(rows, start=1):
        key = values.get(key_column)
        if key is not None:
            if key in sent:
                return position, _duplicate_key(key_column, key).message
            sent.add(key)
    return None


def _insert_stored_records(connection: Connection, actor: Actor, stored: StoredObject,
                           records: list[Record]) -> list[uuid.UUID]:
    parsed = []
    for position, record in enumerate(records, start=1):
        try:
            values = stored.parse(record)
            for name in stored.required:
                if values.get(name) is None:
                    raise InvalidInput(f"{name} is required.")
        except InvalidInput as error:
            raise InvalidInput(f"{_where(stored, records, position)}: {error.message}") from None
        parsed.append(values)
    keys = [values.get(stored.key_column) for values in parsed]
    sent = [key for key in keys if key is not None]
    if len(set(sent)) != len(sent):
        key = next(key for key in sent if sent.count(key) > 1)
        raise InvalidInput(f"{_where(stored, records, keys.index(key) + 1)}: "
                           f"{_duplicate_key(stored.key_column, key).message}")
    new_keys, taken = insert_stored(connection, actor, stored, parsed)
    if taken is not None:
        raise InvalidInput(f"{_where(stored, records, new_keys.index(taken) + 1)}: "
                           f"{_duplicate_key(stored.key_column, taken).message}")
    return new_keys


def update_record(connection: Connection, actor: Actor, facade: FacadeObject, key_text: str | None,
                  record: Record) -> uuid.UUID:
    """UpdateFacadeObject: only the columns sent change; the record's change columns say who and when."""
    key = parse_guid(key_text or "", "szObjectKey")
    if isinstance(facade, StoredObject):
        if not stored_exists(connection, facade, key):
            raise InvalidInput(f"szObjectKey: no {facade.name} record has {facade.key_column} {key}.")
        values = facade.parse(record)
        check_key_kept(values, facade.key_column, key)
        for name in facade.required:
            if name in values and values[name] is None:
                raise InvalidInput(f"{name} is required.")
        write_values(connection, actor, facade.table_name, key, values)
        return key
    own_table = facade.model.__table__
    if _exists(own_table.c[facade.key_column]).first(connection, {"key": key}) is None:
        raise InvalidInput(f"szObjectKey: no {facade.name} record has {facade.key_column} {key}.")
    if facade.customer_type is None:
        values = parse_record(facade, record, unmodelled_columns_allowed=False)
        check_key_kept(values, facade.key_column, key)
        extension_values = facade.split_extension(values)
        check_required(facade, values, only_sent=True)
        check_references(connection, facade.model, values)
        if values:
            update_row(connection, actor, own_table, key, values)
        if extension_values:
            facade.extension.write(connection, actor, key, extension_values)
        return key
    own, customer, email_address = _customer_parts(facade, record)
    check_key_kept(own, facade.key_column, key)
    check_key_kept(customer, "cst_key", key)
    extension_values = facade.split_extension(own)
    if extension_values:
        facade.extension.write(connection, actor, key, extension_values)
    if not (own or customer or email_address is not _NOT_SENT):
        return key
    update_customer_object(connection, actor, facade, key, own, customer)
    if email_address is not _NOT_SENT:
        address = FACADE_OBJECTS["email"].readers["eml_address"](email_address)  # type: ignore[arg-type]
        if address is None:
            set_primary(connection, actor, PRIMARY_EMAILS, key, None)
        else:
            write_customer_email(connection, actor, key, {"eml_address": address})
    return key


def insert_rows(connection: Connection, actor: Actor, new_objects: Iterable[NewRows],
                made_keys: set[object] | None = None) -> tuple[str, object] | None:
    """New records' rows, each table's in one statement, their audit columns filled. Tables are written in the order
    the objects name them, which is the order their rows refer to each other (a customer record before its own and
    its e-mail). A row that names no key gets a new GUID here (the rows are completed in place: their keys, a
    customer's number), which no stored row can hold, nor one whose key is in `made_keys` (new GUIDs made before;
    those made here are added to it): those rows go in by db.insert_all. A key the client chose may be stored
    already, or be inserted by a concurrent call: the database's own uniqueness tells (db.insert_new), never a check
    then an insert that concurrent calls both pass. Answers the first key found taken, with its column, for the
    caller to refuse (its call is rolled back); None when every row went in."""
    made_keys = set() if made_keys is None else made_keys
    rows: dict[Table, list[dict[str, object]]] = {}
    for new_object in new_objects:
        for table, values in new_object.items():
            rows.setdefault(table, []).append(values)
    number_customers(connection, rows.get(Customer.__table__, []))
    for table, table_rows in rows.items():
        (key_column,) = table.primary_key.columns
        key = key_column.name
        chosen, made = [], []
        new_keys = iter(new_guids(sum(row.get(key) is None for row in table_rows)))
        for row in table_rows:
            value = row.get(key)
            if value is None:
                row[key] = value = next(new_keys)
                made_keys.add(value)
                made.append(row)
            else:
                (made if value in made_keys else chosen).append(row)
        _refuse_nulls(table, table_rows)
        audit = audit_values(table, actor, added=True)
        if made:
            insert_all(connection, table, made, audit)
        if chosen:
            taken = insert_new(connection, table, _with_defaults(table, [{**row, **audit} for row in chosen]))
            if taken:
                return key, taken[0][key]
    return None


def new_guids(count: int) -> list[uuid.UUID]:
    """`count` random GUIDs, each as uuid.uuid4 makes one, from one read of the system's random source (a read for
    each took a third of the time of a thousand)."""
    random = os.urandom(16 * count)
    return [uuid.UUID(bytes=random[start:start + 16], version=4) for start in range(0, len(random), 16)]


def insert_or_refuse(connection: Connection, actor: Actor, new_objects: Iterable[Mapping[Table, dict[str, object]]],
                     facade: FacadeObject | None = None) -> None:
    """insert_rows, a taken key refused with the vendor's duplicate-key fault, named as `facade` names its key (a
    customer object's is its customer record's)."""
    taken = insert_rows(connection, actor, new_objects)
    if taken is not None:
        column, key = taken
        raise _duplicate_key(column if facade is None else _key_name(facade, column), key)


def number_customers(connection: Connection, customers: list[dict[str, object]]) -> None:
    """New customer records numbered as netFORUM numbers them, unless a seed gave the numbers: cst_recno the next
    integer, cst_id that number in nine digits and the type's initial (007881250I, as a live tenant answers)."""
    unnumbered = [customer for customer in customers if customer.get("cst_recno") is None]
    if not unnumbered:
        return
    take_turns(connection, "co_customer.cst_recno")  # until this call ends: no two calls take the same numbers
    last = connection.execute(_LAST_CUSTOMER_NUMBER).scalar() or 0
    for number, customer in enumerate(unnumbered, start=last + 1):
        customer["cst_recno"] = number
        if customer.get("cst_id") is None:
            customer["cst_id"] = f"{number:09d}{str(customer.get('cst_type') or 'Customer')[0].upper()}"


_LAST_CUSTOMER_NUMBER = select(func.max(Customer.__table__.c.cst_recno))


def _key_name(facade: FacadeObject, column: str) -> str:
    """A taken key's column as the object names it: a customer object's key is its customer record's."""
    return facade.key_column if facade.customer_type and column == "cst_key" else column


# The own columns a customer object's derived names (_derived_names) follow.
_NAME_PARTS = frozenset({"ind_prf_code", "ind_first_name", "ind_mid_name", "ind_last_name", "ind_sfx_code", "org_name"})
_NOT_SENT = object()


def _new_rows(connection: Connection, facade: FacadeObject, record: Record, confirmed: set[tuple[Table, object]],
              made_keys: set[object]) -> tuple[NewRows, dict[str, object]]:
    """A customer object's record's rows by table, its key filled in (a new GUID where the client sent none); and its
    extender columns' values."""
    own, customer, email_address = _customer_parts(facade, record)
    extension_values = facade.split_extension(own)
    email = None if email_address is _NOT_SENT else {
        "eml_address": FACADE_OBJECTS["email"].readers["eml_address"](email_address)}  # type: ignore[arg-type]
    return customer_object_rows(connection, facade, own, customer, email, confirmed, made_keys), extension_values


def customer_object_rows(connection: Connection, facade: FacadeObject, own: dict[str, object],
                         customer: dict[str, object], email: dict[str, object] | None,
                         confirmed: set[tuple[Table, object]] | None = None,
                         made_keys: set[object] | None = None) -> dict[Table, dict[str, object]]:
    """A new customer object's rows: its customer record (its type, and the names derived from its own columns), its
    own, and its primary e-mail when `email` has an address. Its key is the one sent (in its own columns or the
    customer's), else a new GUID; its e-mail's too. The keys made are added to `made_keys` (insert_rows)."""
    check_required(facade, own, only_sent=False)
    check_references(connection, facade.model, {name: value for name, value in own.items()
                                                if name != facade.key_column}, confirmed)
    _check_customer_type(facade, customer)
    key = own.get(facade.key_column) or customer.get("cst_key")
    if key is None:
        key = uuid.uuid4()
        if made_keys is not None:
            made_keys.add(key)
    check_key_kept(own, facade.key_column, key)
    check_key_kept(customer, "cst_key", key)
    own[facade.key_column] = key
    customer = {**_derived_names(facade, own), **customer, "cst_key": key, "cst_type": facade.customer_type}
    rows = {Customer.__table__: customer, facade.model.__table__: own}
    if email is not None and email.get("eml_address") is not None:
        sent_email_key = email.get("eml_key")
        email = _new_email(key, email)
        if sent_email_key is None and made_keys is not None:
            made_keys.add(email["eml_key"])
        email["eml_primary"] = 1
        rows[Email.__table__] = email
        customer.update(cst_eml_key=email["eml_key"], cst_eml_address_dn=email["eml_address"])
    return rows


def update_customer_object(connection: Connection, actor: Actor, facade: FacadeObject, key: uuid.UUID,
                           own: dict[str, object], customer: dict[str, object]) -> None:
    """Change a customer object's own columns and its customer record's (the names derived from its own follow
    them). The object changed as a whole: both of its records say so, whichever of them holds the columns sent."""
    check_key_kept(own, facade.key_column, key)
    check_key_kept(customer, "cst_key", key)
    _check_customer_type(facade, customer)
    own_table = facade.model.__table__
    if _NAME_PARTS & own.keys():
        current = connection.execute(select(own_table).where(own_table.c[facade.key_column] == key)).mappings().one()
        customer = {**_derived_names(facade, {**current, **own}), **customer}
    update_row(connection, actor, own_table, key, own)
    update_row(connection, actor, Customer.__table__, key, customer)


def _customer_parts(facade: FacadeObject, record: Record) -> tuple[dict[str, object], dict[str, object], object]:
    """A customer object's record split into its own columns, its customer record's (cst_*) and its primary e-mail
    address (_NOT_SENT when the record has no such element), each parsed."""
    own: Record = {}
    customer: Record = {}
    email_address: object = _NOT_SENT
    for name, text in record.items():
        folded = name.lower()
        if folded == PRIMARY_EMAIL:
            email_address = text
        elif folded.startswith("cst_"):
            customer[name] = text
        else:
            own[name] = text
    customer_values = parse_record(FACADE_OBJECTS["customer"], customer, unmodelled_columns_allowed=False)
    return parse_record(facade, own, unmodelled_columns_allowed=False), customer_values, email_address


def _check_customer_type(facade: FacadeObject, customer: Mapping[str, object]) -> None:
    if customer.get("cst_type", facade.customer_type) != facade.customer_type:
        raise InvalidInput(f"cst_type of an {facade.name} is {facade.customer_type}.")


def _derived_names(facade: FacadeObject, own: Mapping[str, object]) -> dict[str, object]:
    """The customer record's name columns, which netFORUM derives from the individual's or organization's own."""
    if facade.customer_type == "Organization":
        name = own.get("org_name")
        return {"cst_name_cp": name, "cst_sort_name_dn": name}
    given = " ".join(str(part) for part in (own.get("ind_first_name"), own.get("ind_mid_name")) if part)
    last = own.get("ind_last_name")
    full = " ".join(str(part) for part in (own.get("ind_prf_code"), given, last, own.get("ind_sfx_code")) if part)
    return {"cst_name_cp": " ".join(part for part in (given, last) if part) or None,
            "cst_sort_name_dn": ", ".join(part for part in (last, given) if part) or None,
            "cst_ind_full_name_dn": full or None}


# ---------------------------------------------------------------------------------------------------- e-mails
# A customer has e-mails (co_email), one of them its primary: the one cst_eml_key names, whose address
# cst_eml_address_dn repeats and whose eml_primary is 1 (0 on the others). Every write below keeps that so.


def add_email(connection: Connection, actor: Actor, values: dict[str, object]) -> uuid.UUID:
    """A new e-mail for the customer eml_cst_key names; eml_primary=1 makes it the customer's primary."""
    email_facade = FACADE_OBJECTS["email"]
    check_required(email_facade, values, only_sent=False)
    check_references(connection, Email, values)
    email = _new_email(values["eml_cst_key"], values)
    insert_or_refuse(connection, actor, [{Email.__table__: email}])
    if email.get("eml_primary"):
        set_primary(connection, actor, PRIMARY_EMAILS, email["eml_cst_key"], email["eml_key"])
    return email["eml_key"]


def change_email(connection: Connection, actor: Actor, email_key: uuid.UUID, values: dict[str, object]) -> None:
    """Change the columns of an e-mail sent. eml_primary=1 makes it its customer's primary and 0 stops it being so;
    the customer's cst_eml_address_dn follows its primary's address. An e-mail stays its customer's."""
    emails = Email.__table__
    customer_key = connection.execute(select(emails.c.eml_cst_key).where(emails.c.eml_key == email_key)).scalar_one()
    check_key_kept(values, "eml_key", email_key)
    check_key_kept(values, "eml_cst_key", customer_key)
    check_required(FACADE_OBJECTS["email"], values, only_sent=True)
    primary = values.pop("eml_primary", None)
    if values:
        update_row(connection, actor, emails, email_key, values)
    keep_primary(connection, actor, PRIMARY_EMAILS, customer_key, email_key, primary, "eml_address" in values)


def keep_primary(connection: Connection, actor: Actor, kind: Primary, customer_key: uuid.UUID, key: uuid.UUID,
                 primary: object, shown_changed: bool) -> None:
    """After a change to one of a customer's rows of a kind: its primary flag sent (1 or 0, None when not sent) makes
    it the customer's primary or stops it being so; a change to what the customer shows of its primary is shown."""
    customers = Customer.__table__
    is_primary = key == connection.execute(
        select(customers.c[kind.customer_key]).where(customers.c.cst_key == customer_key)).scalar()
    if primary is not None and bool(primary) != is_primary:
        set_primary(connection, actor, kind, customer_key, key if primary else None)
    elif is_primary and shown_changed:
        set_primary(connection, actor, kind, customer_key, key)


def write_customer_email(connection: Connection, actor: Actor, customer_key: uuid.UUID,
                         values: dict[str, object]) -> None:
    """A customer object's e-mail, as its Email section or eml_address column sends it: the e-mail eml_key names
    (one of the customer's own), else the customer's primary; a new primary e-mail when the customer has none."""
    emails, customers = Email.__table__, Customer.__table__
    email_key = values.get("eml_key")
    if email_key is None:
        email_key = connection.execute(
            select(emails.c.eml_key).join_from(customers, emails, emails.c.eml_key == customers.c.cst_eml_key)
            .where(customers.c.cst_key == customer_key)).scalar()
    if email_key is None:
        check_key_kept(values, "eml_cst_key", customer_key)
        add_email(connection, actor, {**values, "eml_cst_key": customer_key, "eml_primary": 1})
        return
    owner = connection.execute(select(emails.c.eml_cst_key).where(emails.c.eml_key == email_key)).first()
    if owner is None:
        raise InvalidInput(f"eml_key: no co_email record has eml_key {email_key}.")
    if owner.eml_cst_key != customer_key:
        raise InvalidInput(f"eml_key: e-mail {email_key} is not customer {customer_key}'s.")
    change_email(connection, actor, email_key, values)


@dataclass(frozen=True)
class Primary:
    """How a customer keeps one of its rows of a kind (its e-mails, its phones) as its primary: the rows' flag, and
    the customer's columns that name the primary row and show its value (`shown`: bound as "key")."""

    rows: Table
    key: str
    owner: str
    flag: str
    customer_key: str
    customer_shown: str
    shown: Select


def set_primary(connection: Connection, actor: Actor, kind: Primary, customer_key: uuid.UUID,
                key: uuid.UUID | None) -> None:
    """Make one of a customer's rows of a kind its primary (None: none). Only the rows that change are written, so
    that their change columns say so only then."""
    rows, customers = kind.rows, Customer.__table__
    shown = None if key is None else connection.execute(kind.shown, {"key": key}).scalar_one()
    others = rows.c[kind.owner] == customer_key
    if key is not None:
        others &= rows.c[kind.key] != key
        connection.execute(update(rows).where(rows.c[kind.key] == key, rows.c[kind.flag] != 1)
                           .values({kind.flag: 1, **audit_values(rows, actor, added=False)}))
    connection.execute(update(rows).where(others, rows.c[kind.flag] != 0)
                       .values({kind.flag: 0, **audit_values(rows, actor, added=False)}))
    connection.execute(
        update(customers)
        .where(customers.c.cst_key == customer_key,
               or_(customers.c[kind.customer_key].is_distinct_from(key),
                   customers.c[kind.customer_shown].is_distinct_from(shown)))
        .values({kind.customer_key: key, kind.customer_shown: shown, **audit_values(customers, actor, added=False)}))


PRIMARY_EMAILS = Primary(Email.__table__, "eml_key", "eml_cst_key", "eml_primary", "cst_eml_key", "cst_eml_address_dn",
                         select(Email.__table__.c.eml_address).where(Email.__table__.c.eml_key == bindparam("key")))
# A phone's complete number is its cross-reference's (country code, number, extension), else the number itself.
PRIMARY_PHONES = Primary(
    CustomerPhone.__table__, "cph_key", "cph_cst_key", "cph_primary", "cst_cph_key", "cst_phn_number_complete_dn",
    select(func.coalesce(CustomerPhone.__table__.c.cph_phn_number_complete, Phone.__table__.c.phn_number))
    .join_from(CustomerPhone.__table__, Phone.__table__,
               Phone.__table__.c.phn_key == CustomerPhone.__table__.c.cph_phn_key)
    .where(CustomerPhone.__table__.c.cph_key == bindparam("key")))


def _new_email(customer_key: object, values: Mapping[str, object]) -> dict[str, object]:
    """A new e-mail row of the customer's: its key the one sent (inserting it finds whether it is free), else a new
    GUID."""
    email = dict(values)
    check_key_kept(email, "eml_cst_key", customer_key)
    return {**email, "eml_key": email.get("eml_key") or uuid.uuid4(), "eml_cst_key": customer_key}


# ------------------------------------------------------------------------------------------------------- rows


def audit_values(table: Table, actor: Actor, *, added: bool) -> dict[str, object]:
    """The audit columns a write fills. An insert fills the change columns too, so that a watermark on
    xxx_change_date finds new records as well as changed ones (see docs/xweb.md › Deviations)."""
    prefix = table.primary_key.columns.keys()[0].split("_", 1)[0]
    changed = {f"{prefix}_change_user": actor.user_name, f"{prefix}_change_date": actor.now}
    return {f"{prefix}_add_user": actor.user_name, f"{prefix}_add_date": actor.now, **changed} if added else changed


def update_row(connection: Connection, actor: Actor, table: Table, key: object, values: Mapping[str, object]) -> None:
    """Change a row's columns given; its change columns say who and when."""
    (key_column,) = table.primary_key.columns
    refused = null_refused(table, [values])
    if refused is not None:
        _refuse_null(table, refused, "UPDATE")
    changed = audit_values(table, actor, added=False)
    connection.execute(update(table).where(key_column == key).values(**values, **changed))


def _refuse_nulls(table: Table, rows: list[dict[str, object]]) -> None:
    """An empty element for a column that holds no null (a flag) is refused as SQL Server refuses the null: the
    first row's that gives one (a column a row leaves out, which another row names, has its default)."""
    refused = null_refused(table, rows)
    if refused is not None:
        _refuse_null(table, refused, "INSERT")


def _refuse_null(table: Table, column: str, statement: str) -> None:
    raise InvalidInput(f"Cannot insert the value NULL into column '{column}', table '{table.name}'; column does "
                       f"not allow nulls. {statement} fails.")


def check_key_kept(values: dict[str, object], key_column: str, key: object) -> None:
    """A record's key may be sent, but not changed; it is taken out of the values to write."""
    if values.get(key_column, key) not in (None, key):
        raise InvalidInput(f"{key_column} cannot be changed: it is {key}.")
    values.pop(key_column, None)


def check_required(facade: FacadeObject, values: dict[str, object], *, only_sent: bool) -> None:
    """Required columns must have a value; an update checks only those it was sent."""
    for name in facade.required:
        if values.get(name) is None and (name in values or not only_sent):
            raise InvalidInput(f"{name} is required.")


def _duplicate_key(key_column: str, key: object) -> InvalidInput:
    return InvalidInput(f"Cannot insert duplicate key: {key_column} {key} already exists.")


def _where(facade: FacadeObject, records: list[Record], position: int) -> str:
    return f"{facade.name}Object {position}" if len(records) > 1 else f"{facade.name}Object"


def _with_defaults(table: Table, rows: list[dict[str, object]]) -> list[dict[str, object]]:
    """Rows that all name the same columns (one statement inserts them all): what a row leaves out is the column's
    default, as an ORM insert would give it."""
    named = {name for row in rows for name in row}
    defaults = {name: python_default(table.c[name]) for name in named}
    return [{**defaults, **row} for row in rows]


@cache
def _exists(column: Column) -> Prepared:
    """Whether a row has this value in `column` (bound: key). Built once per column: it runs for every reference."""
    return Prepared(select(literal(1)).where(column == bindparam("key")))


def get_record(connection: Connection, facade: FacadeObject, key_text: str | None) -> Record | None:
    """GetFacadeObject: every column of the object's record, or None when no record has the key."""
    statement = _record_by_key(facade.queryable)
    row = connection.execute(statement, {"key": parse_guid(key_text or "", "szObjectKey")}).first()
    return None if row is None else render_row(statement.selected_columns, row)


@cache
def _record_by_key(queryable: QueryableObject) -> Select:
    columns = queryable.columns
    return (select(*(as_stored(column).label(name) for name, column in columns.items()))
            .select_from(queryable.source).where(columns[queryable.key_column] == bindparam("key")))


def render_row(columns: Iterable[ColumnElement[Any]], row: Sequence[object]) -> Record:
    """A row of a statement as clients read it: each value under its column's name, rendered as its type."""
    return row_renderer(columns)(row)


def row_renderer(columns: Iterable[ColumnElement[Any]]) -> Callable[[Sequence[object]], Record]:
    """render_row for many rows of one statement: each column's rendering chosen once (a GetQuery writes thousands)."""
    renderings = [(column.name, _rendering(column)) for column in columns]

    def render(row: Sequence[object]) -> Record:
        return {name: None if value is None else rendering(value)
                for (name, rendering), value in zip(renderings, row, strict=True)}

    return render


def render_record(facade: FacadeObject, row: Base) -> Record:
    return {column.name: render_value(column, getattr(row, column.name)) for column in facade.columns}


def render_value(column: ColumnElement[Any], value: object) -> Value:
    return None if value is None else _rendering(column)(value)


def _rendering(column: ColumnElement[Any]) -> Callable[[Any], str]:
    """How a value of the column's type is written (not None)."""
    if isinstance(column.type, GuidAsStored):
        return format_stored_guid
    if isinstance(column.type, Uuid):
        return format_guid
    if isinstance(column.type, DateTime):
        return format_date
    return str


def parse_record(facade: FacadeObject, record: Record, *, unmodelled_columns_allowed: bool,
                 readers: dict[str, ValueReader] | None = None) -> dict[str, object]:
    """A record's writable columns, parsed (by `readers`, the facade's own or those of a call's records: see
    reading_once). Audit columns are netFORUM's to fill and are passed over. Another column of the table's prefix
    that is not modelled here is refused, unless `unmodelled_columns_allowed` (a typed WEB* object, whose WSDL lists
    vendor columns this emulator does not keep); any other name is refused."""
    readers = facade.readers if readers is None else readers
    values: dict[str, object] = {}
    for name, text in record.items():
        reader = readers.get(name) or readers.get(name.lower())  # the column's name, mostly as it is sent
        if reader is not None:
            values[reader.column] = reader.read(text)
            continue
        own_prefix = name.lower().startswith(facade.prefix + "_")
        if own_prefix and (unmodelled_columns_allowed or name.lower().endswith(_AUDIT_SUFFIXES)):
            continue
        raise InvalidInput(f"Invalid column name '{name}'.")
    return values


def _column_values(facade: FacadeObject, record: Record, readers: dict[str, ValueReader]) -> dict[str, object]:
    """A record's values, read (by `readers`) and checked but for the records they refer to (_missing_reference)."""
    values = parse_record(facade, record, unmodelled_columns_allowed=False, readers=readers)
    check_required(facade, values, only_sent=False)
    for group in facade.required_one_of:
        for name in group:
            if values.get(name) is not None:
                break
        else:
            raise InvalidInput(f"Either {' or '.join(group)} is required.")
    return values


def _missing_reference(connection: Connection, table: Table, rows: list[dict[str, object]]
                       ) -> tuple[int, str] | None:
    """The first row (its position) with a key that refers to no record, and check_references' words for it: the
    keys of all rows looked up together, one statement for each column that refers to another table's key."""
    missing = []
    for order, (name, target) in enumerate(_references(table)):
        sent = {values[name] for values in rows if values.get(name) is not None}
        if not sent:
            continue
        absent = sent.difference(_existing(connection, target, sent))
        if absent:
            position, key = next((position, values[name]) for position, values in enumerate(rows, start=1)
                                 if values.get(name) in absent)
            missing.append((position, order, f"{name}: no {target.table.name} record has {target.name} {key}."))
    if not missing:
        return None
    position, _order, message = min(missing)
    return position, message


def _existing(connection: Connection, column: Column, keys: set[object]) -> set[object]:
    """Which of `keys` rows hold in `column`: a statement for each few hundred, each compiled once for its number of
    keys (a power of two, the last key repeated to fill it)."""
    found: set[object] = set()
    remaining = list(keys)
    while remaining:
        batch, remaining = remaining[:_EXISTING_BATCH], remaining[_EXISTING_BATCH:]
        size = 1 << (len(batch) - 1).bit_length()
        batch += batch[-1:] * (size - len(batch))
        found.update(key for (key,) in _existing_of(column, size).rows(
            connection, {f"key_{index}": key for index, key in enumerate(batch)}))
    return found


_EXISTING_BATCH = 512  # keys a statement binds at most (SQLite's limit is 32,766; PostgreSQL's 65,535)


@cache
def _existing_of(column: Column, size: int) -> Prepared:
    return Prepared(select(column).where(column.in_([bindparam(f"key_{index}", type_=column.type)
                                                     for index in range(size)])))


def check_references(session: Session | Connection, model: type[Base], values: dict[str, object],
                     confirmed: set[tuple[Table, object]] | None = None) -> None:
    """Every key that refers to another record must name one that exists. `confirmed` remembers, across the records
    of one call, the references already found, so a thousand activities of one customer look it up once."""
    connection = session.connection() if isinstance(session, Session) else session
    for name, target in _references(model.__table__):
        value = values.get(name)
        if value is None or (confirmed is not None and (target.table, value) in confirmed):
            continue
        if _exists(target).first(connection, {"key": value}) is None:
            raise InvalidInput(f"{name}: no {target.table.name} record has {target.name} {value}.")
        if confirmed is not None:
            confirmed.add((target.table, value))


@cache
def _references(table: Table) -> tuple[tuple[str, Column], ...]:
    """The table's columns that refer to another's key, each with the key it refers to."""
    return tuple((column.name, foreign_key.column) for column in table.columns for foreign_key in column.foreign_keys)


def require_record(session: Session | Connection, model: type[Base], key: object, field: str) -> Any:
    """The record `field` refers to (through a session, the ORM's; through a connection, its row), or the error a
    client gets for a key that names nothing."""
    table = model.__table__
    (key_column,) = table.primary_key.columns
    if isinstance(session, Session):
        row = session.get(model, key)
    else:
        row = session.execute(select(table).where(key_column == key)).first()
    if row is None:
        raise InvalidInput(f"{field}: no {table.name} record has {key_column.name} {key}.")
    return row


# ---------------------------------------------------------------------------------------------- query definitions

# obj_key: derived from the object's name, so that it stays the same across restarts, resets and databases.
_OBJECT_KEY_NAMESPACE = uuid.UUID("6f1b2c8e-53a4-4d0e-9b57-0c1e4a7d2f90")

# SQL Server's names for the column types, as netFORUM's metadata (md_column.mdc_data_type) gives them.
_SQL_SERVER_TYPES = ((Uuid, "uniqueidentifier"), (DateTime, "datetime"), (SmallInteger, "tinyint"),
                     (Integer, "int"), (String, "nvarchar"))


def object_key(facade: FacadeObject | StoredObject) -> str:
    return facade.obj_key or str(uuid.uuid5(_OBJECT_KEY_NAMESPACE, facade.name))


def query_definition(facade: FacadeObject | StoredObject) -> dict[str, Any]:
    """GetQueryDefinition's Object: the object's list table, and each table it reads with the columns it reads
    there (what szColumnList, szWhereClause and szOrderBy may name); extender columns under their base table."""
    if isinstance(facade, StoredObject):
        return _definition(facade, facade.table_name, _stored_from_tables(facade))
    queryable = replace(facade, extension=None, list_columns=()).queryable
    columns_by_table: dict[FromClause, list[dict[str, str | None]]] = {}
    for name, column in queryable.columns.items():
        columns_by_table.setdefault(column.table, []).append(_column_definition(name, column))
    table = facade.model.__table__
    if facade.extension is not None:
        columns_by_table[table].extend(_declared_column(column, facade.extension.table_name)
                                       for column in facade.extension.columns)
    from_tables = [
        {"lsf_from_table": each.name, "lsf_from_alias": each.name, "lsf_from_join_type": join_type,
         "lsf_from_join": join, "Columns": {"Column": columns_by_table[each]}}
        for each, join_type, join in _from_tables(queryable.source)
    ]
    return _definition(facade, table.name, from_tables)


def _definition(facade: FacadeObject | StoredObject, table_name: str, from_tables: list[dict]) -> dict[str, Any]:
    return {
        "obj_key": object_key(facade),
        "obj_name": facade.name,
        "obj_description": facade.description,
        "ListTable": {"lst_mdt_name": table_name, "lst_select_distinct": "0",
                      "mdt_description": facade.description, "ListFromTables": {"ListFromTable": from_tables}},
    }


def _stored_from_tables(stored: StoredObject) -> list[dict[str, Any]]:
    """A profile object's tables as the profile declares them, each with its columns (those of no table declared
    under the object's own)."""
    tables = [(stored.table_name, stored.table_name, "", ""),
              *((each.name, each.alias or each.name, each.join_type, each.join) for each in stored.tables)]
    by_name = {name.lower(): name for _, name, _, _ in tables} | {table.lower(): alias for table, alias, _, _ in tables}
    columns: dict[str, list[dict[str, str | None]]] = {alias: [] for _, alias, _, _ in tables}
    for column in stored.columns:
        owner = by_name.get((column.table or stored.table_name).lower(), stored.table_name)
        columns[owner].append(_declared_column(column, f"{stored.table_name}_ext" if column.ext else stored.table_name))
    return [{"lsf_from_table": table, "lsf_from_alias": alias, "lsf_from_join_type": join_type, "lsf_from_join": join,
             "Columns": {"Column": columns[alias]}} for table, alias, join_type, join in tables]


def _declared_column(column: ProfileColumn, table_name: str) -> dict[str, str | None]:
    """A profile's column, as GetQueryDefinition describes it."""
    return {
        "mdc_name": column.name,
        "mdc_description": column.description or _described(column.name),
        "mdc_data_type": column.type,
        "mdc_ext": "1" if column.ext else "0",
        "mdc_nullable": "1" if column.nullable else "0",
        "mdc_table_name": column.table or table_name,
        "mdc_width_max": None if column.width is None else str(column.width),
    }


def _described(name: str) -> str:
    return name.split("_", 1)[-1].replace("_", " ").title()


def _from_tables(source: FromClause) -> list[tuple[FromClause, str, str]]:
    """The tables of a source in join order, each with how it is joined to those before it."""
    if isinstance(source, Join):
        join_type = "LEFT OUTER JOIN" if source.isouter else "INNER JOIN"
        return [*_from_tables(source.left), (source.right, join_type, str(source.onclause))]
    return [(source, "", "")]


def _column_definition(name: str, column: ColumnElement[Any]) -> dict[str, str | None]:
    sql_type = next((type_name for kind, type_name in _SQL_SERVER_TYPES if isinstance(column.type, kind)), "nvarchar")
    length = getattr(column.type, "length", None)
    return {
        "mdc_name": name,
        "mdc_description": _described(name),
        "mdc_data_type": sql_type,
        "mdc_ext": "0",
        "mdc_nullable": "1" if column.nullable else "0",
        "mdc_table_name": column.table.name,
        "mdc_width_max": None if length is None else str(length),
    }
