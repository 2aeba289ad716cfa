"""Whole requests: the limits of a bulk call, what is refused before any event is looked at (nothing written), the
single create, list, injected faults, concurrent numbering, and seeds."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from crmcom_support import (
    ACCOUNT_20,
    ACCOUNT_77,
    HEX_ID,
    PARTICIPANT,
    bulk,
    create_one,
    event,
    login,
    nothing_written,
    ok,
    post,
    processed,
    refused,
    show,
)
from xweb_emulator.vendor import SeedError

BULK = "customer_events/bulk/web/create"


@pytest.fixture
def token(emulator) -> str:
    return login(emulator)


def numbers(data: dict) -> list[int]:
    return [int(result["number"]) for result in data["processed_customer_events_set"]]


# ------------------------------------------------------------------------------------------------ bulk limits


def test_a_thousand_events_are_accepted_in_one_call(emulator, token):
    data = bulk(emulator, token, [event(str(n)) for n in range(1000)])

    assert data["unprocessed_customer_events_set"] == []
    assert [result["request_unique_identifier"] for result in data["processed_customer_events_set"]] == [
        str(n) for n in range(1000)]
    assert numbers(data) == list(range(1, 1001))
    assert len(emulator.state("crmcom", "WebCustomerEvent")) == 1000


def test_a_thousand_and_one_events_are_refused_whole(emulator, token):
    with nothing_written(emulator):
        refused(post(emulator, BULK, {"token": token, "web_customer_events_set": [event(str(n)) for n in range(1001)]}),
                "MaximumAPIValuesExceededException",
                "Parameter (web_customer_events_set) Holds 1001 Web Customer Events; The Maximum Is 1000.")


def test_good_events_are_created_whatever_happens_to_the_others(emulator, token):
    data = bulk(emulator, token, [
        event("1"),
        event("2", accounts_receivable_identifier={"number": "ACR404"}),
        event("3", accounts_receivable_identifier={"number": ACCOUNT_77}),
        event("4", website=None),
        event("5", udf_float_1="many"),
        event("6", rewards_participant_identifier={"number": PARTICIPANT}),
    ])

    assert [(result["request_unique_identifier"], result["error_code"])
            for result in data["unprocessed_customer_events_set"]] == [
        ("2", "NotFoundAPIValueException"), ("4", "MissingMandatoryAPIValueException"),
        ("5", "InvalidAPIValueTypeException")]
    assert [result["request_unique_identifier"] for result in data["processed_customer_events_set"]] == ["1", "3", "6"]
    assert numbers(data) == [1, 2, 3]  # numbers only for what was created
    stored = {record["number"]: record for record in emulator.state("crmcom", "WebCustomerEvent")}
    assert sorted(stored) == [1, 2, 3]
    assert stored[3]["rewards_participant_id"] is not None


@pytest.mark.parametrize("body, code, message", [
    ({}, "MissingMandatoryAPIValueException", "Parameter (web_customer_events_set) Not Specified."),
    ({"web_customer_events_set": []}, "MissingMandatoryAPIValueException",
     "Parameter (web_customer_events_set) Not Specified."),
    ({"web_customer_events_set": {"request_unique_identifier": "1"}}, "InvalidAPIValueTypeException",
     "Parameter (web_customer_events_set) Is Not A Set."),
    ({"web_customer_events_set": [event()], "fields_set": "id,colour"}, "InvalidAPIValueException",
     "Parameter (fields_set) Field (colour) Not Available."),
    ({"web_customer_events_set": [event()], "fields_set": {"id": True}}, "InvalidAPIValueTypeException",
     "Parameter (fields_set) Is Not A Comma Separated List Of Strings."),
], ids=["missing", "empty", "not-a-set", "unknown-field", "fields-not-strings"])
def test_a_bad_request_is_refused_whole(emulator, token, body, code, message):
    with nothing_written(emulator):
        refused(post(emulator, BULK, {"token": token, **body}), code, message)


@pytest.mark.parametrize("body, message", [
    (b'{"token": "x", "web_customer_events_set": [', "The Request Body Is Not Valid JSON"),
    (b"\xff\xfe\x00", "The Request Body Is Not Valid JSON"),
    (b'[{"request_unique_identifier": "1"}]', "The Request Body Is Not A JSON Object."),
], ids=["truncated", "not-text", "not-an-object"])
def test_a_body_that_is_no_json_object_is_refused(emulator, body, message):
    with nothing_written(emulator):
        refused(requests.post(emulator.crmcom_url(BULK), data=body, headers={"Content-Type": "application/json"},
                              timeout=30), "InvalidJSONException", message)


def test_an_unknown_method_or_verb_is_answered_in_the_envelope(emulator, token):
    refused(post(emulator, "customer_events/web/delete", {"token": token}), "NotFoundAPIMethodException",
            "Method (customer_events/web/delete) Not Found.", http_status=404)
    refused(requests.get(emulator.crmcom_url(BULK), params={"token": token}, timeout=30),
            "NotFoundAPIMethodException", f"Method ({BULK}) Accepts POST Only.", http_status=405)
    refused(post(emulator, "customer_events/web/show", {"token": token}), "NotFoundAPIMethodException",
            http_status=405)
    # A path of no method, however close to one (a router would redirect it: the client gets the envelope instead).
    refused(post(emulator, "customer_events//web/create", {"token": token}), "NotFoundAPIMethodException",
            "Method (customer_events//web/create) Not Found.", http_status=404)


def test_a_method_path_may_end_in_a_slash(emulator, token):
    assert ok(post(emulator, "customer_events/web/create/", {"token": token, **event(description="one")}))["id"]


# ----------------------------------------------------------------------------------------------- single create


def test_the_single_create_answers_the_created_event(emulator, token):
    created = ok(post(emulator, "customer_events/web/create", {"token": token, **event(description="one")}))

    assert HEX_ID.fullmatch(created["id"]) and created["number"] == "1"
    assert (created["life_cycle_state"], created["description"]) == ("POSTED", "one")
    assert ok(show(emulator, token, f"id={created['id']}")) == created


def test_the_single_create_refuses_what_the_bulk_create_leaves_unprocessed(emulator, token):
    with nothing_written(emulator):
        refused(post(emulator, "customer_events/web/create",
                     {"token": token, **event(accounts_receivable_identifier={"number": "ACR00045000"})}),
                "NotFoundAPIValueException", "Account (ACR00045000) Not Found.")


def test_the_single_create_answers_the_fields_asked_for(emulator, token):
    created = ok(post(emulator, "customer_events/web/create", {"token": token, "fields_set": "number", **event()}))
    assert created == {"number": "1"}


# ------------------------------------------------------------------------------------------------------- list


def test_list_filters_and_pages(emulator, token):
    emulator.seed({"crmcom": {"CustomerEventClassification": [{"name": "Click", "alternative_code": "CLICK"}]}})
    bulk(emulator, token, [event("1"), event("2", accounts_receivable_identifier={"number": ACCOUNT_77}),
                           event("3", classification_identifier={"name": "Click"}),
                           event("4", accounts_receivable_identifier=None,
                                 rewards_participant_identifier={"number": PARTICIPANT})])

    def listed(**params) -> list[str]:
        return [record["number"] for record in ok(post(emulator, "customer_events/web/list",
                                                       {"token": token, **params}))]

    assert listed() == ["1", "2", "3", "4"]
    assert listed(accounts_receivable_identifier={"number": ACCOUNT_20}) == ["1", "3"]
    assert listed(rewards_participant_identifier={"number": PARTICIPANT}) == ["4"]
    assert listed(classification_identifier={"alternative_code": "CLICK"}) == ["3"]
    assert listed(number_of_results=2, offset=1) == ["2", "3"]
    assert listed(submitted_after_date="2000-01-01T00:00:00") == ["1", "2", "3", "4"]
    assert listed(submitted_before_date="2000-01-01T00:00:00") == []
    assert ok(post(emulator, "customer_events/web/list", {"token": token, "fields_set": "number,website",
                                                          "number_of_results": "1"})) == [
        {"number": "1", "website": "www.crm.com"}]


@pytest.mark.parametrize("params, code", [
    ({"accounts_receivable_identifier": {"number": "ACR404"}}, "NotFoundAPIValueException"),
    ({"number_of_results": "ten"}, "InvalidAPIValueTypeException"),
    ({"number_of_results": 0}, "InvalidAPIValueException"),
    ({"offset": 2**40}, "InvalidAPIValueException"),
    ({"submitted_after_date": "last week"}, "InvalidAPIValueTypeException"),
])
def test_list_refuses_bad_filters(emulator, token, params, code):
    refused(post(emulator, "customer_events/web/list", {"token": token, **params}), code)


# ------------------------------------------------------------------------------------------------ concurrency


def test_concurrent_calls_get_distinct_consecutive_numbers(emulator):
    tokens = [login(emulator) for _ in range(6)]

    def send(token: str) -> list[int]:
        return numbers(bulk(emulator, token, [event(str(n)) for n in range(5)]))

    with ThreadPoolExecutor(len(tokens)) as pool:
        results = list(pool.map(send, tokens))

    assert sorted(number for result in results for number in result) == list(range(1, 31))
    assert all(result == list(range(result[0], result[0] + 5)) for result in results)  # each call's are a run


# ----------------------------------------------------------------------------------------------------- faults


def test_fault_kinds_are_listed_for_the_harness(emulator):
    kinds = requests.get(f"{emulator.base_url}/_emulator/faults", timeout=30).json()["vendors"]["crmcom"]
    assert set(kinds["fault_kinds"]) == {"InvalidTokenException", "SystemException", "ItemSystemException"}
    assert kinds["has_tokens"] is True


def test_an_injected_invalid_token_fault_answers_as_an_expired_token(emulator, token):
    emulator.add_fault("crmcom", "fault", fault_kind="InvalidTokenException", count=1)

    with nothing_written(emulator):
        refused(create_one(emulator, token), "InvalidTokenException", "Token Not Valid Or Expired.")
    processed(ok(create_one(emulator, token)))
    assert emulator.journal(vendor="crmcom", operation=BULK)[0]["outcome"] == "InvalidTokenException"


@pytest.mark.parametrize("method", [BULK, "customer_events/web/create"])
def test_an_injected_system_fault_answers_http_500_and_writes_nothing(emulator, token, method):
    emulator.add_fault("crmcom", "fault", fault_kind="SystemException", count=1)

    with nothing_written(emulator):
        refused(post(emulator, method, {"token": token, "web_customer_events_set": [event()], **event()}),
                "SystemException", http_status=500)
    assert emulator.journal(vendor="crmcom", operation=method)[0]["outcome"] == "SystemException"


def test_an_injected_item_fault_leaves_every_event_unprocessed(emulator, token):
    emulator.add_fault("crmcom", "fault", fault_kind="ItemSystemException", operation=BULK, count=1)

    with nothing_written(emulator):
        data = bulk(emulator, token, [event("1"), event("2")])
    assert data["processed_customer_events_set"] == []
    assert [(result["request_unique_identifier"], result["error_code"])
            for result in data["unprocessed_customer_events_set"]] == [("1", "SystemException"),
                                                                       ("2", "SystemException")]
    assert data["unprocessed_customer_events_set"][0]["error_description"].startswith("Error:An Unexpected Error")
    processed(ok(create_one(emulator, token)))


def test_an_item_fault_on_another_method_is_a_system_fault(emulator, token):
    emulator.add_fault("crmcom", "fault", fault_kind="ItemSystemException", count=1)
    with nothing_written(emulator):
        refused(post(emulator, "customer_events/web/create", {"token": token, **event()}), "SystemException",
                http_status=500)


# ------------------------------------------------------------------------------------------------------ seeds


def test_demo_data_holds_what_the_vendors_example_names(emulator):
    assert {record["number"] for record in emulator.state("crmcom", "AccountsReceivable")} == {ACCOUNT_20, ACCOUNT_77}
    assert [record["name"] for record in emulator.state("crmcom", "Unit")] == ["Admin Unit"]


def test_a_seed_extends_the_data_through_the_apis_rules(emulator, token):
    created = emulator.seed({"crmcom": {
        "WebCustomerEvent": [{"accounts_receivable_identifier": {"number": "ACR0000000500"},
                              "performed_by_unit_identifier": {"alternative_code": "WEB"},
                              "performed_on": "2024-01-01T00:00:00", "website": "shop.example.com"}],
        "Unit": [{"name": "Web Unit", "alternative_code": "WEB"}],
        "AccountsReceivable": [{"id": "00000000000000000000000000000500", "number": "ACR0000000500",
                                "name": "Seeded"}],
    }})["crmcom"]

    assert created["AccountsReceivable"] == ["00000000000000000000000000000500"]
    (event_id,) = created["WebCustomerEvent"]
    shown = ok(show(emulator, token, f"id={event_id}"))
    assert (shown["number"], shown["performed_by_unit"]["name"]) == ("1", "Web Unit")
    assert shown["log_information"]["created_by_user"] == "seed"
    processed(ok(create_one(emulator, token, accounts_receivable_identifier={"name": "Seeded"})))


@pytest.mark.parametrize("section, message", [
    ({"Customer": []}, "Object (Customer) Not Known"),
    ({"AccountsReceivable": [{"number": ACCOUNT_20, "name": "Again"}]}, f"AccountsReceivable ({ACCOUNT_20}) Already"),
    ({"AccountsReceivable": [{"number": "ACR1"}]}, "Parameter (name) Not Specified."),
    ({"AccessToken": [{"rewards_participant_identifier": {"number": PARTICIPANT}, "identifier": "X"}]},
     "Parameter (pass_code) Not Specified."),
    ({"AccessToken": [{"rewards_participant_identifier": {"number": PARTICIPANT}, "life_cycle_state": "LOST"}]},
     "Life Cycle State (LOST) Not One Of"),
    ({"Unit": [{"id": "not-hex", "name": "U"}]}, "Id (not-hex) Is Not 32 Hexadecimal Characters."),
    ({"Unit": [{"name": "U", "alternative_code": "C" * 65}]}, "Unit alternative_code (CCC"),
    ({"AccessToken": [{"rewards_participant_identifier": {"number": PARTICIPANT}, "one_time_password": 2**40}]},
     f"AccessToken one_time_password ({2**40}) Out Of Range."),
    ({"Unit": [{"name": "Fine"}], "WebCustomerEvent": [{"website": "x"}]},
     "Parameter (accounts_receivable_identifier or rewards_participant_identifier) Not Specified."),
])
def test_a_seed_that_breaks_a_rule_is_refused_whole(emulator, section, message):
    with nothing_written(emulator), pytest.raises(SeedError, match=message.replace("(", r"\(").replace(")", r"\)")):
        emulator.emulator.seed({"crmcom": section})


def test_the_banner_names_the_web_api_and_its_user(emulator):
    lines = [line for line in emulator.emulator.describe(emulator.base_url) if "CRM.COM" in line]
    assert f"{emulator.base_url}/crmapi/rest/v2/<method>" in lines[0] and BULK in lines[0]
    assert "demo / demo, organisation demo" in lines[1] and "60 min idle" in lines[1]

