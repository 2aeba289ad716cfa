"""GET /_emulator/coverage (issue 10 part 6): per vendor, every operation of its service and whether the emulator
emulates it; what a call of each actually gets agrees with it, and the vendor pages'
tables (docs/) are the same list."""

from __future__ import annotations

import difflib

import pytest
import requests

import docs_coverage
from xweb_emulator.crmcom.operations import OPERATIONS as CRMCOM_OPERATIONS
from xweb_emulator.sap.operations import OPERATIONS as SAP_OPERATIONS
from xweb_emulator.vendors import VENDORS
from xweb_emulator.xweb.operations import NOT_EMULATED
from xweb_emulator.xweb.operations import OPERATIONS as XWEB_OPERATIONS


def emulated(entry: dict) -> set[str]:
    return {operation["name"] for operation in entry["operations"] if operation["emulated"]}


def not_emulated(entry: dict) -> set[str]:
    return {operation["name"] for operation in entry["operations"] if not operation["emulated"]}


@pytest.mark.parametrize("vendor", VENDORS, ids=lambda vendor: vendor.name)
def test_every_emulated_operation_is_one_the_vendor_offers(vendor):
    coverage = vendor.coverage
    assert len(coverage.offered) == len(set(coverage.offered))
    assert coverage.emulated <= set(coverage.offered)


def test_the_endpoint_lists_each_vendors_operations(emulator):
    coverage = emulator.coverage()

    assert list(coverage) == ["xweb", "sap", "crmcom"]
    xweb, sap, crmcom = coverage["xweb"], coverage["sap"], coverage["crmcom"]
    assert (xweb["service"], xweb["offered"], xweb["emulated"]) == (
        "netFORUM Enterprise xWeb", 262, len(XWEB_OPERATIONS))
    assert emulated(xweb) == set(XWEB_OPERATIONS) and not_emulated(xweb) == set(NOT_EMULATED)
    assert {"GetFacadeXMLSchema", "GetTimeZones", "WEBWebUserLogin_Custom"} <= not_emulated(xweb)
    names = [operation["name"] for operation in xweb["operations"]]
    assert names == sorted(names)

    assert (sap["offered"], sap["emulated"]) == (6, 6)
    assert emulated(sap) == set(SAP_OPERATIONS) == {
        "MaintainFailedDeliveryStatusBundle", "CheckMaintainFailedDeliveryStatusBundle",
        "MaintainMailingPermissionBundle", "CheckMaintainMailingPermissionBundle",
        "MaintainReactionBundle", "CheckMaintainReactionBundle"}

    assert (crmcom["offered"], crmcom["emulated"]) == (7, 5)
    assert emulated(crmcom) == set(CRMCOM_OPERATIONS)
    assert not_emulated(crmcom) == {"authentication/token/release", "authentication/web_api_key/token"}


def test_every_xweb_operation_answers_as_the_coverage_says(emulator):
    """Each one marked not emulated is answered not_emulated; none marked emulated is."""
    settings = emulator.settings
    for operation in emulator.coverage()["xweb"]["operations"]:
        requests.post(emulator.json_url(operation["name"]), data=b"{}", timeout=30,
                      auth=(settings.xweb_user, settings.xweb_password))
    outcomes = {entry["operation"]: entry["outcome"] for entry in emulator.journal(limit=1000)}

    assert {name for name, outcome in outcomes.items() if outcome == "not_emulated"} == set(NOT_EMULATED)
    assert len(outcomes) == 262


def test_every_crmcom_method_answers_as_the_coverage_says(emulator):
    """Those not emulated are no method of the emulator's (404); the others answer (a GET method refuses a POST)."""
    for method in emulator.coverage()["crmcom"]["operations"]:
        response = requests.post(emulator.crmcom_url(method["name"]), json={}, timeout=30)
        assert (response.status_code != 404) is method["emulated"], (method, response.text)


@pytest.mark.parametrize("vendor", [vendor.name for vendor in VENDORS])
def test_each_vendor_pages_table_is_the_endpoints_list(emulator, vendor):
    page = docs_coverage.page(vendor)
    written = docs_coverage.written_block(page.read_text(encoding="utf-8"))
    assert written is not None, f"{page} has no block between {docs_coverage.BEGIN!r} and {docs_coverage.END!r}"
    expected = docs_coverage.render(emulator.coverage()[vendor])

    if written != expected:
        diff = "\n".join(difflib.unified_diff(written.splitlines(), expected.splitlines(), str(page),
                                              "GET /_emulator/coverage", lineterm=""))
        pytest.fail(f"{page.name}'s operation-coverage table differs from GET /_emulator/coverage; write it again "
                    f"with: {docs_coverage.REGENERATE}\n{diff}", pytrace=False)
