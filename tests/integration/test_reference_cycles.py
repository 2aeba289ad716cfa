"""A call frees what it made as it ends, by reference counting: it leaves no reference cycle for the garbage collector.

What a call leaves in cycles piles up until a collection walks it, inside whichever call comes next: with spyne's
method contexts in cycles (each holding the call, its documents and its connection), a collection every hundred
calls held one up for 10 to 30 ms, the latency tail of a connector paging through GetQuery (bench/run.py paging).
Each call here goes through the application in process, the collector paused; what it leaves unreachable is counted.

The one exception known: a GetQuery whose where clause combines conditions (AND, OR) builds its SQLAlchemy
expression for that call, and SQLAlchemy's expressions keep a comparator that refers back to them (a handful of
objects a call). Every statement known before the call is built once; a keyset page's single comparison leaves none.
"""

from __future__ import annotations

import gc
import io
import json
from base64 import b64encode
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from lxml import etree

from support import NS, SAMPLE_CUSTOMER, XWEB, Emulator
from xweb_emulator.app import create_app
from xweb_emulator.crmcom.rest import PREFIX as CRMCOM_API_PATH
from xweb_emulator.sap.vendor import SERVICE_PATH as SAP_SOAP_PATH
from xweb_emulator.xweb.vendor import SOAP_PATH as XWEB_SOAP_PATH

FIXTURES = Path(__file__).parents[1] / "fixtures"
SOAP = {"Content-Type": "text/xml; charset=utf-8"}
JSON = {"Content-Type": "application/json"}
SAP_ACTION = "http://sap.com/xi/A1S/Global/ManageCampaignInboundIn/MaintainFailedDeliveryStatusBundleRequest"


@pytest.fixture
def application(emulator: Emulator):
    """The emulator's own WSGI application, over the served emulator's state (its database, its vendors)."""
    return create_app(emulator.settings, emulator.emulator)


def call(application, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": path, "QUERY_STRING": "", "SERVER_NAME": "127.0.0.1",
               "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1", "wsgi.version": (1, 0),
               "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(body), "wsgi.errors": io.StringIO(),
               "wsgi.multithread": True, "wsgi.multiprocess": False, "wsgi.run_once": False,
               "CONTENT_LENGTH": str(len(body))}
    for name, value in headers.items():
        key = name.upper().replace("-", "_")
        environ[key if key == "CONTENT_TYPE" else f"HTTP_{key}"] = value
    started: list[str] = []
    answer = b"".join(application(environ, lambda status, _headers, _exc_info=None: started.append(status)))
    return int(started[0].split()[0]), answer


@pytest.fixture
def left_in_cycles() -> Iterator:
    """What a call leaves unreachable in reference cycles: the collector paused while it runs, then run."""

    def unreachable(run) -> Counter:
        run()  # first: whatever it builds once and keeps (caches, lazy imports) is built
        gc.collect()
        gc.disable()
        gc.set_debug(gc.DEBUG_SAVEALL)
        try:
            import tracemalloc, os
            tracemalloc.start(30)
            run()
            gc.collect()
            if os.environ.get("DEBUG_CYCLES"):
                seen = set()
                for item in gc.garbage:
                    tb = tracemalloc.get_object_traceback(item)
                    if tb is None: continue
                    key = str(tb.format()[-2:])
                    if key in seen: continue
                    seen.add(key)
                    print("=====", type(item), "\n".join(l for l in tb.format()[-60:] if "site-packages" in l or "xweb_emulator" in l))
            tracemalloc.stop()
            return Counter(f"{type(item).__module__}.{type(item).__qualname__}" for item in gc.garbage)
        finally:
            gc.set_debug(0)
            gc.garbage.clear()
            gc.enable()

    yield unreachable


def soap(operation: str, content: str, token: str | None) -> bytes:
    header = (f"<soap:Header><AuthorizationToken xmlns=\"{XWEB}\"><Token>{token}</Token></AuthorizationToken>"
              "</soap:Header>") if token else ""
    return (f'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">{header}<soap:Body>'
            f'<{operation} xmlns="{XWEB}">{content}</{operation}></soap:Body></soap:Envelope>').encode()


def xweb_token(application) -> str:
    status, answer = call(application, XWEB_SOAP_PATH,
                          soap("Authenticate", "<userName>demo</userName><password>demo</password>", None),
                          {**SOAP, "SOAPAction": f'"{XWEB}Authenticate"'})
    assert status == 200, answer
    return etree.fromstring(answer).findtext("soap:Header/x:AuthorizationToken/x:Token", namespaces=NS)


def test_xweb_soap_calls_leave_no_cycles(application, left_in_cycles):
    token = xweb_token(application)
    insert = (FIXTURES / "xweb" / "insert_customer_messaging_activity.request.xml").read_bytes().replace(
        b"***************", token.encode())
    query = soap("GetQuery", "<szObjectName>Individual @TOP 10</szObjectName><szColumnList>ind_first_name, "
                 "eml_address</szColumnList><szWhereClause>ind_cst_key &gt; '00000000-0000-0000-0000-000000000000'"
                 "</szWhereClause><szOrderBy>ind_cst_key</szOrderBy>", token)
    calls = {
        "InsertFacadeObject": (insert, "InsertFacadeObject", 200),
        "GetQuery": (query, "GetQuery", 200),
        "GetIndividualInformation": (soap("GetIndividualInformation", f"<IndividualKey>{SAMPLE_CUSTOMER}"
                                          "</IndividualKey>", token), "GetIndividualInformation", 200),
        "a fault: a token never issued": (soap("GetVersion", "", "00000000-0000-0000-0000-000000000000"),
                                          "GetVersion", 500),
    }
    for name, (body, action, status) in calls.items():
        def run(body=body, action=action, status=status):
            answered, answer = call(application, XWEB_SOAP_PATH, body,
                                    {**SOAP, "SOAPAction": f'"{XWEB}{action}"'})
            assert answered == status, answer
        left = left_in_cycles(run)
        assert not left, f"{name}: {dict(left)}"


def test_xweb_json_call_leaves_no_cycles(application, left_in_cycles):
    token = xweb_token(application)
    body = json.dumps({"GetQuery": {"szObjectName": "Individual", "szColumnList": "ind_first_name",
                                    "szWhereClause": "", "szOrderBy": "ind_cst_key"}}).encode()

    def run():
        status, answer = call(application, "/xWeb/JSON/GetQuery", body, {**JSON, "Authorization": f"Bearer {token}"})
        assert status == 200, answer

    left = left_in_cycles(run)
    assert not left, dict(left)


def test_sap_call_leaves_no_cycles(application, left_in_cycles):
    message = (FIXTURES / "sap" / "failed_delivery_status.request.xml").read_bytes()
    body = (b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>' + message
            + b"</soapenv:Body></soapenv:Envelope>")
    headers = {**SOAP, "SOAPAction": f'"{SAP_ACTION}"', "Authorization": f"Basic {b64encode(b'demo:demo').decode()}"}

    def run():
        status, answer = call(application, SAP_SOAP_PATH, body, headers)
        assert status == 200, answer

    left = left_in_cycles(run)
    assert not left, dict(left)


def test_crmcom_call_leaves_no_cycles(application, left_in_cycles, emulator):
    credentials = json.dumps(emulator.credentials["crmcom"]).encode()
    status, answer = call(application, CRMCOM_API_PATH + "authentication/token", credentials, JSON)
    assert status == 200, answer
    token = json.loads(answer)["data"]["token"]
    body = (FIXTURES / "crmcom" / "bulk_web_create.request.json").read_text(encoding="utf-8").replace(
        "{{token}}", token).encode()

    def run():
        answered, answer = call(application, CRMCOM_API_PATH + "customer_events/bulk/web/create", body, JSON)
        assert answered == 200, answer

    left = left_in_cycles(run)
    assert not left, dict(left)
