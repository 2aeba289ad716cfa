"""xWeb's JSON twin (/xWeb/JSON/<Method>) as a REST client sees it, with requests as the client.

The vendor's two concrete JSON samples are sent byte for byte; their effects are read back over JSON and over SOAP.
Tokens, parameter forms, JSON.NET's XmlNode conventions and the error answers follow the vendor's "JSON Over xWeb"
page (../shared/reference/xweb/NOTES.md §2.4).
"""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

import pytest
import requests

from support import NS, parse, response_token
from xweb_emulator.xweb.models import (
    CustomerMessagingActivity,
)

FIXTURES = Path(__file__).parents[1] / "fixtures" / "xweb"
PREFERENCES_SAMPLE = FIXTURES / "set_customer_communication_preferences.request.json"
PHONE_SAMPLE = FIXTURES / "web_phone_update.request.json"

SAMPLE_CUSTOMER = "2a50c454-eac0-4768-9a85-0c97968be7fd"
PREFERENCES_CUSTOMER = "fadff57b-c6ef-4130-be1e-07000a38056f"
SAMPLE_PHONE = "ae0c81e1-4af5-43bb-95f1-221459c07a80"  # cph_key of the sample customer's work phone
INSTRUCTORS, ACCREDITATION, CONFERENCE = (
    "b31c52e4-29c1-4a65-8c53-0626342c920d",
    "6cc179ee-99c3-4b6b-8bab-36574550a5e5",
    "e86b36bf-7ca2-4919-ad2e-3a7ef268ab39",
)
MOBILE_PHONE_TYPE = "243f7447-c38b-473f-be84-dbedd2f1f55e"

XWEB_EXCEPTION_FIELDS = {"Message", "Number", "Source", "Line", "StackTrace", "ErrorType", "Errors"}
BEARER_HEADER = re.compile(r"Bearer token = (\S+)")


# ------------------------------------------------------------------------------------------------------- helpers


def basic(emulator) -> tuple[str, str]:
    return emulator.settings.xweb_user, emulator.settings.xweb_password


def call(emulator, method: str, params: dict | None = None, *, wrap: bool = True, **kwargs) -> requests.Response:
    """POST a JSON method as the vendor documents it ({"<Method>": {params}}), HTTP Basic unless told otherwise."""
    kwargs.setdefault("auth", basic(emulator))
    body = {method: params or {}} if wrap else params
    return requests.post(emulator.json_url(method), json=body, timeout=30, **kwargs)


def send_sample(emulator, method: str, sample: Path) -> requests.Response:
    """A vendor sample, byte for byte (no-break space indentation and all)."""
    return requests.post(emulator.json_url(method), data=sample.read_bytes(), auth=basic(emulator),
                         headers={"Content-Type": "application/json"}, timeout=30)


def sample_params(sample: Path) -> dict:
    """The sample's parameters, read independently of the emulator (no-break spaces are only indentation)."""
    ((_, params),) = json.loads(sample.read_text("utf-8").replace("\u00a0", " ")).items()
    return params


def answered_token(response: requests.Response) -> str:
    """The token of `WWW-Authenticate: Bearer token = <guid>`."""
    match = BEARER_HEADER.fullmatch(response.headers.get("WWW-Authenticate", ""))
    assert match, f"no Bearer token header: {dict(response.headers)}"
    assert str(uuid.UUID(match.group(1))) == match.group(1), "the token is a lower-case dashed GUID"
    return match.group(1)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def activity_params(*records: dict) -> dict:
    """InsertFacadeObject's parameters for CustomerMessagingActivity records, as JSON.NET reads the XmlNode."""
    objects = records[0] if len(records) == 1 else list(records)
    return {"szObjectName": "CustomerMessagingActivity",
            "oNode": {"CustomerMessagingActivityObjects": {"CustomerMessagingActivityObject": objects}}}


def activity(code: str = "Sent") -> dict:
    return {"cma_cst_key": SAMPLE_CUSTOMER, "cma_activity_code": code, "cma_eml_address": "someone@somewhere.com",
            "cma_activity_date": "03/12/2012 13:44:55.892"}


def preferences_by_list(settings: list[dict]) -> dict[str, dict]:
    return {setting["mailing_list_key"]: setting for setting in settings}


def soap_preferences(emulator, customer_key: str) -> dict[str, dict[str, str]]:
    response = emulator.soap("GetAllCustomerCommunicationPreferences",
                             f"<ns:customerKey>{customer_key}</ns:customerKey>", emulator.authenticate())
    assert response.status_code == 200, response.text
    settings = parse(response).iterfind(".//x:GetAllCustomerCommunicationPreferencesResult/x:MailingListSetting", NS)
    return preferences_by_list([{child.tag.split("}")[1]: child.text for child in setting} for setting in settings])


def soap_phone(emulator, key: str) -> dict[str, dict[str, str]]:
    response = emulator.soap("WEBPhoneGet", f"<ns:key>{key}</ns:key>", emulator.authenticate())
    assert response.status_code == 200, response.text
    result = parse(response).find(".//x:WEBPhoneGetResult", NS)
    return {section.tag.split("}")[1]: {field.tag.split("}")[1]: field.text for field in section}
            for section in result if len(section)}


# --------------------------------------------------------------------------------- the vendor's samples, verbatim


def test_preferences_sample_is_answered_with_an_empty_200(emulator):
    response = send_sample(emulator, "SetCustomerCommunicationPreferences", PREFERENCES_SAMPLE)

    assert response.status_code == 200, response.text
    assert response.content == b""
    answered_token(response)


def test_preferences_sample_is_read_back_over_json(emulator):
    sent = preferences_by_list(sample_params(PREFERENCES_SAMPLE)["preferences"])
    assert send_sample(emulator, "SetCustomerCommunicationPreferences", PREFERENCES_SAMPLE).status_code == 200

    one = call(emulator, "GetCustomerCommunicationPreference",
               {"customerKey": PREFERENCES_CUSTOMER, "preferenceTypeKey": INSTRUCTORS})
    every = call(emulator, "GetAllCustomerCommunicationPreferences", {"customerKey": PREFERENCES_CUSTOMER})

    assert one.status_code == 200, one.text
    expected_in = {name: value.lower() if name.endswith("_key") else value for name, value in sent[INSTRUCTORS].items()}
    assert one.json() == expected_in
    assert every.status_code == 200, every.text
    settings = preferences_by_list(every.json())
    assert settings[INSTRUCTORS] == expected_in
    assert settings[ACCREDITATION] == sent[ACCREDITATION]
    assert sent[ACCREDITATION]["status"] == "OptOut"
    assert settings[CONFERENCE]["status"] == "Undefined"


def test_preferences_sample_is_read_back_over_soap(emulator):
    sent = preferences_by_list(sample_params(PREFERENCES_SAMPLE)["preferences"])
    assert send_sample(emulator, "SetCustomerCommunicationPreferences", PREFERENCES_SAMPLE).status_code == 200

    settings = soap_preferences(emulator, PREFERENCES_CUSTOMER)

    assert settings[INSTRUCTORS] == {name: value.lower() if name.endswith("_key") else value
                                     for name, value in sent[INSTRUCTORS].items()}
    # Null members are left out of a typed SOAP result.
    assert settings[ACCREDITATION] == {name: value for name, value in sent[ACCREDITATION].items() if value}
    assert settings[CONFERENCE]["status"] == "Undefined"


def test_phone_update_sample_is_answered_true(emulator):
    response = send_sample(emulator, "WEBPhoneUpdate", PHONE_SAMPLE)

    assert response.status_code == 200, response.text
    assert response.content == b"true"
    answered_token(response)


def test_phone_update_sample_is_read_back_over_json_and_soap(emulator):
    sent = sample_params(PHONE_SAMPLE)["oFacadeObject"]
    before = call(emulator, "WEBPhoneGet", {"key": SAMPLE_PHONE}).json()
    assert send_sample(emulator, "WEBPhoneUpdate", PHONE_SAMPLE).status_code == 200

    over_json = requests.get(emulator.json_url("WEBPhoneGet"), params={"key": sent["CurrentKey"]},
                             auth=basic(emulator), timeout=30).json()
    over_soap = soap_phone(emulator, sent["CurrentKey"])

    for view in (over_json, over_soap):
        assert view["Phone"]["phn_number"] == sent["Phone"]["phn_number"] == "800-555-1010"
        assert view["Phone_XRef"]["cph_pht_key"] == sent["Phone_XRef"]["cph_pht_key"] == MOBILE_PHONE_TYPE
        # Elements the sample did not send keep their values.
        assert view["Phone"]["phn_number_display"] == before["Phone"]["phn_number_display"] == "(800) 555-0100"
        assert view["Phone_XRef"]["cph_cst_key"] == before["Phone_XRef"]["cph_cst_key"]
        assert view["Phone_XRef"]["cph_primary"] == before["Phone_XRef"]["cph_primary"]


# ------------------------------------------------------------------------------------------------------- tokens


@pytest.mark.parametrize("method, params", [
    ("GetVersion", None),
    ("GetPromotionalMailingTypes", None),
    ("WEBPhoneGet", {"key": SAMPLE_PHONE}),
    ("GetAllCustomerCommunicationPreferences", {"customerKey": PREFERENCES_CUSTOMER}),
    ("InsertFacadeObject", activity_params(activity())),
    ("Authenticate", {"userName": "demo", "password": "demo"}),
    ("GetDateTime", None),
    ("TestConnection", None),
])
def test_every_answer_carries_a_bearer_token_header(emulator, method, params):
    response = call(emulator, method, params)

    assert response.status_code == 200, response.text
    answered_token(response)


def test_authenticate_answers_the_token_in_body_and_header(emulator):
    response = call(emulator, "Authenticate", {"userName": "demo", "password": "demo"}, auth=None)

    assert response.status_code == 200, response.text
    token = answered_token(response)
    assert response.json() == {"Token": token}


def test_json_token_works_as_bearer(emulator):
    token = call(emulator, "Authenticate", {"userName": "demo", "password": "demo"}, auth=None).json()["Token"]

    response = call(emulator, "GetVersion", auth=None, headers=bearer(token))

    assert response.status_code == 200, response.text
    assert answered_token(response) == token  # Absolute expiration: the same token comes back


def test_json_token_works_in_a_soap_header(emulator):
    token = call(emulator, "Authenticate", {"userName": "demo", "password": "demo"}, auth=None).json()["Token"]

    response = emulator.soap("GetVersion", token=token)

    assert response.status_code == 200, response.text
    assert response_token(response) == token


def test_soap_token_works_as_bearer(emulator):
    token = emulator.authenticate()

    response = call(emulator, "GetVersion", auth=None, headers=bearer(token))

    assert response.status_code == 200, response.text


def test_a_fault_kills_the_bearer_token(emulator):
    token = call(emulator, "Authenticate", {"userName": "demo", "password": "demo"}, auth=None).json()["Token"]
    refused = call(emulator, "InsertFacadeObject", {**activity_params(activity()), "szObjectName": "Nope"},
                   auth=None, headers=bearer(token))
    assert refused.status_code == 500, refused.text

    response = call(emulator, "GetVersion", auth=None, headers=bearer(token))

    assert response.status_code == 500
    assert set(response.json()) == {"InvalidTokenExceptionInfo"}


# ----------------------------------------------------------------------------------------------- request forms


@pytest.mark.parametrize("method, params", [
    ("Authenticate", {"userName": "demo", "password": "demo"}),
    ("WEBPhoneGet", {"key": SAMPLE_PHONE}),
    ("InsertFacadeObject", activity_params(activity())),
])
def test_bare_parameters_are_accepted(emulator, method, params):
    response = call(emulator, method, params, wrap=False)

    assert response.status_code == 200, response.text
    assert response.json()


def test_get_with_a_query_string_calls_a_simple_operation(emulator):
    version = requests.get(emulator.json_url("GetVersion"), auth=basic(emulator), timeout=30)
    phone = requests.get(emulator.json_url("WEBPhoneGet"), params={"key": SAMPLE_PHONE}, auth=basic(emulator),
                         timeout=30)

    assert version.status_code == 200, version.text
    assert "xweb-emulator" in version.json()
    assert phone.status_code == 200, phone.text
    assert phone.json()["CurrentKey"] == SAMPLE_PHONE
    assert phone.json()["Phone"]["phn_number"] == "800-555-0100"


@pytest.mark.parametrize("path_name, wrapper", [
    ("webphoneget", "WEBPhoneGet"),
    ("WEBPHONEGET", "webPhoneGet"),
    ("WebPhoneGet", "WebPhoneGet"),
])
def test_method_names_are_case_insensitive(emulator, path_name, wrapper):
    response = requests.post(emulator.json_url(path_name), json={wrapper: {"key": SAMPLE_PHONE}},
                             auth=basic(emulator), timeout=30)

    assert response.status_code == 200, response.text
    assert response.json()["CurrentKey"] == SAMPLE_PHONE


# ---------------------------------------------------------------------------------- XmlNode results (JSON.NET)


def test_xml_node_result_with_one_record_is_an_object(emulator):
    response = call(emulator, "InsertFacadeObject", activity_params(activity()))

    assert response.status_code == 200, response.text
    body = response.json()
    key = body["CustomerMessagingActivityObjects"]["CustomerMessagingActivityObject"]["cma_key"]
    assert body == {"CustomerMessagingActivityObjects": {
        "@xsi:schemaLocation": "http://www.avectra.com/2005/ CustomerMessagingActivity.xsd",
        "@recordReturn": "1",
        "CustomerMessagingActivityObject": {"cma_key": key},
    }}
    assert emulator.rows(CustomerMessagingActivity, cma_key=uuid.UUID(key))


def test_xml_node_result_with_two_records_is_a_list(emulator):
    response = call(emulator, "InsertFacadeObject", activity_params(activity("Sent"), activity("Opened")))

    assert response.status_code == 200, response.text
    objects = response.json()["CustomerMessagingActivityObjects"]
    assert objects["@recordReturn"] == "2"
    assert isinstance(objects["CustomerMessagingActivityObject"], list)
    keys = [item["cma_key"] for item in objects["CustomerMessagingActivityObject"]]
    assert [list(item) for item in objects["CustomerMessagingActivityObject"]] == [["cma_key"], ["cma_key"]]
    codes = {row.cma_activity_code for key in keys
             for row in emulator.rows(CustomerMessagingActivity, cma_key=uuid.UUID(key))}
    assert codes == {"Sent", "Opened"}


# ------------------------------------------------------------------------------------------------------- errors


@pytest.mark.parametrize("method, params, auth", [
    ("Authenticate", {"userName": "demo", "password": "wrong"}, None),
    ("InsertFacadeObject", activity_params(activity()), ("demo", "wrong")),
    ("InsertFacadeObject", activity_params(activity()), ("nobody", "demo")),
], ids=["Authenticate", "Basic wrong password", "Basic unknown user"])
def test_bad_credentials_are_an_invalid_credentials_fault(emulator, method, params, auth):
    before = emulator.stored()

    response = call(emulator, method, params, auth=auth)

    assert response.status_code == 500, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    assert "WWW-Authenticate" not in response.headers
    body = response.json()
    assert list(body) == ["InvalidCredentialsExceptionInfo"]
    exception = body["InvalidCredentialsExceptionInfo"]["XWebException"]
    assert set(exception) == XWEB_EXCEPTION_FIELDS
    assert exception["Message"] == "Invalid Credentials Supplied"
    assert emulator.stored() == before


@pytest.mark.parametrize("headers", [
    {},
    bearer(str(uuid.uuid4())),
    bearer("not-a-token"),
], ids=["no token", "unknown token", "not a GUID"])
def test_a_missing_or_invalid_token_is_an_invalid_token_fault(emulator, headers):
    before = emulator.stored()

    response = call(emulator, "InsertFacadeObject", activity_params(activity()), auth=None, headers=headers)

    assert response.status_code == 500, response.text
    body = response.json()
    assert list(body) == ["InvalidTokenExceptionInfo"]
    assert set(body["InvalidTokenExceptionInfo"]["XWebException"]) == XWEB_EXCEPTION_FIELDS
    assert emulator.stored() == before


def test_an_unknown_method_is_404(emulator):
    before = emulator.stored()

    response = requests.post(emulator.json_url("InsertFacadeObjects"),
                             json={"InsertFacadeObjects": activity_params(activity())}, auth=basic(emulator),
                             timeout=30)

    assert response.status_code == 404, response.text
    assert response.json()["SystemExceptionInfo"]["XWebException"]["Message"] == \
        "Unknown web method InsertFacadeObjects."
    assert emulator.stored() == before


@pytest.mark.parametrize("body", [
    b'{"InsertFacadeObject": {"szObjectName": "CustomerMessagingActivity", "oNode": {',
    b"szObjectName=CustomerMessagingActivity",
    b'{"InsertFacadeObject": "\xff\xfe"}',
], ids=["truncated", "form encoded", "not UTF-8"])
def test_malformed_json_is_400(emulator, body):
    before = emulator.stored()

    response = requests.post(emulator.json_url("InsertFacadeObject"), data=body, auth=basic(emulator),
                             headers={"Content-Type": "application/json"}, timeout=30)

    assert response.status_code == 400, response.text
    assert set(response.json()["SystemExceptionInfo"]["XWebException"]) == XWEB_EXCEPTION_FIELDS
    assert emulator.stored() == before
