"""The errors the CRM.COM Web API answers with, as the domain raises them; the adapter writes them into the envelope.

Each kind has a code (the envelope's status.code, or an unprocessed event's error_code) and a description of the
kind; each error a message naming what failed. A bulk call's unprocessed event reads as the vendor's own example:
"Error:Account (ACR00045000) Not Found. - Description:The specified API value was not found." Only
NotFoundAPIValueException and that wording are the vendor's; the other codes are chosen in its style (docs/crmcom.md).

The Web API reports its own errors in the envelope with HTTP 200 (clients read status.code); HTTP says something else
only where no method answered (404, 405) or the server failed (500).
"""

from __future__ import annotations

from typing import ClassVar

from xweb_emulator.errors import EmulatorError


class CrmComError(EmulatorError):
    description: ClassVar[str]
    http_status: ClassVar[int] = 200

    @property
    def error_description(self) -> str:
        """As an unprocessed event's error_description shows it."""
        return f"Error:{self.message} - Description:{self.description}"


class NotFoundValue(CrmComError):
    code = "NotFoundAPIValueException"
    description = "The specified API value was not found."


class AmbiguousValue(CrmComError):
    code = "AmbiguousAPIValueException"
    description = "The specified API value matches more than one record."


class MissingMandatoryValue(CrmComError):
    code = "MissingMandatoryAPIValueException"
    description = "A mandatory API value was not specified."


class InvalidValueType(CrmComError):
    code = "InvalidAPIValueTypeException"
    description = "The specified API value is not of the expected type."


class InvalidValue(CrmComError):
    code = "InvalidAPIValueException"
    description = "The specified API value is not valid."


class DuplicateValue(CrmComError):
    code = "DuplicateAPIValueException"
    description = "The specified API value must be unique within the request."


class MaximumValuesExceeded(CrmComError):
    code = "MaximumAPIValuesExceededException"
    description = "The request holds more values than the method accepts."


class InvalidToken(CrmComError):
    code = "InvalidTokenException"
    description = "The token is not valid or has expired; retrieve a new one with authentication/token."


class InvalidCredentials(CrmComError):
    code = "InvalidCredentialsException"
    description = "The username, password or organisation is not valid."


class InvalidJson(CrmComError):
    code = "InvalidJSONException"
    description = "The request body must be a JSON object."


class UnknownMethod(CrmComError):
    code = "NotFoundAPIMethodException"
    description = "There is no Web API method at this address."
    http_status = 404


class MethodNotAllowed(UnknownMethod):
    description = "The Web API method does not accept this HTTP verb."
    http_status = 405


class SystemFailure(CrmComError):
    code = "SystemException"
    description = "The system failed to process the request; nothing was written."
    http_status = 500


ITEM_FAILURE = "ItemSystemException"
"""The fault kind that fails every event of a bulk call (each unprocessed with SystemException) and no more."""

FAULT_KINDS = {
    InvalidToken.code: "HTTP 200, status.code InvalidTokenException, as for an expired or unknown token (clients log "
                       "in again); nothing written",
    SystemFailure.code: "HTTP 500, status.code SystemException; nothing written",
    ITEM_FAILURE: "bulk create: HTTP 200, status OK, every event in unprocessed_customer_events_set with error_code "
                  "SystemException, nothing written; any other method: as SystemException",
}


def injected(kind: str) -> CrmComError:
    """The error a fault rule asks for, worded as the real one is."""
    if kind == InvalidToken.code:
        return InvalidToken("Token Not Valid Or Expired.")
    return SystemFailure("An Unexpected Error Occurred (injected by xweb-emulator).")
