"""Concurrent first calls on every find-or-create path (issue 13, defect 2): 8 at once, on both backends, end as a
serial run would. On PostgreSQL they used to fail on the unique key (check then insert), and 8 parallel wrong
passwords got more than the configured fail count checked."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import requests

import sap_support
from support import Emulator, fault
from test_sap_rules import PERMISSION, campaign, outbound, seed
from test_xweb_rules import ACCREDITATION, PREFERENCES_CUSTOMER, elements
from xweb_emulator.sap.models import Customer, MailingPermission
from xweb_emulator.xweb.models import CustomerMailingPreference

PARALLEL = 8


def at_once(call: Callable[[int], requests.Response]) -> list[requests.Response]:
    with ThreadPoolExecutor(PARALLEL) as pool:
        return list(pool.map(call, range(PARALLEL)))


def test_concurrent_first_preferences_of_one_customer_all_land(emulator: Emulator):
    tokens = [emulator.authenticate() for _ in range(PARALLEL)]
    customer = uuid.UUID(PREFERENCES_CUSTOMER)
    before = {row.cmp_mlt_key for row in emulator.rows(CustomerMailingPreference, cmp_cst_key=customer)}
    assert uuid.UUID(ACCREDITATION) not in before

    def set_one(n: int) -> requests.Response:
        setting = elements({"mailing_list_key": ACCREDITATION, "status": "OptIn" if n % 2 else "OptOut"})
        return emulator.soap("SetCustomerCommunicationPreferences",
                             f"<ns:customerKey>{PREFERENCES_CUSTOMER}</ns:customerKey><ns:preferences>"
                             f"<ns:MailingListSetting>{setting}</ns:MailingListSetting></ns:preferences>", tokens[n])

    responses = at_once(set_one)

    assert [response.status_code for response in responses] == [200] * PARALLEL, [r.text for r in responses]
    rows = emulator.rows(CustomerMailingPreference, cmp_cst_key=customer, cmp_mlt_key=uuid.UUID(ACCREDITATION))
    assert len(rows) == 1 and rows[0].cmp_status in ("OptIn", "OptOut")


def test_concurrent_first_mailing_permissions_of_one_person_all_land(emulator: Emulator):
    seed(emulator, {"Campaign": [{"ID": "3001", "ExecutionTypeCode": "3",
                                  "Outbound": [{"CustomerInternalID": "A2001"},
                                               {"CustomerInternalID": "A2001", "ContactPersonInternalID": "CP2002"}]}]})

    def permit(n: int) -> requests.Response:
        contact = None if n % 2 else "CP2002"
        campaigns = campaign(outbound(contact=contact, MailingPermissionDeniedIndicator="true"), ID="3001")
        return sap_support.post(emulator, PERMISSION, sap_support.message(PERMISSION, campaigns))

    responses = at_once(permit)

    for response in responses:
        assert sap_support.answer(response).maximum_severity in (None, "1"), response.text
    (a2001,) = emulator.rows(Customer, internal_id="A2001")
    permissions = emulator.rows(MailingPermission, customer_uuid=a2001.uuid)
    assert sorted(str(p.contact_person_uuid is None) for p in permissions) == ["False", "True"]
    assert all(p.mailing_permission_denied_indicator for p in permissions)


def test_parallel_wrong_passwords_check_no_more_than_the_fail_count(emulator_with):
    strict = emulator_with(xweb_fail_count=3)

    def guess(n: int) -> requests.Response:
        return strict.soap("Authenticate", f"<ns:userName>{strict.settings.xweb_user}</ns:userName>"
                                           f"<ns:password>wrong-{n}</ns:password>")

    kinds = Counter(fault(response)["kind"] for response in at_once(guess))

    # As a serial run: three passwords checked, then the lock-out; no unexpected error.
    assert kinds == {"InvalidCredentialsExceptionInfo": 3, "LockedCredentialsExceptionInfo": PARALLEL - 3}, kinds
    locked = fault(strict.soap("Authenticate", f"<ns:userName>{strict.settings.xweb_user}</ns:userName>"
                                               f"<ns:password>{strict.settings.xweb_password}</ns:password>"))
    assert locked["kind"] == "LockedCredentialsExceptionInfo"


def test_parallel_first_wrong_passwords_are_all_counted(emulator_with):
    lenient = emulator_with(xweb_fail_count=25)

    def guess(n: int) -> requests.Response:
        return lenient.soap("Authenticate", f"<ns:userName>nobody-{n % 2}</ns:userName><ns:password>x</ns:password>")

    kinds = Counter(fault(response)["kind"] for response in at_once(guess))

    assert kinds == {"InvalidCredentialsExceptionInfo": PARALLEL}, kinds
    counts = {row["user_name"]: row["failures"] for row in lenient.state("xweb", "AuthenticationFailures")}
    assert counts == {"nobody-0": PARALLEL // 2, "nobody-1": PARALLEL // 2}
