"""The request journal: every vendor call with when, what, who, how it ended and how long it took, with the request
and response bodies up to a size cap. It keeps the newest `journal_limit` calls."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, func, insert, select
from sqlalchemy.orm import Session

from xweb_emulator.control.models import JournalEntry

FILTERS = ("vendor", "operation", "outcome")


@dataclass(frozen=True)
class Exchange:
    at: datetime
    method: str
    path: str
    client_address: str | None
    request_body: bytes
    status: int
    response_body: bytes
    duration_ms: float


def record(connection: Connection, exchange: Exchange, *, vendor: str, operation: str | None, user: str | None,
           outcome: str, fault_rule_id: int | None, limit: int, body_bytes: int) -> None:
    request_body, request_truncated = _capped(exchange.request_body, body_bytes)
    response_body, response_truncated = _capped(exchange.response_body, body_bytes)
    # Core rather than the ORM: this runs after every call, and a unit of work would double its cost.
    entry_id = connection.execute(insert(JournalEntry).values(
        at=exchange.at, vendor=vendor, operation=operation, user_name=user, outcome=outcome, status=exchange.status,
        duration_ms=round(exchange.duration_ms, 3), method=exchange.method, path=exchange.path[:2048],
        client_address=exchange.client_address, fault_rule_id=fault_rule_id,
        request_body=request_body, request_truncated=request_truncated,
        response_body=response_body, response_truncated=response_truncated,
    ).returning(JournalEntry.id)).scalar_one()
    # Retention: ids only grow, so everything `limit` or more below the newest goes.
    connection.execute(delete(JournalEntry).where(JournalEntry.id <= entry_id - limit))


def entries(session: Session, filters: Mapping[str, str], *, after_id: int | None = None,
            before_id: int | None = None, limit: int | None = None, newest_first: bool = False) -> list[JournalEntry]:
    """Calls in the order they arrived (or the newest first); filters compare without regard to case."""
    statement = select(JournalEntry).order_by(JournalEntry.id.desc() if newest_first else JournalEntry.id)
    for name, value in filters.items():
        statement = statement.where(func.lower(getattr(JournalEntry, name)) == value.lower())
    if after_id is not None:
        statement = statement.where(JournalEntry.id > after_id)
    if before_id is not None:
        statement = statement.where(JournalEntry.id < before_id)
    if limit is not None:
        statement = statement.limit(limit)
    return list(session.scalars(statement))


def clear(session: Session) -> None:
    session.execute(delete(JournalEntry))


def as_json(entry: JournalEntry) -> dict:
    return {
        "id": entry.id,
        "at": entry.at.isoformat(timespec="milliseconds") + "Z",
        "vendor": entry.vendor,
        "operation": entry.operation,
        "user": entry.user_name,
        "outcome": entry.outcome,
        "status": entry.status,
        "duration_ms": entry.duration_ms,
        "method": entry.method,
        "path": entry.path,
        "client_address": entry.client_address,
        "fault_rule_id": entry.fault_rule_id,
        "request": {"body": entry.request_body, "truncated": entry.request_truncated},
        "response": {"body": entry.response_body, "truncated": entry.response_truncated},
    }


def _capped(body: bytes, limit: int) -> tuple[str, bool]:
    return body[:limit].decode("utf-8", errors="replace"), len(body) > limit
