"""CRM.COM's bulk creation of web customer events called directly on a database connection (no wire, no server):
each event processed or reported unprocessed with its own error, the processed ones stored.
"""

from __future__ import annotations

import functools
import operator
import os
import uuid

import pytest
from sqlalchemy import func, select

from unit_support import NOW
from xweb_emulator.crmcom import events, models
from xweb_emulator.crmcom.errors import MaximumValuesExceeded, MissingMandatoryValue
from xweb_emulator.crmcom.models import WebCustomerEvent, new_id, new_ids

ACTOR = events.Actor("demo", NOW)


def event(identifier: str, account: str = "ACR0000000020") -> dict:
    return {"request_unique_identifier": identifier, "accounts_receivable_identifier": {"number": account},
            "performed_by_unit_identifier": {"name": "Admin Unit"}, "performed_on": "2016-06-22T15:00:00",
            "website": "www.crm.com"}


def stored(session) -> int:
    return session.execute(select(func.count()).select_from(WebCustomerEvent)).scalar_one()


def test_each_event_is_processed_or_unprocessed_on_its_own(session):
    before = stored(session)

    result = events.bulk_create(session.connection(), ACTOR,
                                [event("a"), event("b", account="ACR00045000"), event("c")], None)

    processed = result["processed_customer_events_set"]
    assert [item["request_unique_identifier"] for item in processed] == ["a", "c"]
    assert all(item["number"] and item["id"] for item in processed)
    (unprocessed,) = result["unprocessed_customer_events_set"]
    assert (unprocessed["request_unique_identifier"], unprocessed["error_code"]) == ("b", "NotFoundAPIValueException")
    assert stored(session) == before + 2


def test_an_identifier_used_twice_fails_both_events(session):
    result = events.bulk_create(session.connection(), ACTOR, [event("same"), event("same")], None)

    assert result["processed_customer_events_set"] == []
    assert {item["error_code"] for item in result["unprocessed_customer_events_set"]} == {
        "DuplicateAPIValueException"}


def test_an_empty_set_and_one_past_the_maximum_are_refused_whole(session):
    with pytest.raises(MissingMandatoryValue):
        events.bulk_create(session.connection(), ACTOR, [], None)
    with pytest.raises(MaximumValuesExceeded):
        events.bulk_create(session.connection(), ACTOR,
                           [event(str(n)) for n in range(events.MAX_EVENTS_PER_CALL + 1)], None)


@pytest.mark.parametrize("made", ["one at a time", "together"])
def test_ids_are_random_uuids_in_upper_case_hex(made):
    ids = [new_id() for _ in range(1000)] if made == "one at a time" else new_ids(1000)

    assert len(set(ids)) == 1000
    assert all(len(id_) == 32 and id_ == id_.upper() for id_ in ids)
    parsed = [uuid.UUID(id_) for id_ in ids]
    assert {(key.version, key.variant) for key in parsed} == {(4, uuid.RFC_4122)}
    # Every other bit varies, as a random UUID's do: only the version's and the variant's zeros are always zero.
    always_zero = (0xB000 << 64) | (0x4000 << 48)
    assert functools.reduce(operator.or_, (key.int for key in parsed)) == ((1 << 128) - 1) & ~always_zero


def test_ids_are_what_uuid_makes_of_the_same_random_bytes(monkeypatch):
    drawn = [os.urandom(16) for _ in range(300)] + [bytes(16), b"\xff" * 16]
    monkeypatch.setattr(models.os, "urandom", lambda size: b"".join(drawn)[:size])

    assert new_ids(len(drawn)) == [uuid.UUID(bytes=random, version=4).hex.upper() for random in drawn]
    assert new_id() == uuid.UUID(bytes=drawn[0], version=4).hex.upper()
