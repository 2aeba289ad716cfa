"""Fault injection: rules that make matching vendor calls misbehave, so that a connector's retry and
re-authentication paths can be tested.

A rule names a vendor, optionally one operation, and an action:

    latency       answer as usual, `latency_ms` later (any other action may add latency too)
    fault         answer with the vendor's own fault of `fault_kind` (a kind of the vendor's `fault_kinds`);
                  the vendor raises it through its own error path, so it does to state what the real fault does
                  (writes nothing; an xWeb fault kills the token it came with)
    throttle      HTTP 429 with Retry-After, as xWeb tenants throttle bursts
    unavailable   HTTP 503 with Retry-After
    drop          close the connection without an answer
    expire_token  expire every token the vendor has issued, then answer as usual (the call fails as an expired
                  token does)

It fires with `probability` on each matching call, for the next `count` firings (or for ever). With a `seed` the
draws are reproducible: the n-th matching call draws random.Random(f"{seed}:{n}"), whichever worker takes it.
Rules are kept in the database. On each call every matching rule draws, in the order the rules were added; the
latency of every rule that fires is added up, and the first other rule that fires decides the answer (the later
ones it pre-empts keep their count).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import bindparam, exists, func, or_, select, update
from sqlalchemy.orm import Session

from xweb_emulator.models import FaultRule

Action = Literal["latency", "fault", "throttle", "unavailable", "drop", "expire_token"]
HTTP_ACTIONS = ("throttle", "unavailable", "drop")


class InvalidFaultRule(ValueError):
    """A rule that names a vendor, fault kind or action the emulator does not have."""


class FaultSpec(BaseModel):
    """A fault rule as a client writes it: POST /_emulator/faults, XWEB_EMULATOR_FAULTS, --fault."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    vendor: str = Field(max_length=32)
    operation: str | None = Field(None, max_length=128)
    action: Action
    fault_kind: str | None = Field(None, max_length=64)
    latency_ms: int | None = Field(None, ge=0, le=600_000)
    retry_after_seconds: int = Field(1, ge=0, le=86_400)
    probability: float = Field(1.0, ge=0, le=1)
    # Bounded as every database stores integers (a count of 1e20 overflowed SQLite's 64 bits).
    count: int | None = Field(None, ge=1, le=2**31 - 1)
    seed: int | None = Field(None, ge=-(2**31), le=2**31 - 1)

    @model_validator(mode="after")
    def _complete(self) -> FaultSpec:
        if self.action == "fault" and not self.fault_kind:
            raise ValueError("a fault rule needs fault_kind (the vendor's kinds are listed at GET /_emulator/faults)")
        if self.action != "fault" and self.fault_kind:
            raise ValueError("fault_kind belongs to rules whose action is fault")
        if self.action == "latency" and self.latency_ms is None:
            raise ValueError("a latency rule needs latency_ms")
        return self


@dataclass(frozen=True)
class Decision:
    """What the fired rules ask of one call."""

    latency_ms: int = 0
    rule: FaultRule | None = None  # the rule whose action (other than latency) fired

    @property
    def action(self) -> str | None:
        return self.rule.action if self.rule is not None else None


NOTHING = Decision()


def add_rule(session: Session, spec: FaultSpec, *, configured: bool = False) -> FaultRule:
    rule = FaultRule(
        vendor=spec.vendor, operation=spec.operation, action=spec.action, fault_kind=spec.fault_kind,
        latency_ms=spec.latency_ms, retry_after_seconds=spec.retry_after_seconds, probability=spec.probability,
        remaining=spec.count, seed=spec.seed, draws=0, fired=0, configured=configured,
    )
    session.add(rule)
    session.flush()
    return rule


VENDOR_HAS_RULES = exists().where(FaultRule.vendor == bindparam("vendor"))
"""Whether any rule names the vendor: most calls meet none, and need draw nothing to find that out."""


IN_FORCE = or_(FaultRule.remaining.is_(None), FaultRule.remaining > 0)
"""The rules that still draw: those with firings left (a spent rule stays listed, and draws no more)."""


def decide(session: Session, vendor: str, operation: str | None) -> Decision:
    """Draw the vendor's rules in force that match this call; count what fired."""
    matching = or_(FaultRule.operation.is_(None), func.lower(FaultRule.operation) == (operation or "").lower())
    rules = session.scalars(
        select(FaultRule).where(FaultRule.vendor == vendor, matching, IN_FORCE).order_by(FaultRule.id)
    ).all()
    latency, chosen = 0, None
    for rule in rules:
        # Every matching rule draws on every call, so that a seeded rule's n-th draw is its n-th matching call.
        fires = _draw(session, rule)
        if not fires or (chosen is not None and rule.action != "latency") or not _consume(session, rule):
            continue
        latency += rule.latency_ms or 0
        if rule.action != "latency":
            chosen = rule
    return Decision(latency, chosen)


def _draw(session: Session, rule: FaultRule) -> bool:
    # The draw's number comes from an UPDATE … RETURNING, so concurrent workers never take the same one.
    draws = session.execute(
        update(FaultRule).where(FaultRule.id == rule.id).values(draws=FaultRule.draws + 1).returning(FaultRule.draws)
    ).scalar_one()
    if rule.probability >= 1:
        return True
    generator = random.Random(f"{rule.seed}:{draws - 1}") if rule.seed is not None else random
    return generator.random() < rule.probability


def _consume(session: Session, rule: FaultRule) -> bool:
    """Count a firing; False when another call took the rule's last one."""
    statement = update(FaultRule).where(FaultRule.id == rule.id).values(fired=FaultRule.fired + 1)
    if rule.remaining is not None:
        statement = statement.where(FaultRule.remaining > 0).values(remaining=FaultRule.remaining - 1)
    return session.execute(statement).rowcount == 1
