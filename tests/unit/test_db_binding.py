"""db.Prepared binds a bulk call's rows a column at a time (_Compiled.bound_many), each distinct value processed once
and the one value of every row (the call's time, a flag) once for all; the rows bind as each bound on its own would.
"""

from __future__ import annotations

from datetime import datetime

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import JSON, Boolean, Column, DateTime, Integer, MetaData, String, Table, bindparam, create_engine, \
    update

from xweb_emulator.db import Prepared

THINGS = Table("unit_binding_thing", MetaData(), Column("key", Integer, primary_key=True), Column("flag", Boolean),
               Column("at", DateTime), Column("name", String(20)), Column("document", JSON))
STATEMENT = Prepared(update(THINGS).where(THINGS.c.key == bindparam("wanted")).values(
    flag=bindparam("flag"), at=bindparam("at"), name=bindparam("name"), document=bindparam("document")))
NOW = datetime(2026, 12, 7, 10, 11, 12, 345678)

# Shared objects (the one NOW, True), values equal but of other types (1, 1.0 and True), and documents equal in
# content but written in another order.
values = {
    "flag": st.sampled_from([True, False, None, 1, 0]),
    "at": st.sampled_from([NOW, None, datetime(2026, 12, 7, 10, 11, 12, 345678), datetime(2000, 1, 1)]),
    "name": st.sampled_from(["a", "b", None, ""]),
    "document": st.sampled_from([{"a": 1, "b": 2}, {"b": 2, "a": 1}, [1], None, 1, 1.0, True]),
}
rows = st.lists(st.fixed_dictionaries({"wanted": st.integers(0, 3), **values}), min_size=1, max_size=6)


@given(rows)
def test_rows_bound_together_bind_as_each_bound_on_its_own(drawn):
    compiled = STATEMENT.compile_for(create_engine("sqlite://").dialect)

    assert compiled.bound_many(drawn) == [compiled.bound(row) for row in drawn]

