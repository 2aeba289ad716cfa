"""The Alembic migrations are the only source of the schema: they must build exactly what the models declare."""

from __future__ import annotations

import uuid
from datetime import datetime

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from sqlalchemy import text

from xweb_emulator.db import Base, Database, alembic_config


def test_migrated_schema_is_what_the_models_declare(served):
    with served.emulator.database.engine.connect() as connection:
        context = MigrationContext.configure(connection)
        differences = compare_metadata(context, Base.metadata)
        revisions = context.get_current_heads()

    assert differences == [], "the models and the migrations disagree: write a migration"
    assert sorted(revisions) == sorted(ScriptDirectory.from_config(alembic_config()).get_heads())


def test_customers_stored_before_numbering_are_numbered_after_the_highest_number(tmp_path):
    """0003_xweb numbers the customers a database holds without numbers, in the order they were added, after any
    number a seed gave, as new customers are numbered."""
    database = Database(f"sqlite:///{tmp_path / 'numbered.db'}")
    try:
        with database.writing() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, "0002_xweb")
            customers = [(uuid.uuid4(), "Individual", None, None, datetime(2026, 1, 2)),
                         (uuid.uuid4(), "Organization", None, None, datetime(2026, 1, 1)),
                         (uuid.uuid4(), "Individual", "SEEDED", 7, datetime(2025, 1, 1))]
            for key, kind, customer_id, number, added in customers:
                connection.execute(text("INSERT INTO co_customer (cst_key, cst_type, cst_id, cst_recno, cst_add_date, "
                                        "cst_member_flag, cst_no_email_flag, cst_no_phone_flag, cst_delete_flag) VALUES "
                                        "(:key, :kind, :id, :number, :added, 0, 0, 0, 0)"),
                                   {"key": key.hex, "kind": kind, "id": customer_id, "number": number,
                                    "added": added.strftime("%Y-%m-%d %H:%M:%S.%f")})  # as SQLAlchemy stores it
            connection.commit()
        database.upgrade()
        with database.engine.connect() as connection:
            numbered = dict(connection.execute(text("SELECT cst_key, cst_id FROM co_customer")).all())
        (individual, organization, seeded) = (key.hex for key, *_ in customers)
        assert numbered == {organization: "000000008O", individual: "000000009I", seeded: "SEEDED"}
    finally:
        database.dispose()
