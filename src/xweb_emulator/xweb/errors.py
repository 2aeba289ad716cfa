"""The exceptions xWeb answers with, as the domain raises them; the wires turn them into SOAP faults or JSON errors.

xWeb's fault detail is named after the exception kind (its `code`: SystemExceptionInfo, InvalidTokenExceptionInfo,
InvalidCredentialsExceptionInfo, and LockedCredentialsExceptionInfo which real clients look for).
"""

from __future__ import annotations

from typing import ClassVar

from xweb_emulator.errors import NOT_EMULATED, EmulatorError

NAMESPACE = "http://www.avectra.com/2005/"
# Where a fault says it was raised: the vendor's class, as in every captured fault.
VENDOR_CLASS = "Avectra.netForum.xWeb.xWebSecure.netForumXMLSecure"


class XWebError(EmulatorError):
    code = "SystemExceptionInfo"
    faultcode: ClassVar[str] = "Client"


class InvalidCredentials(XWebError):
    code = "InvalidCredentialsExceptionInfo"


class LockedCredentials(XWebError):
    code = "LockedCredentialsExceptionInfo"


class InvalidToken(XWebError):
    code = "InvalidTokenExceptionInfo"


class InvalidInput(XWebError):
    """A request whose values the vendor would refuse: a SystemExceptionInfo fault, nothing written."""


class NotEmulated(XWebError):
    """A call to one of the vendor's operations that the emulator does not emulate: a SystemExceptionInfo fault
    that says so, journalled with an outcome of its own. It stands for an answer the tenant would have given, so it
    leaves nothing behind: the token it came with lives on (see XWeb.after_fault)."""

    def __init__(self, operation: str) -> None:
        super().__init__(f"{operation} is not emulated: xweb-emulator does not implement this netFORUM xWeb "
                         "operation, so the call was not run. GET /_emulator/coverage lists the operations it "
                         "emulates.")

    @property
    def outcome(self) -> str:
        return NOT_EMULATED


class AsmxFault(XWebError):
    """A request ASP.NET refuses before netFORUM sees it (unreadable XML, an unknown SOAPAction): a fault with an
    empty detail."""

    code = "SoapException"


class AsmxServerFault(AsmxFault):
    """ASP.NET's fault for an answer it could not write: soap:Server, an empty detail."""

    faultcode = "Server"


def unwritable_answer(character: str) -> AsmxServerFault:
    """The fault for an answer holding a character XML cannot carry (stored through JSON): .NET's XmlWriter refuses
    it as it writes the answer; the character itself cannot be in the fault either, so it is named by its code
    point."""
    return AsmxServerFault(f"Server was unable to process request. ---> U+{ord(character):04X}, hexadecimal value "
                           f"0x{ord(character):02X}, is an invalid character.")


class MustUnderstand(AsmxFault):
    """A header marked mustUnderstand that the operation does not take: ASP.NET's own fault, worded bare."""

    faultcode = "MustUnderstand"


_KINDS = {kind.code: kind for kind in (XWebError, InvalidCredentials, LockedCredentials, InvalidToken)}
_INJECTED_MESSAGES = {
    "SystemExceptionInfo": "An error occurred (injected by xweb-emulator).",
    "InvalidCredentialsExceptionInfo": "Invalid Credentials Supplied",
    "LockedCredentialsExceptionInfo": "Credentials Locked Out",
    "InvalidTokenExceptionInfo": "Failed to validate the authentication token: it has expired or is not valid.",
}
INTERNAL_ERROR = "An unexpected error occurred in the emulator; nothing was written."


def injected(kind: str) -> XWebError:
    """The fault a fault rule asks for, worded as the real one is."""
    return _KINDS[kind](_INJECTED_MESSAGES[kind])


def holds_nul(name: str) -> str:
    """The refusal of a value that holds a NUL (a query string's, a form's, HTTP Basic's), which netFORUM would store
    but no PostgreSQL text holds: ours."""
    return f"Invalid value for {name}: it holds a NUL character (\\u0000)."


def stack_trace(operation_name: str | None, parameters: str) -> str:
    """The .NET stack trace a fault shows: the vendor's method and its signature."""
    return f"   at {VENDOR_CLASS}.{operation_name}({parameters})" if operation_name else ""


def fault_detail(error: XWebError, trace: str) -> dict | None:
    """The fault's detail in neutral form, {<Kind>: {XWebException: {Message, Number, …}}}; None for ASP.NET's own."""
    if isinstance(error, AsmxFault):
        return None
    return {
        error.code: {
            "XWebException": {
                "Message": error.message,
                "Number": "0",
                "Source": "xWeb",
                "Line": "0",
                "StackTrace": trace,
                "ErrorType": "GeneralError",
                "Errors": None,
            }
        }
    }


def fault_string(error: XWebError, trace: str) -> str:
    if isinstance(error, MustUnderstand):
        return error.message
    return f"System.Web.Services.Protocols.SoapException: {error.message}" + (f"\n{trace}" if trace else "")
