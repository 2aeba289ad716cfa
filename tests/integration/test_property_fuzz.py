"""Property-based fuzz (issue 25): for every operation of every vendor's table, on each of its wires, and every route
of the control plane, a valid request mutated by Hypothesis (tests/request_strategies.py). Whatever it is, the answer
is the vendor's (an xWeb fault or result, SAP's SOAP, CRM.COM's envelope) or, on the control plane, JSON with a 4xx
for a refusal: never the internal error, never Python's words; and a refused request writes nothing.

`make test` runs the bounded profile (conftest.py); `make fuzz` the long one, its example database kept in
.hypothesis/ so that a finding replays (docs/reliability.md).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

import fuzzing
from request_strategies import SOAP11, form, garbled, mutated, neutral, text_of, to_json, to_xml, xml_element
from support import XWEB, snapshot
from xweb_emulator.control.routes import ControlPlane
from xweb_emulator.crmcom.operations import OPERATIONS as CRMCOM_OPERATIONS
from xweb_emulator.sap.operations import OPERATIONS as SAP_OPERATIONS
from xweb_emulator.sap.operations import NAMESPACE as SAP_NAMESPACE
from xweb_emulator.crmcom.rest import PREFIX as CRMCOM_API_PATH
from xweb_emulator.sap.vendor import SERVICE_PATH as SAP_SOAP_PATH
from xweb_emulator.xweb.vendor import SOAP_PATH as XWEB_SOAP_PATH
from xweb_emulator.xweb.operations import OPERATIONS as XWEB_OPERATIONS

FIXTURES = Path(__file__).parents[1] / "fixtures"
# What any call may change: the journal, tokens and the count of authentication attempts.
CALL_VOLATILE = frozenset({"emulator_journal", "xweb_token", "xweb_auth_failure", "crmcom_token"})
# A vendor call may also draw fault rules; the control plane's own state (rules, the clock) must stay as it was.
VENDOR_VOLATILE = CALL_VOLATILE | {"emulator_fault_rule", "emulator_clock"}
XWEB_EMULATED = sorted(name for name, operation in XWEB_OPERATIONS.items() if operation.emulated)


@dataclass
class Sent:
    """A request as the fuzz sends it, and what the endpoint family calls a refusal."""

    endpoint: str  # fuzzing's names: xweb-soap, xweb-json, xweb-http, sap, crmcom, control
    method: str
    path: str
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    auth: tuple[str, str] | None = None


class Fuzzed:
    """The served emulator with what the fuzz needs of it: the demo records' keys, valid base requests, tokens (taken
    again after a reset)."""

    def __init__(self, emulator) -> None:
        self.emulator = emulator
        self.http = requests.Session()
        self._tokens: dict[str, str] = {}
        self.refresh()
        state = lambda name, **filters: emulator.state("xweb", name, **filters)  # noqa: E731
        self.keys = {
            "customer": state("Customer", cst_type="Individual")[0]["cst_key"],
            "email": state("Email")[0]["eml_key"],
            "phone": state("CustomerPhone")[0]["cph_key"],
            "mailing_list": state("MailingList")[0]["mlt_key"],
        }

    def refresh(self) -> None:
        self.emulator.reset()
        self._tokens.clear()

    def xweb_token(self) -> str:
        if "xweb" not in self._tokens:
            self._tokens["xweb"] = self.emulator.authenticate()
        return self._tokens["xweb"]

    def crmcom_token(self) -> str:
        if "crmcom" not in self._tokens:
            settings = self.emulator.settings
            response = requests.post(self.emulator.crmcom_url("authentication/token"), timeout=30, json={
                "username": settings.crmcom_user, "password": settings.crmcom_password,
                "organisation": settings.crmcom_organisation})
            self._tokens["crmcom"] = response.json()["data"]["token"]
        return self._tokens["crmcom"]

    @property
    def xweb_user(self) -> tuple[str, str]:
        return self.emulator.settings.xweb_user, self.emulator.settings.xweb_password

    # ----------------------------------------------------------------------------------- valid base requests

    def xweb_params(self, operation_name: str) -> dict[str, Any]:
        """Valid parameters of an xWeb operation, by the parameters' names and .NET types in its table entry."""
        operation = XWEB_OPERATIONS[operation_name]
        return {name: self._xweb_value(operation_name, name, kind)
                for name, kind in zip(operation.parameter_names, operation.parameter_types)}

    def _xweb_value(self, operation: str, name: str, kind: str) -> Any:
        customer = self.keys["customer"]
        by_name = {
            "userName": self.emulator.settings.xweb_user, "password": self.emulator.settings.xweb_password,
            "szObjectName": "CustomerMessagingActivity" if operation == "InsertFacadeObject" else "Individual",
            "szObjectKey": customer, "szColumnList": "ind_cst_key, ind_last_name",
            "szWhereClause": "ind_last_name = 'Somewhere'", "szOrderBy": "ind_last_name",
            "IndividualKey": customer, "customerKey": customer, "CustomerKey": customer,
            "preferenceTypeKey": self.keys["mailing_list"],
            "preferences": [{"mailing_list_key": self.keys["mailing_list"], "status": "OptIn"}],
        }
        if name in by_name:
            return by_name[name]
        if kind == "Guid":
            return self.keys[{"WEBEmailGet": "email", "WEBPhoneGet": "phone"}.get(operation, "customer")]
        if kind == "XmlNode":
            if operation == "InsertFacadeObject":
                return {"CustomerMessagingActivityObjects": {"CustomerMessagingActivityObject": {
                    "cma_cst_key": customer, "cma_activity_code": "Opened",
                    "cma_eml_address": "someone@somewhere.com", "cma_activity_date": "03/12/2012 14:44:55"}}}
            return {"IndividualObjects": {"IndividualObject": {"ind_first_name": "Fuzz"}}}
        if kind.endswith("Type"):  # a typed object: as its Get operation answers it, a demo record's
            getter = next((each for each in XWEB_OPERATIONS.values() if each.returns == kind and
                           each.parameters == "Guid key"), None)
            return {} if getter is None else self._xweb_get(getter.name)
        # Any other parameter: a plain value of its type (the mutations start from it; a fault answers it as well).
        plain = {"String": "fuzz", "Int32": 1, "Boolean": False, "DateTime": "2026-12-01T09:00:00", "Decimal": 1}
        if kind in plain:
            return plain[kind]
        if kind.endswith("[]") or kind.startswith("ArrayOf"):
            return []
        raise KeyError(f"no valid value for {operation}'s {kind} {name}: teach Fuzzed._xweb_value one")

    def _xweb_get(self, operation: str) -> dict:
        key = self.keys[{"WEBEmailGet": "email", "WEBPhoneGet": "phone"}.get(operation, "customer")]
        response = requests.post(self.emulator.json_url(operation), json={operation: {"key": key}},
                                 auth=self.xweb_user, timeout=30)
        assert response.status_code == 200, response.text
        return response.json()

    def sap_message(self, operation_name: str) -> dict:
        """The sample message of the operation's bundle, in the neutral form."""
        operation = SAP_OPERATIONS[operation_name]
        sample = re.sub(r"(?<!^)(?=[A-Z])", "_", operation.bundle.name).lower()
        return neutral(etree.fromstring((FIXTURES / "sap" / f"{sample}.request.xml").read_bytes()))

    def crmcom_params(self, method: str) -> dict[str, Any]:
        token = self.crmcom_token()
        event = {"request_unique_identifier": "fuzz", "accounts_receivable_identifier": {"number": "ACR0000000020"},
                 "performed_by_unit_identifier": {"name": "Admin Unit"}, "performed_on": "2016-06-22T15:00:00"}
        settings = self.emulator.settings
        return {
            "authentication/token": {"username": settings.crmcom_user, "password": settings.crmcom_password,
                                     "organisation": settings.crmcom_organisation},
            "customer_events/bulk/web/create": {"token": token, "web_customer_events_set": [event]},
            "customer_events/web/create": {"token": token, **event},
            "customer_events/web/show": {"token": token, "customer_event_identifier": "number=1"},
            "customer_events/web/list": {"token": token, "number_of_results": 5, "offset": 0},
        }[method]

    @staticmethod
    def control_request(endpoint: str, method: str) -> dict[str, Any]:
        """A valid request of a control route: its path's arguments, query and JSON body."""
        rule = {"vendor": "xweb", "action": "latency", "latency_ms": 1, "operation": "NoSuchOperation", "count": 1}
        return {
            ("health", "GET"): {}, ("coverage", "GET"): {}, ("state_summary", "GET"): {},
            ("reset", "POST"): {"body": {"vendor": "sap"}},
            ("seed", "POST"): {"body": {"xweb": {"Individual": [{"ind_first_name": "A", "ind_last_name": "B"}]}}},
            ("state", "GET"): {"path": {"vendor": "xweb", "object_name": "Customer"},
                               "query": {"cst_type": "Individual", "limit": "5", "offset": "0"}},
            ("requests", "GET"): {"query": {"vendor": "xweb", "operation": "GetVersion", "outcome": "ok",
                                            "after_id": "0", "limit": "10"}},
            ("clear_requests", "DELETE"): {}, ("request_entry", "GET"): {"path": {"entry_id": 1}},
            ("fault_rules", "GET"): {}, ("add_fault_rules", "POST"): {"body": rule},
            ("clear_fault_rules", "DELETE"): {}, ("remove_fault_rule", "DELETE"): {"path": {"rule_id": 1}},
            ("clock", "GET"): {}, ("set_clock", "POST"): {"body": {"advance_seconds": 1}},
            ("reset_clock", "DELETE"): {},
        }[(endpoint, method)]


# Every route of the control plane's URL map (its rules need no emulator to be listed), with each of its verbs.
CONTROL_ROUTES = sorted((rule.rule, rule.endpoint.__name__, method)
                        for rule in ControlPlane(None).urls.iter_rules()
                        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}))


@pytest.fixture(scope="module")
def fuzzed(served) -> Fuzzed:
    return Fuzzed(served)


def check(fuzzed: Fuzzed, sent: Sent, volatile: frozenset[str], refused: Callable[[requests.Response], bool]) -> None:
    """Send; the answer in its vendor's shape and words, never the internal error; nothing written if refused.
    A request that was carried out and changed the state is undone by a reset, for the next example."""
    before = snapshot(fuzzed.emulator, volatile)
    started = time.perf_counter()
    response = fuzzed.http.request(sent.method, fuzzed.emulator.base_url + sent.path, data=sent.body,
                                   headers=sent.headers, auth=sent.auth, timeout=fuzzing.DEADLINE_SECONDS + 5)
    findings = fuzzing.Findings()
    fuzzing.check(fuzzing.Case(sent.endpoint, sent.method, sent.path, sent.body, sent.headers, sent.auth),
                  response, time.perf_counter() - started, findings)
    assert findings.problems == [], "\n".join(findings.problems)
    after = snapshot(fuzzed.emulator, volatile)
    if refused(response):
        assert after == before, f"a refused request changed the database: {response.text[:300]}"
    elif after != before:
        fuzzed.refresh()


# ------------------------------------------------------------------------------------------------------ xWeb


def _xweb_refused(response: requests.Response) -> bool:
    return response.status_code != 200


@given(data=st.data(), operation=st.sampled_from(XWEB_EMULATED), wire=st.sampled_from(["soap", "json", "http"]))
def test_xweb_answers_every_mutated_request_as_xweb_does(fuzzed: Fuzzed, data, operation, wire):
    table_entry = XWEB_OPERATIONS[operation]
    if wire == "http" and not table_entry.http_bindings:
        wire = "soap"
    params = data.draw(mutated(fuzzed.xweb_params(operation)) if table_entry.parameter_names else st.just({}),
                       label="params")
    if wire == "soap":
        token = "" if not table_entry.takes_token else (
            "<soap:Header><x:AuthorizationToken><x:Token>" + fuzzed.xweb_token()
            + "</x:Token></x:AuthorizationToken></soap:Header>")
        inner = xml_element(operation, params if isinstance(params, dict) else {"_": params}).replace(
            f"<{operation}>", f'<{operation} xmlns="{XWEB}">', 1)
        body = data.draw(garbled(to_xml(f'<soap:Envelope xmlns:soap="{SOAP11}" xmlns:x="{XWEB}">{token}'
                                        f"<soap:Body>{inner}</soap:Body></soap:Envelope>")), label="body")
        sent = Sent("xweb-soap", "POST", XWEB_SOAP_PATH, body,
                    {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{XWEB}{operation}"'})
    elif wire == "json":
        body = data.draw(garbled(to_json({operation: params})), label="body")
        sent = Sent("xweb-json", "POST", f"/xWeb/JSON/{operation}", body, {"Content-Type": "application/json"},
                    fuzzed.xweb_user)
    else:
        pairs = form(params if isinstance(params, dict) else {"_": params})
        if data.draw(st.booleans(), label="get"):
            sent = Sent("xweb-http", "GET", f"{XWEB_SOAP_PATH}/{operation}?{pairs}")
        else:
            sent = Sent("xweb-http", "POST", f"{XWEB_SOAP_PATH}/{operation}", data.draw(garbled(pairs.encode())),
                        {"Content-Type": "application/x-www-form-urlencoded"})
    check(fuzzed, sent, VENDOR_VOLATILE, _xweb_refused)


# ------------------------------------------------------------------------------------------------------- SAP


@given(data=st.data(), operation=st.sampled_from(sorted(SAP_OPERATIONS)))
def test_sap_answers_every_mutated_request_as_sap_does(fuzzed: Fuzzed, data, operation):
    table_entry = SAP_OPERATIONS[operation]
    message = data.draw(mutated(fuzzed.sap_message(operation)), label="message")
    root = xml_element(table_entry.request_element, message if isinstance(message, dict) else {"_": message})
    root = root.replace(f"<{table_entry.request_element}", f'<n0:{table_entry.request_element} '
                        f'xmlns:n0="{SAP_NAMESPACE}"', 1)
    root = root[:root.rindex("</")] + f"</n0:{table_entry.request_element}>"
    body = data.draw(garbled(to_xml(f'<soapenv:Envelope xmlns:soapenv="{SOAP11}"><soapenv:Header/><soapenv:Body>'
                                    f"{root}</soapenv:Body></soapenv:Envelope>")), label="body")
    settings = fuzzed.emulator.settings
    sent = Sent("sap", "POST", SAP_SOAP_PATH, body,
                {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{table_entry.soap_action}"'},
                (settings.sap_user, settings.sap_password))
    check(fuzzed, sent, VENDOR_VOLATILE, lambda response: response.status_code != 200)


# --------------------------------------------------------------------------------------------------- CRM.COM


def _crmcom_refused(response: requests.Response) -> bool:
    return response.json()["status"]["code"] != "OK"


@given(data=st.data(), method=st.sampled_from(sorted(CRMCOM_OPERATIONS)))
def test_crmcom_answers_every_mutated_request_in_its_envelope(fuzzed: Fuzzed, data, method):
    table_entry = CRMCOM_OPERATIONS[method]
    params = data.draw(mutated(fuzzed.crmcom_params(method)), label="params")
    path = CRMCOM_API_PATH + method
    if table_entry.verb == "GET":
        sent = Sent("crmcom", "GET", f"{path}?{form(params if isinstance(params, dict) else {'_': params})}")
    else:
        sent = Sent("crmcom", "POST", path, data.draw(garbled(to_json(params)), label="body"),
                    {"Content-Type": "application/json"})
    check(fuzzed, sent, VENDOR_VOLATILE, _crmcom_refused)


# --------------------------------------------------------------------------------------------- control plane


@given(data=st.data(), route=st.sampled_from(CONTROL_ROUTES))
def test_the_control_plane_answers_every_mutated_request_with_json(fuzzed: Fuzzed, data, route):
    template, endpoint, method = route
    request = data.draw(mutated(Fuzzed.control_request(endpoint, method)) if Fuzzed.control_request(
        endpoint, method) else st.just({}), label="request")
    if not isinstance(request, dict):
        request = {"body": request}
    arguments = request.get("path") if isinstance(request.get("path"), dict) else {}
    path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda match: quote(
        text_of(arguments.get(match.group(1), "")).encode("utf-8", "surrogatepass"), safe=""), template)
    query = request.get("query")
    if isinstance(query, dict) and query:
        path += "?" + form(query)
    body = data.draw(garbled(to_json(request["body"])), label="body") if "body" in request else b""
    sent = Sent("control", method, path, body, {"Content-Type": "application/json"})
    check(fuzzed, sent, CALL_VOLATILE, lambda response: response.status_code >= 400)
