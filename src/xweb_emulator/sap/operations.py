"""ManageCampaignInboundIn's operation table: its six operations, which message each takes and answers, and the
bundle each runs. Messages arrive, and confirmations leave, in the neutral form of xweb_emulator.jsonnet (a bundle
that reads its nodes from their elements has the wire leave them as they are: Bundle.kept), read into typed nodes by
sap.request; the SOAP wire only reads and writes XML.
"""

from __future__ import annotations

from dataclasses import dataclass

from xweb_emulator.call import Call
from xweb_emulator.sap import bundle
from xweb_emulator.sap.bounces import FAILED_DELIVERY_STATUS
from xweb_emulator.sap.bundle import Bundle
from xweb_emulator.sap.log import Confirmation
from xweb_emulator.sap.permissions import MAILING_PERMISSION
from xweb_emulator.sap.reactions import REACTION
from xweb_emulator.sap.request import read_campaigns
from xweb_emulator.vendor import Operation

SERVICE = "ManageCampaignInboundIn"
NAMESPACE = "http://sap.com/xi/SAPGlobal20/Global"  # the messages' root elements; everything below is unqualified
INTERFACE_NAMESPACE = "http://sap.com/xi/A1S/Global"
SOAP_ACTION_PREFIX = f"{INTERFACE_NAMESPACE}/{SERVICE}/"

# How a call ended, as the request journal records it (besides "ok" and the errors' codes).
BUSINESS_ERROR = "BusinessError"  # HTTP 200, a Log with an error item


@dataclass(frozen=True, kw_only=True)
class SapOperation(Operation):
    bundle: Bundle
    request_element: str
    confirmation_element: str
    message_subject: str  # CampaignReaction: what both its message names start with

    @property
    def soap_action(self) -> str:
        return f"{SOAP_ACTION_PREFIX}{self.name}Request"


def _run(bundle_: Bundle):
    def run(call: Call, message: object) -> Confirmation:
        campaigns = read_campaigns(message, bundle_.node_element, bundle_.read_node, bundle_.read_element)
        return bundle.run(call.connection, lambda: call.session, call.now, bundle_, campaigns)

    return run


def _operations(bundle: Bundle) -> tuple[SapOperation, SapOperation]:
    """A bundle's Maintain operation and its Check twin. The Maintain message names are the seed's; the Check ones
    follow SAP's naming in sibling services (SalesOrderBundleMaintainRequest_sync →
    SalesOrderRequestBundleCheckMaintainQuery_sync / …CheckMaintainResponse_sync)."""
    subject = f"Campaign{bundle.name}"
    run = _run(bundle)
    return (
        SapOperation(name=f"Maintain{bundle.name}Bundle", run=run, bundle=bundle,
                     request_element=f"{subject}BundleMaintainRequest_sync",
                     confirmation_element=f"{subject}BundleMaintainConfirmation_sync", message_subject=subject),
        SapOperation(name=f"CheckMaintain{bundle.name}Bundle", run=run, bundle=bundle, dry_run=True,
                     request_element=f"{subject}RequestBundleCheckMaintainQuery_sync",
                     confirmation_element=f"{subject}RequestBundleCheckMaintainResponse_sync", message_subject=subject),
    )


OPERATIONS: dict[str, SapOperation] = {
    operation.name: operation
    for each in (FAILED_DELIVERY_STATUS, MAILING_PERMISSION, REACTION)
    for operation in _operations(each)
}

# Every operation of the service, as its documentation lists them ("The web service provides six operations").
VENDOR_OPERATIONS: tuple[str, ...] = (
    "MaintainFailedDeliveryStatusBundle", "CheckMaintainFailedDeliveryStatusBundle",
    "MaintainMailingPermissionBundle", "CheckMaintainMailingPermissionBundle",
    "MaintainReactionBundle", "CheckMaintainReactionBundle",
)


def operation_for(root_namespace: str | None, root_name: str | None, soap_action: str | None) -> SapOperation | None:
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
        if operation.message_subject in root_name and ("Check" in root_name) == operation.dry_run:
            return operation
    return None


def operation_for_soap_action(soap_action: str | None) -> SapOperation | None:
    action = (soap_action or "").strip().strip('"')
    if not action.startswith(SOAP_ACTION_PREFIX) or not action.endswith("Request"):
        return None
    return OPERATIONS.get(action[len(SOAP_ACTION_PREFIX):-len("Request")])
