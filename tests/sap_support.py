"""What the SAP tests share: raw SOAP calls with Basic auth, Campaign nodes made to order, the confirmation as a
client reads it, and a snapshot of every sap_ table to prove that a call wrote nothing."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from lxml import etree
from sqlalchemy import select

from support import Emulator
from xweb_emulator.sap import models

SERVICE_PATH = "/sap/bc/srt/scs/sap/managecampaigninboundin"
GLOBAL = "http://sap.com/xi/SAPGlobal20/Global"
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
FIXTURES = Path(__file__).parent / "fixtures" / "sap"
SAP_MODELS = (models.Customer, models.ContactPerson, models.Campaign, models.TrackingLink, models.CampaignOutbound,
              models.MailingPermission, models.CampaignReaction)

REQUEST_ELEMENTS = {
    "MaintainFailedDeliveryStatusBundle": "CampaignFailedDeliveryStatusBundleMaintainRequest_sync",
    "CheckMaintainFailedDeliveryStatusBundle": "CampaignFailedDeliveryStatusRequestBundleCheckMaintainQuery_sync",
    "MaintainMailingPermissionBundle": "CampaignMailingPermissionBundleMaintainRequest_sync",
    "CheckMaintainMailingPermissionBundle": "CampaignMailingPermissionRequestBundleCheckMaintainQuery_sync",
    "MaintainReactionBundle": "CampaignReactionBundleMaintainRequest_sync",
    "CheckMaintainReactionBundle": "CampaignReactionRequestBundleCheckMaintainQuery_sync",
}


BOUNCE, PERMISSION, REACTION = "MaintainFailedDeliveryStatusBundle", "MaintainMailingPermissionBundle", \
    "MaintainReactionBundle"


def node(tag: str, attributes: dict[str, str] | None = None, *inner: str, **children: str | None) -> str:
    """An element with attributes, then pre-rendered `inner` elements, then simple children (None: left out)."""
    attrs = "".join(f' {name}="{value}"' for name, value in (attributes or {}).items())
    simple = "".join(f"<{name}>{value}</{name}>" for name, value in children.items() if value is not None)
    return f"<{tag}{attrs}>{''.join(inner)}{simple}</{tag}>"


def campaign(*nodes: str, attributes: dict[str, str] | None = None, **children: str | None) -> str:
    children.setdefault("ObjectNodeSenderTechnicalID", "1000")
    if "ReferenceID" not in children:
        children.setdefault("ID", "1112")
    return node("Campaign", attributes, *nodes, **children)


def outbound(reference: str = "1001", customer: str | None = "A2001", contact: str | None = "CP2002",
             attributes: dict[str, str] | None = None, **children: str | None) -> str:
    return node("Outbound", attributes, ObjectNodeSenderTechnicalID=reference, CustomerInternalID=customer,
                ContactPersonInternalID=contact, **children)


def reaction(reference: str = "1011", customer: str | None = "MC9785", contact: str | None = "MCP9785",
             tracking: str = "", attributes: dict[str, str] | None = None, **children: str | None) -> str:
    children.setdefault("CreationDateTime", "2024-05-01T10:00:00Z")
    children.setdefault("CampaignReactionTypeCode", "20")
    return node("InboundBusinessTransactionDocumentReference", attributes, tracking,
                ObjectNodeSenderTechnicalID=reference, CustomerInternalID=customer, ContactPersonInternalID=contact,
                **children)


def tracking(uuid: str | None = None, uri: str | None = None) -> str:
    return node("ReactionTracking", {"actionCode": "01"}, TargetLinkUUID=uuid, TargetLinkWebURI=uri)


def service_url(emulator: Emulator) -> str:
    return emulator.base_url + SERVICE_PATH


def soap_action(operation: str) -> str:
    return f"http://sap.com/xi/A1S/Global/ManageCampaignInboundIn/{operation}Request"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def envelope(payload: bytes) -> bytes:
    """A SOAP 1.1 envelope around a message, the message's bytes unchanged."""
    return (f'<soapenv:Envelope xmlns:soapenv="{SOAP11}"><soapenv:Header/><soapenv:Body>'.encode()
            + payload + b"</soapenv:Body></soapenv:Envelope>")


def message(operation: str, campaigns: str, root: str | None = None) -> bytes:
    """A request message of `operation` holding `campaigns` (Campaign elements, unqualified)."""
    root = root or REQUEST_ELEMENTS[operation]
    return (f'<n0:{root} xmlns:n0="{GLOBAL}"><BasicMessageHeader><ID>00163E01277C1EE186B9834511A002AB</ID>'
            f"</BasicMessageHeader>{campaigns}</n0:{root}>").encode()


def post(emulator: Emulator, operation: str | None, payload: bytes, auth: tuple[str, str] | None = ("demo", "demo"),
         **headers: str) -> requests.Response:
    """POST a message in a SOAP 1.1 envelope, as a SOAP 1.1 client does (SOAPAction quoted)."""
    sent = {"Content-Type": "text/xml; charset=utf-8", **headers}
    if operation is not None:
        sent.setdefault("SOAPAction", f'"{soap_action(operation)}"')
    return requests.post(service_url(emulator), data=envelope(payload), headers=sent, auth=auth, timeout=60)


def call(emulator: Emulator, operation: str, campaigns: str) -> Answer:
    return answer(post(emulator, operation, message(operation, campaigns)))


@dataclass
class Answer:
    """A confirmation as a client reads it."""

    root: etree._Element
    campaigns: list[dict[str, str | None]]
    maximum_severity: str | None
    items: list[dict[str, str | None]]

    @property
    def notes(self) -> list[tuple[str | None, str | None, str | None]]:
        """(severity, reference, note) per Log item."""
        return [(item["SeverityCode"], item.get("ReferenceObjectNodeSenderTechnicalID"), item["Note"])
                for item in self.items]


def answer(response: requests.Response) -> Answer:
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/xml"), response.headers
    body = etree.fromstring(response.content).find(f"{{{SOAP11}}}Body")
    (root,) = body
    assert etree.QName(root).namespace == GLOBAL
    log = root.find("Log")
    assert log is not None, response.text
    return Answer(
        root=root,
        campaigns=[{child.tag: child.text for child in campaign} for campaign in root.findall("Campaign")],
        maximum_severity=log.findtext("MaximumLogItemSeverityCode"),
        items=[{child.tag: child.text for child in item} for item in log.findall("Item")],
    )


def soap_fault(response: requests.Response) -> dict[str, str | None]:
    assert response.status_code == 500, response.text
    document = etree.fromstring(response.content)
    fault = document.find(f"{{{SOAP11}}}Body/{{{SOAP11}}}Fault")
    assert fault is not None, response.text
    assert document.find(f"{{{SOAP11}}}Header") is not None
    detail = fault.find("detail")
    return {"faultcode": fault.findtext("faultcode"), "faultstring": fault.findtext("faultstring"),
            "lang": fault.find("faultstring").get("{http://www.w3.org/XML/1998/namespace}lang"),
            "detail": None if len(detail) == 0 and not detail.text else etree.tostring(detail).decode()}


def rows(emulator: Emulator, model: type, **equal: Any) -> list:
    with emulator.emulator.database.transaction() as session:
        return list(session.scalars(select(model).filter_by(**equal)))


def one(emulator: Emulator, model: type, **equal: Any) -> Any:
    (row,) = rows(emulator, model, **equal)
    return row


def stored(emulator: Emulator) -> dict[str, list[tuple]]:
    """Every sap_ record, column by column."""
    state = {}
    for model in SAP_MODELS:
        names = [column.name for column in model.__table__.columns]
        state[model.__tablename__] = sorted(tuple(str(getattr(row, name)) for name in names)
                                            for row in rows(emulator, model))
    return state


@contextmanager
def nothing_written(emulator: Emulator) -> Iterator[None]:
    before = stored(emulator)
    yield
    assert stored(emulator) == before, "the call changed the database"


def seed(emulator: Emulator, section: dict) -> dict[str, list[str]]:
    return emulator.emulator.seed({"sap": section})["sap"]
