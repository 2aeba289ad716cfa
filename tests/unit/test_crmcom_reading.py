"""The shortcuts CRM.COM's event reading takes for a bulk call's common case answer as the general reading does: a
date string parsed once for the call (values.date), and an optional field not read when the event does not give it
(events.validate_event), the same as one given null.
"""

from __future__ import annotations

from datetime import UTC, timedelta, timezone
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xweb_emulator.crmcom import events, values
from xweb_emulator.crmcom.errors import CrmComError
from xweb_emulator.crmcom.models import UDF_DATES, UDF_FLOATS, UDF_STRINGS

OPTIONAL_FIELDS = ("description", "external_system", "external_system_reference_number",
                   *UDF_STRINGS, *UDF_FLOATS, *UDF_DATES)

offsets = st.one_of(st.none(), st.just(UTC), st.integers(-14 * 60, 14 * 60).map(
    lambda minutes: timezone(timedelta(minutes=minutes))))
date_texts = st.one_of(
    st.datetimes(timezones=offsets).map(lambda moment: moment.isoformat()),
    st.dates().map(lambda day: day.isoformat()),
    st.text(alphabet="0123456789-:T .+Z", max_size=26),
    st.text(max_size=8),
).flatmap(lambda text: st.sampled_from([text, f" {text}", f"{text} "]))
json_values = st.one_of(st.none(), st.just(""), date_texts, st.text(max_size=6), st.integers(), st.booleans(),
                        st.floats(), st.lists(st.integers(), max_size=2),
                        st.dictionaries(st.text(max_size=2), st.integers(), max_size=1))


def outcome(read: Any, *arguments: Any) -> tuple:
    """What a reading answers: its value, or its error's kind and message."""
    try:
        return ("value", read(*arguments))
    except CrmComError as error:
        return ("error", error.code, error.message)


@given(st.lists(date_texts, min_size=1, max_size=6))
def test_a_date_read_again_is_what_its_first_reading_was(texts):
    values._read_date.cache_clear()
    first = [outcome(values.date, {"on": text}, "on") for text in texts]
    again = [outcome(values.date, {"on": text}, "on") for text in texts]

    assert again == first
    values._read_date.cache_clear()
    unread = [outcome(values.date, {"on": text}, "on") for text in texts]
    assert unread == first
    for text, (kind, answer) in zip(texts, (reading[:2] for reading in first), strict=True):
        if kind == "value" and answer is not None:  # (None: an empty string, not specified)
            assert answer == values._read_date.__wrapped__(text)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])  # validate_event writes nothing
@given(st.dictionaries(st.sampled_from(OPTIONAL_FIELDS), json_values, max_size=4),
       st.sampled_from(["", "description", "external_system", "udf_string_1"]))
def test_an_optional_field_left_out_reads_as_one_given_null(connection, given_fields, left_out):
    item = {"request_unique_identifier": "1", "accounts_receivable_identifier": {"number": "ACR0000000020"},
            "performed_by_unit_identifier": {"name": "Admin Unit"}, "performed_on": "2016-06-22T15:00:00",
            "website": "www.crm.com", **given_fields}
    item.pop(left_out, None)
    with_nulls = {**dict.fromkeys(OPTIONAL_FIELDS), **item}

    read = outcome(events.validate_event, events.Finder(connection), item)

    assert read == outcome(events.validate_event, events.Finder(connection), with_nulls)
    if read[0] == "value":
        assert None not in read[1].values(), read
