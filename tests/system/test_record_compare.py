"""Record and compare (issue 23), with the emulator itself as the upstream: a "tenant" emulator whose profile and
settings differ from the emulator's defaults (an Individual default list, an extender column, Sliding tokens) is
recorded through `xweb-emulator record`'s server; the recording is checked against the HAR 1.2 schema and read back by
haralyzer; `compare` replays it against a fresh emulator and must find exactly the differences made; the recorder
holds concurrent clients, clients that go away, upstreams that fail; `serve --recording` answers an operation the
emulator does not emulate as recorded."""

from __future__ import annotations

import base64
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import jsonschema
import pytest
import requests
import zeep
from click.testing import CliRunner
from haralyzer import HarEntry, HarParser
from lxml import etree

from sap_support import SERVICE_PATH as SAP_PATH
from sap_support import envelope as sap_envelope
from sap_support import fixture as sap_fixture
from sap_support import soap_action as sap_action
from support import GUID, SAMPLE_CUSTOMER, VENDOR_BINDING, XWEB
from test_dotnet_client import (INSERT_SAMPLE, MOBILE_PHONE_TYPE, PHONE_INSERT, PREFERENCES_CUSTOMER, DotNetClient,
                                assert_generated)
from test_dotnet_client import toolchain  # noqa: F401 (the fixture: Mono's tools, or the test skips)
from xweb_emulator import har
from xweb_emulator.cli import main
from xweb_emulator.recorder import recording_server
from xweb_emulator.settings import Settings
from xweb_emulator.testing import RunningEmulator, run_emulator
from xweb_emulator.xweb.vendor import SOAP_PATH as XWEB_SOAP_PATH
from xweb_emulator.xweb.profile import default_profile

# The HAR 1.2 document as its specification (http://www.softwareishard.com/blog/har-12-spec/) defines it: every
# required member, its type; custom members start with "_" (allowed anywhere).
_NAME_VALUE = {"type": "object", "required": ["name", "value"],
               "properties": {"name": {"type": "string"}, "value": {"type": "string"}, "comment": {"type": "string"}}}
_COOKIE = {"type": "object", "required": ["name", "value"], "properties": {
    "name": {"type": "string"}, "value": {"type": "string"}, "path": {"type": "string"},
    "domain": {"type": "string"}, "expires": {"type": ["string", "null"]}, "httpOnly": {"type": "boolean"},
    "secure": {"type": "boolean"}, "comment": {"type": "string"}}}
_TIMING = {"type": "number", "minimum": -1}
HAR_SCHEMA = {
    "type": "object", "required": ["log"],
    "properties": {"log": {
        "type": "object", "required": ["version", "creator", "entries"],
        "properties": {
            "version": {"type": "string"},
            "creator": {"type": "object", "required": ["name", "version"],
                        "properties": {"name": {"type": "string"}, "version": {"type": "string"}}},
            "browser": {"type": "object", "required": ["name", "version"]},
            "pages": {"type": "array"},
            "comment": {"type": "string"},
            "entries": {"type": "array", "items": {
                "type": "object",
                "required": ["startedDateTime", "time", "request", "response", "cache", "timings"],
                "properties": {
                    "pageref": {"type": "string"},
                    "startedDateTime": {"type": "string", "format": "date-time",
                                        "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"},
                    "time": {"type": "number", "minimum": 0},
                    "request": {
                        "type": "object",
                        "required": ["method", "url", "httpVersion", "cookies", "headers", "queryString",
                                     "headersSize", "bodySize"],
                        "properties": {
                            "method": {"type": "string"}, "url": {"type": "string", "format": "uri"},
                            "httpVersion": {"type": "string"},
                            "cookies": {"type": "array", "items": _COOKIE},
                            "headers": {"type": "array", "items": _NAME_VALUE},
                            "queryString": {"type": "array", "items": _NAME_VALUE},
                            "postData": {"type": "object", "required": ["mimeType"], "properties": {
                                "mimeType": {"type": "string"}, "text": {"type": "string"},
                                "params": {"type": "array"}}},
                            "headersSize": {"type": "integer"}, "bodySize": {"type": "integer"}}},
                    "response": {
                        "type": "object",
                        "required": ["status", "statusText", "httpVersion", "cookies", "headers", "content",
                                     "redirectURL", "headersSize", "bodySize"],
                        "properties": {
                            "status": {"type": "integer"}, "statusText": {"type": "string"},
                            "httpVersion": {"type": "string"},
                            "cookies": {"type": "array", "items": _COOKIE},
                            "headers": {"type": "array", "items": _NAME_VALUE},
                            "content": {"type": "object", "required": ["size", "mimeType"], "properties": {
                                "size": {"type": "integer"}, "compression": {"type": "integer"},
                                "mimeType": {"type": "string"}, "text": {"type": "string"},
                                "encoding": {"type": "string"}}},
                            "redirectURL": {"type": "string"},
                            "headersSize": {"type": "integer"}, "bodySize": {"type": "integer"}}},
                    "cache": {"type": "object"},
                    "timings": {"type": "object", "required": ["send", "wait", "receive"], "properties": {
                        "blocked": _TIMING, "dns": _TIMING, "connect": _TIMING, "ssl": _TIMING,
                        "send": {"type": "number", "minimum": 0}, "wait": {"type": "number", "minimum": 0},
                        "receive": {"type": "number", "minimum": 0}}},
                    "serverIPAddress": {"type": "string"}, "connection": {"type": "string"},
                    "comment": {"type": "string"}},
                "patternProperties": {"^_": {}},
                "additionalProperties": False}}},
        "patternProperties": {"^_": {}}}},
}

TENANT_LIST = ["cst_id", "ind_first_name", "ind_last_name"]
TENANT_PROFILE = f"""
name: recorded-tenant
objects:
  - name: Individual
    columns:
      - {{name: ind_pin_ext, type: nvarchar, width: 10, ext: true}}
    list_columns: [{", ".join(TENANT_LIST)}]
"""
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
CRMCOM_BULK = (Path(__file__).parents[1] / "fixtures" / "crmcom" / "bulk_web_create.request.json").read_text("utf-8")


def valid_har(path: Path) -> dict:
    """The file as a HAR document: valid by the schema, and read back whole by haralyzer."""
    document = json.loads(path.read_text(encoding="utf-8"))
    jsonschema.validate(document, HAR_SCHEMA, format_checker=jsonschema.FormatChecker())
    parser = HarParser(document)
    assert parser.version == "1.2" and parser.creator["name"] == "xweb-emulator"
    entries = [entry for page in parser.pages for entry in page.entries]
    assert len(entries) == len(document["log"]["entries"])
    for read, written in zip(entries, document["log"]["entries"]):
        assert isinstance(read, HarEntry)
        assert (read.request.method, read.request.url, read.response.status) == (
            written["request"]["method"], written["request"]["url"], written["response"]["status"])
    return document


@contextmanager
def recording(upstream: str, out: Path, **options) -> Iterator[tuple[str, list[str]]]:
    """The recorder in front of `upstream`, on a free port, for as long as the context is open: its address, and
    the progress lines it wrote."""
    lines: list[str] = []

    class Progress:
        def write(self, text: str) -> None:
            lines.extend(line for line in text.splitlines() if line)

        def flush(self) -> None:
            pass

    server = recording_server(upstream, out, progress=Progress(), **options)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", lines
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(scope="module")
def tenant(tmp_path_factory) -> Iterator[RunningEmulator]:
    """The emulator standing in for a tenant: its own Individual default list and extender column, Sliding tokens."""
    folder = tmp_path_factory.mktemp("tenant")
    profile = folder / "tenant.yaml"
    profile.write_text(TENANT_PROFILE, encoding="utf-8")
    with run_emulator(Settings(database_url=f"sqlite:///{folder / 'tenant.db'}", xweb_profile=str(profile),
                               xweb_token_expiration="Sliding")) as running:
        yield running


@pytest.fixture
def fresh_tenant(tenant) -> RunningEmulator:
    """The tenant back to the demo data, its sample Individual with a PIN in the extender column."""
    tenant.reset()
    token = answer_token(soap(tenant.base_url, "Authenticate",
                              "<x:userName>demo</x:userName><x:password>demo</x:password>"))
    node = (f'<IndividualObjects xmlns="{XWEB}"><IndividualObject><ind_pin_ext>4821</ind_pin_ext></IndividualObject>'
            "</IndividualObjects>")
    updated = soap(tenant.base_url, "UpdateFacadeObject", "<x:szObjectName>Individual</x:szObjectName>"
                   f"<x:szObjectKey>{SAMPLE_CUSTOMER}</x:szObjectKey><x:oNode>{node}</x:oNode>", token)
    assert updated.status_code == 200, updated.text
    tenant.clear_journal()
    return tenant


@pytest.fixture
def upstream(tmp_path) -> Iterator[RunningEmulator]:
    """An emulator with the default settings, on a database of its own."""
    with run_emulator(Settings(database_url=f"sqlite:///{tmp_path / 'upstream.db'}")) as running:
        yield running


def soap(base: str, operation: str, body: str = "", token: str | None = None) -> requests.Response:
    header = (f"<s:Header><x:AuthorizationToken><x:Token>{token}</x:Token></x:AuthorizationToken></s:Header>"
              if token else "")
    document = (f'<s:Envelope xmlns:s="{SOAP_ENV}" xmlns:x="{XWEB}">{header}<s:Body><x:{operation}>{body}'
                f"</x:{operation}></s:Body></s:Envelope>")
    return requests.post(base + XWEB_SOAP_PATH, data=document.encode(), timeout=30, headers={
        "Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{XWEB}{operation}"'})


def answer_token(response: requests.Response) -> str:
    return etree.fromstring(response.content).findtext(f".//{{{XWEB}}}AuthorizationToken/{{{XWEB}}}Token")


def tenant_session(base: str) -> list[str]:
    """A connector's calls over every wire: xWeb SOAP, its HTTP GET binding and JSON twin, SAP, CRM.COM. One call
    presents a token the tenant's Sliding policy has replaced since. Answers the tokens the client was given."""
    tokens = []
    authenticated = soap(base, "Authenticate", "<x:userName>demo</x:userName><x:password>demo</x:password>")
    assert authenticated.status_code == 200, authenticated.text
    first = token = answer_token(authenticated)
    tokens.append(token)
    listed = soap(base, "GetQuery", "<x:szObjectName>Individual @TOP 2</x:szObjectName><x:szColumnList/>"
                                    "<x:szWhereClause/><x:szOrderBy>cst_id</x:szOrderBy>", token)
    assert listed.status_code == 200, listed.text
    token = answer_token(listed)
    got = soap(base, "WEBIndividualGet", f"<x:key>{SAMPLE_CUSTOMER}</x:key>", token)
    assert got.status_code == 200, got.text
    token = answer_token(got)
    tokens.append(token)
    soap(base, "GetVersion", "", first)  # the first token again: Sliding has replaced it
    assert requests.get(f"{base}{XWEB_SOAP_PATH}/GetDateTime", timeout=30).status_code == 200
    individual = requests.post(f"{base}/xWeb/JSON/WEBIndividualGet", auth=("demo", "demo"), timeout=30,
                               json={"WEBIndividualGet": {"key": SAMPLE_CUSTOMER}})
    assert individual.status_code == 200, individual.text
    tokens.append(individual.headers["WWW-Authenticate"].rsplit(" ", 1)[-1])
    permissions = requests.post(base + SAP_PATH, data=sap_envelope(sap_fixture("mailing_permission.request.xml")),
                                auth=("demo", "demo"), timeout=30, headers={
                                    "Content-Type": "text/xml; charset=utf-8",
                                    "SOAPAction": sap_action("MaintainMailingPermissionBundle")})
    assert permissions.status_code == 200, permissions.text
    login = requests.post(f"{base}/crmapi/rest/v2/authentication/token", timeout=30,
                          json={"username": "demo", "password": "demo", "organisation": "demo"})
    crmcom_token = login.json()["data"]["token"]
    tokens.append(crmcom_token)
    created = requests.post(f"{base}/crmapi/rest/v2/customer_events/bulk/web/create", timeout=30,
                            data=CRMCOM_BULK.replace("{{token}}", crmcom_token).encode(),
                            headers={"Content-Type": "application/json"})
    assert created.status_code == 200, created.text
    number = created.json()["data"]["processed_customer_events_set"][0]["id"]
    shown = requests.get(f"{base}/crmapi/rest/v2/customer_events/web/show", timeout=30, params={
        "token": crmcom_token, "customer_event_identifier": f"id={number}"})
    assert shown.status_code == 200 and shown.json()["data"]["id"] == number, shown.text
    return tokens


CALLS = 10  # tenant_session's


def test_a_recording_is_valid_har_with_passwords_and_tokens_masked(fresh_tenant, tmp_path):
    out = tmp_path / "tenant.har"
    with recording(fresh_tenant.base_url, out) as (base, progress):
        tokens = tenant_session(base)
    document = valid_har(out)
    entries = document["log"]["entries"]
    assert [entry["_order"] for entry in entries] == list(range(1, CALLS + 1))
    assert len(progress) == CALLS and progress[0].startswith("#1 POST /xWeb/secure/netForumXML.asmx -> 200")
    text = out.read_text(encoding="utf-8")
    assert not [token for token in tokens if token in text]  # every token the client was given is masked
    assert '<x:password>***</x:password>' in har.request_body(entries[0])
    assert '"password": "***"' in har.request_body(entries[7])
    basic = {value for entry in entries for name, value in har.headers(entry["request"]) if name == "Authorization"}
    assert {base64.b64decode(value.split()[1]).decode() for value in basic} == {"demo:***"}
    # The same token is the same stand-in everywhere: issued by answer 1, presented by request 2 and by request 4.
    issued = answer_token_text(har.response_body(entries[0]).decode())
    assert har.TOKEN_STAND_IN.fullmatch(issued)
    assert issued in har.request_body(entries[1]) and issued in har.request_body(entries[3])
    assert issued not in har.request_body(entries[2])  # Sliding: answer 2 carried a new token
    # Bodies are kept whole, the answer as the client got it (but for the masked tokens).
    assert entries[1]["response"]["content"]["size"] == entries[1]["response"]["bodySize"] > 1000
    assert har.response_body(entries[1]).endswith(b"</soap:Envelope>")
    assert entries[3]["response"]["status"] == 500 and "InvalidTokenExceptionInfo" in entries[3]["response"][
        "content"]["text"]


def answer_token_text(body: str) -> str:
    return re.search(r"<Token>([^<]*)</Token>", body).group(1)


def test_compare_finds_exactly_the_differences_made(fresh_tenant, tmp_path):
    out = tmp_path / "tenant.har"
    with recording(fresh_tenant.base_url, out) as (base, _progress):
        tenant_session(base)
    page = tmp_path / "report.html"
    result = CliRunner().invoke(main, ["compare", str(out), "--json", "--html", str(page)])
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    found = {(call["operation"], each["kind"], each["where"], each["tenant"], each["emulator"])
             for call in report["calls"] for each in call["differences"]}
    rows = "/Envelope/Body/GetQueryResponse/GetQueryResult/IndividualObjects/IndividualObject"
    default_list = next(each for each in default_profile().objects if each.name == "Individual").list_columns
    expected = {("GetQuery", "structure", f"{rows}[{row}]/{column}", None, "present")
                for row in (1, 2) for column in default_list if column not in TENANT_LIST}
    expected |= {
        ("WEBIndividualGet", "structure",
         "/Envelope/Body/WEBIndividualGetResponse/WEBIndividualGetResult/Individual/ind_pin_ext", "present", None),
        ("WEBIndividualGet", "structure", "$.Individual.ind_pin_ext", "present", None),
        ("GetVersion", "status", "", "500", "200"),
        ("GetVersion", "fault", "", "InvalidTokenExceptionInfo", None),
    }
    assert found == expected
    assert report["differences"] == len(expected) and not report["clean"]
    # What must differ was carried over, not reported: tokens, the keys and dates each service generated.
    carried = {each["where"] for call in report["calls"] for each in call["carried"]}
    assert "/Envelope/Header/AuthorizationToken/Token" in carried and "$.data.token" in carried
    assert "$.data.processed_customer_events_set[0].id" in carried
    assert [call["same"] for call in report["calls"]] == [True, False, False, False, True, False, True, True, True,
                                                         True]
    html = page.read_text(encoding="utf-8")
    assert "<script" not in html and "stylesheet" not in html  # self-contained
    assert html.count("<h3>Tenant (recorded)</h3>") == CALLS and "InvalidTokenExceptionInfo" in html
    assert "&lt;ind_pin_ext" in html  # the tenant's answer, side by side with the emulator's

    allowed = CliRunner().invoke(main, ["compare", str(out), "--allow", "structure:GetQuery:*IndividualObject*",
                                        "--allow", "structure:WEBIndividualGet:*ind_pin_ext",
                                        "--allow", "status:GetVersion", "--allow", "fault:GetVersion"])
    assert allowed.exit_code == 0, allowed.output
    assert allowed.stdout.rstrip().endswith(f"{CALLS} calls, no differences")


def test_a_recording_compared_with_the_emulator_it_was_recorded_from_profile_and_all_is_clean(tenant, tmp_path):
    """The same profile and data on both sides: the compare report has nothing to say (but for the token policy,
    which the profile does not carry here: allowed)."""
    tenant.reset()
    out = tmp_path / "tenant.har"
    with recording(tenant.base_url, out) as (base, _progress):
        tenant_session(base)
    profile = tmp_path / "tenant.yaml"
    profile.write_text(TENANT_PROFILE, encoding="utf-8")
    result = CliRunner().invoke(main, ["compare", str(out), "--profile", str(profile), "--allow", "*:GetVersion"])
    assert result.exit_code == 0, result.output


def test_compare_reports_a_value_the_tenant_answered_differently(upstream, tmp_path):
    """A tenant whose record holds another last name (the recording edited as its answer would have read): one value
    difference, where it is; the dates each side stamped are carried over, not reported."""
    out = tmp_path / "values.har"
    with recording(upstream.base_url, out) as (base, _progress):
        token = answer_token(soap(base, "Authenticate", "<x:userName>demo</x:userName><x:password>demo</x:password>"))
        listed = soap(base, "GetQuery", "<x:szObjectName>Individual @TOP 1</x:szObjectName>"
                                        "<x:szColumnList>ind_last_name, ind_add_date</x:szColumnList>"
                                        "<x:szWhereClause/><x:szOrderBy>cst_id</x:szOrderBy>", token)
        assert "<ind_last_name>Somewhere</ind_last_name>" in listed.text
    document = json.loads(out.read_text(encoding="utf-8"))
    content = document["log"]["entries"][1]["response"]["content"]
    content["text"] = content["text"].replace("<ind_last_name>Somewhere<", "<ind_last_name>Elsewhere<")
    out.write_text(json.dumps(document), encoding="utf-8")
    time.sleep(1.1)  # the emulator compare starts stamps its demo records a second later at least

    result = CliRunner().invoke(main, ["compare", str(out), "--json"])
    assert result.exit_code == 1, result.output
    calls = json.loads(result.stdout)["calls"]
    assert [each for call in calls for each in call["differences"]] == [{
        "kind": "value", "where": "/Envelope/Body/GetQueryResponse/GetQueryResult/IndividualObjects/IndividualObject"
                                  "/ind_last_name", "tenant": "Elsewhere", "emulator": "Somewhere", "allowed": False}]
    assert [each["where"].rsplit("/", 1)[-1] for each in calls[1]["carried"]] == ["ind_add_date"]
    allowed = CliRunner().invoke(main, ["compare", str(out), "--allow", "value:GetQuery:*/ind_last_name"])
    assert allowed.exit_code == 0, allowed.output


def test_a_zeep_run_replayed_against_a_fresh_emulator_is_clean(upstream, tmp_path):
    out = tmp_path / "zeep.har"
    with recording(upstream.base_url, out) as (base, _progress):
        client = zeep.Client(base + XWEB_SOAP_PATH + "?WSDL")
        service = client.create_service(VENDOR_BINDING, base + XWEB_SOAP_PATH)
        token = service.Authenticate(userName="demo", password="demo").header.AuthorizationToken.Token

        def call(operation: str, **params):
            nonlocal token
            answer = getattr(service, operation)(**params, _soapheaders={"AuthorizationToken": {"Token": token}})
            token = answer.header.AuthorizationToken.Token
            return answer.body[f"{operation}Result"]

        kind = client.get_type(f"{{{XWEB}}}IndividualType")
        sections = {"Individual": {"ind_first_name": "Rec", "ind_last_name": "Orded"},
                    "Email": {"eml_address": "rec@example.org"}}
        inserted = call("WEBIndividualInsert", oFacadeObject=kind(
            **{name: sections.get(name, zeep.xsd.SkipValue) for name, _element in kind.elements}))
        key = inserted.Individual.ind_cst_key
        assert GUID.fullmatch(key)
        assert call("WEBIndividualGet", key=key).Individual.ind_last_name == "Orded"
        call("GetQuery", szObjectName="Individual", szColumnList="ind_cst_key, ind_last_name, ind_add_date",
             szWhereClause=f"ind_cst_key = '{key}'", szOrderBy="")
        call("GetVersion")
    entries = valid_har(out)["log"]["entries"]
    assert entries[0]["request"]["method"] == "GET" and len(entries) == 6

    result = CliRunner().invoke(main, ["compare", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout.rstrip().endswith("6 calls, no differences")
    # The key the recorded tenant generated was carried into the later requests, not compared as a value.
    report = json.loads(CliRunner().invoke(main, ["compare", str(out), "--json"]).stdout)
    [key_carried] = [each for each in report["calls"][2]["carried"] if each["where"].endswith("/CurrentKey")]
    assert key_carried["tenant"] == key != key_carried["emulator"]
    assert key_carried["emulator"] in report["calls"][3]["emulator_body"]  # WEBIndividualGet was sent its key


def test_a_dotnet_proxy_run_replayed_against_a_fresh_emulator_is_clean(toolchain, upstream, tmp_path):
    """The .NET proxy flows of tests/system/test_dotnet_client.py (a proxy generated by Mono's wsdl, compiled with mcs),
    through the recorder."""
    done, proxy = toolchain.generate_proxy(upstream.wsdl_url, tmp_path)
    assert_generated(done, proxy)
    program = toolchain.compile_client(proxy, tmp_path)
    out = tmp_path / "dotnet.har"
    with recording(upstream.base_url, out) as (base, _progress):
        client = DotNetClient(toolchain, program, RunningEmulator(base, upstream.settings, upstream.emulator))
        client.run("insert-facade-object", str(INSERT_SAMPLE))
        client.run("phones", PREFERENCES_CUSTOMER, *PHONE_INSERT, f"update_pht_key={MOBILE_PHONE_TYPE}",
                   "update_number=800-555-0799")
        client.run("individuals", "Grace", "Hopper", "grace@example.org", "hopper@example.org", "admiral@example.org")
    entries = valid_har(out)["log"]["entries"]
    assert len(entries) >= 10 and {entry["response"]["status"] for entry in entries} == {200}
    result = CliRunner().invoke(main, ["compare", str(out)])
    assert result.exit_code == 0, result.output


def test_the_journal_exported_as_har_replays_clean_against_a_fresh_emulator(upstream, tmp_path):
    tenant_session(upstream.base_url)
    exported = requests.get(f"{upstream.base_url}/_emulator/requests", params={"format": "har"}, timeout=30)
    assert exported.status_code == 200 and exported.headers["Content-Type"].startswith("application/json")
    out = tmp_path / "journal.har"
    out.write_bytes(exported.content)
    entries = valid_har(out)["log"]["entries"]
    assert [entry["_operation"] for entry in entries][:3] == ["Authenticate", "GetQuery", "WEBIndividualGet"]
    assert entries[3]["_outcome"] == "ok"  # the default policy is Absolute: the first token still lives
    assert "demo</x:password>" not in out.read_text(encoding="utf-8")
    result = CliRunner().invoke(main, ["compare", str(out)])
    assert result.exit_code == 0, result.output
    assert requests.get(f"{upstream.base_url}/_emulator/requests", params={"format": "xml"},
                        timeout=30).status_code == 400


def test_a_password_posted_as_a_form_is_masked_in_the_journal_and_its_har(upstream, tmp_path):
    posted = requests.post(f"{upstream.base_url}{XWEB_SOAP_PATH}/Authenticate", data={
        "userName": "demo", "password": "demo"}, timeout=30)
    assert posted.status_code == 200, posted.text
    [call] = upstream.journal(operation="Authenticate")
    assert call["request"]["body"] == "userName=demo&password=***"
    exported = requests.get(f"{upstream.base_url}/_emulator/requests", params={"format": "har"}, timeout=30).json()
    assert har.request_body(exported["log"]["entries"][0]) == "userName=demo&password=***"
    with recording(upstream.base_url, tmp_path / "form.har") as (base, _progress):
        requests.post(f"{base}{XWEB_SOAP_PATH}/Authenticate", data={"userName": "demo", "password": "demo"},
                      timeout=30)
    assert har.request_body(valid_har(tmp_path / "form.har")["log"]["entries"][0]) == "userName=demo&password=***"


def test_a_client_may_take_the_recorder_for_its_http_proxy(upstream, tmp_path):
    with recording(upstream.base_url, tmp_path / "proxied.har") as (base, _progress):
        answer = requests.post("http://tenant.example.org/xWeb/JSON/GetVersion?client=1", auth=("demo", "demo"),
                               json={}, proxies={"http": base}, timeout=30)
    assert answer.status_code == 200, answer.text
    [entry] = valid_har(tmp_path / "proxied.har")["log"]["entries"]
    assert entry["request"]["url"] == f"{upstream.base_url}/xWeb/JSON/GetVersion?client=1"
    assert entry["request"]["queryString"] == [{"name": "client", "value": "1"}]


def test_the_recorder_holds_8_concurrent_clients_in_order(upstream, tmp_path):
    out = tmp_path / "concurrent.har"
    clients, calls = 8, 12
    failures = []

    def client(number: int) -> None:
        with requests.Session() as session:
            for call in range(calls):
                answer = session.post(f"{base}/xWeb/JSON/GetVersion", auth=("demo", "demo"), json={}, timeout=30,
                                      headers={"X-Client-Call": f"{number}.{call}"})
                if answer.status_code != 200:
                    failures.append(answer.text)

    with recording(upstream.base_url, out) as (base, progress):
        threads = [threading.Thread(target=client, args=(number,)) for number in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert not failures
    entries = valid_har(out)["log"]["entries"]
    assert len(entries) == len(progress) == clients * calls
    assert [entry["_order"] for entry in entries] == list(range(1, clients * calls + 1))
    sent = [dict(har.headers(entry["request"]))["X-Client-Call"] for entry in entries]
    for number in range(clients):
        assert [call for call in sent if call.startswith(f"{number}.")] == [f"{number}.{call}" for call in range(calls)]
    assert len(set(sent)) == clients * calls


def test_a_client_that_goes_away_mid_call_leaves_a_well_formed_file(upstream, tmp_path):
    out = tmp_path / "gone.har"
    upstream.add_fault("xweb", "latency", operation="GetVersion", latency_ms=800)
    with recording(upstream.base_url, out) as (base, _progress):
        with pytest.raises(requests.Timeout):
            requests.post(f"{base}/xWeb/JSON/GetVersion", auth=("demo", "demo"), json={}, timeout=0.2)
        # A client that sends half its body and hangs up.
        with socket.create_connection(("127.0.0.1", int(base.rsplit(":", 1)[1]))) as half:
            half.sendall(b"POST /xWeb/JSON/GetVersion HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{\"a\":")
        deadline = time.monotonic() + 10
        while not json.loads(out.read_text(encoding="utf-8"))["log"]["entries"] and time.monotonic() < deadline:
            valid_har(out)  # whole at every moment
            time.sleep(0.05)
    [entry] = valid_har(out)["log"]["entries"]
    assert entry["response"]["status"] == 200 and entry["time"] >= 800


def test_upstream_time_outs_and_failures_are_recorded_as_such(upstream, tmp_path):
    out = tmp_path / "failing.har"
    upstream.add_fault("xweb", "latency", operation="GetVersion", latency_ms=1500)
    with recording(upstream.base_url, out, timeout=0.3) as (base, progress):
        late = requests.post(f"{base}/xWeb/JSON/GetVersion", auth=("demo", "demo"), json={}, timeout=30)
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{unused.getsockname()[1]}"
    with recording(closed, tmp_path / "unreachable.har") as (base, _progress):
        unreachable = requests.post(f"{base}/crmapi/rest/v2/authentication/token", json={}, timeout=30)
    assert late.status_code == 504 and unreachable.status_code == 502
    [timed_out] = valid_har(out)["log"]["entries"]
    assert timed_out["response"]["status"] == 0 and timed_out["_error"].startswith("timeout")
    assert "timeout" in progress[0]
    [refused] = valid_har(tmp_path / "unreachable.har")["log"]["entries"]
    assert refused["response"]["status"] == 0 and refused["_error"].startswith("upstream unreachable")
    report = json.loads(CliRunner().invoke(main, ["compare", str(out), "--json"]).stdout)
    assert report["calls"][0]["differences"][0]["tenant"].startswith("no answer: timeout")
    # An emulator that does not answer is reported so as well.
    unanswered = CliRunner().invoke(main, ["compare", str(out), "--json", "--against", closed])
    assert unanswered.exit_code == 1, unanswered.output
    [call] = json.loads(unanswered.stdout)["calls"]
    assert call["emulator_status"] == 0 and call["differences"][0]["emulator"].startswith("no answer: ")


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_the_record_command_stopped_leaves_a_whole_file(upstream, tmp_path, stop):
    out = tmp_path / "stopped.har"
    process = subprocess.Popen([sys.executable, "-m", "xweb_emulator", "record", "--upstream", upstream.base_url,
                                "--out", str(out), "--port", "0"], stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        banner = process.stderr.readline()
        address = re.search(r"at (http://\S+) into", banner).group(1)
        assert requests.post(f"{address}/xWeb/JSON/GetVersion", auth=("demo", "demo"), json={},
                             timeout=30).status_code == 200
        assert process.stderr.readline().startswith("#1 POST /xWeb/JSON/GetVersion -> 200")
    finally:
        process.send_signal(stop)
        assert process.wait(timeout=30) == 0
    # Nothing half-written beside it (the file is written as .stopped.har.<random>, then renamed).
    assert [path.name for path in tmp_path.iterdir() if ".har" in path.name] == ["stopped.har"]
    [entry] = valid_har(out)["log"]["entries"]
    assert entry["request"]["url"] == f"{upstream.base_url}/xWeb/JSON/GetVersion"


@pytest.mark.parametrize("text", ["not json", '{"log": {"entries": [{"request": {}, "response": {}}]}}'])
def test_compare_refuses_a_file_that_is_no_har_in_words(tmp_path, text):
    bad = tmp_path / "bad.har"
    bad.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(main, ["compare", str(bad)])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.exception
    assert "is not a HAR file" in result.output


# ------------------------------------------------------------------------------------------ serve --recording


TIME_ZONES = ('<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/'
              'envelope/"><soap:Header><AuthorizationToken xmlns="http://www.avectra.com/2005/"><Token>{token}'
              '</Token></AuthorizationToken></soap:Header><soap:Body><GetTimeZonesResponse xmlns="http://www.avectra'
              '.com/2005/"><GetTimeZonesResult><TimeZones><TimeZone><tzn_code>EST</tzn_code></TimeZone></TimeZones>'
              '</GetTimeZonesResult></GetTimeZonesResponse></soap:Body></soap:Envelope>')


def recorded_time_zones(path: Path) -> None:
    """A recording of a tenant answering GetTimeZones, an operation the emulator does not emulate."""
    from datetime import datetime, timezone

    tenant_token = "5f0c33c8-7b0e-4b8c-a0a5-1d2b3c4d5e6f"
    request = soap_body("GetTimeZones", tenant_token)
    har.HarFile(path).append(har.Exchange(
        datetime.now(timezone.utc), "POST", "https://tenant.example.org" + XWEB_SOAP_PATH,
        [("Content-Type", "text/xml; charset=utf-8"), ("SOAPAction", f'"{XWEB}GetTimeZones"')], request, 200, "OK",
        [("Content-Type", "text/xml; charset=utf-8")], TIME_ZONES.format(token=tenant_token).encode(), 12.5))


def soap_body(operation: str, token: str, body: str = "") -> bytes:
    return (f'<s:Envelope xmlns:s="{SOAP_ENV}" xmlns:x="{XWEB}"><s:Header><x:AuthorizationToken><x:Token>{token}'
            f"</x:Token></x:AuthorizationToken></s:Header><s:Body><x:{operation}>{body}</x:{operation}></s:Body>"
            "</s:Envelope>").encode()


def test_serve_with_a_recording_answers_an_operation_not_emulated_as_recorded(tmp_path):
    recorded = tmp_path / "tenant.har"
    recorded_time_zones(recorded)
    with run_emulator(Settings(database_url=f"sqlite:///{tmp_path / 'e.db'}", recording=str(recorded))) as running:
        token = answer_token(soap(running.base_url, "Authenticate",
                                  "<x:userName>demo</x:userName><x:password>demo</x:password>"))
        headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{XWEB}GetTimeZones"'}
        replayed = requests.post(running.soap_url, data=soap_body("GetTimeZones", token), headers=headers, timeout=30)
        assert replayed.status_code == 200, replayed.text
        assert replayed.text == TIME_ZONES.format(token=token)  # the call's own token in the recorded answer
        unrecorded = requests.post(running.soap_url, data=soap_body("GetTimeZones", token, "<x:more/>"),
                                   headers=headers, timeout=30)
        assert unrecorded.status_code == 500 and "GetTimeZones is not emulated" in unrecorded.text
        assert soap(running.base_url, "GetVersion", "", token).status_code == 200  # the token lives on
        outcomes = [(call["operation"], call["outcome"]) for call in running.journal()]
        assert outcomes == [("Authenticate", "ok"), ("GetTimeZones", "replayed"), ("GetTimeZones", "not_emulated"),
                            ("GetVersion", "ok")]
        # The dashboard shows the replayed call as answered, not as a fault.
        page = requests.get(f"{running.base_url}/_emulator/ui/calls", timeout=30).text
        assert re.search(r'class="outcome outcome-ok" data-field="outcome">replayed<', page), page


def test_serve_with_a_recording_still_refuses_a_call_without_a_live_token(tmp_path):
    recorded = tmp_path / "tenant.har"
    recorded_time_zones(recorded)
    with run_emulator(Settings(database_url=f"sqlite:///{tmp_path / 'e.db'}", recording=str(recorded))) as running:
        answer = requests.post(running.soap_url, data=soap_body("GetTimeZones", "5f0c33c8-7b0e-4b8c-a0a5-1d2b3c4d5e6f"),
                               headers={"Content-Type": "text/xml; charset=utf-8",
                                        "SOAPAction": f'"{XWEB}GetTimeZones"'}, timeout=30)
        assert answer.status_code == 500 and "InvalidTokenExceptionInfo" in answer.text
