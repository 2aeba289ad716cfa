"""One vendor call as it goes down the pipeline: created once, at arrival, and handed to every step.

The pipeline (pipeline.py) fills in what it decides before the vendor sees the call (the clock, the fault to
inject); the vendor's runner (vendor.Vendor.call) what happened (the operation, who called, how it ended).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.orm import Session
from werkzeug import Request

from xweb_emulator.errors import EmulatorError
from xweb_emulator.settings import Settings

OK = "ok"


@dataclass(frozen=True)
class Answer:
    """What goes back to the client: built whole before the call's transaction commits."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes | bytearray
    """A large answer is the buffer it was written into, not a copy of it (GetQuery @TOP -1: tens of MB)."""

    @classmethod
    def text(cls, status: int, text: str, headers: list[tuple[str, str]] | None = None) -> Answer:
        return cls(status, [("Content-Type", "text/plain; charset=utf-8"), *(headers or [])],
                   (text + "\n").encode())


@dataclass(eq=False)
class Call:
    vendor: str
    operation: str | None
    """The operation's name: as routing found it, refined by the wire once it has read the request."""
    request: Request
    body: bytes
    connection: Connection
    """The call's one transaction: the operation's reads and writes, and its journal entry."""
    now: datetime
    """The emulator's clock at the call's arrival: what the operation records and compares with."""
    settings: Settings
    started: float = field(default_factory=time.perf_counter)
    injected_fault: str | None = None
    """A fault kind of the vendor's that a rule asks the call to end in (after authentication)."""
    fault_rule_id: int | None = None
    credentials: Any = None
    """What the client authenticated with, in the vendor's terms (a token, a user and password)."""
    user: str | None = None
    outcome: str | None = None
    error: EmulatorError | None = None
    dry_run: bool = False
    secret_answer: bool = False
    """The operation's writes are rolled back at the end (SAP's Check operations); its journal entry is kept."""
    arrival_state: Any = None
    """The vendor's state as the call arrived, read with the clock (Vendor.arrival_state)."""
    routed: Any = None
    """The entry of the vendor's operation table that routing found (vendor.Endpoint): the wire reads the request
    for it. None where routing found none before the body is read (a SOAP call's operation is in its body)."""
    _session: Session | None = None

    @property
    def session(self) -> Session:
        """An ORM session in the call's transaction, for operations that work with mapped objects (made on first
        use: the busiest operations work with the connection alone). It works in a savepoint of its own, so that an
        error inside it leaves the call's transaction usable."""
        if self._session is None:
            self._session = Session(bind=self.connection, join_transaction_mode="create_savepoint",
                                    expire_on_commit=False)
        return self._session

    def finish_session(self, keep: bool) -> None:
        """End the ORM session, if the call made one: its writes kept (flushed into the call's transaction) or not."""
        if self._session is None:
            return
        try:
            if keep:
                self._session.commit()
        finally:
            self._session.close()
            self._session = None

    @property
    def client_address(self) -> str:
        return self.request.remote_addr or ""

    def fail(self, error: EmulatorError) -> None:
        """The call ends in `error`: its writes are rolled back, and the journal records the error's outcome."""
        self.error = error
        self.outcome = error.outcome
