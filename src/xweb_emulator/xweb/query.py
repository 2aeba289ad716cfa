"""GetQuery's query building: szObjectName, szColumnList, szWhereClause and szOrderBy made into one SQLAlchemy Select
over a queryable object's own columns, every client value in it a bound parameter.

xWeb pastes szWhereClause and szOrderBy into the T-SQL it hands SQL Server. Here they are parsed with sqlglot's T-SQL
dialect and only a whitelist of constructs is translated; anything else (subqueries, statements after a `;`, other
functions, variables, CAST/CONVERT, COLLATE …) is refused with the vendor's "Invalid query." before a query exists.
Errors a real tenant's SQL Server would raise are worded as SQL Server words them (Invalid column name 'x'., …).

Choices where SQL Server's behaviour is not reproduced as is, so that SQLite and PostgreSQL answer identically:

- Case: SQL Server's default collation is case-insensitive. String columns are compared, matched and sorted through
  lower() of ASCII letters only (SQLite's lower() does no more; PostgreSQL's does no more under the "C" collation,
  which also makes it compare and sort bytewise as SQLite does). So 'SMITH' finds 'Smith', but 'é' does not find 'É'.
  The values are lowered here, the columns in SQL: a plain index on a string column cannot serve those comparisons
  (an expression index on the same lower() could). Keys (GUIDs), dates and numbers are compared bare, so keyset
  paging on them (`@TOP n` + `key > 'last'` ordered by key) is an index range scan.
- GUIDs: SQLAlchemy keeps a Uuid as 32 lowercase hex digits on SQLite and as a native uuid on PostgreSQL; both order
  them bytewise. SQL Server orders uniqueidentifiers by another byte order, but paging only needs the WHERE and the
  ORDER BY to agree, and here they do.
- NULLs sort first ascending and last descending, as on SQL Server; every query is finally ordered by the primary key
  so that ties come back in the same order on both databases. Only nullable columns carry the explicit NULLS
  FIRST/LAST: PostgreSQL cannot serve that ordering from a default index.
- Dates: a value compared with a date column is read in ISO 8601 ('2024-01-01', '2024-01-01T10:00:00',
  '2024-01-01 10:00:00') or in the US forms netFORUM prints ('12/1/2026 1:07:08 PM', '12/1/2026').
- Functions: GETDATE(), GETUTCDATE(), SYSDATETIME() and CURRENT_TIMESTAMP are the caller's `now` (the emulator's
  clock is UTC, so they are one), and DATEADD(part, n, date) is computed here; every other function is refused.
- Comments (`--`, `/* */`) are allowed and ignored: nothing of the text reaches the database, and a statement after
  a comment is still a second statement, refused.
- A string compared with a number is compared as the number's text (SQL Server would convert the column instead).
- T-SQL's LIKE character classes are kept only as the single-character escape ('[_]', '[%]', '[[]'); sets and
  ranges ('[a-c]', '[^a]') are refused, having no LIKE equivalent on SQLite or PostgreSQL.
"""

from __future__ import annotations

import calendar
import operator
import re
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import cached_property, lru_cache
from typing import Any

import sqlglot
from sqlalchemy import Boolean, DateTime, FromClause, Integer, Numeric, Select, String, Uuid, and_, cast, false, \
    literal, not_, null, or_, select, true
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.tokens import TokenType

from xweb_emulator.inputs import read_integer
from xweb_emulator.xweb.errors import InvalidInput
from xweb_emulator.xweb.values import as_stored, parse_date, parse_guid

INVALID_QUERY = "Invalid query."
# The wording MemberJunction quotes from live tenants and the 2017.1 GetQuery page ("Asterisk (*) is not a valid value
# for szColumnList"); the 2015 WSDL's documentation still promised the whole record for a `*`.
STAR_NOT_ALLOWED = "'*' is not a valid value for szColumnList"

# The vendor's own guard, applied to the text before SQL Server sees it: these words anywhere, even inside a quoted
# value, and netFORUM's multi-entity security column make GetQuery answer "Invalid query." (its GetQuery page, as
# MemberJunction found on live tenants). Words, not substrings: eml_delete_flag is a column, not DELETE.
_VENDOR_REFUSED = re.compile(r"\b(?:select|insert|update|delete|exec|execute)\b|_entity_key", re.IGNORECASE)

_OBJECT_NAME_WITH_TOP = re.compile(r"(?P<name>.*?)\s*@\s*top\s*(?P<rows>[+-]?\d+)", re.IGNORECASE | re.DOTALL)

_DATE_CONVERSION_FAILED = "Conversion failed when converting date and/or time from character string."

_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
_LIKE_ESCAPE = "\\"
_LIKE_SPECIAL_CHARACTERS = (_LIKE_ESCAPE, "%", "_")


# Compared and hashed by identity: SQLAlchemy columns answer == with SQL, not with a truth value.
@dataclass(frozen=True, eq=False)
class QueryableObject:
    """An object GetQuery reads: its name, the rows it reads (a table, a join or a subquery), the columns clients may
    name (in listing order, under the names clients use), its primary key and its default list columns."""

    name: str
    source: FromClause
    columns: Mapping[str, ColumnElement[Any]]
    key_column: str
    default_columns: tuple[str, ...]
    default_order: str | None = None
    """szOrderBy when a client sends none (the object's default order)."""

    def __post_init__(self) -> None:
        unknown = {self.key_column, *self.default_columns} - set(self.columns)
        if unknown:
            raise ValueError(f"{self.name} has no column {sorted(unknown)[0]}")

    @classmethod
    def of_table(cls, name: str, table: FromClause, default_columns: tuple[str, ...]) -> QueryableObject:
        """A table read whole, keyed by its one primary key column."""
        (key,) = table.primary_key.columns
        return cls(name, table, {column.name: column for column in table.columns}, key.name, default_columns)

    @cached_property
    def qualifiers(self) -> frozenset[str]:
        """The tables (or their aliases) a column may be prefixed with: those the object's columns come from."""
        return frozenset(_table_name(column).lower() for column in self.columns.values() if _table_name(column))

    @cached_property
    def _names_by_folded_name(self) -> dict[str, str]:
        return {name.lower(): name for name in self.columns}

    def column_named(self, name: str) -> str | None:
        """The column a client means, named in any case (SQL Server's default collation), or None."""
        return self._names_by_folded_name.get(name.lower())


@dataclass(frozen=True)
class ObjectName:
    """szObjectName read: the object's name and how many rows at most GetQuery answers (None: every row)."""

    name: str
    row_cap: int | None


@dataclass(frozen=True)
class ObjectQuery:
    """What a GetQuery call reads: the statement, and the names its columns are answered under, in order."""

    queryable: QueryableObject
    statement: Select
    column_names: tuple[str, ...]


def parse_object_name(object_name: str | None, default_row_cap: int) -> ObjectName:
    """szObjectName, with its optional `@TOP N` suffix: N rows at most, -1 for every row. Without the suffix the
    default cap applies (a negative one meaning none)."""
    text = (object_name or "").strip()
    match = _OBJECT_NAME_WITH_TOP.fullmatch(text)
    if match is None:
        return ObjectName(text, None if default_row_cap < 0 else default_row_cap)
    try:
        rows = read_integer(match["rows"])
    except ValueError:  # more digits than any integer holds
        rows = None
    if rows is None or rows < -1:
        raise InvalidInput("A TOP or FETCH clause contains an invalid value.")
    return ObjectName(match["name"], None if rows == -1 else rows)


def build_query(find_object: Callable[[str], QueryableObject], object_name: str | None, column_list: str | None,
                where_clause: str | None, order_by: str | None, *, default_row_cap: int,
                now: datetime, parameters: Mapping[str, Value] | None = None) -> ObjectQuery:
    """The query GetQuery(szObjectName, szColumnList, szWhereClause, szOrderBy) runs. `find_object` looks the object
    up by the name szObjectName gives (without its @TOP) and raises for one it does not know; `now` is what
    GETDATE() means. `parameters` (by name in lower case) are the values `@name` stands for in a tenant's own where
    clause (a web method's, a saved query's), each a bound parameter; GetQuery's own where clause has none. Raises
    InvalidInput, with the message the client gets, before any statement exists."""
    target = parse_object_name(object_name, default_row_cap)
    queryable = find_object(target.name)
    for text in (column_list, where_clause, order_by):
        if text and _VENDOR_REFUSED.search(text):
            raise InvalidInput(INVALID_QUERY)
    names = _ColumnNames(queryable)
    try:
        selected = tuple(_selected_columns(names, column_list))
        condition = _Condition(names, now, parameters).parse(where_clause)
        sort_terms = _sort_terms(names, order_by if order_by and order_by.strip() else queryable.default_order,
                                 selected)
    except RecursionError:
        raise InvalidInput(INVALID_QUERY) from None
    statement = _ordered_select(queryable, selected, sort_terms)
    if condition is not None:
        statement = statement.where(condition)
    if target.row_cap is not None:
        statement = statement.limit(target.row_cap)
    return ObjectQuery(queryable, statement, tuple(output for output, _ in selected))


@lru_cache(maxsize=512)
def _ordered_select(queryable: QueryableObject, selected: tuple[tuple[str, str], ...],
                    sort_terms: tuple[tuple[str, bool], ...]) -> Select:
    """The statement of a column list and an order, before its where clause and row cap: built once for the calls
    that send the same (a connector's pages differ in their where clause only)."""
    sort_keys = [_sort_key(queryable.columns[name], descending, name == queryable.key_column)
                 for name, descending in sort_terms]
    return (select(*(as_stored(queryable.columns[name]).label(output) for output, name in selected))
            .select_from(queryable.source).order_by(*sort_keys))


class _AsciiLower(FunctionElement):
    """lower() of ASCII letters only, identical on SQLite and PostgreSQL (see the module's documentation)."""

    type = String()
    inherit_cache = True


@compiles(_AsciiLower)
def _compile_ascii_lower(element: _AsciiLower, compiler: Any, **kw: Any) -> str:
    return f"lower({compiler.process(element.clauses, **kw)})"


@compiles(_AsciiLower, "postgresql")
def _compile_ascii_lower_postgresql(element: _AsciiLower, compiler: Any, **kw: Any) -> str:
    return f'lower({compiler.process(element.clauses, **kw)} COLLATE "C")'


def _ascii_lower(text: str) -> str:
    return text.translate(_ASCII_LOWER)


@lru_cache(maxsize=512)
def _parsed_once(text: str, into: type[exp.Expression], prefix: str = "") -> Any:
    """_parsed, kept for the texts sent again (a connector pages with the same column list and order): the trees
    are only read. Not for where clauses: a keyset page's differs from every other page's, and keeping each
    page's tree (until 512 more pushed it out) only gave the garbage collector more to walk."""
    return _parsed(text, into, prefix)


def _parsed(text: str, into: type[exp.Expression], prefix: str = "") -> Any:
    """`text` parsed as T-SQL into one `into` node (after `prefix`, which says what the text is), or "Invalid query.".
    sqlglot forgives a `;` or a trailing `,`; SQL Server, with the text in the middle of its statement, does not."""
    try:
        tokens = _TSQL.tokenize(prefix + text)
        token_types = [token.token_type for token in tokens[_prefix_tokens(prefix):]]
        if not token_types or token_types[-1] is TokenType.COMMA or TokenType.SEMICOLON in token_types:
            raise InvalidInput(INVALID_QUERY)
        statements = _TSQL.parser().parse_into(into, tokens, prefix + text)
        if len(statements) != 1 or statements[0] is None:
            raise InvalidInput(INVALID_QUERY)
        return statements[0]
    except sqlglot.errors.SqlglotError:
        raise InvalidInput(INVALID_QUERY) from None


_TSQL = Dialect.get_or_raise("tsql")


@lru_cache(maxsize=None)
def _prefix_tokens(prefix: str) -> int:
    return len(_TSQL.tokenize(prefix))


class _ColumnNames:
    """How column references a client writes resolve to the object's own columns."""

    def __init__(self, queryable: QueryableObject) -> None:
        self.queryable = queryable
        self.qualifiers = queryable.qualifiers

    def resolve(self, reference: exp.Column) -> str:
        """The object's column a reference (cst_key, [cst_key], co_customer.cst_key) names."""
        written = reference.name
        qualifier = reference.table
        if reference.args.get("db") or reference.args.get("catalog") or (
                qualifier and qualifier.lower() not in self.qualifiers):
            raise InvalidInput(f'The multi-part identifier "{reference.sql(dialect="tsql")}" could not be bound.')
        name = self.queryable.column_named(written)
        if name is None or (qualifier and _table_name(self.queryable.columns[name]).lower() != qualifier.lower()):
            raise InvalidInput(f"Invalid column name '{written}'.")
        return name


def _table_name(column: ColumnElement[Any]) -> str:
    """The table a client may qualify the column with (a stored column's is the one the profile names)."""
    return getattr(column, "table_name", None) or getattr(getattr(column, "table", None), "name", None) or ""


def _is_star(node: exp.Expression) -> bool:
    return isinstance(node, exp.Star) or (isinstance(node, exp.Column) and isinstance(node.this, exp.Star))


def _selected_columns(names: _ColumnNames, column_list: str | None) -> list[tuple[str, str]]:
    """(output name, column) pairs, the primary key first unless the client placed it itself. A column is answered
    under the name the client wrote, as SQL Server names a result column; the default list under the object's."""
    queryable = names.queryable
    key = queryable.key_column
    text = (column_list or "").strip()
    if not text:
        return [(name, name) for name in (key, *(name for name in queryable.default_columns if name != key))]
    # The list is parsed as the select list of a statement, which must then hold nothing else.
    statement = _parsed_once(text, exp.Select, prefix="SELECT ")
    if any(value for arg, value in statement.args.items() if arg != "expressions"):
        raise InvalidInput(INVALID_QUERY)
    selected = []
    for item in statement.expressions:
        reference = item.this if isinstance(item, exp.Alias) else item
        if _is_star(reference):
            raise InvalidInput(STAR_NOT_ALLOWED)
        if not isinstance(reference, exp.Column):
            raise InvalidInput(INVALID_QUERY)
        name = names.resolve(reference)
        selected.append((item.alias if isinstance(item, exp.Alias) else reference.name, name))
    if not any(name == key and output.lower() == key.lower() for output, name in selected):
        selected.insert(0, (key, key))
    return selected


def _sort_terms(names: _ColumnNames, order_by: str | None,
                selected: tuple[tuple[str, str], ...]) -> tuple[tuple[str, bool], ...]:
    """szOrderBy's columns (the object's, or the column list's aliases), each with whether it sorts descending, then
    the primary key."""
    queryable = names.queryable
    terms: list[tuple[str, bool]] = []
    text = (order_by or "").strip()
    if text:
        # SQL Server resolves an unqualified ORDER BY name against the select list's names first.
        by_output = {output.lower(): name for output, name in selected}
        order = _parsed_once(text, exp.Order, prefix="ORDER BY ")
        for ordered in order.expressions:
            reference = ordered.this
            if not isinstance(reference, exp.Column) or _is_star(reference):
                raise InvalidInput(INVALID_QUERY)
            alias_of = None if reference.table else by_output.get(reference.name.lower())
            terms.append((alias_of or names.resolve(reference), bool(ordered.args.get("desc"))))
    if all(name != queryable.key_column for name, _ in terms):
        terms.append((queryable.key_column, False))
    return tuple(terms)


def _sort_key(column: ColumnElement[Any], descending: bool, is_key: bool) -> ColumnElement[Any]:
    sorted_by = _AsciiLower(column) if _kind_of(column) == "string" else column
    term = sorted_by.desc() if descending else sorted_by.asc()
    if is_key or not getattr(column, "nullable", True):
        return term
    return term.nulls_last() if descending else term.nulls_first()


# What a column or a value is compared as, from its SQL type; the first match wins (Boolean is no Integer, but
# SmallInteger is one).
_KINDS = (("boolean", Boolean), ("guid", Uuid), ("datetime", DateTime), ("integer", Integer), ("decimal", Numeric),
          ("string", String))
# SQL Server's names, for its messages.
_SQL_TYPE_NAMES = {"boolean": "bit", "guid": "uniqueidentifier", "datetime": "datetime", "integer": "int",
                   "decimal": "numeric", "string": "varchar"}
# The kinds a literal can be, in SQL Server's data type precedence: comparing two, the lower is converted.
_VALUE_KINDS_BY_PRECEDENCE = ((str, "string"), (int, "integer"), (Decimal, "decimal"), (datetime, "datetime"))
_VALUE_PRECEDENCE = [kind for _, kind in _VALUE_KINDS_BY_PRECEDENCE]

Value = str | int | Decimal | datetime | bool | None


def _kind_of(column: ColumnElement[Any]) -> str | None:
    return next((kind for kind, sql_type in _KINDS if isinstance(column.type, sql_type)), None)


def _value_kind(value: Value) -> str:
    return next(kind for python_type, kind in _VALUE_KINDS_BY_PRECEDENCE if isinstance(value, python_type))


def _as_kind(value: Value, kind: str | None) -> Value:
    """A value converted as SQL Server converts it to compare it with a `kind` column, or its error."""
    if value is None:
        return None
    if kind == "string" and isinstance(value, (str, int, Decimal)):
        return str(value)
    if kind == "guid" and isinstance(value, str):
        try:
            return parse_guid(value, "")
        except InvalidInput:
            raise InvalidInput("Conversion failed when converting from a character string to uniqueidentifier.") \
                from None
    if kind == "datetime" and isinstance(value, datetime):
        return value
    if kind == "datetime" and isinstance(value, str):
        try:
            return parse_date(value, "")
        except InvalidInput:
            raise InvalidInput(_DATE_CONVERSION_FAILED) from None
    if kind == "string" and isinstance(value, datetime):
        # SQL Server would convert the column's strings to dates instead, failing on the first that is none.
        raise InvalidInput(_DATE_CONVERSION_FAILED)
    if kind == "integer" and isinstance(value, (int, Decimal)):
        # A decimal keeps its fraction: SQL Server compares the integer column as a decimal then.
        return value
    if kind == "integer" and isinstance(value, str):
        if re.fullmatch(r"\s*[+-]?\d+\s*", value):
            return int(value)
        raise InvalidInput(f"Conversion failed when converting the varchar value '{value}' to data type int.")
    if kind == "decimal" and isinstance(value, (int, Decimal)):
        return Decimal(value)
    if kind == "decimal" and isinstance(value, str):
        try:
            return Decimal(value.strip())
        except InvalidOperation:
            raise InvalidInput("Error converting data type varchar to numeric.") from None
    if kind == "boolean" and isinstance(value, (int, Decimal)):
        return value != 0
    if kind == "boolean" and isinstance(value, str):
        word = value.strip().lower()
        if word in ("true", "false"):
            return word == "true"
        if re.fullmatch(r"[+-]?\d+", word):
            return int(word) != 0
        raise InvalidInput(f"Conversion failed when converting the varchar value '{value}' to data type bit.")
    if kind is None:
        raise InvalidInput(INVALID_QUERY)
    raise InvalidInput(f"Operand type clash: {_SQL_TYPE_NAMES[kind]} is incompatible with "
                       f"{_SQL_TYPE_NAMES[_value_kind(value)]}")


@dataclass(frozen=True)
class _ColumnOperand:
    column: ColumnElement[Any]
    kind: str | None

    @property
    def compared(self) -> ColumnElement[Any]:
        """The column as comparisons see it: strings case-folded, everything else bare (an index can serve it)."""
        return _AsciiLower(self.column) if self.kind == "string" else self.column

    def bound(self, value: Value) -> ColumnElement[Any]:
        """A value already converted to this column's kind, as a bound parameter of the column's type."""
        if isinstance(value, str):
            return literal(_ascii_lower(value), String())
        if isinstance(value, Decimal) and self.kind == "integer":
            return literal(value, Numeric())
        return literal(value, self.column.type)


def _unknown() -> ColumnElement[bool]:
    """SQL's third truth value, what a comparison with NULL is: NOT of it is not true either."""
    return cast(null(), Boolean)


_COMPARISONS = {exp.EQ: operator.eq, exp.NEQ: operator.ne, exp.LT: operator.lt, exp.LTE: operator.le,
                exp.GT: operator.gt, exp.GTE: operator.ge}
_MIRRORED = {operator.eq: operator.eq, operator.ne: operator.ne, operator.lt: operator.gt, operator.gt: operator.lt,
             operator.le: operator.ge, operator.ge: operator.le}

# DATEADD's dateparts and their abbreviations (as SQL Server lists them): a number of months or a time span.
_DATE_PARTS: dict[str, int | timedelta] = {
    **dict.fromkeys(("YEAR", "YY", "YYYY"), 12),
    **dict.fromkeys(("QUARTER", "QQ", "Q"), 3),
    **dict.fromkeys(("MONTH", "MM", "M"), 1),
    **dict.fromkeys(("DAY", "DD", "D", "DAYOFYEAR", "DY", "Y", "WEEKDAY", "DW", "W"), timedelta(days=1)),
    **dict.fromkeys(("WEEK", "WK", "WW"), timedelta(weeks=1)),
    **dict.fromkeys(("HOUR", "HH"), timedelta(hours=1)),
    **dict.fromkeys(("MINUTE", "MI", "N"), timedelta(minutes=1)),
    **dict.fromkeys(("SECOND", "SS", "S"), timedelta(seconds=1)),
    **dict.fromkeys(("MILLISECOND", "MS"), timedelta(milliseconds=1)),
}
# The clock's names sqlglot does not read as CURRENT_TIMESTAMP (which GETDATE() is to it) but as unknown functions.
_CLOCK_FUNCTIONS = ("GETDATE", "GETUTCDATE", "SYSDATETIME")


class _Condition:
    """szWhereClause translated from its T-SQL syntax tree, one whitelisted node at a time."""

    def __init__(self, names: _ColumnNames, now: datetime, parameters: Mapping[str, Value] | None = None) -> None:
        self.names = names
        self.now = now
        self.parameters = parameters

    def parse(self, where_clause: str | None) -> ColumnElement[bool] | None:
        text = (where_clause or "").strip()
        if not text:
            return None
        tree = _parsed(text, exp.Condition)
        try:
            return self.condition(tree)
        finally:
            # The tree is done with: its nodes refer to their parents, a cycle left for the garbage collector
            # otherwise (see tests/integration/test_reference_cycles.py).
            for node in tree.walk():
                node.parent = None

    def condition(self, node: exp.Expression) -> ColumnElement[bool]:
        if isinstance(node, exp.Paren):
            return self.condition(node.this)
        if isinstance(node, exp.And):
            return and_(self.condition(node.this), self.condition(node.expression))
        if isinstance(node, exp.Or):
            return or_(self.condition(node.this), self.condition(node.expression))
        if isinstance(node, exp.Not):
            return not_(self.condition(node.this))
        predicate = self.predicate(node)
        return not_(predicate) if node.args.get("negate") else predicate

    def predicate(self, node: exp.Expression) -> ColumnElement[bool]:
        compare = _COMPARISONS.get(type(node))
        if compare is not None:
            return self.compare(compare, self.operand(node.this), self.operand(node.expression))
        if isinstance(node, exp.Is) and isinstance(node.expression, exp.Null):
            subject = self.operand(node.this)
            if isinstance(subject, _ColumnOperand):
                return subject.column.is_(None)
            return true() if subject is None else false()
        if isinstance(node, exp.In) and not any(node.args.get(arg) for arg in ("query", "unnest", "field")):
            subject = self.column(node.this)
            return subject.compared.in_([subject.bound(_as_kind(self.value(item), subject.kind))
                                         for item in node.expressions])
        if isinstance(node, exp.Between):
            subject = self.column(node.this)
            return and_(self.compare(operator.ge, subject, self.value(node.args["low"])),
                        self.compare(operator.le, subject, self.value(node.args["high"])))
        if isinstance(node, exp.Like):
            return self.like(node, escape=None)
        if isinstance(node, exp.Escape) and isinstance(node.this, exp.Like):
            escape = self.value(node.expression)
            if not isinstance(escape, str) or len(escape) != 1:
                raise InvalidInput(f'The invalid escape character "{escape}" was specified in a LIKE predicate.')
            like = self.like(node.this, escape)
            return not_(like) if node.this.args.get("negate") else like
        raise InvalidInput(INVALID_QUERY)

    def compare(self, compare: Callable[[Any, Any], Any], left: _ColumnOperand | Value,
                right: _ColumnOperand | Value) -> ColumnElement[bool]:
        if isinstance(right, _ColumnOperand) and not isinstance(left, _ColumnOperand):
            left, right, compare = right, left, _MIRRORED[compare]
        if isinstance(left, _ColumnOperand) and isinstance(right, _ColumnOperand):
            if left.kind is None or (left.kind != right.kind and {left.kind, right.kind} != {"integer", "decimal"}):
                raise InvalidInput(INVALID_QUERY)
            return compare(left.compared, right.compared)
        if isinstance(left, _ColumnOperand):
            value = _as_kind(right, left.kind)
            return _unknown() if value is None else compare(left.compared, left.bound(value))
        # Two values (1=1): decided here, converted as SQL Server would, strings case-insensitively.
        if left is None or right is None:
            return _unknown()
        kind = max(_value_kind(left), _value_kind(right), key=_VALUE_PRECEDENCE.index)
        left, right = _as_kind(left, kind), _as_kind(right, kind)
        if kind == "string":
            left, right = _ascii_lower(left), _ascii_lower(right)
        return true() if compare(left, right) else false()

    def like(self, node: exp.Like, escape: str | None) -> ColumnElement[bool]:
        subject = self.column(node.this)
        pattern = self.value(node.expression)
        if subject.kind != "string" or not isinstance(pattern, (str, type(None))):
            raise InvalidInput(INVALID_QUERY)
        if pattern is None:
            return _unknown()
        return subject.compared.like(_ascii_lower(_like_pattern(pattern, escape)), escape=_LIKE_ESCAPE)

    def operand(self, node: exp.Expression) -> _ColumnOperand | Value:
        if isinstance(node, exp.Paren):
            return self.operand(node.this)
        if isinstance(node, exp.Column):
            return self.column(node)
        return self.value(node)

    def column(self, node: exp.Expression) -> _ColumnOperand:
        if not isinstance(node, exp.Column) or _is_star(node):
            raise InvalidInput(INVALID_QUERY)
        column = self.names.queryable.columns[self.names.resolve(node)]
        return _ColumnOperand(column, _kind_of(column))

    def value(self, node: exp.Expression) -> Value:
        if isinstance(node, exp.Paren):
            return self.value(node.this)
        if isinstance(node, exp.Literal):
            return node.this if node.is_string else _number(node.this)
        if isinstance(node, exp.National):
            return node.this
        if isinstance(node, exp.Neg):
            number = self.value(node.this)
            if isinstance(number, (int, Decimal)):
                return -number
        if isinstance(node, exp.Null):
            return None
        if isinstance(node, exp.CurrentTimestamp) and not node.this:
            return self.now
        if isinstance(node, exp.Anonymous) and node.name.upper() in _CLOCK_FUNCTIONS and not node.expressions:
            return self.now
        if isinstance(node, exp.DateAdd):
            return self.date_add(node)
        if isinstance(node, exp.Parameter) and self.parameters is not None:
            try:
                return self.parameters[node.name.lower()]
            except KeyError:
                raise InvalidInput(f'Must declare the scalar variable "@{node.name}".') from None
        raise InvalidInput(INVALID_QUERY)

    def date_add(self, node: exp.DateAdd) -> datetime | None:
        """DATEADD(datepart, number, date), as SQL Server computes it: a month added to 31 January is 29 February."""
        part = _DATE_PARTS.get(node.text("unit").upper())
        if part is None:
            raise InvalidInput(INVALID_QUERY)
        number = _as_kind(self.value(node.expression), "integer")
        moment = _as_kind(self.value(node.this), "datetime")
        if number is None or moment is None:
            return None
        try:
            if isinstance(part, timedelta):
                return moment + part * int(number)
            months = moment.month - 1 + part * int(number)
            year, month = moment.year + months // 12, months % 12 + 1
            return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))
        except (OverflowError, ValueError):
            raise InvalidInput("Adding a value to a 'datetime' column caused an overflow.") from None


def read_value(text: str, kind: str) -> Value:
    """A parameter's text read as a value compared with a `kind` column is (string, guid, datetime, integer,
    decimal, boolean), or SQL Server's conversion error."""
    return _as_kind(text, kind)


def sql_type_name(column: ColumnElement[Any]) -> str | None:
    """SQL Server's name for a column's type, as its messages give it."""
    return _SQL_TYPE_NAMES.get(_kind_of(column) or "")


def parameter_uses(where_clause: str) -> dict[str, tuple[str, str | None]]:
    """Each `@name` of a tenant's where clause (by name in lower case): the comparison it stands in (sqlglot's node:
    EQ, GT, Like, In …) and the column compared with it."""
    if not where_clause.strip():
        return {}
    tree = _parsed(where_clause, exp.Condition)
    uses: dict[str, tuple[str, str | None]] = {}
    for node in tree.find_all(exp.Parameter):
        comparison = node.parent
        while isinstance(comparison, exp.Paren):
            comparison = comparison.parent
        sides = [comparison.this, *comparison.args.get("expressions", []), comparison.args.get("expression")]
        column = next((side for side in sides if isinstance(side, exp.Column)), None)
        uses.setdefault(node.name.lower(), (type(comparison).__name__, None if column is None else column.name))
    for node in tree.walk():  # as _Condition.parse does: no cycle left for the garbage collector
        node.parent = None
    return uses


def _number(text: str) -> int | Decimal:
    try:
        return read_integer(text) if text.isdigit() else Decimal(text)
    except ValueError:  # more digits than any integer holds, as SQL Server refuses a literal past 38
        raise InvalidInput(f"The number '{text}' is out of the range for numeric representation "
                           "(maximum precision 38).") from None


def _like_pattern(pattern: str, escape: str | None) -> str:
    """A T-SQL LIKE pattern rewritten for LIKE … ESCAPE '\\' on SQLite and PostgreSQL: % and _ stay wildcards, a
    character escaped with the client's ESCAPE character or bracketed alone ('[_]') is literal."""
    rewritten = []
    position = 0
    while position < len(pattern):
        character, position = pattern[position], position + 1
        class_end = pattern.find("]", position + 1) if character == "[" else -1
        if character == escape and position < len(pattern):
            character, position = pattern[position], position + 1
        elif class_end != -1:
            if class_end != position + 1 or pattern[position] == "^":
                raise InvalidInput(INVALID_QUERY)  # a set or a range of characters
            character, position = pattern[position], class_end + 1
        elif character in ("%", "_"):
            rewritten.append(character)
            continue
        rewritten.append(_LIKE_ESCAPE + character if character in _LIKE_SPECIAL_CHARACTERS else character)
    return "".join(rewritten)
