"""The control plane: JSON over HTTP under /_emulator/, for test harnesses (documented in the README).

    GET    /_emulator/health                     ready, versions, database kind, schema revisions
    POST   /_emulator/reset                      back to the demo data ({"empty": true}: without it; {"vendor": "sap"}:
                                                 that vendor's records only)
    POST   /_emulator/seed                       load a seed document; answers the keys created
    GET    /_emulator/state                      each vendor's objects and how many records each holds
    GET    /_emulator/state/<vendor>/<object>    the stored records; ?<column>=<value> filters, limit, offset
    GET    /_emulator/requests                   the request journal; ?vendor= &operation= &outcome= &after_id= &limit=
    DELETE /_emulator/requests                   clear it
    GET    /_emulator/requests/<id>              one call
    GET    /_emulator/faults                     the fault rules, and each vendor's fault kinds
    POST   /_emulator/faults                     add a rule (or a list of rules)
    DELETE /_emulator/faults[/<id>]              remove every rule, or one
    GET    /_emulator/clock                      the emulator's now and its offset from real time
    POST   /_emulator/clock                      {"offset_seconds": s} | {"advance_seconds": s} | {"now": "<ISO 8601>"}
    DELETE /_emulator/clock                      back to real time
"""

from __future__ import annotations

import json
import math
import platform
import time
import uuid
from datetime import UTC, datetime, timedelta
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from alembic.migration import MigrationContext
from pydantic import ValidationError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session
from werkzeug import Request, Response
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule

from xweb_emulator import __version__, clock, faults, journal
from xweb_emulator.db import Base
from xweb_emulator.emulator import Emulator
from xweb_emulator.inputs import UnreadableJson, read_json
from xweb_emulator.models import FaultRule
from xweb_emulator.vendor import SeedError

MAX_INTEGER = 2**63 - 1
"""The largest integer both databases store."""
_PACKAGES = ("spyne", "lxml", "SQLAlchemy", "alembic", "Werkzeug", "granian")


class BadRequest(Exception):
    """A control request the plane cannot carry out; nothing was changed."""


class ControlPlane:
    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.urls = Map([
            Rule("/_emulator/health", endpoint=self.health, methods=["GET"]),
            Rule("/_emulator/reset", endpoint=self.reset, methods=["POST"]),
            Rule("/_emulator/seed", endpoint=self.seed, methods=["POST"]),
            Rule("/_emulator/state", endpoint=self.state_summary, methods=["GET"]),
            Rule("/_emulator/state/<vendor>/<object_name>", endpoint=self.state, methods=["GET"]),
            Rule("/_emulator/requests", endpoint=self.requests, methods=["GET"]),
            Rule("/_emulator/requests", endpoint=self.clear_requests, methods=["DELETE"]),
            Rule(f"/_emulator/requests/<int(max={MAX_INTEGER}):entry_id>", endpoint=self.request_entry,
                 methods=["GET"]),
            Rule("/_emulator/faults", endpoint=self.fault_rules, methods=["GET"]),
            Rule("/_emulator/faults", endpoint=self.add_fault_rules, methods=["POST"]),
            Rule("/_emulator/faults", endpoint=self.clear_fault_rules, methods=["DELETE"]),
            Rule(f"/_emulator/faults/<int(max={MAX_INTEGER}):rule_id>", endpoint=self.remove_fault_rule,
                 methods=["DELETE"]),
            Rule("/_emulator/clock", endpoint=self.clock, methods=["GET"]),
            Rule("/_emulator/clock", endpoint=self.set_clock, methods=["POST"]),
            Rule("/_emulator/clock", endpoint=self.reset_clock, methods=["DELETE"]),
        ], strict_slashes=False)

    def __call__(self, request: Request) -> Response:
        try:
            handler, arguments = self.urls.bind_to_environ(request.environ).match()
            result = handler(request, **arguments)
        except HTTPException as error:
            return _json({"error": error.description}, error.code)
        except BadRequest as error:
            return _json({"error": str(error)}, 400)
        return result if isinstance(result, Response) else _json(result)

    def _transaction(self):
        return self.emulator.database.transaction()

    # ------------------------------------------------------------------------------------------------- health

    def health(self, request: Request) -> dict:
        database = self.emulator.database
        with database.engine.connect() as connection:
            revisions = sorted(MigrationContext.configure(connection).get_current_heads())
        return {
            "status": "ready",
            "version": __version__,
            "python": platform.python_version(),
            "packages": {name: _installed_version(name) for name in _PACKAGES},
            "database": {"kind": database.kind, "schema_revisions": revisions},
            "vendors": list(self.emulator.vendors),
        }

    # ------------------------------------------------------------------------------------------ reset and seed

    def reset(self, request: Request) -> dict:
        body = _json_object(request, default={})
        empty = _flag(request.args.get("empty", body.get("empty", False)), "empty")
        vendor = request.args.get("vendor", body.get("vendor"))
        if vendor is not None and vendor not in self.emulator.vendors:
            raise BadRequest(f"unknown vendor {vendor!r}: the vendors are {', '.join(self.emulator.vendors)}")
        started = time.perf_counter()
        self.emulator.reset(demo_data=False if empty else None, vendor=vendor)
        return {"reset": True, "vendor": vendor, "demo_data": not empty and self.emulator.settings.demo_data,
                "duration_ms": round((time.perf_counter() - started) * 1000, 3)}

    def seed(self, request: Request) -> dict:
        try:
            return {"created": self.emulator.seed(_json_body(request))}
        except SeedError as error:
            raise BadRequest(str(error)) from None

    # -------------------------------------------------------------------------------------------------- state

    def state_summary(self, request: Request) -> dict:
        with self._transaction() as session:
            return {
                vendor.name: {name: session.scalar(select(func.count()).select_from(model))
                              for name, model in vendor.state_objects.items()}
                for vendor in self.emulator.vendors.values()
            }

    def state(self, request: Request, vendor: str, object_name: str) -> dict:
        model = self._state_model(vendor, object_name)
        columns = {column.name: column for column in model.__table__.columns}
        statement = select(model)
        for name, value in request.args.items():
            if name in ("limit", "offset") and name not in columns:
                continue
            if name not in columns:
                raise BadRequest(f"{object_name} has no column {name}: its columns are {', '.join(columns)}")
            if name in MASKED:
                raise BadRequest(f"{object_name} cannot be filtered on its {name}")
            statement = statement.where(columns[name] == _column_value(columns[name], value))
        statement = statement.order_by(*model.__table__.primary_key.columns)
        statement = statement.limit(_count(request, "limit")).offset(_count(request, "offset") or 0)
        with self._transaction() as session:
            records = [_record(model, row) for row in session.scalars(statement)]
        return {"vendor": vendor, "object": object_name, "count": len(records), "records": records}

    def _state_model(self, vendor_name: str, object_name: str) -> type[Base]:
        vendor = self.emulator.vendors.get(vendor_name)
        if vendor is None:
            raise BadRequest(f"unknown vendor {vendor_name!r}: the vendors are {', '.join(self.emulator.vendors)}")
        by_lower_name = {name.lower(): model for name, model in vendor.state_objects.items()}
        model = by_lower_name.get(object_name.lower())
        if model is None:
            raise BadRequest(f"{vendor_name} has no object {object_name!r}: "
                             f"its objects are {', '.join(vendor.state_objects)}")
        return model

    # ------------------------------------------------------------------------------------------------ journal

    def requests(self, request: Request) -> dict:
        filters = {name: request.args[name] for name in journal.FILTERS if name in request.args}
        with self._transaction() as session:
            entries = journal.entries(session, filters, limit=self.emulator.settings.journal_limit,
                                      after_id=_count(request, "after_id"), count=_count(request, "limit"))
            return {"requests": [journal.as_json(entry) for entry in entries]}

    def request_entry(self, request: Request, entry_id: int) -> Response | dict:
        with self._transaction() as session:
            entry = journal.entry(session, entry_id, limit=self.emulator.settings.journal_limit)
            if entry is None:
                return _json({"error": f"the journal holds no request {entry_id}"}, 404)
            return journal.as_json(entry)

    def clear_requests(self, request: Request) -> dict:
        with self._transaction() as session:
            journal.clear(session)
        return {"cleared": True}

    # ------------------------------------------------------------------------------------------------- faults

    def fault_rules(self, request: Request) -> dict:
        with self._transaction() as session:
            rules = [_fault_rule(rule) for rule in session.scalars(select(FaultRule).order_by(FaultRule.id))]
        vendors = {vendor.name: {"fault_kinds": dict(vendor.fault_kinds), "has_tokens": vendor.has_tokens}
                   for vendor in self.emulator.vendors.values()}
        return {"rules": rules, "vendors": vendors}

    def add_fault_rules(self, request: Request) -> Response:
        body = _json_body(request)
        items = body if isinstance(body, list) else [body]
        try:
            specs = [self.emulator.checked_fault(faults.FaultSpec.model_validate(item)) for item in items]
        except ValidationError as error:
            raise BadRequest("; ".join(_validation_message(item) for item in error.errors())) from None
        except faults.InvalidFaultRule as error:
            raise BadRequest(str(error)) from None
        with self._transaction() as session:
            rules = [_fault_rule(faults.add_rule(session, spec)) for spec in specs]
        return _json({"rules": rules}, 201)

    def clear_fault_rules(self, request: Request) -> dict:
        with self._transaction() as session:
            session.execute(delete(FaultRule))
        return {"cleared": True}

    def remove_fault_rule(self, request: Request, rule_id: int) -> Response | dict:
        with self._transaction() as session:
            removed = session.execute(delete(FaultRule).where(FaultRule.id == rule_id)).rowcount
        if not removed:
            return _json({"error": f"there is no fault rule {rule_id}"}, 404)
        return {"removed": rule_id}

    # -------------------------------------------------------------------------------------------------- clock

    def clock(self, request: Request) -> dict:
        with self._transaction() as session:
            return _clock(session)

    def set_clock(self, request: Request) -> dict:
        body = _json_object(request)
        given = [name for name in ("offset_seconds", "advance_seconds", "now") if name in body]
        if len(given) != 1:
            raise BadRequest('give one of {"offset_seconds": s}, {"advance_seconds": s}, {"now": "<ISO 8601>"}')
        with self._transaction() as session:
            if given == ["now"]:
                offset = _instant(body["now"]) - clock.utcnow()
            else:
                seconds = body[given[0]]
                if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not math.isfinite(seconds):
                    raise BadRequest(f"{given[0]} must be a number of seconds")
                try:
                    offset = timedelta(seconds=seconds) + (clock.offset(session) if given == ["advance_seconds"]
                                                           else timedelta(0))
                    clock.utcnow() + offset
                except OverflowError:
                    raise BadRequest(f"{given[0]}: the clock would leave the years 1 to 9999") from None
            clock.set_offset(session, offset)
            return _clock(session)

    def reset_clock(self, request: Request) -> dict:
        with self._transaction() as session:
            clock.set_offset(session, timedelta(0))
            return _clock(session)


# ------------------------------------------------------------------------------------------------------ helpers


def _json(value: Any, status: int = 200) -> Response:
    return Response(json.dumps(value, ensure_ascii=False, default=str), status,
                    content_type="application/json; charset=utf-8")


def _json_body(request: Request, default: Any = None) -> Any:
    data = request.get_data()
    if not data.strip():
        if default is None:
            raise BadRequest("the request body must be JSON")
        return default
    try:
        return read_json(data)
    except UnreadableJson as error:
        raise BadRequest(f"the request body is not valid JSON: {error.json_net}") from None


def _json_object(request: Request, default: dict | None = None) -> dict:
    body = _json_body(request, default)
    if not isinstance(body, dict):
        raise BadRequest("the request body must be a JSON object")
    return body


def _flag(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "1", "false", "0", ""):
        return value.lower() in ("true", "1")
    raise BadRequest(f"{name} must be true or false")


def _count(request: Request, name: str) -> int | None:
    value = request.args.get(name)
    if value is None:
        return None
    # str.isdigit() takes non-ASCII digits ("²", "١"): only 0-9, and within the databases' 64-bit integers.
    if not (value.isascii() and value.isdigit()) or int(value) > MAX_INTEGER:
        raise BadRequest(f"{name} must be a whole number from 0 to {MAX_INTEGER}")
    return int(value)


def _column_value(column, text: str) -> Any:
    try:
        kind = column.type.python_type
    except NotImplementedError:
        return text
    try:
        if kind is uuid.UUID:
            return uuid.UUID(text.strip("{}"))
        if kind is bool:
            return _flag(text, column.name)
        if kind is datetime:
            return datetime.fromisoformat(text)
        if kind is int:
            number = int(text) if text.strip().lstrip("+-").isascii() else int("x")
            if abs(number) > MAX_INTEGER:
                raise ValueError(text)
            return number
        return kind(text)
    except ValueError:
        raise BadRequest(f"{column.name} takes {kind.__name__} values, not {text!r}") from None


MASK = "***"
MASKED = frozenset({"password"})
"""The columns /state never shows (nor filters on): the vendors' users' passwords."""


def _record(model: type[Base], row: Base) -> dict:
    # Passwords are never shown: a user object's password column reads as ***.
    return {column.name: MASK if column.name in MASKED else _plain(getattr(row, column.key))
            for column in model.__table__.columns}


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

