"""Hit counts and last-use times, gathered in memory and written to the index at most once a second:
hits do not write to the database one by one."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy.exc import SQLAlchemyError

from app.services.cache.index import CacheIndex

log = logging.getLogger("app.cache")

_FLUSH_SECONDS = 1.0


class HitLog:
    def __init__(self, index: CacheIndex, clock: Callable[[], float]):
        self.index = index
        self.clock = clock
        self._pending: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()
        self._last_flush = clock()

    def touch(self, key: str) -> None:
        now = self.clock()
        with self._lock:
            count, _ = self._pending.get(key, (0, 0.0))
            self._pending[key] = (count + 1, now)
            due = now - self._last_flush >= _FLUSH_SECONDS
        if due:
            self.flush()

    def flush(self) -> None:
        """Write the gathered hit counts and last-use times to the index."""
        with self._lock:
            pending, self._pending = self._pending, {}
            self._last_flush = self.clock()
        if not pending:
            return
        try:
            self.index.record_hits(pending)
        except SQLAlchemyError:
            log.warning("could not record %d cache hits; keeping them for the next flush", len(pending), exc_info=True)
            with self._lock:
                for key, (count, used) in pending.items():
                    newer_count, newer_used = self._pending.get(key, (0, 0.0))
                    self._pending[key] = (count + newer_count, max(used, newer_used))
