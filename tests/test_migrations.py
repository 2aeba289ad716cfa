"""The Alembic migrations are the only source of the schema: they must build exactly what the models declare."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from xweb_emulator.db import Base, alembic_config


def test_migrated_schema_is_what_the_models_declare(served):
    with served.emulator.database.engine.connect() as connection:
        context = MigrationContext.configure(connection)
        differences = compare_metadata(context, Base.metadata)
        revisions = context.get_current_heads()

    assert differences == [], "the models and the migrations disagree: write a migration"
    assert sorted(revisions) == sorted(ScriptDirectory.from_config(alembic_config()).get_heads())
