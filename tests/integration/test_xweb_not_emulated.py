"""The vendor's operations the emulator does not emulate (issue 10 part 6), on both database backends.

Every other operation of netFORUM xWeb 2015 is routed on every wire (SOAP by its SOAPAction, the HTTP GET and POST
bindings, the JSON twin) and goes down the one pipeline: the token is checked first, then it is answered with a
SystemExceptionInfo fault saying that it is not emulated, HTTP 500, journalled `not_emulated`, and the token it came
with lives on. The HTTP bindings and the JSON twin read its parameters by the contract first, as any operation's
(what ASMX and the twin refuse before a method runs is refused alike); the SOAP wire reads only its token, whatever
the body holds. A name that is not the vendor's keeps ASP.NET's "unrecognized" answer.
"""

from __future__ import annotations

import pytest
import requests
import zeep
from lxml import etree

from support import NOT_EMULATED_MESSAGE, NS, SHARED, SOAP_ENV, VENDOR_BINDING, XWEB, fault, parse
from xweb_emulator.xweb.operations import NOT_EMULATED, OPERATIONS, VENDOR_OPERATIONS

VENDOR_OPERATIONS_2015 = SHARED / "reference" / "xweb" / "ops2015_docs.txt"
# Operations a connector might reach for: an object's schema, a list, a web user's login.
SAMPLES = ("GetFacadeXMLSchema", "GetTimeZones", "WEBWebUserLogin_Custom")


def envelope(operation: str, token: str | None, body: str = "") -> str:
    header = (f"<soap:Header><x:AuthorizationToken><x:Token>{token}</x:Token></x:AuthorizationToken></soap:Header>"
              if token is not None else "")
    return (f'<soap:Envelope xmlns:soap="{SOAP_ENV}" xmlns:x="{XWEB}">{header}<soap:Body>'
            f"<x:{operation}>{body}</x:{operation}></soap:Body></soap:Envelope>")


def journalled(emulator) -> list[tuple]:
    return [(entry["operation"], entry["outcome"], entry["status"], entry["user"]) for entry in emulator.journal()]


def test_the_vendor_list_holds_every_emulated_operation_and_the_rest_are_not_emulated():
    assert len(VENDOR_OPERATIONS) == len(set(VENDOR_OPERATIONS)) == 262
    assert set(OPERATIONS) <= set(VENDOR_OPERATIONS)
    assert set(NOT_EMULATED) == set(VENDOR_OPERATIONS) - set(OPERATIONS)
    assert set(SAMPLES) <= set(NOT_EMULATED)


def test_the_vendor_list_is_the_2015_services():
    if not VENDOR_OPERATIONS_2015.is_file():
        pytest.skip(f"the vendor's 2015 operation list is not at {VENDOR_OPERATIONS_2015} (../shared is absent)")
    lines = VENDOR_OPERATIONS_2015.read_text(encoding="utf-8").splitlines()
    # "<Operation> :: <documentation>", after the proxy's constructor.
    names = [line.split(" :: ", 1)[0] for line in lines if line.strip() and not line.startswith("__construct")]

    assert sorted(VENDOR_OPERATIONS) == sorted(names)


# --------------------------------------------------------------------------------------------------------- SOAP


@pytest.mark.parametrize("operation", SAMPLES)
@pytest.mark.parametrize("body", [
    "", "<x:szObjectName>Individual</x:szObjectName><x:szQueryName>All</x:szQueryName>",
    "<unknown><deeper>anything</deeper></unknown>text",
])
def test_soap_answers_a_system_exception_saying_so(emulator, operation, body):
    token = emulator.authenticate()
    emulator.clear_journal()

    with emulator.nothing_written():
        response = emulator.post_soap(operation, envelope(operation, token, body))

    assert response.status_code == 500
    assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert fault(response) == {
        "faultcode": "soap:Client",
        "faultstring": "System.Web.Services.Protocols.SoapException: " + NOT_EMULATED_MESSAGE.format(operation),
        "kind": "SystemExceptionInfo",
        "message": NOT_EMULATED_MESSAGE.format(operation),
    }
    assert parse(response).find("soap:Header", NS) is None, "a fault carries no token"
    assert journalled(emulator) == [(operation, "not_emulated", 500, emulator.settings.xweb_user)]
    [entry] = emulator.journal()
    assert b"not emulated" in entry["response"]["body"].encode()


def test_soap_the_soapaction_names_the_operation_whatever_the_body_holds(emulator):
    token = emulator.authenticate()

    response = emulator.post_soap("GetFacadeXMLSchema", envelope("GetVersion", token))

    assert fault(response)["message"] == NOT_EMULATED_MESSAGE.format("GetFacadeXMLSchema")


def test_soap_the_token_lives_on(emulator):
    """The answer stands for one the tenant would have given: unlike a real fault, it does not kill the token."""
    token = emulator.authenticate()

    assert emulator.post_soap("GetFacadeXMLSchema", envelope("GetFacadeXMLSchema", token)).status_code == 500
    response = emulator.soap("GetVersion", token=token)

    assert response.status_code == 200, response.text
    # A real fault, by contrast, kills it.
    assert emulator.soap("GetFacadeObject", "<ns:szObjectName>NoSuchObject</ns:szObjectName>", token).status_code == 500
    assert fault(emulator.soap("GetVersion", token=token))["kind"] == "InvalidTokenExceptionInfo"


@pytest.mark.parametrize("token, message", [
    (None, "Failed to validate the authentication token: no token was supplied."),
    ("8c2a1c33-1a7e-4bd4-9d70-0a0b0c0d0e0f", "Failed to validate the authentication token: it has expired or is not "
                                             "valid."),
    ("http://www.avectra.com/2005/", "Locked"),
])
def test_soap_a_bad_token_is_answered_first(emulator, token, message):
    response = emulator.post_soap("GetFacadeXMLSchema", envelope("GetFacadeXMLSchema", token))

    assert (fault(response)["kind"], fault(response)["message"]) == ("InvalidTokenExceptionInfo", message)
    assert journalled(emulator) == [("GetFacadeXMLSchema", "InvalidTokenExceptionInfo", 500, None)]


def test_soap_without_a_soapaction_is_refused_as_any_operation_is(emulator):
    token = emulator.authenticate()
    answers = {}
    for operation in ("GetFacadeXMLSchema", "GetVersion"):
        response = requests.post(emulator.soap_url, data=envelope(operation, token), timeout=30,
                                 headers={"Content-Type": "text/xml; charset=utf-8"})
        answers[operation] = fault(response)

    assert answers["GetFacadeXMLSchema"] == answers["GetVersion"] == {
        "faultcode": "soap:Client", "kind": None, "message": None,
        "faultstring": "System.Web.Services.Protocols.SoapException: Unable to handle request without a valid action "
                       "parameter. Please supply a valid soap action."}


def test_soap_a_name_that_is_not_the_vendors_is_still_unrecognized(emulator):
    token = emulator.authenticate()
    emulator.clear_journal()

    response = emulator.post_soap("GetEverything", envelope("GetEverything", token))

    assert fault(response) == {
        "faultcode": "soap:Client", "kind": None, "message": None,
        "faultstring": "System.Web.Services.Protocols.SoapException: Server did not recognize the value of HTTP "
                       f"Header SOAPAction: {XWEB}GetEverything."}
    assert journalled(emulator) == [("GetEverything", "SoapException", 500, None)]
    assert emulator.soap("GetVersion", token=token).status_code == 200


def test_soap_unreadable_xml_is_refused_before_anything(emulator):
    response = emulator.post_soap("GetFacadeXMLSchema", "<soap:Envelope")

    assert fault(response)["faultstring"].startswith(
        "System.Web.Services.Protocols.SoapException: Server was unable to read request.")


def test_a_fault_rule_applies_to_an_operation_not_emulated(emulator):
    emulator.add_fault("xweb", "throttle", operation="getfacadexmlschema", count=1)
    token = emulator.authenticate()

    assert emulator.post_soap("GetFacadeXMLSchema", envelope("GetFacadeXMLSchema", token)).status_code == 429
    assert fault(emulator.post_soap("GetFacadeXMLSchema", envelope("GetFacadeXMLSchema", token)))["kind"] == (
        "SystemExceptionInfo")
    assert [entry["outcome"] for entry in emulator.journal(operation="GetFacadeXMLSchema")] == [
        "throttled", "not_emulated"]


# ------------------------------------------------------------------------------------ zeep on the vendor's WSDL


def test_zeep_bound_to_the_vendor_wsdl_gets_a_fault_saying_not_emulated(vendor_client, emulator):
    service = vendor_client.create_service(VENDOR_BINDING, emulator.soap_url)
    token = service.Authenticate(userName=emulator.settings.xweb_user,
                                 password=emulator.settings.xweb_password).header.AuthorizationToken.Token
    header = {"AuthorizationToken": {"Token": token}}

    with pytest.raises(zeep.exceptions.Fault) as raised:
        service.GetFacadeXMLSchema(szObjectName="Individual", _soapheaders=header)

    assert "GetFacadeXMLSchema is not emulated" in raised.value.message
    assert raised.value.detail.find(f"{{{XWEB}}}SystemExceptionInfo") is not None
    # The token lives on: the connector's next call goes through.
    assert service.GetVersion(_soapheaders=header).body.GetVersionResult.startswith("xweb-emulator")
    assert [entry["outcome"] for entry in emulator.journal(operation="GetFacadeXMLSchema")] == ["not_emulated"]


# ----------------------------------------------------------------------------------------- HTTP GET and POST


@pytest.mark.parametrize("verb", ["GET", "POST"])
def test_http_bindings_route_it_and_answer_the_missing_token_first(emulator, verb):
    """These bindings carry no token, and every operation not emulated but AuthenticateLdap takes one: the answer is
    the missing-token fault, as on a tenant."""
    url = f"{emulator.soap_url}/webwebuserlogin_custom"
    params = {"LoginOrEmail": "ada@example.org", "password": "secret"}
    response = (requests.get(url, params=params, timeout=30) if verb == "GET"
                else requests.post(url, data=params, timeout=30))

    assert response.status_code == 500
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert response.text == ("System.Web.Services.Protocols.SoapException: Failed to validate the authentication "
                             "token: no token was supplied.\r\n")
    assert journalled(emulator) == [("WEBWebUserLogin_Custom", "InvalidTokenExceptionInfo", 500, None)]


def test_http_bindings_read_its_parameters_by_the_contract(emulator):
    """As ASMX: a missing parameter is refused before the method runs; an operation whose parameters a query string
    cannot carry has no HTTP binding; one that takes no token answers the fault saying it is not emulated."""
    missing = requests.get(f"{emulator.soap_url}/WEBWebUserLogin_Custom", params={"LoginOrEmail": "ada"}, timeout=30)
    unbound = requests.get(f"{emulator.soap_url}/GetDynamicQuery", params={"szObjectName": "Individual"}, timeout=30)
    tokenless = requests.post(f"{emulator.soap_url}/AuthenticateLdap", data={"userName": "a", "password": "b"},
                              timeout=30)

    assert missing.status_code == unbound.status_code == tokenless.status_code == 500
    assert missing.text.startswith("System.InvalidOperationException: Missing parameter: password.")
    assert unbound.text.startswith("System.InvalidOperationException: Request format is unrecognized for URL "
                                   "unexpectedly ending in '/GetDynamicQuery'.")
    assert tokenless.text == ("System.Web.Services.Protocols.SoapException: "
                              + NOT_EMULATED_MESSAGE.format("AuthenticateLdap") + "\r\n")
    assert [entry["outcome"] for entry in emulator.journal()] == ["SoapException", "SoapException", "not_emulated"]


def test_http_bindings_a_name_that_is_not_the_vendors_is_still_not_valid(emulator):
    response = requests.get(f"{emulator.soap_url}/GetEverything", timeout=30)

    assert response.status_code == 500
    assert response.text.startswith(
        "System.InvalidOperationException: GetEverything Web Service method name is not valid.")


# ------------------------------------------------------------------------------------------------- JSON twin


def json_call(emulator, method: str, body: bytes, verb: str = "POST", **headers) -> requests.Response:
    headers.setdefault("Content-Type", "application/json")
    return requests.request(verb, emulator.json_url(method), data=body, headers=headers, timeout=30,
                            auth=None if "Authorization" in headers else (emulator.settings.xweb_user,
                                                                          emulator.settings.xweb_password))


@pytest.mark.parametrize("verb, body", [
    ("POST", b'{"GetFacadeXMLSchema": {"szObjectName": "Individual"}}'),
    ("POST", b'{"szObjectName": "Individual", "unknown": [1, 2]}'),
    ("POST", b""),
])
def test_json_answers_the_same_fault_in_its_conventions(emulator, verb, body):
    with emulator.nothing_written():
        response = json_call(emulator, "getFacadeXMLSchema", body, verb)

    assert response.status_code == 500
    assert "WWW-Authenticate" not in response.headers
    assert response.json() == {"SystemExceptionInfo": {"XWebException": {
        "Message": NOT_EMULATED_MESSAGE.format("GetFacadeXMLSchema"), "Number": "0", "Source": "xWeb", "Line": "0",
        "StackTrace": "", "ErrorType": "GeneralError", "Errors": None}}}
    assert journalled(emulator) == [("GetFacadeXMLSchema", "not_emulated", 500, emulator.settings.xweb_user)]


@pytest.mark.parametrize("verb, body, status, message", [
    ("POST", b"[1, 2, 3]", 400, 'The request body must be an object: {"InsertCustomerAction": {\u2026parameters\u2026}}.'),
    ("POST", b"<not json at all", 400, "Unexpected character encountered while parsing value: <. Path '', line 1, "
                                       "position 1."),
    # Its actionSubtypeList is an array: no query string carries them.
    ("GET", b"", 405, "InsertCustomerAction accepts POST."),
])
def test_json_reads_its_request_as_any_operations(emulator, verb, body, status, message):
    """What the twin refuses of any operation's request it refuses of this one's, before the fault saying it is not
    emulated."""
    response = json_call(emulator, "InsertCustomerAction", body, verb)

    assert response.status_code == status
    assert response.json()["SystemExceptionInfo"]["XWebException"]["Message"] == message
    assert journalled(emulator) == [("InsertCustomerAction", "SystemExceptionInfo", status, None)]


def test_json_get_of_one_with_simple_parameters(emulator):
    response = json_call(emulator, "GetFundraisingEventDonationUrl", b"", "GET")

    assert response.status_code == 500
    assert response.json()["SystemExceptionInfo"]["XWebException"]["Message"] == NOT_EMULATED_MESSAGE.format(
        "GetFundraisingEventDonationUrl")


def test_json_a_bad_token_or_password_is_answered_first(emulator):
    bearer = json_call(emulator, "GetFacadeXMLSchema", b"{}",
                       Authorization="Bearer 8c2a1c33-1a7e-4bd4-9d70-0a0b0c0d0e0f")
    wrong = requests.post(emulator.json_url("GetFacadeXMLSchema"), json={}, timeout=30,
                          auth=(emulator.settings.xweb_user, "wrong"))
    bare = requests.post(emulator.json_url("GetFacadeXMLSchema"), json={}, timeout=30)

    assert (bearer.status_code, list(bearer.json())) == (500, ["InvalidTokenExceptionInfo"])
    assert (wrong.status_code, list(wrong.json())) == (500, ["InvalidCredentialsExceptionInfo"])
    assert (bare.status_code, list(bare.json())) == (500, ["InvalidTokenExceptionInfo"])
    assert [entry["outcome"] for entry in emulator.journal()] == [
        "InvalidTokenExceptionInfo", "InvalidCredentialsExceptionInfo", "InvalidTokenExceptionInfo"]


def test_json_a_bearer_token_lives_on(emulator):
    token = emulator.authenticate()

    refused = json_call(emulator, "GetFacadeXMLSchema", b"{}", Authorization=f"Bearer {token}")
    answered = json_call(emulator, "GetVersion", b"{}", Authorization=f"Bearer {token}")

    assert refused.status_code == 500 and answered.status_code == 200, answered.text


def test_json_a_basic_login_counts_as_the_success_it_was(emulator, emulator_with):
    """On either backend: the not-emulated answers never add up to a lock-out, and they forget earlier failures as
    a successful call does."""
    strict = emulator_with(xweb_fail_count=2)
    user, password = strict.settings.xweb_user, strict.settings.xweb_password

    def status(method: str, given_password: str) -> str:
        response = requests.post(strict.json_url(method), json={}, auth=(user, given_password), timeout=30)
        return list(response.json())[0] if response.content else str(response.status_code)

    assert status("GetFacadeXMLSchema", "wrong") == "InvalidCredentialsExceptionInfo"
    assert [status("GetFacadeXMLSchema", password) for _ in range(4)] == ["SystemExceptionInfo"] * 4
    assert status("GetFacadeXMLSchema", "wrong") == "InvalidCredentialsExceptionInfo"  # one failure again, not two
    assert status("GetFacadeXMLSchema", password) == "SystemExceptionInfo"


def test_json_a_name_that_is_not_the_vendors_is_still_unknown(emulator):
    response = json_call(emulator, "GetEverything", b"{}")

    assert response.status_code == 404
    assert response.json()["SystemExceptionInfo"]["XWebException"]["Message"] == "Unknown web method GetEverything."


# ------------------------------------------------------------------------------------------------------ help pages


def test_the_wsdl_declares_them_and_their_help_pages_say_they_are_not_emulated(emulator):
    """The served WSDL declares every operation of the vendor's (a client generated from it, or Savon reading it at
    run time, can call any of them); ?op= of one not emulated says so."""
    wsdl = etree.fromstring(requests.get(emulator.wsdl_url, timeout=30).content)
    declared = [element.get("name") for element in wsdl.iterfind(
        "{http://schemas.xmlsoap.org/wsdl/}portType[@name='netForumXMLSoap']/{http://schemas.xmlsoap.org/wsdl/}operation")]
    page = requests.get(emulator.soap_url, params={"op": "GetFacadeXMLSchema"}, timeout=30)

    assert sorted(declared) == sorted(VENDOR_OPERATIONS)
    assert page.status_code == 200 and "<h2>GetFacadeXMLSchema</h2>" in page.text
    assert "Not emulated: xweb-emulator answers it with a SystemExceptionInfo fault saying so." in page.text


# ------------------------------------------------------------------------------------ zeep on the served WSDL


@pytest.fixture(scope="module")
def served_client(served) -> zeep.Client:
    return zeep.Client(served.wsdl_url)


def test_zeep_bound_to_the_served_wsdl_lists_every_operation(served_client):
    assert sorted(served_client.wsdl.bindings[VENDOR_BINDING]._operations) == sorted(VENDOR_OPERATIONS)


@pytest.mark.parametrize("operation, arguments", [
    ("GetFacadeXMLSchema", {"szObjectName": "Individual"}),
    ("WEBWebUserLogin_Custom", {"LoginOrEmail": "ada@example.org", "password": "secret"}),
    # Its messages and SOAPAction carry another name (WEBCentralizedShoppingCartGetBoothList).
    ("WEBCentralizedShoppingCartExhibitorGetBoothList", {"oExhibitor": None, "BoothType": None,
                                                         "BoothCategory": None, "ProductName": None}),
    # A 2015 operation, typed by the project's guess.
    ("InsertCustomerAction", {"actionCustomerKey": "3147d4b5-d04a-4a8f-bbf3-3fe54fd2fcaa", "action": "Called",
                              "actionTypeKey": "3147d4b5-d04a-4a8f-bbf3-3fe54fd2fcab", "source": "test",
                              "actionDate": "2024-01-02T03:04:05", "actionSubtypeList": None}),
])
def test_zeep_bound_to_the_served_wsdl_gets_a_fault_saying_not_emulated(served_client, emulator, operation,
                                                                          arguments):
    service = served_client.create_service(VENDOR_BINDING, emulator.soap_url)
    token = service.Authenticate(userName=emulator.settings.xweb_user,
                                 password=emulator.settings.xweb_password).header.AuthorizationToken.Token
    header = {"AuthorizationToken": {"Token": token}}
    emulator.clear_journal()

    with pytest.raises(zeep.exceptions.Fault) as raised:
        getattr(service, operation)(**arguments, _soapheaders=header)

    assert raised.value.message == ("System.Web.Services.Protocols.SoapException: "
                                    + NOT_EMULATED_MESSAGE.format(operation))
    assert raised.value.detail.find(f"{{{XWEB}}}SystemExceptionInfo") is not None
    assert journalled(emulator) == [(operation, "not_emulated", 500, emulator.settings.xweb_user)]
