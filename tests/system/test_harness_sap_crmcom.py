"""The harness's promise for SAP and CRM.COM, kept with nothing but the pytest plugin: a connector author's test
starts a clean emulator (`xweb_emulator`), seeds its own records, runs the connector, asserts on the journal and the
stored state, and injects a dead token, a 429, a 503 or a server fault to see the connector recover.

The two classes below stand for the author's code; the tests use only the plugin's fixtures and `EmulatorClient`.
Each connector takes its `sleep`, as connectors with a back-off usually do: the tests pass one that records how
long the connector would have waited (the Retry-After) and what the emulator held at that moment, and never sleeps.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
import requests
import zeep

BULK_CREATE = "customer_events/bulk/web/create"
LOGIN = "authentication/token"
BOUNCE = "MaintainFailedDeliveryStatusBundle"


# ------------------------------------------------------------------------------------------ the connectors


class CrmComError(Exception):
    """CRM.COM answered a status.code other than OK (and not one the connector recovers from)."""


class CrmComConnector:
    """Stands for your code: pushes web visits to CRM.COM as web customer events, logging in again when its token
    dies and waiting out throttling."""

    def __init__(self, url: Callable[[str], str], username: str, password: str, organisation: str,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.url, self.sleep = url, sleep
        self.credentials = {"username": username, "password": password, "organisation": organisation}
        self.http = requests.Session()
        self.token: str | None = None

    def push_visits(self, visits: list[dict]) -> list[dict]:
        """Bulk-create one event per visit; answers processed_customer_events_set."""
        for _attempt in range(5):
            if self.token is None:
                self.token = self._ok(self._post(LOGIN, self.credentials))["token"]
            answer = self._post(BULK_CREATE, {"token": self.token, "web_customer_events_set": visits})
            if answer["status"]["code"] == "InvalidTokenException":
                self.token = None  # expired or revoked: log in again
                continue
            data = self._ok(answer)
            if data["unprocessed_customer_events_set"]:
                raise CrmComError(data["unprocessed_customer_events_set"])
            return data["processed_customer_events_set"]
        raise RuntimeError("gave up")

    def _post(self, method: str, body: dict) -> dict:
        for _attempt in range(5):
            response = self.http.post(self.url(method), json=body, timeout=30)
            if response.status_code == 429:
                self.sleep(float(response.headers.get("Retry-After", 1)))
                continue
            response.raise_for_status()
            return response.json()
        raise RuntimeError("still throttled")

    @staticmethod
    def _ok(answer: dict) -> dict:
        if answer["status"]["code"] != "OK":
            raise CrmComError(answer["status"]["code"], answer["status"]["message"])
        return answer["data"]


class SapConnector:
    """Stands for your code: reports a hard bounce to SAP (ManageCampaignInboundIn) through a zeep client, retrying
    when the tenant throttles (429), is unavailable (503) or fails on its side (a soap-env:Server fault)."""

    def __init__(self, client: zeep.Client, sleep: Callable[[float], None] = time.sleep) -> None:
        self.client, self.sleep = client, sleep

    def report_bounce(self, campaign_id: str, customer: str, contact_person: str, code: str):
        campaign = {"ObjectNodeSenderTechnicalID": "C1", "ID": campaign_id, "Outbound": [
            {"ObjectNodeSenderTechnicalID": "O1", "CustomerInternalID": customer,
             "ContactPersonInternalID": contact_person, "MailSystemErrorCode": code}]}
        for _attempt in range(5):
            try:
                confirmation = self.client.service.MaintainFailedDeliveryStatusBundle(
                    BasicMessageHeader={}, Campaign=[campaign])
            except zeep.exceptions.TransportError as error:
                if error.status_code not in (429, 503):
                    raise
                self.sleep(0.05)  # zeep does not hand the Retry-After on: a short fixed back-off
                continue
            except zeep.exceptions.Fault as fault:
                if not (fault.code or "").endswith("Server"):
                    raise  # the request itself is wrong: retrying cannot help
                self.sleep(0.05)
                continue
            if confirmation.Log is not None and confirmation.Log.MaximumLogItemSeverityCode == "3":
                raise RuntimeError([item.Note for item in confirmation.Log.Item])
            return confirmation
        raise RuntimeError("gave up")


# -------------------------------------------------------------------------------------------------- CRM.COM


@pytest.fixture
def account(xweb_emulator) -> dict:
    created = xweb_emulator.seed({"crmcom": {
        "AccountsReceivable": [{"number": "ACR-HARNESS-1", "name": "Ada Lovelace"}],
        "Unit": [{"name": "Web Shop", "alternative_code": "WEBSHOP"}],
    }})["crmcom"]
    return {"id": created["AccountsReceivable"][0], "number": "ACR-HARNESS-1", "unit_id": created["Unit"][0]}


@pytest.fixture
def waits() -> list:
    return []


@pytest.fixture
def crmcom(xweb_emulator, waits) -> CrmComConnector:
    user = xweb_emulator.credentials["crmcom"]
    return CrmComConnector(xweb_emulator.crmcom_url, user["username"], user["password"], user["organisation"],
                           sleep=waits.append)


def visits(account: dict, *pages: str) -> list[dict]:
    return [{"request_unique_identifier": f"v{n}", "accounts_receivable_identifier": {"number": account["number"]},
             "performed_by_unit_identifier": {"name": "Web Shop"}, "performed_on": "2026-03-01T10:00:00",
             "website": page} for n, page in enumerate(pages, 1)]


def crmcom_calls(emulator) -> list[tuple]:
    return [(call["operation"], call["outcome"]) for call in emulator.journal(vendor="crmcom")]


def stored_events(emulator, account: dict) -> list[dict]:
    return emulator.state("crmcom", "WebCustomerEvent", accounts_receivable_id=account["id"])


def test_crmcom_events_are_created_journaled_and_stored(xweb_emulator, crmcom, account):
    processed = crmcom.push_visits(visits(account, "shop.example/cart", "shop.example/checkout"))

    user = xweb_emulator.credentials["crmcom"]["username"]
    assert [(call["operation"], call["user"], call["outcome"], call["status"])
            for call in xweb_emulator.journal(vendor="crmcom")] == [
        (LOGIN, user, "ok", 200), (BULK_CREATE, user, "ok", 200)]
    assert [result["request_unique_identifier"] for result in processed] == ["v1", "v2"]
    events = sorted(stored_events(xweb_emulator, account), key=lambda event: event["number"])
    assert [(event["id"], str(event["number"])) for event in events] == [
        (result["id"], result["number"]) for result in processed]
    assert [(event["website"], event["performed_by_unit_id"], event["life_cycle_state"], event["created_by_user"])
            for event in events] == [("shop.example/cart", account["unit_id"], "POSTED", user),
                                     ("shop.example/checkout", account["unit_id"], "POSTED", user)]
    assert events[0]["performed_on"].startswith("2026-03-01T10:00:00")


def test_crmcom_connector_logs_in_again_after_the_idle_timeout(xweb_emulator, crmcom, account):
    crmcom.push_visits(visits(account, "a"))
    xweb_emulator.advance_clock(59 * 60)
    crmcom.push_visits(visits(account, "b"))  # each accepted call restarts the 60 idle minutes
    xweb_emulator.advance_clock(59 * 60)
    crmcom.push_visits(visits(account, "c"))
    xweb_emulator.advance_clock(61 * 60)
    crmcom.push_visits(visits(account, "d"))

    assert crmcom_calls(xweb_emulator) == [
        (LOGIN, "ok"), (BULK_CREATE, "ok"), (BULK_CREATE, "ok"), (BULK_CREATE, "ok"),
        (BULK_CREATE, "InvalidTokenException"), (LOGIN, "ok"), (BULK_CREATE, "ok")]
    refused = xweb_emulator.journal(vendor="crmcom", outcome="InvalidTokenException")[0]
    assert refused["status"] == 200 and refused["user"] is None
    assert sorted(event["website"] for event in stored_events(xweb_emulator, account)) == ["a", "b", "c", "d"]


@pytest.mark.parametrize("rule", [
    {"action": "expire_token"},
    {"action": "fault", "fault_kind": "InvalidTokenException"},
], ids=["expire_token", "fault InvalidTokenException"])
def test_crmcom_connector_recovers_from_an_injected_dead_token(xweb_emulator, crmcom, account, rule):
    crmcom.push_visits(visits(account, "first"))
    added = xweb_emulator.add_fault("crmcom", operation=BULK_CREATE, count=1, **rule)
    crmcom.push_visits(visits(account, "second"))

    assert crmcom_calls(xweb_emulator) == [
        (LOGIN, "ok"), (BULK_CREATE, "ok"),
        (BULK_CREATE, "InvalidTokenException"), (LOGIN, "ok"), (BULK_CREATE, "ok")]
    assert [call["fault_rule_id"] for call in xweb_emulator.journal(vendor="crmcom")] == [
        None, None, added["id"], None, None]
    assert sorted(event["website"] for event in stored_events(xweb_emulator, account)) == ["first", "second"]


def test_crmcom_connector_waits_out_throttling(xweb_emulator, crmcom, account, waits):
    xweb_emulator.add_fault("crmcom", "throttle", operation=BULK_CREATE, count=2, retry_after_seconds=3)
    crmcom.push_visits(visits(account, "a", "b"))

    assert crmcom_calls(xweb_emulator) == [
        (LOGIN, "ok"), (BULK_CREATE, "throttled"), (BULK_CREATE, "throttled"), (BULK_CREATE, "ok")]
    throttled = xweb_emulator.journal(vendor="crmcom", outcome="throttled")
    assert [call["status"] for call in throttled] == [429, 429]
    assert waits == [3.0, 3.0]  # the connector honoured Retry-After
    assert sorted(event["website"] for event in stored_events(xweb_emulator, account)) == ["a", "b"]


# ------------------------------------------------------------------------------------------------------ SAP


@pytest.fixture
def sap_campaign(xweb_emulator) -> dict:
    created = xweb_emulator.seed({"sap": {
        "Customer": [{"InternalID": "H1001", "Name": "Harness GmbH"}],
        "ContactPerson": [{"InternalID": "HCP1002", "CustomerInternalID": "H1001", "Name": "Hanna Harness"}],
        "Campaign": [{"ID": "7001", "Name": "Harness mailing",
                      "Outbound": [{"CustomerInternalID": "H1001", "ContactPersonInternalID": "HCP1002"}]}],
    }})["sap"]
    return {"uuid": created["Campaign"][0], "outbound": created["CampaignOutbound"][0]}


def outbound(emulator, campaign: dict) -> dict:
    [record] = emulator.state("sap", "CampaignOutbound", uuid=campaign["outbound"])
    return record


def bounce_fields(record: dict) -> tuple:
    return (record["mail_system_error_code"], record["communication_data_usage_denied_indicator"],
            record["outbound_communication_status_code"])


def sap_calls(emulator) -> list[tuple]:
    return [(call["operation"], call["outcome"], call["status"]) for call in emulator.journal(vendor="sap")]


def test_sap_bounce_is_confirmed_journaled_and_stored(xweb_emulator, xweb_emulator_zeep, sap_campaign):
    before = outbound(xweb_emulator, sap_campaign)
    confirmation = SapConnector(xweb_emulator_zeep("sap")).report_bounce("7001", "H1001", "HCP1002", "5.1.1")

    assert [(c.ReferenceObjectNodeSenderTechnicalID, c.ID._value_1, c.UUID._value_1)
            for c in confirmation.Campaign] == [("C1", "7001", sap_campaign["uuid"])]
    assert confirmation.Log is None
    [call] = xweb_emulator.journal(vendor="sap")
    assert (call["operation"], call["user"], call["outcome"]) == (BOUNCE, xweb_emulator.credentials["sap"]["username"],
                                                                  "ok")
    assert bounce_fields(before) == (None, False, "2")
    after = outbound(xweb_emulator, sap_campaign)
    assert bounce_fields(after) == ("5.1.1", True, "3")  # 5.1.x: the address is unusable, the outbound failed
    assert after["changed_at"] is not None


@pytest.mark.parametrize(("action", "outcome", "status"), [("throttle", "throttled", 429),
                                                           ("unavailable", "unavailable", 503)])
def test_sap_connector_retries_after_429_or_503(xweb_emulator, xweb_emulator_zeep, sap_campaign, action, outcome,
                                                status):
    rule = xweb_emulator.add_fault("sap", action, operation=BOUNCE, count=1, retry_after_seconds=2)
    waited: list[float] = []
    SapConnector(xweb_emulator_zeep("sap"), sleep=waited.append).report_bounce("7001", "H1001", "HCP1002", "4.1.1")

    assert sap_calls(xweb_emulator) == [(BOUNCE, outcome, status), (BOUNCE, "ok", 200)]
    assert xweb_emulator.journal(vendor="sap")[0]["fault_rule_id"] == rule["id"]
    assert waited == [0.05]
    assert bounce_fields(outbound(xweb_emulator, sap_campaign)) == ("4.1.1", True, "3")


def test_sap_connector_retries_a_server_fault_that_wrote_nothing(xweb_emulator, xweb_emulator_zeep, sap_campaign):
    xweb_emulator.add_fault("sap", "fault", fault_kind="SOAPFault", count=1)
    before = outbound(xweb_emulator, sap_campaign)
    seen_between_attempts: list[dict] = []

    def sleep(_seconds: float) -> None:  # what the emulator held while the connector waited to retry
        seen_between_attempts.append(outbound(xweb_emulator, sap_campaign))

    SapConnector(xweb_emulator_zeep("sap"), sleep=sleep).report_bounce("7001", "H1001", "HCP1002", "5.1.1")

    assert sap_calls(xweb_emulator) == [(BOUNCE, "SOAPFault", 500), (BOUNCE, "ok", 200)]
    assert "soap-env:Server" in xweb_emulator.journal(vendor="sap", outcome="SOAPFault")[0]["response"]["body"]
    assert seen_between_attempts == [before]  # the failed call changed nothing
    after = outbound(xweb_emulator, sap_campaign)
    assert bounce_fields(after) == ("5.1.1", True, "3") and after["changed_at"] is not None


def test_sap_wrong_credentials_are_refused_and_change_nothing(xweb_emulator, xweb_emulator_zeep, sap_campaign):
    client = xweb_emulator_zeep("sap")
    user = xweb_emulator.credentials["sap"]["username"]
    client.transport.session.auth = (user, "not-the-password")
    before = outbound(xweb_emulator, sap_campaign)

    with pytest.raises(zeep.exceptions.TransportError) as refused:
        SapConnector(client).report_bounce("7001", "H1001", "HCP1002", "5.1.1")

    assert refused.value.status_code == 401
    assert [(call["operation"], call["user"], call["outcome"], call["status"])
            for call in xweb_emulator.journal(vendor="sap")] == [(BOUNCE, user, "Unauthorized", 401)]
    assert outbound(xweb_emulator, sap_campaign) == before
