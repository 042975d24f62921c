"""Single flight between processes: PostgreSQL advisory locks with TEST_DATABASE_URL (what every host
sharing the database sees), flock() on SQLite. Processes are started together on a barrier."""

import hashlib
import multiprocessing
import os
import signal
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from app.db import Database
from app.services.cache import AudioMeta, CachedHit, EntryLabel, PendingEntry, SynthesisCache
from app.services.cache.flight import AdvisoryLocks, FileLocks
from app.settings import CacheSettings

LABEL = EntryLabel(provider="local", voice_id="en-us", model="espeak-ng")
META = AudioMeta("linear16", 24_000, 5)
KEY = "f1" * 32
PROCESSES = 4
pytestmark = pytest.mark.skipif(not os.path.exists("/proc/locks"), reason="reads waiting flocks from /proc/locks")


def _miss(database_url, cache_path, barrier, answers):
    """One process's identical miss: lead (write three chunks and commit) or get the committed hit."""
    database = Database(database_url)
    cache = SynthesisCache(CacheSettings(path=Path(cache_path)), database)
    barrier.wait(60)  # every process imported and its cache built before the first miss
    outcome = cache.begin(KEY, LABEL, deadline=30)
    if isinstance(outcome, PendingEntry):
        with outcome:
            outcome.write(b"first ")
            # every other process is queued on this one's lock before it finishes
            _until(lambda: _blocked_lock_waiters(database, Path(cache_path)) == PROCESSES - 1)
            for part in (b"second ", f"from {os.getpid()}".encode()):
                outcome.write(part)
            outcome.commit(META)
        answers.put(("produced", os.getpid(), None))
    else:
        assert isinstance(outcome, CachedHit)
        with outcome.file as handle:
            answers.put(("hit", os.getpid(), hashlib.sha256(handle.read()).hexdigest()))
    cache.close()
    database.dispose()


def test_the_lock_is_an_advisory_lock_on_postgresql_and_a_file_lock_on_sqlite(database, tmp_path):
    cache = SynthesisCache(CacheSettings(path=tmp_path / "cache"), database)
    expected = AdvisoryLocks if database.engine.dialect.name == "postgresql" else FileLocks
    assert isinstance(cache.locks, expected)
    cache.close()


def test_concurrent_identical_misses_from_processes_make_exactly_one_producer(database, database_url, tmp_path):
    context = multiprocessing.get_context("spawn")
    barrier, answers = context.Barrier(PROCESSES), context.Queue()
    workers = [
        context.Process(target=_miss, args=(database_url, str(tmp_path / "cache"), barrier, answers))
        for _ in range(PROCESSES)
    ]
    for worker in workers:
        worker.start()
    results = [answers.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(30)
    assert [worker.exitcode for worker in workers] == [0] * PROCESSES
    producers = [pid for kind, pid, _ in results if kind == "produced"]
    assert len(producers) == 1
    stored = SynthesisCache(CacheSettings(path=tmp_path / "cache"), database)
    opened = stored.open_file(KEY)
    assert opened is not None
    with opened[0] as handle:
        audio = handle.read()
    assert audio == f"first second from {producers[0]}".encode()
    assert {digest for kind, _, digest in results if kind == "hit"} == {hashlib.sha256(audio).hexdigest()}
    stored.close()


def _lead_then_hang(database_url, cache_path, holding):
    database = Database(database_url)
    cache = SynthesisCache(CacheSettings(path=Path(cache_path)), database)
    leader = cache.begin(KEY, LABEL)
    assert isinstance(leader, PendingEntry)
    leader.write(b"never finished")
    holding.set()
    threading.Event().wait(120)  # until SIGKILL


def _wait_then_lead(database_url, cache_path, waiting, answers):
    database = Database(database_url)
    cache = SynthesisCache(CacheSettings(path=Path(cache_path)), database)
    waiting.set()
    outcome = cache.begin(KEY, LABEL, deadline=60)
    if isinstance(outcome, PendingEntry):
        outcome.write(b"taken over")
        outcome.commit(META)
    answers.put(type(outcome).__name__)
    cache.close()
    database.dispose()


def _blocked_lock_waiters(database: Database, cache_path: Path) -> int:
    """Requests waiting right now for KEY's lock: advisory ones in this database's pg_locks, or flock()s
    of KEY's lock file in /proc/locks (other tests on the machine have locks of their own)."""
    if database.engine.dialect.name == "postgresql":
        query = (
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        )
        with database.engine.connect() as connection:
            return int(connection.execute(text(query)).scalar_one())
    try:
        inode = os.stat(cache_path / ".locks" / KEY[:2] / f"{KEY}.lock").st_ino
    except FileNotFoundError:
        return 0
    with open("/proc/locks") as locks:  # "1: -> FLOCK  ADVISORY  WRITE <pid> <major>:<minor>:<inode> 0 EOF"
        return sum(1 for line in locks if "->" in line and line.split()[6].endswith(f":{inode}"))


def _until(condition, seconds=30.0):
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the condition never came true")
        threading.Event().wait(0.01)


def test_a_killed_leader_releases_the_lock_and_a_waiter_takes_over(database, database_url, tmp_path):
    context = multiprocessing.get_context("spawn")
    holding, waiting, answers = context.Event(), context.Event(), context.Queue()
    cache_path = str(tmp_path / "cache")
    leader = context.Process(target=_lead_then_hang, args=(database_url, cache_path, holding))
    leader.start()
    assert holding.wait(60)
    waiter = context.Process(target=_wait_then_lead, args=(database_url, cache_path, waiting, answers))
    waiter.start()
    assert waiting.wait(60)
    _until(lambda: _blocked_lock_waiters(database, tmp_path / "cache") == 1)  # queued on the leader's lock
    os.kill(leader.pid, signal.SIGKILL)  # its session (or its file descriptor) ends, and the lock with it
    leader.join(30)
    assert answers.get(timeout=60) == "PendingEntry"
    waiter.join(30)
    assert waiter.exitcode == 0
    cache = SynthesisCache(CacheSettings(path=tmp_path / "cache"), database)
    opened = cache.open_file(KEY)
    assert opened is not None
    with opened[0] as handle:
        assert handle.read() == b"taken over"
    cache.close()
