"""Single-flight locks: one writer per key at a time across processes, and across hosts on PostgreSQL.

The threads of one process never queue here twice for a key: the cache's in-process flights (`live`)
let one thread per key and process take the lock while the others follow it. So a lock here is between
processes: an flock() of a file per key under CACHE_PATH/.locks (one host, SQLite), or a PostgreSQL
advisory lock keyed by a hash of the key on a connection of its own held while the leader writes (every
host sharing the database; a process that dies ends its session, and the lock goes with it).
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from app.db import Database
from app.services.cache.files import remove_older_than

log = logging.getLogger("app.cache")

Release = Callable[[], None]


@dataclass(frozen=True)
class Held:
    """A lock this caller holds: `release` lets it go (any thread may call it, once)."""

    release: Release
    waited: bool  # another process held it first


class KeyLocks(Protocol):
    def acquire(self, key: str, timeout: float) -> Held | None:
        """Wait until this caller holds `key`, at most `timeout` seconds; None when the time ran out."""
        ...

    def remove_stale(self, older_than_seconds: float) -> int:
        """Leftovers of locks nobody took for a while; returns how many went."""
        ...

    def close(self) -> None: ...


def key_locks(database: Database, lock_dir: Path) -> KeyLocks:
    """Advisory locks when the index is on PostgreSQL (the hosts sharing it see each other), file locks
    on one host otherwise."""
    if database.engine.dialect.name == "postgresql":
        return AdvisoryLocks(database)
    return FileLocks(lock_dir)


class FileLocks:
    """flock() of `<lock_dir>/<key[:2]>/<key>.lock`: a blocking wait in the kernel, no polling."""

    def __init__(self, lock_dir: Path):
        self.lock_dir = lock_dir

    def acquire(self, key: str, timeout: float) -> Held | None:
        path = self.lock_dir / key[:2] / f"{key}.lock"
        waited = False
        while True:
            descriptor = _open_lock_file(path)
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                waited = True
                if not _flock_within(descriptor, timeout):
                    return None  # the helper closes the descriptor if it gets the lock later
            if os.fstat(descriptor).st_nlink:
                return Held(_file_release(descriptor), waited)
            os.close(descriptor)  # `remove_stale` unlinked it while we waited: lock the new one

    def remove_stale(self, older_than_seconds: float) -> int:
        """Lock files of keys nobody wrote for a while. A waiter that still holds an unlinked file
        notices (no links left) and locks the new file instead."""
        if not self.lock_dir.is_dir():
            return 0
        return remove_older_than(self.lock_dir.glob("*/*.lock"), older_than_seconds)

    def close(self) -> None:
        pass


def _open_lock_file(path: Path) -> int:
    while True:
        try:
            return os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except FileNotFoundError:
            path.parent.mkdir(parents=True, exist_ok=True)


def _flock_within(descriptor: int, timeout: float) -> bool:
    """flock() has no timeout: a helper thread blocks in it (without the GIL) while we wait on an event
    for at most `timeout`; if we stop waiting first, the helper lets the lock go as soon as it gets it."""
    acquired, guard = threading.Event(), threading.Lock()
    abandoned = False

    def wait() -> None:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        with guard:
            if abandoned:
                fcntl.flock(descriptor, fcntl.LOCK_UN)
                os.close(descriptor)
            else:
                acquired.set()

    threading.Thread(target=wait, name="cache-lock-wait", daemon=True).start()
    if acquired.wait(timeout):
        return True
    with guard:
        if acquired.is_set():
            return True
        abandoned = True
        return False


def _file_release(descriptor: int) -> Release:
    def release() -> None:
        fcntl.flock(descriptor, fcntl.LOCK_UN)
        os.close(descriptor)

    return release


class AdvisoryLocks:
    """pg_advisory_lock on a hash of the key. Each holder has a connection of its own from a pool kept
    for locks only (in autocommit: never idle in a transaction while the leader synthesizes), so a long
    synthesis never takes a connection the index needs."""

    def __init__(self, database: Database, pool_size: int = 4, max_overflow: int = 60):
        self.database = database
        self._pool_size, self._max_overflow = pool_size, max_overflow
        self._engine: Engine | None = None  # created on first use: after gunicorn forks
        self._engine_lock = threading.Lock()

    @property
    def engine(self) -> Engine:
        with self._engine_lock:
            if self._engine is None:
                self._engine = create_engine(
                    self.database.engine.url,
                    pool_pre_ping=True,
                    pool_size=self._pool_size,
                    max_overflow=self._max_overflow,
                    isolation_level="AUTOCOMMIT",
                )
            return self._engine

    def acquire(self, key: str, timeout: float) -> Held | None:
        lock_id = advisory_lock_id(key)
        connection = self.engine.connect()
        try:
            # The common case (nobody else writes this key) costs one round trip.
            if connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": lock_id}).scalar_one():
                return Held(self._release(connection, lock_id), waited=False)
            milliseconds = max(1, int(timeout * 1000))
            connection.execute(text(f"SET lock_timeout = {milliseconds}"))  # an int we computed: no injection
            try:
                connection.execute(text("SELECT pg_advisory_lock(:k)"), {"k": lock_id})
            except DBAPIError as exc:
                if getattr(exc.orig, "sqlstate", None) != "55P03":  # lock_not_available: the time ran out
                    raise
                connection.close()
                return None
            connection.execute(text("SET lock_timeout = 0"))
        except BaseException:
            connection.invalidate()  # whatever state the session is in, it leaves with its locks
            connection.close()
            raise
        return Held(self._release(connection, lock_id), waited=True)

    @staticmethod
    def _release(connection: Connection, lock_id: int) -> Release:
        def release() -> None:
            try:
                connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": lock_id})
            except SQLAlchemyError:
                log.warning("could not release a cache lock; dropping its connection", exc_info=True)
                connection.invalidate()  # the session ends, and its locks with it
            finally:
                connection.close()

        return release

    def remove_stale(self, older_than_seconds: float) -> int:
        return 0  # advisory locks leave nothing behind

    def close(self) -> None:
        with self._engine_lock:
            engine, self._engine = self._engine, None
        if engine is not None:
            engine.dispose()


_NAMESPACE = b"sayna-synthesis-cache:"  # keeps these ids apart from the app's other advisory locks


def advisory_lock_id(key: str) -> int:
    """A signed 64-bit id from the key (two keys sharing one only queue behind each other)."""
    digest = hashlib.sha256(_NAMESPACE + key.encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)
