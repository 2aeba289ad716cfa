"""SAP Business ByDesign / Cloud for Customer as the application and the harness reach it: the
ManageCampaignInboundIn endpoint (with its WSDL), the records a test may inspect, the faults a rule may inject."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session
from werkzeug import Request, Response

from xweb_emulator.db import Database
from xweb_emulator.sap import models
from xweb_emulator.sap.api import ERROR_LOG, SOAP_FAULT, CampaignInboundService, operation_for_soap_action
from xweb_emulator.sap.seed import load, load_demo_if_empty
from xweb_emulator.sap.soap import CampaignInboundEndpoint, soap_action
from xweb_emulator.settings import Settings
from xweb_emulator.soap import wsdl_document
from xweb_emulator.vendor import Endpoint, Vendor

SERVICE_PATH = "/sap/bc/srt/scs/sap/managecampaigninboundin"
WSDL_FILE = "ManageCampaignInboundIn.wsdl"


class SAP(Vendor):
    name = "sap"
    state_objects = {
        "Customer": models.Customer,
        "ContactPerson": models.ContactPerson,
        "Campaign": models.Campaign,
        "TrackingLink": models.TrackingLink,
        "CampaignOutbound": models.CampaignOutbound,
        "MailingPermission": models.MailingPermission,
        "CampaignReaction": models.CampaignReaction,
    }
    fault_kinds = {
        SOAP_FAULT: "HTTP 500 soap-env:Server fault 'Web service processing error; more details in the Web service "
                    "error log on provider side (UTC timestamp …; Transaction ID …)'; nothing written",
        ERROR_LOG: "HTTP 200 confirmation with no Campaign node and a Log holding one severity-3 item; "
                   "nothing written",
    }
    has_tokens = False

    def __init__(self, database: Database, settings: Settings) -> None:
        super().__init__(database, settings)
        self.service = CampaignInboundService(database)
        self._endpoint = CampaignInboundEndpoint(self.service, settings.sap_user, settings.sap_password,
                                                 settings.max_request_bytes)

    def route(self, request: Request) -> Endpoint | None:
        # The ICF matches service paths without regard to case; sap-vhost (or any query) does not change the service.
        if request.path.rstrip("/").lower() != SERVICE_PATH:
            return None
        if request.method == "GET":
            return Endpoint(_service_document, is_call=False)
        operation = operation_for_soap_action(soap_action(request.environ))
        return Endpoint(self._endpoint, operation.name if operation else None)

    def prepare(self, session: Session, now: datetime, demo_data: bool) -> None:
        # The communication user lives in the settings, not the database: only the demo data is the vendor's to make.
        if demo_data:
            load_demo_if_empty(session, now)

    def load_seed(self, session: Session, now: datetime, section: Any) -> dict[str, list[str]]:
        return load(session, now, section)

    def describe(self, base_url: str) -> list[str]:
        return [
            f"SAP SOAP     {base_url}{SERVICE_PATH}   (WSDL: {base_url}{SERVICE_PATH}?wsdl)",
            f"SAP user     {self.settings.sap_user} / {self.settings.sap_password}   (HTTP Basic, communication user)",
        ]


def _service_document(environ: dict, start_response) -> Any:
    """GET: the WSDL with ?wsdl (any case); otherwise what the SOAP runtime says to a GET."""
    request = Request(environ)
    if "wsdl" in (key.lower() for key in request.args):
        vhost = request.args.get("sap-vhost")
        address = request.base_url + (f"?sap-vhost={vhost}" if vhost else "")
        response = Response(wsdl_document(WSDL_FILE, address), content_type="text/xml; charset=utf-8")
    else:
        response = Response(f"The service accepts SOAP requests by POST; its description is at "
                            f"{request.base_url}?wsdl\n", 405, {"Allow": "POST"},
                            content_type="text/plain; charset=utf-8")
    return response(environ, start_response)
