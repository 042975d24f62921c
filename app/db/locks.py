"""Locks that serialise a job across processes, and across hosts sharing one PostgreSQL database."""

from __future__ import annotations

import fcntl
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text

from app.db import Database


@contextmanager
def exclusive(database: Database, lock_path: Path, key: int):
    """Serialise a job across processes (and hosts sharing PostgreSQL): a PostgreSQL advisory lock on
    `key`, or a file lock on `lock_path` for SQLite."""
    if database.engine.dialect.name == "postgresql":
        with database.engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
        return
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
