"""The seeded fuzzer (tests/fuzzing.py) at every endpoint, a few hundred malformed requests each, on both backends:
every one answered in time, in the vendor's shape and words, the generic 500 never, and nothing written by any (the
base requests only read), but the events CRM.COM's answers report stored. bench/fuzz.py runs the long version."""

from __future__ import annotations

import random

import pytest
import requests

import fuzzing
from crmcom_support import login
from support import Emulator, snapshot

PER_ENDPOINT = 200
SEED = 13


@pytest.mark.parametrize("endpoint", ["xweb-soap", "xweb-json", "sap", "crmcom-login", "crmcom-bulk", "control"])
def test_malformed_requests_get_the_vendors_error_and_write_nothing(emulator: Emulator, endpoint):
    settings = emulator.settings
    base = fuzzing.base_cases(emulator.authenticate(), login(emulator), (settings.xweb_user, settings.xweb_password),
                              (settings.sap_user, settings.sap_password))[endpoint]
    emulator.clear_journal()
    before = snapshot(emulator)
    findings, stored_events = fuzzing.Findings(), 0
    rng = random.Random(f"{SEED}:{endpoint}")
    with requests.Session() as session:
        for case in fuzzing.cases(base, rng, PER_ENDPOINT):
            response, elapsed = fuzzing.send(session, emulator.base_url, case)
            fuzzing.check(case, response, elapsed, findings)
            if endpoint == "crmcom-bulk" and response is not None:
                stored_events += fuzzing.processed_events(response)
    emulator.clear_faults()

    assert findings.problems == [], "\n".join(findings.problems[:20])
    after = snapshot(emulator)
    if endpoint == "crmcom-bulk":
        grown = len(after.pop("crmcom_web_customer_event")) - len(before.pop("crmcom_web_customer_event"))
        assert grown == stored_events
        after.pop("crmcom_number_sequence", None), before.pop("crmcom_number_sequence", None)
    assert after == before, "a refused request changed the database"
    if endpoint != "control":
        # Every vendor call that got an answer is in the journal.
        assert len(emulator.journal(limit=1000)) == PER_ENDPOINT
