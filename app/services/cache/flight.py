"""Single flight: one synthesis per key at a time, across the threads of a process and across processes
(gunicorn workers) sharing the cache directory."""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from app.services.cache.files import remove_older_than
from app.services.metrics.instruments import SINGLE_FLIGHT_WAIT_SECONDS, SINGLE_FLIGHT_WAITS


class SingleFlight:
    def __init__(self, lock_dir: Path):
        self.lock_dir = lock_dir
        self._guard = threading.Lock()
        self._locks: dict[str, list] = {}  # key -> [threading.Lock, number of users]

    @contextmanager
    def exclusive(self, key: str) -> Iterator[None]:
        release = self.acquire(key)
        try:
            yield
        finally:
            release()

    def acquire(self, key: str) -> Callable[[], None]:
        """Wait until this caller holds `key` on this host; returns the function that lets it go (which
        another thread may call). Threads of this process queue on a thread lock, processes on an
        flock() of the key's lock file (a blocking wait: no polling)."""
        with self._guard:
            entry = self._locks.setdefault(key, [threading.Lock(), 0])
            entry[1] += 1
        started = time.perf_counter()
        waited = not entry[0].acquire(blocking=False)
        if waited:
            entry[0].acquire()
        try:
            descriptor, waited_for_process = self._lock_file(self.lock_dir / key[:2] / f"{key}.lock")
        except BaseException:
            entry[0].release()
            self._forget(key, entry)
            raise
        if waited or waited_for_process:
            SINGLE_FLIGHT_WAITS.inc()
            SINGLE_FLIGHT_WAIT_SECONDS.observe(time.perf_counter() - started)

        def release() -> None:
            fcntl.flock(descriptor, fcntl.LOCK_UN)
            os.close(descriptor)
            entry[0].release()
            self._forget(key, entry)

        return release

    def _forget(self, key: str, entry: list) -> None:
        with self._guard:
            entry[1] -= 1
            if entry[1] == 0:
                del self._locks[key]

    @staticmethod
    def _lock_file(path: Path) -> tuple[int, bool]:
        """The locked descriptor, and whether another process held the lock first."""
        waited = False
        while True:
            try:
                descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            except FileNotFoundError:
                path.parent.mkdir(parents=True, exist_ok=True)
                continue
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                waited = True
                fcntl.flock(descriptor, fcntl.LOCK_EX)  # releases the GIL while it waits
            if os.fstat(descriptor).st_nlink:
                return descriptor, waited
            os.close(descriptor)  # `remove_stale_lock_files` unlinked it while we waited: lock the new one

    def remove_stale_lock_files(self, older_than_seconds: float) -> int:
        """Lock files of keys nobody synthesized for a while. A waiter that still holds an unlinked
        file notices (no links left) and locks the new file instead."""
        if not self.lock_dir.is_dir():
            return 0
        return remove_older_than(self.lock_dir.glob("*/*.lock"), older_than_seconds)
