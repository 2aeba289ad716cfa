"""The emulator's own tables (migration branch `emulator`): the clock, the request journal and the fault rules. They
live in the database like every vendor's records, so that every worker and replica shares one clock, one journal and
one set of fault rules."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from xweb_emulator.db import Base


class ClockOffset(Base):
    """How far the emulator's clock is ahead of (or behind) real UTC time. One row, or none for no offset."""

    __tablename__ = "emulator_clock"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    offset_seconds: Mapped[float] = mapped_column(Float, nullable=False)


class JournalEntry(Base):
    __tablename__ = "emulator_journal"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, nullable=False)  # the emulator's clock, when the call arrived
    vendor: Mapped[str] = mapped_column(String(32), nullable=False)
    operation: Mapped[str | None] = mapped_column(String(128))
    user_name: Mapped[str | None] = mapped_column(String(255))
    outcome: Mapped[str] = mapped_column(String(64), nullable=False)
    status: Mapped[int] = mapped_column(Integer, nullable=False)
    duration_ms: Mapped[float] = mapped_column(Float, nullable=False)
    method: Mapped[str] = mapped_column(String(16), nullable=False)
    path: Mapped[str] = mapped_column(String(2048), nullable=False)
    client_address: Mapped[str | None] = mapped_column(String(64))
    fault_rule_id: Mapped[int | None] = mapped_column(Integer)
    request_body: Mapped[str] = mapped_column(Text, nullable=False)
    request_truncated: Mapped[bool] = mapped_column(Boolean, nullable=False)
    response_body: Mapped[str] = mapped_column(Text, nullable=False)
    response_truncated: Mapped[bool] = mapped_column(Boolean, nullable=False)


class FaultRule(Base):
    """A misbehaviour to inject into matching calls: see xweb_emulator.control.faults."""

    __tablename__ = "emulator_fault_rule"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    vendor: Mapped[str] = mapped_column(String(32), nullable=False)
    operation: Mapped[str | None] = mapped_column(String(128))  # None: every operation of the vendor
    action: Mapped[str] = mapped_column(String(32), nullable=False)
    fault_kind: Mapped[str | None] = mapped_column(String(64))
    latency_ms: Mapped[int | None] = mapped_column(Integer)
    retry_after_seconds: Mapped[int | None] = mapped_column(Integer)
    probability: Mapped[float] = mapped_column(Float, nullable=False)
    remaining: Mapped[int | None] = mapped_column(Integer)  # None: unlimited
    seed: Mapped[int | None] = mapped_column(Integer)
    draws: Mapped[int] = mapped_column(Integer, nullable=False)  # matching calls seen so far
    fired: Mapped[int] = mapped_column(Integer, nullable=False)
    configured: Mapped[bool] = mapped_column(Boolean, nullable=False)  # from settings: restored by every reset
