"""What the tests share: the running emulator's addresses, a raw SOAP client, and a look at the stored records."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests
from lxml import etree
from sqlalchemy import select

from xweb_emulator.db import Base
from xweb_emulator.testing import RunningEmulator
from xweb_emulator.xweb.models import (
    Country,
    Customer,
    CustomerMailingPreference,
    CustomerMessagingActivity,
    CustomerPhone,
    Email,
    Individual,
    MailingList,
    Organization,
    Phone,
    PhoneType,
    TenantRecord,
    WebRole,
    WebUser,
    WebUserRole,
)

XWEB = "http://www.avectra.com/2005/"
GUID = re.compile(r"[{]?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}[}]?")
# Demo records the samples name (see xweb/seed.py), and a phone whose every column holds a value, for a sparse
# update to leave alone.
PREFERENCES_CUSTOMER = "fadff57b-c6ef-4130-be1e-07000a38056f"
SAMPLE_CUSTOMER = "2a50c454-eac0-4768-9a85-0c97968be7fd"
WORK_PHONE_TYPE = "3445f817-a38f-483a-aabe-b8d3c084832b"  # the vendor's default cph_pht_key
MOBILE_PHONE_TYPE = "243f7447-c38b-473f-be84-dbedd2f1f55e"
UNITED_STATES = "0f4a8c42-9d5e-4f4b-a6c1-6a1d3b1f0a01"

FULL_PHONE = {
    "phn_key": "5b0e4c1a-6d2f-4a8e-9c3b-7f1d2e3a4b01", "phn_cst_key_owner": PREFERENCES_CUSTOMER,
    "phn_number": "800-555-0800", "phn_number_display": "(800) 555-0800", "phn_cty_key": UNITED_STATES,
}
FULL_XREF = {
    "cph_key": "5b0e4c1a-6d2f-4a8e-9c3b-7f1d2e3a4b02", "cph_cst_key": PREFERENCES_CUSTOMER,
    "cph_phn_key": FULL_PHONE["phn_key"], "cph_pht_key": WORK_PHONE_TYPE, "cph_unlisted_flag": 1,
    "cph_phn_number_complete": "+1 800-555-0800 x12", "cph_extension": "12", "cph_primary": 0,
}
AUDIT_COLUMNS = {"phn_change_user", "phn_change_date", "cph_change_user", "cph_change_date"}

# The records clients write and read (not the tokens and failure counts that every call may touch).
DOMAIN_MODELS = (Country, PhoneType, Customer, Individual, Organization, Email, Phone, CustomerPhone, MailingList, CustomerMailingPreference,
                 CustomerMessagingActivity, TenantRecord, WebUser, WebRole, WebUserRole)
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
NS = {"soap": SOAP_ENV, "x": XWEB}
SHARED = Path(__file__).resolve().parents[2] / "shared"
"""The vendor reference beside the clone (../shared): tests that read it skip where it is absent."""
VENDOR_WSDL = SHARED / "reference" / "xweb" / "xWeb-2010.wsdl"
CAPTURED = SHARED / "reference" / "xweb" / "captured"
"""Answers and faults captured from live tenants."""
VENDOR_BINDING = f"{{{XWEB}}}netForumXMLSoap"
# What xWeb answers to an operation of the vendor's the emulator does not emulate, with the operation's name.
NOT_EMULATED_MESSAGE = ("{} is not emulated: xweb-emulator does not implement this netFORUM xWeb operation, so the "
                        "call was not run. GET /_emulator/coverage lists the operations it emulates.")


# What calls may change whatever they are: tokens, failure counts, the journal, fault rules (the fuzz adds some), the
# clock.
VOLATILE = frozenset({"xweb_token", "xweb_auth_failure", "crmcom_token", "emulator_journal", "emulator_fault_rule",
                      "emulator_clock"})


def snapshot(emulator: RunningEmulator, volatile: frozenset[str] = VOLATILE) -> dict[str, list[tuple]]:
    """Every stored row of every table but the `volatile` ones: what a refused request must leave as it was."""
    tables = [table for table in Base.metadata.sorted_tables if table.name not in volatile]
    with emulator.emulator.database.transaction() as session:
        return {table.name: sorted(tuple(map(str, row)) for row in session.execute(select(table)))
                for table in tables}


class Emulator(RunningEmulator):
    """The plugin's running emulator, with raw SOAP calls and a direct look at the stored records."""

    def post_soap(self, operation: str, envelope: str | bytes, **headers: str) -> requests.Response:
        """POST an envelope as a SOAP 1.1 client does."""
        sent = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{XWEB}{operation}"', **headers}
        return requests.post(self.soap_url, data=envelope, headers=sent, timeout=30)

    def soap(self, operation: str, body: str = "", token: str | None = None) -> requests.Response:
        """Call an operation with `body` (the children of its request element, prefix ns:) and the token header."""
        header = (f"<soapenv:Header><ns:AuthorizationToken><ns:Token>{token}</ns:Token></ns:AuthorizationToken>"
                  "</soapenv:Header>") if token else ""
        envelope = (f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}" xmlns:ns="{XWEB}">{header}<soapenv:Body>'
                    f"<ns:{operation}>{body}</ns:{operation}></soapenv:Body></soapenv:Envelope>")
        return self.post_soap(operation, envelope)

    def authenticate(self, user: str | None = None, password: str | None = None) -> str:
        response = self.soap("Authenticate", f"<ns:userName>{user or self.settings.xweb_user}</ns:userName>"
                                             f"<ns:password>{password or self.settings.xweb_password}</ns:password>")
        assert response.status_code == 200, response.text
        return response_token(response)

    def rows(self, model: type, **equal: Any) -> list:
        with self.emulator.database.transaction() as session:
            statement = select(model).filter_by(**equal)
            return list(session.scalars(statement))

    def stored(self) -> dict[str, list[tuple]]:
        """Every domain record, column by column: what a refused request must leave exactly as it was."""
        state = {}
        for model in DOMAIN_MODELS:
            names = [column.name for column in model.__table__.columns]
            state[model.__tablename__] = sorted(tuple(str(getattr(row, name)) for name in names)
                                                for row in self.rows(model))
        return state

    @contextmanager
    def nothing_written(self) -> Iterator[None]:
        before = self.stored()
        yield
        assert self.stored() == before, "a refused request changed the database"


def parse(response: requests.Response) -> etree._Element:
    return etree.fromstring(response.content)


def records_of(objects: etree._Element) -> list[dict[str, str | None]]:
    """<XxxObjects recordReturn="N"><XxxObject><col>…</col>…: each record (an empty column None), its recordReturn
    checked."""
    found = [{etree.QName(column).localname: column.text for column in record} for record in objects]
    assert objects.get("recordReturn") == str(len(found))
    return found


def facade_node(object_name: str, records: list[dict[str, str]]) -> etree._Element:
    """oNode's <XxxObjects><XxxObject>…</XxxObject>…</XxxObjects>."""
    node = etree.Element(f"{{{XWEB}}}{object_name}Objects")
    for record in records:
        element = etree.SubElement(node, f"{{{XWEB}}}{object_name}Object")
        for name, value in record.items():
            etree.SubElement(element, f"{{{XWEB}}}{name}").text = value
    return node


def response_token(response: requests.Response) -> str:
    token = parse(response).findtext("soap:Header/x:AuthorizationToken/x:Token", namespaces=NS)
    assert token, f"no token in the response header: {response.text}"
    uuid.UUID(token)
    return token


def fault(response: requests.Response) -> dict[str, str | None]:
    """The parts of an xWeb fault a client reads."""
    assert response.status_code == 500, response.text
    element = parse(response).find("soap:Body/soap:Fault", NS)
    assert element is not None, response.text
    detail = element.find("detail")
    kind = detail[0] if len(detail) else None
    return {
        "faultcode": element.findtext("faultcode"),
        "faultstring": element.findtext("faultstring"),
        "kind": etree.QName(kind).localname if kind is not None else None,
        "message": kind.findtext("x:XWebException/x:Message", namespaces=NS) if kind is not None else None,
    }


def canonical(document: bytes, renames: dict[str, str] | None = None, *, values: bool = True) -> str:
    """The document canonicalized, indentation dropped, GUIDs, the fault's actor and texts that are values replaced
    by placeholders; element names renamed by `renames` (another operation of the same shape)."""
    root = etree.fromstring(document)
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        qname = etree.QName(element)
        for old, new in (renames or {}).items():
            if old in qname.localname:
                element.tag = f"{{{qname.namespace}}}{qname.localname.replace(old, new)}" if qname.namespace else (
                    qname.localname.replace(old, new))
                break
        if element.text is not None and not element.text.strip():
            element.text = None
        if element.tail is not None and not element.tail.strip():
            element.tail = None
        if len(element) == 0 and element.text is not None:
            if etree.QName(element).localname == "faultactor":
                element.text = "{address}"
            elif GUID.fullmatch(element.text.strip()):
                element.text = "{guid}" if values else "{value}"
            elif not values and etree.QName(element).localname not in ("faultcode", "Number", "Line", "Source",
                                                                        "ErrorType"):
                element.text = "{value}"
        for name, value in element.attrib.items():
            if GUID.fullmatch(value):
                element.set(name, "{guid}")
    return etree.tostring(root, method="c14n").decode()
