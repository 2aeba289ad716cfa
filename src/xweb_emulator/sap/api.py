"""The ManageCampaignInboundIn service as any wire sees it: its six operations, which message each takes, and a call
run as the tenant runs it — in one transaction, Check operations rolled back at the end, every outcome recorded.

Messages arrive, and confirmations leave, in the neutral form of xweb_emulator.jsonnet; the SOAP adapter only reads
and writes XML.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from xweb_emulator import clock
from xweb_emulator.db import Database
from xweb_emulator.sap import bundle, log
from xweb_emulator.sap.bounces import FAILED_DELIVERY_STATUS
from xweb_emulator.sap.bundle import Bundle
from xweb_emulator.sap.errors import MalformedRequest, ProcessingError, Refused
from xweb_emulator.sap.log import Confirmation
from xweb_emulator.sap.permissions import MAILING_PERMISSION
from xweb_emulator.sap.reactions import REACTION
from xweb_emulator.sap.request import read_campaigns
from xweb_emulator.vendor import OK, CallRecord

logger = logging.getLogger(__name__)

SERVICE = "ManageCampaignInboundIn"
NAMESPACE = "http://sap.com/xi/SAPGlobal20/Global"  # the messages' root elements; everything below is unqualified
INTERFACE_NAMESPACE = "http://sap.com/xi/A1S/Global"
SOAP_ACTION_PREFIX = f"{INTERFACE_NAMESPACE}/{SERVICE}/"

# How a call ended, as the request journal records it.
BUSINESS_ERROR = "BusinessError"  # HTTP 200, a Log with an error item
SOAP_FAULT = "SOAPFault"
UNAUTHORIZED = "Unauthorized"
ERROR_LOG = "ErrorLog"  # the injected fault kind answering with an error Log


@dataclass(frozen=True)
class Operation:
    name: str
    bundle: Bundle
    simulate: bool  # a Check: every check, the same confirmation, nothing written
    request_element: str
    confirmation_element: str
    message_subject: str  # CampaignReaction: what both its message names start with

    @property
    def soap_action(self) -> str:
        return f"{SOAP_ACTION_PREFIX}{self.name}Request"


def _operations(bundle: Bundle) -> tuple[Operation, Operation]:
    """A bundle's Maintain operation and its Check twin. The Maintain message names are the seed's; the Check ones
    follow SAP's naming in sibling services (SalesOrderBundleMaintainRequest_sync →
    SalesOrderRequestBundleCheckMaintainQuery_sync / …CheckMaintainResponse_sync)."""
    subject = f"Campaign{bundle.name}"
    return (
        Operation(f"Maintain{bundle.name}Bundle", bundle, False, f"{subject}BundleMaintainRequest_sync",
                  f"{subject}BundleMaintainConfirmation_sync", subject),
        Operation(f"CheckMaintain{bundle.name}Bundle", bundle, True, f"{subject}RequestBundleCheckMaintainQuery_sync",
                  f"{subject}RequestBundleCheckMaintainResponse_sync", subject),
    )


OPERATIONS: dict[str, Operation] = {
    operation.name: operation
    for each in (FAILED_DELIVERY_STATUS, MAILING_PERMISSION, REACTION)
    for operation in _operations(each)
}


def operation_for(root_namespace: str | None, root_name: str | None, soap_action: str | None) -> Operation | None:
    """The operation a request asks for: by its body's root element, else by its SOAPAction, else by a root element
    whose name shows the bundle (and "Check" for the twin), since clients generate the Check names differently."""
    if root_namespace == NAMESPACE:
        for operation in OPERATIONS.values():
            if root_name == operation.request_element:
                return operation
    by_action = operation_for_soap_action(soap_action)
    if by_action is not None or not root_name:
        return by_action
    for operation in OPERATIONS.values():
        if operation.message_subject in root_name and ("Check" in root_name) == operation.simulate:
            return operation
    return None


def operation_for_soap_action(soap_action: str | None) -> Operation | None:
    action = (soap_action or "").strip().strip('"')
    if not action.startswith(SOAP_ACTION_PREFIX) or not action.endswith("Request"):
        return None
    return OPERATIONS.get(action[len(SOAP_ACTION_PREFIX):-len("Request")])


class _Simulated(Exception):
    """Leaves a Check's transaction, rolling it back, with the confirmation it produced."""

    def __init__(self, confirmation: Confirmation) -> None:
        super().__init__()
        self.confirmation = confirmation


class CampaignInboundService:
    """The service of one emulated tenant over its database."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def call(self, operation: Operation, message: Any, record: CallRecord) -> Confirmation:
        """Run one call on a request message (neutral form). Raises MalformedRequest or ProcessingError for what
        is answered with a SOAP fault; anything else is answered with a confirmation."""
        record.operation = operation.name
        try:
            if record.inject_fault == SOAP_FAULT:
                raise ProcessingError("injected by a fault rule")
            if record.inject_fault == ERROR_LOG:
                raise Refused(log.INJECTED_ERROR.item(None))
            campaigns = read_campaigns(message, operation.bundle.node_element, operation.bundle.read_node)
            with self.database.transaction() as session:
                confirmation = bundle.run(session, clock.now(session), operation.bundle, campaigns)
                if operation.simulate:
                    raise _Simulated(confirmation)
        except _Simulated as simulated:
            confirmation = simulated.confirmation
        except Refused as refused:
            confirmation = Confirmation(items=[refused.item])
        except (MalformedRequest, ProcessingError):
            record.outcome = SOAP_FAULT
            raise
        except Exception as error:
            logger.exception("SAP %s failed", operation.name)
            record.outcome = SOAP_FAULT
            raise ProcessingError(str(error)) from None
        record.outcome = BUSINESS_ERROR if confirmation.failed else OK
        return confirmation

    def now(self) -> datetime:
        with self.database.transaction() as session:
            return clock.now(session)
