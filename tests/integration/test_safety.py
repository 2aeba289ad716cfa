"""What a hostile or merely unlucky client meets (issue 13): an answer that cannot be written rolls the call back and
is journalled; input no vendor stack would read is refused in the vendor's words before anything runs."""

from __future__ import annotations

import json

import pytest
import requests

from control_support import journal, json_call
from crmcom_support import event, login, nothing_written, refused
from support import SAMPLE_CUSTOMER, SOAP_ENV, XWEB, Emulator, fault

BULK = "customer_events/bulk/web/create"
JSON_HEADERS = {"Content-Type": "application/json"}


def _bulk_body(token: str, identifier: str) -> str:
    # json.dumps writes a lone surrogate as the escape \\udfff, as the client sent it.
    return json.dumps({"token": token, "web_customer_events_set": [event(identifier)]})


# ------------------------------------------------------------------ defect 1: an answer that cannot be written


def test_a_lone_surrogate_is_refused_as_unreadable_and_nothing_is_stored(emulator: Emulator):
    token = login(emulator)
    with nothing_written(emulator):
        response = requests.post(emulator.crmcom_url(BULK), data=_bulk_body(token, "bad-\udfff"),
                                 headers=JSON_HEADERS, timeout=30)
    refused(response, "InvalidJSONException", "Invalid Unicode Escape")
    (entry,) = journal(emulator, vendor="crmcom", operation=BULK)
    assert (entry["outcome"], entry["status"]) == ("InvalidJSONException", 200)


@pytest.mark.parametrize("body, phrase", [
    ('{"GetVersion": {"x": "bad-\\udfff"}}', "Bad JSON escape sequence: \\udfff."),
    (b'{"GetVersion": {"x": "\xff"}}', "Unexpected character encountered while parsing value"),
    ("[" * 5000 + "]" * 5000, "The reader's MaxDepth of 64 has been exceeded."),
    ('{"a":' * 100 + "1" + "}" * 100, "The reader's MaxDepth of 64 has been exceeded."),
    ("x", "Unexpected character encountered while parsing value: x. Path '', line 1, position 1."),
    ('{"GetVersion": ', "Unexpected end when reading JSON."),
])
def test_xweb_json_refuses_unreadable_bodies_in_json_nets_words(emulator: Emulator, body, phrase):
    with emulator.nothing_written():
        response = requests.post(emulator.json_url("GetVersion"), data=body, headers=JSON_HEADERS,
                                 auth=(emulator.settings.xweb_user, emulator.settings.xweb_password), timeout=30)
    assert response.status_code == 400, response.text
    assert phrase in response.json()["SystemExceptionInfo"]["XWebException"]["Message"], response.text
    (entry,) = journal(emulator, vendor="xweb")
    assert entry["status"] == 400


@pytest.mark.parametrize("body", ["[" * 100000, '{"token": ' * 3000, b'{"token": "\xc3\x28"}',
                                  '{"token": "\\ud800"}'])
def test_crmcom_refuses_unreadable_bodies_in_the_envelope(emulator: Emulator, body):
    with nothing_written(emulator):
        response = requests.post(emulator.crmcom_url(BULK), data=body, headers=JSON_HEADERS, timeout=30)
    status = refused(response, "InvalidJSONException")
    assert "Expecting" not in status["message"] and "char " not in status["message"]
    (entry,) = journal(emulator, vendor="crmcom")
    assert entry["outcome"] == "InvalidJSONException"


# ------------------------------------------------------------------ defect 3: configured users are the only users


def test_a_user_no_longer_configured_is_removed_with_its_tokens(emulator: Emulator, emulator_with):
    old_soap_token = emulator.authenticate()
    old_crmcom_token = login(emulator)
    demo = emulator.settings

    other = emulator_with(xweb_user="other", xweb_password="other-pw", crmcom_user="other",
                          crmcom_password="other-pw")

    for server in (emulator, other):
        refused_login = server.soap("Authenticate", f"<ns:userName>{demo.xweb_user}</ns:userName>"
                                                    f"<ns:password>{demo.xweb_password}</ns:password>")
        assert fault(refused_login)["kind"] == "InvalidCredentialsExceptionInfo"
        basic = requests.post(server.json_url("GetVersion"), json={"GetVersion": {}},
                              auth=(demo.xweb_user, demo.xweb_password), timeout=30)
        assert basic.status_code == 500 and "InvalidCredentials" in basic.text, basic.text
        assert fault(server.soap("GetVersion", token=old_soap_token))["kind"] == "InvalidTokenExceptionInfo"
        refused(requests.post(server.crmcom_url("authentication/token"), timeout=30, json={
            "username": demo.crmcom_user, "password": demo.crmcom_password,
            "organisation": demo.crmcom_organisation}), "InvalidCredentialsException")
        refused(requests.get(server.crmcom_url("customer_events/web/show"), timeout=30,
                             params={"token": old_crmcom_token, "customer_event_identifier": "number=1"}),
                "InvalidTokenException")
    # The configured ones work.
    assert other.authenticate()
    assert login(other)
    assert [user["user_name"] for user in other.state("xweb", "User")] == ["other"]


# ------------------------------------------------------------------ defect 6: a safe control plane


@pytest.mark.parametrize("headers", [
    {"Content-Type": "text/plain", "Origin": "http://evil.example"},
    {"Content-Type": "application/json", "Origin": "http://evil.example"},
    {"Content-Type": "application/json", "Sec-Fetch-Site": "cross-site"},
    {"Content-Type": "text/plain"},
    {"Content-Type": "application/x-www-form-urlencoded"},
])
def test_a_cross_site_or_non_json_control_request_changes_nothing(emulator: Emulator, headers):
    before = emulator.state("crmcom", "WebCustomerEvent")
    response = requests.post(f"{emulator.base_url}/_emulator/reset", data='{"empty": true}', headers=headers,
                             timeout=30)
    assert response.status_code in (403, 415), response.text
    assert response.json()["error"]
    assert emulator.state("crmcom", "WebCustomerEvent") == before


def test_a_same_origin_json_control_request_is_carried_out(emulator: Emulator):
    response = requests.post(f"{emulator.base_url}/_emulator/reset", json={"empty": True},
                             headers={"Origin": emulator.base_url, "Sec-Fetch-Site": "same-origin"}, timeout=30)
    assert response.status_code == 200, response.text
    assert emulator.state("crmcom", "WebCustomerEvent") == []


def test_a_control_token_guards_every_control_request(emulator: Emulator, emulator_with):
    guarded = emulator_with(control_token="s3cret")
    url = f"{guarded.base_url}/_emulator/"
    for method, path in (("GET", "health"), ("GET", "coverage"), ("GET", "state"), ("POST", "reset")):
        response = requests.request(method, url + path, json={} if method == "POST" else None, timeout=30)
        assert response.status_code == 401, response.text
        assert requests.request(method, url + path, json={} if method == "POST" else None, timeout=30,
                                headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert requests.get(url + "health", headers={"Authorization": "Bearer s3cret"}, timeout=30).status_code == 200
    assert requests.get(url + "health", headers={"X-Emulator-Token": "s3cret"}, timeout=30).status_code == 200
    # The testing client sends the token its settings hold.
    assert guarded.health()["status"] == "ready"
    # Vendor calls need no control token.
    assert guarded.authenticate()


def test_passwords_are_neither_shown_nor_journalled(emulator: Emulator):
    settings = emulator.settings
    for vendor, user_object in (("xweb", "User"), ("crmcom", "User")):
        for record in emulator.state(vendor, user_object):
            assert record["password"] == "***"
    emulator.authenticate()
    login(emulator)
    json_call(emulator, "Authenticate", {"userName": settings.xweb_user, "password": settings.xweb_password},
              basic=False)
    bodies = [entry["request"]["body"] for entry in journal(emulator)]
    assert len(bodies) == 3
    for body in bodies:
        assert "***" in body, body
        assert f"password>{settings.xweb_password}<" not in body, body
        assert f'"password": "{settings.crmcom_password}"' not in body.replace('":"', '": "'), body


def test_a_warning_when_the_control_plane_is_exposed_without_a_token():
    from xweb_emulator.server import exposure_warning
    from xweb_emulator.settings import Settings

    assert exposure_warning(Settings(host="0.0.0.0"))
    assert exposure_warning(Settings(host="192.168.1.5"))
    assert exposure_warning(Settings(host="127.0.0.1")) is None
    assert exposure_warning(Settings(host="::1")) is None
    assert exposure_warning(Settings(host="0.0.0.0", control_token="x")) is None
    assert exposure_warning(Settings(host="0.0.0.0", control_plane=False)) is None


# ------------------------------------------------------------------ defect 5: every input gets the vendor's error


@pytest.mark.parametrize("query", ["limit=99999999999999999999", "limit=²", "offset=١٢", "limit=-1",
                                   "after_id=99999999999999999999"])
def test_control_plane_numbers_are_validated(emulator: Emulator, query):
    path = "requests" if "after_id" in query else "state/xweb/Customer"
    response = requests.get(f"{emulator.base_url}/_emulator/{path}?{query}", timeout=30)
    assert response.status_code == 400, response.text
    assert "whole number" in response.json()["error"]


@pytest.mark.parametrize("rule", [{"count": 1e20}, {"count": 10**30}, {"seed": 10**30},
                                  {"retry_after_seconds": 10**30}])
def test_fault_rule_numbers_too_large_for_a_database_are_a_400(emulator: Emulator, rule):
    response = requests.post(f"{emulator.base_url}/_emulator/faults", timeout=30,
                             json={"vendor": "xweb", "action": "throttle", **rule})
    assert response.status_code == 400, response.text
    assert emulator.fault_rules() == []


@pytest.mark.parametrize("value", ["99999999999999999999", "١٢"])
def test_a_state_filter_out_of_range_is_a_400(emulator: Emulator, value):
    response = requests.get(f"{emulator.base_url}/_emulator/state/xweb/AuthenticationFailures",
                            params={"failures": value}, timeout=30)
    assert response.status_code == 400, response.text


INTERNAL_WORDING = ("Error:", "Error(", "<string>", "XML_PARSE", "libxml", "Traceback", "codec", "NoneType",
                    "xmlParse", "Expecting")


@pytest.mark.parametrize("body", [b"", b"x", b"<a>", b"\xff\xfe<a/>", b"<a>&#0;</a>",
                                  ("<a>" * 400 + "</a>" * 400).encode(),
                                  b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">'
                                  b"<soap:Body></soap:Body></soap:Envelope>"])
def test_unreadable_xml_is_refused_in_dotnets_words(emulator: Emulator, body):
    with emulator.nothing_written():
        response = emulator.post_soap("GetVersion", body)
    assert response.status_code == 500, response.text
    text = response.text
    assert "Server was unable to read request. ---&gt; " in text, text
    assert "Root element is missing." in text or "There is an error in XML document (" in text, text
    assert not any(phrase in text.replace("soap:Client", "") for phrase in INTERNAL_WORDING), text
    (entry,) = journal(emulator, vendor="xweb")
    assert entry["status"] == 500 and entry["outcome"] != "HTTP 500"


# ------------------------------------------------------------------ NUL, which no PostgreSQL text holds

NUL_ACTIVITY = {"szObjectName": "CustomerMessagingActivity", "oNode": {"CustomerMessagingActivityObjects": {
    "CustomerMessagingActivityObject": {"cma_cst_key": SAMPLE_CUSTOMER, "cma_activity_code": "Op\u0000ened",
                                        "cma_eml_address": "someone@somewhere.com",
                                        "cma_activity_date": "03/12/2012 14:44:55"}}}}


def _failure_counts(emulator: Emulator) -> list[dict]:
    return emulator.state("xweb", "AuthenticationFailures")


@pytest.mark.parametrize("method, params", [
    ("Authenticate", {"userName": "demo\u0000", "password": "demo"}),
    ("InsertFacadeObject", NUL_ACTIVITY),
    ("GetVersion", {"x\u0000": 1}),
], ids=["Authenticate", "InsertFacadeObject", "a member's name"])
def test_xweb_json_refuses_a_nul_as_unreadable_and_writes_nothing(emulator: Emulator, method, params):
    with emulator.nothing_written():
        response = json_call(emulator, method, params)
    assert response.status_code == 400, response.text
    message = response.json()["SystemExceptionInfo"]["XWebException"]["Message"]
    assert message.startswith("Bad JSON escape sequence: \\u0000. Path '', line 1, position "), message
    assert _failure_counts(emulator) == []
    (entry,) = journal(emulator, vendor="xweb")
    assert entry["status"] == 400


@pytest.mark.parametrize("where", ["event", "token"])
def test_crmcom_refuses_a_nul_as_unreadable_and_writes_nothing(emulator: Emulator, where):
    token = login(emulator)
    body = {"token": token + "\u0000" if where == "token" else token,
            "web_customer_events_set": [event(website="www.crm.com\u0000" if where == "event" else "www.crm.com")]}
    with nothing_written(emulator):
        response = requests.post(emulator.crmcom_url(BULK), json=body, timeout=30)
    refused(response, "InvalidJSONException", "Invalid Unicode Escape")
    (entry,) = journal(emulator, vendor="crmcom", operation=BULK)
    assert entry["outcome"] == "InvalidJSONException"


@pytest.mark.parametrize("path, body", [
    ("faults", {"vendor": "xweb", "action": "throttle", "operation": "GetVersion\u0000"}),
    ("seed", {"crmcom": {"AccountsReceivable": [{"number": "ACR\u0000", "name": "x"}]}}),
])
def test_the_control_plane_refuses_a_nul_in_json(emulator: Emulator, path, body):
    before = emulator.state("crmcom", "AccountsReceivable")
    response = requests.post(f"{emulator.base_url}/_emulator/{path}", json=body, timeout=30)
    assert response.status_code == 400, response.text
    assert "\\u0000" in response.json()["error"], response.text
    assert emulator.fault_rules() == []
    assert emulator.state("crmcom", "AccountsReceivable") == before


@pytest.mark.parametrize("nul", [b"&#0;", b"&#x0;", b"\x00"], ids=["decimal reference", "hex reference", "raw"])
def test_a_nul_in_xml_is_refused_in_dotnets_words(emulator: Emulator, nul):
    envelope = (f'<soap:Envelope xmlns:soap="{SOAP_ENV}" xmlns:x="{XWEB}"><soap:Body><x:Authenticate>'
                "<x:userName>demo").encode() + nul + b"</x:userName><x:password>demo</x:password></x:Authenticate>" \
        b"</soap:Body></soap:Envelope>"
    with emulator.nothing_written():
        response = emulator.post_soap("Authenticate", envelope)
    text = fault(response)["faultstring"]
    assert "Server was unable to read request. ---> There is an error in XML document (1, " in text, text
    assert "---> '.', hexadecimal value 0x00, is an invalid character. Line 1, position " in text, text
    assert not any(phrase in text for phrase in INTERNAL_WORDING), text
    assert _failure_counts(emulator) == []


def test_a_nul_in_sap_xml_is_a_client_fault_in_the_same_words(emulator: Emulator):
    body = (f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}"><soapenv:Body><x>&#0;</x></soapenv:Body>'
            "</soapenv:Envelope>")
    response = requests.post(emulator.sap_url, data=body, auth=(emulator.settings.sap_user,
                                                                emulator.settings.sap_password),
                             headers={"Content-Type": "text/xml; charset=utf-8"}, timeout=30)
    assert response.status_code == 500, response.text
    text = response.text
    assert "The request could not be read: There is an error in XML document (1, " in text, text
    assert "'.', hexadecimal value 0x00, is an invalid character." in text, text
    assert (journal(emulator, vendor="sap")[0]["outcome"]) == "SOAPFault"


# Values that come in no document: a query string, a form, HTTP Basic.

def test_xweb_json_refuses_a_nul_in_a_query_string_or_basic_credentials(emulator: Emulator):
    settings = emulator.settings
    with emulator.nothing_written():
        by_query = requests.get(emulator.json_url("Authenticate"), timeout=30,
                                params={"userName": settings.xweb_user + "\x00", "password": settings.xweb_password})
        by_basic = requests.post(emulator.json_url("GetVersion"), json={"GetVersion": {}}, timeout=30,
                                 auth=(settings.xweb_user + "\x00", settings.xweb_password))
    for response, name in ((by_query, "userName"), (by_basic, "Authorization")):
        assert response.status_code == 400, response.text
        message = response.json()["SystemExceptionInfo"]["XWebException"]["Message"]
        assert message == f"Invalid value for {name}: it holds a NUL character (\\u0000).", message
    assert _failure_counts(emulator) == []
    assert [entry["status"] for entry in journal(emulator, vendor="xweb")] == [400, 400]


@pytest.mark.parametrize("verb", ["GET", "POST"])
def test_xweb_http_bindings_refuse_a_nul(emulator: Emulator, verb):
    settings = emulator.settings
    params = {"userName": settings.xweb_user + "\x00", "password": settings.xweb_password}
    url = f"{emulator.soap_url}/Authenticate"
    with emulator.nothing_written():
        response = (requests.get(url, params=params, timeout=30) if verb == "GET"
                    else requests.post(url, data=params, timeout=30))
    assert response.status_code == 500, response.text
    assert response.text.startswith("System.InvalidOperationException: Invalid value for userName: it holds a NUL "
                                    "character (\\u0000).\r\n"), response.text
    assert _failure_counts(emulator) == []


@pytest.mark.parametrize("params", [{"customer_event_identifier": "number=1\x00"}, {"token\x00": ""}, {}],
                         ids=["value", "name", "token"])
def test_crmcom_refuses_a_nul_in_a_query_string(emulator: Emulator, params):
    token = login(emulator)
    query = {"token": token + "\x00" if not params else token, "customer_event_identifier": "number=1", **params}
    response = requests.get(emulator.crmcom_url("customer_events/web/show"), params=query, timeout=30)
    name = next(name for name, value in query.items() if "\x00" in name + value).replace("\x00", "\\u0000")
    refused(response, "InvalidAPIValueException", f"Parameter ({name}) Holds A NUL Character.")


@pytest.mark.parametrize("path, params", [
    ("state/xweb/Customer", {"cst_name_cp": "a\x00"}),
    ("requests", {"operation": "a\x00"}),
    ("ui/records/xweb/Customer", {"cst_name_cp": "a\x00"}),
    ("ui/calls", {"operation": "a\x00"}),
])
def test_the_control_plane_and_the_dashboard_refuse_a_nul_in_a_query_string(emulator: Emulator, path, params):
    response = requests.get(f"{emulator.base_url}/_emulator/{path}", params=params, timeout=30)
    assert response.status_code == 400, response.text
    assert "holds a NUL character (\\u0000)" in (response.text if "ui/" in path else response.json()["error"]), \
        response.text
