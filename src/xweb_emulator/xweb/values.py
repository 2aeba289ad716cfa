"""Parsing the values clients send, in the formats netFORUM accepts, and rendering the ones it answers with."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Column, DateTime, Integer, Numeric, SmallInteger, String, TypeDecorator, Uuid, type_coerce
from sqlalchemy.sql.elements import ColumnElement

from xweb_emulator.db import unfit_value
from xweb_emulator.inputs import read_integer
from xweb_emulator.xweb.errors import InvalidInput

# av_key_Type in the vendor WSDL: braces and dashes optional, any case.
_GUID = re.compile(r"\{?[0-9a-fA-F]{8}-?(?:[0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12}\}?")

# What clients send: the vendor samples' US formats (03/12/2012 13:44:55.892, 01/12/2008), 12-hour clock as
# netFORUM itself writes dates, and ISO 8601.
_DATE_FORMATS = (
    "%m/%d/%Y %H:%M:%S.%f",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y",
)


def parse_guid(text: str, field: str) -> uuid.UUID:
    value = text.strip()
    if not _GUID.fullmatch(value):
        raise InvalidInput(f"Invalid value for {field}: '{text}' is not a valid GUID.")
    return uuid.UUID(value.strip("{}"))


# The vendor samples' own formats, read without strptime (a thousand-record call has a thousand of them; strptime
# tries each format in turn: 20 us for a date alone). A date alone as strptime reads it: ASCII digits only.
_US_DATE_TIME = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4}) (\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?")
_US_DATE = re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})")


def parse_date(text: str, field: str) -> datetime:
    value = text.strip()
    match = _US_DATE_TIME.fullmatch(value)
    if match is not None:
        month, day, year, hour, minute, second, fraction = match.groups()
        try:
            return datetime(int(year), int(month), int(day), int(hour), int(minute), int(second),
                            int((fraction or "0").ljust(6, "0")))
        except ValueError:
            pass  # out of range: the formats below refuse it in the same words
    match = _US_DATE.fullmatch(value)
    if match is not None:
        month, day, year = match.groups()
        try:
            return datetime(int(year), int(month), int(day))
        except ValueError:
            pass
    for date_format in _DATE_FORMATS:
        try:
            return datetime.strptime(value, date_format)
        except ValueError:
            continue
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"Invalid value for {field}: '{text}' is not a valid date.") from None
    # Stored dates carry no zone (as in netFORUM): an offset the client sent is applied, leaving UTC.
    return parsed if parsed.tzinfo is None else parsed.astimezone(UTC).replace(tzinfo=None)


def parse_int(text: str, field: str) -> int:
    try:
        return read_integer(text)
    except ValueError:
        raise InvalidInput(f"Invalid value for {field}: '{text}' is not a valid integer.") from None


def integer_parser(column: Column) -> Callable[[str, str], int]:
    """parse_int for an integer column, refusing what its type cannot hold as SQL Server does (its smallint and int
    are our SmallInteger and Integer)."""
    sql_type = "smallint" if isinstance(column.type, SmallInteger) else "int"

    def parse(text: str, field: str) -> int:
        value = parse_int(text, field)
        if unfit_value(column, value) is not None:
            raise InvalidInput(f"Arithmetic overflow error converting expression to data type {sql_type}.")
        return value

    return parse


def parse_decimal(text: str, field: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite():
        raise InvalidInput(f"Invalid value for {field}: '{text}' is not a valid number.")
    return value


class ValueReader:
    """How the text a client sends for one column is read, decided once from the column's type: a call of a
    thousand records reads thousands of values, each through the one function its column needs (`read`)."""

    __slots__ = ("column", "read", "parses")

    def __init__(self, column: str, read: Callable[[str | None], object], parses: bool = True) -> None:
        self.column = column
        self.read = read
        """The column's value from the text a client sent; an empty element (no text, or only white space) means
        no value."""
        self.parses = parses
        """Whether the text is parsed into another value (a GUID, a date, a number), not kept as it is."""

    def __call__(self, text: str | None) -> object:
        return self.read(text)


def value_reader(column: Column) -> ValueReader:
    """How a client's text for `column` is read, by its type."""
    if isinstance(column.type, Uuid):
        return ValueReader(column.name, _parsed(column.name, parse_guid))
    if isinstance(column.type, DateTime):
        return ValueReader(column.name, _parsed(column.name, parse_date))
    if isinstance(column.type, (Integer, SmallInteger)):
        return ValueReader(column.name, _parsed(column.name, integer_parser(column)))
    if isinstance(column.type, Numeric):
        return ValueReader(column.name, _parsed(column.name, parse_decimal))
    length = (column.type.length or None) if isinstance(column.type, String) else None
    return ValueReader(column.name, _text(column.name, length), parses=False)


def reading_once(readers: dict[str, ValueReader]) -> dict[str, ValueReader]:
    """`readers` for the records of one call: each that parses its text parses each distinct text once (a thousand
    records of one customer, on one date: one GUID and one date parsed). A text that fails is not kept: it fails
    again, with the same words, in the first record that sends it."""
    return {name: ValueReader(reader.column, _once(reader.read)) if reader.parses else reader
            for name, reader in readers.items()}


_UNREAD = object()


def _once(read: Callable[[str | None], object]) -> Callable[[str | None], object]:
    values: dict[str | None, object] = {}

    def read_once(text: str | None) -> object:
        value = values.get(text, _UNREAD)
        if value is _UNREAD:
            value = values[text] = read(text)
        return value

    return read_once


# `not text or text.isspace()` is `not text.strip()` without the copy strip makes.


def _parsed(name: str, parse: Callable[[str, str], object]) -> Callable[[str | None], object]:
    def read(text: str | None) -> object:
        return None if not text or text.isspace() else parse(text, name)

    return read


def _text(name: str, length: int | None) -> Callable[[str | None], object]:
    if length is None:
        return lambda text: None if not text or text.isspace() else text

    def read(text: str | None) -> object:
        if not text or text.isspace():
            return None
        if len(text) > length:
            raise InvalidInput(f"String or binary data would be truncated: {name} holds at most {length} characters.")
        return text

    return read


def format_guid(value: uuid.UUID | None) -> str | None:
    return None if value is None else str(value)


class GuidAsStored(TypeDecorator):
    """A Uuid column read as the database hands its values over: 32 hex digits from SQLite, a uuid.UUID from
    psycopg. Statements whose rows are only written out select their GUIDs so (`as_stored`), rendered by
    `format_stored_guid` without the uuid.UUID that SQLAlchemy's Uuid makes of each (a GetQuery page writes
    hundreds: a tenth of its time went to them)."""

    impl = String
    cache_ok = True


def as_stored(column: ColumnElement[Any]) -> ColumnElement[Any]:
    """A column as a statement whose values are only written out selects it (see GuidAsStored)."""
    return type_coerce(column, GuidAsStored()) if isinstance(column.type, Uuid) else column


def format_stored_guid(value: str | uuid.UUID) -> str:
    """A GuidAsStored value as format_guid writes it."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if len(value) == 32:
        return f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}".lower()
    return str(uuid.UUID(value))


def format_date(value: datetime | None) -> str | None:
    """netFORUM's US rendering of a date: 3/12/2012 1:44:55 PM."""
    if value is None:
        return None
    hour = value.hour % 12 or 12
    return f"{value.month}/{value.day}/{value.year} {hour}:{value:%M:%S} {'AM' if value.hour < 12 else 'PM'}"
