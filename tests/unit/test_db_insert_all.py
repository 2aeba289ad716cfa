"""db.insert_all: rows inserted in one executemany store what Connection.execute's INSERT of the same rows stores,
though the statement leaves out the columns no row names that would be null anyway."""

from __future__ import annotations

import uuid

from sqlalchemy import Column, Integer, MetaData, String, Table, Uuid, select, text

from xweb_emulator.db import insert_all

METADATA = MetaData()
THINGS = Table(
    "unit_insert_all_thing", METADATA,
    Column("key", Uuid, primary_key=True),
    Column("name", String(20)),
    Column("note", String(20)),  # no default: left out of the statement where no row names it
    Column("count", Integer, default=7),  # a Python-side default: bound
    Column("kind", String(10), server_default=text("'plain'")),  # a default of the database's: bound (null)
    Column("made_by", String(20)),
)


def stored(connection) -> list[tuple]:
    return [tuple(row) for row in connection.execute(select(THINGS).order_by(THINGS.c.name))]


def test_rows_store_what_an_insert_of_the_same_rows_stores(connection):
    METADATA.create_all(connection)
    rows = [{"key": uuid.uuid4(), "name": "a"}, {"key": uuid.uuid4(), "name": "b", "count": 3}]

    insert_all(connection, THINGS, [dict(row) for row in rows], {"made_by": "clerk"})
    by_insert_all = stored(connection)
    connection.execute(THINGS.delete())
    for row in rows:
        connection.execute(THINGS.insert(), {**row, "made_by": "clerk", "kind": None})

    assert by_insert_all == stored(connection) == [
        (rows[0]["key"], "a", None, 7, None, "clerk"), (rows[1]["key"], "b", None, 3, None, "clerk")]


def test_a_column_a_row_names_is_bound_in_every_row(connection):
    METADATA.create_all(connection)
    keys = [uuid.uuid4(), uuid.uuid4()]

    insert_all(connection, THINGS, [{"key": keys[0], "name": "a", "note": "noted"}, {"key": keys[1], "name": "b"}],
               {})

    assert [(key, note) for key, _name, note, *_rest in stored(connection)] == [(keys[0], "noted"), (keys[1], None)]
