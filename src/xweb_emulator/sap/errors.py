"""How a call can end other than with a confirmation of its campaigns; the SOAP wire gives each the vendor's shape."""

from __future__ import annotations

from typing import ClassVar

from xweb_emulator.errors import EmulatorError
from xweb_emulator.sap.log import LogItem


class SoapFault(EmulatorError):
    """Answered with a SOAP fault, nothing written."""

    code = "SOAPFault"
    faultcode: ClassVar[str]


class MalformedRequest(SoapFault):
    """A request the SOAP runtime cannot read into the service's message type (a value not of its XSD type, a node
    that is no element): a soap-env:Client fault."""

    faultcode = "Client"


class ProcessingError(SoapFault):
    """The provider failed (or a fault rule says it did): soap-env:Server fault "Web service processing error"."""

    faultcode = "Server"


class Unauthorized(EmulatorError):
    """Missing or wrong credentials of the communication user: the ICF answers 401 before any processing."""

    code = "Unauthorized"


class Refused(EmulatorError):
    """The request is refused as a whole with one Log item (too many instances, an injected error log): HTTP 200,
    no campaign confirmed, nothing written."""

    code = "BusinessError"

    def __init__(self, item: LogItem) -> None:
        super().__init__(item.note)
        self.item = item
