"""What the control plane does, as plain functions over the emulator: the JSON routes (control/routes.py) and the
dashboard (control/ui.py) both call these, so there is one implementation of every query and every action.

Each takes the `Emulator` first. A request it cannot carry out raises `BadRequest` (or `NotFound` for an id that
does not exist) and changes nothing.
"""

from __future__ import annotations

import math
import platform
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Select, delete, func, select, text
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from xweb_emulator import __version__, clock, faults, journal
from xweb_emulator.emulator import Emulator
from xweb_emulator.inputs import UnreadableValue, read_integer, read_value
from xweb_emulator.models import FaultRule, JournalEntry
from xweb_emulator.vendor import SeedError, StateView


PACKAGES = ("spyne", "lxml", "SQLAlchemy", "alembic", "Werkzeug", "granian")
# Where Alembic keeps the revisions a database is at (read without importing Alembic into every server worker).
_SCHEMA_REVISIONS = text("SELECT version_num FROM alembic_version")
CLOCK_CHANGES = ("offset_seconds", "advance_seconds", "now")
PAGING = ("limit", "offset")
MAX_INTEGER = 2**63 - 1
"""The largest integer both databases store."""
MAX_ID = 2**31 - 1
"""The largest id of a journal entry or fault rule (Integer keys: PostgreSQL refuses to compare one with more)."""
MASK = "***"
MASKED = frozenset({"password"})
"""The columns /state never shows (nor filters on): the vendors' users' passwords."""


class BadRequest(Exception):
    """A control request the plane cannot carry out; nothing was changed."""


class NotFound(BadRequest):
    """The request names a journal entry or fault rule that does not exist."""


# ---------------------------------------------------------------------------------------------------- health


def health(emulator: Emulator) -> dict:
    """Ready, the versions, the database's kind and schema revisions, the vendors."""
    database = emulator.database
    with database.engine.connect() as connection:
        revisions = sorted(connection.execute(_SCHEMA_REVISIONS).scalars())
    return {
        "status": "ready",
        "version": __version__,
        "python": platform.python_version(),
        "packages": {name: _installed_version(name) for name in PACKAGES},
        "database": {"kind": database.kind, "schema_revisions": revisions},
        "vendors": list(emulator.vendors),
    }


# -------------------------------------------------------------------------------------------------- coverage


def coverage(emulator: Emulator) -> dict[str, dict]:
    """Per vendor, its service and every operation the service offers, each with whether the emulator emulates it."""
    return {
        name: {
            "service": vendor.coverage.service,
            "offered": len(vendor.coverage.offered),
            "emulated": sum(operation in vendor.coverage.emulated for operation in vendor.coverage.offered),
            "operations": [{"name": operation, "emulated": operation in vendor.coverage.emulated}
                           for operation in vendor.coverage.offered],
        }
        for name, vendor in emulator.vendors.items()
    }


# ---------------------------------------------------------------------------------------------- reset and seed


def reset(emulator: Emulator, *, empty: bool = False, vendor: Any = None, profile: Any = None) -> dict:
    """Everything back to a fresh start: the demo data (unless `empty`), the configured users and fault rules; the
    journal emptied, the clock back to real time. With `vendor` (a vendor's name, as JSON may give anything), only
    that vendor's records. With `profile` (a tenant profile's YAML or JSON text, or its document), xWeb serves that
    profile from now on."""
    if vendor is not None and (not isinstance(vendor, str) or vendor not in emulator.vendors):
        raise BadRequest(f"unknown vendor {vendor!r}: the vendors are {', '.join(emulator.vendors)}")
    if profile is not None and not isinstance(profile, str | dict):
        raise BadRequest("profile is a tenant profile's YAML or JSON text, or its document")
    started = time.perf_counter()
    try:
        emulator.reset(demo_data=False if empty else None, vendor=vendor, profile=profile)
    except SeedError as error:
        raise BadRequest(f"profile: {error}") from None
    return {"reset": True, "vendor": vendor, "demo_data": not empty and emulator.settings.demo_data,
            "duration_ms": round((time.perf_counter() - started) * 1000, 3)}


def seed(emulator: Emulator, document: Any) -> dict[str, dict[str, list[str]]]:
    """Load a seed document in one transaction; the keys created, by vendor and object."""
    try:
        return emulator.seed(document)
    except SeedError as error:
        raise BadRequest(str(error)) from None


# ------------------------------------------------------------------------------------------------------ state


def state_summary(emulator: Emulator) -> dict[str, dict[str, int]]:
    """Each vendor's objects with how many records each holds."""
    with emulator.database.reading() as session:
        connection = session.connection()
        return {
            vendor.name: {name: connection.scalar(select(func.count()).select_from(view.source))
                          for name, view in vendor.state_views(connection).items()}
            for vendor in emulator.vendors.values()
        }


def state_object(emulator: Emulator, vendor_name: str, object_name: str) -> tuple[str, StateView]:
    """A vendor's state object, its name matched without regard to case: its name as the vendor writes it, and
    its view."""
    vendor = emulator.vendors.get(vendor_name)
    if vendor is None:
        raise BadRequest(f"unknown vendor {vendor_name!r}: the vendors are {', '.join(emulator.vendors)}")
    with emulator.database.reading() as session:
        views = vendor.state_views(session.connection())
    found = next(((name, view) for name, view in views.items() if name.lower() == object_name.lower()), None)
    if found is None:
        raise BadRequest(f"{vendor_name} has no object {object_name!r}: its objects are {', '.join(views)}")
    return found


def state_filters(emulator: Emulator, vendor_name: str, object_name: str,
                  arguments: Mapping[str, str]) -> tuple[dict[str, str], dict[str, int | None]]:
    """A state query's arguments split into column filters and paging (`limit`, `offset`, unless the object has
    columns of those names), every filter checked to name a column."""
    columns = state_columns(emulator, vendor_name, object_name)
    filters, paging = {}, {}
    for name, value in arguments.items():
        if name in PAGING and name not in columns:
            paging[name] = whole_number(value, name)
            continue
        if name not in columns:
            raise BadRequest(f"{object_name} has no column {name}: its columns are {', '.join(columns)}")
        if name in MASKED:
            raise BadRequest(f"{object_name} cannot be filtered on its {name}")
        filters[name] = _filter_value(name, value)
    return filters, paging


def state_columns(emulator: Emulator, vendor_name: str, object_name: str) -> list[str]:
    return list(state_object(emulator, vendor_name, object_name)[1].columns)


def state_records(emulator: Emulator, vendor_name: str, object_name: str, filters: Mapping[str, str] | None = None,
                  *, limit: int | None = None, offset: int | None = None) -> dict:
    """A vendor object's stored records, in key order, where each column of `filters` equals its value (given as
    text, read as the column's type: GUIDs in any notation, numbers, booleans, ISO dates)."""
    _name, view = state_object(emulator, vendor_name, object_name)
    statement = _state_query(view, object_name, filters or {}).order_by(*view.order).limit(limit).offset(offset or 0)
    with emulator.database.reading() as session:
        records = [_record(row) for row in session.execute(statement).mappings()]
    return {"vendor": vendor_name, "object": object_name, "count": len(records), "records": records}


def state_count(emulator: Emulator, vendor_name: str, object_name: str,
                filters: Mapping[str, str] | None = None) -> int:
    """How many records `state_records` finds with these filters, without limit or offset."""
    _name, view = state_object(emulator, vendor_name, object_name)
    statement = select(func.count()).select_from(_state_query(view, object_name, filters or {}).subquery())
    with emulator.database.reading() as session:
        return session.scalar(statement)


def _state_query(view: StateView, object_name: str, filters: Mapping[str, str]) -> Select:
    columns = view.columns
    statement = select(*(column.label(name) for name, column in columns.items())).select_from(view.source)
    for name, value in filters.items():
        if name not in columns:
            raise BadRequest(f"{object_name} has no column {name}: its columns are {', '.join(columns)}")
        statement = statement.where(columns[name] == _column_value(name, columns[name], value))
    return statement


# ---------------------------------------------------------------------------------------------------- journal


def journal_filters(arguments: Mapping[str, str]) -> dict[str, str]:
    """The journal's filters (vendor, operation, outcome) among request arguments."""
    return {name: _filter_value(name, arguments[name]) for name in journal.FILTERS if name in arguments}


def _filter_value(name: str, value: str) -> str:
    try:
        return read_value(name, value)
    except UnreadableValue as error:
        raise BadRequest(f"the value of {error.name} holds a NUL character (\\u0000)") from None


def journal_entries(emulator: Emulator, filters: Mapping[str, str] | None = None, *, after_id: int | None = None,
                    before_id: int | None = None, limit: int | None = None, newest_first: bool = False) -> list[dict]:
    """Journaled calls, oldest first (or newest first), filtered by vendor, operation and outcome (any case)."""
    with emulator.database.reading() as session:
        entries = journal.entries(session, filters or {}, limit=emulator.settings.journal_limit, after_id=after_id,
                                  before_id=before_id, count=limit, newest_first=newest_first)
        return [journal.as_json(entry) for entry in entries]


def journal_entry(emulator: Emulator, entry_id: int) -> dict:
    with emulator.database.reading() as session:
        entry = journal.entry(session, entry_id, limit=emulator.settings.journal_limit)
        if entry is None:
            raise NotFound(f"the journal holds no request {entry_id}")
        return journal.as_json(entry)


def clear_journal(emulator: Emulator) -> None:
    with emulator.database.transaction() as session:
        journal.clear(session)


@dataclass(frozen=True)
class JournalFacets:
    """What the journal holds to filter by: its vendors, operations and outcomes; how many calls, the newest id."""

    vendors: list[str]
    operations: list[str]
    outcomes: list[str]
    total: int
    newest_id: int | None


def journal_facets(emulator: Emulator) -> JournalFacets:
    with emulator.database.reading() as session:
        def values(column) -> list[str]:
            shown = select(column).where(journal.shown(emulator.settings.journal_limit)).distinct()
            return sorted(value for value in session.scalars(shown) if value is not None)

        total, newest = session.execute(select(func.count(), func.max(JournalEntry.id)).where(
            journal.shown(emulator.settings.journal_limit))).one()
        return JournalFacets(values(JournalEntry.vendor), values(JournalEntry.operation),
                             values(JournalEntry.outcome), total, newest)


def journal_times(emulator: Emulator, filters: Mapping[str, str] | None = None) -> list[tuple[datetime, str]]:
    """When each journaled call arrived (the emulator's clock) and how it ended, oldest first."""
    statement = select(JournalEntry.at, JournalEntry.outcome).where(
        journal.shown(emulator.settings.journal_limit)).order_by(JournalEntry.id)
    for name, value in (filters or {}).items():
        statement = statement.where(func.lower(getattr(JournalEntry, name)) == value.lower())
    with emulator.database.reading() as session:
        return [(at, outcome) for at, outcome in session.execute(statement)]


# ----------------------------------------------------------------------------------------------------- faults


def fault_rules(emulator: Emulator) -> dict:
    """The rules in the order they draw (with draws, fired, remaining), and each vendor's fault kinds."""
    with emulator.database.reading() as session:
        rules = [_fault_rule(rule) for rule in session.scalars(select(FaultRule).order_by(FaultRule.id))]
    vendors = {vendor.name: {"fault_kinds": dict(vendor.fault_kinds), "has_tokens": vendor.has_tokens}
               for vendor in emulator.vendors.values()}
    return {"rules": rules, "vendors": vendors}


def fault_rules_in_force(emulator: Emulator) -> int:
    """How many rules still draw (spent ones do not)."""
    with emulator.database.reading() as session:
        return session.scalar(select(func.count()).select_from(FaultRule).where(faults.IN_FORCE))


def add_fault_rules(emulator: Emulator, items: Iterable[Any]) -> list[dict]:
    """Add rules as a client writes them (FaultSpec's fields); all or none."""
    try:
        specs = [emulator.checked_fault(faults.FaultSpec.model_validate(item)) for item in items]
    except ValidationError as error:
        raise BadRequest("; ".join(_validation_message(item) for item in error.errors())) from None
    except faults.InvalidFaultRule as error:
        raise BadRequest(str(error)) from None
    with emulator.database.transaction() as session:
        return [_fault_rule(faults.add_rule(session, spec)) for spec in specs]


def remove_fault_rule(emulator: Emulator, rule_id: int) -> None:
    with emulator.database.transaction() as session:
        removed = session.execute(delete(FaultRule).where(FaultRule.id == rule_id)).rowcount
    if not removed:
        raise NotFound(f"there is no fault rule {rule_id}")


def clear_fault_rules(emulator: Emulator) -> None:
    with emulator.database.transaction() as session:
        session.execute(delete(FaultRule))


# ------------------------------------------------------------------------------------------------------ clock


def get_clock(emulator: Emulator) -> dict:
    """The emulator's now and its offset from real time."""
    with emulator.database.reading() as session:
        return _clock(session)


def set_clock(emulator: Emulator, change: Mapping[str, Any]) -> dict:
    """Set the clock by one of {"offset_seconds": s}, {"advance_seconds": s} (from where it is now) or
    {"now": "<ISO 8601>"} (without an offset: UTC); seconds are JSON numbers."""
    given = [name for name in CLOCK_CHANGES if name in change]
    if len(given) != 1:
        raise BadRequest('give one of {"offset_seconds": s}, {"advance_seconds": s}, {"now": "<ISO 8601>"}')
    with emulator.database.transaction() as session:
        if given == ["now"]:
            offset = _instant(change["now"]) - clock.utcnow()
        else:
            seconds = change[given[0]]
            # math.isfinite of an int past 1e308 raises OverflowError: integers are finite, and timedelta bounds them.
            if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or (
                    isinstance(seconds, float) and not math.isfinite(seconds)):
                raise BadRequest(f"{given[0]} must be a number of seconds")
            try:
                offset = timedelta(seconds=seconds) + (clock.offset(session) if given == ["advance_seconds"]
                                                       else timedelta(0))
                clock.utcnow() + offset
            except OverflowError:
                raise BadRequest(f"{given[0]}: the clock would leave the years 1 to 9999") from None
        clock.set_offset(session, offset)
        return _clock(session)


def reset_clock(emulator: Emulator) -> dict:
    """Back to real time."""
    with emulator.database.transaction() as session:
        clock.set_offset(session, timedelta(0))
        return _clock(session)


# ---------------------------------------------------------------------------------------------------- helpers


def flag(value: Any, name: str) -> bool:
    """A boolean given as JSON or as text (true, 1, false, 0, or nothing)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "1", "false", "0", ""):
        return value.lower() in ("true", "1")
    raise BadRequest(f"{name} must be true or false")


def whole_number(value: str | None, name: str, maximum: int = MAX_INTEGER) -> int | None:
    if value is None:
        return None
    # Only 0-9 (not "²", "١"; no sign), within the databases' 64-bit integers.
    try:
        number = read_integer(value) if value.isdigit() else None
    except ValueError:
        number = None
    if number is None or number > maximum:
        raise BadRequest(f"{name} must be a whole number from 0 to {maximum}")
    return number


def _column_value(name: str, column: ColumnElement[Any], text: str) -> Any:
    try:
        kind = column.type.python_type
    except NotImplementedError:
        return text
    try:
        if kind is uuid.UUID:
            return uuid.UUID(text.strip("{}"))
        if kind is bool:
            return flag(text, name)
        if kind is datetime:
            return datetime.fromisoformat(text)
        if kind is int:
            if abs(number := read_integer(text)) > MAX_INTEGER:
                raise ValueError(text)
            return number
        return kind(text)
    except ValueError:
        raise BadRequest(f"{name} takes {kind.__name__} values, not {text!r}") from None


def _record(row: Mapping[str, Any]) -> dict:
    # Passwords are never shown: a user object's password column reads as ***.
    return {name: MASK if name in MASKED else _plain(value) for name, value in row.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def _fault_rule(rule: FaultRule) -> dict:
    return {
        "id": rule.id, "vendor": rule.vendor, "operation": rule.operation, "action": rule.action,
        "fault_kind": rule.fault_kind, "latency_ms": rule.latency_ms,
        "retry_after_seconds": rule.retry_after_seconds, "probability": rule.probability,
        "remaining": rule.remaining, "seed": rule.seed, "draws": rule.draws, "fired": rule.fired,
        "configured": rule.configured,
    }


def _clock(session: Session) -> dict:
    offset = clock.offset(session)
    return {"now": (clock.utcnow() + offset).isoformat(timespec="milliseconds") + "Z",
            "offset_seconds": offset.total_seconds()}


def _instant(text: Any) -> datetime:
    try:
        value = datetime.fromisoformat(str(text))
    except ValueError:
        raise BadRequest(f"now must be an ISO 8601 date and time, not {text!r}") from None
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


def _validation_message(error: dict) -> str:
    where = ".".join(str(part) for part in error["loc"])
    return f"{where}: {error['msg']}" if where else error["msg"]


def _installed_version(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None
