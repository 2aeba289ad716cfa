"""A seeded fuzzer of our own (issue 13): malformed requests at every endpoint, built from valid ones by a fixed seed,
and what every answer must be: in time, in the vendor's shape, in no Python or libxml2 wording, and nothing written
by a request that was refused. tests/integration/test_fuzz.py runs a few hundred per endpoint; bench/fuzz.py ten
thousand and more against any running emulator.

Each endpoint's base request only reads (xWeb GetVersion, SAP's Check operation, a CRM.COM login that cannot succeed), so that no answer
may leave a record behind whatever the fuzzer made of it; CRM.COM's bulk create is fuzzed too, and may only store
the events its answers report as processed.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import requests
from lxml import etree

from xweb_emulator.settings import Settings
from xweb_emulator.vendors import VENDORS

FIXTURES = Path(__file__).parent / "fixtures"
DEADLINE_SECONDS = 10.0
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
XWEB = "http://www.avectra.com/2005/"
SAP_CHECK = "CheckMaintainFailedDeliveryStatusBundle"
SAP_ACTION = f'"http://sap.com/xi/A1S/Global/ManageCampaignInboundIn/{SAP_CHECK}Request"'
GENERIC_500 = "The emulator failed to handle this request"
# What no client of these vendors ever reads: Python's, libxml2's, the database drivers' own words.
INTERNAL_WORDING = ("Traceback", "<string>", "XML_PARSE", "xmlParse", "libxml", "UnicodeDecodeError",
                    "UnicodeEncodeError", "AttributeError", "NoneType", "KeyError", "TypeError", "ValueError",
                    "RecursionError", "IndexError", "Expecting value", "Expecting property", "codec can't",
                    "sqlalchemy", "psycopg", "sqlite3", "IntegrityError", "OverflowError")

SOAP_BODY = (f'<soap:Envelope xmlns:soap="{SOAP11}" xmlns:x="{XWEB}"><soap:Header><x:AuthorizationToken><x:Token>'
             "{token}</x:Token></x:AuthorizationToken></soap:Header><soap:Body><x:GetVersion/></soap:Body>"
             "</soap:Envelope>")


@dataclass(frozen=True)
class Case:
    endpoint: str
    method: str
    path: str
    body: bytes
    headers: dict[str, str]
    auth: tuple[str, str] | None = None


@dataclass
class Findings:
    sent: int = 0
    problems: list[str] = field(default_factory=list)
    slowest: float = 0.0

    def add(self, case: Case, problem: str) -> None:
        self.problems.append(f"{case.endpoint} {case.body[:120]!r}: {problem}")


# ----------------------------------------------------------------------------------------------- mutations


def _mutations(rng: random.Random) -> list[Callable[[bytes], bytes]]:
    def truncate(data: bytes) -> bytes:
        return data[:rng.randrange(len(data) + 1)]

    def flip(data: bytes) -> bytes:
        data = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            if data:
                data[rng.randrange(len(data))] = rng.randrange(256)
        return bytes(data)

    def insert(data: bytes) -> bytes:
        where = rng.randrange(len(data) + 1)
        return data[:where] + rng.choice(_FRAGMENTS) + data[where:]

    def delete(data: bytes) -> bytes:
        start = rng.randrange(len(data) + 1)
        return data[:start] + data[start + rng.randint(1, 40):]

    def duplicate(data: bytes) -> bytes:
        start = rng.randrange(len(data) + 1)
        piece = data[start:start + rng.randint(1, 80)]
        return data[:start] + piece * rng.randint(2, 5) + data[start:]

    def nest(data: bytes) -> bytes:
        depth = rng.choice((70, 300, 1200, 5000))
        opening, closing = rng.choice(((b"[", b"]"), (b'{"a":', b"}"), (b"<a>", b"</a>")))
        where = rng.randrange(len(data) + 1)
        return data[:where] + opening * depth + closing * rng.choice((depth, 0)) + data[where:]

    def replace_all(data: bytes) -> bytes:
        return rng.choice(_WHOLE)

    return [truncate, flip, insert, delete, duplicate, nest, replace_all]


_FRAGMENTS = [b"\\udfff", b"\\u0000", b"\\ud800\\u0041", b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\x00", b"&#0;",
              b"&#xD800;", b"&unknown;", b"<!DOCTYPE a [<!ENTITY e 'x'>]>", b"<![CDATA[", b"]]>", b"<", b">", b"&",
              b'"', b"'",
              b"{", b"}", b"[", b"]", b",", b":", b"null", b"1e400", b"-0", b"NaN", b"99999999999999999999999",
              b"\xef\xbb\xbf", b"\r\n", b"\t", "\u00a0".encode(), "\u2028".encode(), b"<x:Foo/>", b"</soap:Body>",
              b'xmlns:q="urn:q"', b"<?xml version='1.0' encoding='nope'?>", b"\\", b"\\u12", b'"\\x41"']
_WHOLE = [b"", b" ", b"x", b"null", b"[]", b"{}", b"<", b"<a/>", b'"', b"\xff\xfe\x00\x00", b"<?xml version='1.0'?>",
          b'{"a": "\\udfff"}', b"[" * 3000, b"<a>" * 3000,
          f'<soap:Envelope xmlns:soap="{SOAP11}"><soap:Body></soap:Body></soap:Envelope>'.encode(),
          f'<soap:Envelope xmlns:soap="{SOAP11}"/>'.encode()]


def mutate(rng: random.Random, data: bytes) -> bytes:
    mutations = _mutations(rng)
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        data = rng.choice(mutations)(data)
    return data


# ------------------------------------------------------------------------------------------------- endpoints


def base_cases(token: str, crmcom_token: str, user: tuple[str, str], sap_user: tuple[str, str]) -> dict[str, Case]:
    sap = (FIXTURES / "sap" / "failed_delivery_status.request.xml").read_bytes().replace(
        b"CampaignFailedDeliveryStatusBundleMaintainRequest_sync",
        b"CampaignFailedDeliveryStatusRequestBundleCheckMaintainQuery_sync")
    sap_envelope = (f'<soapenv:Envelope xmlns:soapenv="{SOAP11}"><soapenv:Header/><soapenv:Body>'.encode() + sap
                    + b"</soapenv:Body></soapenv:Envelope>")
    crmcom_bulk = (FIXTURES / "crmcom" / "bulk_web_create.request.json").read_text(encoding="utf-8").replace(
        "{{token}}", crmcom_token).encode()
    xml = {"Content-Type": "text/xml; charset=utf-8"}
    as_json = {"Content-Type": "application/json"}
    return {
        "xweb-soap": Case("xweb-soap", "POST", "/xWeb/secure/netForumXML.asmx",
                          SOAP_BODY.format(token=token).encode(), {**xml, "SOAPAction": f'"{XWEB}GetVersion"'}),
        "xweb-json": Case("xweb-json", "POST", "/xWeb/JSON/GetCustomerByKey",
                          b'{"GetCustomerByKey": {"szCstKey": "2a50c454-eac0-4768-9a85-0c97968be7fd"}}', as_json,
                          user),
        "sap": Case("sap", "POST", "/sap/bc/srt/scs/sap/managecampaigninboundin", sap_envelope,
                    {**xml, "SOAPAction": SAP_ACTION}, sap_user),
        "crmcom-login": Case("crmcom-login", "POST", "/crmapi/rest/v2/authentication/token",
                            json.dumps({"username": "nobody", "password": "x", "organisation": "x"}).encode(),
                            as_json),
        "crmcom-bulk": Case("crmcom-bulk", "POST", "/crmapi/rest/v2/customer_events/bulk/web/create", crmcom_bulk,
                            as_json),
        "control": Case("control", "POST", "/_emulator/faults",
                        b'{"vendor": "xweb", "action": "latency", "latency_ms": 1, "operation": "NoSuchOperation", '
                        b'"count": 1}', as_json),
    }


def cases(base: Case, rng: random.Random, count: int) -> Iterator[Case]:
    for _ in range(count):
        yield Case(base.endpoint, base.method, base.path, mutate(rng, base.body), base.headers, base.auth)


# ----------------------------------------------------------------------------------------------------- checks


def check(case: Case, response: requests.Response | None, elapsed: float, findings: Findings) -> None:
    findings.sent += 1
    findings.slowest = max(findings.slowest, elapsed)
    if response is None:
        findings.add(case, "no answer")
        return
    if elapsed > DEADLINE_SECONDS:
        findings.add(case, f"answered after {elapsed:.1f}s")
    text = response.content.decode("utf-8", errors="replace")
    if GENERIC_500 in text:
        findings.add(case, "the generic 500")
    for message in internal_errors():
        if message in text:
            findings.add(case, f"the vendor's internal error: {text[:300]}")
    for phrase in INTERNAL_WORDING:
        if phrase in text:
            findings.add(case, f"internal wording {phrase!r}: {text[:300]}")
    problem = _shape(case, response)
    if problem:
        findings.add(case, problem)


@cache
def internal_errors() -> tuple[str, ...]:
    """Each vendor's answer to the emulator's own failure (Vendor.internal_error), in its own shape: a request that
    meets one has found a bug as surely as the generic 500."""
    return tuple(vendor(Settings()).internal_error(None).message for vendor in VENDORS)


def _shape(case: Case, response: requests.Response) -> str | None:
    """What is wrong with the answer's shape for its endpoint, if anything."""
    content_type = response.headers.get("Content-Type", "")
    if case.endpoint in ("xweb-soap", "sap"):
        if response.status_code == 413:
            return None
        try:
            root = etree.fromstring(response.content)
        except etree.XMLSyntaxError:
            return f"HTTP {response.status_code}: no XML: {response.text[:200]}"
        if etree.QName(root).localname != "Envelope":
            return f"no SOAP envelope: {response.text[:200]}"
        return None
    if case.endpoint == "xweb-http":  # ASMX: the result document, or the exception as text
        if response.status_code == 200 or (response.status_code == 500 and content_type.startswith("text/plain")
                                           and response.text.startswith("System.")):
            return None
        return f"HTTP {response.status_code}: not ASMX's answer ({content_type}): {response.text[:200]}"
    if case.endpoint == "xweb-json" and response.status_code == 200 and not response.content:
        return None  # a void result
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}: no JSON ({content_type}): {response.text[:200]}"
    if case.endpoint.startswith("crmcom") and (not isinstance(body, dict) or set(body) != {"data", "status"}):
        return f"not CRM.COM's envelope: {response.text[:200]}"
    if case.endpoint == "xweb-json" and response.status_code != 200 and not (
            isinstance(body, dict) and len(body) == 1 and "ExceptionInfo" in next(iter(body))):
        return f"not xWeb's fault detail: {response.text[:200]}"
    if case.endpoint == "control" and response.status_code >= 400 and "error" not in body:
        return f"not the control plane's error: {response.text[:200]}"
    return None


def processed_events(response: requests.Response) -> int:
    """The events a bulk create's answer reports stored."""
    try:
        data = response.json().get("data") or {}
        return len(data.get("processed_customer_events_set") or [])
    except (ValueError, AttributeError):
        return 0


def send(session: requests.Session, base_url: str, case: Case) -> tuple[requests.Response | None, float]:
    started = time.perf_counter()
    try:
        response = session.request(case.method, base_url + case.path, data=case.body, headers=case.headers,
                                   auth=case.auth, timeout=DEADLINE_SECONDS + 5)
    except requests.RequestException:
        response = None
    return response, time.perf_counter() - started
