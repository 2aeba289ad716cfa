"""The rules xWeb enforces on what clients send, each shown firing: over SOAP unless noted, every refusal a
vendor-shaped fault (soap:Client, an XWebException detail or ASP.NET's empty one) that leaves the database exactly as
it was.
"""

from __future__ import annotations

import http.server
import json
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import datetime

import pytest
import requests

from support import NS, SOAP_ENV, XWEB, fault, parse
from xweb_emulator.xweb.models import (
    Customer,
    CustomerMailingPreference,
    CustomerMessagingActivity,
    CustomerPhone,
    Phone,
)

SAMPLE_CUSTOMER = "2a50c454-eac0-4768-9a85-0c97968be7fd"
SAMPLE_EMAIL = "5b0d9b1e-4c1a-4f43-9a9e-0d6f4a2c7e01"
SAMPLE_PHONE = "ae0c81e1-4af5-43bb-95f1-221459c07a80"  # the sample customer's cph_key
PREFERENCES_CUSTOMER = "fadff57b-c6ef-4130-be1e-07000a38056f"
PREFERENCES_EMAIL = "abc320db-863f-441a-8ab4-5fc827fc33c2"
PREFERENCES_PHONE = "f46291d8-6b16-467f-97ef-fb16028a2b98"
INSTRUCTORS, ACCREDITATION, CONFERENCE = (
    "b31c52e4-29c1-4a65-8c53-0626342c920d",
    "6cc179ee-99c3-4b6b-8bab-36574550a5e5",
    "e86b36bf-7ca2-4919-ad2e-3a7ef268ab39",
)
WORK_PHONE_TYPE = "3445f817-a38f-483a-aabe-b8d3c084832b"  # the vendor's default cph_pht_key
MOBILE_PHONE_TYPE = "243f7447-c38b-473f-be84-dbedd2f1f55e"
UNKNOWN = "00000000-0000-0000-0000-00000000beef"

SOAP_EXCEPTION = "System.Web.Services.Protocols.SoapException: "


# ------------------------------------------------------------------------------------------------------- helpers


def refused(response: requests.Response, message: str) -> dict:
    """An xWeb fault (SystemExceptionInfo) whose message contains `message`."""
    found = fault(response)
    assert found["faultcode"] == "soap:Client", found
    assert found["kind"] == "SystemExceptionInfo", found
    assert message in found["message"], found
    assert found["faultstring"].startswith(SOAP_EXCEPTION + found["message"]), found
    return found


def asmx_refused(response: requests.Response) -> dict:
    """A fault ASP.NET raises before netFORUM runs: soap:Client, an empty detail, no traceback."""
    assert "Traceback" not in response.text
    assert response.headers["Content-Type"].startswith("text/xml"), response.text
    found = fault(response)
    assert found["faultcode"] == "soap:Client", found
    assert found["faultstring"].startswith(SOAP_EXCEPTION), found
    return found


def elements(values: dict[str, str | None]) -> str:
    return "".join(f"<ns:{name}>{value}</ns:{name}>" for name, value in values.items() if value is not None)


def activity(**changes: str | None) -> dict[str, str | None]:
    """A valid CustomerMessagingActivity record; a change to None leaves the element out."""
    record = {"cma_cst_key": SAMPLE_CUSTOMER, "cma_activity_code": "Sent", "cma_eml_address": "someone@somewhere.com",
              "cma_activity_date": "03/12/2012 13:44:55.892"}
    return {**record, **changes}


def insert_body(records: list[dict], object_name: str = "CustomerMessagingActivity",
                wrappers: tuple[str, str] = ("CustomerMessagingActivityObjects", "CustomerMessagingActivityObject")
                ) -> str:
    outer, inner = wrappers
    objects = "".join(f"<ns:{inner}>{elements(record)}</ns:{inner}>" for record in records)
    return f"<ns:szObjectName>{object_name}</ns:szObjectName><ns:oNode><ns:{outer}>{objects}</ns:{outer}></ns:oNode>"


def insert_activity(emulator, *records: dict, **options) -> requests.Response:
    """InsertFacadeObject with a fresh token (a fault kills the token it came with)."""
    return emulator.soap("InsertFacadeObject", insert_body(list(records), **options), emulator.authenticate())


def inserted(emulator, response: requests.Response) -> list[CustomerMessagingActivity]:
    assert response.status_code == 200, response.text
    keys = [element.text for element in parse(response).iterfind(".//x:cma_key", NS)]
    assert keys
    return [row for key in keys for row in emulator.rows(CustomerMessagingActivity, cma_key=uuid.UUID(key))]


def call(emulator, operation: str, **params: str | None) -> requests.Response:
    return emulator.soap(operation, elements(params), emulator.authenticate())


def result(response: requests.Response, operation: str):
    assert response.status_code == 200, response.text
    return parse(response).find(f".//x:{operation}Result", NS)


def set_preferences(emulator, *settings: dict, customer: str = PREFERENCES_CUSTOMER) -> requests.Response:
    items = "".join(f"<ns:MailingListSetting>{elements(setting)}</ns:MailingListSetting>" for setting in settings)
    return emulator.soap("SetCustomerCommunicationPreferences",
                         f"<ns:customerKey>{customer}</ns:customerKey><ns:preferences>{items}</ns:preferences>",
                         emulator.authenticate())


def preferences(emulator, customer: str = PREFERENCES_CUSTOMER) -> list[CustomerMailingPreference]:
    return emulator.rows(CustomerMailingPreference, cmp_cst_key=uuid.UUID(customer))


def phone_call(emulator, operation: str, current_key: str | None = None, xref: dict | None = None,
               phone: dict | None = None) -> requests.Response:
    sections = elements({"CurrentKey": current_key})
    for name, values in (("Phone_XRef", xref), ("Phone", phone)):
        if values is not None:
            sections += f"<ns:{name}>{elements(values)}</ns:{name}>"
    return emulator.soap(operation, f"<ns:oFacadeObject>{sections}</ns:oFacadeObject>", emulator.authenticate())


def columns(row) -> dict[str, object]:
    return {column.name: getattr(row, column.name) for column in row.__table__.columns}


def sample_phone(emulator) -> tuple[dict, dict]:
    (xref,) = emulator.rows(CustomerPhone, cph_key=uuid.UUID(SAMPLE_PHONE))
    (phone,) = emulator.rows(Phone, phn_key=xref.cph_phn_key)
    return columns(xref), columns(phone)


def envelope(body: str, token: str | None = None, namespace: str = XWEB, prolog: str = "") -> str:
    header = (f"<soapenv:Header><ns:AuthorizationToken><ns:Token>{token}</ns:Token></ns:AuthorizationToken>"
              "</soapenv:Header>") if token else ""
    return (f'{prolog}<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}" xmlns:ns="{namespace}">{header}'
            f"<soapenv:Body>{body}</soapenv:Body></soapenv:Envelope>")


# ---------------------------------------------------------------------- InsertFacadeObject: CustomerMessagingActivity


@pytest.mark.parametrize("column", ["cma_cst_key", "cma_activity_date"])
@pytest.mark.parametrize("sent_as", ["absent", "empty"])
def test_activity_requires_customer_and_date(emulator, column, sent_as):
    with emulator.nothing_written():
        response = insert_activity(emulator, activity(**{column: None if sent_as == "absent" else ""}))

    refused(response, f"{column} is required.")


def test_activity_requires_an_email_key_or_address(emulator):
    with emulator.nothing_written():
        response = insert_activity(emulator, activity(cma_eml_address=None))

    refused(response, "Either cma_eml_key or cma_eml_address is required.")


@pytest.mark.parametrize("object_name, key_column", [("CustomerMessagingActivity", "cma_key"),
                                                     ("Individual", "ind_cst_key")])
def test_a_stored_key_in_one_of_several_records_names_that_record_and_writes_nothing(emulator, object_name,
                                                                                     key_column):
    stored_key = SAMPLE_CUSTOMER if object_name == "Individual" else str(uuid.uuid4())
    record = activity if object_name != "Individual" else (
        lambda **key: {"ind_first_name": "Ada", "ind_last_name": "Lovelace", **key})
    wrappers = (f"{object_name}Objects", f"{object_name}Object")
    if object_name != "Individual":
        inserted(emulator, insert_activity(emulator, record(**{key_column: stored_key})))
    with emulator.nothing_written():
        response = insert_activity(emulator, record(), record(**{key_column: stored_key}), record(),
                                   object_name=object_name, wrappers=wrappers)

    refused(response, f"{object_name}Object 2: Cannot insert duplicate key: {key_column} {stored_key} already exists.")


@pytest.mark.parametrize("email", [
    {"cma_eml_key": SAMPLE_EMAIL, "cma_eml_address": None},
    {"cma_eml_key": None, "cma_eml_address": "other@somewhere.com"},
], ids=["key alone", "address alone"])
def test_activity_email_key_or_address_alone_is_enough(emulator, email):
    (row,) = inserted(emulator, insert_activity(emulator, activity(**email)))

    assert (str(row.cma_eml_key) if row.cma_eml_key else None) == email["cma_eml_key"]
    assert row.cma_eml_address == email["cma_eml_address"]


@pytest.mark.parametrize("column, table", [
    ("cma_cst_key", "co_customer"),
    ("cma_eml_key", "co_email"),
])
def test_activity_references_must_exist(emulator, column, table):
    with emulator.nothing_written():
        response = insert_activity(emulator, activity(**{column: UNKNOWN}))

    refused(response, f"{column}: no {table} record has")


def test_activity_unknown_column_is_refused(emulator):
    with emulator.nothing_written():
        response = insert_activity(emulator, {**activity(), "cma_flavour": "vanilla"})

    refused(response, "Invalid column name 'cma_flavour'.")


@pytest.mark.parametrize("column, length", [("cma_activity_id", 50), ("cma_activity_subcode", 100),
                                            ("cma_eml_address", 80)])
def test_activity_value_longer_than_its_column_is_refused(emulator, column, length):
    with emulator.nothing_written():
        response = insert_activity(emulator, activity(**{column: "x" * (length + 1)}))

    refused(response, f"String or binary data would be truncated: {column}")
    (row,) = inserted(emulator, insert_activity(emulator, activity(**{column: "y" * length})))
    assert getattr(row, column) == "y" * length


def test_unknown_facade_object_is_refused(emulator):
    with emulator.nothing_written():
        response = insert_activity(emulator, activity(), object_name="CustomerMessagingActivities")

    refused(response, "Invalid object name 'CustomerMessagingActivities'.")


def test_activity_records_are_stored_all_or_none(emulator):
    with emulator.nothing_written():
        response = insert_activity(emulator, activity(cma_activity_code="first, valid"), activity(cma_cst_key=None))

    refused(response, "CustomerMessagingActivityObject 2: cma_cst_key is required.")
    assert not emulator.rows(CustomerMessagingActivity, cma_activity_code="first, valid")


@pytest.mark.parametrize("object_name", ["customermessagingactivity", "CUSTOMERMESSAGINGACTIVITY",
                                         "customerMessagingActivity"])
def test_object_name_is_case_insensitive(emulator, object_name):
    (row,) = inserted(emulator, insert_activity(emulator, activity(), object_name=object_name))

    assert row.cma_activity_code == "Sent"


@pytest.mark.parametrize("wrappers", [("Foo", "Bar"), ("CustomerMessagingActivities", "Activity")])
def test_record_wrapper_names_are_lenient(emulator, wrappers):
    rows = inserted(emulator, insert_activity(emulator, activity(cma_activity_code="one"),
                                              activity(cma_activity_code="two"), wrappers=wrappers))

    assert sorted(row.cma_activity_code for row in rows) == ["one", "two"]


# ------------------------------------------------------------------------------------------------------- GUIDs

GUID_FORMS = {
    "braces": "{%s}",
    "no dashes": "%s",
    "upper case": "%s",
    "braces, upper, no dashes": "{%s}",
}


def guid_form(key: str, form: str) -> str:
    text = key.replace("-", "") if "no dashes" in form else key
    text = text.upper() if "upper" in form else text
    return GUID_FORMS[form] % text


@pytest.mark.parametrize("form", GUID_FORMS)
def test_guid_forms_accepted_in_a_facade_column(emulator, form):
    (row,) = inserted(emulator, insert_activity(emulator, activity(cma_cst_key=guid_form(SAMPLE_CUSTOMER, form),
                                                                   cma_eml_key=guid_form(SAMPLE_EMAIL, form))))

    assert row.cma_cst_key == uuid.UUID(SAMPLE_CUSTOMER)
    read = result(call(emulator, "GetFacadeObject", szObjectName="CustomerMessagingActivity",
                       szObjectKey=guid_form(str(row.cma_key), form)), "GetFacadeObject")
    assert read.findtext(".//x:cma_cst_key", namespaces=NS) == SAMPLE_CUSTOMER
    assert read.findtext(".//x:cma_eml_key", namespaces=NS) == SAMPLE_EMAIL


@pytest.mark.parametrize("form", GUID_FORMS)
def test_guid_forms_accepted_as_customer_key(emulator, form):
    response = set_preferences(emulator, {"mailing_list_key": guid_form(CONFERENCE, form), "status": "OptIn",
                                          "email_key": guid_form(PREFERENCES_EMAIL, form)},
                               customer=guid_form(PREFERENCES_CUSTOMER, form))
    assert response.status_code == 200, response.text

    read = result(call(emulator, "GetAllCustomerCommunicationPreferences",
                       customerKey=guid_form(PREFERENCES_CUSTOMER, form)), "GetAllCustomerCommunicationPreferences")

    (setting,) = [item for item in read if item.findtext("x:mailing_list_key", namespaces=NS) == CONFERENCE]
    assert setting.findtext("x:status", namespaces=NS) == "OptIn"
    assert setting.findtext("x:email_key", namespaces=NS) == PREFERENCES_EMAIL


@pytest.mark.parametrize("form", GUID_FORMS)
def test_guid_forms_accepted_as_phone_key(emulator, form):
    read = result(call(emulator, "WEBPhoneGet", key=guid_form(SAMPLE_PHONE, form)), "WEBPhoneGet")

    assert read.findtext("x:CurrentKey", namespaces=NS) == SAMPLE_PHONE
    assert read.findtext("x:Phone_XRef/x:cph_cst_key", namespaces=NS) == SAMPLE_CUSTOMER


MALFORMED_GUIDS = ["2a50c454-eac0-4768-9a85", "2a50c454-eac0-4768-9a85-0c97968be7fz", "not a guid",
                   "2a50c454-eac0-4768-9a85-0c97968be7fd0"]


@pytest.mark.parametrize("text", MALFORMED_GUIDS)
def test_malformed_guid_is_refused_in_a_facade_column(emulator, text):
    with emulator.nothing_written():
        response = insert_activity(emulator, activity(cma_cst_key=text))

    refused(response, f"Invalid value for cma_cst_key: '{text}' is not a valid GUID.")


@pytest.mark.parametrize("text", MALFORMED_GUIDS)
def test_malformed_guid_is_refused_as_customer_key(emulator, text):
    with emulator.nothing_written():
        response = set_preferences(emulator, {"mailing_list_key": INSTRUCTORS, "status": "OptIn"}, customer=text)

    refused(response, f"Invalid value for customerKey: '{text}' is not a valid GUID.")


@pytest.mark.parametrize("text", MALFORMED_GUIDS)
def test_malformed_guid_is_refused_as_phone_key(emulator, text):
    refused(call(emulator, "WEBPhoneGet", key=text), f"'{text}' is not a valid GUID.")


# ------------------------------------------------------------------------------------------------------- dates


@pytest.mark.parametrize("text, expected", [
    ("03/12/2012 13:44:55.892", datetime(2012, 3, 12, 13, 44, 55, 892000)),
    ("01/12/2008", datetime(2008, 1, 12)),
    ("2012-03-12T13:44:55", datetime(2012, 3, 12, 13, 44, 55)),
    ("2012-03-12T13:44:55Z", datetime(2012, 3, 12, 13, 44, 55)),
    ("2012-03-12T15:44:55+02:00", datetime(2012, 3, 12, 13, 44, 55)),
    ("2012-03-12T08:44:55-05:00", datetime(2012, 3, 12, 13, 44, 55)),
    ("2012-03-12T23:30:00-05:00", datetime(2012, 3, 13, 4, 30)),
    ("3/12/2012 1:44:55 PM", datetime(2012, 3, 12, 13, 44, 55)),
    ("3/12/2012 12:05:00 AM", datetime(2012, 3, 12, 0, 5)),
])
def test_date_formats_are_stored_as_the_right_datetime(emulator, text, expected):
    (row,) = inserted(emulator, insert_activity(emulator, activity(cma_activity_date=text)))

    assert row.cma_activity_date == expected


@pytest.mark.parametrize("text", ["13/45/2012", "02/30/2012", "yesterday", "2012-13-01T00:00:00", "03/12/2012 25:00"])
def test_invalid_date_is_refused(emulator, text):
    with emulator.nothing_written():
        response = insert_activity(emulator, activity(cma_activity_date=text))

    refused(response, f"Invalid value for cma_activity_date: '{text}' is not a valid date.")


# ------------------------------------------------------------------------------------------------- preferences


@pytest.mark.parametrize("status", ["Maybe", "optin", "OPTOUT", "Subscribed"])
def test_preference_status_must_be_optin_optout_or_undefined(emulator, status):
    with emulator.nothing_written():
        response = set_preferences(emulator, {"mailing_list_key": INSTRUCTORS, "status": status})

    refused(response, f"status '{status}' is not valid: use one of OptIn, OptOut, Undefined.")


@pytest.mark.parametrize("status", ["OptIn", "OptOut", "Undefined"])
def test_preference_statuses_are_stored(emulator, status):
    response = set_preferences(emulator, {"mailing_list_key": INSTRUCTORS, "status": status})

    assert response.status_code == 200, response.text
    assert [row.cmp_status for row in preferences(emulator)] == [status]


@pytest.mark.parametrize("customer, setting, message", [
    (UNKNOWN, {"mailing_list_key": INSTRUCTORS, "status": "OptIn"}, "customerKey: no co_customer record has"),
    (PREFERENCES_CUSTOMER, {"mailing_list_key": UNKNOWN, "status": "OptIn"},
     "mailing_list_key: no co_mailing_list record has"),
    (PREFERENCES_CUSTOMER, {"mailing_list_key": INSTRUCTORS, "status": "OptIn", "email_key": SAMPLE_EMAIL},
     f"email_key: {SAMPLE_EMAIL} does not belong to customer {PREFERENCES_CUSTOMER}"),
    (PREFERENCES_CUSTOMER, {"mailing_list_key": INSTRUCTORS, "status": "OptIn", "phone_key": UNKNOWN},
     "phone_key: no co_customer_x_phone record has"),
    (PREFERENCES_CUSTOMER, {"mailing_list_key": INSTRUCTORS, "status": "OptIn", "phone_key": SAMPLE_PHONE},
     f"phone_key: {SAMPLE_PHONE} does not belong to customer {PREFERENCES_CUSTOMER}"),
], ids=["unknown customer", "unknown mailing list", "another customer's email", "unknown phone",
        "another customer's phone"])
def test_preference_references_must_exist_and_belong_to_the_customer(emulator, customer, setting, message):
    with emulator.nothing_written():
        response = set_preferences(emulator, setting, customer=customer)

    refused(response, message)


def test_preferences_are_stored_all_or_none(emulator):
    with emulator.nothing_written():
        response = set_preferences(emulator, {"mailing_list_key": INSTRUCTORS, "status": "OptIn"},
                                   {"mailing_list_key": ACCREDITATION, "status": "Nope"})

    refused(response, "MailingListSetting 2: status 'Nope' is not valid")


def test_a_second_set_updates_rather_than_duplicates(emulator):
    first = set_preferences(emulator, {"mailing_list_key": INSTRUCTORS, "status": "OptIn",
                                       "email_key": PREFERENCES_EMAIL, "phone_key": PREFERENCES_PHONE})
    assert first.status_code == 200, first.text
    (created,) = preferences(emulator)

    second = set_preferences(emulator, {"mailing_list_key": INSTRUCTORS, "status": "OptOut"})

    assert second.status_code == 200, second.text
    (updated,) = preferences(emulator)
    assert updated.cmp_key == created.cmp_key
    assert (updated.cmp_status, updated.cmp_eml_key, updated.cmp_cph_key) == ("OptOut", None, None)
    assert updated.cmp_change_user == emulator.settings.xweb_user
    answer = parse(call(emulator, "GetCustomerCommunicationPreference", customerKey=PREFERENCES_CUSTOMER,
                        preferenceTypeKey=INSTRUCTORS))
    assert answer.findtext(".//x:mailing_list_setting/x:status", namespaces=NS) == "OptOut"


def test_a_never_set_preference_is_undefined(emulator):
    response = call(emulator, "GetCustomerCommunicationPreference", customerKey=PREFERENCES_CUSTOMER,
                    preferenceTypeKey=CONFERENCE)

    assert response.status_code == 200, response.text
    setting = parse(response).find(".//x:mailing_list_setting", NS)
    assert setting.findtext("x:mailing_list_key", namespaces=NS) == CONFERENCE
    assert setting.findtext("x:mailing_list_name", namespaces=NS) == "Annual Conference Mailing List"
    assert setting.findtext("x:status", namespaces=NS) == "Undefined"
    assert setting.find("x:email_key", NS) is None


@pytest.mark.parametrize("operation, expected", [
    ("GetPromotionalMailingTypes", {ACCREDITATION: ("Accreditation", "Email Opt-In"),
                                    CONFERENCE: ("Annual Conference Mailing List", "event")}),
    ("GetSubscriptionMailingTypes", {INSTRUCTORS: ("Instructors - Online", "Instructors")}),
])
def test_mailing_types_are_listed_by_type(emulator, operation, expected):
    lists = result(call(emulator, operation), operation).iterfind("x:MailingList", NS)

    assert {item.findtext("x:primary_key", namespaces=NS): (item.findtext("x:name", namespaces=NS),
                                                            item.findtext("x:category", namespaces=NS))
            for item in lists} == expected


# ------------------------------------------------------------------------------------------------------ phones


@pytest.mark.parametrize("keyed_by", ["CurrentKey", "Phone_XRef/cph_key"])
def test_phone_update_changes_only_the_elements_sent(emulator, keyed_by):
    xref_before, phone_before = sample_phone(emulator)
    current_key = SAMPLE_PHONE if keyed_by == "CurrentKey" else None
    xref = {"cph_key": SAMPLE_PHONE, "cph_extension": "42"} if current_key is None else {"cph_extension": "42"}

    response = phone_call(emulator, "WEBPhoneUpdate", current_key, xref=xref, phone={"phn_number": "800-555-4242"})

    assert response.status_code == 200, response.text
    assert parse(response).findtext(".//x:WEBPhoneUpdateResult", namespaces=NS) == "true"
    xref_after, phone_after = sample_phone(emulator)
    audit = ("_change_user", "_change_date")
    assert {name: value for name, value in xref_after.items() if xref_before[name] != value
            and not name.endswith(audit)} == {"cph_extension": "42"}
    assert {name: value for name, value in phone_after.items() if phone_before[name] != value
            and not name.endswith(audit)} == {"phn_number": "800-555-4242"}
    assert (xref_after["cph_change_user"], phone_after["phn_change_user"]) == (emulator.settings.xweb_user,) * 2


def test_phone_update_of_an_unknown_key_is_refused(emulator):
    with emulator.nothing_written():
        response = phone_call(emulator, "WEBPhoneUpdate", UNKNOWN, phone={"phn_number": "800-555-4242"})

    refused(response, f"CurrentKey: no co_customer_x_phone record has cph_key {UNKNOWN}.")


def test_phone_update_without_a_key_is_refused(emulator):
    with emulator.nothing_written():
        response = phone_call(emulator, "WEBPhoneUpdate", phone={"phn_number": "800-555-4242"})

    refused(response, "CurrentKey (or Phone_XRef/cph_key) is required")


def test_phone_update_with_an_unknown_phone_type_changes_nothing(emulator):
    with emulator.nothing_written():
        response = phone_call(emulator, "WEBPhoneUpdate", SAMPLE_PHONE, xref={"cph_pht_key": UNKNOWN},
                              phone={"phn_number": "800-555-4242"})

    refused(response, f"cph_pht_key: no co_phone_type record has pht_key {UNKNOWN}.")


def test_phone_insert_defaults_the_phone_type_and_is_listed(emulator):
    response = phone_call(emulator, "WEBPhoneInsert", xref={"cph_cst_key": SAMPLE_CUSTOMER},
                          phone={"phn_number": "800-555-7777"})

    created = result(response, "WEBPhoneInsert")
    cph_key = created.findtext("x:CurrentKey", namespaces=NS)
    (xref,) = emulator.rows(CustomerPhone, cph_key=uuid.UUID(cph_key))
    (phone,) = emulator.rows(Phone, phn_key=xref.cph_phn_key)
    assert (str(xref.cph_cst_key), str(xref.cph_pht_key), phone.phn_number) == (
        SAMPLE_CUSTOMER, WORK_PHONE_TYPE, "800-555-7777")
    assert created.findtext("x:Phone_XRef/x:cph_pht_key", namespaces=NS) == WORK_PHONE_TYPE

    listed = result(call(emulator, "WEBPhoneGetPhonesByCustomer", CustomerKey=SAMPLE_CUSTOMER),
                    "WEBPhoneGetPhonesByCustomer").find("x:Results", NS)
    assert listed.get("recordReturn") == "2"
    by_key = {item.findtext("x:cph_key", namespaces=NS): item for item in listed.iterfind("x:Result", NS)}
    assert set(by_key) == {SAMPLE_PHONE, cph_key}
    assert by_key[cph_key].findtext("x:phn_number", namespaces=NS) == "800-555-7777"
    assert by_key[cph_key].findtext("x:pht_code", namespaces=NS) == "work"


def test_phone_insert_keeps_a_phone_type_sent(emulator):
    response = phone_call(emulator, "WEBPhoneInsert",
                          xref={"cph_cst_key": SAMPLE_CUSTOMER, "cph_pht_key": MOBILE_PHONE_TYPE},
                          phone={"phn_number": "800-555-8888"})

    assert result(response, "WEBPhoneInsert").findtext("x:Phone_XRef/x:cph_pht_key", namespaces=NS) == \
        MOBILE_PHONE_TYPE


def primary_phone(emulator) -> tuple[str | None, str | None]:
    (customer,) = emulator.rows(Customer, cst_key=uuid.UUID(SAMPLE_CUSTOMER))
    return (str(customer.cst_cph_key) if customer.cst_cph_key else None), customer.cst_phn_number_complete_dn


def test_a_phone_inserted_as_primary_becomes_its_customers_primary(emulator):
    response = phone_call(emulator, "WEBPhoneInsert", xref={"cph_cst_key": SAMPLE_CUSTOMER, "cph_primary": "1"},
                          phone={"phn_number": "800-555-7777"})
    cph_key = result(response, "WEBPhoneInsert").findtext("x:CurrentKey", namespaces=NS)

    assert primary_phone(emulator) == (cph_key, "800-555-7777")
    assert {str(xref.cph_key): xref.cph_primary for xref in emulator.rows(CustomerPhone)
            if str(xref.cph_cst_key) == SAMPLE_CUSTOMER} == {cph_key: 1, SAMPLE_PHONE: 0}
    # What a connector reads back: the individual's phone is its primary's complete number.
    information = result(call(emulator, "GetIndividualInformation", IndividualKey=SAMPLE_CUSTOMER),
                         "GetIndividualInformation")
    assert information.findtext(".//x:phn_number", namespaces=NS) == "800-555-7777"


def test_a_phone_inserted_not_primary_leaves_the_primary(emulator):
    before = primary_phone(emulator)
    phone_call(emulator, "WEBPhoneInsert", xref={"cph_cst_key": SAMPLE_CUSTOMER},
               phone={"phn_number": "800-555-7777"})
    assert primary_phone(emulator) == before == (SAMPLE_PHONE, "800-555-0100")


def test_a_phone_update_moves_and_follows_the_primary(emulator):
    response = phone_call(emulator, "WEBPhoneInsert", xref={"cph_cst_key": SAMPLE_CUSTOMER},
                          phone={"phn_number": "800-555-7777"})
    cph_key = result(response, "WEBPhoneInsert").findtext("x:CurrentKey", namespaces=NS)

    phone_call(emulator, "WEBPhoneUpdate", current_key=cph_key, xref={"cph_primary": "1"})
    assert primary_phone(emulator) == (cph_key, "800-555-7777")
    phone_call(emulator, "WEBPhoneUpdate", current_key=cph_key, xref={"cph_phn_number_complete": "+1 800-555-7778"})
    assert primary_phone(emulator) == (cph_key, "+1 800-555-7778")
    phone_call(emulator, "WEBPhoneUpdate", current_key=cph_key, xref={"cph_primary": "0"})
    assert primary_phone(emulator) == (None, None)


# ------------------------------------------------------------------------------------------- malformed envelopes

NOT_AN_ENVELOPE = {
    "text": b"this is not XML at all",
    "JSON": b'{"InsertFacadeObject": {}}',
    "truncated": f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}"><soapenv:Body><ns:GetVersion'.encode(),
    "undeclared prefix": f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}"><soapenv:Body><ns:GetVersion/>'
                         f"</soapenv:Body></soapenv:Envelope>".encode(),
    "not an envelope": b"<InsertFacadeObject/>",
    "SOAP 1.2": b'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body/></s:Envelope>',
    "no body": f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}"/>'.encode(),
}


@pytest.mark.parametrize("body", [
    *[pytest.param(body, id=name) for name, body in NOT_AN_ENVELOPE.items()],
    pytest.param(b"", id="empty"),
    pytest.param(b'<?xml version="1.0" encoding="utf-8"?><a>\xff\xfe</a>', id="not UTF-8"),
    pytest.param(f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}"><soapenv:Body/></soapenv:Envelope>'.encode(),
                 id="empty body"),
])
def test_an_unreadable_request_is_a_client_fault(emulator, body):
    with emulator.nothing_written():
        response = emulator.post_soap("InsertFacadeObject", body)

    asmx_refused(response)


def test_a_body_element_in_another_namespace_is_refused(emulator):
    token = emulator.authenticate()
    wrong = envelope(f"<ns:InsertFacadeObject>{insert_body([activity()])}</ns:InsertFacadeObject>", token,
                     namespace="http://www.avectra.com/2006/")

    with emulator.nothing_written():
        response = emulator.post_soap("InsertFacadeObject", wrong)

    assert "SOAPAction" in asmx_refused(response)["faultstring"]


def test_an_unknown_operation_is_refused(emulator):
    with emulator.nothing_written():
        response = emulator.soap("DeleteFacadeObject", "<ns:szObjectName>Customer</ns:szObjectName>",
                                 emulator.authenticate())

    assert "http://www.avectra.com/2005/DeleteFacadeObject" in asmx_refused(response)["faultstring"]


@pytest.fixture
def listener() -> Iterator[tuple[str, list[str]]]:
    """A local HTTP server that records every path it is asked for: an entity resolver would show up here."""
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b'<!ENTITY leaked "LEAKED-BY-DTD">')

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", hits
    server.shutdown()
    thread.join()


@pytest.mark.parametrize("doctype, reference", [
    ('<!DOCTYPE soapenv:Envelope [<!ENTITY secret SYSTEM "{file}">]>', "&secret;"),
    ('<!DOCTYPE soapenv:Envelope [<!ENTITY secret SYSTEM "{url}/entity">]>', "&secret;"),
    ('<!DOCTYPE soapenv:Envelope [<!ENTITY % remote SYSTEM "{url}/dtd"> %remote;]>', "&leaked;"),
    ('<!DOCTYPE soapenv:Envelope SYSTEM "{url}/external.dtd">', "&leaked;"),
], ids=["file entity", "http entity", "parameter entity", "external DTD"])
def test_an_external_entity_is_never_resolved(emulator, tmp_path, listener, doctype, reference):
    url, hits = listener
    secret = tmp_path / "secret.txt"
    secret.write_text(f"SECRET-{uuid.uuid4()}")
    body = f"<ns:InsertFacadeObject>{insert_body([activity(cma_eml_address=reference)])}</ns:InsertFacadeObject>"
    request = envelope(body, emulator.authenticate(), prolog=doctype.format(file=secret.as_uri(), url=url))

    with emulator.nothing_written():
        response = emulator.post_soap("InsertFacadeObject", request)

    asmx_refused(response)
    assert secret.read_text() not in response.text
    assert "LEAKED" not in response.text
    assert hits == []


def test_a_billion_laughs_is_refused_quickly(emulator):
    entities = '<!ENTITY lol0 "lol">' + "".join(
        f'<!ENTITY lol{level} "{f"&lol{level - 1};" * 10}">' for level in range(1, 10))
    body = f"<ns:InsertFacadeObject>{insert_body([activity(cma_activity_code='&lol9;')])}</ns:InsertFacadeObject>"
    request = envelope(body, emulator.authenticate(), prolog=f"<!DOCTYPE soapenv:Envelope [{entities}]>")

    with emulator.nothing_written():
        started = time.monotonic()
        response = emulator.post_soap("InsertFacadeObject", request)
        elapsed = time.monotonic() - started

    asmx_refused(response)
    assert elapsed < 5, f"took {elapsed:.1f}s"
    assert "lollollol" not in response.text


# --------------------------------------------------------------------------------------------- oversized bodies

CAP = 2000


def soap_insert_request(emulator) -> tuple[str, bytes, dict[str, str]]:
    body = f"<ns:InsertFacadeObject>{insert_body([activity()])}</ns:InsertFacadeObject>"
    headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{XWEB}InsertFacadeObject"'}
    return emulator.soap_url, envelope(body, emulator.authenticate()).encode(), headers


def json_insert_request(emulator) -> tuple[str, bytes, dict[str, str]]:
    params = {"szObjectName": "CustomerMessagingActivity",
              "oNode": {"CustomerMessagingActivityObjects": {"CustomerMessagingActivityObject": activity()}}}
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {emulator.authenticate()}"}
    return emulator.json_url("InsertFacadeObject"), json.dumps({"InsertFacadeObject": params}).encode(), headers


def chunks(data: bytes) -> Iterator[bytes]:
    """A body sent with Transfer-Encoding: chunked (no Content-Length)."""
    for start in range(0, len(data), 500):
        yield data[start:start + 500]


REQUESTS = {"SOAP": soap_insert_request, "JSON": json_insert_request}


@pytest.mark.parametrize("transfer", [
    "content-length",
    "chunked",
])
@pytest.mark.parametrize("endpoint", REQUESTS)
def test_an_oversized_body_is_413_and_writes_nothing(emulator_with, endpoint, transfer):
    capped = emulator_with(max_request_bytes=CAP)
    url, data, headers = REQUESTS[endpoint](capped)
    assert len(data) < CAP
    padded = data + b" " * (3000 - len(data))  # still a valid request: only trailing white space is added

    with capped.nothing_written():
        response = requests.post(url, data=chunks(padded) if transfer == "chunked" else padded, headers=headers,
                                 timeout=30)

    assert response.status_code == 413, response.text
    assert "Traceback" not in response.text


@pytest.mark.parametrize("endpoint", REQUESTS)
def test_a_body_under_the_cap_is_served(emulator_with, endpoint):
    capped = emulator_with(max_request_bytes=CAP)
    url, data, headers = REQUESTS[endpoint](capped)

    response = requests.post(url, data=data, headers=headers, timeout=30)

    assert response.status_code == 200, response.text
    assert len(capped.rows(CustomerMessagingActivity)) == 1
