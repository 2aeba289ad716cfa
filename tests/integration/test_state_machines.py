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

from crmcom_support import ACCOUNT_20, ACCOUNT_77, HEX_ID, OK_STATUS, event, login, post, show
from sap_support import call as sap_call, post as sap_post, message as sap_message, soap_fault
from support import NS, facade_node, fault, parse, records_of, response_token
from lxml import etree

SAMPLE_CUSTOMER = "2a50c454-eac0-4768-9a85-0c97968be7fd"
PREFERENCES_CUSTOMER = "fadff57b-c6ef-4130-be1e-07000a38056f"
UNKNOWN_CUSTOMER = "00000000-0000-0000-0000-00000000beef"
WORK_PHONE_TYPE, MOBILE_PHONE_TYPE = "3445f817-a38f-483a-aabe-b8d3c084832b", "243f7447-c38b-473f-be84-dbedd2f1f55e"
# The demo data's phones (cph_key: customer, phone type, number, extension) and mailing lists.
DEMO_PHONES = {
    "ae0c81e1-4af5-43bb-95f1-221459c07a80": (SAMPLE_CUSTOMER, WORK_PHONE_TYPE, "800-555-0100", None),
    "f46291d8-6b16-467f-97ef-fb16028a2b98": (PREFERENCES_CUSTOMER, WORK_PHONE_TYPE, "800-555-0200", None),
}
MAILING_LISTS = ("b31c52e4-29c1-4a65-8c53-0626342c920d", "6cc179ee-99c3-4b6b-8bab-36574550a5e5",
                 "e86b36bf-7ca2-4919-ad2e-3a7ef268ab39")
TOKEN_LIFETIME_SECONDS = 20 * 60  # the default web.config's absolute expiry (Settings.xweb_token_timeout_minutes)


names = st.text(alphabet=st.characters(categories=("L",), max_codepoint=0x24F), min_size=1, max_size=12)


# ----------------------------------------------------------------------------------------------------------- xWeb


class XWebMachine(RuleBasedStateMachine):
    """xWeb: messaging activities inserted (some for a customer that does not exist, or no more: a fault, nothing
    written), the sample Individual's names updated, phones added and changed (WEBPhoneInsert/Update), mailing-list
    preferences set (some with a status that is not one: all or none), customers seeded by the control plane, all
    read back by GetFacadeObject, GetQuery, WEBPhoneGetPhonesByCustomer, GetCustomerCommunicationPreference and the
    control plane's state; the token's absolute expiry under the control plane's clock, a fault killing the token it
    came with; faults injected, resets."""

    emulator = None  # the served emulator, set by the test

    def __init__(self) -> None:
        super().__init__()
        self.emulator.reset()
        self.reset_model()
        self.seeded: list[str] = []  # every customer seeded, those a reset removed as well

    def reset_model(self) -> None:
        self.activities: dict[str, dict[str, str]] = {}
        self.customers = {SAMPLE_CUSTOMER, PREFERENCES_CUSTOMER}
        self.phones = dict(DEMO_PHONES)
        self.preferences: dict[str, str] = {}  # PREFERENCES_CUSTOMER's, by mailing list
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
        """Call with the model's token; the answer (<XxxResponse>) when the model says the call succeeds, else None
        after checking the fault the model expects: an expired token, an injected fault, the operation's `refusal` (a
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
        self.written = self.written or not operation.startswith(("Get", "WEBPhoneGet"))
        assert response_token(response) == self.token  # Absolute expiry: the same token back
        return parse(response).find(f"soap:Body/x:{operation}Response", NS)

    # ---------------------------------------------------------------------------------------------- rules

    def any_customer(self, data: st.DataObject) -> str:
        """A demo customer, one seeded (and perhaps reset away since) or one that never existed."""
        return data.draw(st.sampled_from([SAMPLE_CUSTOMER, PREFERENCES_CUSTOMER, UNKNOWN_CUSTOMER, *self.seeded]))

    @rule(data=st.data(), code=st.sampled_from(["Sent", "Opened", "Clicked", "Bounced"]),
          address=st.sampled_from(["someone@somewhere.com", "other@example.org"]))
    def insert_activity(self, data: st.DataObject, code: str, address: str) -> None:
        customer = self.any_customer(data)
        record = {"cma_cst_key": customer, "cma_activity_code": code, "cma_eml_address": address,
                  "cma_activity_date": "03/12/2012 14:44:55"}
        node = etree.tostring(facade_node("CustomerMessagingActivity", [record])).decode()
        body = f"<ns:szObjectName>CustomerMessagingActivity</ns:szObjectName><ns:oNode>{node}</ns:oNode>"
        result = self.call("InsertFacadeObject", body,
                           refusal=None if customer in self.customers else "cma_cst_key: no co_customer record has")
        if result is not None:
            (created,) = records_of(result[0][0])
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
            (updated,) = records_of(result[0][0])
            assert {name: updated[name] for name in self.individual} == self.individual

    @rule(data=st.data(), phone_type=st.sampled_from([WORK_PHONE_TYPE, MOBILE_PHONE_TYPE]),
          number=st.from_regex(r"800-555-[0-9]{4}", fullmatch=True))
    def insert_phone(self, data: st.DataObject, phone_type: str, number: str) -> None:
        customer = self.any_customer(data)
        result = self.call("WEBPhoneInsert", phone_sections(xref={"cph_cst_key": customer, "cph_pht_key": phone_type},
                                                            phone={"phn_number": number}),
                           refusal=None if customer in self.customers else "cph_cst_key: no co_customer record has")
        if result is not None:
            key = result.findtext("x:WEBPhoneInsertResult/x:CurrentKey", namespaces=NS)
            self.phones[key] = (customer, phone_type, number, None)

    @rule(data=st.data(), number=st.from_regex(r"800-555-[0-9]{4}", fullmatch=True),
          extension=st.none() | st.from_regex(r"[0-9]{1,4}", fullmatch=True))
    def update_phone(self, data: st.DataObject, number: str, extension: str | None) -> None:
        key = data.draw(st.sampled_from(sorted(self.phones)))
        changed = {"cph_extension": extension} if extension is not None else {}
        if self.call("WEBPhoneUpdate", phone_sections(key, xref=changed, phone={"phn_number": number})) is not None:
            customer, phone_type, _number, kept = self.phones[key]
            self.phones[key] = (customer, phone_type, number, extension if extension is not None else kept)

    @rule(settings=st.dictionaries(st.sampled_from(MAILING_LISTS),
                                   st.sampled_from(["OptIn", "OptOut", "Undefined", "Nope"]), min_size=1, max_size=2))
    def set_preferences(self, settings: dict[str, str]) -> None:
        items = "".join(f"<ns:MailingListSetting><ns:mailing_list_key>{key}</ns:mailing_list_key>"
                        f"<ns:status>{status}</ns:status></ns:MailingListSetting>" for key, status in settings.items())
        result = self.call("SetCustomerCommunicationPreferences",
                           f"<ns:customerKey>{PREFERENCES_CUSTOMER}</ns:customerKey><ns:preferences>{items}"
                           "</ns:preferences>", refusal="status 'Nope' is not valid" if "Nope" in settings.values()
                           else None)
        if result is not None:
            self.preferences.update(settings)

    @rule()
    def seed_customer(self) -> None:
        (key,) = self.emulator.seed({"xweb": {"Customer": [{"cst_type": "Individual", "cst_name_cp": "Ada Lovelace",
                                                            "cst_id": f"ADA-{len(self.seeded)}"}]}})["xweb"]["Customer"]
        self.seeded.append(key)
        self.customers.add(key)
        self.written = True

    @rule(operation=st.sampled_from(["InsertFacadeObject", "UpdateFacadeObject", "WEBPhoneInsert", "WEBPhoneUpdate",
                                     "SetCustomerCommunicationPreferences"]))
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
        assert {record["cst_key"] for record in self.emulator.state("xweb", "Customer")} >= self.customers
        assert not {record["cst_key"] for record in self.emulator.state("xweb", "Customer")} & (
            set(self.seeded) - self.customers)
        numbers = {record["phn_key"]: record["phn_number"] for record in self.emulator.state("xweb", "Phone")}
        assert {record["cph_key"]: (record["cph_cst_key"], record["cph_pht_key"], numbers[record["cph_phn_key"]],
                                    record["cph_extension"])
                for record in self.emulator.state("xweb", "CustomerPhone")} == self.phones
        assert {record["cmp_mlt_key"]: record["cmp_status"]
                for record in self.emulator.state("xweb", "CustomerMailingPreference")} == self.preferences

    @invariant()
    def vendor_reads_match(self) -> None:
        if self.token is None or self.token_age >= TOKEN_LIFETIME_SECONDS:
            return  # a read would need a live token: the next rule finds out what the model says of it
        read = self.call("GetFacadeObject", f"<ns:szObjectName>Individual</ns:szObjectName>"
                                            f"<ns:szObjectKey>{SAMPLE_CUSTOMER}</ns:szObjectKey>")
        (individual,) = records_of(read[0][0])
        assert {name: individual[name] for name in self.individual} == self.individual
        listed = self.call("GetQuery", "<ns:szObjectName>CustomerMessagingActivity</ns:szObjectName>"
                                       "<ns:szColumnList>cma_key, cma_cst_key, cma_activity_code, cma_eml_address"
                                       "</ns:szColumnList><ns:szWhereClause></ns:szWhereClause>"
                                       "<ns:szOrderBy></ns:szOrderBy>")
        assert {record.pop("cma_key"): record for record in records_of(listed[0][0])} == self.activities
        phones = self.call("WEBPhoneGetPhonesByCustomer", f"<ns:CustomerKey>{SAMPLE_CUSTOMER}</ns:CustomerKey>")
        assert {item.findtext("x:cph_key", namespaces=NS): item.findtext("x:phn_number", namespaces=NS)
                for item in phones.iterfind("x:WEBPhoneGetPhonesByCustomerResult/x:Results/x:Result", NS)} == {
            key: number for key, (customer, _type, number, _extension) in self.phones.items()
            if customer == SAMPLE_CUSTOMER}
        for mailing_list in MAILING_LISTS:
            read = self.call("GetCustomerCommunicationPreference",
                             f"<ns:customerKey>{PREFERENCES_CUSTOMER}</ns:customerKey>"
                             f"<ns:preferenceTypeKey>{mailing_list}</ns:preferenceTypeKey>")
            assert read.findtext("x:mailing_list_setting/x:status", namespaces=NS) == self.preferences.get(
                mailing_list, "Undefined")


# ------------------------------------------------------------------------------------------------------- CRM.COM

BULK = "customer_events/bulk/web/create"
CRMCOM_TOKEN_IDLE_SECONDS = 60 * 60  # Settings.crmcom_token_idle_minutes's default
# Events of a bulk call, by what the model expects of them: created, or left unprocessed with this error code.
CRMCOM_ITEMS = {
    "account 20": (event(), None),
    "account 77": (event(accounts_receivable_identifier={"number": ACCOUNT_77}, website="www.example.org"), None),
    "unknown account": (event(accounts_receivable_identifier={"number": "ACR404"}), "NotFoundAPIValueException"),
    "no website": (event(website=None), "MissingMandatoryAPIValueException"),
    "float that is not": (event(udf_float_1="many"), "InvalidAPIValueTypeException"),
}


class CrmComMachine(RuleBasedStateMachine):
    """CRM.COM: bulk creation of web customer events, some of them bad (per-item results: the good ones created and
    numbered in order, the bad ones left unprocessed with their error code), events seeded by the control plane, read
    back by list, show and the control plane's state; the token's idle expiry under the control plane's clock;
    injected system and item faults (nothing written), resets."""

    emulator = None  # the served emulator, set by the test

    def __init__(self) -> None:
        super().__init__()
        self.emulator.reset()
        self.reset_model()

    def reset_model(self) -> None:
        self.events: dict[str, tuple[int, str, str]] = {}  # id: number, account, website
        self.token: str | None = None
        self.idle = 0.0
        self.pending_fault: str | None = None  # the kind of fault (count=1) the next bulk call meets
        self.written = False

    def signed_on(self) -> None:
        if self.token is None:
            self.token = login(self.emulator)
            self.idle = 0.0

    def next_number(self) -> int:
        return max((number for number, _account, _website in self.events.values()), default=0) + 1

    @rule(items=st.lists(st.sampled_from(sorted(CRMCOM_ITEMS)), min_size=1, max_size=5))
    def bulk_create(self, items: list[str]) -> None:
        self.signed_on()
        sent = [{**CRMCOM_ITEMS[name][0], "request_unique_identifier": str(n)} for n, name in enumerate(items)]
        response = post(self.emulator, BULK, {"token": self.token, "web_customer_events_set": sent})
        answer = response.json()
        if self.idle >= CRMCOM_TOKEN_IDLE_SECONDS:
            assert (response.status_code, answer["data"], answer["status"]["code"]) == (
                200, None, "InvalidTokenException"), answer
            # A rule is drawn by the call as it arrives, before its token is checked (the pipeline's step 6): this
            # call, refused for its token, has used the injected fault up.
            self.token = self.pending_fault = None
            return
        if self.pending_fault == "SystemException":
            assert (response.status_code, answer["data"], answer["status"]["code"]) == (
                500, None, "SystemException"), answer
            self.pending_fault = self.token = None
            return
        assert (response.status_code, answer["status"]) == (200, OK_STATUS), answer
        self.idle = 0.0
        data = answer["data"]
        if self.pending_fault == "ItemSystemException":
            self.pending_fault = None
            expected_errors = [(str(n), "SystemException") for n in range(len(items))]
        else:
            expected_errors = [(str(n), CRMCOM_ITEMS[name][1]) for n, name in enumerate(items)
                               if CRMCOM_ITEMS[name][1] is not None]
        assert [(result["request_unique_identifier"], result["error_code"])
                for result in data["unprocessed_customer_events_set"]] == expected_errors
        refused = {identifier for identifier, _code in expected_errors}
        created = [item for item in sent if item["request_unique_identifier"] not in refused]
        first = self.next_number()
        assert [(result["request_unique_identifier"], result["number"])
                for result in data["processed_customer_events_set"]] == [
            (item["request_unique_identifier"], str(first + n)) for n, item in enumerate(created)]
        for result, item in zip(data["processed_customer_events_set"], created):
            assert HEX_ID.fullmatch(result["id"]), result
            self.events[result["id"]] = (int(result["number"]), item["accounts_receivable_identifier"]["number"],
                                         item["website"])
        self.written = self.written or bool(created)

    @rule(website=st.sampled_from(["www.crm.com", "seeded.example.org"]))
    def seed_event(self, website: str) -> None:
        (key,) = self.emulator.seed({"crmcom": {"WebCustomerEvent": [event(website=website)]}})["crmcom"][
            "WebCustomerEvent"]
        self.events[key] = (self.next_number(), ACCOUNT_20, website)
        self.written = True

    @rule(kind=st.sampled_from(["SystemException", "ItemSystemException"]))
    def inject_fault(self, kind: str) -> None:
        self.emulator.clear_faults()
        self.emulator.add_fault("crmcom", "fault", fault_kind=kind, operation=BULK, count=1)
        self.pending_fault = kind

    @rule(minutes=st.sampled_from([10, 50, 61]))
    def advance_clock(self, minutes: int) -> None:
        self.emulator.advance_clock(minutes * 60)
        self.idle += minutes * 60

    @precondition(lambda self: self.written)
    @rule()
    def reset(self) -> None:
        self.emulator.reset()
        self.reset_model()

    @invariant()
    def control_plane_state_matches(self) -> None:
        accounts = {record["id"]: record["number"] for record in self.emulator.state("crmcom", "AccountsReceivable")}
        assert {record["id"]: (record["number"], accounts[record["accounts_receivable_id"]], record["website"])
                for record in self.emulator.state("crmcom", "WebCustomerEvent")} == self.events

    @invariant()
    def vendor_reads_match(self) -> None:
        if self.token is None or self.idle >= CRMCOM_TOKEN_IDLE_SECONDS:
            return  # the next rule finds out what the model says of the token
        answer = post(self.emulator, "customer_events/web/list", {"token": self.token}).json()
        assert answer["status"] == OK_STATUS, answer
        listed = {record["id"]: (int(record["number"]), record["accounts_receivable"]["number"], record["website"])
                  for record in answer["data"]}
        assert listed == self.events
        assert [record["number"] for record in answer["data"]] == sorted(
            (str(number) for number, _account, _website in self.events.values()), key=int)
        if self.events:
            latest = max(self.events, key=lambda key: self.events[key][0])
            shown = show(self.emulator, self.token, f"number={self.events[latest][0]}").json()
            assert (shown["status"], shown["data"]["id"], shown["data"]["website"]) == (
                OK_STATUS, latest, self.events[latest][2]), shown
        self.idle = 0.0  # every accepted call restarts the token's idle time


# ----------------------------------------------------------------------------------------------------------- SAP

BOUNCE, PERMISSION = "MaintainFailedDeliveryStatusBundle", "MaintainMailingPermissionBundle"
SAP_ACCOUNTS = ("B1", "B2")
BOUNCE_CAMPAIGN, PERMISSION_CAMPAIGN = "4000", "3001"


def bounced(before: bool, code: str, sent: str | None) -> tuple[bool, str] | None:
    """What a bounce makes of an outbound's (denied indicator, status), as docs/sap.md states the rule; None: the
    outbound is left as it was (2.x.x is no failure)."""
    klass, subject, _detail = code.split(".")
    if klass == "2":
        return None
    if sent is not None and (subject == "1" or sent == "true"):
        return sent == "true", "3"  # the request's indicator overrules (other codes: applied only where true)
    return (True if subject == "1" else before), "3"


def sap_outbound(reference: str, customer: str, **children: str | None) -> str:
    simple = "".join(f"<{name}>{value}</{name}>" for name, value in children.items() if value is not None)
    return (f"<Outbound><ObjectNodeSenderTechnicalID>{reference}</ObjectNodeSenderTechnicalID>"
            f"<CustomerInternalID>{customer}</CustomerInternalID>{simple}</Outbound>")


def sap_campaign(campaign_id: str, *outbounds: str) -> str:
    return (f"<Campaign>{''.join(outbounds)}<ObjectNodeSenderTechnicalID>1000</ObjectNodeSenderTechnicalID>"
            f"<ID>{campaign_id}</ID></Campaign>")


class SapMachine(RuleBasedStateMachine):
    """SAP: bounces of a campaign's outbounds (MailSystemErrorCode deciding the denied indicator and the status
    unless the request overrules it), mailing permissions denied and granted again, an account that does not exist
    (refused with its note, nothing written), injected SOAP faults (nothing written), resets and seeds; the control
    plane's state against the model after every step."""

    emulator = None  # the served emulator, set by the test

    def __init__(self) -> None:
        super().__init__()
        self.reset()

    @rule()
    def reset(self) -> None:
        self.emulator.reset()
        created = self.emulator.seed({"sap": {
            "Customer": [{"InternalID": account} for account in SAP_ACCOUNTS],
            "Campaign": [{"ID": campaign_id, "ExecutionTypeCode": execution_type,
                          "Outbound": [{"CustomerInternalID": account} for account in SAP_ACCOUNTS]}
                         for campaign_id, execution_type in ((BOUNCE_CAMPAIGN, "7"), (PERMISSION_CAMPAIGN, "3"))]}})
        self.customers = dict(zip(created["sap"]["Customer"], SAP_ACCOUNTS))
        self.bounce_campaign = created["sap"]["Campaign"][0]
        self.outbounds = {account: (None, False, "2") for account in SAP_ACCOUNTS}  # code, denied, status
        self.permissions: dict[str, bool] = {}
        self.pending_fault = False

    def maintain(self, operation: str, campaigns: str) -> list[tuple] | None:
        """The Log's notes of a confirmation; None after the injected fault the model expects."""
        if self.pending_fault:
            self.pending_fault = False
            soap_fault(sap_post(self.emulator, operation, sap_message(operation, campaigns)))
            return None
        return sap_call(self.emulator, operation, campaigns).notes

    @rule(account=st.sampled_from([*SAP_ACCOUNTS, "B9"]),
          code=st.sampled_from(["2.0.0", "4.1.1", "5.1.3", "4.2.2", "5.7.1", "5.123.999"]),
          sent=st.sampled_from([None, "true", "false"]))
    def bounce(self, account: str, code: str, sent: str | None) -> None:
        notes = self.maintain(BOUNCE, sap_campaign(BOUNCE_CAMPAIGN, sap_outbound(
            "1", account, MailSystemErrorCode=code, CommunicationDataUsageDeniedIndicator=sent)))
        if notes is None:
            return
        if account not in self.outbounds:
            assert notes == [("3", "1", f"Account {account} does not exist")]
            return
        assert notes == []
        _code, denied, status = self.outbounds[account]
        after = bounced(denied, code, sent)
        self.outbounds[account] = (code, *(after or (denied, status)))

    @rule(account=st.sampled_from([*SAP_ACCOUNTS, "B9"]), denied=st.booleans())
    def permission(self, account: str, denied: bool) -> None:
        notes = self.maintain(PERMISSION, sap_campaign(PERMISSION_CAMPAIGN, sap_outbound(
            "1", account, MailingPermissionDeniedIndicator=str(denied).lower())))
        if notes is None:
            return
        if account not in self.outbounds:
            assert notes == [("3", "1", f"Account {account} does not exist")]
            return
        assert notes == []
        self.permissions[account] = denied

    @rule()
    def inject_fault(self) -> None:
        self.emulator.clear_faults()
        self.emulator.add_fault("sap", "fault", fault_kind="SOAPFault", count=1)
        self.pending_fault = True

    @invariant()
    def control_plane_state_matches(self) -> None:
        assert {self.customers[record["customer_uuid"]]: (
            record["mail_system_error_code"], record["communication_data_usage_denied_indicator"],
            record["outbound_communication_status_code"])
            for record in self.emulator.state("sap", "CampaignOutbound", campaign_uuid=self.bounce_campaign)
        } == self.outbounds
        assert {self.customers[record["customer_uuid"]]: record["mailing_permission_denied_indicator"]
                for record in self.emulator.state("sap", "MailingPermission")} == self.permissions


def phone_sections(current_key: str | None = None, *, xref: dict[str, str], phone: dict[str, str]) -> str:
    """WEBPhoneInsert/Update's oFacadeObject: CurrentKey, Phone_XRef and Phone."""
    sections = f"<ns:CurrentKey>{current_key}</ns:CurrentKey>" if current_key else ""
    for name, values in (("Phone_XRef", xref), ("Phone", phone)):
        children = "".join(f"<ns:{key}>{value}</ns:{key}>" for key, value in values.items())
        sections += f"<ns:{name}>{children}</ns:{name}>"
    return f"<ns:oFacadeObject>{sections}</ns:oFacadeObject>"


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


def test_crmcom_state_follows_the_model(served):
    run_machine(CrmComMachine, served)


def test_sap_state_follows_the_model(served):
    run_machine(SapMachine, served)
