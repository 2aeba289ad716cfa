"""A tenant profile captured from a tenant's own answers, with read operations only: GetFacadeObjectList, then for each
object GetQueryDefinition (its tables, joins and columns) and `GetQuery "<Object> @TOP 1"` with an empty column list
(its default list: the columns that answer, the key first). Live (`capture_live`, over SOAP with requests) or from
answers a colleague saved (`capture_saved`: GetFacadeObjectList.xml, GetQueryDefinition-<Object>.xml and optionally
GetQuery-<Object>.xml, each the SOAP envelope as the tenant answered it). Then what a tenant shows of its saved
definitions: every audience GetAudienceList lists, with GetAudienceDefinition, and the saved dynamic queries named
(xWeb lists none), with GetDynamicQueryDefinition. A web method's definition is not readable over xWeb at all.

What the profile says is only what serving it needs: for an object the emulator builds in, its description, default
list and extender columns; for another, its whole List Table, less what the emulator derives the same way by itself
(the key and audit columns, a key or table named by netFORUM's conventions).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree

from xweb_emulator.xweb.profile import (AUDIT_SUFFIXES, DATA_TYPES, MethodParameter, Profile, ProfileColumn,
                                        ProfileObject, ProfileTable, SavedAudience, SavedDefinition, default_profile)
from xweb_emulator.xweb.stored import AUDIT_TYPES, StoredObject

XWEB = "http://www.avectra.com/2005/"
SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
_NS = {"x": XWEB, "soap": SOAP}
# obj_key as the emulator derives it (facade.object_key): a captured key equal to it need not be written down.
_OBJECT_KEY_NAMESPACE = uuid.UUID("6f1b2c8e-53a4-4d0e-9b57-0c1e4a7d2f90")


class CaptureError(Exception):
    """An answer the capture cannot use (a fault, an unreadable envelope, a call that failed every retry)."""


@dataclass
class Capture:
    """What a capture made: the profile, and what went wrong, by object (the rest of the profile is still whole)."""

    profile: Profile
    problems: dict[str, str] = field(default_factory=dict)
    """Objects left out, and why."""
    notes: dict[str, str] = field(default_factory=dict)
    """Objects captured without something (a default list, where the tenant has no record to show it)."""


# -------------------------------------------------------------------------------------------- reading answers


def _body(envelope: bytes, operation: str) -> etree._Element:
    try:
        root = etree.fromstring(envelope, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as error:
        raise CaptureError(f"{operation}: the answer is not XML: {error}") from None
    fault = root.find("soap:Body/soap:Fault", _NS)
    if fault is not None:
        message = fault.findtext(".//x:Message", namespaces=_NS) or fault.findtext("faultstring") or "a fault"
        raise CaptureError(f"{operation}: {message.strip()}")
    result = root.find(f"soap:Body/x:{operation}Response/x:{operation}Result", _NS)
    if result is None:
        raise CaptureError(f"{operation}: the answer has no {operation}Result")
    return result


def _text(element: etree._Element, name: str) -> str | None:
    value = element.findtext(f"x:{name}", namespaces=_NS)
    return value.strip() if value is not None and value.strip() else None


def listed_objects(envelope: bytes) -> list[dict[str, str | None]]:
    """GetFacadeObjectList's objects: obj_name, obj_key, obj_description."""
    result = _body(envelope, "GetFacadeObjectList")
    return [{name: _text(record, name) for name in ("obj_name", "obj_key", "obj_description")}
            for record in result.iterfind("x:ObjectObjects/x:ObjectObject", _NS)]


def default_list(envelope: bytes) -> list[str]:
    """The columns a GetQuery with an empty column list answers, in order (the key first)."""
    result = _body(envelope, "GetQuery")
    objects = next(iter(result), None)
    record = None if objects is None else next(iter(objects), None)
    if record is None:
        raise CaptureError("GetQuery: no record answered, so the default list is unknown")
    return [etree.QName(column).localname for column in record]


def defined_object(envelope: bytes, built_in: ProfileObject | None,
                   list_columns: list[str] | None) -> ProfileObject:
    """The profile's object from GetQueryDefinition's answer and, where known, the default list."""
    result = _body(envelope, "GetQueryDefinition")
    name = _text(result, "obj_name")
    if name is None:
        raise CaptureError("GetQueryDefinition: the answer names no object")
    description = _text(result, "obj_description")
    key = _text(result, "obj_key")
    if key is not None and key.lower() == str(uuid.uuid5(_OBJECT_KEY_NAMESPACE, name)):
        key = None
    list_table = result.find("x:ListTable", _NS)
    base_table = None if list_table is None else _text(list_table, "lst_mdt_name")
    tables: list[ProfileTable] = []
    columns: list[ProfileColumn] = []
    for position, from_table in enumerate([] if list_table is None else
                                          list_table.iterfind("x:ListFromTables/x:ListFromTable", _NS)):
        table_name = _text(from_table, "lsf_from_table")
        alias = _text(from_table, "lsf_from_alias")
        if position and table_name:
            tables.append(ProfileTable(name=table_name, alias=None if alias == table_name else alias,
                                       join_type=_text(from_table, "lsf_from_join_type") or "LEFT OUTER JOIN",
                                       join=_text(from_table, "lsf_from_join") or ""))
        for column in from_table.iterfind("x:Columns/x:Column", _NS):
            columns.append(_column(column, base_table))
    list_names = tuple(list_columns[1:]) if list_columns else None
    if built_in is not None:
        from xweb_emulator.xweb.facade import FACADE_OBJECTS

        extender = tuple(_undescribed(column) for column in columns if column.ext)
        queryable = FACADE_OBJECTS[name.lower()].shaped(built_in.model_copy(update={"columns": extender})).queryable
        default = tuple(column for column in queryable.default_columns if column != queryable.key_column)
        return ProfileObject(
            name=name, key=key, description=None if description == built_in.description else description,
            columns=extender, list_columns=None if list_names == default else list_names)
    key_column = list_columns[0] if list_columns else _key_column(columns)
    prefix = key_column.split("_", 1)[0]
    declared = _declared(columns, key_column, prefix)
    return ProfileObject(
        name=name, key=key, description=description, prefix=prefix,
        table=None if base_table == f"{prefix}_{name.lower()}" else base_table,
        key_column=None if key_column == f"{prefix}_key" else key_column, tables=tuple(tables),
        columns=tuple(declared), list_columns=None if list_names == _all_names(name, prefix, key_column, declared)
        else list_names)


def _column(element: etree._Element, base_table: str | None) -> ProfileColumn:
    ext = _text(element, "mdc_ext") == "1"
    data_type = (_text(element, "mdc_data_type") or "nvarchar").lower()
    width = _text(element, "mdc_width_max")
    owner = _text(element, "mdc_table_name")
    default_owner = f"{base_table}_ext" if ext else base_table
    return ProfileColumn(
        name=_text(element, "mdc_name") or "", type=data_type if data_type in DATA_TYPES else "nvarchar",
        width=int(width) if width and width.isdigit() and int(width) > 0 else None,
        nullable=_text(element, "mdc_nullable") != "0", ext=ext,
        description=_text(element, "mdc_description"), table=None if owner in (None, default_owner) else owner)


def _key_column(columns: list[ProfileColumn]) -> str:
    keys = [column.name for column in columns if column.type in ("av_key", "uniqueidentifier")
            and column.name.endswith("_key") and not column.ext]
    if not keys:
        raise CaptureError("GetQueryDefinition: no key column (av_key) is listed, and no GetQuery answer shows it")
    return keys[0]


def _declared(columns: list[ProfileColumn], key_column: str, prefix: str) -> list[ProfileColumn]:
    """The columns to write down: not those the emulator gives every object by itself alike."""
    generated = {f"{prefix}{suffix}": AUDIT_TYPES[suffix] for suffix in AUDIT_SUFFIXES}
    declared = []
    for column in columns:
        if column.name == key_column and column.type == "av_key" and not column.nullable and column.table is None \
                and column.description in (None, "Primary Key"):
            continue
        if generated.get(column.name) == column.type and column.table is None and not column.ext and (
                column.nullable == (not column.name.endswith("_delete_flag"))):
            continue
        declared.append(_undescribed(column))
    return declared


def _undescribed(column: ProfileColumn) -> ProfileColumn:
    """The column without its description where it is the one the emulator derives from the name by itself."""
    derived = column.name.split("_", 1)[-1].replace("_", " ").title()
    return column.model_copy(update={"description": None}) if column.description == derived else column


def _all_names(name: str, prefix: str, key_column: str, declared: list[ProfileColumn]) -> tuple[str, ...]:
    """The default list of an object that declares none: all its columns, as StoredObject lists them."""
    stored = StoredObject.of(ProfileObject(name=name, prefix=prefix, key_column=key_column, columns=tuple(declared)))
    return tuple(column.name for column in stored.columns[1:])


# ------------------------------------------------------------------------------ saved queries and audiences

# The comparison a QueryParameter's Operator names, as a where clause writes it with the parameter.
_COMPARISONS = {"Equals": "{} = {}", "NotEquals": "{} <> {}", "GreaterThan": "{} > {}", "LessThan": "{} < {}",
                "GreaterThanOrEqualTo": "{} >= {}", "LessThanOrEqualTo": "{} <= {}", "Like": "{} LIKE {}",
                "IsIn": "{} IN ({})", "IsNotIn": "{} NOT IN ({})"}
SAVED_DEFINITIONS_NOTE = ("captured with the conditions of its parameters only, no order and no security: xWeb does "
                          "not show the rest of a saved definition; add them by hand")


def _parameters(definition: etree._Element) -> tuple[tuple[MethodParameter, ...], str]:
    """A definition's QueryParameters, and the where clause they make: each parameter compared with its column."""
    parameters, conditions = [], []
    for element in definition.iterfind("x:Parameters/x:QueryParameter", _NS):
        name, column = _text(element, "Name"), _text(element, "ColumnName")
        if name is None:
            raise CaptureError("a QueryParameter has no Name")
        data_type = (_text(element, "DataType") or "nvarchar").lower()
        parameters.append(MethodParameter(name=name, type=data_type if data_type in DATA_TYPES else "nvarchar",
                                          required=_text(element, "IsNullable") == "false"))
        comparison = _COMPARISONS.get(_text(element, "Operator") or "")
        if column is not None and comparison is not None:
            conditions.append(comparison.format(column, f"@{name}"))
    return tuple(parameters), " AND ".join(conditions)


def _derived_key(definition: SavedDefinition) -> SavedDefinition:
    """The definition without its key where the emulator derives the same one from its name."""
    from xweb_emulator.xweb.methods import definition_key

    return definition.model_copy(update={"key": None}) if definition_key(
        definition.model_copy(update={"key": None})) == definition.key else definition


def saved_query(envelope: bytes, name: str) -> SavedDefinition:
    """A saved dynamic query from GetDynamicQueryDefinition's answer."""
    result = _body(envelope, "GetDynamicQueryDefinition")
    object_name = _text(result, "szObjectName")
    if object_name is None:
        raise CaptureError("GetDynamicQueryDefinition: the answer names no object")
    parameters, where = _parameters(result)
    description = _text(result, "que_description")
    return _derived_key(SavedDefinition(name=name, key=_text(result, "que_key"), object=object_name, where=where,
                                        description=None if description == name else description,
                                        parameters=parameters))


def listed_audiences(envelope: bytes) -> list[dict[str, str | None]]:
    """GetAudienceList's audiences: qrh_key, qrh_name, qrh_description, qrh_obj_name, qrh_cst_key_column."""
    result = _body(envelope, "GetAudienceList")
    return [{name: _text(record, name) for name in ("qrh_key", "qrh_name", "qrh_description", "qrh_obj_name",
                                                     "qrh_cst_key_column")}
            for record in result.iterfind("x:AudienceObjects/x:AudienceObject", _NS)]


def saved_audience(envelope: bytes, listed: dict[str, str | None]) -> SavedAudience:
    """An audience from GetAudienceDefinition's answer and its entry in GetAudienceList."""
    result = _body(envelope, "GetAudienceDefinition")
    if listed["qrh_obj_name"] is None or listed["qrh_cst_key_column"] is None:
        raise CaptureError("GetAudienceList does not say which object it reads and which column holds the customer's "
                           "key: declare them by hand")
    parameters, where = _parameters(result)
    name = listed["qrh_name"] or listed["qrh_description"] or listed["qrh_key"] or ""
    description = _text(result, "qrh_description")
    columns = [_text(column, "Name") for column in result.iterfind("x:Columns/x:QueryColumn", _NS)]
    return _derived_key(SavedAudience(
        name=name, key=_text(result, "qrh_key"), object=listed["qrh_obj_name"],
        columns=", ".join(column for column in columns if column), where=where,
        description=None if description == name else description, parameters=parameters,
        customer_key=listed["qrh_cst_key_column"]))


def _saved_definitions(answers: Callable[[str, str | None], bytes | None], queries: Iterable[tuple[str, str]],
                       problems: dict[str, str], notes: dict[str, str]
                       ) -> tuple[list[SavedDefinition], list[SavedAudience]]:
    """The saved queries named (object, name: xWeb lists none) and every audience GetAudienceList lists."""
    captured_queries, captured_audiences = [], []
    for object_name, query_name in queries:
        where = f"query {object_name}.{query_name}"
        try:
            answer = answers("GetDynamicQueryDefinition", f"{object_name}-{query_name}")
            if answer is None:
                raise CaptureError(f"no GetDynamicQueryDefinition answer for {object_name}.{query_name}")
            captured_queries.append(saved_query(answer, query_name))
            notes[where] = SAVED_DEFINITIONS_NOTE + " (and its columns)"
        except (CaptureError, ValueError) as error:
            problems[where] = str(error)
    try:
        listing = answers("GetAudienceList", None)
        audiences = [] if listing is None else listed_audiences(listing)
    except CaptureError as error:
        problems["audiences"] = str(error)
        audiences = []
    for listed in audiences:
        where = f"audience {listed['qrh_name'] or listed['qrh_key']}"
        try:
            answer = answers("GetAudienceDefinition", listed["qrh_key"])
            if answer is None:
                raise CaptureError(f"no GetAudienceDefinition answer for {listed['qrh_key']}")
            captured_audiences.append(saved_audience(answer, listed))
            notes[where] = SAVED_DEFINITIONS_NOTE
        except (CaptureError, ValueError) as error:
            problems[where] = str(error)
    return captured_queries, captured_audiences


# -------------------------------------------------------------------------------------------------- capturing


def assemble(name: str, answers: Callable[[str, str | None], bytes | None], objects: Iterable[str] | None,
             progress: Callable[[str], None] = lambda name: None, queries: Iterable[tuple[str, str]] = ()) -> Capture:
    """A profile from a tenant's answers: `answers(operation, object)` gives one (None where there is none); with
    the saved `queries` (object, name) and the tenant's audiences."""
    listing = answers("GetFacadeObjectList", None)
    if listing is None:
        raise CaptureError("GetFacadeObjectList: no answer")
    listed = listed_objects(listing)
    wanted = None if objects is None else {each.lower() for each in objects}
    built_in = {each.name.lower(): each for each in default_profile().objects}
    captured: list[ProfileObject] = []
    problems: dict[str, str] = {}
    notes: dict[str, str] = {}
    names = [entry["obj_name"] for entry in listed if entry["obj_name"]]
    for unknown in sorted((wanted or set()) - {each.lower() for each in names}):
        problems[unknown] = "GetFacadeObjectList does not list it"
    for object_name in names:
        if wanted is not None and object_name.lower() not in wanted:
            continue
        progress(object_name)
        try:
            definition = answers("GetQueryDefinition", object_name)
            if definition is None:
                raise CaptureError(f"no GetQueryDefinition answer for {object_name}")
            query = answers("GetQuery", object_name)
            list_columns = None
            if query is not None:
                try:
                    list_columns = default_list(query)
                except CaptureError as error:
                    notes[object_name] = f"{error} (captured without its default list)"
            captured.append(defined_object(definition, built_in.get(object_name.lower()), list_columns))
        except CaptureError as error:
            problems[object_name] = str(error)
        except ValueError as error:  # a value the profile cannot hold (pydantic)
            problems[object_name] = f"GetQueryDefinition: {error}"
    saved_queries, audiences = _saved_definitions(answers, queries, problems, notes)
    return Capture(Profile(name=name, objects=tuple(captured), queries=tuple(saved_queries),
                           audiences=tuple(audiences)), problems, notes)


def capture_saved(folder: Path, *, objects: Iterable[str] | None = None, name: str | None = None,
                  progress: Callable[[str], None] = lambda name: None, queries: Iterable[tuple[str, str]] = ()
                  ) -> Capture:
    """A profile from the answers saved in `folder` (GetAudienceList.xml, GetAudienceDefinition-<qrh_key>.xml and
    GetDynamicQueryDefinition-<Object>-<query name>.xml beside the objects')."""
    def saved(operation: str, object_name: str | None) -> bytes | None:
        path = folder / (f"{operation}.xml" if object_name is None else f"{operation}-{object_name}.xml")
        return path.read_bytes() if path.is_file() else None

    return assemble(name or folder.name, saved, objects, progress, queries)


class LiveTenant:
    """A tenant's SOAP endpoint, read with its own read operations: its token carried from answer to answer (a
    Sliding tenant issues a new one each time); throttling (429), server errors and time-outs retried with back-off."""

    def __init__(self, url: str, user: str, password: str, *, retries: int = 4, timeout: float = 60,
                 pause: float = 1.0) -> None:
        import requests

        self.url = url.split("?", 1)[0]
        self.http = requests.Session()
        self.retries, self.timeout, self.pause = retries, timeout, pause
        self.token: str | None = None
        self.credentials = (f"<x:userName>{_escaped(user)}</x:userName>"
                            f"<x:password>{_escaped(password)}</x:password>")
        self._authenticate()

    def _authenticate(self) -> None:
        self.token = None
        _body(self._post("Authenticate", self.credentials), "Authenticate")

    def call(self, operation: str, body: str) -> bytes:
        """An operation's answer. A fault kills the token it came with (as on a live tenant): the call is made once
        more, signed in again, after a pause; a second fault is the answer."""
        for attempt in range(2):
            if self.token is None:
                self._authenticate()
            answer = self._post(operation, body)
            if b"Fault>" not in answer:
                break
            self.token = None
            if attempt == 0:
                time.sleep(self.pause)
        return answer

    def _post(self, operation: str, body: str) -> bytes:
        import requests

        header = "" if self.token is None else (
            f"<soap:Header><x:AuthorizationToken><x:Token>{self.token}</x:Token></x:AuthorizationToken></soap:Header>")
        envelope = (f'<soap:Envelope xmlns:soap="{SOAP}" xmlns:x="{XWEB}">{header}<soap:Body><x:{operation}>{body}'
                    f"</x:{operation}></soap:Body></soap:Envelope>").encode()
        headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{XWEB}{operation}"'}
        for attempt in range(self.retries + 1):
            try:
                response = self.http.post(self.url, data=envelope, headers=headers, timeout=self.timeout)
            except requests.RequestException as error:
                problem = f"{operation}: {type(error).__name__}: {error}"
            else:
                if response.status_code != 429 and response.status_code < 502:
                    self._keep_token(response.content)
                    return response.content
                problem = f"{operation}: HTTP {response.status_code}"
                wait = response.headers.get("Retry-After", "")
                if wait.isdigit() and attempt < self.retries:  # the tenant says how long
                    time.sleep(min(int(wait), 60))
                    continue
            if attempt < self.retries:
                time.sleep(self.pause * 2 ** attempt)
        raise CaptureError(f"{problem} (after {self.retries + 1} tries)")

    def _keep_token(self, answer: bytes) -> None:
        try:
            token = etree.fromstring(answer).findtext("soap:Header/x:AuthorizationToken/x:Token", namespaces=_NS)
        except etree.XMLSyntaxError:
            return
        if token:
            self.token = token.strip()

    def answers(self, operation: str, object_name: str | None) -> bytes:
        """The answer `assemble` asks for."""
        if operation == "GetFacadeObjectList":
            return self.call(operation, "")
        if operation == "GetQueryDefinition":
            return self.call(operation, f"<x:szObjectName>{_escaped(object_name)}</x:szObjectName>")
        if operation == "GetAudienceList":
            return self.call(operation, "")
        if operation == "GetAudienceDefinition":
            return self.call(operation, f"<x:qrh_key>{_escaped(object_name)}</x:qrh_key>")
        if operation == "GetDynamicQueryDefinition":
            query_object, query_name = (object_name or "").split("-", 1)
            return self.call(operation, f"<x:szObjectName>{_escaped(query_object)}</x:szObjectName>"
                                        f"<x:szQueryName>{_escaped(query_name)}</x:szQueryName><x:que_key></x:que_key>")
        return self.call("GetQuery", f"<x:szObjectName>{_escaped(object_name)} @TOP 1</x:szObjectName>"
                                     "<x:szColumnList></x:szColumnList><x:szWhereClause></x:szWhereClause>"
                                     "<x:szOrderBy></x:szOrderBy>")


def capture_live(url: str, user: str, password: str, *, objects: Iterable[str] | None = None, name: str = "captured",
                 progress: Callable[[str], None] = lambda name: None, queries: Iterable[tuple[str, str]] = (),
                 **options: Any) -> Capture:
    """A profile from a live tenant (its SOAP endpoint's address)."""
    tenant = LiveTenant(url, user, password, **options)

    def answers(operation: str, object_name: str | None) -> bytes:
        return tenant.answers(operation, object_name)

    return assemble(name, answers, objects, progress, queries)


def _escaped(text: str | None) -> str:
    return (text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def profile_yaml(profile: Profile) -> str:
    """A profile as the YAML file a user keeps: only what differs from the defaults, in the profile's order."""
    import yaml

    document = profile.model_dump(mode="json", exclude_defaults=True)
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=118)
