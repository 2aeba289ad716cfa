"""What every emulated vendor gives the one application: its endpoints, its state, and its share of the harness.

A vendor package (xweb/, sap/, crmcom/) holds its models, its operations as plain functions over a session, its
adapters, and one `Vendor` subclass that the application, the control plane and the `seed` command reach it through.
The registry of vendors is xweb_emulator.vendors.

Each call a vendor answers carries a `CallRecord` in its WSGI environ: the request chain in front (fault injection,
journal) writes into it what it decided, the vendor's operations what happened (who called, how it ended).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy.orm import Session
from werkzeug import Request

from xweb_emulator.db import Base, Database
from xweb_emulator.settings import Settings

WsgiApp = Callable[[dict, Callable], Iterable[bytes]]

OK = "ok"


@dataclass
class CallRecord:
    """One vendor call as the journal keeps it, and the fault the chain asks the vendor to answer with."""

    vendor: str
    operation: str | None
    user: str | None = None
    outcome: str | None = None  # "ok", or the vendor's name for the fault or error the call ended in
    inject_fault: str | None = None  # a kind of the vendor's `fault_kinds`: answer with it, write nothing

    ENVIRON_KEY: ClassVar[str] = "xweb_emulator.call"

    @classmethod
    def of(cls, environ: dict, vendor: str = "", operation: str | None = None) -> CallRecord:
        """The request's record; a fresh one where the request did not come through the application's chain."""
        record = environ.get(cls.ENVIRON_KEY)
        if record is None:
            record = environ[cls.ENVIRON_KEY] = cls(vendor, operation)
        return record


@dataclass(frozen=True)
class Endpoint:
    """The vendor application that answers a request, and the operation it asks for where the request shows it
    before the body is read (for fault rules and the journal; the vendor may refine it in the CallRecord)."""

    app: WsgiApp
    operation: str | None = None
    is_call: bool = True  # False for what is no operation (a WSDL): no fault rule applies, no journal entry


class SeedError(Exception):
    """A seed that cannot be loaded; nothing of it was written."""


class Vendor(ABC):
    name: ClassVar[str]
    """The vendor's name in seeds, state paths, fault rules and the journal: xweb, sap, crmcom."""

    state_objects: ClassVar[Mapping[str, type[Base]]]
    """The records /_emulator/state/<vendor>/<object> shows, by object name."""

    fault_kinds: ClassVar[Mapping[str, str]]
    """The vendor-shaped faults a rule may inject, by kind, each with what a client sees."""

    has_tokens: ClassVar[bool] = False
    """Whether clients hold tokens that a rule may expire (`expire_tokens`)."""

    def __init__(self, database: Database, settings: Settings) -> None:
        self.database = database
        self.settings = settings

    @abstractmethod
    def route(self, request: Request) -> Endpoint | None:
        """The endpoint answering this request, or None when its path is not one of this vendor's."""

    @abstractmethod
    def prepare(self, session: Session, now: datetime, demo_data: bool) -> None:
        """Make the configured users exist and, with `demo_data`, the demo records where the vendor has none."""

    @abstractmethod
    def load_seed(self, session: Session, now: datetime, section: Any) -> dict[str, list[str]]:
        """Store a seed document's section for this vendor through its own rules; answer the keys created by
        object. Raises SeedError for what it cannot store."""

    def expire_tokens(self, session: Session, now: datetime) -> None:
        """Make every token issued so far expired, as time would. Only vendors with `has_tokens` are asked."""
        raise NotImplementedError(f"{self.name} issues no tokens")

    @abstractmethod
    def describe(self, base_url: str) -> list[str]:
        """Lines for the start-up banner: the endpoints and the credentials a client needs."""
