"""xWeb's read side as connectors use it: GetFacadeObjectList, GetQueryDefinition, GetQuery (its four parameters and
every where-clause rule, injection attempts refused with nothing run), UpdateFacadeObject and the Individual and
Organization objects, over raw SOAP envelopes and the JSON twin; both databases. (zeep bound to the served WSDL and
to the vendor's calls them in test_xweb_soap.py, the .NET proxy in test_dotnet_client.py.)

The query builder's own rules are tested against its own tables in test_xweb_query.py; here they run through the
service, over the application's schema.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest
import requests
from lxml import etree

from support import NS, SAMPLE_CUSTOMER, fault, parse
from xweb_emulator.pipeline import AnswerBody
from xweb_emulator.xweb.models import Customer, Email, Individual

ADA = "a0a0a0a0-0000-4000-8000-000000000001"


def call(emulator, token: str, operation: str, **params: str | None) -> requests.Response:
    body = "".join(f"<ns:{name}>{_escaped(value)}</ns:{name}>" for name, value in params.items() if value is not None)
    return emulator.soap(operation, body, token)


def _escaped(value: str) -> str:
    return value if value.startswith("<") else value.replace("&", "&amp;").replace("<", "&lt;")


def objects(response: requests.Response, operation: str, object_name: str) -> tuple[int, list[dict[str, str]]]:
    """recordReturn and the records of an XmlNode result: <XxxObjects recordReturn="N"><XxxObject>…"""
    assert response.status_code == 200, response.text
    result = parse(response).find(f"soap:Body/x:{operation}Response/x:{operation}Result/x:{object_name}Objects", NS)
    assert result is not None, response.text
    records = [{etree.QName(column).localname: column.text or "" for column in record}
               for record in result.iterfind(f"x:{object_name}Object", NS)]
    return int(result.get("recordReturn")), records


def query(emulator, token: str, object_name: str, columns: str = "", where: str | None = None,
          order: str | None = None) -> requests.Response:
    return call(emulator, token, "GetQuery", szObjectName=object_name, szColumnList=columns,
                szWhereClause=where, szOrderBy=order)


def insert_individual(emulator, token: str, **columns: str) -> str:
    record = "".join(f"<ns:{name}>{value}</ns:{name}>" for name, value in columns.items())
    response = call(emulator, token, "InsertFacadeObject", szObjectName="Individual",
                    oNode=f"<ns:IndividualObjects><ns:IndividualObject>{record}</ns:IndividualObject>"
                          f"</ns:IndividualObjects>")
    _count, (created,) = objects(response, "InsertFacadeObject", "Individual")
    return created["ind_cst_key"]


@pytest.fixture
def token(emulator) -> str:
    return emulator.authenticate()


# ------------------------------------------------------------------------------------------- objects and definitions


def test_facade_object_list_names_every_object_with_keys_that_survive_a_reset(emulator, token):
    count, listed = objects(call(emulator, token, "GetFacadeObjectList"), "GetFacadeObjectList", "Object")

    names = {record["obj_name"] for record in listed}
    assert {"Individual", "Organization", "Customer", "Email", "CustomerMessagingActivity"} <= names
    assert count == len(listed) and all(uuid.UUID(record["obj_key"]) for record in listed)
    emulator.reset()
    _count, again = objects(call(emulator, emulator.authenticate(), "GetFacadeObjectList"), "GetFacadeObjectList",
                            "Object")
    assert again == listed


def test_query_definition_is_the_vendors_typed_object(emulator, token):
    response = call(emulator, token, "GetQueryDefinition", szObjectName="individual")

    assert response.status_code == 200, response.text
    definition = parse(response).find("soap:Body/x:GetQueryDefinitionResponse/x:GetQueryDefinitionResult", NS)
    assert definition.findtext("x:obj_name", namespaces=NS) == "Individual"
    tables = definition.findall("x:ListTable/x:ListFromTables/x:ListFromTable", NS)
    assert [table.findtext("x:lsf_from_table", namespaces=NS) for table in tables] == [
        "co_individual", "co_customer", "co_email"]
    columns = {column.findtext("x:mdc_name", namespaces=NS): column
               for table in tables for column in table.iterfind("x:Columns/x:Column", NS)}
    assert {"ind_cst_key", "ind_first_name", "cst_id", "ind_change_date", "eml_address"} <= columns.keys()
    first_name = columns["ind_first_name"]
    assert first_name.findtext("x:mdc_data_type", namespaces=NS) == "nvarchar"
    assert first_name.findtext("x:mdc_width_max", namespaces=NS) == "30"
    assert columns["ind_cst_key"].findtext("x:mdc_nullable", namespaces=NS) == "0"


def test_query_definition_of_an_unknown_object_is_the_vendors_fault(emulator, token):
    assert fault(call(emulator, token, "GetQueryDefinition", szObjectName="Nothing"))["message"] == (
        "Invalid object name 'Nothing'.")


# --------------------------------------------------------------------------------------- Individual, Organization


def test_an_inserted_individual_is_a_customer_with_its_names_and_primary_email(emulator, token):
    key = insert_individual(emulator, token, ind_first_name="Ada", ind_last_name="Lovelace", ind_prf_code="Ms.",
                            eml_address="ada@example.org")

    (customer,) = emulator.rows(Customer, cst_key=uuid.UUID(key))
    assert (customer.cst_type, customer.cst_name_cp, customer.cst_sort_name_dn, customer.cst_ind_full_name_dn) == (
        "Individual", "Ada Lovelace", "Lovelace, Ada", "Ms. Ada Lovelace")
    (email,) = emulator.rows(Email, eml_cst_key=uuid.UUID(key))
    assert (email.eml_address, email.eml_primary, customer.cst_eml_key, customer.cst_eml_address_dn) == (
        "ada@example.org", 1, email.eml_key, "ada@example.org")
    (individual,) = emulator.rows(Individual, ind_cst_key=uuid.UUID(key))
    assert individual.ind_add_user == individual.ind_change_user == emulator.settings.xweb_user
    _count, (record,) = objects(query(emulator, token, "Individual", "ind_first_name, eml_address, cst_type",
                                      f"ind_cst_key = '{key}'"), "GetQuery", "Individual")
    assert record == {"ind_cst_key": key, "ind_first_name": "Ada", "eml_address": "ada@example.org",
                      "cst_type": "Individual"}


def test_an_organization_is_a_customer_named_after_it(emulator, token):
    response = call(emulator, token, "InsertFacadeObject", szObjectName="Organization",
                    oNode="<ns:OrganizationObjects><ns:OrganizationObject><ns:org_name>Analytical Engines</ns:org_name>"
                          "<ns:org_acronym>AE</ns:org_acronym></ns:OrganizationObject></ns:OrganizationObjects>")
    _count, (created,) = objects(response, "InsertFacadeObject", "Organization")

    (customer,) = emulator.rows(Customer, cst_key=uuid.UUID(created["org_cst_key"]))
    assert (customer.cst_type, customer.cst_name_cp) == ("Organization", "Analytical Engines")
    _count, (record,) = objects(query(emulator, token, "Organization @TOP -1", "org_name, cst_name_cp",
                                      "org_acronym = 'AE'"), "GetQuery", "Organization")
    assert record["cst_name_cp"] == "Analytical Engines"


def test_an_individual_refuses_another_customer_type_and_unknown_columns_with_nothing_written(emulator, token):
    with emulator.nothing_written():
        for column, message in (("<ns:cst_type>Organization</ns:cst_type>", "cst_type of an Individual"),
                                ("<ns:org_name>x</ns:org_name>", "Invalid column name 'org_name'."),
                                ("<ns:ind_first_name>" + "x" * 31 + "</ns:ind_first_name>", "truncated")):
            response = call(emulator, token, "InsertFacadeObject", szObjectName="Individual",
                            oNode=f"<ns:IndividualObjects><ns:IndividualObject><ns:ind_last_name>L</ns:ind_last_name>"
                                  f"{column}</ns:IndividualObject></ns:IndividualObjects>")
            assert message in fault(response)["message"]
            token = emulator.authenticate()  # a fault kills the token it came with


def test_the_demo_customer_is_an_individual(emulator, token):
    _count, (record,) = objects(query(emulator, token, "Individual", "ind_first_name, ind_last_name, eml_address",
                                      f"ind_cst_key = '{SAMPLE_CUSTOMER}'"), "GetQuery", "Individual")
    assert record == {"ind_cst_key": SAMPLE_CUSTOMER, "ind_first_name": "Someone", "ind_last_name": "Somewhere",
                      "eml_address": "someone@somewhere.com"}


# -------------------------------------------------------------------------------------------- UpdateFacadeObject


def _update(emulator, token: str, object_name: str, key: str, record: str) -> requests.Response:
    return call(emulator, token, "UpdateFacadeObject", szObjectName=object_name, szObjectKey=key,
                oNode=f"<ns:{object_name}Objects><ns:{object_name}Object>{record}</ns:{object_name}Object>"
                      f"</ns:{object_name}Objects>")


def test_update_changes_only_the_columns_sent_and_answers_the_whole_record(emulator, token):
    key = insert_individual(emulator, token, ind_first_name="Ada", ind_last_name="Byron", ind_badge_name="Ada",
                            eml_address="ada@example.org")
    (before,) = emulator.rows(Individual, ind_cst_key=uuid.UUID(key))
    emulator.advance_clock(60)

    response = _update(emulator, token, "Individual", key,
                       "<ns:ind_last_name>Lovelace</ns:ind_last_name><ns:eml_address>ada@lovelace.org</ns:eml_address>")

    _count, (record,) = objects(response, "UpdateFacadeObject", "Individual")
    assert (record["ind_first_name"], record["ind_last_name"], record["ind_badge_name"], record["eml_address"],
            record["cst_name_cp"], record["cst_sort_name_dn"]) == (
        "Ada", "Lovelace", "Ada", "ada@lovelace.org", "Ada Lovelace", "Lovelace, Ada")
    (after,) = emulator.rows(Individual, ind_cst_key=uuid.UUID(key))
    (customer,) = emulator.rows(Customer, cst_key=uuid.UUID(key))
    assert after.ind_change_date >= before.ind_change_date + timedelta(seconds=60)
    assert customer.cst_change_date == after.ind_change_date and after.ind_add_date == before.ind_add_date
    assert [email.eml_address for email in emulator.rows(Email, eml_cst_key=uuid.UUID(key))] == ["ada@lovelace.org"]


@pytest.mark.parametrize(("object_name", "key", "record", "message"), [
    ("Individual", "0b0b0b0b-0000-4000-8000-000000000000", "<ns:ind_last_name>x</ns:ind_last_name>",
     "szObjectKey: no Individual record has ind_cst_key 0b0b0b0b-0000-4000-8000-000000000000."),
    ("Individual", SAMPLE_CUSTOMER, f"<ns:ind_cst_key>{ADA}</ns:ind_cst_key>", "ind_cst_key cannot be changed"),
    ("Individual", "not a key", "<ns:ind_last_name>x</ns:ind_last_name>", "is not a valid GUID"),
    ("Email", "5b0d9b1e-4c1a-4f43-9a9e-0d6f4a2c7e01", "<ns:eml_address />", "eml_address is required."),
    ("Email", "5b0d9b1e-4c1a-4f43-9a9e-0d6f4a2c7e01", f"<ns:eml_cst_key>{ADA}</ns:eml_cst_key>",
     "no co_customer record"),
])
def test_update_refusals_write_nothing(emulator, token, object_name, key, record, message):
    with emulator.nothing_written():
        assert message in fault(_update(emulator, token, object_name, key, record))["message"]


# ----------------------------------------------------------------------------------------------------- GetQuery


def test_the_default_column_list_leads_with_the_key_and_an_empty_result_says_zero(emulator, token):
    count, (record,) = objects(query(emulator, token, "Individual", "", f"ind_cst_key = '{SAMPLE_CUSTOMER}'"),
                               "GetQuery", "Individual")
    assert count == 1 and list(record)[:2] == ["ind_cst_key", "cst_id"] and "eml_address" in record

    response = query(emulator, token, "Individual", "", "ind_last_name = 'Nobody'")
    assert objects(response, "GetQuery", "Individual") == (0, [])
    assert 'recordReturn="0"' in response.text


def test_the_key_is_prepended_and_aliases_name_the_columns(emulator, token):
    _count, (record,) = objects(query(emulator, token, "Individual", "ind_last_name AS surname, cst_id",
                                      f"ind_cst_key = '{SAMPLE_CUSTOMER}'"), "GetQuery", "Individual")
    assert record == {"ind_cst_key": SAMPLE_CUSTOMER, "surname": "Somewhere", "cst_id": "000000001I"}


def test_nulls_are_empty_elements(emulator, token):
    response = query(emulator, token, "Individual", "ind_mid_name", f"ind_cst_key = '{SAMPLE_CUSTOMER}'")
    assert "<ind_mid_name />" in response.text


@pytest.mark.parametrize(("columns", "where", "order", "message"), [
    ("*", None, None, "'*' is not a valid value for szColumnList"),
    ("nothing", None, None, "Invalid column name 'nothing'."),
    ("", "nothing = 1", None, "Invalid column name 'nothing'."),
    ("", None, "nothing", "Invalid column name 'nothing'."),
    ("", "1=1; DROP TABLE co_customer", None, "Invalid query."),
    ("", "ind_cst_key IN (SELECT cst_key FROM co_customer)", None, "Invalid query."),
    ("", "ind_last_name = 'x'; DELETE FROM co_individual", None, "Invalid query."),
    ("", "ind_last_name = 'x' UNION SELECT 1", None, "Invalid query."),
    ("", "cst_entity_key = 1", None, "Invalid query."),
    ("", "ind_dob > 'not a date'", None, "Conversion failed when converting date and/or time from character string."),
])
def test_refused_queries_answer_the_vendors_words_and_run_nothing(emulator, token, columns, where, order, message):
    with emulator.nothing_written():
        assert fault(query(emulator, token, "Individual", columns, where, order))["message"] == message
    assert emulator.rows(Individual, ind_cst_key=uuid.UUID(SAMPLE_CUSTOMER)), "the table is still there"


def test_a_quote_inside_a_value_is_a_value(emulator, token):
    key = insert_individual(emulator, token, ind_first_name="Miles", ind_last_name="O'Brien")
    _count, records = objects(query(emulator, token, "Individual", "ind_last_name",
                                    "ind_last_name = 'O''Brien' OR ind_last_name = 'x'' OR ''1''=''1'"),
                              "GetQuery", "Individual")
    assert records == [{"ind_cst_key": key, "ind_last_name": "O'Brien"}]


def test_where_clause_operators(emulator, token):
    keys = [insert_individual(emulator, token, ind_first_name=first, ind_last_name=last, ind_badge_name=badge)
            for first, last, badge in (("Ann", "Able", "a"), ("Bob", "Baker", ""), ("Cy", "Carter", "c"))]

    def last_names(where: str) -> list[str]:
        _count, records = objects(query(emulator, token, "Individual @TOP -1", "ind_last_name",
                                        f"({where}) AND ind_cst_key IN ('{keys[0]}', '{keys[1]}', '{keys[2]}')",
                                        "ind_last_name DESC"), "GetQuery", "Individual")
        return [record["ind_last_name"] for record in records]

    assert last_names("ind_first_name LIKE 'a%' OR ind_first_name = 'CY'") == ["Carter", "Able"]
    assert last_names("NOT ind_last_name BETWEEN 'b' AND 'bz'") == ["Carter", "Able"]
    assert last_names("ind_badge_name IS NULL") == ["Baker"]
    assert last_names("ind_badge_name IS NOT NULL AND ind_first_name <> 'Ann'") == ["Carter"]
    assert last_names("ind_first_name IN ('Bob', 'Cy')") == ["Carter", "Baker"]


def test_the_default_row_cap_and_top(emulator_with):
    capped = emulator_with(xweb_query_row_cap=2)
    token = capped.authenticate()
    for number in range(3):
        insert_individual(capped, token, ind_last_name=f"Capped{number}")
    where = "ind_last_name LIKE 'Capped%'"

    assert objects(query(capped, token, "Individual", "ind_last_name", where), "GetQuery", "Individual")[0] == 2
    assert objects(query(capped, token, "Individual @TOP -1", "ind_last_name", where), "GetQuery", "Individual")[0] == 3
    assert objects(query(capped, token, "Individual @TOP 1", "ind_last_name", where), "GetQuery", "Individual")[0] == 1


def test_keyset_paging_reads_every_record_once(emulator, token):
    emulator.seed({"xweb": {"Individual": [{"ind_last_name": f"Paged{number:02}"} for number in range(23)]}})
    seen, last = [], None
    while True:
        where = "ind_last_name LIKE 'Paged%'" + (f" AND ind_cst_key > '{last}'" if last else "")
        _count, page = objects(query(emulator, token, "Individual @TOP 10", "ind_last_name", where, "ind_cst_key"),
                               "GetQuery", "Individual")
        seen += [record["ind_last_name"] for record in page]
        if len(page) < 10:
            break
        last = page[-1]["ind_cst_key"]
    assert sorted(seen) == [f"Paged{number:02}" for number in range(23)]


def test_a_change_date_watermark_finds_exactly_the_new_and_changed_records(emulator, token):
    old = insert_individual(emulator, token, ind_last_name="Old")
    untouched = insert_individual(emulator, token, ind_last_name="Untouched")
    emulator.advance_clock(60)
    watermark = parse(call(emulator, token, "GetDateTime")).findtext(
        "soap:Body/x:GetDateTimeResponse/x:GetDateTimeResult", namespaces=NS)
    emulator.advance_clock(5)
    new = insert_individual(emulator, token, ind_last_name="New")
    assert _update(emulator, token, "Individual", old, "<ns:ind_first_name>Now</ns:ind_first_name>").status_code == 200

    moment = datetime.fromisoformat(watermark.replace("Z", "+00:00")).replace(tzinfo=None)
    for written in (moment.isoformat(timespec="seconds"),
                    f"{moment.month}/{moment.day}/{moment.year} {moment.hour % 12 or 12}:{moment:%M:%S} "
                    f"{'AM' if moment.hour < 12 else 'PM'}"):
        _count, records = objects(query(emulator, token, "Individual @TOP -1", "ind_last_name",
                                        f"ind_change_date > '{written}'", "ind_last_name"), "GetQuery", "Individual")
        assert [record["ind_cst_key"] for record in records] == [new, old], written
    assert untouched not in {record["ind_cst_key"] for record in records}


def test_every_object_answers_get_query(emulator, token):
    _count, listed = objects(call(emulator, token, "GetFacadeObjectList"), "GetFacadeObjectList", "Object")
    for record in listed:
        name = record["obj_name"]
        count, _records = objects(query(emulator, token, f"{name} @TOP 1"), "GetQuery", name)
        assert count <= 1


# ---------------------------------------------------------------------------------------------------- JSON twin


def test_the_json_twin_answers_the_read_side(emulator):
    def post(operation: str, params: dict) -> requests.Response:
        return requests.post(f"{emulator.base_url}/xWeb/JSON/{operation}", json={operation: params},
                             auth=(emulator.settings.xweb_user, emulator.settings.xweb_password), timeout=30)

    answer = post("GetQuery", {"szObjectName": "Individual", "szColumnList": "ind_last_name",
                               "szWhereClause": f"ind_cst_key = '{SAMPLE_CUSTOMER}'", "szOrderBy": None})
    assert answer.status_code == 200, answer.text
    assert answer.json()["IndividualObjects"]["@recordReturn"] == "1"
    assert answer.json()["IndividualObjects"]["IndividualObject"] == {"ind_cst_key": SAMPLE_CUSTOMER,
                                                                       "ind_last_name": "Somewhere"}

    definition = post("GetQueryDefinition", {"szObjectName": "Individual"}).json()
    assert definition["obj_name"] == "Individual"
    tables = definition["ListTable"]["ListFromTables"]
    assert [table["lsf_from_table"] for table in tables] == ["co_individual", "co_customer", "co_email"]
    assert "ind_first_name" in [column["mdc_name"] for column in tables[0]["Columns"]]

    listed = post("GetFacadeObjectList", {}).json()["ObjectObjects"]
    assert int(listed["@recordReturn"]) == len(listed["ObjectObject"]) >= 10

    information = post("GetIndividualInformation", {"IndividualKey": SAMPLE_CUSTOMER}).json()
    assert information["IndividualObjects"]["IndividualObject"]["ind_last_name"] == "Somewhere"

    updated = post("UpdateFacadeObject", {
        "szObjectName": "Individual", "szObjectKey": SAMPLE_CUSTOMER,
        "oNode": {"IndividualObjects": {"IndividualObject": {"ind_badge_name": "Some"}}}}).json()
    record = updated["IndividualObjects"]["IndividualObject"]
    assert (record["ind_badge_name"], record["ind_last_name"], record["ind_change_user"]) == (
        "Some", "Somewhere", emulator.settings.xweb_user)

    refused = post("GetQuery", {"szObjectName": "Individual", "szColumnList": "*"})
    assert refused.status_code == 500
    assert refused.json()["SystemExceptionInfo"]["XWebException"]["Message"] == (
        "'*' is not a valid value for szColumnList")


def test_a_stored_character_xml_cannot_carry_is_a_server_fault_over_soap_and_escaped_over_json(emulator, token):
    """Stored through JSON (as a tenant's SQL Server would store it), U+0001 cannot be written into an XML answer:
    ASP.NET's server fault, naming it, with nothing written and no traceback; the JSON twin answers it escaped."""
    emulator.seed({"xweb": {"Individual": [{"ind_first_name": "Bell\u0001", "ind_last_name": "Control"}]}})
    with emulator.nothing_written():
        response = query(emulator, token, "Individual", "ind_first_name", "ind_last_name = 'Control'")
    found = fault(response)
    assert response.status_code == 500 and found["faultcode"] == "soap:Server", response.text
    assert found["faultstring"] == ("System.Web.Services.Protocols.SoapException: Server was unable to process "
                                    "request. ---> U+0001, hexadecimal value 0x01, is an invalid character.")
    answer = requests.post(emulator.json_url("GetQuery"), timeout=30,
                           auth=(emulator.settings.xweb_user, emulator.settings.xweb_password),
                           json={"GetQuery": {"szObjectName": "Individual", "szColumnList": "ind_first_name",
                                              "szWhereClause": "ind_last_name = 'Control'"}})
    assert answer.status_code == 200, answer.text
    assert answer.json()["IndividualObjects"]["IndividualObject"]["ind_first_name"] == "Bell\u0001"


def test_an_answer_of_every_row_arrives_whole_over_soap_and_json(emulator, token):
    """An answer of hundreds of kB (written into one buffer, sent a slice at a time: pipeline.AnswerBody) arrives
    whole, in order, its length as declared."""
    count = 3_000
    emulator.seed({"xweb": {"Individual": [{"ind_first_name": f"First{number}", "ind_last_name": f"Member{number:05d}"}
                                           for number in range(count)]}})
    response = query(emulator, token, "Individual @TOP -1", "ind_last_name", "ind_last_name LIKE 'Member%'",
                     "ind_last_name")
    assert len(response.content) > AnswerBody.SLICE  # more than one slice
    assert int(response.headers["Content-Length"]) == len(response.content)
    returned, records = objects(response, "GetQuery", "Individual")
    assert returned == count and [record["ind_last_name"] for record in records] == [
        f"Member{number:05d}" for number in range(count)]

    answer = requests.post(emulator.json_url("GetQuery"), timeout=60,
                           auth=(emulator.settings.xweb_user, emulator.settings.xweb_password), json={"GetQuery": {"szObjectName": "Individual @TOP -1", "szColumnList": "ind_last_name",
                                              "szWhereClause": "ind_last_name LIKE 'Member%'",
                                              "szOrderBy": "ind_last_name"}})
    assert answer.status_code == 200 and len(answer.content) > AnswerBody.SLICE
    assert int(answer.headers["Content-Length"]) == len(answer.content)
    objects_json = answer.json()["IndividualObjects"]
    assert objects_json["@recordReturn"] == str(count) and len(objects_json["IndividualObject"]) == count
