"""The vendor's own example of customer_events/bulk/web/create, sent unchanged but for its {{token}}, gets the
vendor's own answer (ids and numbers aside); what it created is read back through show and list."""

from __future__ import annotations

import json

import requests

from crmcom_support import (
    ACCOUNT_20,
    ACCOUNT_77,
    HEX_ID,
    UNIT,
    fixture,
    login,
    ok,
    post,
    refused,
    seed_example_request,
    show,
)


def send_example(emulator, token: str) -> requests.Response:
    return requests.post(emulator.crmcom_url("customer_events/bulk/web/create"), data=seed_example_request(token),
                         headers={"Content-Type": "application/json"}, timeout=30)


def without_ids_and_numbers(answer: dict) -> dict:
    """The answer with every processed event's id and number blanked, after checking their form."""
    for result in answer["data"]["processed_customer_events_set"]:
        assert HEX_ID.fullmatch(result["id"]), result
        assert result["number"].isdigit(), result
        result["id"], result["number"] = "<id>", "<number>"
    return answer


def test_the_vendors_example_gets_the_vendors_answer(emulator):
    response = send_example(emulator, login(emulator))

    assert response.status_code == 200, response.text
    expected = json.loads(fixture("bulk_web_create.response.json"))
    assert without_ids_and_numbers(response.json()) == without_ids_and_numbers(expected)


def test_numbers_are_sequential_across_calls_and_ids_unique(emulator):
    token = login(emulator)
    first = send_example(emulator, token).json()["data"]["processed_customer_events_set"]
    second = send_example(emulator, token).json()["data"]["processed_customer_events_set"]

    numbers = [int(result["number"]) for result in first + second]
    assert numbers == list(range(numbers[0], numbers[0] + 4))
    assert len({result["id"] for result in first + second}) == 4


def test_created_events_are_read_back_by_show_and_list(emulator):
    token = login(emulator)
    processed = send_example(emulator, token).json()["data"]["processed_customer_events_set"]
    by_request = {result["request_unique_identifier"]: result for result in processed}

    shown = ok(show(emulator, token, f"id={by_request['06']['id']}"))
    assert shown["id"] == by_request["06"]["id"] and shown["number"] == by_request["06"]["number"]
    assert shown["type"] == "WEB" and shown["life_cycle_state"] == "POSTED"
    assert shown["performed_on"] == "2016-06-22T15:00:00"
    assert shown["website"] == "www.crm.com"
    assert shown["accounts_receivable"]["number"] == ACCOUNT_20
    assert shown["performed_by_unit"]["name"] == UNIT
    assert shown["rewards_participant"] is None and shown["classification"] is None
    assert shown["log_information"]["created_by_user"] == emulator.settings.crmcom_user

    assert ok(show(emulator, token, f"number={by_request['07']['number']}"))["id"] == by_request["07"]["id"]

    listed = ok(post(emulator, "customer_events/web/list", {"token": token}))
    assert [(event["id"], event["accounts_receivable"]["number"]) for event in listed] == [
        (by_request["06"]["id"], ACCOUNT_20), (by_request["07"]["id"], ACCOUNT_77)]


def test_show_answers_only_the_fields_asked_for(emulator):
    token = login(emulator)
    created = send_example(emulator, token).json()["data"]["processed_customer_events_set"][0]

    shown = ok(show(emulator, token, f"id={created['id']}", fields_set="id,website,performed_by_unit"))

    assert shown == {"id": created["id"], "website": "www.crm.com",
                     "performed_by_unit": {"id": shown["performed_by_unit"]["id"], "name": UNIT,
                                           "alternative_code": "ADMIN"}}


def test_show_of_an_unknown_event_is_not_found(emulator):
    token = login(emulator)
    refused(show(emulator, token, "number=999"), "NotFoundAPIValueException", "Web Customer Event (999) Not Found.")
    refused(show(emulator, token, "number=ABC"), "NotFoundAPIValueException", "Web Customer Event (ABC) Not Found.")
    refused(show(emulator, token, "number=99999999999"), "NotFoundAPIValueException")
    refused(show(emulator, token, "id=0123456789ABCDEF0123456789ABCDEF"), "NotFoundAPIValueException")
    response = requests.get(emulator.crmcom_url("customer_events/web/show"), params={"token": token}, timeout=30)
    refused(response, "MissingMandatoryAPIValueException", "Parameter (customer_event_identifier) Not Specified.")


def test_calls_are_journaled_with_their_user_and_outcome(emulator):
    send_example(emulator, login(emulator))
    send_example(emulator, "0123456789ABCDEF0123456789ABCDEF")

    calls = [(entry["operation"], entry["user"], entry["outcome"]) for entry in emulator.journal(vendor="crmcom")]
    user = emulator.settings.crmcom_user
    assert calls == [
        ("authentication/token", user, "ok"),
        ("customer_events/bulk/web/create", user, "ok"),
        ("customer_events/bulk/web/create", None, "InvalidTokenException"),
    ]
