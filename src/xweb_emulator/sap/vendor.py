"""SAP Business ByDesign / Cloud for Customer as the application and the harness reach it: the
ManageCampaignInboundIn endpoint (with its WSDL), the records a test may inspect, the faults a rule may inject."""

from __future__ import annotations

import hmac
from datetime import datetime
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.orm import Session
from werkzeug import Request

from xweb_emulator.call import OK, Answer, Call
from xweb_emulator.errors import EmulatorError
from xweb_emulator.sap import log, models
from xweb_emulator.sap.errors import ProcessingError, Refused, Unauthorized
from xweb_emulator.sap.log import Confirmation
from xweb_emulator.sap.operations import (
    BUSINESS_ERROR,
    OPERATIONS,
    SERVICE,
    VENDOR_OPERATIONS,
    SapOperation,
    operation_for_soap_action,
)
from xweb_emulator.sap.seed import load, load_demo_if_empty
from xweb_emulator.sap.soap import SOAP12_CONTENT_TYPE, SapSoap12, SapSoapWire, soap_action
from xweb_emulator.settings import Settings
from xweb_emulator.soap import wsdl_document
from xweb_emulator.vendor import Coverage, Document, Endpoint, Incoming, Replay, Vendor

SERVICE_PATH = "/sap/bc/srt/scs/sap/managecampaigninboundin"
WSDL_FILE = "ManageCampaignInboundIn.wsdl"
SOAP_FAULT, ERROR_LOG = "SOAPFault", "ErrorLog"  # the fault kinds a rule may inject


class SAP(Vendor):
    name = "sap"
    title = "SAP ManageCampaignInboundIn"
    short_title = "SAP"
    wsdl_path = SERVICE_PATH + "?wsdl"
    state_objects = {
        "Customer": models.Customer,
        "ContactPerson": models.ContactPerson,
        "Campaign": models.Campaign,
        "TrackingLink": models.TrackingLink,
        "CampaignOutbound": models.CampaignOutbound,
        "MailingPermission": models.MailingPermission,
        "CampaignReaction": models.CampaignReaction,
    }
    coverage = Coverage(f"SAP Business ByDesign / Cloud for Customer {SERVICE}", VENDOR_OPERATIONS,
                        frozenset(OPERATIONS))
    fault_kinds = {
        SOAP_FAULT: "HTTP 500 soap-env:Server fault 'Web service processing error; more details in the Web service "
                    "error log on provider side (UTC timestamp …; Transaction ID …)'; nothing written",
        ERROR_LOG: "HTTP 200 confirmation with no Campaign node and a Log holding one severity-3 item; "
                   "nothing written",
    }
    has_tokens = False

    @classmethod
    def client_credentials(cls, settings: Settings) -> dict[str, str]:
        return {"username": settings.sap_user, "password": settings.sap_password}

    @classmethod
    def wsdl_auth(cls, settings: Settings) -> tuple[str, str]:
        return settings.sap_user, settings.sap_password

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self._wire = SapSoapWire()

    def route(self, request: Request) -> Endpoint | Document | None:
        # The ICF matches service paths without regard to case; sap-vhost (or any query) does not change the service.
        if request.path.rstrip("/").lower() != SERVICE_PATH:
            return None
        if request.method == "GET":
            return _SERVICE_DOCUMENT
        operation = operation_for_soap_action(soap_action(request.environ))
        return Endpoint(self._wire, operation)

    # ------------------------------------------------------------------------------------------ the runner's hooks

    def authenticate(self, call: Call, incoming: Incoming) -> None:
        user, password = incoming.credentials
        call.user = user
        expected_user, expected_password = self.settings.sap_user, self.settings.sap_password
        # Both compared, whichever is wrong (&, not and): the answer takes as long for a wrong user as for a wrong
        # password.
        if user is None or not (hmac.compare_digest((user or "").encode(), expected_user.encode())
                                & hmac.compare_digest((password or "").encode(), expected_password.encode())):
            raise Unauthorized("Logon failed: the user or password of the communication user is wrong.")

    def caller(self, call: Call, incoming: Incoming) -> str | None:
        user, _password = incoming.credentials
        return user

    def injected_error(self, kind: str) -> EmulatorError:
        if kind == ERROR_LOG:
            return Refused(log.INJECTED_ERROR.item(None))
        return ProcessingError("injected by a fault rule")

    def conclude(self, call: Call, operation: SapOperation, confirmation: Confirmation) -> Confirmation:
        call.outcome = BUSINESS_ERROR if confirmation.failed else OK
        return confirmation

    def internal_error(self, call: Call) -> EmulatorError:
        return ProcessingError("the emulator failed")

    # -------------------------------------------------------------------------------------------------- state

    def prepare(self, session: Session, now: datetime, demo_data: bool, profile: Any = None) -> None:
        # The communication user lives in the settings, not the database: only the demo data is the vendor's to make.
        if demo_data:
            load_demo_if_empty(session, now)

    def load_seed(self, session: Session, now: datetime, section: Any) -> dict[str, list[str]]:
        return load(session, now, section)

    def replay(self, path: str, operation: str | None, body: str) -> Replay:
        known = OPERATIONS.get(operation or "")
        credentials = (self.settings.sap_user, self.settings.sap_password)
        if SapSoap12.ns_soap_env in body[:2000]:
            action = f'; action="{known.soap_action}"' if known else ""
            return Replay(body, (f"Content-Type: {SOAP12_CONTENT_TYPE}; charset=utf-8{action}",), credentials)
        action_header = (f'SOAPAction: "{known.soap_action}"',) if known else ()
        return Replay(body, ("Content-Type: text/xml; charset=utf-8", *action_header), credentials)

    def describe(self, base_url: str) -> list[str]:
        return [
            f"SAP SOAP     {base_url}{SERVICE_PATH}   (WSDL: {base_url}{SERVICE_PATH}?wsdl)",
            f"SAP user     {self.settings.sap_user} / {self.settings.sap_password}   (HTTP Basic, communication user)",
        ]


def _service_document(request: Request, connection: Connection) -> Answer:
    """GET: the WSDL with ?wsdl (any case); otherwise what the SOAP runtime says to a GET."""
    if "wsdl" in (key.lower() for key in request.args):
        vhost = request.args.get("sap-vhost")
        address = request.base_url + (f"?sap-vhost={vhost}" if vhost else "")
        return Answer(200, [("Content-Type", "text/xml; charset=utf-8")], wsdl_document(WSDL_FILE, address))
    return Answer.text(405, f"The service accepts SOAP requests by POST; its description is at {request.base_url}?wsdl",
                       [("Allow", "POST")])


_SERVICE_DOCUMENT = Document(_service_document)


VENDOR = SAP
