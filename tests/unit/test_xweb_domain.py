"""xWeb's facade operations called directly on a database connection (no wire, no server): InsertFacadeObject's,
UpdateFacadeObject's and GetFacadeObject's domain functions, their rules and the audit columns they write.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from unit_support import NOW
from support import SAMPLE_CUSTOMER
from xweb_emulator.xweb.errors import InvalidInput
from xweb_emulator.xweb.facade import FACADE_OBJECTS, Actor, get_record, insert_records, new_guids, update_record
from xweb_emulator.xweb.models import Country
from xweb_emulator.xweb.profile import default_profile, merged, read_profile
from xweb_emulator.xweb.stored import write_values
from xweb_emulator.xweb.tenant import Tenant
from xweb_emulator.xweb.values import ValueReader, format_date, parse_date, reading_once

COUNTRY = FACADE_OBJECTS["country"]
CLERK = Actor("clerk", NOW)


def countries(connection) -> int:
    return connection.execute(select(func.count()).select_from(Country)).scalar_one()


def test_inserted_records_are_read_back_by_their_keys_with_who_added_them(connection):
    keys = insert_records(connection, CLERK, COUNTRY, [{"cty_code": "Atlantis", "cty_iso_2": "AX"},
                                                       {"cty_code": "Lemuria"}])

    first, second = (get_record(connection, COUNTRY, str(key)) for key in keys)
    assert (first["cty_code"], first["cty_iso_2"], first["cty_add_user"]) == ("Atlantis", "AX", "clerk")
    assert (second["cty_code"], second["cty_iso_2"]) == ("Lemuria", None)


def test_one_invalid_record_inserts_none_and_says_which(connection):
    before = countries(connection)

    with pytest.raises(InvalidInput, match="cty_code") as refused:
        insert_records(connection, CLERK, COUNTRY, [{"cty_code": "Atlantis"}, {"cty_iso_2": "LM"}])

    assert "2" in refused.value.message  # the second record's
    assert countries(connection) == before


def test_a_key_sent_twice_in_one_call_is_refused(connection):
    key = str(uuid.uuid4())

    with pytest.raises(InvalidInput, match="cty_key"):
        insert_records(connection, CLERK, COUNTRY, [{"cty_key": key, "cty_code": "A"},
                                                    {"cty_key": key, "cty_code": "B"}])


def test_no_record_is_refused(connection):
    with pytest.raises(InvalidInput, match="No CountryObject was supplied"):
        insert_records(connection, CLERK, COUNTRY, [])


def test_an_update_changes_only_the_columns_sent_and_says_who_changed_them(connection):
    (key,) = insert_records(connection, CLERK, COUNTRY, [{"cty_code": "Atlantis", "cty_iso_2": "AX"}])
    later = Actor("auditor", NOW + timedelta(days=1))

    assert update_record(connection, later, COUNTRY, str(key), {"cty_iso_3": "ATL"}) == key

    record = get_record(connection, COUNTRY, str(key))
    assert (record["cty_code"], record["cty_iso_2"], record["cty_iso_3"]) == ("Atlantis", "AX", "ATL")
    assert (record["cty_add_user"], record["cty_change_user"]) == ("clerk", "auditor")


def test_an_update_of_a_key_no_record_has_is_refused(connection):
    missing = str(uuid.uuid4())

    with pytest.raises(InvalidInput, match=f"no Country record has cty_key {missing}"):
        update_record(connection, CLERK, COUNTRY, missing, {"cty_iso_3": "ATL"})


def test_get_answers_none_for_a_key_no_record_has_and_refuses_what_is_no_guid(connection):
    assert get_record(connection, COUNTRY, str(uuid.uuid4())) is None
    with pytest.raises(InvalidInput):
        get_record(connection, COUNTRY, "not a key")


def test_the_demo_customer_is_there_to_read(connection):
    record = get_record(connection, FACADE_OBJECTS["customer"], SAMPLE_CUSTOMER)

    assert record is not None and record["cst_key"].strip("{}").lower() == SAMPLE_CUSTOMER


ACTIVITY = FACADE_OBJECTS["customermessagingactivity"]


def activity(customer: str = SAMPLE_CUSTOMER, **values: str | None) -> dict[str, str | None]:
    return {"cma_cst_key": customer, "cma_eml_address": "someone@example.org",
            "cma_activity_date": "03/12/2012 14:44:55.892", **values}


def activities(connection) -> int:
    return connection.execute(select(func.count()).select_from(ACTIVITY.model)).scalar_one()


@pytest.mark.parametrize(("records", "refusal"), [
    # The references of a thousand records are looked up together, yet the refusal is the first failing record's,
    # and of its checks the first: its values, then the records it refers to, then its key.
    ([activity(), activity(str(uuid.UUID(int=2))), activity(cma_activity_date="someday")],
     f"CustomerMessagingActivityObject 2: cma_cst_key: no co_customer record has cst_key {uuid.UUID(int=2)}."),
    ([activity(), activity(cma_activity_date="someday"), activity(str(uuid.UUID(int=3)))],
     "CustomerMessagingActivityObject 2: Invalid value for cma_activity_date: 'someday' is not a valid date."),
    ([activity(cma_key=str(uuid.UUID(int=4))), activity(str(uuid.UUID(int=5)), cma_key=str(uuid.UUID(int=4)))],
     f"CustomerMessagingActivityObject 2: cma_cst_key: no co_customer record has cst_key {uuid.UUID(int=5)}."),
    ([activity(cma_key=str(uuid.UUID(int=4))), activity(), activity(cma_key=str(uuid.UUID(int=4)))],
     f"CustomerMessagingActivityObject 3: Cannot insert duplicate key: cma_key {uuid.UUID(int=4)} already exists."),
    ([activity(), activity(cma_eml_key=str(uuid.UUID(int=6)))],
     f"CustomerMessagingActivityObject 2: cma_eml_key: no co_email record has eml_key {uuid.UUID(int=6)}."),
    # Each distinct text of a call is parsed once; one that fails fails again where it is sent again.
    ([activity(), activity(cma_activity_date="someday"), activity(cma_activity_date="someday")],
     "CustomerMessagingActivityObject 2: Invalid value for cma_activity_date: 'someday' is not a valid date."),
])
def test_the_first_record_that_fails_a_check_is_the_one_refused_and_nothing_is_inserted(connection, records, refusal):
    before = activities(connection)

    with pytest.raises(InvalidInput) as refused:
        insert_records(connection, CLERK, ACTIVITY, records)

    assert refused.value.message == refusal
    assert activities(connection) == before


def test_records_with_keys_made_and_chosen_go_in_together_in_order_and_a_chosen_key_taken_is_refused(connection):
    """(The call a refusal fails is rolled back by the pipeline: tests/integration/test_xweb_rules.py.)"""
    chosen = uuid.uuid4()
    records = [activity(cma_activity_id=str(number)) for number in range(300)]
    records[150]["cma_key"] = str(chosen)
    records[151]["cma_key"] = " "  # an empty key element: a key is made, as for one not sent

    keys = insert_records(connection, CLERK, ACTIVITY, records)

    assert len(set(keys)) == 300 and keys[150] == chosen
    assert [get_record(connection, ACTIVITY, str(key))["cma_activity_id"] for key in keys[148:153]] == \
        ["148", "149", "150", "151", "152"]
    with pytest.raises(InvalidInput) as refused:
        insert_records(connection, CLERK, ACTIVITY, [activity(), activity(cma_key=str(chosen))])
    assert refused.value.message == (f"CustomerMessagingActivityObject 2: Cannot insert duplicate key: cma_key "
                                     f"{chosen} already exists.")


def test_the_references_of_many_records_to_many_records_are_all_checked(connection):
    customers = insert_records(connection, CLERK, FACADE_OBJECTS["customer"], [{"cst_name_cp": f"C{number}"}
                                                                              for number in range(1100)])
    records = [activity(str(customer)) for customer in customers]

    assert len(insert_records(connection, CLERK, ACTIVITY, records)) == 1100

    unknown = uuid.uuid4()
    records[1000] = activity(str(unknown))
    with pytest.raises(InvalidInput) as refused:
        insert_records(connection, CLERK, ACTIVITY, records)
    assert refused.value.message == (f"CustomerMessagingActivityObject 1001: cma_cst_key: no co_customer record has "
                                     f"cst_key {unknown}.")


LMS = Tenant(merged(default_profile(), read_profile(
    Path(__file__).resolve().parents[1] / "fixtures" / "xweb" / "profiles" / "lms.yaml")))
COMMITTEE = LMS.objects["committee"]


def test_records_of_a_profiles_own_object_go_in_with_keys_made_and_chosen_and_a_chosen_key_taken_is_refused(
        connection):
    chosen = uuid.uuid4()
    records = [{"cmt_code": f"C{number}", "cmt_name": "A committee", "cmt_active_flag": "1",
                "cmt_begin_date": "3/1/2026"} for number in range(40)]
    records[20]["cmt_key"] = str(chosen)

    keys = insert_records(connection, CLERK, COMMITTEE, records)

    assert len(set(keys)) == 40 and keys[20] == chosen
    record = get_record(connection, COMMITTEE, str(keys[39]))
    assert (record["cmt_code"], record["cmt_begin_date"], record["cmt_add_user"]) == (
        "C39", format_date(datetime(2026, 3, 1)), "clerk")
    with pytest.raises(InvalidInput) as refused:
        insert_records(connection, CLERK, COMMITTEE, [records[0], {**records[20], "cmt_code": "X"}])
    assert refused.value.message == f"CommitteeObject 2: Cannot insert duplicate key: cmt_key {chosen} already exists."


def test_the_extender_columns_of_many_new_records_are_stored_with_them(connection):
    individual = LMS.objects["individual"]
    orphan = uuid.uuid4()  # an extender row with no record (none should be): the values sent are merged into it
    write_values(connection, CLERK, "co_individual_ext", orphan, {"ind_customer_type_ext": "Member"})
    records = [{"ind_first_name": "Ada", "ind_last_name": f"L{number}", "ind_pin_ext": f"P{number}"}
               for number in range(30)]
    records[3] = {"ind_first_name": "Ada", "ind_last_name": "Plain"}
    records[7]["ind_cst_key"] = str(orphan)

    keys = insert_records(connection, CLERK, individual, records)

    read = [get_record(connection, individual, str(key)) for key in keys]
    assert [(record["ind_pin_ext"], record["ind_customer_type_ext"]) for record in read[:8]] == [
        ("P0", None), ("P1", None), ("P2", None), (None, None), ("P4", None), ("P5", None), ("P6", None),
        ("P7", "Member")]


def test_many_individuals_with_keys_made_and_chosen_go_in_with_their_e_mails_and_numbers(connection):
    individual = FACADE_OBJECTS["individual"]
    chosen = uuid.uuid4()
    records = [{"ind_first_name": "Ada", "ind_last_name": f"L{number}", "eml_address": f"a{number}@example.org"}
               for number in range(20)]
    records[5]["ind_cst_key"] = str(chosen)

    keys = insert_records(connection, CLERK, individual, records)

    assert keys[5] == chosen and len(set(keys)) == 20
    read = [get_record(connection, individual, str(key)) for key in keys]
    assert [record["eml_address"] for record in read] == [f"a{number}@example.org" for number in range(20)]
    numbers = [int(record["cst_recno"]) for record in read]
    assert numbers == list(range(numbers[0], numbers[0] + 20))
    with pytest.raises(InvalidInput) as refused:
        insert_records(connection, CLERK, individual, [records[0], records[5]])
    assert refused.value.message == (f"IndividualObject 2: Cannot insert duplicate key: ind_cst_key {chosen} "
                                     "already exists.")


def test_a_calls_readers_parse_each_distinct_text_once_and_keep_no_failure():
    parsed: list[str | None] = []

    def read(text: str | None) -> object:
        parsed.append(text)
        return parse_date(text or "", "when")

    readers = reading_once({"when": ValueReader("when", read), "note": ValueReader("note", str, parses=False)})

    assert readers["when"].read("01/12/2008") is readers["when"].read("01/12/2008") == datetime(2008, 1, 12)
    for _ in range(2):
        with pytest.raises(InvalidInput, match="'someday' is not a valid date"):
            readers["when"].read("someday")
    assert parsed == ["01/12/2008", "someday", "someday"]
    assert readers["note"].read is str  # text kept as it is: nothing to remember


def test_new_guids_are_random_version_4_uuids_as_uuid4_makes_them():
    keys = new_guids(1000)

    assert len(set(keys)) == 1000 and new_guids(0) == []
    assert {(key.version, key.variant) for key in keys} == {(4, uuid.uuid4().variant)}
