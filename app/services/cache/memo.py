"""The in-process memo of entries this process verified: a hit then costs one stat() (or one fstat() of
the opened file) instead of an index read, a file read and a checksum.

Each entry keeps the signature (inode, mtime, size) of the file it was verified from: a file replaced,
rewritten or removed by anyone changes or loses its signature, and the entry is verified again from the
index and the store. Bounded in entries and in bytes of audio kept.

With a store shared by several hosts the file is only this host's copy: another host that clears, evicts
or replaces the entry changes nothing here. There an entry is trusted for `max_age_seconds` only, then
verified again from the index (one primary-key read per hot entry and period).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace

from app.services.cache.entry import Row
from app.services.cache.files import FileSignature

_ENTRIES = 4096
_BYTES = 64 << 20  # audio kept in memory per process
MAX_ENTRY_BYTES = 4 << 20


@dataclass(frozen=True)
class Hot:
    """An entry this process verified: its row, and its bytes with the signature of their file."""

    row: Row
    data: bytes | None
    signature: FileSignature | None
    path: str = ""  # kept as a string: building the Path on every hit cost more than the stat()


class Memo:
    def __init__(
        self,
        max_entries: int = _ENTRIES,
        max_bytes: int = _BYTES,
        max_age_seconds: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.max_age_seconds = max_age_seconds
        self.clock = clock
        self._entries: OrderedDict[str, Hot] = OrderedDict()
        self._verified_at: dict[str, float] = {}  # only with max_age_seconds
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> Hot | None:
        with self._lock:
            hot = self._entries.get(key)
            if hot is None or self.max_age_seconds is None:
                return hot
            if self.clock() - self._verified_at.get(key, 0.0) < self.max_age_seconds:
                return hot
            self._entries.pop(key)  # too old to trust: the caller verifies it again
            self._verified_at.pop(key, None)
            self._bytes -= len(hot.data) if hot.data else 0
            return None

    def put(self, hot: Hot) -> None:
        if hot.data is not None and len(hot.data) > MAX_ENTRY_BYTES:
            hot = replace(hot, data=None)  # the signature still serves `open_file`
        with self._lock:
            old = self._entries.pop(hot.row.key, None)
            self._bytes -= len(old.data) if old and old.data else 0
            self._entries[hot.row.key] = hot
            if self.max_age_seconds is not None:
                self._verified_at[hot.row.key] = self.clock()
            self._bytes += len(hot.data) if hot.data else 0
            while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
                key, evicted = self._entries.popitem(last=False)
                self._verified_at.pop(key, None)
                self._bytes -= len(evicted.data) if evicted.data else 0

    def pop(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                old = self._entries.pop(key, None)
                self._verified_at.pop(key, None)
                self._bytes -= len(old.data) if old and old.data else 0
