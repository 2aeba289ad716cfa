"""Connectors of the tests: the calls a connector makes over raw SOAP, zeep bound to the served WSDL and the JSON
twin, each over any facade object (a built-in one or a tenant profile's)."""

from __future__ import annotations

from typing import Protocol

import requests
from lxml import etree

from support import NS, facade_node, parse, records_of


class Connector(Protocol):
    def object_names(self) -> dict[str, str]: ...
    def columns(self, object_name: str) -> dict[str, dict[str, str]]: ...
    def query(self, object_name: str, columns: str, where: str, order: str) -> list[dict[str, str | None]]: ...
    def insert(self, object_name: str, records: list[dict[str, str]]) -> list[str]: ...
    def update(self, object_name: str, key: str, record: dict[str, str]) -> dict[str, str | None]: ...
    def get(self, object_name: str, key: str) -> dict[str, str | None]: ...


def keyset_pages(connector: Connector, object_name: str, columns: str, key: str,
                 page: int) -> tuple[list[dict[str, str | None]], int]:
    """Every record of an object as connectors read them: `@TOP page` with `key > '<last>'`, ordered by the key,
    until a short page; and how many pages that took."""
    records: list[dict[str, str | None]] = []
    last, pages = None, 0
    while True:
        found = connector.query(f"{object_name} @TOP {page}", columns, f"{key} > '{last}'" if last else "", key)
        pages += 1
        records += found
        if len(found) < page:
            return records, pages
        last = found[-1][key]


class RawSoap:
    """The envelopes a hand-written connector sends: the token from each answer's header into the next call's."""

    def __init__(self, emulator) -> None:
        self.emulator = emulator
        self.token = emulator.authenticate()

    def call(self, operation: str, body: str) -> etree._Element:
        response = self.emulator.soap(operation, body, self.token)
        assert response.status_code == 200, response.text
        document = parse(response)
        # Every answer carries the token to send next, but those of the token-free operations (GetDateTime).
        self.token = document.findtext("soap:Header/x:AuthorizationToken/x:Token", namespaces=NS) or self.token
        return document.find(f"soap:Body/x:{operation}Response/x:{operation}Result", NS)

    def object_names(self) -> dict[str, str]:
        listed = records_of(self.call("GetFacadeObjectList", "").find("x:ObjectObjects", NS))
        return {record["obj_name"]: record["obj_description"] for record in listed}

    def columns(self, object_name: str) -> dict[str, dict[str, str]]:
        definition = self.call("GetQueryDefinition", f"<ns:szObjectName>{object_name}</ns:szObjectName>")
        return {column.findtext("x:mdc_name", namespaces=NS): {
            etree.QName(part).localname: part.text for part in column} for column in definition.iterfind(
            "x:ListTable/x:ListFromTables/x:ListFromTable/x:Columns/x:Column", NS)}

    def query(self, object_name: str, columns: str, where: str, order: str) -> list[dict[str, str | None]]:
        result = self.call("GetQuery", f"<ns:szObjectName>{object_name}</ns:szObjectName>"
                                       f"<ns:szColumnList>{columns}</ns:szColumnList>"
                                       f"<ns:szWhereClause>{escaped(where)}</ns:szWhereClause>"
                                       f"<ns:szOrderBy>{order}</ns:szOrderBy>")
        return records_of(result[0])

    def insert(self, object_name: str, records: list[dict[str, str]]) -> list[str]:
        node = etree.tostring(facade_node(object_name, records)).decode()
        result = self.call("InsertFacadeObject", f"<ns:szObjectName>{object_name}</ns:szObjectName>"
                                                 f"<ns:oNode>{node}</ns:oNode>")
        return [next(iter(record.values())) for record in records_of(result[0])]

    def update(self, object_name: str, key: str, record: dict[str, str]) -> dict[str, str | None]:
        node = etree.tostring(facade_node(object_name, [record])).decode()
        result = self.call("UpdateFacadeObject", f"<ns:szObjectName>{object_name}</ns:szObjectName>"
                                                 f"<ns:szObjectKey>{key}</ns:szObjectKey><ns:oNode>{node}</ns:oNode>")
        (updated,) = records_of(result[0])
        return updated

    def get(self, object_name: str, key: str) -> dict[str, str | None]:
        result = self.call("GetFacadeObject", f"<ns:szObjectName>{object_name}</ns:szObjectName>"
                                              f"<ns:szObjectKey>{key}</ns:szObjectKey>")
        (record,) = records_of(result[0])
        return record


class ZeepOnTheServedWsdl(RawSoap):
    """zeep bound to the WSDL the emulator serves, as a client generated from the tenant's own is."""

    def __init__(self, emulator) -> None:
        self.client = emulator.zeep_client()
        self.service = self.client.service
        self.token = self.service.Authenticate(userName="demo", password="demo").header.AuthorizationToken.Token

    def zcall(self, operation: str, **params):
        answer = getattr(self.service, operation)(**params, _soapheaders={"AuthorizationToken": {"Token": self.token}})
        self.token = answer.header.AuthorizationToken.Token
        return getattr(answer.body, f"{operation}Result")

    def object_names(self) -> dict[str, str]:
        return {record["obj_name"]: record["obj_description"]
                for record in records_of(self.zcall("GetFacadeObjectList")._value_1)}

    def columns(self, object_name: str) -> dict[str, dict[str, str]]:
        definition = self.zcall("GetQueryDefinition", szObjectName=object_name)
        return {column.mdc_name: {name: getattr(column, name) for name in column}
                for table in definition.ListTable.ListFromTables.ListFromTable for column in table.Columns.Column}

    def query(self, object_name: str, columns: str, where: str, order: str) -> list[dict[str, str | None]]:
        return records_of(self.zcall("GetQuery", szObjectName=object_name, szColumnList=columns,
                                     szWhereClause=where, szOrderBy=order)._value_1)

    def insert(self, object_name: str, records: list[dict[str, str]]) -> list[str]:
        result = self.zcall("InsertFacadeObject", szObjectName=object_name,
                            oNode={"_value_1": facade_node(object_name, records)})
        return [next(iter(record.values())) for record in records_of(result._value_1)]

    def update(self, object_name: str, key: str, record: dict[str, str]) -> dict[str, str | None]:
        result = self.zcall("UpdateFacadeObject", szObjectName=object_name, szObjectKey=key,
                            oNode={"_value_1": facade_node(object_name, [record])})
        (updated,) = records_of(result._value_1)
        return updated

    def get(self, object_name: str, key: str) -> dict[str, str | None]:
        (record,) = records_of(self.zcall("GetFacadeObject", szObjectName=object_name, szObjectKey=key)._value_1)
        return record


class Json:
    """The JSON twin with HTTP Basic, as a REST connector calls it."""

    def __init__(self, emulator) -> None:
        self.emulator = emulator

    def call(self, operation: str, **params) -> dict:
        response = requests.post(self.emulator.json_url(operation), json={operation: params}, auth=("demo", "demo"),
                                 timeout=30)
        assert response.status_code == 200, response.text
        return response.json()

    def records(self, answer: dict, object_name: str) -> list[dict[str, str | None]]:
        objects = answer[f"{object_name}Objects"]
        found = objects.get(f"{object_name}Object") or []
        found = found if isinstance(found, list) else [found]
        assert objects["@recordReturn"] == str(len(found))
        return found

    def object_names(self) -> dict[str, str]:
        return {record["obj_name"]: record["obj_description"]
                for record in self.records(self.call("GetFacadeObjectList"), "Object")}

    def columns(self, object_name: str) -> dict[str, dict[str, str]]:
        definition = self.call("GetQueryDefinition", szObjectName=object_name)
        tables = definition["ListTable"]["ListFromTables"]
        tables = tables.get("ListFromTable", tables) if isinstance(tables, dict) else tables
        return {column["mdc_name"]: column for table in (tables if isinstance(tables, list) else [tables])
                for column in _listed(table["Columns"], "Column")}

    def query(self, object_name: str, columns: str, where: str, order: str) -> list[dict[str, str | None]]:
        answer = self.call("GetQuery", szObjectName=object_name, szColumnList=columns, szWhereClause=where,
                           szOrderBy=order)
        return self.records(answer, object_name.split("@")[0].strip())

    def insert(self, object_name: str, records: list[dict[str, str]]) -> list[str]:
        answer = self.call("InsertFacadeObject", szObjectName=object_name,
                           oNode={f"{object_name}Objects": {f"{object_name}Object": records}})
        return [next(iter(record.values())) for record in self.records(answer, object_name)]

    def update(self, object_name: str, key: str, record: dict[str, str]) -> dict[str, str | None]:
        answer = self.call("UpdateFacadeObject", szObjectName=object_name, szObjectKey=key,
                           oNode={f"{object_name}Objects": {f"{object_name}Object": record}})
        (updated,) = self.records(answer, object_name)
        return updated

    def get(self, object_name: str, key: str) -> dict[str, str | None]:
        (record,) = self.records(self.call("GetFacadeObject", szObjectName=object_name, szObjectKey=key),
                                 object_name)
        return record


def _listed(value, name: str) -> list:
    value = value.get(name, []) if isinstance(value, dict) else value
    return value if isinstance(value, list) else [value]


def escaped(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
