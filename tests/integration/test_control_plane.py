"""The control plane (/_emulator/) as a test harness drives it, through the package's pytest plugin (its
`xweb_emulator` fixture resets the emulator before each test), on both database backends:

health, reset, seed, state, the request journal, the clock, and the flag that turns the plane off.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import requests
from alembic.script import ScriptDirectory
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from control_support import (
    DEMO_PHONE_NUMBER,
    SAMPLE_CUSTOMER,
    SAMPLE_CUSTOMER_PHONE,
    SAMPLE_PHONE,
    another_server,
    control,
    control_ok,
    get_version,
    insert_activity,
    journal,
    json_call,
    refusal,
)
from support import NS, XWEB, Emulator, fault, parse, response_token
from xweb_emulator import __version__, db
from xweb_emulator.journal import PRUNE_SECONDS
from xweb_emulator.models import JournalEntry

ADA = {"cst_type": "Individual", "cst_name_cp": "Ada Lovelace", "cst_id": "ADA-1"}
DOMAIN_OBJECTS = ("Customer", "Email", "Phone", "CustomerPhone", "Country", "PhoneType", "MailingList",
                  "CustomerMailingPreference", "CustomerMessagingActivity")
CONTROL_PATHS = [("GET", "health"), ("POST", "reset"), ("POST", "seed"), ("GET", "state"),
                 ("GET", "state/xweb/Customer"), ("GET", "requests"), ("DELETE", "requests"), ("GET", "requests/1"),
                 ("GET", "faults"), ("POST", "faults"), ("DELETE", "faults"), ("GET", "clock"), ("POST", "clock"),
                 ("DELETE", "clock")]

JSON_TYPE = {"Content-Type": "application/json"}


@pytest.fixture
def emulator(xweb_emulator, served) -> Emulator:
    """The plugin's emulator (reset by its fixture), with the suite's xWeb helpers (support.Emulator)."""
    assert served.base_url == xweb_emulator.base_url
    return served


def xweb_counts(emulator) -> dict[str, int]:
    return control_ok(emulator, "GET", "state")["xweb"]


def customers(emulator, **filters) -> list[dict]:
    return control_ok(emulator, "GET", "state/xweb/Customer", params=filters)["records"]


def phone_update(emulator: Emulator, token: str, number: str) -> requests.Response:
    return emulator.soap("WEBPhoneUpdate", f"<ns:oFacadeObject><ns:CurrentKey>{SAMPLE_CUSTOMER_PHONE}</ns:CurrentKey>"
                                           f"<ns:Phone><ns:phn_number>{number}</ns:phn_number></ns:Phone>"
                                           "</ns:oFacadeObject>", token)


def get_facade_object(emulator: Emulator, token: str, object_name: str, key: str) -> requests.Response:
    return emulator.soap("GetFacadeObject", f"<ns:szObjectName>{object_name}</ns:szObjectName>"
                                            f"<ns:szObjectKey>{key}</ns:szObjectKey>", token)


def soap_datetime(emulator: Emulator) -> datetime:
    response = emulator.soap("GetDateTime")
    assert response.status_code == 200, response.text
    text = parse(response).findtext("soap:Body/x:GetDateTimeResponse/x:GetDateTimeResult", namespaces=NS)
    value = datetime.fromisoformat(text)
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def assert_near(actual: datetime, expected: datetime, seconds: float = 30) -> None:
    assert abs((actual - expected).total_seconds()) < seconds, f"{actual} is not within {seconds}s of {expected}"


# ------------------------------------------------------------------------------------------------------- health


def test_health_reports_ready_versions_database_kind_and_schema_revisions(emulator, database_url):
    health = control_ok(emulator, "GET", "health")

    assert health["status"] == "ready"
    assert health["version"] == __version__
    assert health["python"]
    assert health["packages"]["spyne"] and health["packages"]["SQLAlchemy"] and health["packages"]["alembic"]
    assert health["database"]["kind"] == make_url(database_url).get_backend_name()
    heads = ScriptDirectory.from_config(db.alembic_config()).get_heads()
    assert sorted(health["database"]["schema_revisions"]) == sorted(heads)
    assert "xweb" in health["vendors"]


# ------------------------------------------------------------------------------------------------------- reset


def test_reset_restores_the_demo_data_and_clears_journal_faults_and_clock(emulator):
    demo = xweb_counts(emulator)
    token = emulator.authenticate()
    assert phone_update(emulator, token, "800-555-9999").status_code == 200
    assert insert_activity(emulator, token).status_code == 200
    seeded = emulator.seed({"xweb": {"Customer": [ADA]}})["xweb"]["Customer"]
    control_ok(emulator, "POST", "faults", json={"vendor": "xweb", "action": "throttle", "operation": "GetVersion"})
    control_ok(emulator, "POST", "clock", json={"advance_seconds": 3600})
    assert journal(emulator)

    answer = control_ok(emulator, "POST", "reset")  # how fast: bench/harness.py

    assert answer["reset"] is True and answer["demo_data"] is True
    counts = xweb_counts(emulator)
    assert {name: counts[name] for name in DOMAIN_OBJECTS} == {name: demo[name] for name in DOMAIN_OBJECTS}
    assert customers(emulator, cst_key=seeded[0]) == []
    (phone,) = control_ok(emulator, "GET", "state/xweb/Phone", params={"phn_key": SAMPLE_PHONE})["records"]
    assert phone["phn_number"] == DEMO_PHONE_NUMBER
    assert control_ok(emulator, "GET", "state/xweb/CustomerMessagingActivity")["records"] == []
    assert journal(emulator) == []
    assert control_ok(emulator, "GET", "faults")["rules"] == []
    assert control_ok(emulator, "GET", "clock")["offset_seconds"] == 0
    # Tokens went with the reset; the configured user did not.
    assert fault(get_version(emulator, token))["kind"] == "InvalidTokenExceptionInfo"
    assert get_version(emulator, emulator.authenticate()).status_code == 200


@pytest.mark.parametrize("how", ["body", "query"])
def test_reset_empty_leaves_no_records_but_the_configured_user(emulator, how):
    options = {"json": {"empty": True}} if how == "body" else {"params": {"empty": "true"}}

    answer = control_ok(emulator, "POST", "reset", **options)

    assert answer["demo_data"] is False
    counts = xweb_counts(emulator)
    assert {name: counts[name] for name in DOMAIN_OBJECTS} == dict.fromkeys(DOMAIN_OBJECTS, 0)
    token = emulator.authenticate()
    assert get_version(emulator, token).status_code == 200
    # The demo customer is gone for the vendor's own reads as well.
    answer = get_facade_object(emulator, token, "Customer", SAMPLE_CUSTOMER)
    assert answer.status_code == 200, answer.text
    assert parse(answer).find(".//x:CustomerObjects", NS).get("recordReturn") == "0"


@pytest.mark.parametrize("body", [{"empty": "maybe"}, [True], "empty"], ids=["not-a-boolean", "json-array",
                                                                              "json-string"])
def test_a_reset_request_it_cannot_follow_is_a_400_and_resets_nothing(emulator, body):
    emulator.seed({"xweb": {"Customer": [ADA]}})

    refusal(control(emulator, "POST", "reset", json=body))

    assert len(customers(emulator, cst_id="ADA-1")) == 1


# -------------------------------------------------------------------------------------------------------- seed


def test_seed_answers_the_keys_it_created_visible_in_state_and_through_get_facade_object(emulator):
    ada_key = "7d1b8f3a-0c55-4f0e-9d7e-5b2f1c3a4e60"
    created = control_ok(emulator, "POST", "seed", json={"xweb": {
        "Customer": [{**ADA, "cst_key": ada_key}, {"cst_type": "Individual", "cst_name_cp": "Grace Hopper"}],
        "Email": [{"eml_cst_key": ada_key, "eml_address": "ada@example.org"}],
    }})["created"]["xweb"]

    assert created["Customer"][0] == ada_key
    assert len(created["Customer"]) == 2 and len(created["Email"]) == 1
    for key in created["Customer"]:
        assert str(uuid.UUID(key)) == key
    (ada,) = customers(emulator, cst_key=ada_key)
    assert ada["cst_name_cp"] == "Ada Lovelace"
    (grace,) = customers(emulator, cst_key=created["Customer"][1])
    assert grace["cst_name_cp"] == "Grace Hopper"
    (email,) = control_ok(emulator, "GET", "state/xweb/Email", params={"eml_key": created["Email"][0]})["records"]
    assert email["eml_cst_key"] == ada_key and email["eml_address"] == "ada@example.org"

    token = emulator.authenticate()
    answer = get_facade_object(emulator, token, "Customer", ada_key)
    assert answer.status_code == 200, answer.text
    objects = parse(answer).find(".//x:CustomerObjects", NS)
    assert objects.get("recordReturn") == "1"
    assert objects.findtext("x:CustomerObject/x:cst_name_cp", namespaces=NS) == "Ada Lovelace"


def test_a_bad_seed_is_refused_with_the_vendors_message_and_writes_nothing(emulator):
    missing = "7d1b8f3a-0c55-4f0e-9d7e-5b2f1c3a4e60"
    with emulator.nothing_written():
        message = refusal(control(emulator, "POST", "seed", json={"xweb": {
            "Customer": [ADA],  # valid, but the seed is one transaction
            "Email": [{"eml_cst_key": missing, "eml_address": "nobody@example.org"}],
        }}))
    assert message.startswith("xweb: ")
    assert "eml_cst_key" in message and missing in message
    assert customers(emulator, cst_id="ADA-1") == []


@pytest.mark.parametrize(("document", "expected"), [
    ({"nosuchvendor": {"Customer": []}}, "nosuchvendor"),
    ({"xweb": {"NoSuchObject": [{"x": "1"}]}}, "NoSuchObject"),
    ({"xweb": {"Customer": [{"no_such_column": "1"}]}}, "no_such_column"),
    ([], "seed"),
])
def test_a_seed_the_emulator_cannot_load_is_a_400_naming_the_problem(emulator, document, expected):
    with emulator.nothing_written():
        assert expected in refusal(control(emulator, "POST", "seed", json=document))


def test_a_seed_that_is_not_json_is_a_400(emulator):
    assert "JSON" in refusal(control(emulator, "POST", "seed", data=b"{not json", headers=JSON_TYPE))


# ------------------------------------------------------------------------------------------------------- state


def test_state_summary_counts_each_vendors_objects(emulator):
    before = xweb_counts(emulator)["Customer"]
    emulator.seed({"xweb": {"Customer": [ADA]}})

    assert xweb_counts(emulator)["Customer"] == before + 1


def test_state_filters_by_key_in_any_guid_notation_and_by_text_column(emulator):
    (by_key,) = customers(emulator, cst_key=SAMPLE_CUSTOMER)
    assert by_key["cst_key"] == SAMPLE_CUSTOMER and by_key["cst_eml_address_dn"] == "someone@somewhere.com"
    assert customers(emulator, cst_key="{" + SAMPLE_CUSTOMER.upper() + "}") == [by_key]
    assert customers(emulator, cst_id="000000001I") == [by_key]
    assert customers(emulator, cst_id="000000001I", cst_name_cp="Someone Somewhere") == [by_key]
    assert customers(emulator, cst_id="000001", cst_name_cp="Someone Else") == []
    assert customers(emulator, cst_id="no-such-id") == []


def test_state_answers_what_a_call_changed(emulator):
    token = emulator.authenticate()
    assert phone_update(emulator, token, "800-555-1234").status_code == 200

    (phone,) = control_ok(emulator, "GET", "state/xweb/Phone", params={"phn_key": SAMPLE_PHONE})["records"]
    assert phone["phn_number"] == "800-555-1234"
    # Object names are matched without regard to case.
    answer = control_ok(emulator, "GET", "state/xweb/phone", params={"phn_key": SAMPLE_PHONE})
    assert answer["records"] == [phone] and answer["count"] == 1


def test_state_limit_and_offset_page_through_records_in_key_order(emulator):
    emulator.seed({"xweb": {"Customer": [{**ADA, "cst_id": f"P{n}"} for n in range(3)]}})
    everyone = customers(emulator)
    assert len(everyone) >= 5
    assert [record["cst_key"] for record in everyone] == sorted(record["cst_key"] for record in everyone)

    assert customers(emulator, limit=2) == everyone[:2]
    assert customers(emulator, limit=2, offset=2) == everyone[2:4]
    assert customers(emulator, offset=len(everyone) - 1) == everyone[-1:]
    assert customers(emulator, cst_type="Individual", limit=1)[0]["cst_type"] == "Individual"


@pytest.mark.parametrize(("path", "params", "expected"), [
    ("state/xweb/Customer", {"no_such_column": "1"}, "no_such_column"),
    ("state/xweb/Customer", {"cst_key": "not-a-guid"}, "cst_key"),
    ("state/xweb/Customer", {"limit": "many"}, "limit"),
    ("state/xweb/Customer", {"offset": "-1"}, "offset"),
    ("state/xweb/NoSuchObject", {}, "NoSuchObject"),
    ("state/nosuchvendor/Customer", {}, "nosuchvendor"),
])
def test_state_refuses_what_it_cannot_filter_by(emulator, path, params, expected):
    assert expected in refusal(control(emulator, "GET", path, params=params))


# ----------------------------------------------------------------------------------------------------- journal


def test_a_soap_call_is_journaled_with_user_outcome_status_duration_and_bodies(emulator):
    started = datetime.now(UTC)
    token = emulator.authenticate()
    response = get_version(emulator, token)
    assert response.status_code == 200

    authenticate, version = journal(emulator)
    assert (authenticate["vendor"], authenticate["operation"], authenticate["user"], authenticate["outcome"],
            authenticate["status"]) == ("xweb", "Authenticate", emulator.settings.xweb_user, "ok", 200)
    assert token in authenticate["response"]["body"]
    assert (version["vendor"], version["operation"], version["user"], version["outcome"], version["status"],
            version["method"]) == ("xweb", "GetVersion", emulator.settings.xweb_user, "ok", 200, "POST")
    assert version["path"] == "/xWeb/secure/netForumXML.asmx"
    assert token in version["request"]["body"] and "GetVersion" in version["request"]["body"]
    assert version["response"]["body"] == response.text
    assert version["request"]["truncated"] is False and version["response"]["truncated"] is False
    assert version["id"] > authenticate["id"]
    for entry in (authenticate, version):
        assert entry["duration_ms"] > 0
        assert entry["fault_rule_id"] is None
        assert_near(datetime.fromisoformat(entry["at"]), started)


def test_a_json_call_is_journaled_with_its_user_and_outcome(emulator):
    response = json_call(emulator, "GetVersion")
    assert response.status_code == 200, response.text

    (entry,) = journal(emulator)
    assert (entry["vendor"], entry["operation"], entry["user"], entry["outcome"], entry["status"]) == (
        "xweb", "GetVersion", emulator.settings.xweb_user, "ok", 200)
    assert entry["path"] == "/xWeb/JSON/GetVersion"
    assert "GetVersion" in entry["request"]["body"]
    assert entry["response"]["body"] == response.text
    assert entry["duration_ms"] > 0


def test_faults_are_journaled_with_their_kind(emulator):
    refused = json_call(emulator, "GetVersion", token=str(uuid.uuid4()))
    assert refused.status_code == 500
    assert fault(get_version(emulator, str(uuid.uuid4())))["kind"] == "InvalidTokenExceptionInfo"
    unknown_action = emulator.post_soap(
        "GetVersion", f'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
                      f'xmlns:ns="{XWEB}"><soapenv:Body><ns:GetVersion/></soapenv:Body></soapenv:Envelope>',
        SOAPAction=f'"{XWEB}NoSuchMethod"')
    assert fault(unknown_action)["kind"] is None
    bad_password = emulator.soap("Authenticate", f"<ns:userName>{emulator.settings.xweb_user}</ns:userName>"
                                                 "<ns:password>wrong</ns:password>")
    assert fault(bad_password)["kind"] == "InvalidCredentialsExceptionInfo"

    json_entry, soap_entry, asmx_entry, credentials_entry = journal(emulator)
    assert (json_entry["operation"], json_entry["outcome"], json_entry["status"]) == (
        "GetVersion", "InvalidTokenExceptionInfo", 500)
    assert "InvalidTokenExceptionInfo" in json_entry["response"]["body"]
    assert (soap_entry["operation"], soap_entry["outcome"], soap_entry["status"]) == (
        "GetVersion", "InvalidTokenExceptionInfo", 500)
    assert (asmx_entry["outcome"], asmx_entry["status"]) == ("SoapException", 500)
    assert (credentials_entry["operation"], credentials_entry["user"], credentials_entry["outcome"]) == (
        "Authenticate", emulator.settings.xweb_user, "InvalidCredentialsExceptionInfo")


def test_the_journal_caps_bodies_and_marks_them_truncated(emulator):
    with another_server(emulator, journal_body_bytes=40) as capped:
        response = capped.soap("GetDateTime")
        assert response.status_code == 200

    (entry,) = journal(emulator)
    sent = entry["request"]
    assert sent["truncated"] is True and len(sent["body"]) == 40
    assert sent["body"] == '<soapenv:Envelope xmlns:soapenv="http://'
    assert entry["response"]["truncated"] is True
    assert entry["response"]["body"] == response.text[:40]


def test_the_journal_keeps_only_the_newest_calls_of_its_limit(emulator):
    with another_server(emulator, journal_limit=3) as short:
        token = short.authenticate()
        for operation in ("TestConnection", "GetDateTime", "GetVersion", "GetPromotionalMailingTypes"):
            assert short.soap(operation, "", token).status_code == 200

        assert [entry["operation"] for entry in journal(short)] == [
            "GetDateTime", "GetVersion", "GetPromotionalMailingTypes"]
        oldest_shown = journal(short)[0]["id"]
        assert control(short, "GET", f"requests/{oldest_shown - 1}").status_code == 404


def test_the_journal_deletes_what_it_no_longer_shows_beside_the_calls(emulator):
    with another_server(emulator, journal_limit=5) as short:
        for _ in range(20):
            assert short.soap("TestConnection").status_code == 200

        def stored() -> int:
            with short.emulator.database.transaction() as session:
                return session.scalar(select(func.count()).select_from(JournalEntry))

        deadline = time.monotonic() + 10 * PRUNE_SECONDS
        while stored() > 5 and time.monotonic() < deadline:
            time.sleep(PRUNE_SECONDS / 10)
        assert stored() == 5
        assert len(journal(short)) == 5


def test_a_journal_limit_of_zero_journals_nothing(emulator):
    with another_server(emulator, journal_limit=0) as silent:
        assert get_version(silent, silent.authenticate()).status_code == 200

    assert journal(emulator) == []


def test_the_journal_filters_by_vendor_operation_outcome_after_id_and_limit(emulator):
    token = emulator.authenticate()
    assert get_version(emulator, token).status_code == 200
    assert fault(get_version(emulator, str(uuid.uuid4())))["kind"] == "InvalidTokenExceptionInfo"
    assert json_call(emulator, "GetVersion").status_code == 200
    everything = journal(emulator)
    assert [entry["operation"] for entry in everything] == ["Authenticate", "GetVersion", "GetVersion", "GetVersion"]
    ids = [entry["id"] for entry in everything]

    assert [entry["id"] for entry in journal(emulator, operation="getversion")] == ids[1:]
    assert [entry["id"] for entry in journal(emulator, operation="GetVersion", outcome="OK")] == [ids[1], ids[3]]
    assert [entry["id"] for entry in journal(emulator, outcome="invalidtokenexceptioninfo")] == [ids[2]]
    assert [entry["id"] for entry in journal(emulator, vendor="XWEB")] == ids
    assert journal(emulator, vendor="crmcom") == []
    assert [entry["id"] for entry in journal(emulator, after_id=ids[1])] == ids[2:]
    assert [entry["id"] for entry in journal(emulator, limit=2)] == ids[:2]
    assert [entry["id"] for entry in journal(emulator, operation="GetVersion", after_id=ids[1], limit=1)] == [ids[2]]
    assert journal(emulator, operation="NoSuchOperation") == []
    assert "after_id" in refusal(control(emulator, "GET", "requests", params={"after_id": "first"}))


def test_delete_clears_the_journal(emulator):
    assert get_version(emulator, emulator.authenticate()).status_code == 200
    assert len(journal(emulator)) == 2

    control_ok(emulator, "DELETE", "requests")

    assert journal(emulator) == []
    assert json_call(emulator, "GetVersion").status_code == 200
    assert [entry["operation"] for entry in journal(emulator)] == ["GetVersion"]


def test_one_journal_entry_by_id(emulator):
    emulator.authenticate()
    (listed,) = journal(emulator)

    assert control_ok(emulator, "GET", f"requests/{listed['id']}") == listed
    assert str(listed["id"] + 1000) in refusal(control(emulator, "GET", f"requests/{listed['id'] + 1000}"), 404)


def test_control_requests_and_the_wsdl_are_not_journaled(emulator):
    for method, path in (("GET", "health"), ("GET", "state"), ("GET", "state/xweb/Customer"), ("GET", "faults"),
                         ("GET", "clock"), ("GET", "requests"), ("POST", "seed")):
        control(emulator, method, path, json={"xweb": {"Customer": [ADA]}} if method == "POST" else None)
    assert requests.get(emulator.wsdl_url, timeout=30).status_code == 200
    assert requests.get(emulator.soap_url, timeout=30).status_code == 200  # the service page

    assert journal(emulator) == []


def test_unknown_control_paths_and_methods_answer_json_errors(emulator):
    refusal(control(emulator, "GET", "no-such-thing"), 404)
    refusal(control(emulator, "PUT", "health"), 405)
    refusal(control(emulator, "GET", "reset"), 405)


def test_without_the_control_plane_every_control_path_is_404_and_xweb_still_works(emulator):
    with another_server(emulator, control_plane=False) as shared:
        for method, path in CONTROL_PATHS:
            answer = control(shared, method, path, json={})
            assert answer.status_code == 404, f"{method} /_emulator/{path}: {answer.status_code} {answer.text}"
        token = shared.authenticate()
        assert get_version(shared, token).status_code == 200
        assert json_call(shared, "GetVersion").status_code == 200
        assert requests.get(shared.wsdl_url, timeout=30).status_code == 200

    # The refused POST /_emulator/reset reset nothing: the token the disabled server issued still works here.
    assert get_version(emulator, token).status_code == 200


# ------------------------------------------------------------------------------------------------------- clock


def test_advancing_the_clock_expires_an_existing_token(emulator):
    token = emulator.authenticate()
    control_ok(emulator, "POST", "clock", json={"advance_seconds": 19 * 60})
    assert get_version(emulator, token).status_code == 200  # 19 minutes: still alive (Absolute, 20 min)

    answer = control_ok(emulator, "POST", "clock", json={"advance_seconds": 2 * 60})

    assert answer["offset_seconds"] == 21 * 60
    assert fault(get_version(emulator, token))["kind"] == "InvalidTokenExceptionInfo"
    assert get_version(emulator, emulator.authenticate()).status_code == 200


def test_the_clock_shows_in_get_date_time_and_the_journal(emulator):
    control_ok(emulator, "POST", "clock", json={"offset_seconds": 86400})
    now = datetime.now(UTC)

    assert_near(soap_datetime(emulator), now + timedelta(days=1))
    clock = control_ok(emulator, "GET", "clock")
    assert clock["offset_seconds"] == 86400
    assert_near(datetime.fromisoformat(clock["now"]), now + timedelta(days=1))
    (entry,) = journal(emulator)
    assert_near(datetime.fromisoformat(entry["at"]), now + timedelta(days=1))


def test_the_clock_can_be_set_to_an_instant_and_back_to_real_time(emulator):
    answer = control_ok(emulator, "POST", "clock", json={"now": "2031-05-04T12:00:00Z"})
    target = datetime(2031, 5, 4, 12, tzinfo=UTC)
    assert_near(datetime.fromisoformat(answer["now"]), target, 5)
    assert_near(soap_datetime(emulator), target)
    control_ok(emulator, "POST", "clock", json={"now": "2031-05-04T14:00:00+02:00"})  # the same instant
    assert_near(soap_datetime(emulator), target)

    answer = control_ok(emulator, "DELETE", "clock")

    assert answer["offset_seconds"] == 0
    assert_near(soap_datetime(emulator), datetime.now(UTC))
    assert control_ok(emulator, "GET", "clock")["offset_seconds"] == 0


def test_a_token_issued_in_the_future_expires_when_the_clock_goes_back_further(emulator):
    # A negative offset is a clock too: a token issued now is still valid 19 minutes "earlier".
    control_ok(emulator, "POST", "clock", json={"offset_seconds": -3600})
    token = emulator.authenticate()
    control_ok(emulator, "DELETE", "clock")  # an hour later for the token
    assert fault(get_version(emulator, token))["kind"] == "InvalidTokenExceptionInfo"


@pytest.mark.parametrize("body", [
    {},
    {"offset_seconds": 60, "advance_seconds": 60},
    {"advance_seconds": "60"},
    {"offset_seconds": True},
    {"offset_seconds": None},
    {"now": "next tuesday"},
    {"now": 1234},
    ["advance_seconds"],
    "advance_seconds",
    60,
    {"advance_seconds": 1e300},
], ids=["nothing", "two-settings", "string-seconds", "boolean-seconds", "null-seconds", "unreadable-now",
        "number-now", "json-array", "json-string", "json-number", "overflowing-seconds"])
def test_a_clock_request_it_cannot_follow_is_a_400_and_changes_nothing(emulator, body):
    refusal(control(emulator, "POST", "clock", json=body))
    assert control_ok(emulator, "GET", "clock")["offset_seconds"] == 0


def test_a_clock_request_that_is_not_json_is_a_400(emulator):
    refusal(control(emulator, "POST", "clock", data=b"advance 60", headers=JSON_TYPE))
    refusal(control(emulator, "POST", "clock"))


def test_a_lock_out_ends_when_the_clock_passes_it(emulator):
    with another_server(emulator, xweb_fail_count=2, xweb_lockout_hours=1) as strict:
        user = strict.settings.xweb_user

        def authenticate(password: str) -> requests.Response:
            return strict.soap("Authenticate",
                               f"<ns:userName>{user}</ns:userName><ns:password>{password}</ns:password>")

        for _ in range(2):
            assert fault(authenticate("wrong"))["kind"] == "InvalidCredentialsExceptionInfo"
        assert fault(authenticate(strict.settings.xweb_password))["kind"] == "LockedCredentialsExceptionInfo"
        control_ok(strict, "POST", "clock", json={"advance_seconds": 59 * 60})
        assert fault(authenticate(strict.settings.xweb_password))["kind"] == "LockedCredentialsExceptionInfo"

        control_ok(strict, "POST", "clock", json={"advance_seconds": 2 * 60})

        answer = authenticate(strict.settings.xweb_password)
        assert answer.status_code == 200, answer.text
        assert get_version(strict, response_token(answer)).status_code == 200
