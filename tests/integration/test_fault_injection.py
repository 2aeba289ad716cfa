"""Fault injection (/_emulator/faults, settings, `serve --fault`) as a connector's tests use it, on both database
backends: each action, what it leaves in the database, and which calls a rule picks (operation, count, probability,
seed)."""

from __future__ import annotations

import json
import random
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from control_support import (
    activities,
    add_rule,
    another_server,
    control,
    control_ok,
    get_version,
    insert_activity,
    journal,
    json_call,
    refusal,
    rule_state,
    token_kind,
)
import crmcom_support as crmcom
import sap_support as sap
from support import Emulator, fault
from xweb_emulator.faults import FaultSpec
from xweb_emulator.settings import Settings

INJECTED_MESSAGES = {
    "SystemExceptionInfo": "An error occurred (injected by xweb-emulator).",
    "InvalidTokenExceptionInfo": "Failed to validate the authentication token: it has expired or is not valid.",
    "InvalidCredentialsExceptionInfo": "Invalid Credentials Supplied",
}


@pytest.fixture
def emulator(xweb_emulator, served) -> Emulator:
    """The plugin's emulator (reset by its fixture), with the suite's xWeb helpers (support.Emulator)."""
    assert served.base_url == xweb_emulator.base_url
    return served


def throttled(response: requests.Response) -> bool:
    assert response.status_code in (200, 429), response.text
    return response.status_code == 429


# ------------------------------------------------------------------------------------------------------ latency


def test_latency_delays_the_answer_and_shows_in_the_journal(emulator):
    token = emulator.authenticate()
    rule = add_rule(emulator, action="latency", latency_ms=200, operation="GetVersion")

    started = time.perf_counter()
    response = get_version(emulator, token)
    elapsed = time.perf_counter() - started

    assert response.status_code == 200, response.text
    assert elapsed >= 0.2
    (entry,) = journal(emulator, operation="GetVersion")
    assert entry["outcome"] == "ok" and entry["duration_ms"] >= 200
    assert rule_state(emulator, rule["id"])["fired"] == 1
    assert emulator.soap("TestConnection").status_code == 200  # another operation: the rule does not even draw
    assert rule_state(emulator, rule["id"])["draws"] == 1
    (other,) = journal(emulator, operation="TestConnection")
    assert other["fault_rule_id"] is None


def test_latency_can_be_added_to_another_action(emulator):
    add_rule(emulator, action="throttle", latency_ms=200, count=1)

    started = time.perf_counter()
    response = emulator.soap("TestConnection")

    assert response.status_code == 429
    assert time.perf_counter() - started >= 0.2
    assert journal(emulator)[0]["duration_ms"] >= 200


# -------------------------------------------------------------------------------------------------------- fault


@pytest.mark.parametrize("kind", INJECTED_MESSAGES)
def test_an_injected_soap_fault_has_the_vendor_shape_and_kills_the_token(emulator, kind):
    token = emulator.authenticate()
    rule = add_rule(emulator, action="fault", fault_kind=kind, operation="GetVersion", count=1)

    response = get_version(emulator, token)

    refused = fault(response)
    assert (refused["faultcode"], refused["kind"], refused["message"]) == ("soap:Client", kind, INJECTED_MESSAGES[kind])
    assert refused["faultstring"].startswith(f"System.Web.Services.Protocols.SoapException: {INJECTED_MESSAGES[kind]}")
    assert "AuthorizationToken" not in response.text
    (entry,) = journal(emulator, operation="GetVersion")
    assert (entry["outcome"], entry["status"], entry["fault_rule_id"]) == (kind, 500, rule["id"])
    # The token the failed call came with is dead, as after a real fault.
    assert token_kind(get_version(emulator, token)) == "InvalidTokenExceptionInfo"
    assert get_version(emulator, emulator.authenticate()).status_code == 200


@pytest.mark.parametrize("kind", INJECTED_MESSAGES)
def test_an_injected_json_fault_has_the_vendor_shape_and_kills_the_token(emulator, kind):
    token = emulator.authenticate()
    add_rule(emulator, action="fault", fault_kind=kind, operation="GetVersion", count=1)

    response = json_call(emulator, "GetVersion", token=token)

    assert response.status_code == 500, response.text
    assert response.json()[kind]["XWebException"]["Message"] == INJECTED_MESSAGES[kind]
    assert "WWW-Authenticate" not in response.headers
    (entry,) = journal(emulator, operation="GetVersion")
    assert (entry["outcome"], entry["status"]) == (kind, 500)
    assert json_call(emulator, "GetVersion", token=token).json()["InvalidTokenExceptionInfo"]
    assert json_call(emulator, "GetVersion").status_code == 200  # count=1: the next call is answered


def test_an_injected_fault_on_authenticate_answers_the_chosen_kind(emulator):
    add_rule(emulator, action="fault", fault_kind="LockedCredentialsExceptionInfo", operation="Authenticate", count=1)

    refused = fault(emulator.soap("Authenticate", f"<ns:userName>{emulator.settings.xweb_user}</ns:userName>"
                                                  f"<ns:password>{emulator.settings.xweb_password}</ns:password>"))

    assert (refused["kind"], refused["message"]) == ("LockedCredentialsExceptionInfo", "Credentials Locked Out")
    assert emulator.authenticate()


def test_an_injected_fault_on_insert_writes_nothing_and_kills_the_token(emulator):
    token = emulator.authenticate()
    add_rule(emulator, action="fault", fault_kind="SystemExceptionInfo", operation="InsertFacadeObject", count=1)

    with emulator.nothing_written():
        assert fault(insert_activity(emulator, token))["kind"] == "SystemExceptionInfo"
    assert activities(emulator) == []

    assert token_kind(insert_activity(emulator, token)) == "InvalidTokenExceptionInfo"
    # The same request with a live token is written: the fault, not the request, kept it out.
    assert insert_activity(emulator, emulator.authenticate()).status_code == 200
    assert len(activities(emulator)) == 1


# ---------------------------------------------------------------------------------------- throttle, unavailable


@pytest.mark.parametrize(("action", "status", "outcome"), [("throttle", 429, "throttled"),
                                                            ("unavailable", 503, "unavailable")])
def test_a_refusal_answers_its_status_with_retry_after_and_writes_nothing(emulator, action, status, outcome):
    token = emulator.authenticate()
    rule = add_rule(emulator, action=action, operation="InsertFacadeObject", retry_after_seconds=7, count=1)

    with emulator.nothing_written():
        response = insert_activity(emulator, token)
    assert response.status_code == status
    assert response.headers["Retry-After"] == "7"
    (entry,) = journal(emulator, operation="InsertFacadeObject")
    assert (entry["outcome"], entry["status"], entry["fault_rule_id"]) == (outcome, status, rule["id"])

    # The web server refused the call before netFORUM saw it: the token lives on, and the retry is written.
    assert insert_activity(emulator, token).status_code == 200
    assert len(activities(emulator)) == 1


def test_a_refused_call_is_journalled_with_the_user_it_came_as(emulator):
    """The web server refuses before anything authenticates; the journal still says who called, where the request
    names a user: by a token the emulator issued, by HTTP Basic, or by a login's user name."""
    token = emulator.authenticate()
    crmcom_token = crmcom.login(emulator)
    for vendor in ("xweb", "sap", "crmcom"):
        add_rule(emulator, vendor=vendor, action="throttle")
    control_ok(emulator, "DELETE", "requests")

    calls = {
        "SOAP, token": lambda: get_version(emulator, token),
        "SOAP, a token never issued": lambda: get_version(emulator, str(uuid.uuid4())),
        "SOAP, no token": lambda: emulator.soap("TestConnection"),
        "SOAP, Authenticate": lambda: emulator.soap(
            "Authenticate", "<ns:userName>someone</ns:userName><ns:password>x</ns:password>"),
        "JSON, Basic": lambda: json_call(emulator, "GetVersion"),
        "JSON, Bearer": lambda: json_call(emulator, "GetVersion", token=token),
        "SAP, Basic": lambda: sap.post(emulator, "MaintainReactionBundle", sap.message("MaintainReactionBundle", "")),
        "CRM.COM, login": lambda: crmcom.post(emulator, "authentication/token",
                                              {"username": "someone", "password": "x", "organisation": "demo"}),
        "CRM.COM, token": lambda: crmcom.show(emulator, crmcom_token, "number=1"),
    }
    for name, send in calls.items():
        assert send().status_code == 429, name
    users = {name: entry["user"] for name, entry in zip(calls, journal(emulator), strict=True)}

    assert users == {
        "SOAP, token": "demo", "SOAP, a token never issued": None, "SOAP, no token": None,
        "SOAP, Authenticate": "someone", "JSON, Basic": "demo", "JSON, Bearer": "demo", "SAP, Basic": "demo",
        "CRM.COM, login": "someone", "CRM.COM, token": "demo",
    }
    assert {entry["outcome"] for entry in journal(emulator)} == {"throttled"}


def test_retry_after_defaults_to_one_second(emulator):
    add_rule(emulator, action="throttle", operation="TestConnection", count=1)

    assert emulator.soap("TestConnection").headers["Retry-After"] == "1"


def test_throttle_applies_to_the_json_twin(emulator):
    add_rule(emulator, action="throttle", operation="GetVersion", count=1)

    response = json_call(emulator, "GetVersion")

    assert response.status_code == 429 and response.headers["Retry-After"] == "1"
    assert json_call(emulator, "GetVersion").status_code == 200


# --------------------------------------------------------------------------------------------------------- drop


def test_a_dropped_connection_answers_nothing_and_writes_nothing(emulator):
    token = emulator.authenticate()
    rule = add_rule(emulator, action="drop", operation="InsertFacadeObject", count=1)

    with emulator.nothing_written(), pytest.raises(requests.ConnectionError):
        insert_activity(emulator, token)

    (entry,) = journal(emulator, operation="InsertFacadeObject")
    assert (entry["outcome"], entry["fault_rule_id"]) == ("dropped", rule["id"])
    assert insert_activity(emulator, token).status_code == 200
    assert len(activities(emulator)) == 1


# ------------------------------------------------------------------------------------------------- expire_token


def test_expire_token_makes_old_tokens_fail_as_expired_then_authenticate_works(emulator):
    first, second = emulator.authenticate(), emulator.authenticate()
    rule = add_rule(emulator, action="expire_token", operation="GetVersion", count=1)

    refused = fault(get_version(emulator, first))

    assert refused["kind"] == "InvalidTokenExceptionInfo"
    assert "expired" in refused["message"]
    (entry,) = journal(emulator, operation="GetVersion")
    assert (entry["outcome"], entry["fault_rule_id"]) == ("InvalidTokenExceptionInfo", rule["id"])
    assert token_kind(get_version(emulator, second)) == "InvalidTokenExceptionInfo"  # every token it had issued
    fresh = emulator.authenticate()
    assert get_version(emulator, fresh).status_code == 200


def test_expire_token_on_a_json_call(emulator):
    token = emulator.authenticate()
    add_rule(emulator, action="expire_token", count=1)

    response = json_call(emulator, "GetVersion", token=token)

    assert response.status_code == 500
    assert "InvalidTokenExceptionInfo" in response.json()


# ------------------------------------------------------------------------------------------ which calls a rule hits


def test_count_affects_exactly_the_next_n_matching_calls(emulator):
    rule = add_rule(emulator, action="throttle", operation="TestConnection", count=2)
    assert (rule["remaining"], rule["fired"], rule["draws"]) == (2, 0, 0)

    assert [throttled(emulator.soap("TestConnection")) for _ in range(2)] == [True, True]
    assert (rule_state(emulator, rule["id"])["remaining"], rule_state(emulator, rule["id"])["fired"],
            rule_state(emulator, rule["id"])["draws"]) == (0, 2, 2)
    assert [throttled(emulator.soap("TestConnection")) for _ in range(3)] == [False, False, False]
    assert rule_state(emulator, rule["id"])["fired"] == 2


def test_a_rule_without_count_fires_until_removed(emulator):
    rule = add_rule(emulator, action="throttle", operation="TestConnection")

    assert all(throttled(emulator.soap("TestConnection")) for _ in range(4))
    assert rule_state(emulator, rule["id"])["fired"] == 4 and rule_state(emulator, rule["id"])["remaining"] is None


def test_a_rule_matches_its_operation_without_regard_to_case_and_nothing_else(emulator):
    token = emulator.authenticate()
    rule = add_rule(emulator, action="throttle", operation="getVERSION")

    assert throttled(get_version(emulator, token))
    assert json_call(emulator, "GetVersion").status_code == 429
    assert not throttled(emulator.soap("TestConnection"))
    assert not throttled(emulator.soap("GetPromotionalMailingTypes", "", token))
    assert json_call(emulator, "GetDateTime").status_code == 200
    assert requests.get(emulator.base_url + "/xWeb/JSON/getversion", auth=("demo", "demo"), timeout=30
                        ).status_code == 429  # the method as ASP.NET matches it, in any case
    assert rule_state(emulator, rule["id"])["draws"] == 3


def test_a_rule_without_operation_matches_every_operation_of_its_vendor_only(emulator):
    add_rule(emulator, vendor="crmcom", action="throttle")
    assert emulator.soap("TestConnection").status_code == 200  # another vendor's rule
    token = emulator.authenticate()

    add_rule(emulator, action="throttle")

    assert throttled(emulator.soap("TestConnection"))
    assert throttled(get_version(emulator, token))
    assert emulator.soap("Authenticate").status_code == 429
    assert json_call(emulator, "GetVersion").status_code == 429


def test_probability_zero_never_fires(emulator):
    rule = add_rule(emulator, action="throttle", operation="TestConnection", probability=0)

    assert not any(throttled(emulator.soap("TestConnection")) for _ in range(6))
    state = rule_state(emulator, rule["id"])
    assert (state["draws"], state["fired"]) == (6, 0)


def test_a_seeded_probability_fires_reproducibly_after_a_reset(emulator):
    calls, seed = 16, 7
    # The documented draw: the n-th matching call draws random.Random(f"{seed}:{n}").
    expected = [random.Random(f"{seed}:{n}").random() < 0.5 for n in range(calls)]
    assert True in expected and False in expected

    patterns = []
    for _ in range(2):
        control_ok(emulator, "POST", "reset")
        rule = add_rule(emulator, action="throttle", operation="TestConnection", probability=0.5, seed=seed)
        patterns.append([throttled(emulator.soap("TestConnection")) for _ in range(calls)])
        state = rule_state(emulator, rule["id"])
        assert (state["draws"], state["fired"]) == (calls, sum(expected))

    assert patterns == [expected, expected]


def test_count_and_seeded_draws_hold_under_concurrent_calls(emulator):
    calls, seed = 12, 11
    counted = add_rule(emulator, action="throttle", operation="TestConnection", count=3)
    seeded = add_rule(emulator, action="unavailable", operation="GetDateTime", probability=0.5, seed=seed)

    def call(operation: str) -> int:
        return emulator.soap(operation).status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(pool.map(call, ["TestConnection", "GetDateTime"] * calls))

    test_connection, get_date_time = statuses[0::2], statuses[1::2]
    assert sorted(test_connection) == [200] * (calls - 3) + [429] * 3
    # Whichever thread takes the n-th draw, the draws are the seed's: as many fire as in a sequential run.
    expected = sum(random.Random(f"{seed}:{n}").random() < 0.5 for n in range(calls))
    assert get_date_time.count(503) == expected and set(get_date_time) <= {200, 503}
    assert (rule_state(emulator, counted["id"])["fired"], rule_state(emulator, seeded["id"])["draws"]) == (3, calls)


def test_rules_are_drawn_in_order_and_the_first_non_latency_one_wins(emulator):
    first = add_rule(emulator, action="unavailable", operation="TestConnection", count=1)
    second = add_rule(emulator, action="throttle", operation="TestConnection", count=1)

    assert emulator.soap("TestConnection").status_code == 503
    assert emulator.soap("TestConnection").status_code == 429
    assert emulator.soap("TestConnection").status_code == 200
    assert rule_state(emulator, first["id"])["fired"] == 1 and rule_state(emulator, second["id"])["fired"] == 1


# ------------------------------------------------------------------------------------------ managing the rules


@pytest.mark.parametrize(("rule", "expected"), [
    ({"vendor": "nosuchvendor", "action": "throttle"}, "nosuchvendor"),
    ({"vendor": "xweb", "action": "fault", "fault_kind": "NoSuchExceptionInfo"}, "NoSuchExceptionInfo"),
    ({"vendor": "xweb", "action": "fault"}, "fault_kind"),
    ({"vendor": "xweb", "action": "throttle", "fault_kind": "SystemExceptionInfo"}, "fault_kind"),
    ({"vendor": "xweb", "action": "explode"}, "action"),
    ({"vendor": "xweb", "action": "throttle", "probability": 1.5}, "probability"),
    ({"vendor": "xweb", "action": "throttle", "probability": -0.1}, "probability"),
    ({"vendor": "xweb", "action": "throttle", "count": 0}, "count"),
    ({"vendor": "xweb", "action": "latency"}, "latency_ms"),
    ({"vendor": "xweb", "action": "throttle", "retry_after_seconds": -1}, "retry_after_seconds"),
    ({"vendor": "xweb", "action": "throttle", "colour": "red"}, "colour"),
    ({"action": "throttle"}, "vendor"),
], ids=["unknown-vendor", "unknown-kind", "fault-without-kind", "kind-without-fault", "unknown-action",
        "probability-above-1", "negative-probability", "count-0", "latency-without-ms", "negative-retry-after",
        "unknown-field", "no-vendor"])
def test_an_invalid_rule_is_a_400_naming_what_is_wrong(emulator, rule, expected):
    assert expected in refusal(control(emulator, "POST", "faults", json=rule))
    assert control_ok(emulator, "GET", "faults")["rules"] == []


def test_a_list_of_rules_is_added_whole_or_not_at_all(emulator):
    valid = {"vendor": "xweb", "action": "throttle", "operation": "TestConnection"}
    refusal(control(emulator, "POST", "faults", json=[valid, {"vendor": "xweb", "action": "fault"}]))
    assert control_ok(emulator, "GET", "faults")["rules"] == []

    added = control(emulator, "POST", "faults", json=[valid, {"vendor": "xweb", "action": "expire_token"}])

    assert added.status_code == 201, added.text
    assert [rule["action"] for rule in added.json()["rules"]] == ["throttle", "expire_token"]
    assert [rule["id"] for rule in control_ok(emulator, "GET", "faults")["rules"]] == [
        rule["id"] for rule in added.json()["rules"]]


def test_get_faults_lists_the_rules_and_each_vendors_fault_kinds(emulator):
    rule = add_rule(emulator, action="fault", fault_kind="SystemExceptionInfo", operation="GetVersion",
                    probability=0.25, seed=3, count=4, latency_ms=10)

    listed = control_ok(emulator, "GET", "faults")

    assert listed["rules"] == [rule]
    assert {key: rule[key] for key in ("vendor", "operation", "action", "fault_kind", "probability", "seed",
                                       "remaining", "latency_ms", "configured")} == {
        "vendor": "xweb", "operation": "GetVersion", "action": "fault", "fault_kind": "SystemExceptionInfo",
        "probability": 0.25, "seed": 3, "remaining": 4, "latency_ms": 10, "configured": False}
    assert set(INJECTED_MESSAGES) <= set(listed["vendors"]["xweb"]["fault_kinds"])
    assert listed["vendors"]["xweb"]["has_tokens"] is True


def test_delete_removes_one_rule_or_all(emulator):
    throttle = add_rule(emulator, action="throttle", operation="TestConnection")
    unavailable = add_rule(emulator, action="unavailable", operation="GetDateTime")

    assert control_ok(emulator, "DELETE", f"faults/{throttle['id']}") == {"removed": throttle["id"]}
    assert [rule["id"] for rule in control_ok(emulator, "GET", "faults")["rules"]] == [unavailable["id"]]
    assert emulator.soap("TestConnection").status_code == 200
    assert emulator.soap("GetDateTime").status_code == 503
    refusal(control(emulator, "DELETE", f"faults/{throttle['id']}"), 404)

    control_ok(emulator, "DELETE", "faults")

    assert control_ok(emulator, "GET", "faults")["rules"] == []
    assert emulator.soap("GetDateTime").status_code == 200


# ---------------------------------------------------------------------------------------- configured rules


def test_rules_from_settings_are_in_force_from_start_and_restored_by_reset(emulator, monkeypatch):
    monkeypatch.setenv("XWEB_EMULATOR_FAULTS", json.dumps([
        {"vendor": "xweb", "action": "throttle", "operation": "TestConnection", "retry_after_seconds": 5}]))
    from_environment = Settings().faults
    assert from_environment == (FaultSpec(vendor="xweb", action="throttle", operation="TestConnection",
                                          retry_after_seconds=5),)

    with another_server(emulator, faults=from_environment) as configured:
        (rule,) = control_ok(configured, "GET", "faults")["rules"]
        assert rule["configured"] is True
        first = configured.soap("TestConnection")
        assert (first.status_code, first.headers["Retry-After"]) == (429, "5")

        control_ok(configured, "DELETE", "faults")
        assert configured.soap("TestConnection").status_code == 200
        control_ok(configured, "POST", "reset")

        (restored,) = control_ok(configured, "GET", "faults")["rules"]
        assert (restored["configured"], restored["action"], restored["fired"]) == (True, "throttle", 0)
        assert configured.soap("TestConnection").status_code == 429
        assert configured.soap("GetDateTime").status_code == 200


def test_a_rule_from_settings_for_an_unknown_vendor_stops_the_start(emulator):
    from xweb_emulator.faults import InvalidFaultRule

    with pytest.raises(InvalidFaultRule, match="nosuchvendor"), \
            another_server(emulator, faults=(FaultSpec(vendor="nosuchvendor", action="throttle"),)):
        pass


def test_rules_never_apply_to_the_control_plane(emulator):
    # Rules apply to vendor calls, never to the control plane a test uses to arrange and inspect.
    add_rule(emulator, action="drop")
    add_rule(emulator, action="unavailable")
    key = str(uuid.uuid4())

    created = emulator.seed({"xweb": {"Customer": [{"cst_key": key, "cst_type": "Individual"}]}})
    assert created == {"xweb": {"Customer": [key]}}
    assert control_ok(emulator, "GET", f"state/xweb/Customer?cst_key={key}")["count"] == 1
    assert control_ok(emulator, "GET", "health")["status"] == "ready"
