from alembic import context

from app.db import (
    Base,
    models,  # noqa: F401  (registers the tables on Base.metadata)
)

config = context.config


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:  # `alembic upgrade head` from the command line
        from app.db import Database
        from app.settings import Settings

        database = Database(Settings.from_env().database_url)
        with database.engine.begin() as connection:
            _run(connection)
        return
    _run(connection)


def _run(connection) -> None:
    context.configure(
        connection=connection, target_metadata=Base.metadata, render_as_batch=connection.dialect.name == "sqlite"
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
