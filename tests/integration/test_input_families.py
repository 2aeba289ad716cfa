"""The families an outside fuzz found (issue 25), one test each on both backends: numbers of thousands of digits,
bytes that are no UTF-8 and text beyond Latin-1, and control requests naming what does not exist or giving a value
a column cannot hold. Each is refused in its vendor's words (the control plane: a 4xx with its JSON error), never
with the internal error, and writes nothing."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import requests

import fuzzing
from control_support import control, refusal
from crmcom_support import login, refused
from sap_support import message, post as sap_post, soap_fault
from support import SAMPLE_CUSTOMER, Emulator, snapshot
from xweb_emulator.inputs import MAX_DIGITS

HUGE = "9" * 5000
"""Beyond the 4,300 digits Python converts: int() of it raises ValueError."""
JSON = {"Content-Type": "application/json"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
INTERNAL = (fuzzing.GENERIC_500, *fuzzing.internal_errors())
BULK = "customer_events/bulk/web/create"
ASMX = "/xWeb/secure/netForumXML.asmx"


@contextmanager
def nothing_written(emulator: Emulator) -> Iterator[None]:
    """Every table as it was, fault rules and the clock included (a call may only journal, issue a token and count
    an authentication attempt)."""
    volatile = frozenset({"emulator_journal", "xweb_token", "xweb_auth_failure"})
    before = snapshot(emulator, volatile)
    yield
    assert snapshot(emulator, volatile) == before, "a refused request changed the database"


def not_internal(response: requests.Response) -> str:
    text = response.content.decode("utf-8", "replace")
    assert not any(phrase in text for phrase in INTERNAL), text[:500]
    return text


def xweb_json_message(response: requests.Response, status: int = 400) -> str:
    assert response.status_code == status, response.text[:500]
    (detail,) = response.json().values()
    return detail["XWebException"]["Message"]


def xweb_json(emulator: Emulator, method: str, body: str | bytes) -> requests.Response:
    return requests.post(emulator.json_url(method), data=body, headers=JSON, timeout=60,
                         auth=(emulator.settings.xweb_user, emulator.settings.xweb_password))


# ------------------------------------------------------------------------------ numbers of thousands of digits


@pytest.mark.parametrize("method, body", [
    ("GetQuery", '{"GetQuery": {"szObjectName": "Individual", "szColumnList": "ind_cst_key", "szWhereClause": %s}}'),
    ("WEBPhoneUpdate", '{"WEBPhoneUpdate": {"oFacadeObject": {"CurrentKey": "ae0c81e1-4af5-43bb-95f1-221459c07a80", '
                       '"Phone_XRef": {"cph_key": "ae0c81e1-4af5-43bb-95f1-221459c07a80", "cph_primary": %s}}}}'),
])
def test_xweb_json_refuses_a_number_of_thousands_of_digits_in_json_nets_words(emulator: Emulator, method, body):
    with nothing_written(emulator):
        response = xweb_json(emulator, method, body % HUGE)
    assert xweb_json_message(response).startswith("JSON integer 999999999999…9999 is too large or small for an "
                                                  "Int64. Path '', line 1, position ")


@pytest.mark.parametrize("wire", ["soap", "json"])
def test_a_query_literal_of_thousands_of_digits_is_refused_as_sql_server_refuses_it(emulator: Emulator, wire):
    where = f"ind_cst_key = {HUGE}"
    if wire == "soap":
        response = emulator.soap("GetQuery", "<ns:szObjectName>Individual</ns:szObjectName><ns:szColumnList>"
                                             f"ind_cst_key</ns:szColumnList><ns:szWhereClause>{where}"
                                             "</ns:szWhereClause>", emulator.authenticate())
        assert response.status_code == 500
        assert "is out of the range for numeric representation (maximum precision 38)." in not_internal(response)
    else:
        response = xweb_json(emulator, "GetQuery", json.dumps({"GetQuery": {
            "szObjectName": "Individual", "szColumnList": "ind_cst_key", "szWhereClause": where}}))
        assert xweb_json_message(response, 500).endswith("(maximum precision 38).")


def test_an_integer_a_column_cannot_hold_is_an_arithmetic_overflow(emulator: Emulator):
    # A smallint flag given 70000: PostgreSQL refused the row (a bare 500); SQL Server's words, and nothing stored.
    body = json.dumps({"WEBPhoneUpdate": {"oFacadeObject": {
        "CurrentKey": "ae0c81e1-4af5-43bb-95f1-221459c07a80",
        "Phone_XRef": {"cph_key": "ae0c81e1-4af5-43bb-95f1-221459c07a80", "cph_primary": "70000"}}}})
    with nothing_written(emulator):
        response = xweb_json(emulator, "WEBPhoneUpdate", body)
    assert "Arithmetic overflow error converting expression to data type smallint." in xweb_json_message(
        response, 500)


@pytest.mark.parametrize("method, params", [
    ("WEBEmailUpdate", {"oFacadeObject": {"CurrentKey": "5b0d9b1e-4c1a-4f43-9a9e-0d6f4a2c7e01",
                                          "Email": {"eml_invalid_flag": ""}}}),
    ("WEBPhoneInsert", {"oFacadeObject": {"Phone_XRef": {"cph_cst_key": SAMPLE_CUSTOMER, "cph_unlisted_flag": ""},
                                          "Phone": {"phn_number": "800-555-9999"}}}),
    ("InsertFacadeObject", {"szObjectName": "Individual", "oNode": {"IndividualObjects": {"IndividualObject": {
        "ind_first_name": "A", "ind_last_name": "B", "ind_deceased_flag": ""}}}}),
])
def test_an_empty_element_for_a_column_that_holds_no_null_is_refused_as_sql_server_does(emulator: Emulator, method,
                                                                                         params):
    # A flag sent empty was a null the database refused (the internal error): found by the property fuzz.
    with nothing_written(emulator):
        response = xweb_json(emulator, method, json.dumps({method: params}))
    message_text = xweb_json_message(response, 500)
    assert message_text.startswith("Cannot insert the value NULL into column '") and \
        message_text.endswith("'; column does not allow nulls. UPDATE fails." if "Update" in method
                              else "column does not allow nulls. INSERT fails."), message_text


@pytest.mark.parametrize("where", ["bulk", "list", "show", "login"])
def test_crmcom_refuses_a_number_of_thousands_of_digits_in_the_envelope(emulator: Emulator, where):
    token = login(emulator)
    with nothing_written(emulator):
        if where == "show":
            response = requests.get(emulator.crmcom_url("customer_events/web/show"), timeout=30, params={
                "token": token, "customer_event_identifier": f"number={HUGE}"})
            refused(response, "NotFoundAPIValueException")
            return
        method, body = {
            "bulk": (BULK, f'{{"token": "{token}", "web_customer_events_set": [{{"performed_on": {HUGE}}}]}}'),
            "list": ("customer_events/web/list", f'{{"token": "{token}", "number_of_results": {HUGE}}}'),
            "login": ("authentication/token", f'{{"username": {HUGE}, "password": "x", "organisation": "x"}}'),
        }[where]
        response = requests.post(emulator.crmcom_url(method), data=body, headers=JSON, timeout=30)
    refused(response, "InvalidJSONException", f"A Number Has More Than {MAX_DIGITS} Digits (Line 1, Column ")


def test_crmcom_refuses_a_numeric_string_of_thousands_of_digits_as_no_integer(emulator: Emulator):
    token = login(emulator)
    response = requests.post(emulator.crmcom_url("customer_events/web/list"), timeout=30,
                             json={"token": token, "number_of_results": HUGE})
    refused(response, "InvalidAPIValueTypeException", "Parameter (number_of_results) Is Not An Integer.")


@pytest.mark.parametrize("method, path, body", [
    ("POST", "faults", f'{{"vendor": "xweb", "action": "throttle", "count": {HUGE}}}'),
    ("POST", "faults", f'{{"vendor": "xweb", "action": "latency", "latency_ms": {HUGE}}}'),
    ("POST", "clock", f'{{"advance_seconds": {HUGE}}}'),
    ("POST", "clock", f'{{"offset_seconds": {"9" * 309}}}'),  # past a double's range: found by the property fuzz
    ("POST", "seed", f'{{"xweb": {{"Individual": [{{"ind_first_name": "A", "ind_last_name": "B", '
                     f'"cst_recno": {HUGE}}}]}}}}'),
    ("POST", "reset", f'{{"empty": {HUGE}}}'),
    ("GET", f"requests?limit={HUGE}", None),
    ("GET", f"requests?after_id={HUGE}", None),
    ("GET", f"state/xweb/Customer?cst_recno={HUGE}", None),
    ("GET", f"state/xweb/Customer?limit={HUGE}", None),
])
def test_the_control_plane_refuses_a_number_of_thousands_of_digits_with_a_400(emulator: Emulator, method, path,
                                                                              body):
    with nothing_written(emulator):
        response = control(emulator, method, path, data=body, headers=JSON)
    message = refusal(response)
    assert "JSON integer 999999999999…9999 is too large" in message or "must be a whole number" in message or \
        "cst_recno takes int values" in message or "the clock would leave the years 1 to 9999" in message, message


@pytest.mark.parametrize("method, path, status", [
    ("GET", "requests?after_id=2147483648", 400), ("GET", "requests/2147483648", 404),
    ("DELETE", "faults/2147483648", 404), ("GET", "ui/calls/2147483648", 404),
    ("GET", "ui/calls?before_id=2147483648", 200),
])
def test_an_id_no_journal_entry_or_fault_rule_can_have_is_no_internal_error(emulator: Emulator, method, path, status):
    # Past a 32-bit key, PostgreSQL refused the comparison (the internal error): found by the property fuzz.
    response = control(emulator, method, path, headers={"Origin": emulator.base_url})
    assert response.status_code == status, response.text[:300]
    if not path.startswith("ui/") and status >= 400:
        refusal(response, status)


def test_the_dashboard_takes_a_page_number_of_thousands_of_digits_as_no_page(emulator: Emulator):
    for path in (f"ui/calls?before_id={HUGE}", f"ui/records/xweb/Customer?page={HUGE}"):
        response = control(emulator, "GET", path)
        assert response.status_code == 200, response.text[:300]


# ------------------------------------------------------------------- bytes that are no UTF-8, text beyond Latin-1


@pytest.mark.parametrize("endpoint", ["xweb-json", "crmcom", "control", "xweb-soap", "sap"])
def test_a_body_that_is_no_utf8_is_refused_in_the_vendors_words(emulator: Emulator, endpoint):
    bad = b"\xff\xfe\xc3("
    with nothing_written(emulator):
        if endpoint == "xweb-json":
            message_text = xweb_json_message(xweb_json(emulator, "GetVersion", b'{"GetVersion": {"x": "' + bad
                                                       + b'"}}'))
            assert message_text.startswith("Unexpected character encountered while parsing value")
        elif endpoint == "crmcom":
            response = requests.post(emulator.crmcom_url("authentication/token"), headers=JSON, timeout=30,
                                     data=b'{"username": "' + bad + b'", "password": "x", "organisation": "x"}')
            refused(response, "InvalidJSONException", "It Is Not UTF-8")
        elif endpoint == "control":
            assert "not valid JSON" in refusal(control(emulator, "POST", "seed", headers=JSON,
                                                       data=b'{"xweb": "' + bad + b'"}'))
        elif endpoint == "xweb-soap":
            response = emulator.soap("GetQueryDefinition", "<ns:szObjectName>Individual</ns:szObjectName>"
                                     .replace("Individual", bad.decode("latin-1")), emulator.authenticate())
            assert response.status_code == 500 and "soap:Client" in not_internal(response)
        else:
            operation = "MaintainFailedDeliveryStatusBundle"
            response = sap_post(emulator, operation, message(operation, "<Campaign>X</Campaign>").replace(b"X", bad))
            assert response.status_code == 500, response.text
            assert soap_fault(response)["faultstring"]


@pytest.mark.parametrize("form", [b"szObjectName=\xff\xfe", b"szObjectName=%ff%fe", b"szObject%ffName=x",
                                  b"szObjectName=%e2%82%ac"])
def test_xweb_http_post_form_fields_that_are_no_utf8_get_asmx_answers(emulator: Emulator, form):
    with nothing_written(emulator):
        response = requests.post(f"{emulator.base_url}{ASMX}/GetQueryDefinition", data=form, headers=FORM,
                                 timeout=30)
    assert response.status_code == 500
    assert response.headers["Content-Type"].startswith("text/plain")
    assert not_internal(response).startswith(("System.Web.Services.Protocols.SoapException",
                                              "System.InvalidOperationException"))


@pytest.mark.parametrize("query", ["x=%ff", "%ff=1", "vendor=%ff&operation=%fe&outcome=%ff", "key=%e2%82%ac"])
@pytest.mark.parametrize("path", [f"{ASMX}/GetQueryDefinition", "/xWeb/JSON/WEBPhoneGet",
                                  "/crmapi/rest/v2/customer_events/web/show", "/_emulator/requests",
                                  "/_emulator/state/xweb/Customer", "/_emulator/ui/calls"])
def test_query_strings_that_are_no_utf8_get_the_vendors_answer(emulator: Emulator, path, query):
    with nothing_written(emulator):
        response = requests.get(f"{emulator.base_url}{path}?{query}", timeout=30,
                                auth=(emulator.settings.xweb_user, emulator.settings.xweb_password))
    not_internal(response)
    if path.startswith("/_emulator/") and "/ui/" not in path:
        assert response.status_code == 200 or refusal(response)
    elif path.startswith("/crmapi/"):
        assert list(response.json()) == ["data", "status"]
    elif path.startswith("/xWeb/JSON/"):
        assert xweb_json_message(response, 500)
    elif path.startswith(ASMX):
        assert response.status_code == 500 and response.text.startswith("System.")


def test_text_beyond_latin1_in_request_headers_gets_the_vendors_answer(emulator: Emulator):
    euro = "\u20ac".encode()
    basic = b"Basic " + base64.b64encode(euro + b":" + euro)
    with nothing_written(emulator):
        for headers in ({"Authorization": basic}, {"Authorization": b"Bearer " + euro}, {"X-Foo": euro},
                        {"Origin": b"http://" + euro}, {"SOAPAction": b'"' + euro + b'"'}):
            answers = [
                requests.post(emulator.json_url("GetVersion"), data=b"{}", timeout=30, headers={**JSON, **headers}),
                requests.post(emulator.soap_url, data=b"<a/>", timeout=30,
                              headers={"Content-Type": "text/xml", **headers}),
                requests.post(emulator.crmcom_url("authentication/token"), data=b"{}", timeout=30,
                              headers={**JSON, **headers}),
                requests.post(f"{emulator.base_url}/_emulator/faults", data=b"{}", timeout=30,
                              headers={**JSON, **headers}),
            ]
            for response in answers:
                not_internal(response)
                for value in response.headers.values():
                    value.encode("latin-1")


# ------------------------------------------------------- control requests naming what is not there, unfit values


@pytest.mark.parametrize("path, phrase", [
    ("state/nope/Customer", "unknown vendor 'nope'"),
    ("state/xweb/Nope", "xweb has no object 'Nope'"),
    ("state/xweb/Customer?nope=1", "Customer has no column nope"),
    ("state/xweb/Customer?cst_key=xyz", "cst_key takes UUID values"),
    ("state/xweb/Customer?cst_add_date=not-a-date", "cst_add_date takes datetime values"),
    ("state/xweb/Customer?cst_recno=99999999999999999999", "cst_recno takes int values"),
    ("state/sap/Customer?internal_id=%ff", None),
])
def test_state_filters_naming_what_is_not_there_or_unfit_values_are_a_400(emulator: Emulator, path, phrase):
    response = control(emulator, "GET", path)
    if phrase is None:  # text a column holds: a filter that matches nothing
        assert response.status_code == 200 and response.json()["count"] == 0, response.text
        return
    assert phrase in refusal(response)


@pytest.mark.parametrize("body", [{"vendor": ["sap"]}, {"vendor": {"name": "sap"}}, {"vendor": 1}, {"vendor": "nope"}])
def test_a_reset_naming_no_vendor_is_a_400(emulator: Emulator, body):
    # A list as the vendor raised TypeError (unhashable) past the check: the property-based fuzz found it.
    with nothing_written(emulator):
        assert "unknown vendor" in refusal(control(emulator, "POST", "reset", json=body))


@pytest.mark.parametrize("seed, phrase", [
    ({"nope": {}}, "unknown vendor 'nope'"),
    ({"xweb": {"Nope": []}}, "Invalid object name 'Nope'."),
    ({"sap": {"Nope": []}}, "unknown object 'Nope'"),
    ({"crmcom": {"Nope": []}}, "Object (Nope) Not Known"),
    ({"xweb": {"Individual": [{"ind_first_name": "a" * 31, "ind_last_name": "B"}]}},
     "ind_first_name holds at most 30 characters."),
    ({"xweb": {"Individual": [{"ind_first_name": "A", "ind_last_name": "B", "cst_recno": 2**40}]}},
     "Arithmetic overflow error converting expression to data type int."),
    ({"sap": {"Customer": [{"InternalID": "C" * 11}]}}, "Customer internal_id: 'CCCCCCCCCCC' is longer than 10"),
    ({"sap": {"Customer": [{"InternalID": 10**30}]}}, "Customer internal_id:"),
    ({"sap": {"Campaign": [{"ID": "X" * 36}]}}, "Campaign id:"),
    ({"crmcom": {"Unit": [{"name": "n" * 1000}]}}, "Unit name (nnnn"),
])
def test_seeds_naming_what_is_not_there_or_unfit_values_are_a_400_and_store_nothing(emulator: Emulator, seed,
                                                                                     phrase):
    with nothing_written(emulator):
        message_text = refusal(control(emulator, "POST", "seed", json=seed))
    assert phrase in message_text


def test_a_seed_that_fits_is_stored(emulator: Emulator):
    # The refusals above are not every seed's: one within every column's bounds is stored.
    response = control(emulator, "POST", "seed", json={
        "sap": {"Customer": [{"InternalID": "C" * 10}]},
        "xweb": {"Individual": [{"ind_first_name": "a" * 30, "ind_last_name": "B", "cst_recno": 2**31 - 1}]}})
    assert response.status_code == 200, response.text
    assert control(emulator, "GET", "state/xweb/Customer?cst_recno=2147483647").json()["count"] == 1
    assert control(emulator, "GET", f"state/xweb/Customer?cst_key={SAMPLE_CUSTOMER}").json()["count"] == 1
