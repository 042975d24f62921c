"""Apply pending Alembic migrations, once, even when several gunicorn workers start together."""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config

from app.db import Database
from app.db.locks import exclusive

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"
_PG_LOCK_KEY = 0x5A7A_0001  # any constant shared by every process of this app
# Alembic announces its context ("Context impl SQLiteImpl.") at INFO on every start and every CLI call.
logging.getLogger("alembic").setLevel(logging.WARNING)


def upgrade_to_head(database: Database, lock_path: Path) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with exclusive(database, lock_path, _PG_LOCK_KEY), database.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
