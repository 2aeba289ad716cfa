"""The emulator's notion of now: naive UTC, as stored in the database, shifted by the offset a test harness set
(/_emulator/clock) so that tokens and lock-outs expire without waiting. The offset is in the database: every worker
reads the same clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, delete, select
from sqlalchemy.orm import Session

from xweb_emulator.models import ClockOffset

_ROW = 1

OFFSET_SECONDS = select(ClockOffset.offset_seconds).where(ClockOffset.id == _ROW).scalar_subquery()
"""The offset as a subquery, for a statement that reads it together with something else (the call pipeline's)."""


def utcnow() -> datetime:
    """Real UTC time, unshifted."""
    return datetime.now(UTC).replace(tzinfo=None)


def shifted(offset_seconds: float | None) -> datetime:
    """Now on a clock `offset_seconds` ahead of real time."""
    return utcnow() + timedelta(seconds=offset_seconds or 0)


def offset(session: Session | Connection) -> timedelta:
    return timedelta(seconds=session.execute(select(OFFSET_SECONDS)).scalar() or 0)


def now(session: Session | Connection) -> datetime:
    return utcnow() + offset(session)


def set_offset(session: Session, value: timedelta) -> None:
    if not value:
        session.execute(delete(ClockOffset))
        return
    row = session.get(ClockOffset, _ROW)
    if row is None:
        session.add(ClockOffset(id=_ROW, offset_seconds=value.total_seconds()))
    else:
        row.offset_seconds = value.total_seconds()
