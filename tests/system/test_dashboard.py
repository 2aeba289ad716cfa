"""The dashboard (/_emulator/ui/), on both database backends, most of it in a real browser: headless Chromium from
Debian's packages driven by Selenium through the system chromedriver (nothing downloads a browser or a driver).
Without them the browser tests skip, saying why; with XWEB_EMULATOR_TEST_REQUIRE_BROWSER=1 (CI) they fail instead.
`make test` installs them where it may (scripts/ensure-chromium).

Each page is saved as a screenshot (PNG, at a desktop's and a phone's width) under the session's temporary
directory, or under XWEB_EMULATOR_SCREENSHOTS when it is set; docs/dashboard-calls.png is one of them.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
import zeep
from lxml import html

from control_support import SAMPLE_CUSTOMER, another_server, control_ok, insert_activity, json_call
from sap_support import fixture as sap_fixture
from sap_support import post as sap_post
from browser_support import PHONE
from support import Emulator
from xweb_emulator.sap.vendor import SAP
from xweb_emulator.settings import Settings
from xweb_emulator.control import ui

WAIT = 15  # seconds, for what the page does by itself (it polls the journal every second)
PAGES = {"overview": "/", "calls": "/calls", "call": None, "records": "/records/xweb/Customer",
         "faults": "/faults", "clock": "/clock"}
UI_PATHS = ["", "/", "/calls", "/calls/1", "/calls/chart", "/records", "/records/xweb/Customer", "/faults",
            "/clock", "/static/ui.css", "/static/ui.js", "/no-such-page"]


# ----------------------------------------------------------------------------------------------- the browser


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory) -> Path:
    given = os.environ.get("XWEB_EMULATOR_SCREENSHOTS")
    if given:
        Path(given).mkdir(parents=True, exist_ok=True)
        return Path(given)
    return tmp_path_factory.mktemp("screenshots")


class Dashboard:
    """The browser on the dashboard of one emulator."""

    def __init__(self, browser: Any, emulator: Emulator, screenshots: Path, backend: str) -> None:
        self.browser, self.emulator, self.screenshots, self.backend = browser, emulator, screenshots, backend
        self.url = emulator.base_url + ui.PREFIX

    def open(self, path: str = "/") -> None:
        self.browser.get(self.url + path)
        self.wait(lambda driver: driver.execute_script("return document.readyState") == "complete")

    def wait(self, condition: Callable[[Any], Any], timeout: float = WAIT) -> Any:
        from selenium.webdriver.support.ui import WebDriverWait

        return WebDriverWait(self.browser, timeout, poll_frequency=0.1).until(condition)

    def find(self, selector: str) -> Any:
        from selenium.webdriver.common.by import By

        return self.browser.find_element(By.CSS_SELECTOR, selector)

    def find_all(self, selector: str) -> list[Any]:
        from selenium.webdriver.common.by import By

        return self.browser.find_elements(By.CSS_SELECTOR, selector)

    def text(self, selector: str = "body") -> str:
        return self.find(selector).text

    def submit(self, form: str, button: str = "button[type=submit]") -> None:
        """Click a form's button and wait for the page it leads to."""
        old = self.find("html")
        self.find(f"{form} {button}").click()
        self.wait(lambda driver: _stale(old))
        self.wait(lambda driver: driver.execute_script("return document.readyState") == "complete")

    def fill(self, form: str, **fields: str) -> None:
        from selenium.webdriver.support.ui import Select

        for name, value in fields.items():
            field = self.find(f"{form} [name={name}]")
            if field.tag_name == "select":
                Select(field).select_by_value(value)
            else:
                field.clear()
                field.send_keys(value)

    def rows(self) -> list[dict[str, str]]:
        """The calls table as the page shows it now, newest first."""
        return self.browser.execute_script("""
            return Array.from(document.querySelectorAll('#calls-body tr')).map(row => ({
              id: row.dataset.id, operation: row.querySelector('[data-field=operation]').textContent,
              outcome: row.querySelector('[data-field=outcome]').textContent,
              status: row.querySelector('[data-field=status]').textContent, kind: row.className}));""")

    def counts(self) -> dict[str, int]:
        """The record counts the overview shows, by vendor/object."""
        return self.browser.execute_script("""
            return Object.fromEntries(Array.from(document.querySelectorAll('a[data-object]')).map(link =>
              [link.dataset.object, Number(link.querySelector('.object-count').textContent)]));""")

    def mark(self) -> None:
        """Mark the page: a reload (or a navigation) loses the mark."""
        self.browser.execute_script("window.__notReloaded = true;")

    def still_marked(self) -> bool:
        return self.browser.execute_script("return window.__notReloaded === true;")

    def screenshot(self, name: str) -> Path:
        """The whole page (not only the window) as a PNG."""
        width = self.browser.execute_script("return window.innerWidth")
        height = self.browser.execute_script("return document.documentElement.scrollHeight")
        shot = self.browser.execute_cdp_cmd("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}})
        path = self.screenshots / f"{name}-{self.backend}.png"
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    def phone(self, on: bool) -> None:
        """A phone's viewport (375 px wide, overlay scroll bars), or back to the desktop's."""
        if on:
            self.browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
                "width": PHONE[0], "height": PHONE[1], "deviceScaleFactor": 1, "mobile": True})
        else:
            self.browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def _stale(element: Any) -> bool:
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException

    try:
        element.is_enabled()
    except StaleElementReferenceException:
        return True
    except WebDriverException as error:
        # Caught mid-navigation, Chromium may say so in other words than a stale reference.
        if "does not belong to the document" in str(error):
            return True
        raise
    return False


@pytest.fixture
def dashboard(browser, emulator, screenshots, database_url) -> Iterator[Dashboard]:
    board = Dashboard(browser, emulator, screenshots, database_url.split(":", 1)[0].split("+")[0])
    browser.delete_all_cookies()
    yield board
    board.phone(False)
    browser.get("about:blank")  # stop the calls page polling an emulator the next test resets


def zeep_client(emulator: Emulator) -> zeep.Client:
    return emulator.zeep_client()


def zeep_token(client: zeep.Client, emulator: Emulator) -> dict:
    answer = client.service.Authenticate(userName=emulator.settings.xweb_user, password=emulator.settings.xweb_password)
    return {"AuthorizationToken": {"Token": answer.header.AuthorizationToken.Token}}


# ---------------------------------------------------------------------------------------------------- overview


def test_the_overview_shows_each_vendors_endpoints_credentials_objects_the_database_and_the_clock(dashboard,
                                                                                                  emulator):
    emulator.seed({"xweb": {"Customer": [{"cst_type": "Individual", "cst_name_cp": "Ada Lovelace"}]}})
    health = emulator.health()

    dashboard.open("/")

    page = dashboard.text()
    for address in (emulator.soap_url, emulator.sap_url, emulator.base_url + "/crmapi/rest/v2/"):
        assert address in page
    wsdl_links = {link.get_attribute("href") for link in dashboard.find_all("a")}
    assert emulator.wsdl_url in wsdl_links and emulator.sap_wsdl_url in wsdl_links
    for vendor in ("xweb", "sap", "crmcom"):
        section = dashboard.text(f"#vendor-{vendor}")
        assert "demo / demo" in section
    assert "organisation demo" in dashboard.text("#vendor-crmcom")
    for vendor, entry in emulator.coverage().items():
        assert dashboard.text(f"#vendor-{vendor} .coverage").startswith(
            f"{entry['emulated']} of {entry['offered']} emulated")
    state = control_ok(emulator, "GET", "state")
    assert dashboard.counts() == {f"{vendor}/{name}": count for vendor, objects in state.items()
                                  for name, count in objects.items()}
    assert dashboard.counts()["xweb/Customer"] == 3  # the demo's two and Ada
    assert health["database"]["kind"] in page
    for revision in health["database"]["schema_revisions"]:
        assert revision in page
    shown = datetime.fromisoformat(dashboard.find(".clock-now").text).replace(tzinfo=UTC)
    assert abs((shown - datetime.now(UTC)).total_seconds()) < 30
    assert "real time" in page
    dashboard.screenshot("overview")


# ------------------------------------------------------------------------------------------------------- calls


def test_a_zeep_call_appears_on_the_calls_page_without_reloading_and_opens_to_its_envelope(dashboard, emulator):
    dashboard.open("/calls")
    assert dashboard.find("#calls-empty").is_displayed()
    dashboard.wait(lambda driver: dashboard.find("#live-status").is_displayed())
    dashboard.mark()

    client = zeep_client(emulator)
    header = zeep_token(client, emulator)
    version = client.service.GetVersion(_soapheaders=header)

    dashboard.wait(lambda driver: [row["operation"] for row in dashboard.rows()] == ["GetVersion", "Authenticate"])
    assert dashboard.still_marked(), "the page was reloaded"
    assert not dashboard.find("#calls-empty").is_displayed()
    newest = dashboard.rows()[0]
    assert (newest["outcome"], newest["status"]) == ("ok", "200")
    dashboard.wait(lambda driver: "2 ok" in dashboard.text("#calls-chart"))  # the chart follows too
    dashboard.screenshot("calls-live")

    dashboard.find(f'#calls-body tr[data-id="{newest["id"]}"] td.col-operation').click()
    dashboard.wait(lambda driver: driver.current_url.endswith(f"/calls/{newest['id']}"))
    request_body = dashboard.text("#request-body")
    assert "Envelope" in request_body and "GetVersion" in request_body
    assert header["AuthorizationToken"]["Token"] in request_body
    assert re.search(r"\n\s+<\S*Body>", request_body), "the envelope is not indented"
    response_body = dashboard.text("#response-body")
    assert "GetVersionResult" in response_body and str(version.body.GetVersionResult) in response_body
    assert dashboard.text("#call-status") == "200"
    curl = dashboard.text("#curl")
    assert 'SOAPAction: "http://www.avectra.com/2005/GetVersion"' in curl and emulator.soap_url in curl
    dashboard.screenshot("call")


def test_a_throttle_rule_added_through_the_form_answers_the_next_call_429_listed_as_throttled(dashboard, emulator):
    client = zeep_client(emulator)
    header = zeep_token(client, emulator)
    dashboard.open("/faults")
    dashboard.fill("#fault-form", vendor="xweb", operation="GetVersion", action="throttle", count="1",
                   retry_after_seconds="7")
    assert not dashboard.find("#fault-form [name=fault_kind]").is_enabled()  # only for the fault action

    dashboard.submit("#fault-form")

    assert "Added rule" in dashboard.text(".banner-ok")
    (rule,) = emulator.fault_rules()
    assert (rule["vendor"], rule["operation"], rule["action"], rule["remaining"], rule["retry_after_seconds"]) == (
        "xweb", "GetVersion", "throttle", 1, 7)
    assert dashboard.text(f"#rule-{rule['id']} [data-field=remaining]") == "1"
    dashboard.screenshot("faults")

    dashboard.open("/calls?outcome=throttled")  # filtered: only throttled calls show up
    dashboard.wait(lambda driver: dashboard.find("#live-status").is_displayed())
    dashboard.mark()
    with pytest.raises(zeep.exceptions.TransportError) as refused:
        client.service.GetVersion(_soapheaders=header)
    assert refused.value.status_code == 429
    client.service.GetVersion(_soapheaders=header)  # the rule's one firing is spent

    dashboard.wait(lambda driver: len(dashboard.rows()) == 1)
    (row,) = dashboard.rows()
    assert (row["operation"], row["outcome"], row["status"]) == ("GetVersion", "throttled", "429")
    assert "call-refused" in row["kind"]  # it stands out
    time.sleep(1.5)  # another poll: the ok call that followed is filtered out
    assert len(dashboard.rows()) == 1 and dashboard.still_marked()

    dashboard.open("/faults")
    assert dashboard.text(f"#rule-{rule['id']} [data-field=fired]") == "1"
    assert "0" in dashboard.text(f"#rule-{rule['id']} [data-field=remaining]")
    dashboard.open(f"/calls/{row['id']}")
    assert f"#{rule['id']} throttle" in dashboard.text(".facts")


def test_rules_are_removed_one_by_one_or_all_at_once_from_the_page(dashboard, emulator):
    first = emulator.add_fault("xweb", "latency", latency_ms=5)
    second = emulator.add_fault("sap", "fault", fault_kind="ErrorLog", operation="MaintainReactionBundle")
    dashboard.open("/faults")
    assert "ErrorLog" in dashboard.text(f"#rule-{second['id']}")

    dashboard.submit(f"#rule-{first['id']}")

    assert [rule["id"] for rule in emulator.fault_rules()] == [second["id"]]
    assert f"Removed rule {first['id']}" in dashboard.text(".banner-ok")
    assert not dashboard.find_all(f"#rule-{first['id']}")
    emulator.add_fault("crmcom", "unavailable", retry_after_seconds=3)
    dashboard.open("/faults")

    dashboard.submit("form[action$='/faults/clear']")

    assert emulator.fault_rules() == []
    assert "No fault rules" in dashboard.text()


def test_the_fault_form_offers_each_vendors_kinds_and_shows_the_apis_refusal(dashboard, emulator):
    dashboard.open("/faults")
    dashboard.fill("#fault-form", vendor="sap", action="fault")
    kinds = dashboard.browser.execute_script(
        "return Array.from(document.querySelectorAll('#fault-form [name=fault_kind] option'))"
        ".filter(o => !o.parentElement.disabled && o.value).map(o => o.value);")
    assert kinds == list(emulator.emulator.vendors["sap"].fault_kinds)
    dashboard.fill("#fault-form", fault_kind="SOAPFault", probability="0.5", seed="42", latency_ms="20")
    dashboard.submit("#fault-form")
    (rule,) = emulator.fault_rules()
    assert (rule["vendor"], rule["action"], rule["fault_kind"], rule["probability"], rule["seed"],
            rule["latency_ms"], rule["operation"]) == ("sap", "fault", "SOAPFault", 0.5, 42, 20, None)

    dashboard.fill("#fault-form", vendor="xweb", action="latency", latency_ms="")
    dashboard.submit("#fault-form")

    assert "a latency rule needs latency_ms" in dashboard.text(".banner-error")
    assert len(emulator.fault_rules()) == 1
    assert dashboard.find("#fault-form [name=action]").get_attribute("value") == "latency"  # the form kept


# ------------------------------------------------------------------------------------------------------ clock


def test_the_clock_is_advanced_set_and_back_to_real_time_from_the_page(dashboard, emulator):
    token = emulator.authenticate()
    dashboard.open("/clock")

    dashboard.submit("form.quick-advance", "button[value='1260']")  # +21 min: past an xWeb token's 20

    assert emulator.clock()["offset_seconds"] == 1260
    assert "21 min from real time" in dashboard.text("#clock-offset")
    assert "shifted" in dashboard.text(".clock-chip")
    assert emulator.soap("GetVersion", "", token).status_code == 500  # the token expired
    dashboard.screenshot("clock")

    dashboard.fill("#advance-form", amount="2", unit="hours")
    dashboard.submit("#advance-form")
    assert emulator.clock()["offset_seconds"] == 1260 + 7200

    dashboard.browser.execute_script("document.querySelector('#set-form [name=now]').value = '2031-05-04T12:00:00';")
    dashboard.submit("#set-form")
    now = datetime.fromisoformat(emulator.clock()["now"])
    assert abs((now - datetime(2031, 5, 4, 12, tzinfo=UTC)).total_seconds()) < 30
    assert dashboard.text("#clock-now").startswith("2031-05-04 12:0")

    dashboard.submit("form[action$='/clock/real']")
    assert emulator.clock()["offset_seconds"] == 0
    assert dashboard.text("#clock-offset") == "real time"
    assert "The clock is back to real time." in dashboard.text(".banner-ok")


def test_a_reset_from_the_page_returns_the_counts_to_the_demo_data(dashboard, emulator):
    dashboard.open("/")
    demo = dashboard.counts()
    emulator.seed({"xweb": {"Customer": [{"cst_type": "Individual", "cst_name_cp": f"C{n}"} for n in range(3)]}})
    assert insert_activity(emulator, emulator.authenticate()).status_code == 200
    emulator.advance_clock(3600)
    dashboard.open("/")
    assert dashboard.counts()["xweb/Customer"] == demo["xweb/Customer"] + 3

    dashboard.open("/clock")
    dashboard.find("#reset-form [name=data][value=empty]").click()
    dashboard.find("#reset-form button[type=submit]").click()  # not confirmed: the browser holds the form back
    time.sleep(0.3)
    assert dashboard.browser.execute_script("return document.querySelector('#reset-form').checkValidity()") is False
    assert control_ok(emulator, "GET", "state")["xweb"]["Customer"] == demo["xweb/Customer"] + 3

    dashboard.find("#reset-form [name=confirm]").click()
    dashboard.submit("#reset-form")
    assert "Reset to no records" in dashboard.text(".banner-ok")
    dashboard.open("/")
    empty = dashboard.counts()
    assert empty["xweb/Customer"] == 0 and empty["xweb/CustomerMessagingActivity"] == 0
    assert empty["sap/Campaign"] == 0 and empty["crmcom/WebCustomerEvent"] == 0

    dashboard.open("/clock")
    dashboard.find("#reset-form [name=confirm]").click()
    dashboard.submit("#reset-form")

    assert "Reset to the demo data" in dashboard.text(".banner-ok")
    assert emulator.clock()["offset_seconds"] == 0 and emulator.journal() == []
    dashboard.open("/")
    assert dashboard.counts() == demo


# ---------------------------------------------------------------------------------------------------- records


def test_records_are_filtered_by_column_as_the_state_api_and_paged(dashboard, emulator):
    created = emulator.seed({"xweb": {"Customer": [
        {"cst_type": "Individual", "cst_name_cp": f"Customer {n:02}", "cst_id": f"P{n:02}"} for n in range(60)]}})
    total = len(emulator.state("xweb", "Customer"))
    assert total == 62

    dashboard.open("/records/xweb/Customer")
    assert dashboard.text("#records-total") == "62 records · page 1 of 2"
    assert len(dashboard.find_all(".records-table tbody tr")) == 50
    dashboard.find("a[rel=next]").click()
    dashboard.wait(lambda driver: "page 2 of 2" in dashboard.text("#records-total"))
    assert len(dashboard.find_all(".records-table tbody tr")) == 12

    dashboard.find(".filter-panel summary").click()
    dashboard.fill(".column-filters", cst_id="P07")
    dashboard.submit(".column-filters")
    assert dashboard.browser.current_url.endswith("/records/xweb/Customer?cst_id=P07")  # no empty fields sent
    assert dashboard.text("#records-total") == "1 record matches the filters"
    assert "Customer 07" in dashboard.text(".records-table")

    key = created["xweb"]["Customer"][7]
    dashboard.open(f"/records/xweb/Customer?cst_key={{{key.upper()}}}")  # a GUID in any notation, as the API
    assert dashboard.text("#records-total") == "1 record matches the filters"
    assert key in dashboard.text(".records-table")

    dashboard.open("/records/xweb/Customer?cst_key=not-a-guid")
    assert "cst_key takes UUID values" in dashboard.text(".banner-error")
    dashboard.open("/records/xweb/Customer?no_such_column=1")
    assert "Customer has no column no_such_column" in dashboard.text(".banner-error")
    dashboard.screenshot("records")


# --------------------------------------------------------------------------- every page, desktop and phone


def make_varied_journal(emulator: Emulator) -> None:
    """A journal like a connector's run: calls to every vendor, ok, faulted and throttled."""
    client = zeep_client(emulator)
    header = zeep_token(client, emulator)
    token = header["AuthorizationToken"]["Token"]
    assert insert_activity(emulator, token).status_code == 200
    client.service.WEBPhoneGetPhonesByCustomer(CustomerKey=SAMPLE_CUSTOMER, _soapheaders=header)
    emulator.add_fault("xweb", "throttle", operation="GetVersion", count=2)
    for _ in range(3):
        emulator.soap("GetVersion", "", token)
    assert emulator.soap("GetVersion", "", str(uuid.uuid4())).status_code == 500
    assert json_call(emulator, "GetVersion").status_code == 200
    assert sap_post(emulator, "MaintainFailedDeliveryStatusBundle",
                    sap_fixture("failed_delivery_status.request.xml")).status_code == 200
    login = requests.post(emulator.crmcom_url("authentication/token"), timeout=30,
                          json={**emulator.credentials["crmcom"]}).json()
    requests.post(emulator.crmcom_url("customer_events/web/list"), json={"token": login["data"]["token"]}, timeout=30)
    emulator.add_fault("xweb", "fault", fault_kind="InvalidTokenExceptionInfo", operation="InsertFacadeObject",
                       count=1)
    assert insert_activity(emulator, token).status_code == 500


def test_every_page_reads_at_a_desktops_and_a_phones_width(dashboard, emulator):
    make_varied_journal(emulator)
    newest = emulator.journal()[-1]
    paths = {**PAGES, "call": f"/calls/{newest['id']}"}
    for phone in (False, True):
        dashboard.phone(phone)
        for name, path in paths.items():
            dashboard.open(path)
            width = dashboard.browser.execute_script("return window.innerWidth")
            overflow = dashboard.browser.execute_script("return document.documentElement.scrollWidth")
            assert overflow <= width, f"{name} is {overflow} px wide in a {width} px window"
            assert dashboard.find("nav.tabs").is_displayed()
            dashboard.screenshot(f"{name}-{'phone' if phone else 'desktop'}")


# ------------------------------------------------------------------------------------ without a browser


def page(emulator: Emulator, path: str) -> requests.Response:
    return requests.get(emulator.base_url + ui.PREFIX + path, timeout=30)


def test_without_javascript_every_page_holds_its_content_and_nothing_from_elsewhere(emulator):
    make_varied_journal(emulator)
    entries = emulator.journal()
    for name, path in {**PAGES, "call": f"/calls/{entries[0]['id']}", "records index": "/records"}.items():
        response = page(emulator, path)
        assert response.status_code == 200, f"{name}: {response.status_code}"
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
        document = html.fromstring(response.text)
        for element in document.iter():
            for attribute in ("src", "href", "action"):
                value = element.get(attribute)
                if value and element.tag != "a":
                    assert value.startswith(("/", "#", "data:")), f"{name} loads {value}"
    calls = html.fromstring(page(emulator, "/calls").text)
    shown = [row.get("data-id") for row in calls.xpath("//tbody[@id='calls-body']/tr")]
    assert shown == [str(entry["id"]) for entry in reversed(entries)]  # newest first, rendered on the server
    failed = calls.xpath("//tbody[@id='calls-body']/tr[contains(@class, 'call-fault')]")
    refused = calls.xpath("//tbody[@id='calls-body']/tr[contains(@class, 'call-refused')]")
    assert len(failed) == sum(1 for entry in entries if ui.outcome_class(entry["outcome"]) == "fault") >= 2
    assert len(refused) == 2
    sap_call = next(entry for entry in entries if entry["vendor"] == "sap")
    detail = html.fromstring(page(emulator, f"/calls/{sap_call['id']}").text)
    assert "CampaignFailedDeliveryStatusBundleMaintainRequest_sync" in detail.get_element_by_id("request-body").text_content()
    filtered = html.fromstring(page(emulator, "/calls?vendor=sap").text)
    assert [row.get("data-id") for row in filtered.xpath("//tbody[@id='calls-body']/tr")] == [str(sap_call["id"])]
    assert page(emulator, "/calls/999999").status_code == 404
    assert page(emulator, "/records/xweb/NoSuchObject").status_code == 404
    assert page(emulator, "/records/xweb/Customer?cst_key=nope").status_code == 400


def test_only_the_rules_still_in_force_are_counted_on_the_overview_and_the_faults_tab(emulator):
    def counted() -> tuple[str, str, list[str]]:
        overview = html.fromstring(page(emulator, "/").text)
        (stat,) = overview.xpath("//a[contains(@class, 'stat')][.//div[@class='stat-label'][.='Fault rules']]")
        (faults_tab,) = overview.xpath("//nav//a[contains(@href, '/faults')]")
        return (stat.find_class("stat-value")[0].text_content(), stat.find_class("stat-note")[0].text_content(),
                [pill.text_content() for pill in faults_tab.find_class("count-pill")])

    once = emulator.add_fault("xweb", "throttle", operation="GetVersion", count=1)
    for_ever = emulator.add_fault("sap", "latency", latency_ms=1)
    assert counted() == ("2 in force", "calls may misbehave", ["2"])

    token = emulator.authenticate()
    assert emulator.soap("GetVersion", token=token).status_code == 429
    assert control_ok(emulator, "GET", "faults")["rules"][0]["remaining"] == 0  # spent: it draws no more
    assert counted() == ("1 in force", "calls may misbehave", ["1"])

    control_ok(emulator, "DELETE", f"faults/{for_ever['id']}")
    assert [rule["id"] for rule in emulator.fault_rules()] == [once["id"]]  # the spent rule is still listed
    assert counted() == ("0 in force", "every call answered as the vendor would", [])


def test_without_the_control_plane_every_dashboard_path_is_404(emulator):
    with another_server(emulator, control_plane=False) as shared:
        for path in UI_PATHS:
            answer = requests.get(shared.base_url + ui.PREFIX + path, timeout=30, allow_redirects=False)
            assert answer.status_code == 404, f"GET {ui.PREFIX}{path}: {answer.status_code}"
        for path in ("/faults", "/faults/1/remove", "/faults/clear", "/clock", "/clock/real", "/reset",
                     "/calls/clear"):
            answer = requests.post(shared.base_url + ui.PREFIX + path, data={"confirm": "yes"}, timeout=30,
                                   allow_redirects=False)
            assert answer.status_code == 404, f"POST {ui.PREFIX}{path}: {answer.status_code}"
        assert shared.soap("TestConnection").status_code == 200
    # With it, they are there: the redirect to the slash, the pages, the static files.
    assert requests.get(emulator.base_url + ui.PREFIX, timeout=30, allow_redirects=False).status_code == 308
    for path in UI_PATHS[1:-1]:
        expected = 404 if path == "/calls/1" else 200
        assert page(emulator, path).status_code == expected, path
    assert page(emulator, "/no-such-page").status_code == 404


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_copy_as_curl_replays_each_vendors_call(emulator):
    """The command on a call's page, run by a shell, makes the same call again: the same operation, answered the
    same way."""
    make_varied_journal(emulator)
    emulator.clear_faults()
    originals = [entry for entry in emulator.journal() if entry["outcome"] == "ok"]
    by_kind = {}
    for entry in originals:
        kind = (entry["vendor"], "json" if "/JSON/" in entry["path"] else "")
        by_kind.setdefault(kind, entry)
    assert set(by_kind) == {("xweb", ""), ("xweb", "json"), ("sap", ""), ("crmcom", "")}
    commands = {entry["id"]: html.fromstring(page(emulator, f"/calls/{entry['id']}").text)
                .get_element_by_id("curl").text_content() for entry in by_kind.values()}
    for entry in by_kind.values():
        command = commands[entry["id"]]
        emulator.clear_journal()

        ran = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=60)

        assert ran.returncode == 0, ran.stderr
        assert ran.stdout.startswith("HTTP/1.1 200"), ran.stdout[:300]
        (replayed,) = emulator.journal()
        assert (replayed["vendor"], replayed["operation"], replayed["path"], replayed["request"]["body"]) == (
            entry["vendor"], entry["operation"], entry["path"], entry["request"]["body"])
        assert replayed["outcome"] == "ok", (entry["operation"], replayed["response"]["body"][:300])


# ------------------------------------------------------------------------------------------ the helpers alone


def test_bodies_are_indented_and_left_as_they_came_when_unreadable():
    xml = ui.pretty_body('<a xmlns="urn:x"><b c="1">text</b><!-- note --></a>')
    assert xml.kind == "xml" and xml.text == '<a xmlns="urn:x">\n  <b c="1">text</b>\n  <!-- note -->\n</a>'
    assert '<span class="hl-attr">c</span>' in xml.html and "&lt;" in xml.html
    assert ui.pretty_body('{"a": [1, true, null, "<x>"]}').text == '{\n  "a": [\n    1,\n    true,\n    null,\n    "<x>"\n  ]\n}'
    assert "&lt;x&gt;" in ui.pretty_body('{"a": "<x>"}').html
    cut = ui.pretty_body("<a><b>never closed")
    assert cut.kind == "text" and cut.text == "<a><b>never closed"
    doctype = ui.pretty_body('<!DOCTYPE a [<!ENTITY e SYSTEM "file:///etc/passwd">]><a>&e;</a>')
    assert "root:" not in doctype.text
    assert ui.pretty_body("").kind == "empty" and ui.pretty_body("plain").kind == "text"


def test_the_chart_counts_calls_by_outcome_in_round_buckets():
    start = datetime(2030, 1, 1, 12, 0, 0)
    times = [(start.replace(second=second), outcome) for second, outcome in
             [(0, "ok"), (0, "throttled"), (1, "InvalidTokenExceptionInfo"), (30, "ok"), (59, "HTTP 404")]]

    chart = ui.build_chart(times)

    assert chart.step_seconds == 2 and len(chart.bars) == ui.CHART_BARS
    assert chart.totals == {"ok": 2, "fault": 2, "refused": 1}
    assert sum(bar.total for bar in chart.bars) == 5 and chart.peak == 3
    assert chart.bars[-1].start == start.replace(second=58)  # the newest call is in the last bar
    assert ui.build_chart([]).bars == []
    later = ui.build_chart(times, now=start.replace(minute=10))  # the span runs to now: wider bars
    assert later.step_seconds == 15 and later.bars[-1].start == start.replace(minute=10)
    assert later.totals == chart.totals and later.bars[-41].total == 3  # 12:00:00–12:00:15
    burst = ui.build_chart([(start, "ok"), (start.replace(microsecond=300_000), "ok")], now=start.replace(second=1))
    assert burst.step_seconds == 0.1 and [bar.total for bar in burst.bars[-11:]] == [1, 0, 0, 1] + [0] * 7


def test_the_curl_of_a_soap_1_2_sap_call_carries_the_action_in_its_content_type():
    entry = {"vendor": "sap", "operation": "MaintainReactionBundle", "method": "POST",
             "path": "/sap/bc/srt/scs/sap/managecampaigninboundin",
             "request": {"body": '<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"/>'}}

    command = ui.curl_command(entry, "http://127.0.0.1:1", SAP(Settings(sap_user="u", sap_password="p")))

    assert "-u u:p" in command
    assert ("'Content-Type: application/soap+xml; charset=utf-8; action=\"http://sap.com/xi/A1S/Global/"
            "ManageCampaignInboundIn/MaintainReactionBundleRequest\"'") in command
    assert "SOAPAction" not in command
