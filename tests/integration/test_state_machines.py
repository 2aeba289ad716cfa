"""Model-based tests of state (Hypothesis stateful testing): per vendor, a rule-based state machine drives random
sequences of the vendor's operations, with resets, injected faults and clock moves, against the real server (on
SQLite and on PostgreSQL), and after every step checks that the vendor's read operations and the control plane's
state answer what a small in-memory model of the vendor's rules says.

`make test` runs a few short sequences (the `bounded` profile of tests/conftest.py); `make fuzz` many long ones.
"""

from __future__ import annotations

import uuid

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from support import NS, facade_node, fault, parse, records_of, response_token
from lxml import etree

SAMPLE_CUSTOMER = "2a50c454-eac0-4768-9a85-0c97968be7fd"
PREFERENCES_CUSTOMER = "fadff57b-c6ef-4130-be1e-07000a38056f"
UNKNOWN_CUSTOMER = "00000000-0000-0000-0000-00000000beef"
TOKEN_LIFETIME_SECONDS = 20 * 60  # the default web.config's absolute expiry (Settings.xweb_token_timeout_minutes)


names = st.text(alphabet=st.characters(categories=("L",), max_codepoint=0x24F), min_size=1, max_size=12)


# ----------------------------------------------------------------------------------------------------------- xWeb


class XWebMachine(RuleBasedStateMachine):
    """xWeb: messaging activities inserted (some for a customer that does not exist: a fault, nothing written), the
    sample Individual's names updated, read back by GetFacadeObject and GetQuery; the token's absolute expiry under
    the control plane's clock, a fault killing the token it came with; faults injected, resets."""

    emulator = None  # the served emulator, set by the test

    def __init__(self) -> None:
        super().__init__()
        self.emulator.reset()
        self.reset_model()

    def reset_model(self) -> None:
        self.activities: dict[str, dict[str, str]] = {}
        self.individual = {"ind_first_name": "Someone", "ind_mid_name": None, "ind_last_name": "Somewhere"}
        self.token: str | None = None
        self.token_age = 0.0
        self.pending_fault: str | None = None  # the operation an injected fault (count=1) will hit next
        self.written = False  # whether anything was written since the last reset (a reset of the demo data is dull)

    # ---------------------------------------------------------------------------------------------- calls

    def signed_on(self) -> None:
        """Authenticate when the model holds no token (at the start, after a fault), as a connector does."""
        if self.token is None:
            self.token = self.emulator.authenticate()
            self.token_age = 0.0

    def call(self, operation: str, body: str, refusal: str | None = None) -> etree._Element | None:
        """Call with the model's token; the answer's result when the model says the call succeeds, else None after
        checking the fault the model expects: an expired token, an injected fault, the operation's `refusal` (a
        fault kills the token it came with)."""
        self.signed_on()
        response = self.emulator.soap(operation, body, self.token)
        if self.token_age >= TOKEN_LIFETIME_SECONDS:
            assert fault(response)["kind"] == "InvalidTokenExceptionInfo", response.text
            self.token = None
            return None
        if self.pending_fault == operation or refusal is not None:
            found = fault(response)
            assert (found["faultcode"], found["kind"]) == ("soap:Client", "SystemExceptionInfo"), found
            if self.pending_fault == operation:
                self.pending_fault = None
            else:
                assert refusal in found["message"], found
            self.token = None
            return None
        assert response.status_code == 200, response.text
        self.written = self.written or operation not in ("GetFacadeObject", "GetQuery")
        assert response_token(response) == self.token  # Absolute expiry: the same token back
        return parse(response).find(f"soap:Body/x:{operation}Response/x:{operation}Result", NS)

    # ---------------------------------------------------------------------------------------------- rules

    @rule(customer=st.sampled_from([SAMPLE_CUSTOMER, PREFERENCES_CUSTOMER, UNKNOWN_CUSTOMER]),
          code=st.sampled_from(["Sent", "Opened", "Clicked", "Bounced"]),
          address=st.sampled_from(["someone@somewhere.com", "other@example.org"]))
    def insert_activity(self, customer: str, code: str, address: str) -> None:
        record = {"cma_cst_key": customer, "cma_activity_code": code, "cma_eml_address": address,
                  "cma_activity_date": "03/12/2012 14:44:55"}
        node = etree.tostring(facade_node("CustomerMessagingActivity", [record])).decode()
        body = f"<ns:szObjectName>CustomerMessagingActivity</ns:szObjectName><ns:oNode>{node}</ns:oNode>"
        result = self.call("InsertFacadeObject", body,
                           refusal="cma_cst_key: no co_customer record has" if customer == UNKNOWN_CUSTOMER
                           else None)
        if result is not None:
            (created,) = records_of(result[0])
            self.activities[created["cma_key"]] = {key: record[key] for key in
                                                   ("cma_cst_key", "cma_activity_code", "cma_eml_address")}

    @rule(column=st.sampled_from(["ind_first_name", "ind_mid_name", "ind_last_name"]), value=names)
    def update_individual(self, column: str, value: str) -> None:
        node = etree.tostring(facade_node("Individual", [{column: value}])).decode()
        result = self.call("UpdateFacadeObject", f"<ns:szObjectName>Individual</ns:szObjectName>"
                                                 f"<ns:szObjectKey>{SAMPLE_CUSTOMER}</ns:szObjectKey>"
                                                 f"<ns:oNode>{node}</ns:oNode>")
        if result is not None:
            self.individual[column] = value
            (updated,) = records_of(result[0])
            assert {name: updated[name] for name in self.individual} == self.individual

    @rule(operation=st.sampled_from(["InsertFacadeObject", "UpdateFacadeObject"]))
    def inject_fault(self, operation: str) -> None:
        self.emulator.clear_faults()
        self.emulator.add_fault("xweb", "fault", fault_kind="SystemExceptionInfo", operation=operation, count=1)
        self.pending_fault = operation

    @rule(minutes=st.sampled_from([1, 5, 15, 21]))
    def advance_clock(self, minutes: int) -> None:
        self.emulator.advance_clock(minutes * 60)
        self.token_age += minutes * 60

    @precondition(lambda self: self.written)
    @rule()
    def reset(self) -> None:
        self.emulator.reset()
        self.reset_model()

    # ---------------------------------------------------------------------------------------------- checks

    @invariant()
    def control_plane_state_matches(self) -> None:
        stored = {record["cma_key"]: {key: record[key] for key in ("cma_cst_key", "cma_activity_code",
                                                                  "cma_eml_address")}
                  for record in self.emulator.state("xweb", "CustomerMessagingActivity")}
        assert stored == self.activities
        (customer,) = self.emulator.state("xweb", "Customer", cst_key=SAMPLE_CUSTOMER)
        full_name = " ".join(self.individual[name] for name in ("ind_first_name", "ind_mid_name", "ind_last_name")
                             if self.individual[name])
        assert customer["cst_name_cp"] == full_name

    @invariant()
    def vendor_reads_match(self) -> None:
        if self.token is None or self.token_age >= TOKEN_LIFETIME_SECONDS:
            return  # a read would need a live token: the next rule finds out what the model says of it
        read = self.call("GetFacadeObject", f"<ns:szObjectName>Individual</ns:szObjectName>"
                                            f"<ns:szObjectKey>{SAMPLE_CUSTOMER}</ns:szObjectKey>")
        (individual,) = records_of(read[0])
        assert {name: individual[name] for name in self.individual} == self.individual
        listed = self.call("GetQuery", "<ns:szObjectName>CustomerMessagingActivity</ns:szObjectName>"
                                       "<ns:szColumnList>cma_key, cma_cst_key, cma_activity_code, cma_eml_address"
                                       "</ns:szColumnList><ns:szWhereClause></ns:szWhereClause>"
                                       "<ns:szOrderBy></ns:szOrderBy>")
        assert {record.pop("cma_key"): record for record in records_of(listed[0])} == self.activities


def run_machine(machine: type[RuleBasedStateMachine], emulator) -> None:
    """Run `machine` against `emulator`: a few short sequences under the bounded profile (`make test`), many long
    ones under `make fuzz`."""
    bounded = settings.default.max_examples <= 100
    bound = type(machine.__name__, (machine,), {"emulator": emulator})
    try:
        run_state_machine_as_test(bound, settings=settings(
            max_examples=8 if bounded else settings.default.max_examples // 10,
            stateful_step_count=15 if bounded else 60, deadline=None))
    finally:
        emulator.reset()


def test_xweb_state_follows_the_model(served):
    run_machine(XWebMachine, served)
