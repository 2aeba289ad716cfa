"""The exceptions xWeb answers with, as the domain raises them; adapters turn them into SOAP faults or JSON errors.

xWeb's fault detail is named after the exception kind (SystemExceptionInfo, InvalidTokenExceptionInfo,
InvalidCredentialsExceptionInfo, and LockedCredentialsExceptionInfo which real clients look for).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session


class XWebError(Exception):
    kind = "SystemExceptionInfo"

    def __init__(self, message: str, *, after_rollback: Callable[[Session], None] | None = None) -> None:
        super().__init__(message)
        self.message = message
        # What the fault itself must leave behind once the request's own writes are rolled back (a failure count).
        self.after_rollback = after_rollback


class InvalidCredentials(XWebError):
    kind = "InvalidCredentialsExceptionInfo"


class LockedCredentials(XWebError):
    kind = "LockedCredentialsExceptionInfo"


class InvalidToken(XWebError):
    kind = "InvalidTokenExceptionInfo"


class InvalidInput(XWebError):
    """A request whose values the vendor would refuse: a SystemExceptionInfo fault, nothing written."""


_KINDS = {kind.kind: kind for kind in (XWebError, InvalidCredentials, LockedCredentials, InvalidToken)}
_INJECTED_MESSAGES = {
    "SystemExceptionInfo": "An error occurred (injected by xweb-emulator).",
    "InvalidCredentialsExceptionInfo": "Invalid Credentials Supplied",
    "LockedCredentialsExceptionInfo": "Credentials Locked Out",
    "InvalidTokenExceptionInfo": "Failed to validate the authentication token: it has expired or is not valid.",
}


def injected(kind: str) -> XWebError:
    """The fault a fault rule asks for, worded as the real one is."""
    return _KINDS[kind](_INJECTED_MESSAGES[kind])
