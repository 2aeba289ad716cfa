"""What every emulated vendor gives the emulator, and the one runner every vendor call goes through.

A vendor package (xweb/, sap/, crmcom/) holds the same files, each in the same role:

    models.py       its tables (a migration branch of their own)
    errors.py       its errors, subclasses of xweb_emulator.errors.EmulatorError
    operations.py   its operation table: every operation declared once, bound to its domain function
    vendor.py       its `Vendor` subclass: routing, the runner's hooks, state, seeds, demo data
    seed.py         seed documents and demo data
    soap.py, json_api.py, rest.py, http_bindings.py
                    its wires: each reads a request into an `Incoming` and writes results and errors back
    documents.py    what a GET of an endpoint answers that is no call (a WSDL, a help page)
    settings.py     its settings (`Settings`, fields named after the vendor: xweb_user), mixed into the emulator's
                    Settings; FLAGS, the `serve` flags that set them
    testing.py      its helpers on a test client, `Client` (its addresses), mixed into testing.EmulatorClient

and its domain modules (auth.py, facade.py, events.py …): plain functions over a session, no XML, no JSON.

The pipeline (xweb_emulator.pipeline) gives every call one transaction and the operation routing found (`Endpoint`,
on the call as `Call.routed`), and asks the vendor's wire to read it; then `Vendor.run` runs it the same way for every
vendor: the authentication hook, then any fault a rule injects, then the operation. What it raises, the pipeline
answers (its one error boundary). The registry of vendors is xweb_emulator.vendors, a line per package.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import Connection, FromClause, null
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement
from werkzeug import Request

from xweb_emulator.call import Answer, Call
from xweb_emulator.db import Base
from xweb_emulator.errors import NOT_EMULATED, EmulatorError
from xweb_emulator.settings import Settings


@dataclass(frozen=True, kw_only=True)
class Operation:
    """An entry of a vendor's operation table. Vendors add what their wires need to know of it."""

    name: str
    run: Callable[[Call, Any], Any]
    """The operation itself, over the call's session: parameters in the vendor's neutral form in, its result out."""
    dry_run: bool = False
    """Its writes are rolled back once it has answered (a Check operation)."""
    secret_answer: bool = False
    """Its answer is a secret as a whole (xWeb WebLogin's sign-on token): the journal keeps it masked."""


@dataclass
class Incoming:
    """A request as its wire read it."""

    operation: Operation | None
    params: Any = None
    credentials: Any = None
    """What the client authenticates with; None where the request was not read far enough to know."""
    unreadable: EmulatorError | None = None
    """Why the wire could not read the request (it is refused once any credentials the wire knows are checked)."""
    wire_state: Any = None
    """What the wire keeps between reading the request and writing its answer."""


class Wire(ABC):
    """One way of speaking to a vendor (SOAP, JSON, REST): reads requests, writes answers, in the vendor's shape."""

    @abstractmethod
    def read(self, call: Call) -> Incoming:
        """The request's operation, parameters and credentials. What it cannot read goes in `unreadable`."""

    @abstractmethod
    def write(self, call: Call, incoming: Incoming, result: Any) -> Answer:
        """The answer to a call that succeeded."""

    @abstractmethod
    def write_error(self, call: Call, incoming: Incoming | None, error: EmulatorError) -> Answer:
        """The answer to a call that ended in `error`; `incoming` is None when the request was never read."""


@dataclass(frozen=True)
class Endpoint:
    """A call to one of the vendor's wires, and the operation of the vendor's table that routing found for it (its
    path, its SOAPAction): the wire reads the request for that operation (`Call.routed`), without looking it up
    again. `requested` is the name the request gives where the table has no such operation."""

    wire: Wire
    operation: Operation | None = None
    requested: str | None = None

    @property
    def name(self) -> str | None:
        """The operation's name as known before the body is read: what fault rules match and the journal shows."""
        return self.operation.name if self.operation is not None else self.requested


@dataclass(frozen=True)
class Document:
    """What is no call (a WSDL, a help page): no fault rule applies, no journal entry is made. It may read the
    database (a tenant's WSDL), never write it."""

    respond: Callable[[Request, Connection], Answer]


@dataclass(frozen=True)
class Replay:
    """What sends a journalled call again: its body, the headers it needs, the HTTP Basic user where there is one."""

    body: str
    headers: tuple[str, ...] = ()
    basic: tuple[str, str] | None = None


REPLAYED = "replayed"
"""The journal's outcome of a call to an operation the emulator does not emulate, answered from a recording."""


@dataclass(frozen=True)
class Coverage:
    """What of the vendor's service the emulator answers: every operation the service offers, and which it emulates."""

    service: str
    """The vendor's service, as the vendor names it."""
    offered: tuple[str, ...]
    """Every operation of the service, by name, in the order they are listed."""
    emulated: frozenset[str]
    """Those the emulator answers as the vendor does (its operation table's names)."""


class SeedError(Exception):
    """A seed that cannot be loaded; nothing of it was written."""


@dataclass(frozen=True)
class StateView:
    """One of a vendor's objects as /_emulator/state shows it: where its rows come from, its columns by name, and
    the order its records are listed in."""

    source: FromClause
    columns: Mapping[str, ColumnElement[Any]]
    order: tuple[ColumnElement[Any], ...]

    @classmethod
    def of_model(cls, model: type[Base]) -> StateView:
        table = model.__table__
        return cls(table, {column.name: column for column in table.columns}, tuple(table.primary_key.columns))


class Vendor(ABC):
    name: ClassVar[str]
    """The vendor's name in seeds, state paths, fault rules and the journal: xweb, sap, crmcom."""

    title: ClassVar[str]
    """The vendor's service as the dashboard names it ("netFORUM xWeb")."""

    short_title: ClassVar[str | None] = None
    """The title where the dashboard has little room (its objects' menu); None: the title."""

    wsdl_path: ClassVar[str | None] = None
    """Where a SOAP vendor serves its WSDL (a test client's zeep binds to it); None: the vendor has none."""

    state_objects: ClassVar[Mapping[str, type[Base]]]
    """The records /_emulator/state/<vendor>/<object> shows, by object name (see `state_views`)."""

    fault_kinds: ClassVar[Mapping[str, str]]
    """The vendor-shaped faults a rule may inject, by kind, each with what a client sees."""

    coverage: ClassVar[Coverage]
    """The vendor's operations and which of them are emulated (GET /_emulator/coverage, the vendor pages'
    tables in docs/)."""

    has_tokens: ClassVar[bool] = False
    """Whether clients hold tokens that a rule may expire (`expire_tokens`)."""

    arrival_state: ClassVar[ColumnElement[Any]] = null()
    """A scalar subquery a call reads as it arrives, in the statement that reads the clock (Call.arrival_state): what
    the vendor's operations need of its state on every call (xWeb: the digest of the tenant profile in force)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.recording = None
        if settings.recording is not None:
            from xweb_emulator.har import RecordedAnswers

            self.recording = RecordedAnswers.of_file(settings.recording)

    # ----------------------------------------------------------------------------------------------- the runner

    def run(self, call: Call, incoming: Incoming) -> Any:
        """Run one call: authentication, then a fault a rule injects, then the operation. An error is raised as it
        is, for the pipeline to answer (pipeline.Pipeline._vendor_part, the one place errors are caught)."""
        if incoming.operation is not None:
            call.operation = incoming.operation.name
        if incoming.unreadable is not None and incoming.credentials is None:
            raise incoming.unreadable
        self.authenticate(call, incoming)
        if incoming.unreadable is not None:
            raise incoming.unreadable
        operation = incoming.operation
        if call.injected_fault is not None:
            self.inject(call, operation)
        call.dry_run = operation.dry_run
        call.secret_answer = operation.secret_answer
        return self.conclude(call, operation, operation.run(call, incoming.params))

    def recorded(self, call: Call, incoming: Incoming | None, error: EmulatorError) -> Answer | None:
        """The answer a recording holds for a call to an operation the emulator does not emulate (`serve
        --recording`), whole; None where there is none."""
        if self.recording is None or error.outcome != NOT_EMULATED or incoming is None:
            return None
        answer = self.recording.answer(call.request.full_path.rstrip("?"), call.body)
        return self.recorded_answer(call, incoming, answer) if answer is not None else None

    # ------------------------------------------------------------------------------------------ the runner's hooks

    @abstractmethod
    def authenticate(self, call: Call, incoming: Incoming) -> None:
        """Check the call's credentials (where its operation needs any); record who called in `call.user`."""

    def caller(self, call: Call, incoming: Incoming) -> str | None:
        """The user the request names (a token's, HTTP Basic's, a login's), unchecked, changing nothing; None where
        it names none: the journal's user for a call a rule refused before it was authenticated."""
        return None

    def inject(self, call: Call, operation: Operation) -> None:
        """A rule asks this call to fail with `call.injected_fault`: raise it as the real fault is raised."""
        raise self.injected_error(call.injected_fault)

    @abstractmethod
    def injected_error(self, kind: str) -> EmulatorError:
        """The error of one of the vendor's `fault_kinds`, worded as the real one is."""

    def conclude(self, call: Call, operation: Operation, result: Any) -> Any:
        """What the wire is handed of an operation that succeeded (its result, and whatever the vendor adds)."""
        return result

    def recorded_answer(self, call: Call, incoming: Incoming, answer: Answer) -> Answer:
        """A recorded answer as this call gets it (xWeb: with the token the call's answer carries in place of the
        recording's masked one)."""
        return answer

    @abstractmethod
    def internal_error(self, call: Call) -> EmulatorError:
        """The vendor's answer to the emulator's own failure (nothing was written)."""

    def after_fault(self, call: Call, error: EmulatorError) -> None:
        """What a fault leaves behind once the call's writes are rolled back (a dead token)."""

    # ------------------------------------------------------------------------------ what a client and the dashboard see

    @classmethod
    def client_credentials(cls, settings: Settings) -> dict[str, str]:
        """What the configured user logs in with (EmulatorClient.credentials)."""
        return {}

    @classmethod
    def wsdl_auth(cls, settings: Settings) -> tuple[str, str] | None:
        """The HTTP Basic user a client fetches the WSDL as, where the vendor asks for one."""
        return None

    def clock_marks(self) -> dict[int, str]:
        """Clock advances, in seconds, that pass a limit of the vendor's (a token's lifetime), with what they pass:
        the dashboard's clock page marks its buttons for them."""
        return {}

    # -------------------------------------------------------------------------------------- routing and state

    @abstractmethod
    def route(self, request: Request) -> Endpoint | Document | None:
        """What answers this request, or None when its path is not one of this vendor's."""

    def state_views(self, connection: Connection) -> dict[str, StateView]:
        """Every object /_emulator/state shows, by name: those of `state_objects`, and those a vendor's state
        defines (xWeb: the objects of the tenant profile in force)."""
        return {name: StateView.of_model(model) for name, model in self.state_objects.items()}

    @classmethod
    def settled(cls, settings: Settings) -> Settings:
        """The settings as this vendor completes them (xWeb: with its tenant profile's, where none was given)."""
        return settings

    @abstractmethod
    def prepare(self, session: Session, now: datetime, demo_data: bool, profile: Any = None) -> None:
        """Make the configured users exist and, with `demo_data`, the demo records where the vendor has none.
        `profile`: a tenant profile a reset names, for a vendor that has profiles (others ignore it)."""

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

    @abstractmethod
    def replay(self, path: str, operation: str | None, body: str) -> Replay:
        """How to send a journalled call again (the dashboard's copy as curl). The journal keeps no headers and no
        passwords: the headers come from the path and operation, the credentials from the configured user."""
