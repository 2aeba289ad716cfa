"""Alembic environment: the emulator's schema is these migrations and nothing else.

Run through `xweb-emulator db upgrade` (or on server start), which hands over a connection; plain `alembic` use
with a URL in `sqlalchemy.url` works too.

Each vendor's tables, and the control plane's, are a branch of their own (branch labels xweb, emulator, sap, crmcom):
a vendor's migrations never wait on another's, and `upgrade heads` brings every branch up to date.
"""

from alembic import context
from sqlalchemy import create_engine

# Importing the vendors and the emulator's own models registers every table on Base.metadata.
import xweb_emulator.models  # noqa: F401
import xweb_emulator.vendors  # noqa: F401
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
