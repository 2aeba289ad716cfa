"""A tenant's own web methods and saved queries (fixtures/xweb/profiles/lms-methods.yaml): ExecuteMethod,
GetDynamicQuery(Definition), GetAudienceList, GetAudience and GetAudienceDefinition, over raw SOAP, zeep bound to
the served WSDL and the JSON twin, on both databases; every fault; injection through parameters.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
import zeep
from click.testing import CliRunner
from lxml import etree

from support import NS, parse, records_of
from xweb_connectors import Json, RawSoap, ZeepOnTheServedWsdl, escaped
from xweb_emulator.cli import main
from xweb_emulator.xweb.capture import capture_live, profile_yaml
from xweb_emulator.xweb.profile import ProfileError, read_profile

PROFILE = Path(__file__).parents[1] / "fixtures" / "xweb" / "profiles" / "lms-methods.yaml"
CUSTOMER = "2a50c454-eac0-4768-9a85-0c97968be7fd"  # a demo individual
OTHER_CUSTOMER = "fadff57b-c6ef-4130-be1e-07000a38056f"
EVENT = "5d2c8f7e-1b3a-4c6d-9e8f-0a1b2c3d4e5f"
MEMBERS = 11  # individuals seeded as members, beside the demo ones
REGISTRANTS = 3
INDIVIDUAL_COLUMNS = "ind_first_name, ind_last_name, eml_address"
AUDIENCE_KEY = "8c227b9a-eb62-5845-b62e-68bc7e9ac5f7"  # Mailchimp Members', derived from its name


@pytest.fixture
def tenant(emulator):
    """The emulator serving the profile, with committees, memberships, registrations and member individuals."""
    emulator.reset(profile=PROFILE)
    created = emulator.seed({"xweb": {
        "Committee": [{"cmt_code": code, "cmt_name": f"The {code}", "cmt_active_flag": flag}
                      for code, flag in (("EDU", "1"), ("FIN", "1"), ("OLD", "0"))],
        "Individual": [{"ind_first_name": f"Member{number:02}", "ind_last_name": f"Zmember{number % 4}",
                        "cst_member_flag": "1", "eml_address": f"member{number}@example.org"}
                       for number in range(MEMBERS)],
        "EventsRegistrant": [{"reg_cst_key": CUSTOMER, "reg_evt_key": EVENT} for _ in range(REGISTRANTS)],
    }})["xweb"]
    committees = created["Committee"]
    emulator.seed({"xweb": {"CommitteeMember": [
        {"cmc_cmt_key": committees[0], "cmc_cst_key": CUSTOMER, "cmc_role": "Member", "cmc_begin_date": "1/1/2025"},
        {"cmc_cmt_key": committees[1], "cmc_cst_key": CUSTOMER, "cmc_role": "Chair", "cmc_begin_date": "1/1/2024"},
        {"cmc_cmt_key": committees[1], "cmc_cst_key": OTHER_CUSTOMER, "cmc_role": "Member"},
    ]}})
    emulator.committees, emulator.registrants = committees, created["EventsRegistrant"]
    return emulator


# ------------------------------------------------------------------------------------------------- the clients


def _parameters_xml(parameters: dict[str, str]) -> str:
    return "".join(f"<ns:Parameter><ns:Name>{name}</ns:Name><ns:Value>{escaped(value)}</ns:Value></ns:Parameter>"
                   for name, value in parameters.items())


class SoapMethods(RawSoap):
    def execute(self, service: str, method: str, parameters: dict[str, str]) -> etree._Element:
        return self.call("ExecuteMethod", f"<ns:serviceName>{service}</ns:serviceName><ns:methodName>{method}"
                                          f"</ns:methodName><ns:parameters>{_parameters_xml(parameters)}"
                                          "</ns:parameters>")[0]

    def execute_records(self, service: str, method: str, parameters: dict[str, str]) -> list[dict]:
        return records_of(self.execute(service, method, parameters))

    def audiences(self) -> list[dict]:
        return records_of(self.call("GetAudienceList", "")[0])

    def audience(self, key: str, page: int, parameters: dict[str, str]) -> list[dict]:
        return records_of(self.call("GetAudience", f"<ns:qrh_key>{key}</ns:qrh_key><ns:Parameters>"
                                                   f"{_parameters_xml(parameters)}</ns:Parameters>"
                                                   f"<ns:currentPage>{page}</ns:currentPage>")[0])

    def audience_columns(self, key: str) -> list[str]:
        definition = self.call("GetAudienceDefinition", f"<ns:qrh_key>{key}</ns:qrh_key>")
        return [column.findtext("x:Name", namespaces=NS) for column in definition.iterfind("x:Columns/x:QueryColumn",
                                                                                            NS)]

    def dynamic_query(self, object_name: str, name: str, parameters: dict[str, str]) -> list[dict]:
        return records_of(self.call("GetDynamicQuery", f"<ns:szObjectName>{object_name}</ns:szObjectName>"
                                                       f"<ns:szQueryName>{name}</ns:szQueryName><ns:Parameters>"
                                                       f"{_parameters_xml(parameters)}</ns:Parameters>")[0])

    def query_parameters(self, object_name: str, name: str) -> list[dict]:
        definition = self.call("GetDynamicQueryDefinition", f"<ns:szObjectName>{object_name}</ns:szObjectName>"
                                                            f"<ns:szQueryName>{name}</ns:szQueryName>")
        assert definition.findtext("x:szObjectName", namespaces=NS) == object_name
        return [{etree.QName(part).localname: part.text for part in parameter}
                for parameter in definition.iterfind("x:Parameters/x:QueryParameter", NS)]


def _zeep_parameters(parameters: dict[str, str]) -> dict:
    return {"Parameter": [{"Name": name, "Value": value} for name, value in parameters.items()]}


class ZeepMethods(ZeepOnTheServedWsdl):
    def execute_records(self, service: str, method: str, parameters: dict[str, str]) -> list[dict]:
        return records_of(self.zcall("ExecuteMethod", serviceName=service, methodName=method,
                                     parameters=_zeep_parameters(parameters))._value_1)

    def audiences(self) -> list[dict]:
        return records_of(self.zcall("GetAudienceList")._value_1)

    def audience(self, key: str, page: int, parameters: dict[str, str]) -> list[dict]:
        return records_of(self.zcall("GetAudience", qrh_key=key, WithDescriptions="false",
                                     Parameters=_zeep_parameters(parameters), currentPage=page)._value_1)

    def audience_columns(self, key: str) -> list[str]:
        return [column.Name for column in self.zcall("GetAudienceDefinition", qrh_key=key).Columns.QueryColumn]

    def dynamic_query(self, object_name: str, name: str, parameters: dict[str, str]) -> list[dict]:
        return records_of(self.zcall("GetDynamicQuery", szObjectName=object_name, szQueryName=name,
                                     WithDescriptions="false", Parameters=_zeep_parameters(parameters))._value_1)

    def query_parameters(self, object_name: str, name: str) -> list[dict]:
        definition = self.zcall("GetDynamicQueryDefinition", szObjectName=object_name, szQueryName=name)
        assert definition.szObjectName == object_name
        return [{name: _text(getattr(parameter, name)) for name in parameter}
                for parameter in definition.Parameters.QueryParameter]


def _json_parameters(parameters: dict[str, str]) -> list[dict]:
    return [{"Name": name, "Value": value} for name, value in parameters.items()]


class JsonMethods(Json):
    def execute_records(self, service: str, method: str, parameters: dict[str, str]) -> list[dict]:
        answer = self.call("ExecuteMethod", serviceName=service, methodName=method,
                           parameters=_json_parameters(parameters))
        (objects,) = answer
        return self.records(answer, objects.removesuffix("Objects"))

    def audiences(self) -> list[dict]:
        return self.records(self.call("GetAudienceList"), "Audience")

    def audience(self, key: str, page: int, parameters: dict[str, str]) -> list[dict]:
        answer = self.call("GetAudience", qrh_key=key, Parameters=_json_parameters(parameters), currentPage=page)
        (objects,) = answer
        return self.records(answer, objects.removesuffix("Objects"))

    def audience_columns(self, key: str) -> list[str]:
        columns = self.call("GetAudienceDefinition", qrh_key=key)["Columns"]
        listed = columns["QueryColumn"] if isinstance(columns, dict) else columns
        return [column["Name"] for column in listed]

    def dynamic_query(self, object_name: str, name: str, parameters: dict[str, str]) -> list[dict]:
        answer = self.call("GetDynamicQuery", szObjectName=object_name, szQueryName=name,
                           Parameters=_json_parameters(parameters))
        return self.records(answer, object_name)

    def query_parameters(self, object_name: str, name: str) -> list[dict]:
        definition = self.call("GetDynamicQueryDefinition", szObjectName=object_name, szQueryName=name)
        assert definition["szObjectName"] == object_name
        parameters = definition["Parameters"]
        listed = parameters["QueryParameter"] if isinstance(parameters, dict) else parameters
        return [{name: _text(value) for name, value in parameter.items()}
                for parameter in (listed if isinstance(listed, list) else [listed])]


def _text(value) -> str | None:
    """A typed value as XML writes it: a boolean as true or false."""
    return None if value is None else str(value).lower() if isinstance(value, bool) else str(value)


@pytest.fixture(params=["raw SOAP", "zeep, served WSDL", "JSON"])
def client(request, tenant):
    return {"raw SOAP": SoapMethods, "zeep, served WSDL": ZeepMethods, "JSON": JsonMethods}[request.param](tenant)


# ---------------------------------------------------------------------------------------- an integration's cycle


def test_an_integrations_cycle_over_the_tenants_methods_and_audiences(tenant, client):
    # The community platform: a customer's committees, through the tenant's web service.
    committees = client.execute_records("CASDIIntegration", "GetCommittees", {"CustomerKey": CUSTOMER})
    assert [(record["cmc_cmt_key"], record["cmc_role"]) for record in committees] == [
        (tenant.committees[1], "Chair"), (tenant.committees[0], "Member")]  # by cmc_begin_date
    chaired = client.execute_records("CASDIIntegration", "GetCommittees", {"CustomerKey": CUSTOMER, "Role": "chair"})
    assert [record["cmc_cmt_key"] for record in chaired] == [tenant.committees[1]]

    # The LMS: a course completion, an update and the credit it earns, visible to GetQuery.
    completed, failed = tenant.registrants[0], tenant.registrants[1]
    (credit,) = client.execute_records("LMSWeb", "RecordCourseCompletion", {
        "RegistrationKey": completed, "Grade": "A", "CompletedOn": "12/01/2026", "Credits": "3"})
    assert (credit["cec_reg_key"], credit["cec_credits"], credit["cec_add_user"]) == (completed, "3", "demo")
    registrations = {record["reg_key"]: record for record in client.query(
        "EventsRegistrant", "reg_grade_ext, reg_completion_date_ext, reg_attendance_flag", "", "")}
    assert (registrations[completed]["reg_grade_ext"], registrations[completed]["reg_completion_date_ext"],
            registrations[completed]["reg_attendance_flag"]) == ("A", "12/1/2026 12:00:00 AM", "1")

    # A completion whose credit cannot be written (no credits: the credit's required column) fails whole: its
    # update of the registration is undone.
    message = fault_of(tenant, "ExecuteMethod", _execute_body("LMSWeb", "RecordCourseCompletion", {
        "RegistrationKey": failed, "Grade": "B", "CompletedOn": "12/02/2026"}))
    assert "cec_credits is required" in message
    assert client.query("EventsRegistrant", "reg_grade_ext", f"reg_key = '{failed}'", "")[0]["reg_grade_ext"] is None
    assert [record["cec_reg_key"] for record in client.query("CEUCredit", "cec_reg_key", "", "")] == [completed]

    # The e-mail platform: its own audiences (named after it), page by page, as GetQuery reads the same definition.
    audiences = {record["qrh_name"]: record for record in client.audiences()
                 if record["qrh_name"].startswith("Mailchimp")}
    assert set(audiences) == {"Mailchimp Members", "Mailchimp Course Completers"}
    members = audiences["Mailchimp Members"]
    assert (members["qrh_obj_name"], members["qrh_cst_key_column"]) == ("Individual", "ind_cst_key")
    assert client.audience_columns(members["qrh_key"]) == ["ind_cst_key", *INDIVIDUAL_COLUMNS.split(", ")]
    pages, page_number = [], 1
    while True:
        page = client.audience(members["qrh_key"], page_number, {})
        pages.append(page)
        if len(page) < 4:
            break
        page_number += 1
    expected = client.query("Individual @TOP -1", INDIVIDUAL_COLUMNS, "cst_member_flag = 1", "ind_last_name")
    assert len(expected) >= MEMBERS and len(pages) == len(expected) // 4 + 1
    assert [record for page in pages for record in page] == expected

    completers = audiences["Mailchimp Course Completers"]["qrh_key"]
    assert client.audience(completers, 1, {"Since": "2026-11-30"}) == client.query(
        "EventsRegistrant @TOP -1", "reg_cst_key, reg_grade_ext, reg_completion_date_ext",
        "reg_completion_date_ext >= '2026-11-30'", "") != []

    # A saved dynamic query and its definition: the parameter, the column and the comparison it stands in.
    assert client.dynamic_query("Committee", "MailchimpActiveCommittees", {"Active": "1"}) == client.query(
        "Committee", "cmt_code, cmt_name", "cmt_active_flag = 1", "cmt_code")
    (active,) = client.query_parameters("Committee", "MailchimpActiveCommittees")
    assert (active["Name"], active["ColumnName"], active["Operator"], active["DataType"], active["IsNullable"]) == (
        "Active", "cmt_active_flag", "Equals", "av_flag", "false")


def test_a_saved_query_pages_as_getquery_pages(tenant):
    """`@TOP n` on szObjectName, and the key order under the definition's."""
    client = SoapMethods(tenant)
    everything = client.dynamic_query("Committee @TOP -1", "MailchimpActiveCommittees", {"Active": "1"})
    assert [record["cmt_code"] for record in everything] == ["EDU", "FIN"]
    assert client.dynamic_query("Committee @TOP 1", "MailchimpActiveCommittees", {"Active": "1"}) == everything[:1]
    assert client.dynamic_query("Committee", "MailchimpActiveCommittees", {"Active": "0"})[0]["cmt_code"] == "OLD"


def test_a_method_with_a_fixed_answer_acknowledges(tenant):
    result = SoapMethods(tenant).execute("LMSWeb", "Ping", {})
    assert (etree.QName(result).localname, result.findtext("x:Status", namespaces=NS)) == ("Result", "OK")


def test_a_method_allowing_anonymous_access_answers_without_a_token_and_no_other_does(tenant):
    answered = tenant.soap("ExecuteMethod", _execute_body("LMSWeb", "Ping", {}))
    assert answered.status_code == 200, answered.text
    assert parse(answered).find("soap:Header", NS) is None  # no token in, none out
    over_json = requests.post(tenant.json_url("ExecuteMethod"), timeout=30,
                              json={"ExecuteMethod": {"serviceName": "LMSWeb", "methodName": "Ping"}})
    assert over_json.status_code == 200 and over_json.json() == {"Result": {"Status": "OK"}}
    with tenant.nothing_written():
        refused = tenant.soap("ExecuteMethod", _execute_body("LMSWeb", "RecordCourseCompletion", {
            "RegistrationKey": tenant.registrants[0], "Grade": "A", "CompletedOn": "1/1/2026", "Credits": "1"}))
    assert refused.status_code == 500
    assert parse(refused).findtext(".//x:XWebException/x:Message", namespaces=NS) == (
        "Failed to validate the authentication token: no token was supplied.")


def test_the_calls_are_journalled_and_counted_like_any_other(tenant):
    tenant.clear_journal()
    SoapMethods(tenant).execute("LMSWeb", "Ping", {})
    assert [entry["operation"] for entry in tenant.journal()][-1] == "ExecuteMethod"
    coverage = requests.get(f"{tenant.base_url}/_emulator/coverage", timeout=30).json()
    assert "ExecuteMethod" in str(coverage) and "GetAudience" in str(coverage)


# ------------------------------------------------------------------------------------------------------ faults


def _execute_body(service: str, method: str, parameters: dict[str, str]) -> str:
    return (f"<ns:serviceName>{service}</ns:serviceName><ns:methodName>{method}</ns:methodName>"
            f"<ns:parameters>{_parameters_xml(parameters)}</ns:parameters>")


def fault_of(emulator, operation: str, body: str, user: tuple[str, str] | None = None) -> str:
    response = emulator.soap(operation, body, emulator.authenticate(*(user or ())))
    assert response.status_code == 500, response.text
    return parse(response).findtext(".//x:XWebException/x:Message", namespaces=NS)


@pytest.mark.parametrize(("operation", "body", "expected"), [
    ("ExecuteMethod", _execute_body("NoSuchService", "GetCommittees", {}),
     "Web service 'NoSuchService' is not defined."),
    ("ExecuteMethod", _execute_body("CASDIIntegration", "GetCommitees", {}),
     "Web method 'GetCommitees' is not defined for web service 'CASDIIntegration'."),
    ("ExecuteMethod", _execute_body("CASDIIntegration", "GetCommittees", {}),
     "Procedure or function 'CASDIIntegration.GetCommittees' expects parameter '@CustomerKey', which was not "
     "supplied."),
    ("ExecuteMethod", _execute_body("CASDIIntegration", "GetCommittees", {"CustomerKey": "12"}),
     "Parameter '@CustomerKey': Conversion failed when converting from a character string to uniqueidentifier."),
    ("ExecuteMethod", _execute_body("LMSWeb", "RecordCourseCompletion", {
        "RegistrationKey": CUSTOMER, "Grade": "A", "CompletedOn": "soon"}),
     "Parameter '@CompletedOn': Conversion failed when converting date and/or time from character string."),
    ("ExecuteMethod", _execute_body("LMSWeb", "RecordCourseCompletion", {
        "RegistrationKey": CUSTOMER, "Grade": "A", "CompletedOn": "1/1/2026", "Credits": "three"}),
     "Parameter '@Credits': Conversion failed when converting the varchar value 'three' to data type int."),
    ("ExecuteMethod", _execute_body("CASDIIntegration", "GetCommittees", {"CustomerKey": CUSTOMER, "Rank": "1"}),
     "CASDIIntegration.GetCommittees has no parameter named '@rank'."),
    ("GetDynamicQuery", "<ns:szObjectName>Committee</ns:szObjectName><ns:szQueryName>Nope</ns:szQueryName>",
     "Query 'Nope' of object 'Committee' was not found."),
    ("GetDynamicQuery", "<ns:szObjectName>Committee</ns:szObjectName>"
                        "<ns:szQueryName>MailchimpActiveCommittees</ns:szQueryName>",
     "Procedure or function 'MailchimpActiveCommittees' expects parameter '@Active', which was not supplied."),
    ("GetAudience", "<ns:qrh_key>00000000-0000-0000-0000-000000000000</ns:qrh_key><ns:currentPage>1</ns:currentPage>",
     "Audience '00000000-0000-0000-0000-000000000000' was not found."),
    ("GetAudienceDefinition", "<ns:qrh_key>nope</ns:qrh_key>", "Audience 'nope' was not found."),
    ("GetAudience", f"<ns:qrh_key>{AUDIENCE_KEY}</ns:qrh_key><ns:currentPage>-1</ns:currentPage>",
     "currentPage must not be negative."),
])
def test_each_fault_is_the_vendors_and_writes_nothing(tenant, operation, body, expected):
    with tenant.nothing_written():
        assert fault_of(tenant, operation, body) == expected


def test_a_user_without_web_method_or_query_security_is_refused(tenant):
    auditor = ("auditor", "audit-secret")
    with tenant.nothing_written():
        assert fault_of(tenant, "ExecuteMethod", _execute_body("LMSWeb", "RecordCourseCompletion", {
            "RegistrationKey": tenant.registrants[0], "Grade": "A", "CompletedOn": "1/1/2026", "Credits": "1"}),
            auditor) == "Account is not authorized to execute web method LMSWeb.RecordCourseCompletion."
    token = tenant.authenticate(*auditor)
    listed = records_of(parse(tenant.soap("GetAudienceList", "", token)).find(
        "soap:Body/x:GetAudienceListResponse/x:GetAudienceListResult/x:AudienceObjects", NS))
    assert [record["qrh_name"] for record in listed] == ["Mailchimp Members"]
    completers = next(record["qrh_key"] for record in SoapMethods(tenant).audiences()
                      if record["qrh_name"] == "Mailchimp Course Completers")
    assert fault_of(tenant, "GetAudience", f"<ns:qrh_key>{completers}</ns:qrh_key><ns:currentPage>1</ns:currentPage>",
                    auditor) == f"Account is not authorized to run Audience '{completers}'."
    # A method open to every user (no users listed) answers the auditor too.
    assert tenant.soap("ExecuteMethod", _execute_body("LMSWeb", "Ping", {}), tenant.authenticate(*auditor)
                       ).status_code == 200


@pytest.mark.parametrize("value", [
    "x' OR 1=1 --", "'; DELETE FROM ev_registrant; --", "1); UPDATE ev_registrant SET reg_grade_ext = 'F' --",
])
def test_injection_through_parameters_is_refused_or_inert_and_writes_nothing(tenant, value):
    """A typed parameter refuses the text; a text parameter is a value compared, never SQL: it matches nothing."""
    with tenant.nothing_written():
        assert fault_of(tenant, "ExecuteMethod", _execute_body("CASDIIntegration", "GetCommittees", {
            "CustomerKey": value})).startswith("Parameter '@CustomerKey': Conversion failed")
        assert fault_of(tenant, "ExecuteMethod", _execute_body("LMSWeb", "RecordCourseCompletion", {
            "RegistrationKey": value, "Grade": "A", "CompletedOn": "1/1/2026", "Credits": "1"})).startswith(
            "Parameter '@RegistrationKey': Conversion failed")
        assert fault_of(tenant, "ExecuteMethod", _execute_body("LMSWeb", "RecordCourseCompletion", {
            "RegistrationKey": tenant.registrants[0], "Grade": "A", "CompletedOn": value, "Credits": "1"})
        ).startswith("Parameter '@CompletedOn': Conversion failed")
        assert SoapMethods(tenant).execute_records("CASDIIntegration", "GetCommittees", {
            "CustomerKey": CUSTOMER, "Role": value}) == []


# ------------------------------------------------------------------------------------------------- the profile


@pytest.mark.parametrize(("text", "expected"), [
    ("web_services:\n  - name: S\n    methods:\n      - name: m\n",
     "line 4: web_services.0.methods.0: a web method has one of query, writes or answer"),
    ("web_services:\n  - name: S\n    methods:\n      - name: m\n        answer: {}\n      - name: M\n"
     "        answer: {}\n", "line 6: web_services.0.methods.1.name: 'm' is declared twice"),
    ("web_services:\n  - name: S\n    methods:\n      - name: m\n        parameters:\n"
     "          - {name: p, type: varchar2}\n        answer: {}\n",
     "line 6: web_services.0.methods.0.parameters.0.type: unknown data type 'varchar2'"),
    ("web_services:\n  - name: S\n    methods:\n      - name: m\n        writes:\n          - {insert: A, key: p}\n",
     "line 6: web_services.0.methods.0.writes.0: an update names the parameter holding its key"),
    ("audiences:\n  - {name: A, object: Individual}\n", "line 2: audiences.0.customer_key: Field required"),
    ("web_services:\n  - name: S\n    methods:\n      - name: m\n        writes:\n"
     "          - {insert: A, values: {a_x: '@Typo'}}\n",
     "line 4: web_services.0.methods.0: a write names the parameter 'Typo', which the method does not declare"),
    ("queries:\n  - name: Q\n    object: Individual\n    parameters: [{name: p}, {name: P}]\n",
     "line 2: queries.0: parameter 'p' is declared twice"),
])
def test_a_definition_with_a_mistake_is_refused_with_its_line(text, expected):
    with pytest.raises(ProfileError) as refused:
        read_profile(text, name="tenant.yaml")
    assert expected in str(refused.value), str(refused.value)


@pytest.mark.parametrize(("definition", "expected"), [
    ("queries:\n  - {name: Q, object: Nothing}\n", "queries: Q: Invalid object name 'Nothing'."),
    ("queries:\n  - {name: Q, object: Individual, where: 'ind_nope = @p', parameters: [{name: p}]}\n",
     "queries: Q: Invalid column name 'ind_nope'."),
    ("queries:\n  - {name: Q, object: Individual, where: 'ind_last_name = @undeclared'}\n",
     'queries: Q: Must declare the scalar variable "@undeclared".'),
    ("audiences:\n  - {name: A, object: Individual, customer_key: cst_nope}\n",
     "audiences: A: Invalid column name 'cst_nope'."),
])
def test_a_definition_no_call_could_run_is_refused_when_the_profile_is_put_in_force(emulator, definition, expected):
    response = requests.post(f"{emulator.base_url}/_emulator/reset", json={"profile": definition}, timeout=30)
    assert response.status_code == 400 and expected in response.json()["error"], response.text


def test_zeep_and_json_read_a_fault_as_any_other(tenant):
    with pytest.raises(zeep.exceptions.Fault) as refused:
        ZeepMethods(tenant).zcall("ExecuteMethod", serviceName="Nope", methodName="x")
    assert "Web service 'Nope' is not defined." in refused.value.message
    answer = requests.post(tenant.json_url("ExecuteMethod"), auth=("demo", "demo"), timeout=30, json={
        "ExecuteMethod": {"serviceName": "CASDIIntegration", "methodName": "GetCommittees",
                          "parameters": [{"Name": "CustomerKey", "Value": "not a key"}]}})
    assert answer.status_code == 500
    assert answer.json()["SystemExceptionInfo"]["XWebException"]["Message"] == (
        "Parameter '@CustomerKey': Conversion failed when converting from a character string to uniqueidentifier.")


# ------------------------------------------------------------------------------------------------------ capture


def test_a_capture_saves_the_audiences_and_the_queries_named_as_the_tenant_gives_them(tenant):
    """Read operations only. xWeb shows a definition's parameters and their conditions, an audience's columns, not
    the rest (a fixed condition, the order, the security, a query's columns): the capture says so."""
    tenant.clear_journal()
    captured = capture_live(tenant.soap_url, "demo", "demo", objects=["Committee"],
                            queries=[("Committee", "MailchimpActiveCommittees")])
    assert captured.problems == {}
    assert set(captured.notes) == {"query Committee.MailchimpActiveCommittees", "audience Mailchimp Members",
                                   "audience Mailchimp Course Completers"}
    declared = read_profile(PROFILE)
    shown = {"order_by": "", "users": None, "page_size": 100}  # what xWeb does not show
    (query,) = captured.profile.queries
    assert query == declared.queries[0].model_copy(update={"order_by": "", "columns": ""})
    members, completers = captured.profile.audiences
    assert members == declared.audiences[0].model_copy(update={
        **shown, "where": "", "columns": "ind_cst_key, " + INDIVIDUAL_COLUMNS})
    assert completers == declared.audiences[1].model_copy(update={
        **shown, "columns": "reg_key, reg_cst_key, reg_grade_ext, reg_completion_date_ext"})
    assert {entry["operation"] for entry in tenant.journal()} == {
        "Authenticate", "GetFacadeObjectList", "GetQueryDefinition", "GetQuery", "GetAudienceList",
        "GetAudienceDefinition", "GetDynamicQueryDefinition"}
    # What the capture wrote serves: the definitions run.
    tenant.reset(profile=profile_yaml(captured.profile.model_copy(update={"objects": declared.objects})))
    tenant.seed({"xweb": {"Committee": [{"cmt_code": "EDU", "cmt_name": "Education", "cmt_active_flag": "1"}]}})
    assert [record["cmt_code"] for record in SoapMethods(tenant).dynamic_query(
        "Committee", "MailchimpActiveCommittees", {"Active": "1"})] == ["EDU"]


def test_profile_check_runs_the_definitions_as_serving_them_would(tmp_path):
    checked = CliRunner().invoke(main, ["profile", "check", str(PROFILE)])
    assert checked.exit_code == 0 and "3 web methods, 1 saved queries, 2 audiences" in checked.output, checked.output
    broken = tmp_path / "broken.yaml"
    broken.write_text("queries:\n  - {name: Q, object: Individual, where: 'ind_x = @p', parameters: [{name: p}]}\n")
    refused = CliRunner().invoke(main, ["profile", "check", str(broken)])
    assert refused.exit_code == 1 and "queries: Q: Invalid column name 'ind_x'." in refused.output, refused.output
