"""How a call can end other than with a confirmation of its campaigns; the adapter gives each the vendor's shape."""

from __future__ import annotations

from xweb_emulator.sap.log import LogItem


class MalformedRequest(Exception):
    """A request the SOAP runtime cannot read into the service's message type (a value not of its XSD type, a node
    that is no element): a soap-env:Client fault, nothing processed."""


class ProcessingError(Exception):
    """The provider failed (or a fault rule says it did): soap-env:Server fault "Web service processing error",
    nothing written."""


class Refused(Exception):
    """The request is refused as a whole with one Log item (too many instances, an injected error log): HTTP 200,
    no campaign confirmed, nothing written."""

    def __init__(self, item: LogItem) -> None:
        super().__init__(item.note)
        self.item = item
