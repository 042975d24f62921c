"""What the single-flight lock adds to a cache miss, measured side by side in one run (issue #11).

A miss here is the cache's own part of one: `begin` (in-process flight, the key's lock, the index
re-read), one write of a 100 KB chunk, `commit` (fsync, rename, index row) — no provider. It is timed
on fresh keys with the lock the database gets (PostgreSQL: an advisory lock on a connection of its own;
SQLite: flock of a file per key) and with no cross-process lock at all, alternating rounds; the p50s are
printed side by side with their difference (goal <= 2 ms p50 with PostgreSQL).

Run by hand (not in CI):
  /work/venv/bin/python bench/cache_lock.py --database-url postgresql://postgres@127.0.0.1:5432/bench
(the database is migrated to head; its cache_entries table is emptied first)
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import delete  # noqa: E402

from app.db import Database  # noqa: E402
from app.db.migrate import upgrade_to_head  # noqa: E402
from app.db.models import CacheEntry  # noqa: E402
from app.services.cache import AudioMeta, EntryLabel, PendingEntry, SynthesisCache  # noqa: E402
from app.services.cache.flight import Held  # noqa: E402
from app.settings import CacheSettings  # noqa: E402

LABEL = EntryLabel("local", "en-us", "espeak-ng")
META = AudioMeta("linear16", 24_000, 2_083)
CHUNK = os.urandom(100_000)


class NoLocks:
    """No cross-process lock: what a miss costs without single flight between processes."""

    def acquire(self, key: str, timeout: float) -> Held:
        return Held(lambda: None, waited=False)

    def remove_stale(self, older_than_seconds: float) -> int:
        return 0

    def close(self) -> None:
        pass


def miss_seconds(cache: SynthesisCache) -> float:
    key = uuid.uuid4().hex * 2
    started = time.perf_counter()
    pending = cache.begin(key, LABEL)
    assert isinstance(pending, PendingEntry)
    pending.write(CHUNK)
    pending.commit(META)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--misses", type=int, default=50, help="misses per round and kind")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cache-lock-bench-") as directory:
        url = args.database_url or f"sqlite:///{directory}/bench.db"
        database = Database(url)
        upgrade_to_head(database, Path(directory) / ".migrate.lock")
        with database.session() as session:
            session.execute(delete(CacheEntry))
        settings = CacheSettings(path=Path(directory) / "cache", max_bytes=0)
        locked = SynthesisCache(settings, database)
        unlocked = SynthesisCache(settings, database, locks=NoLocks())
        timings: dict[str, list[float]] = {"with the lock": [], "without": []}
        for cache in (locked, unlocked):  # warm-up: pools, directories, the lock engine
            for _ in range(5):
                miss_seconds(cache)
        for _ in range(args.rounds):
            for name, cache in (("with the lock", locked), ("without", unlocked)):
                timings[name].extend(miss_seconds(cache) for _ in range(args.misses))
        locked.close()
        unlocked.close()
        database.dispose()
    with_lock, without = (statistics.median(timings[name]) * 1000 for name in ("with the lock", "without"))
    print(f"database: {database.engine.dialect.name}, lock: {type(locked.locks).__name__}")
    print(f"miss p50 with the lock {with_lock:.2f} ms | without {without:.2f} ms | added {with_lock - without:+.2f} ms")
    print("goal: the lock adds <= 2 ms p50 (with PostgreSQL)")


if __name__ == "__main__":
    main()
