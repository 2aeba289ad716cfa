"""The unit layer's one fixture: a database migrated by alembic (Database.upgrade) with every vendor's demo data,
and each test's work in a transaction of its own, rolled back after it. No server, no HTTP: the domain functions are
called on the connection, as the vendors' operation tables call them.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from unit_support import NOW
from xweb_emulator.db import Database
from xweb_emulator.settings import Settings
from xweb_emulator.vendors import VENDORS


@pytest.fixture(scope="session")
def migrated(tmp_path_factory) -> Iterator[Database]:
    """A fresh SQLite file, migrated, with the configured users and the demo data of every vendor."""
    database = Database(f"sqlite:///{tmp_path_factory.mktemp('unit') / 'xweb-emulator.db'}")
    database.upgrade()
    settings = Settings(database_url=database.url)
    with database.transaction() as session:
        for vendor in VENDORS:
            vendor(vendor.settled(settings)).prepare(session, NOW, demo_data=True)
    yield database
    database.dispose()


@pytest.fixture
def connection(migrated: Database) -> Iterator[Connection]:
    """A connection to the migrated database whose writes are rolled back when the test ends."""
    with migrated.engine.connect() as connection:
        transaction = connection.begin()
        yield connection
        transaction.rollback()


@pytest.fixture
def session(connection: Connection) -> Iterator[Session]:
    """A session over `connection` (the vendors whose domain functions take one), within its transaction."""
    with Session(bind=connection, join_transaction_mode="create_savepoint") as session:
        yield session
