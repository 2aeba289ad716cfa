"""A tenant's own web methods and saved queries, as its profile declares them: ExecuteMethod runs a Toolkit web
method (a query over the tenant's objects, writes, or a fixed answer); GetDynamicQuery and GetAudience run a saved
dynamic query or audience; their definitions and the audience list describe them.

A parameter's value is read as its declared type, then handed to GetQuery's where-clause engine (query.py) as the
value `@name` stands for, a bound parameter: no text a caller sends becomes SQL. A write goes through the facade's
own insert and update, in the call's transaction, so that a later failure undoes an earlier write.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from xweb_emulator.xweb.errors import InvalidInput, XWebError
from xweb_emulator.xweb.facade import Actor, get_record, insert_records, row_renderer, update_record
from xweb_emulator.xweb.profile import MethodParameter, Profile, ProfileError, SavedAudience, SavedDefinition, \
    SavedQuery, WebMethod, WebService
from xweb_emulator.xweb.query import ObjectQuery, Value, build_query, parameter_uses, parse_object_name, read_value, \
    sql_type_name
from xweb_emulator.xweb.tenant import Tenant, check_objects

# que_key and qrh_key as the emulator derives them from a definition's name, the same on every start and database.
_DEFINITION_KEY_NAMESPACE = uuid.UUID("0b7d6c1e-3f2a-4e5b-8c9d-1a2b3c4d5e6f")
# How the vendor's QueryParameter names the comparison a parameter stands in (QueryOperatorType), by sqlglot's node.
_OPERATORS = {"EQ": "Equals", "NEQ": "NotEquals", "GT": "GreaterThan", "LT": "LessThan",
              "GTE": "GreaterThanOrEqualTo", "LTE": "LessThanOrEqualTo", "Like": "Like", "In": "IsIn"}


class NotAllowed(XWebError):
    """Web Method Security or Query Security: the xWeb user may not call the method or run the query."""


@dataclass(frozen=True)
class Answer:
    """What a method or saved query answers: records of an object, or a fixed node."""

    object_name: str | None
    records: Iterable[dict[str, Any]] = ()
    node: Any = None


@dataclass(frozen=True)
class Context:
    """What running a definition needs of the call."""

    connection: Connection
    tenant: Tenant
    user: str | None
    now: datetime
    row_cap: int


# ------------------------------------------------------------------------------------------------- parameters


def sent_parameters(parameters: Any) -> dict[str, str | None]:
    """Parameter[] as sent ({Name, Value} each), by name in lower case without a leading @."""
    sent: dict[str, str | None] = {}
    for item in [] if parameters is None else parameters if isinstance(parameters, list) else [parameters]:
        if not isinstance(item, Mapping) or not isinstance(item.get("Name"), str) or not item["Name"].strip():
            raise InvalidInput("Every Parameter must have a Name.")
        value = item.get("Value")
        if value is not None and not isinstance(value, str):
            raise InvalidInput(f"Parameter {item['Name']}: its Value must be a single value.")
        sent[item["Name"].strip().lstrip("@").lower()] = value
    return sent


def bound_values(owner: str, declared: Sequence[MethodParameter], sent: Mapping[str, str | None]
                 ) -> dict[str, Value]:
    """Each declared parameter's value, read as its type, by name in lower case: what `@name` stands for. A value not
    sent is NULL. Refused as SQL Server refuses a stored procedure's: a parameter it does not take, a required one
    missing, a value not of its type."""
    names = {each.name.lower() for each in declared}
    unknown = next((name for name in sent if name not in names), None)
    if unknown is not None:
        raise InvalidInput(f"{owner} has no parameter named '@{unknown}'.")
    values: dict[str, Value] = {}
    for parameter in declared:
        text = sent.get(parameter.name.lower())
        if text is None or (not text.strip() and parameter.kind != "string"):
            if parameter.required:
                raise InvalidInput(f"Procedure or function '{owner}' expects parameter '@{parameter.name}', which "
                                   "was not supplied.")
            values[parameter.name.lower()] = None
            continue
        try:
            typed = read_value(text, "boolean" if parameter.kind == "flag" else parameter.kind)
        except InvalidInput as error:
            raise InvalidInput(f"Parameter '@{parameter.name}': {error.message}") from None
        # Keys and text stay text: the where-clause engine reads them as the column compared needs; a flag is the
        # 0 or 1 a where clause writes (a flag column may be stored as a number).
        values[parameter.name.lower()] = (text if parameter.kind in ("guid", "string") else
                                          int(bool(typed)) if parameter.kind == "flag" else typed)
    return values


# ------------------------------------------------------------------------------------------------ web methods


def web_method(tenant: Tenant, service_name: str | None, method_name: str | None) -> tuple[WebService, WebMethod]:
    service = next((each for each in tenant.profile.web_services
                    if each.name.lower() == (service_name or "").strip().lower()), None)
    if service is None:
        raise InvalidInput(f"Web service '{service_name or ''}' is not defined.")
    method = next((each for each in service.methods if each.name.lower() == (method_name or "").strip().lower()), None)
    if method is None:
        raise InvalidInput(f"Web method '{method_name or ''}' is not defined for web service '{service.name}'.")
    return service, method


def allows_anonymous(tenant: Tenant, service_name: str | None, method_name: str | None) -> bool:
    """Whether the method may be called without a token ("Allow Anonymous Access")."""
    try:
        return web_method(tenant, service_name, method_name)[1].anonymous
    except InvalidInput:
        return False  # the missing token is answered first, as for any call


def execute_method(context: Context, service_name: str | None, method_name: str | None, parameters: Any) -> Answer:
    """ExecuteMethod: the declared method run with its parameters, if the caller may."""
    service, method = web_method(context.tenant, service_name, method_name)
    if not method.anonymous and method.users is not None and context.user not in method.users:
        raise NotAllowed(f"Account is not authorized to execute web method {service.name}.{method.name}.")
    sent = sent_parameters(parameters)
    values = bound_values(f"{service.name}.{method.name}", method.parameters, sent)
    if method.answer is not None:
        return Answer(None, node=method.answer)
    if method.query is not None:
        query = run_query(context, method.query, values)
        return Answer(query.queryable.name, _rows(context, query))
    actor = Actor(context.user, context.now)
    for write in method.writes:
        facade = context.tenant.facade_object(write.insert or write.update)
        record = {column: _written_value(value, sent) for column, value in write.values.items()}
        if write.insert is not None:
            (key,) = insert_records(context.connection, actor, facade, [record])
        else:
            key = update_record(context.connection, actor, facade, sent.get(write.key.lower()), record)
    # The last record written, whole, as UpdateFacadeObject answers it.
    return Answer(facade.name, [get_record(context.connection, facade, str(key))])


def _written_value(value: str | None, sent: Mapping[str, str | None]) -> str | None:
    if value is not None and value.startswith("@"):
        return sent.get(value[1:].lower())
    return value


# --------------------------------------------------------------------------------------------- saved queries


def run_query(context: Context, query: SavedQuery, values: Mapping[str, Value], *, top: int | None = None
              ) -> ObjectQuery:
    """A definition's query with its parameters' values bound; `top` rows at most if given, else the definition's,
    else the query row cap."""
    rows = top if top is not None else query.top
    object_name = query.object if rows is None else f"{query.object} @TOP {rows}"
    return build_query(lambda name: context.tenant.facade_object(name).queryable, object_name, query.columns,
                       query.where, query.order_by, default_row_cap=context.row_cap, now=context.now,
                       parameters=values)


def _rows(context: Context, query: ObjectQuery) -> Iterator[dict[str, Any]]:
    columns = query.statement.selected_columns
    return map(row_renderer(columns), context.connection.execute(query.statement))


def definition_key(definition: SavedDefinition) -> str:
    """que_key or qrh_key, in lower case (a caller's is matched in any case, as a GUID is)."""
    return (definition.key or str(uuid.uuid5(_DEFINITION_KEY_NAMESPACE, definition.name.lower()))).lower()


def _allowed(context: Context, definition: SavedDefinition) -> bool:
    return definition.users is None or context.user in definition.users


def _saved(context: Context, found: SavedDefinition | None, what: str) -> SavedDefinition:
    if found is None:
        raise InvalidInput(f"{what} was not found.")
    if not _allowed(context, found):
        raise NotAllowed(f"Account is not authorized to run {what}.")
    return found


def dynamic_query(context: Context, object_name: str | None, query_name: str | None, parameters: Any) -> Answer:
    """GetDynamicQuery: the saved query of the object, its rows; szObjectName may carry `@TOP n`, as GetQuery's."""
    target = parse_object_name(object_name, -1)
    definition = _query_named(context, target.name, query_name)
    values = bound_values(definition.name, definition.parameters, sent_parameters(parameters))
    # No cap read is either `@TOP -1` (every row) or no `@TOP` at all (the definition's, else the row cap).
    top = -1 if target.row_cap is None and "@" in (object_name or "") else target.row_cap
    query = run_query(context, definition, values, top=top)
    return Answer(query.queryable.name, _rows(context, query))


def _query_named(context: Context, object_name: str | None, query_name: str | None,
                 key: str | None = None) -> SavedDefinition:
    queries = context.tenant.profile.queries
    if key:
        found = next((each for each in queries if definition_key(each) == key.strip().lower()), None)
        return _saved(context, found, f"Query '{key}'")
    found = next((each for each in queries if each.name.lower() == (query_name or "").strip().lower()
                  and each.object.lower() == (object_name or "").strip().lower()), None)
    return _saved(context, found, f"Query '{query_name}' of object '{object_name}'")


def dynamic_query_definition(context: Context, object_name: str | None, query_name: str | None,
                             key: str | None) -> dict[str, Any]:
    """GetDynamicQueryDefinition: the saved query named by its object and name, or by que_key."""
    definition = _query_named(context, object_name, query_name, key)
    return {"que_key": definition_key(definition), "que_description": definition.description or definition.name,
            "szObjectName": context.tenant.facade_object(definition.object).name,
            "Parameters": _query_parameters(context, definition)}


def _audience(context: Context, key: str | None) -> SavedAudience:
    audiences = context.tenant.profile.audiences
    found = next((each for each in audiences if definition_key(each) == (key or "").strip().lower()), None)
    return _saved(context, found, f"Audience '{key}'")


def audience_list(context: Context) -> Answer:
    """GetAudienceList: the audiences the caller may run."""
    return Answer("Audience", [{"qrh_key": definition_key(each), "qrh_name": each.name,
                                "qrh_description": each.description or each.name,
                                "qrh_obj_name": context.tenant.facade_object(each.object).name,
                                "qrh_cst_key_column": each.customer_key}
                               for each in context.tenant.profile.audiences if _allowed(context, each)])


def audience(context: Context, key: str | None, parameters: Any, page: int | None) -> Answer:
    """GetAudience: one page of the audience (page_size rows, the first page by default)."""
    definition = _audience(context, key)
    if page is not None and page < 0:
        raise InvalidInput("currentPage must not be negative.")
    values = bound_values(definition.name, definition.parameters, sent_parameters(parameters))
    query = run_query(context, definition, values, top=-1)
    first = (max(page or 1, 1) - 1) * definition.page_size
    paged = query.statement.limit(definition.page_size).offset(first)
    return Answer(query.queryable.name, _rows(context, ObjectQuery(query.queryable, paged, query.column_names)))


def audience_definition(context: Context, key: str | None) -> dict[str, Any]:
    """GetAudienceDefinition: its key, description, parameters and columns."""
    definition = _audience(context, key)
    query = run_query(context, definition, dict.fromkeys((each.name.lower() for each in definition.parameters)))
    return {"qrh_key": definition_key(definition), "qrh_description": definition.description or definition.name,
            "Parameters": _query_parameters(context, definition),
            "Columns": {"QueryColumn": [_query_column(query, name) for name in query.column_names]}}


def _query_column(query: ObjectQuery, output: str) -> dict[str, Any]:
    column = next(each for each in query.statement.selected_columns if each.name == output)
    source = query.queryable.columns[query.queryable.column_named(output) or query.queryable.key_column]
    table = _table_of(source)
    return {"Name": output, "Description": output.split("_", 1)[-1].replace("_", " ").title(),
            "DataType": sql_type_name(column), "TableAlias": table, "TableDescription": None, "TableName": table}


def _table_of(column: Any) -> str | None:
    """The table a column is read from (a profile object's column names the table its profile gives)."""
    return getattr(column, "table_name", None) or getattr(getattr(column, "table", None), "name", None)


def _query_parameters(context: Context, definition: SavedDefinition) -> dict[str, Any]:
    """ArrayOfQueryParameter: each parameter with the column and comparison it stands in (read from the where
    clause)."""
    uses = parameter_uses(definition.where)
    queryable = context.tenant.facade_object(definition.object).queryable
    described = []
    for parameter in definition.parameters:
        operator, column_name = uses.get(parameter.name.lower(), ("EQ", None))
        column = queryable.columns.get(queryable.column_named(column_name or "") or "")
        described.append({
            "Name": parameter.name, "Description": parameter.name, "Operator": _OPERATORS.get(operator, "Equals"),
            "ColumnName": column_name, "ColumnDescription": None, "ControlClass": None,
            "DataType": parameter.type, "IsExtended": bool(column_name and column_name.lower().endswith("_ext")),
            "IsNullable": not parameter.required,
            "TableAlias": None, "TableDescription": None,
            "TableName": None if column is None else _table_of(column),
            "ListOptions": None})
    return {"QueryParameter": described}


def check_servable(profile: Profile) -> None:
    """Raise ProfileError for what the file's schema cannot tell: an object the profile cannot describe (a default
    list naming no column), a saved query or web method no call could run. Checked where a profile is prepared
    (XWeb.prepare, before it is put in force; `profile check`)."""
    check_objects(profile)
    try:
        check_definitions(Tenant(profile))
    except InvalidInput as error:
        raise ProfileError(f"{profile.name}: {error.message}") from None


def check_definitions(tenant: Tenant) -> None:
    """Raise InvalidInput, naming the definition, for a query no call could run (an object, a column or a parameter
    it names that is not there)."""
    queries = [(f"web_services: {service.name}.{method.name}", method.query, method.parameters)
               for service in tenant.profile.web_services for method in service.methods if method.query is not None]
    queries += [(f"queries: {each.name}", each, each.parameters) for each in tenant.profile.queries]
    queries += [(f"audiences: {each.name}", each, each.parameters) for each in tenant.profile.audiences]
    for where, query, parameters in queries:
        try:
            built = build_query(lambda name: tenant.facade_object(name).queryable, query.object, query.columns,
                                query.where, query.order_by, default_row_cap=-1, now=datetime.now(),
                                parameters=dict.fromkeys(each.name.lower() for each in parameters))
            if isinstance(query, SavedAudience) and built.queryable.column_named(query.customer_key) is None:
                raise InvalidInput(f"Invalid column name '{query.customer_key}'.")
        except InvalidInput as error:
            raise InvalidInput(f"{where}: {error.message}") from None
    for service in tenant.profile.web_services:
        for method in service.methods:
            for write in method.writes:
                try:
                    tenant.facade_object(write.insert or write.update)
                except InvalidInput as error:
                    raise InvalidInput(f"web_services: {service.name}.{method.name}: {error.message}") from None
