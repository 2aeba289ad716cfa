"""Concurrent first calls on every find-or-create path (issue 13, defect 2): 8 at once, on both backends, end as a
serial run would. On PostgreSQL they used to fail on the unique key (check then insert), and 8 parallel wrong
passwords got more than the configured fail count checked. Inserts of one key a client chose: one lands, the others
are refused as the duplicates they are."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

import sap_support
from sap_support import PERMISSION, campaign, outbound, seed
from support import Emulator, fault
from test_xweb_rules import ACCREDITATION, PREFERENCES_CUSTOMER, SAMPLE_CUSTOMER, activity, elements, insert_body
from xweb_emulator.sap.models import Customer, MailingPermission
from xweb_emulator.xweb.models import Customer as XWebCustomer
from xweb_emulator.xweb.models import CustomerMailingPreference, CustomerMessagingActivity, CustomerPhone, Phone

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


def one_landed(responses: list[requests.Response], refusal: str) -> None:
    """One call succeeded; every other one is xWeb's refusal of a duplicate key, not an internal error."""
    assert sorted(response.status_code for response in responses) == [200] + [500] * (PARALLEL - 1), \
        [response.text for response in responses]
    for response in responses:
        if response.status_code == 500:
            refused = fault(response)
            assert refused["kind"] == "SystemExceptionInfo" and refused["message"] == refusal, refused


@pytest.mark.parametrize("section, key", [("Phone", "phn_key"), ("Phone_XRef", "cph_key")])
def test_concurrent_phone_inserts_of_one_client_key_insert_it_once(emulator: Emulator, section, key):
    tokens = [emulator.authenticate() for _ in range(PARALLEL)]
    chosen = str(uuid.uuid4())

    def insert(n: int) -> requests.Response:
        sections = {"Phone_XRef": {"cph_cst_key": SAMPLE_CUSTOMER}, "Phone": {"phn_number": f"800-555-01{n:02}"}}
        sections[section][key] = chosen
        body = "".join(f"<ns:{name}>{elements(values)}</ns:{name}>" for name, values in sections.items())
        return emulator.soap("WEBPhoneInsert", f"<ns:oFacadeObject>{body}</ns:oFacadeObject>", tokens[n])

    before = len(emulator.rows(Phone))
    one_landed(at_once(insert), f"Cannot insert duplicate key: {key} {chosen} already exists.")
    # The one phone of the call that landed, and its cross-reference: nothing of the refused calls.
    assert len(emulator.rows(Phone)) == before + 1
    model = Phone if section == "Phone" else CustomerPhone
    assert len(emulator.rows(model, **{key: uuid.UUID(chosen)})) == 1


def test_concurrent_facade_inserts_of_one_client_key_insert_it_once(emulator: Emulator):
    tokens = [emulator.authenticate() for _ in range(PARALLEL)]
    chosen = str(uuid.uuid4())

    def insert(n: int) -> requests.Response:
        return emulator.soap("InsertFacadeObject", insert_body([activity(cma_key=chosen, cma_activity_code=f"C{n}")]),
                             tokens[n])

    one_landed(at_once(insert), f"CustomerMessagingActivityObject: Cannot insert duplicate key: cma_key {chosen} "
                                "already exists.")
    assert len(emulator.rows(CustomerMessagingActivity, cma_key=uuid.UUID(chosen))) == 1


def test_concurrent_new_customers_get_numbers_of_their_own(emulator: Emulator):
    """Each call reads the highest customer number and takes the next ones: calls at once must not take the same."""
    tokens = [emulator.authenticate() for _ in range(PARALLEL)]
    individual = ("<ns:IndividualObjects><ns:IndividualObject><ns:ind_first_name>Ada</ns:ind_first_name>"
                  "<ns:ind_last_name>Lovelace</ns:ind_last_name></ns:IndividualObject></ns:IndividualObjects>")

    def insert(n: int) -> requests.Response:
        return emulator.soap("InsertFacadeObject", f"<ns:szObjectName>Individual</ns:szObjectName><ns:oNode>{individual}"
                                                   "</ns:oNode>", tokens[n])

    assert all(response.status_code == 200 for response in at_once(insert))
    numbers = [row.cst_recno for row in emulator.rows(XWebCustomer)]
    assert sorted(numbers) == list(range(1, len(numbers) + 1))  # the demo customers' 1 and 2, then one each
    assert len(numbers) == 2 + PARALLEL


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
