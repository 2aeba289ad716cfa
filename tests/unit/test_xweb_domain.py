"""xWeb's facade operations called directly on a database connection (no wire, no server): InsertFacadeObject's,
UpdateFacadeObject's and GetFacadeObject's domain functions, their rules and the audit columns they write.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from unit_support import NOW
from support import SAMPLE_CUSTOMER
from xweb_emulator.xweb.errors import InvalidInput
from xweb_emulator.xweb.facade import FACADE_OBJECTS, Actor, get_record, insert_records, update_record
from xweb_emulator.xweb.models import Country

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
