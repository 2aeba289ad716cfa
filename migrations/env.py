"""Alembic environment: the emulator's schema is these migrations and nothing else.

Run through `xweb-emulator db upgrade` (or on server start), which hands over a connection; plain `alembic` use
with a URL in `sqlalchemy.url` works too.
"""

from alembic import context
from sqlalchemy import create_engine

import xweb_emulator.xweb.models  # noqa: F401  (registers the tables on Base.metadata)
from xweb_emulator.db import Base

target_metadata = Base.metadata


def _run(connection) -> None:
    # SQLite cannot ALTER most things in place: batch mode recreates tables where a migration needs it.
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    with create_engine(context.config.get_main_option("sqlalchemy.url")).connect() as own_connection:
        _run(own_connection)
