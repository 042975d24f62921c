"""The migrations build exactly the schema the models declare, on SQLite and on PostgreSQL
(TEST_DATABASE_URL): a model change without its migration fails here, not on a production upgrade."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from app.db import (
    Base,
    Database,
    models,  # noqa: F401  (registers the tables on Base.metadata)
)
from app.db.migrate import upgrade_to_head


def test_the_migrated_schema_matches_the_models(database_url, tmp_path):
    database = Database(database_url)
    try:
        upgrade_to_head(database, tmp_path / "migrate.lock")
        with database.engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "compare_server_default": True}
            )
            differences = compare_metadata(context, Base.metadata)
    finally:
        database.dispose()
    assert differences == []
