"""Apply pending Alembic migrations, once, even when several gunicorn workers start together."""
from __future__ import annotations

import fcntl
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text

from app.db import Database

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"
_PG_LOCK_KEY = 0x5A7A_0001  # any constant shared by every process of this app


def upgrade_to_head(database: Database, lock_path: Path) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with _exclusive(database, lock_path), database.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


@contextmanager
def _exclusive(database: Database, lock_path: Path):
    """Serialise migrations across processes: a PostgreSQL advisory lock, or a file lock for SQLite."""
    if database.engine.dialect.name == "postgresql":
        with database.engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _PG_LOCK_KEY})
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_LOCK_KEY})
        return
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
