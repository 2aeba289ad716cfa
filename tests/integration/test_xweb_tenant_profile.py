"""The tenant profile: a tenant's own objects, extender columns, default lists, users and object security, served
as that tenant serves them.

The profile is fixtures/xweb/profiles/lms.yaml (written by hand), or the one `profile capture` builds from the same
tenant's saved answers (fixtures/xweb/profiles/lms-tenant-answers/); a connector's whole cycle runs over its objects
through raw SOAP, zeep bound to the served WSDL and the JSON twin, on both databases.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import zeep
import requests
from click.testing import CliRunner
from lxml import etree, html

from support import NS, facade_node, fault, parse
from xweb_connectors import Connector, Json, RawSoap, ZeepOnTheServedWsdl, keyset_pages
from xweb_emulator.cli import main
from xweb_emulator.emulator import Emulator
from xweb_emulator.settings import Settings
from xweb_emulator.xweb.capture import capture_live, capture_saved, profile_yaml
from xweb_emulator.xweb.profile import ProfileError, default_profile, merged, read_profile

PROFILES = Path(__file__).parents[1] / "fixtures" / "xweb" / "profiles"
HAND_WRITTEN = PROFILES / "lms.yaml"
SAVED_ANSWERS = PROFILES / "lms-tenant-answers"
TENANT_OBJECTS = ["Committee", "EventsRegistrant", "Individual"]
CUSTOMER = "2a50c454-eac0-4768-9a85-0c97968be7fd"  # a demo individual
EVENT = "5d2c8f7e-1b3a-4c6d-9e8f-0a1b2c3d4e5f"
PAGE = 10
REGISTRANTS = 23


def captured_profile() -> str:
    captured = capture_saved(SAVED_ANSWERS, objects=TENANT_OBJECTS, name="lms-tenant")
    assert captured.problems == {}
    return profile_yaml(captured.profile)


def users_of(text: str) -> str:
    """The hand-written profile's users and settings (a capture cannot read them: xWeb shows no password)."""
    hand_written = read_profile(HAND_WRITTEN)
    document = read_profile(text).model_dump(mode="json", exclude_defaults=True)
    document.update(hand_written.model_dump(mode="json", include={"users", "settings"}, exclude_defaults=True))
    return json.dumps(document)


@pytest.fixture(params=["hand-written", "captured from saved answers"])
def tenant(request, emulator):
    """The emulator serving the LMS tenant's profile (reset with it), with its demo data."""
    text = HAND_WRITTEN.read_text() if request.param == "hand-written" else users_of(captured_profile())
    emulator.reset(profile=text)
    return emulator


@pytest.fixture
def hand_written(emulator):
    """The emulator serving the hand-written profile: what a capture cannot read as well (the default order)."""
    emulator.reset(profile=HAND_WRITTEN)
    return emulator


def now(emulator) -> str:
    """The emulator's clock, as GetDateTime answers it: a connector's watermark."""
    return parse(emulator.soap("GetDateTime")).findtext("soap:Body/x:GetDateTimeResponse/x:GetDateTimeResult",
                                                        namespaces=NS)


# ------------------------------------------------------------------------------------------------- the file


@pytest.mark.parametrize(("text", "expected"), [
    ("objects:\n  - name: Committee\n    columns:\n      - {name: cmt_code, type: varchar2}\n",
     "line 4: objects.0.columns.0.type: unknown data type 'varchar2'"),
    ("name: x\nobjects:\n  - name: Committee\n    colums: []\n", "line 4: objects.0.colums: unknown key 'colums'"),
    ("objects:\n  - name: Individual\n    columns:\n      - {name: ind_pin, type: nvarchar}\n",
     "line 4: objects.0.columns.0: Individual is built in: a column added to it is an extender column"),
    ("users:\n  - name: lms\n    password: x\n    rights:\n      Comittee: [select]\n",
     "line 5: users.0.rights: no object 'Comittee' is declared"),
    ("users:\n  - name: lms\n    password: x\n    rights:\n      Individual: [delete]\n",
     "line 5: users.0.rights.Individual.0: Input should be 'select', 'insert' or 'update'"),
    ("settings:\n  token_expiration: Forever\n", "line 2: settings.token_expiration: Input should be 'Absolute'"),
    ("objects:\n  - name: 2Committee\n", "line 2: objects.0.name: '2Committee' is not a name netFORUM allows"),
    ("objects:\n  - name: A\n  - name: a\n", "line 3: objects.1.name: 'a' is declared twice"),
    ("objects: [\n  {name: A\n", "line 3: not valid YAML or JSON"),
])
def test_a_profile_with_a_mistake_is_refused_with_its_line_and_what_is_wrong(text, expected):
    with pytest.raises(ProfileError) as refused:
        read_profile(text, name="tenant.yaml")
    assert str(refused.value).startswith("tenant.yaml, ") and expected in str(refused.value), str(refused.value)


def test_a_json_profile_reads_as_the_same_yaml_does():
    hand_written = read_profile(HAND_WRITTEN)
    assert read_profile(json.dumps(hand_written.model_dump(mode="json"))) == hand_written


def test_a_profile_adds_to_the_default_one_and_overrides_what_it_names():
    served = merged(default_profile(), read_profile(HAND_WRITTEN))
    names = [each.name for each in served.objects]
    assert names[:10] == [each.name for each in default_profile().objects] and names[10:] == [
        "Committee", "EventsRegistrant"]
    individual = next(each for each in served.objects if each.name == "Individual")
    assert individual.description == "Individual"  # the default profile's, kept
    assert individual.list_columns[-2:] == ("ind_customer_type_ext", "ind_change_date")  # the tenant's
    assert [column.name for column in individual.columns] == ["ind_pin_ext", "ind_customer_type_ext"]
    assert served.settings.query_row_cap == 50


def test_a_profiles_settings_apply_under_those_given_on_the_command_line_or_in_the_environment(tmp_path):
    profile = tmp_path / "tenant.yaml"
    profile.write_text("settings: {token_expiration: Sliding, token_timeout_minutes: 5, query_row_cap: 7}\n")
    settings = Emulator(Settings(database_url=f"sqlite:///{tmp_path / 'e.db'}", xweb_profile=str(profile),
                                 xweb_token_timeout_minutes=30)).settings
    assert (settings.xweb_token_expiration, settings.xweb_token_timeout_minutes, settings.xweb_query_row_cap) == (
        "Sliding", 30, 7)


# -------------------------------------------------------------------------------------------------- capture


def test_the_capture_of_saved_answers_is_the_hand_written_profile():
    captured = read_profile(captured_profile())
    hand_written = read_profile(HAND_WRITTEN)
    by_name = {each.name: each for each in captured.objects}
    for declared in hand_written.objects:
        # The tenant's own key for its object; the default order, which no read operation shows.
        expected = declared.model_copy(update={"order_by": None})
        found = by_name[declared.name]
        assert found.model_copy(update={"key": None}) == expected, declared.name
    assert by_name["EventsRegistrant"].key == "8f0c2a41-2b7e-4a51-9d3e-61c7b2a4e915"


def test_a_capture_reports_the_objects_it_has_no_answers_for_and_writes_the_rest():
    captured = capture_saved(SAVED_ANSWERS)
    assert set(captured.problems) == {"APDTLMSCourse", "Invoice", *(
        each.name for each in default_profile().objects if each.name != "Individual")}
    assert all("no GetQueryDefinition answer" in problem for problem in captured.problems.values())
    assert [each.name for each in captured.profile.objects] == ["Individual", "Committee", "EventsRegistrant"]


def test_profile_capture_on_the_command_line_writes_a_profile_serve_accepts(tmp_path):
    out = tmp_path / "captured.yaml"
    result = CliRunner().invoke(main, ["profile", "capture", "--answers", str(SAVED_ANSWERS), "--out", str(out),
                                       "--objects", ",".join(TENANT_OBJECTS)])
    assert result.exit_code == 0, result.output
    assert "3 objects captured" in result.output
    checked = CliRunner().invoke(main, ["profile", "check", str(out)])
    assert checked.exit_code == 0 and "12 objects (2 of its own)" in checked.output, checked.output


def test_profile_check_names_the_line_of_a_mistake(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("objects:\n  - name: Committee\n    columns:\n      - {name: cmt_code, width: -1}\n")
    result = CliRunner().invoke(main, ["profile", "check", str(broken)])
    assert result.exit_code == 1
    assert f"{broken}, line 4: objects.0.columns.0.width: Input should be greater than or equal to 1" in result.output


def test_a_live_capture_of_the_emulator_serving_a_profile_gives_that_profile_back(tenant):
    """Read operations only: the journal shows no write."""
    tenant.seed({"xweb": {"Committee": [{"cmt_code": "EDU", "cmt_name": "Education", "cmt_active_flag": "1"}],
                          "EventsRegistrant": [{"reg_cst_key": CUSTOMER, "reg_evt_key": EVENT}]}})
    tenant.clear_journal()
    captured = capture_live(tenant.soap_url, "demo", "demo", objects=TENANT_OBJECTS)
    assert captured.problems == {} and captured.notes == {}
    served = {each.name: each for each in read_profile(HAND_WRITTEN).objects}
    for each in captured.profile.objects:
        assert each.model_copy(update={"key": None}) == served[each.name].model_copy(update={"order_by": None})
    assert {entry["operation"] for entry in tenant.journal()} == {
        "Authenticate", "GetFacadeObjectList", "GetQueryDefinition", "GetQuery", "GetAudienceList"}


# -------------------------------------------------------------------------------------- a connector's cycle


@pytest.fixture(params=["raw SOAP", "zeep, served WSDL", "JSON"])
def connector(request, tenant) -> Connector:
    return {"raw SOAP": RawSoap, "zeep, served WSDL": ZeepOnTheServedWsdl, "JSON": Json}[request.param](tenant)


def test_a_connectors_whole_cycle_over_the_tenants_own_objects(tenant, connector):
    # Discovery and definitions, as the tenant answers them.
    listed = connector.object_names()
    assert listed["EventsRegistrant"] == "Event Registrant" and listed["Committee"] == "Committee"
    columns = connector.columns("EventsRegistrant")
    assert list(columns)[:3] == ["reg_key", "reg_cst_key", "reg_evt_key"]
    assert {name: (column["mdc_data_type"], column["mdc_ext"], column["mdc_table_name"])
            for name, column in columns.items() if name.endswith(("_ext", "_fee", "evt_title"))} == {
        "reg_fee": ("av_currency", "0", "ev_registrant"), "evt_title": ("nvarchar", "0", "ev_event"),
        "reg_grade_ext": ("nvarchar", "1", "ev_registrant_ext"),
        "reg_completion_date_ext": ("av_date", "1", "ev_registrant_ext"),
        "reg_credits_ext": ("av_integer", "1", "ev_registrant_ext")}
    assert connector.columns("Individual")["ind_pin_ext"]["mdc_ext"] == "1"

    # The records the connector reads: a full sync by keyset pages, in the key's order.
    keys = connector.insert("EventsRegistrant", [
        {"reg_cst_key": CUSTOMER, "reg_evt_key": EVENT, "reg_registration_date": f"11/{day}/2026 9:00:00 AM",
         "reg_fee": "125.50", "reg_grade_ext": "P", "reg_credits_ext": str(day)} for day in range(1, REGISTRANTS + 1)])
    assert len(set(keys)) == REGISTRANTS
    synced, pages = keyset_pages(connector, "EventsRegistrant", "reg_cst_key, reg_credits_ext, reg_fee", "reg_key", PAGE)
    assert pages == REGISTRANTS // PAGE + 1
    assert [record["reg_key"] for record in synced] == sorted(keys, key=lambda key: bytes.fromhex(key.replace("-", "")))
    assert {record["reg_credits_ext"] for record in synced} == {str(day) for day in range(1, REGISTRANTS + 1)}
    assert {record["reg_fee"] for record in synced} == {"125.5"}
    watermark = now(tenant)

    # The connector writes back: a completion on one registrant, a new one.
    tenant.advance_clock(2)
    changed = keys[4]
    updated = connector.update("EventsRegistrant", changed, {"reg_grade_ext": "A", "reg_completion_date_ext":
                                                             "12/01/2026 10:30:00", "reg_attendance_flag": "1"})
    assert (updated["reg_grade_ext"], updated["reg_completion_date_ext"], updated["reg_credits_ext"]) == (
        "A", "12/1/2026 10:30:00 AM", "5")
    (new,) = connector.insert("EventsRegistrant", [{"reg_cst_key": CUSTOMER, "reg_evt_key": EVENT}])

    # The next run reads only what changed since the watermark, and reads it back whole.
    since = connector.query("EventsRegistrant @TOP -1", "reg_grade_ext",
                            f"reg_change_date > '{watermark}'", "reg_grade_ext")
    assert [(record["reg_key"], record["reg_grade_ext"]) for record in since] == [(new, None), (changed, "A")]
    record = connector.get("EventsRegistrant", changed)
    assert (record["reg_attendance_flag"], record["reg_registration_date"], record["reg_add_user"]) == (
        "1", "11/5/2026 9:00:00 AM", "demo")
    assert record["reg_add_date"] != record["reg_change_date"]


def test_an_empty_column_list_answers_the_profiles_default_list_in_its_default_order(hand_written):
    connector = RawSoap(hand_written)
    connector.insert("Committee", [{"cmt_code": code, "cmt_name": f"The {code}", "cmt_active_flag": "1"}
                                   for code in ("FIN", "AUD", "EDU")])
    committees = connector.query("Committee", "", "", "")
    assert [list(record) for record in committees] == [["cmt_key", "cmt_code", "cmt_name", "cmt_begin_date"]] * 3
    assert [record["cmt_code"] for record in committees] == ["AUD", "EDU", "FIN"]
    (individual,) = connector.query("Individual", "", f"ind_cst_key = '{CUSTOMER}'", "")
    assert list(individual) == ["ind_cst_key", "cst_id", "ind_first_name", "ind_last_name", "eml_address",
                                "ind_customer_type_ext", "ind_change_date"]


def test_extender_columns_of_a_built_in_object_are_stored_queried_and_returned(tenant):
    connector = RawSoap(tenant)
    updated = connector.update("Individual", CUSTOMER, {"ind_pin_ext": "4821", "ind_customer_type_ext": "Government"})
    assert (updated["ind_pin_ext"], updated["ind_first_name"]) == ("4821", "Someone")
    (new,) = connector.insert("Individual", [{"ind_first_name": "Ada", "ind_last_name": "Lovelace",
                                              "ind_customer_type_ext": "Academic"}])
    assert connector.get("Individual", new)["ind_customer_type_ext"] == "Academic"
    # As public integration code queries it.
    found = connector.query("Individual @TOP -1", "ind_customer_type_ext",
                            "ind_customer_type_ext <> 'Government'", "")
    assert [(record["ind_cst_key"], record["ind_customer_type_ext"]) for record in found] == [(new, "Academic")]
    assert connector.query("Individual", "co_individual_ext.ind_pin_ext", "ind_pin_ext LIKE '48%'", "") == [
        {"ind_cst_key": CUSTOMER, "ind_pin_ext": "4821"}]


@pytest.mark.parametrize(("record", "message"), [
    ({"cmt_name": "No code", "cmt_active_flag": "1"}, "CommitteeObject: cmt_code is required."),
    ({"cmt_code": "C" * 21, "cmt_name": "x", "cmt_active_flag": "1"},
     "CommitteeObject: String or binary data would be truncated: cmt_code holds at most 20 characters."),
    ({"cmt_code": "X", "cmt_name": "x", "cmt_active_flag": "1", "cmt_begin_date": "soon"},
     "CommitteeObject: Invalid value for cmt_begin_date: 'soon' is not a valid date."),
    ({"cmt_code": "X", "cmt_name": "x", "cmt_active_flag": "1", "cmt_chair_cst_key": "12"},
     "CommitteeObject: Invalid value for cmt_chair_cst_key: '12' is not a valid GUID."),
    ({"cmt_code": "X", "cmt_name": "x", "cmt_active_flag": "yes"},
     "CommitteeObject: Invalid value for cmt_active_flag: 'yes' is not a valid integer."),
    ({"cmt_code": "X", "cmt_name": "x", "cmt_active_flag": "1", "cmt_budget": "10"},
     "CommitteeObject: Invalid column name 'cmt_budget'."),
])
def test_values_are_checked_against_the_profiles_columns_and_a_refused_insert_writes_nothing(tenant, record,
                                                                                               message):
    node = etree.tostring(facade_node("Committee", [record])).decode()
    with tenant.nothing_written():
        response = tenant.soap("InsertFacadeObject", "<ns:szObjectName>Committee</ns:szObjectName>"
                                                     f"<ns:oNode>{node}</ns:oNode>", tenant.authenticate())
    assert fault(response)["message"] == message


def test_an_update_checks_the_key_and_the_columns_sent(tenant):
    connector = RawSoap(tenant)
    (key,) = connector.insert("Committee", [{"cmt_code": "FIN", "cmt_name": "Finance", "cmt_active_flag": "1"}])
    node = etree.tostring(facade_node("Committee", [{"cmt_name": ""}])).decode()
    response = tenant.soap("UpdateFacadeObject", "<ns:szObjectName>Committee</ns:szObjectName>"
                                                 f"<ns:szObjectKey>{key}</ns:szObjectKey><ns:oNode>{node}</ns:oNode>",
                           tenant.authenticate())
    assert fault(response)["message"] == "cmt_name is required."
    other = "00000000-0000-0000-0000-0000000000aa"
    response = tenant.soap("UpdateFacadeObject", "<ns:szObjectName>Committee</ns:szObjectName>"
                                                 f"<ns:szObjectKey>{other}</ns:szObjectKey><ns:oNode>{node}</ns:oNode>",
                           tenant.authenticate())
    assert fault(response)["message"] == f"szObjectKey: no Committee record has cmt_key {other}."
    assert connector.get("Committee", key)["cmt_name"] == "Finance"


@pytest.mark.parametrize(("user", "operation", "body", "refused"), [
    ("lms", "InsertFacadeObject", "<ns:szObjectName>Committee</ns:szObjectName><ns:oNode><ns:CommitteeObjects>"
     "<ns:CommitteeObject><ns:cmt_code>X</ns:cmt_code></ns:CommitteeObject></ns:CommitteeObjects></ns:oNode>",
     "Insert on Committee"),
    ("lms", "UpdateFacadeObject", f"<ns:szObjectName>Individual</ns:szObjectName><ns:szObjectKey>{CUSTOMER}"
     "</ns:szObjectKey><ns:oNode><ns:IndividualObjects><ns:IndividualObject><ns:ind_pin_ext>1</ns:ind_pin_ext>"
     "</ns:IndividualObject></ns:IndividualObjects></ns:oNode>", "Update on Individual"),
    ("auditor", "GetQuery", "<ns:szObjectName>Individual @TOP 1</ns:szObjectName><ns:szColumnList/>"
     "<ns:szWhereClause/><ns:szOrderBy/>", "Select on Individual"),
    ("auditor", "GetFacadeObject", f"<ns:szObjectName>Individual</ns:szObjectName><ns:szObjectKey>{CUSTOMER}"
     "</ns:szObjectKey>", "Select on Individual"),
    ("auditor", "GetQueryDefinition", "<ns:szObjectName>EventsRegistrant</ns:szObjectName>",
     "Select on EventsRegistrant"),
])
def test_object_security_refuses_what_the_user_may_not_do_and_the_token_dies_as_after_any_fault(
        tenant, user, operation, body, refused):
    token = tenant.authenticate(user, {"lms": "lms-secret", "auditor": "audit-secret"}[user])
    with tenant.nothing_written():
        response = tenant.soap(operation, body, token)
    assert fault(response) == {"faultcode": "soap:Client", "kind": "SystemExceptionInfo",
                               "message": f"Account is not authorized to perform {refused} object",
                               "faultstring": fault(response)["faultstring"]}
    (entry,) = tenant.journal(operation=operation)
    assert (entry["outcome"], entry["user"]) == ("SystemExceptionInfo", user)
    again = tenant.soap("GetVersion", "", token)
    assert fault(again)["kind"] == "InvalidTokenExceptionInfo"


def test_what_object_security_allows_is_answered(tenant):
    token = tenant.authenticate("auditor", "audit-secret")
    response = tenant.soap("GetQuery", "<ns:szObjectName>Committee</ns:szObjectName><ns:szColumnList/>"
                                       "<ns:szWhereClause/><ns:szOrderBy/>", token)
    assert response.status_code == 200, response.text
    token = tenant.authenticate("lms", "lms-secret")
    response = tenant.soap("InsertFacadeObject", "<ns:szObjectName>EventsRegistrant</ns:szObjectName><ns:oNode>"
                           "<ns:EventsRegistrantObjects><ns:EventsRegistrantObject>"
                           f"<ns:reg_cst_key>{CUSTOMER}</ns:reg_cst_key><ns:reg_evt_key>{EVENT}</ns:reg_evt_key>"
                           "</ns:EventsRegistrantObject></ns:EventsRegistrantObjects></ns:oNode>", token)
    assert response.status_code == 200, response.text
    (registrant,) = tenant.state("xweb", "EventsRegistrant")
    assert (registrant["reg_cst_key"], registrant["reg_add_user"]) == (CUSTOMER, "lms")


def test_a_reset_without_a_profile_serves_the_configured_one_again(tenant):
    tenant.reset()
    response = tenant.soap("GetQueryDefinition", "<ns:szObjectName>Committee</ns:szObjectName>",
                           tenant.authenticate())
    assert fault(response)["message"] == "Invalid object name 'Committee'."
    refused = requests.post(f"{tenant.base_url}/_emulator/reset", json={"profile": "objects: [{name: 1x}]"},
                            timeout=30)
    assert refused.status_code == 400
    assert "line 1: objects.0.name: '1x' is not a name netFORUM allows" in refused.json()["error"]


def test_the_control_planes_seed_and_state_hold_the_tenants_own_objects(tenant):
    created = tenant.seed({"xweb": {"Committee": [
        {"cmt_code": "EDU", "cmt_name": "Education", "cmt_active_flag": "1", "cmt_begin_date": "2026-01-05"}]}})
    (key,) = created["xweb"]["Committee"]
    (committee,) = tenant.state("xweb", "Committee", cmt_code="EDU")
    assert (committee["cmt_key"], committee["cmt_begin_date"], committee["cmt_active_flag"]) == (
        key, "2026-01-05T00:00:00", 1)
    assert tenant.state("xweb", "Committee", cmt_code="FIN") == []
    refused = requests.post(f"{tenant.base_url}/_emulator/seed",
                            json={"xweb": {"Committee": [{"cmt_code": "X" * 21, "cmt_name": "x",
                                                          "cmt_active_flag": "1"}]}}, timeout=30)
    assert refused.status_code == 400 and "cmt_code holds at most 20 characters" in refused.json()["error"]


def test_extender_columns_travel_in_the_typed_individual_over_soap_and_json(tenant):
    token = tenant.authenticate()
    response = tenant.soap("WEBIndividualUpdate", f"<ns:oFacadeObject><ns:CurrentKey>{CUSTOMER}</ns:CurrentKey>"
                           "<ns:Individual><ns:ind_pin_ext>7310</ns:ind_pin_ext></ns:Individual></ns:oFacadeObject>",
                           token)
    assert response.status_code == 200, response.text
    got = parse(tenant.soap("WEBIndividualGet", f"<ns:key>{CUSTOMER}</ns:key>", token))
    individual = got.find("soap:Body/x:WEBIndividualGetResponse/x:WEBIndividualGetResult/x:Individual", NS)
    names = [etree.QName(element).localname for element in individual]
    # After the vendor's columns, as a tenant's WSDL lists them; a null one is left out, as every null member is.
    assert names[0] == "ind_cst_key" and names[-1] == "ind_pin_ext" and "ind_customer_type_ext" not in names
    assert individual.findtext("x:ind_pin_ext", namespaces=NS) == "7310"

    inserted = requests.post(tenant.json_url("WEBIndividualInsert"), auth=("demo", "demo"), timeout=30, json={
        "oFacadeObject": {"Individual": {"ind_first_name": "Ada", "ind_last_name": "Lovelace",
                                         "ind_customer_type_ext": "Academic"}}})
    assert inserted.status_code == 200, inserted.text
    answer = inserted.json()["Individual"]
    assert (answer["ind_customer_type_ext"], answer["ind_pin_ext"]) == ("Academic", None)
    (stored,) = RawSoap(tenant).query("Individual", "ind_customer_type_ext",
                                      f"ind_cst_key = '{answer['ind_cst_key']}'", "")
    assert stored["ind_customer_type_ext"] == "Academic"

    too_long = tenant.soap("WEBIndividualUpdate", f"<ns:oFacadeObject><ns:CurrentKey>{CUSTOMER}</ns:CurrentKey>"
                           "<ns:Individual><ns:ind_pin_ext>12345678901</ns:ind_pin_ext></ns:Individual>"
                           "</ns:oFacadeObject>", tenant.authenticate())
    assert fault(too_long)["message"] == (
        "Individual: String or binary data would be truncated: ind_pin_ext holds at most 10 characters.")


def test_the_dashboards_records_show_the_tenants_own_objects(tenant):
    tenant.seed({"xweb": {"Committee": [{"cmt_code": "EDU", "cmt_name": "Education", "cmt_active_flag": "1"}]}})
    index = html.fromstring(requests.get(f"{tenant.base_url}/_emulator/ui/records", timeout=30).text)
    assert "Committee" in index.text_content()
    records = requests.get(f"{tenant.base_url}/_emulator/ui/records/xweb/committee?cmt_code=EDU", timeout=30)
    assert records.status_code == 200
    cells = [cell.text_content().strip() for cell in html.fromstring(records.text).xpath("//tbody//td")]
    assert "EDU" in cells and "Education" in cells


def test_a_profile_that_gains_a_column_keeps_its_records(emulator, emulator_with, tmp_path):
    before, after = tmp_path / "before.yaml", tmp_path / "after.yaml"
    before.write_text("objects:\n  - name: Committee\n    prefix: cmt\n    columns:\n      - {name: cmt_code, width: 20}\n")
    after.write_text(before.read_text() + "      - {name: cmt_seats, type: int}\n")
    first = emulator_with(xweb_profile=str(before))
    (key,) = RawSoap(first).insert("Committee", [{"cmt_code": "FIN"}])
    second = emulator_with(xweb_profile=str(after))  # started again on the same database, with the new profile
    connector = RawSoap(second)
    assert connector.get("Committee", key) | {"cmt_change_date": None} == {
        "cmt_key": key, "cmt_code": "FIN", "cmt_seats": None, "cmt_add_user": "demo",
        "cmt_add_date": connector.get("Committee", key)["cmt_add_date"], "cmt_change_user": "demo",
        "cmt_change_date": None, "cmt_delete_flag": "0"}
    assert connector.update("Committee", key, {"cmt_seats": "7"})["cmt_seats"] == "7"


def test_decimal_columns_are_numbers_compared_as_numbers(tenant):
    connector = RawSoap(tenant)
    connector.insert("EventsRegistrant", [{"reg_cst_key": CUSTOMER, "reg_evt_key": EVENT, "reg_fee": fee}
                                          for fee in ("9.5", "125", "1000.25")])
    found = connector.query("EventsRegistrant", "reg_fee", "reg_fee > 100", "reg_fee")
    assert [record["reg_fee"] for record in found] == ["125.0", "1000.25"]
    node = etree.tostring(facade_node("EventsRegistrant", [
        {"reg_cst_key": CUSTOMER, "reg_evt_key": EVENT, "reg_fee": "a lot"}])).decode()
    refused = tenant.soap("InsertFacadeObject", "<ns:szObjectName>EventsRegistrant</ns:szObjectName>"
                          f"<ns:oNode>{node}</ns:oNode>", tenant.authenticate())
    assert fault(refused)["message"] == (
        "EventsRegistrantObject: Invalid value for reg_fee: 'a lot' is not a valid number.")


def test_the_served_wsdl_is_the_tenants_and_zeep_reads_and_writes_its_extender_columns(tenant):
    wsdl = etree.fromstring(requests.get(tenant.wsdl_url, timeout=30).content)
    schema = "http://www.w3.org/2001/XMLSchema"
    individual = wsdl.find(f".//{{{schema}}}complexType[@name='Individual_Individual_DataObjectType']")
    added = individual.findall(f".//{{{schema}}}element")[-2:]
    assert [(element.get("name"), element.get("type"), element.get("minOccurs")) for element in added] == [
        ("ind_pin_ext", "tns:stringLength10_Type", "0"), ("ind_customer_type_ext", "tns:stringLength30_Type", "0")]

    client = tenant.zeep_client()
    token = client.service.Authenticate(userName="demo", password="demo").header.AuthorizationToken.Token
    header = {"AuthorizationToken": {"Token": token}}
    kind = client.get_type("{http://www.avectra.com/2005/}IndividualType")
    sections = {"CurrentKey": CUSTOMER, "Individual": {"ind_cst_key": CUSTOMER, "ind_pin_ext": "5150"}}
    updated = client.service.WEBIndividualUpdate(oFacadeObject=kind(**{
        name: sections.get(name, zeep.xsd.SkipValue) for name, _element in kind.elements}), _soapheaders=header)
    assert updated.body.WEBIndividualUpdateResult is True
    got = client.service.WEBIndividualGet(key=CUSTOMER, _soapheaders=header).body.WEBIndividualGetResult
    assert (got.Individual.ind_pin_ext, got.Individual.ind_customer_type_ext) == ("5150", None)


def test_after_a_reset_to_the_default_profile_the_wsdl_has_its_extender_columns_no_more(tenant):
    tenant.reset()
    assert b"ind_pin_ext" not in requests.get(tenant.wsdl_url, timeout=30).content


def test_a_live_capture_rides_out_throttling_and_faults_and_reports_what_still_fails(hand_written):
    hand_written.add_fault("xweb", "throttle", operation="GetQueryDefinition", count=2, retry_after_seconds=0)
    hand_written.add_fault("xweb", "fault", operation="GetQuery", fault_kind="SystemExceptionInfo", count=1)
    captured = capture_live(hand_written.soap_url, "demo", "demo", objects=["Individual", "Committee"], pause=0.01)
    assert captured.problems == {} and [each.name for each in captured.profile.objects] == ["Individual",
                                                                                               "Committee"]
    assert captured.notes == {"Committee": "GetQuery: no record answered, so the default list is unknown "
                                           "(captured without its default list)"}
    throttled = [entry for entry in hand_written.journal(operation="GetQueryDefinition")]
    assert [entry["outcome"] for entry in throttled][:2] == ["throttled", "throttled"]

    hand_written.add_fault("xweb", "unavailable", operation="GetQueryDefinition", count=10)
    captured = capture_live(hand_written.soap_url, "demo", "demo", objects=["Individual", "Committee"], pause=0.01,
                            retries=2)
    assert captured.problems == {
        "Individual": "GetQueryDefinition: HTTP 503 (after 3 tries)",
        "Committee": "GetQueryDefinition: HTTP 503 (after 3 tries)"}
