"""Single flight: one synthesis per key at a time, across the threads of a process and across processes
(gunicorn workers) sharing the cache directory."""
from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock

# filelock polls a non-blocking flock; waiters are few (identical concurrent misses), so poll often.
_POLL_SECONDS = 0.002


class SingleFlight:
    def __init__(self, lock_dir: Path):
        self.lock_dir = lock_dir
        self._guard = threading.Lock()
        self._locks: dict[str, list] = {}  # key -> [threading.Lock, number of users]

    @contextmanager
    def exclusive(self, key: str) -> Iterator[None]:
        """Held by one caller per key on this host. Threads of this process queue on a thread lock
        first, so only one of them polls the file lock."""
        with self._guard:
            entry = self._locks.setdefault(key, [threading.Lock(), 0])
            entry[1] += 1
        try:
            with entry[0]:
                path = self.lock_dir / key[:2] / f"{key}.lock"
                path.parent.mkdir(parents=True, exist_ok=True)
                with FileLock(path, poll_interval=_POLL_SECONDS):
                    yield
        finally:
            with self._guard:
                entry[1] -= 1
                if entry[1] == 0:
                    del self._locks[key]

    def remove_stale_lock_files(self, older_than_seconds: float) -> int:
        """Lock files of keys nobody synthesized for a while (they are never deleted while in use: a
        waiter may hold the old file open)."""
        if not self.lock_dir.is_dir():
            return 0
        removed, limit = 0, time.time() - older_than_seconds
        for path in self.lock_dir.glob("*/*.lock"):
            try:
                if path.stat().st_mtime < limit:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:
                pass
        return removed
