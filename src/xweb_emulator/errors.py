"""The one base of every error a vendor answers with.

The domain raises these; the call pipeline records them on the call (its journal outcome) and rolls the call's
writes back; each wire adapter writes them in its vendor's shape (a SOAP fault, a JSON error, an envelope status).
Every vendor's errors subclass `EmulatorError` (xweb/errors.py, sap/errors.py, crmcom/errors.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

NOT_EMULATED = "not_emulated"
"""The journal's outcome of a call to one of the vendor's operations that the emulator does not emulate."""


class EmulatorError(Exception):
    code: ClassVar[str]
    """The vendor's own name for the error: the fault kind or status code a client reads."""

    def __init__(self, message: str, *, after_rollback: Callable[[Session], None] | None = None) -> None:
        super().__init__(message)
        self.message = message
        # What the error itself must leave behind once the call's own writes are rolled back (a failure count).
        self.after_rollback = after_rollback

    @property
    def outcome(self) -> str:
        """How the call ended, as the request journal records it."""
        return self.code
