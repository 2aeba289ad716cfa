"""GetQuery's query building (xweb_emulator.xweb.query): each rule made to fire, and the statements run on SQLite and
on a real PostgreSQL server, which must answer the same rows in the same order.

The tables are this test's own (metadata.create_all), not the application's schema: the module is pure logic.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa

from xweb_emulator.xweb.errors import InvalidInput
from xweb_emulator.xweb.query import INVALID_QUERY, STAR_NOT_ALLOWED, ObjectName, QueryableObject, build_query, \
    parse_object_name
from xweb_emulator.xweb.values import GuidAsStored, format_stored_guid

NOW = datetime(2026, 1, 31, 12, 0, 0)

metadata = sa.MetaData()
customers = sa.Table(
    "qt_customer", metadata,
    sa.Column("cst_key", sa.Uuid, primary_key=True),
    sa.Column("cst_name", sa.String(50)),
    sa.Column("cst_recno", sa.Integer),
    sa.Column("cst_member_flag", sa.SmallInteger, nullable=False),
    sa.Column("cst_active", sa.Boolean),
    sa.Column("cst_balance", sa.Numeric(10, 2)),
    sa.Column("cst_change_date", sa.DateTime),
    sa.Column("cst_eml_key", sa.Uuid),
)
emails = sa.Table(
    "qt_email", metadata,
    sa.Column("eml_key", sa.Uuid, primary_key=True),
    sa.Column("eml_cst_key", sa.ForeignKey("qt_customer.cst_key")),
    sa.Column("eml_address", sa.String(80)),
)

# Keys whose byte order is not the rows' order by any other column. In key order: obrien, jonesy, jones, under, axb,
# path, emile, nobody, smith.
KEYS = {
    "smith": uuid.UUID("f0000000-0000-4000-8000-000000000001"),
    "obrien": uuid.UUID("10000000-0000-4000-8000-00000000000f"),
    "jones": uuid.UUID("3c000000-0000-4000-8000-000000000002"),
    "jonesy": uuid.UUID("3b000000-0000-4000-8000-000000000003"),
    "emile": uuid.UUID("a0000000-0000-4000-8000-000000000004"),
    "under": uuid.UUID("5a000000-0000-4000-8000-000000000005"),
    "axb": uuid.UUID("5b000000-0000-4000-8000-000000000006"),
    "path": uuid.UUID("9d000000-0000-4000-8000-000000000007"),
    "nobody": uuid.UUID("c0000000-0000-4000-8000-000000000008"),
}
LABELS = {key: label for label, key in KEYS.items()}
IN_KEY_ORDER = sorted(KEYS, key=lambda label: KEYS[label].bytes)
SMITH_EMAIL_KEY = uuid.UUID("e0000000-0000-4000-8000-0000000000e1")


def _customer(label: str, name: str | None, recno: int | None, flag: int, active: bool | None,
              balance: str | None, changed: datetime | None) -> dict:
    return {"cst_key": KEYS[label], "cst_name": name, "cst_recno": recno, "cst_member_flag": flag,
            "cst_active": active, "cst_balance": None if balance is None else Decimal(balance),
            "cst_change_date": changed, "cst_eml_key": SMITH_EMAIL_KEY if label == "smith" else None}


CUSTOMERS = [
    _customer("smith", "Smith", 1, 1, True, "20.00", datetime(2024, 3, 1, 10, 0, 0)),
    _customer("obrien", "O'Brien", 2, 0, False, "10.50", datetime(2024, 3, 1, 13, 7, 8)),
    _customer("jones", "JONES", 3, 1, True, "5.25", datetime(2024, 2, 15)),
    _customer("jonesy", "jones", 4, 0, None, "-2.00", datetime(2026, 1, 15, 8, 0, 0)),
    _customer("emile", "Émile", 5, 0, False, "0.00", datetime(2026, 2, 10)),
    _customer("under", "A_B 100%", 6, 0, True, "1.00", datetime(2023, 12, 31, 23, 59, 59)),
    _customer("axb", "AXB 1", 7, 0, True, "2.00", datetime(2024, 1, 1)),
    _customer("path", "C:\\temp", 8, 0, False, "3.00", datetime(2024, 1, 2)),
    _customer("nobody", None, None, 0, None, None, None),
]
EMAILS = [
    {"eml_key": SMITH_EMAIL_KEY, "eml_cst_key": KEYS["smith"], "eml_address": "smith@example.com"},
    {"eml_key": uuid.UUID("e0000000-0000-4000-8000-0000000000e2"), "eml_cst_key": KEYS["jones"],
     "eml_address": "JONES@example.com"},
]

CUSTOMER = QueryableObject.of_table("Customer", customers, ("cst_name", "cst_recno"))
email = emails.alias("Email")
CUSTOMER_EMAIL = QueryableObject(
    "CustomerEmail",
    customers.join(email, email.c.eml_cst_key == customers.c.cst_key),
    {**{column.name: column for column in email.c}, "cst_name": customers.c.cst_name},
    "eml_key",
    ("eml_address", "cst_name"),
)
OBJECTS = {queryable.name.lower(): queryable for queryable in (CUSTOMER, CUSTOMER_EMAIL)}


def find_object(name: str) -> QueryableObject:
    try:
        return OBJECTS[name.lower()]
    except KeyError:
        raise InvalidInput(f"Invalid object name '{name}'.") from None


def query(object_name: str = "Customer", column_list: str = "", where_clause: str = "", order_by: str = "",
          default_row_cap: int = -1):
    return build_query(find_object, object_name, column_list, where_clause, order_by,
                       default_row_cap=default_row_cap, now=NOW)


def refused(message: str, **parts: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        query(**parts)
    assert raised.value.message == message


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def database(request, tmp_path_factory) -> Iterator[sa.Engine]:
    """The test tables with their rows, in an SQLite file or in a database of its own on the suite's PostgreSQL."""
    if request.param == "sqlite":
        url = sa.make_url(f"sqlite:///{tmp_path_factory.mktemp('query') / 'query.db'}")
    else:
        server = sa.make_url(request.getfixturevalue("postgresql_url"))
        administration = sa.create_engine(server, isolation_level="AUTOCOMMIT")
        with administration.connect() as connection:
            connection.exec_driver_sql("DROP DATABASE IF EXISTS xweb_query_test")
            connection.exec_driver_sql("CREATE DATABASE xweb_query_test")
        administration.dispose()
        url = server.set(database="xweb_query_test")
    engine = sa.create_engine(url)
    metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(customers.insert(), CUSTOMERS)
        connection.execute(emails.insert(), EMAILS)
    yield engine
    engine.dispose()


def rows(database: sa.Engine, **parts) -> list[tuple]:
    """The rows a query reads, its GUIDs (selected as the database stores them: GuidAsStored) as uuid.UUID."""
    statement = query(**parts).statement
    guids = [isinstance(column.type, GuidAsStored) for column in statement.selected_columns]
    with database.connect() as connection:
        return [tuple(uuid.UUID(format_stored_guid(value)) if guid and value is not None else value
                      for guid, value in zip(guids, row, strict=True)) for row in connection.execute(statement)]


def labels(database: sa.Engine, **parts) -> list[str]:
    """The customers a Customer query answers, by label, in the order answered."""
    return [LABELS[row[0]] for row in rows(database, **parts)]


# --- szObjectName and @TOP ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("object_name", "default_row_cap", "expected"), [
    ("Individual", 200, ObjectName("Individual", 200)),
    ("Events @TOP -1", 200, ObjectName("Events", None)),
    ("  Organization@top 5 ", 200, ObjectName("Organization", 5)),
    ("Customer @ TOP  0", 200, ObjectName("Customer", 0)),
    ("Customer @Top 10", -1, ObjectName("Customer", 10)),
    ("Customer", -1, ObjectName("Customer", None)),
    (None, 50, ObjectName("", 50)),
])
def test_the_object_name_carries_an_optional_row_cap(object_name, default_row_cap, expected):
    assert parse_object_name(object_name, default_row_cap) == expected


def test_a_top_below_minus_one_is_sql_servers_error():
    refused("A TOP or FETCH clause contains an invalid value.", object_name="Customer @TOP -2")


def test_the_object_is_looked_up_by_its_name_without_the_top():
    asked = []
    build_query(lambda name: asked.append(name) or CUSTOMER, "customer @TOP 5", "", "", "", default_row_cap=-1,
                now=NOW)
    assert asked == ["customer"]


def test_an_unknown_object_is_the_lookups_error():
    refused("Invalid object name 'Nothing'.", object_name="Nothing @TOP 1")


@pytest.mark.parametrize(("object_name", "default_row_cap", "expected"), [
    ("Customer @TOP 2", -1, IN_KEY_ORDER[:2]),
    ("Customer @TOP 0", -1, []),
    ("Customer @TOP -1", 3, IN_KEY_ORDER),
    ("Customer", 3, IN_KEY_ORDER[:3]),
    ("Customer", -1, IN_KEY_ORDER),
])
def test_the_row_cap_limits_the_rows(database, object_name, default_row_cap, expected):
    assert labels(database, object_name=object_name, default_row_cap=default_row_cap) == expected


# --- szColumnList ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("column_list", ["", "   ", None])
def test_no_column_list_answers_the_default_list_with_the_key_first(column_list):
    assert query(column_list=column_list).column_names == ("cst_key", "cst_name", "cst_recno")


def test_a_key_among_the_default_columns_is_answered_once_and_first():
    queryable = QueryableObject.of_table("Customer", customers, ("cst_name", "cst_key"))
    built = build_query(lambda name: queryable, "Customer", "", "", "", default_row_cap=-1, now=NOW)
    assert built.column_names == ("cst_key", "cst_name")


@pytest.mark.parametrize(("column_list", "expected"), [
    ("cst_name, cst_recno", ("cst_key", "cst_name", "cst_recno")),
    ("cst_recno, cst_key", ("cst_recno", "cst_key")),
    ("cst_name AS name, [cst_recno] number, total = cst_balance", ("cst_key", "name", "number", "total")),
    ("CST_NAME, [Cst_Key]", ("CST_NAME", "Cst_Key")),
    ("cst_key AS id, cst_name", ("cst_key", "id", "cst_name")),
    ("qt_customer.cst_name AS [the name]", ("cst_key", "the name")),
    ("cst_name -- and nothing else\n", ("cst_key", "cst_name")),
])
def test_a_column_list_answers_its_columns_under_the_names_written_and_the_key(column_list, expected):
    assert query(column_list=column_list).column_names == expected


def test_the_listed_columns_are_read(database):
    assert rows(database, column_list="cst_name AS n, CST_RECNO", where_clause="cst_recno = 2") == [
        (KEYS["obrien"], "O'Brien", 2)]


def test_a_joined_objects_columns_take_their_own_tables_prefix(database):
    assert rows(database, object_name="CustomerEmail", column_list="Email.eml_address, qt_customer.cst_name",
                where_clause="Email.eml_address LIKE 'smith%'") == [
        (SMITH_EMAIL_KEY, "smith@example.com", "Smith")]
    assert rows(database, object_name="CustomerEmail", column_list="", order_by="cst_name DESC") == [
        (SMITH_EMAIL_KEY, "smith@example.com", "Smith"),
        (EMAILS[1]["eml_key"], "JONES@example.com", "JONES")]


@pytest.mark.parametrize(("column_list", "message"), [
    ("cst_nope", "Invalid column name 'cst_nope'."),
    ("cst_name, [cst name]", "Invalid column name 'cst name'."),
    ("x.cst_name", 'The multi-part identifier "x.cst_name" could not be bound.'),
    ("dbo.qt_customer.cst_name", 'The multi-part identifier "dbo.qt_customer.cst_name" could not be bound.'),
])
def test_a_column_list_may_name_only_the_objects_columns(column_list, message):
    refused(message, column_list=column_list)


@pytest.mark.parametrize(("column_list", "message"), [
    # Aliased, the email table is no longer known by its own name; and a prefix names the column's own table.
    ("qt_email.eml_address", 'The multi-part identifier "qt_email.eml_address" could not be bound.'),
    ("Email.cst_name", "Invalid column name 'cst_name'."),
])
def test_a_prefix_must_be_the_columns_own_table(column_list, message):
    refused(message, object_name="CustomerEmail", column_list=column_list)


@pytest.mark.parametrize("column_list", ["*", " * ", "cst_key, *", "qt_customer.*"])
def test_a_star_column_list_is_the_vendors_error(column_list):
    refused(STAR_NOT_ALLOWED, column_list=column_list)


@pytest.mark.parametrize("column_list", [
    "cst_name FROM qt_email",
    "cst_name; DROP TABLE qt_customer",
    "cst_name, (SELECT 1) AS x",
    "UPPER(cst_name)",
    "cst_recno + 1",
    "'x' AS y",
    "TOP 1 cst_name",
    "DISTINCT cst_name",
    "cst_name,",
    "cst_name /* unterminated",
    "-- no column",
    "cst_entity_key",
])
def test_a_column_list_of_anything_but_columns_is_an_invalid_query(column_list):
    refused(INVALID_QUERY, column_list=column_list)


# --- szWhereClause: what it selects, identically on both databases ------------------------------------------------

WHERE_CLAUSES = [
    ("cst_recno = 2", ["obrien"]),
    ("cst_recno <> 2", ["jonesy", "jones", "under", "axb", "path", "emile", "smith"]),
    ("cst_recno != 2", ["jonesy", "jones", "under", "axb", "path", "emile", "smith"]),
    ("cst_recno < 3", ["obrien", "smith"]),
    ("cst_recno <= 3", ["obrien", "jones", "smith"]),
    ("cst_recno > 6", ["axb", "path"]),
    ("cst_recno >= 6", ["under", "axb", "path"]),
    ("3 > cst_recno", ["obrien", "smith"]),
    # Strings: case-insensitive, quotes doubled, N'' literals, a quote inside a literal stays in it.
    ("cst_name = 'smith'", ["smith"]),
    ("cst_name = 'O''Brien'", ["obrien"]),
    ("cst_name = N'o''BRIEN'", ["obrien"]),
    ("cst_name = 'x'' OR ''1''=''1'", []),
    ("cst_recno = 1 --' OR 1=1", ["smith"]),
    ("cst_name > 'jones'", ["obrien", "emile", "smith"]),
    # Case folding is ASCII's only, on both databases.
    ("cst_name = 'ÉMILE'", ["emile"]),
    ("cst_name = 'émile'", []),
    ("cst_name = 4", []),
    # LIKE, with T-SQL's escapes.
    ("cst_name LIKE 'jo%'", ["jonesy", "jones"]),
    ("cst_name LIKE '_MITH'", ["smith"]),
    ("cst_name NOT LIKE 'j%'", ["obrien", "under", "axb", "path", "emile", "smith"]),
    ("NOT cst_name LIKE 'j%'", ["obrien", "under", "axb", "path", "emile", "smith"]),
    ("cst_name LIKE 'A_B%'", ["under", "axb"]),
    ("cst_name LIKE 'A[_]B%'", ["under"]),
    ("cst_name LIKE '%[%]'", ["under"]),
    ("cst_name LIKE 'a!_b%' ESCAPE '!'", ["under"]),
    ("cst_name LIKE '%!%' ESCAPE '!'", ["under"]),
    ("cst_name LIKE '%[t]emp'", ["path"]),
    ("cst_name NOT LIKE 'a!_b%' ESCAPE '!'", ["obrien", "jonesy", "jones", "axb", "path", "emile", "smith"]),
    ("cst_name LIKE 'c:\\t%'", ["path"]),
    ("cst_name LIKE NULL", []),
    # NULL.
    ("cst_name IS NULL", ["nobody"]),
    ("cst_name IS NOT NULL", ["obrien", "jonesy", "jones", "under", "axb", "path", "emile", "smith"]),
    ("NOT cst_recno IS NULL AND cst_recno < 2", ["smith"]),
    ("cst_recno = NULL", []),
    ("cst_recno <> NULL", []),
    ("NOT (cst_recno = NULL)", []),
    ("NULL IS NULL", IN_KEY_ORDER),
    # IN, BETWEEN, AND / OR / NOT and parentheses.
    ("cst_recno IN (1, 3)", ["jones", "smith"]),
    ("cst_recno NOT IN (1, 3)", ["obrien", "jonesy", "under", "axb", "path", "emile"]),
    ("cst_recno NOT IN (1, NULL)", []),
    ("cst_name IN ('SMITH', 'jones')", ["jonesy", "jones", "smith"]),
    ("cst_recno BETWEEN 2 AND 4", ["obrien", "jonesy", "jones"]),
    ("cst_recno NOT BETWEEN 2 AND 7", ["path", "smith"]),
    ("cst_name BETWEEN 'a' AND 'c'", ["under", "axb"]),
    ("cst_recno = 1 OR (cst_recno = 3 AND cst_member_flag = 1)", ["jones", "smith"]),
    ("NOT (cst_recno = 1 OR cst_recno > 2)", ["obrien"]),
    ("(((cst_recno = 2)))", ["obrien"]),
    ("(cst_recno) = 2", ["obrien"]),
    # Constants, decided before the query runs.
    ("1=1", IN_KEY_ORDER),
    ("1=0", []),
    ("'a' = 'A'", IN_KEY_ORDER),
    ("'2' = 2 AND cst_recno = 1", ["smith"]),
    ("1 = 1 AND cst_recno = 5", ["emile"]),
    # GUIDs: any case, braces and dashes optional, compared as GUIDs.
    ("cst_key = '{F0000000-0000-4000-8000-000000000001}'", ["smith"]),
    ("cst_key = 'f0000000000040008000000000000001'", ["smith"]),
    ("cst_key > '3B000000-0000-4000-8000-000000000003'",
     ["jones", "under", "axb", "path", "emile", "nobody", "smith"]),
    ("cst_key IN ('10000000-0000-4000-8000-00000000000f', 'c0000000-0000-4000-8000-000000000008')",
     ["obrien", "nobody"]),
    ("cst_eml_key = 'e0000000-0000-4000-8000-0000000000e1'", ["smith"]),
    # Dates, ISO or as netFORUM prints them.
    ("cst_change_date = '2024-03-01 10:00:00'", ["smith"]),
    ("cst_change_date = '2024-03-01T10:00:00'", ["smith"]),
    ("cst_change_date = '3/1/2024 10:00:00 AM'", ["smith"]),
    ("cst_change_date = '3/1/2024 1:07:08 PM'", ["obrien"]),
    ("cst_change_date = '2024-02-15'", ["jones"]),
    ("cst_change_date = '2/15/2024'", ["jones"]),
    ("cst_change_date >= '2024-03-01'", ["obrien", "jonesy", "emile", "smith"]),
    ("cst_change_date < '1/1/2024'", ["under"]),
    ("cst_change_date BETWEEN '2024-01-01' AND '2024-01-02'", ["axb", "path"]),
    # The clock is the caller's now.
    ("cst_change_date > GETDATE()", ["emile"]),
    ("cst_change_date > CURRENT_TIMESTAMP", ["emile"]),
    ("cst_change_date > GETUTCDATE()", ["emile"]),
    ("cst_change_date > SYSDATETIME()", ["emile"]),
    ("cst_change_date > DATEADD(day, -30, GETDATE()) AND cst_change_date < GETDATE()", ["jonesy"]),
    ("cst_change_date >= DATEADD(mm, 1, '2024-01-31')", ["obrien", "jonesy", "emile", "smith"]),
    ("DATEADD(month, 1, '2024-01-31') = '2024-02-29' AND cst_recno = 1", ["smith"]),
    ("cst_change_date >= DATEADD(ss, 1, '2023-12-31 23:59:58')", ["under", "jones", "axb", "path", "obrien", "jonesy",
                                                                  "emile", "smith"]),
    # Bits and flags as 0/1 (and 'true'/'false'), numbers as numbers.
    ("cst_active = 1", ["jones", "under", "axb", "smith"]),
    ("cst_active = 'false'", ["obrien", "path", "emile"]),
    ("cst_member_flag = '1'", ["jones", "smith"]),
    ("cst_recno = '2'", ["obrien"]),
    ("cst_recno < 2.5", ["obrien", "smith"]),
    ("cst_balance > 10.5", ["smith"]),
    ("cst_balance = '20.00'", ["smith"]),
    ("cst_balance < -1", ["jonesy"]),
    ("cst_balance < cst_recno", ["jonesy", "under", "axb", "path", "emile"]),
    # Column names in any case, bracketed or prefixed; comments are ignored.
    ("CST_RECNO = 2", ["obrien"]),
    ("[cst_recno] = 2", ["obrien"]),
    ("qt_customer.cst_recno = 2", ["obrien"]),
    ("/* first */ cst_recno = 2 -- only", ["obrien"]),
    ("cst_recno = 2 /* OR 1=1 */", ["obrien"]),
]


@pytest.mark.parametrize(("where_clause", "expected"), WHERE_CLAUSES, ids=[clause for clause, _ in WHERE_CLAUSES])
def test_a_where_clause_selects_the_same_rows_on_every_database(database, where_clause, expected):
    expected_in_key_order = sorted(expected, key=IN_KEY_ORDER.index)
    assert labels(database, where_clause=where_clause) == expected_in_key_order


@pytest.mark.parametrize("where_clause", [
    "cst_name = 'O''Brien'",
    "cst_name = 'x'' OR ''1''=''1'",
    "cst_key = 'f0000000-0000-4000-8000-000000000001'",
    "cst_change_date > '2024-01-01'",
    "cst_recno IN (424242, 434343)",
])
def test_values_are_bound_parameters_never_sql_text(where_clause):
    compiled = query(where_clause=where_clause).statement.compile()
    sql = str(compiled)
    for value in ("brien", "1'='1", "f0000000", "2024", "424242", "434343"):
        assert value not in sql.lower()
    assert compiled.params


def test_strings_are_compared_case_folded_and_keys_bare():
    sql = str(query(where_clause="cst_name = 'x' AND cst_key > 'f0000000-0000-4000-8000-000000000001' "
                                 "AND cst_change_date > '2024-01-01' AND cst_recno > 1").statement.compile())
    assert "lower(qt_customer.cst_name)" in sql
    assert "qt_customer.cst_key >" in sql
    assert "qt_customer.cst_change_date >" in sql
    assert "qt_customer.cst_recno >" in sql


# --- szWhereClause: what is refused --------------------------------------------------------------------------------

@pytest.mark.parametrize("where_clause", [
    # Statements after the condition, or instead of it.
    "cst_recno = 1; DROP TABLE qt_customer",
    "cst_recno = 1;DROP TABLE qt_customer --",
    "cst_recno = 1 -- a comment\n; DROP TABLE qt_customer",
    "cst_recno = 1 /* a comment */ ; DROP TABLE qt_customer",
    "cst_recno = 1 GO DROP TABLE qt_customer",
    "cst_recno = 1; TRUNCATE TABLE qt_customer",
    "cst_recno = 1; WAITFOR DELAY '0:0:5'",
    "cst_recno = 1;",
    "DROP TABLE qt_customer",
    "cst_recno = 1 UNION ALL SELECT cst_key FROM qt_customer",
    "cst_recno = 1 ORDER BY cst_name",
    # The vendor's words, wherever they are.
    "cst_recno IN (SELECT cst_recno FROM qt_customer)",
    "EXISTS (SELECT 1)",
    "EXEC xp_cmdshell 'dir'",
    "cst_recno = 1; EXECUTE sp_who",
    "cst_recno = 1; DELETE FROM qt_customer",
    "cst_recno = 1; INSERT INTO qt_customer (cst_recno) VALUES (9)",
    "cst_recno = 1; UPDATE qt_customer SET cst_recno = 9",
    "cst_name = 'please delete me'",
    "cst_entity_key = 1",
    # Functions and expressions not whitelisted.
    "cst_name = USER_NAME()",
    "cst_name = LOWER('x')",
    "cst_name = SUSER_SNAME()",
    "cst_recno = CAST('1' AS INT)",
    "cst_recno = CONVERT(int, '1')",
    "cst_name = 'a' + 'b'",
    "cst_recno + 1 = 2",
    "cst_name = @name",
    "cst_recno = ?",
    "cst_recno = 0x01",
    "cst_name = 'x' COLLATE Latin1_General_CS_AS",
    "cst_recno = (1, 2)",
    "cst_recno = TRUE",
    "cst_recno <> ALL (1)",
    "cst_change_date = {d '2024-01-01'}",
    "cst_change_date > DATEADD(fortnight, 1, GETDATE())",
    "cst_change_date > GETDATE(1)",
    # Conditions that are not conditions, comparisons SQLite and PostgreSQL cannot make alike.
    "cst_recno",
    "cst_recno = 1 AND",
    "cst_recno = ",
    "",
    "cst_name LIKE '[a-c]%'",
    "cst_name LIKE '[^a]%'",
    "cst_key LIKE 'f%'",
    "cst_name LIKE cst_name",
    "'a' LIKE 'a'",
    "1 IN (1, 2)",
    "cst_recno IN (cst_member_flag)",
    "cst_key = cst_name",
    "cst_name = 'unterminated",
    "/* only a comment */",
])
def test_anything_but_the_whitelisted_where_clause_is_an_invalid_query(where_clause):
    if not where_clause:
        assert query(where_clause=where_clause).statement.whereclause is None
        return
    refused(INVALID_QUERY, where_clause=where_clause)


def test_deeply_nested_parentheses_are_an_invalid_query():
    refused(INVALID_QUERY, where_clause="(" * 5000 + "cst_recno = 1" + ")" * 5000)


@pytest.mark.parametrize(("where_clause", "message"), [
    ("cst_nope = 1", "Invalid column name 'cst_nope'."),
    ("1 = cst_nope", "Invalid column name 'cst_nope'."),
    ('"cst nope" = 1', "Invalid column name 'cst nope'."),
    ("x.cst_recno = 1", 'The multi-part identifier "x.cst_recno" could not be bound.'),
    ("cst_key = 'not-a-guid'", "Conversion failed when converting from a character string to uniqueidentifier."),
    ("cst_key = 5", "Operand type clash: uniqueidentifier is incompatible with int"),
    ("cst_change_date > 'yesterday'", "Conversion failed when converting date and/or time from character string."),
    ("cst_name = GETDATE()", "Conversion failed when converting date and/or time from character string."),
    ("cst_recno = 'abc'", "Conversion failed when converting the varchar value 'abc' to data type int."),
    ("cst_recno = '1.5'", "Conversion failed when converting the varchar value '1.5' to data type int."),
    ("cst_balance = 'abc'", "Error converting data type varchar to numeric."),
    ("cst_active = 'maybe'", "Conversion failed when converting the varchar value 'maybe' to data type bit."),
    ("cst_name LIKE 'a' ESCAPE 'xy'", 'The invalid escape character "xy" was specified in a LIKE predicate.'),
    ("cst_change_date > DATEADD(year, 9000, GETDATE())", "Adding a value to a 'datetime' column caused an overflow."),
])
def test_where_clause_errors_are_worded_as_sql_servers(where_clause, message):
    refused(message, where_clause=where_clause)


# --- szOrderBy -----------------------------------------------------------------------------------------------------

BY_NAME = ["nobody", "under", "axb", "path", "jonesy", "jones", "obrien", "smith", "emile"]

ORDERS = [
    ("", IN_KEY_ORDER),
    ("   ", IN_KEY_ORDER),
    ("cst_key", IN_KEY_ORDER),
    ("cst_key DESC", IN_KEY_ORDER[::-1]),
    ("cst_recno", ["nobody", "smith", "obrien", "jones", "jonesy", "emile", "under", "axb", "path"]),
    ("cst_recno DESC", ["path", "axb", "under", "emile", "jonesy", "jones", "obrien", "smith", "nobody"]),
    # Strings sort case-insensitively, ties by key; NULLs first ascending, last descending.
    ("cst_name", BY_NAME),
    ("cst_name ASC", BY_NAME),
    ("CST_NAME desc", ["emile", "smith", "obrien", "jonesy", "jones", "path", "axb", "under", "nobody"]),
    ("cst_member_flag DESC, [cst_recno] ASC", ["smith", "jones", "nobody", "obrien", "jonesy", "emile", "under",
                                               "axb", "path"]),
    ("qt_customer.cst_change_date", ["nobody", "under", "axb", "path", "jones", "smith", "obrien", "jonesy",
                                     "emile"]),
    ("cst_active, cst_balance DESC", ["jonesy", "nobody", "obrien", "path", "emile", "smith", "jones", "axb",
                                      "under"]),
    ("cst_recno -- and then the key", ["nobody", "smith", "obrien", "jones", "jonesy", "emile", "under", "axb",
                                       "path"]),
]


@pytest.mark.parametrize(("order_by", "expected"), ORDERS, ids=[order or "<empty>" for order, _ in ORDERS])
def test_the_order_is_the_same_on_every_database(database, order_by, expected):
    assert labels(database, order_by=order_by) == expected


def test_the_order_may_name_an_output_alias(database):
    assert labels(database, column_list="cst_recno AS number", order_by="number DESC",
                  where_clause="cst_recno < 4") == ["jones", "obrien", "smith"]


@pytest.mark.parametrize("order_by", [
    "cst_recno; DROP TABLE qt_customer",
    "cst_recno DESC; DROP TABLE qt_customer",
    "(SELECT 1)",
    "1",
    "cst_recno COLLATE Latin1_General_CS_AS",
    "LOWER(cst_name)",
    "cst_recno + 1",
    "cst_recno LIMIT 1",
    "cst_recno OFFSET 1 ROWS",
    "cst_recno,",
    "-- no column",
    "*",
    "cst_entity_key",
])
def test_an_order_of_anything_but_columns_is_an_invalid_query(order_by):
    refused(INVALID_QUERY, order_by=order_by)


@pytest.mark.parametrize(("order_by", "message"), [
    ("cst_nope", "Invalid column name 'cst_nope'."),
    ("x.cst_recno", 'The multi-part identifier "x.cst_recno" could not be bound.'),
])
def test_an_order_may_name_only_the_objects_columns(order_by, message):
    refused(message, order_by=order_by)


# --- Keyset paging -------------------------------------------------------------------------------------------------

def test_keyset_paging_reads_every_row_once_in_key_order(database):
    read: list[str] = []
    where_clause = ""
    while True:
        page = labels(database, object_name="Customer @TOP 2", where_clause=where_clause, order_by="cst_key")
        if not page:
            break
        read += page
        where_clause = f"cst_key > '{KEYS[page[-1]]}'"
    assert read == IN_KEY_ORDER


def test_keyset_paging_is_an_index_range_scan(database):
    statement = query(object_name="Customer @TOP 2", column_list="cst_name",
                      where_clause=f"cst_key > '{KEYS['jones']}'", order_by="cst_key").statement
    sql = str(statement.compile(database, compile_kwargs={"literal_binds": True}))
    with database.connect() as connection:
        if database.dialect.name == "sqlite":
            plan = " ".join(row[-1] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))
            assert "USING INDEX" in plan and "(cst_key>?)" in plan
            assert "TEMP B-TREE" not in plan
        else:
            connection.exec_driver_sql("SET enable_seqscan = off")
            plan = " ".join(row[0] for row in connection.exec_driver_sql(f"EXPLAIN {sql}"))
            assert "Index Scan using qt_customer_pkey" in plan and "Index Cond: (cst_key >" in plan
            assert "Sort" not in plan


# --- The description ---------------------------------------------------------------------------------------------

def test_an_object_must_have_its_key_and_default_columns():
    with pytest.raises(ValueError, match="cst_nope"):
        QueryableObject("Customer", customers, {"cst_key": customers.c.cst_key}, "cst_key", ("cst_nope",))


def test_column_names_are_found_in_any_case():
    assert CUSTOMER.column_named("CST_Name") == "cst_name"
    assert CUSTOMER.column_named("cst_nope") is None


def test_an_object_is_itself_and_no_other():
    same_table = QueryableObject.of_table("Customer", customers, ("cst_name", "cst_recno"))
    assert CUSTOMER == CUSTOMER and CUSTOMER != same_table
    assert len({CUSTOMER, same_table}) == 2
