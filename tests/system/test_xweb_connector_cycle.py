"""A connector's whole sync cycle against the emulator, as published netFORUM connectors run it, with the envelopes
they send (raw SOAP) and through zeep bound to the vendor's own WSDL:

Authenticate → GetFacadeObjectList → GetQueryDefinition of Individual and CustomerMessagingActivity → GetQuery pages
of Individuals by `@TOP n` + keyset until a short page → WEBIndividualInsert → WEBIndividualUpdate →
InsertFacadeObject of activities → GetQuery by change-date watermark, which must answer exactly the new and changed
records.
"""

from __future__ import annotations

from typing import Protocol

import pytest
import zeep
from lxml import etree

import xweb_connectors
from support import NS, VENDOR_BINDING, XWEB, facade_node, records_of
from xweb_connectors import keyset_pages

PAGE = 10
MEMBERS = 23  # seeded; with the two demo individuals, three pages of ten and a short one


class Connector(Protocol):
    def object_names(self) -> set[str]: ...
    def column_names(self, object_name: str) -> set[str]: ...
    def query(self, object_name: str, columns: str, where: str, order: str) -> list[dict[str, str]]: ...
    def now(self) -> str: ...
    def insert_individual(self, first: str, last: str, email: str) -> str: ...
    def update_individual(self, key: str, last: str) -> bool: ...
    def insert_activities(self, records: list[dict[str, str]]) -> list[str]: ...


class RawSoap(xweb_connectors.RawSoap):
    """The envelopes a hand-written connector sends (xweb_connectors.RawSoap), with the WEB* calls of this cycle."""

    def object_names(self) -> set[str]:
        listed = self.call("GetFacadeObjectList", "").find("x:ObjectObjects", NS)
        return {record["obj_name"] for record in records_of(listed)}

    def column_names(self, object_name: str) -> set[str]:
        definition = self.call("GetQueryDefinition", f"<ns:szObjectName>{object_name}</ns:szObjectName>")
        return {name.text for name in definition.iterfind(
            "x:ListTable/x:ListFromTables/x:ListFromTable/x:Columns/x:Column/x:mdc_name", NS)}

    def now(self) -> str:
        return self.call("GetDateTime", "").text

    def insert_individual(self, first: str, last: str, email: str) -> str:
        result = self.call("WEBIndividualInsert", (
            "<ns:oFacadeObject><ns:Individual>"
            f"<ns:ind_first_name>{first}</ns:ind_first_name><ns:ind_last_name>{last}</ns:ind_last_name>"
            f"</ns:Individual><ns:Email><ns:eml_address>{email}</ns:eml_address></ns:Email></ns:oFacadeObject>"))
        return result.findtext("x:Individual/x:ind_cst_key", namespaces=NS)

    def update_individual(self, key: str, last: str) -> bool:
        result = self.call("WEBIndividualUpdate", (
            f"<ns:oFacadeObject><ns:CurrentKey>{key}</ns:CurrentKey><ns:Individual>"
            f"<ns:ind_cst_key>{key}</ns:ind_cst_key><ns:ind_last_name>{last}</ns:ind_last_name>"
            "</ns:Individual></ns:oFacadeObject>"))
        return result.text == "true"

    def insert_activities(self, records: list[dict[str, str]]) -> list[str]:
        node = etree.tostring(facade_node("CustomerMessagingActivity", records)).decode()
        result = self.call("InsertFacadeObject", "<ns:szObjectName>CustomerMessagingActivity</ns:szObjectName>"
                                                 f"<ns:oNode>{node}</ns:oNode>")
        return [record["cma_key"] for record in records_of(result[0])]


class ZeepOnTheVendorWsdl:
    """zeep bound to the vendor's 2010 WSDL, its address the emulator's, as a generated client is."""

    def __init__(self, client: zeep.Client, emulator) -> None:
        self.client = client
        self.service = client.create_service(VENDOR_BINDING, emulator.soap_url)
        answer = self.service.Authenticate(userName=emulator.settings.xweb_user,
                                           password=emulator.settings.xweb_password)
        self.token = answer.header.AuthorizationToken.Token

    def call(self, operation: str, **params):
        if operation == "GetDateTime":  # token-free: the vendor's WSDL declares no header for it
            return self.service.GetDateTime()
        answer = getattr(self.service, operation)(**params, _soapheaders={"AuthorizationToken": {"Token": self.token}})
        self.token = answer.header.AuthorizationToken.Token
        return getattr(answer.body, f"{operation}Result")

    def object_names(self) -> set[str]:
        return {record["obj_name"] for record in records_of(self.call("GetFacadeObjectList")._value_1)}

    def column_names(self, object_name: str) -> set[str]:
        definition = self.call("GetQueryDefinition", szObjectName=object_name)
        return {column.mdc_name for table in definition.ListTable.ListFromTables.ListFromTable
                for column in table.Columns.Column}

    def query(self, object_name: str, columns: str, where: str, order: str) -> list[dict[str, str]]:
        return records_of(self.call("GetQuery", szObjectName=object_name, szColumnList=columns, szWhereClause=where,
                                    szOrderBy=order)._value_1)

    def now(self) -> str:
        return self.call("GetDateTime").isoformat()

    def insert_individual(self, first: str, last: str, email: str) -> str:
        result = self.call("WEBIndividualInsert", oFacadeObject=self.individual(
            Individual={"ind_first_name": first, "ind_last_name": last}, Email={"eml_address": email}))
        return result.Individual.ind_cst_key

    def update_individual(self, key: str, last: str) -> bool:
        return self.call("WEBIndividualUpdate", oFacadeObject=self.individual(
            CurrentKey=key, Individual={"ind_cst_key": key, "ind_last_name": last}))

    def individual(self, **sections: object):
        """An IndividualType with the sections given; the vendor's WSDL requires every other, which a generated
        client leaves out (zeep: SkipValue)."""
        kind = self.client.get_type(f"{{{XWEB}}}IndividualType")
        return kind(**{name: sections.get(name, zeep.xsd.SkipValue) for name, _element in kind.elements})

    def insert_activities(self, records: list[dict[str, str]]) -> list[str]:
        result = self.call("InsertFacadeObject", szObjectName="CustomerMessagingActivity",
                           oNode={"_value_1": facade_node("CustomerMessagingActivity", records)})
        return [record["cma_key"] for record in records_of(result._value_1)]


@pytest.fixture(params=["raw SOAP", "zeep, vendor WSDL"])
def connector(request, emulator) -> Connector:
    if request.param == "raw SOAP":
        return RawSoap(emulator)
    return ZeepOnTheVendorWsdl(request.getfixturevalue("vendor_client"), emulator)


def test_a_connectors_whole_sync_cycle(emulator, connector):
    emulator.seed({"xweb": {"Individual": [
        {"ind_first_name": f"Member{number:02}", "ind_last_name": "Seeded", "eml_address": f"m{number}@example.org"}
        for number in range(MEMBERS)]}})

    assert {"Individual", "CustomerMessagingActivity"} <= connector.object_names()
    assert {"ind_cst_key", "ind_first_name", "ind_last_name", "eml_address", "ind_change_date"} <= (
        connector.column_names("Individual"))
    assert {"cma_key", "cma_cst_key", "cma_activity_date", "cma_change_date"} <= (
        connector.column_names("CustomerMessagingActivity"))

    # The first run: every member, page by page, until a short page.
    members, pages = keyset_pages(connector, "Individual", "ind_first_name, ind_last_name, eml_address",
                                  "ind_cst_key", PAGE)
    assert pages == (MEMBERS + 2) // PAGE + 1
    keys = [member["ind_cst_key"] for member in members]
    assert len(keys) == len(set(keys)) == MEMBERS + 2 and keys == sorted(keys, key=lambda key: bytes.fromhex(
        key.replace("-", "")))
    watermark = connector.now()

    # The run writes: a new member, a changed one, activities.
    emulator.advance_clock(1)
    new = connector.insert_individual("Grace", "Hopper", "grace@example.org")
    changed = members[3]["ind_cst_key"]
    assert connector.update_individual(changed, "Renamed") is True
    activities = connector.insert_activities([
        {"cma_cst_key": key, "cma_eml_address": f"{key[:8]}@example.org", "cma_activity_date": "12/1/2026 9:00:00 AM",
         "cma_activity_code": "Opened"} for key in (new, changed)])

    # The next run: only what changed since the watermark.
    since = connector.query("Individual @TOP -1", "ind_last_name, eml_address", f"ind_change_date > '{watermark}'",
                            "ind_last_name")
    assert [(record["ind_cst_key"], record["ind_last_name"]) for record in since] == [
        (new, "Hopper"), (changed, "Renamed")]
    assert since[0]["eml_address"] == "grace@example.org"
    written = connector.query("CustomerMessagingActivity @TOP -1", "cma_cst_key",
                              f"cma_change_date > '{watermark}'", "")
    assert sorted(record["cma_key"] for record in written) == sorted(activities)
