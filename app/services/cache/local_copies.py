"""This host's bounded copy of blobs kept in a shared store: files under CACHE_PATH, laid out as the
directory store lays its blobs out (so sendfile and X-Accel-Redirect work on them alike).

A copy is only a copy: one missing, evicted or failing its checksum is fetched again from the shared
store, and never a reason to drop the entry. The gunicorn workers of a host share the directory; each
keeps an estimate of its size and scans it when the estimate passes the bound (or after it wrote a
sixteenth of the bound since the last scan, so several workers together overshoot by little), then
removes the least recently used copies down to nine tenths of the bound. "Used" is the access time,
which `open` sets explicitly (mounts are usually relatime or noatime); the modification time is left
alone, being part of the signature the memo compares.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path
from typing import BinaryIO

from app.services.cache.files import TEMP_SUFFIX, DirectoryStore

log = logging.getLogger("app.cache")

_LOW_WATER = 0.9  # a trim goes down to this fraction of the bound, so the next write does not trim again
_RESCAN_FRACTION = 16  # bytes written by this process since the last scan that trigger one anyway


class LocalCopies:
    def __init__(self, root: Path, max_bytes: int):
        self.files = DirectoryStore(root)
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._estimate: int | None = None  # bytes in the directory as this process last saw them, plus its writes
        self._written_since_scan = 0

    def path(self, name: str) -> str:
        return self.files.local_path(name)

    def temp_path(self, name: str) -> Path:
        return self.files.temp_path(name)

    def open(self, name: str) -> BinaryIO | None:
        """The copy, marked as used now; None when this host has none."""
        handle = self.files.open(name)
        if handle is not None:
            try:
                stat = os.fstat(handle.fileno())
                os.utime(handle.fileno(), ns=(time.time_ns(), stat.st_mtime_ns))
            except OSError:  # a read-only copy is still a copy
                pass
        return handle

    def adopt(self, name: str, temp: Path) -> int:
        """Rename a finished temp file into place as the copy of `name`; returns its size. No fsync: after a
        crash a damaged copy fails its checksum and is fetched again."""
        try:
            size = temp.stat().st_size
            os.replace(temp, self.files.path(name))
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        self.added(size)
        return size

    def write(self, name: str, data: bytes) -> None:
        temp = self.temp_path(name)
        try:
            temp.write_bytes(data)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        self.adopt(name, temp)

    def discard(self, name: str) -> None:
        self.files.delete(name)

    def added(self, size: int) -> None:
        """Count a new copy; trim the directory when it may be over the bound."""
        with self._lock:
            if self._estimate is None:
                self._estimate = 0
                due = True
            else:
                self._estimate += size
                self._written_since_scan += size
                due = self._estimate > self.max_bytes or self._written_since_scan >= self.max_bytes // _RESCAN_FRACTION
            if not due:
                return
            self._written_since_scan = 0
        try:
            remaining = self.trim()
        except OSError:  # the copies are only copies: a failed trim is tried again after the next writes
            log.warning("could not trim the local cache copies", exc_info=True)
            return
        with self._lock:
            self._estimate = remaining

    def trim(self) -> int:
        """Remove the least recently used copies while the directory is over the bound; returns the bytes
        left. Another worker may be serving a removed copy: its open descriptor keeps the bytes readable."""
        copies, total = [], 0
        for path in self._copies():
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue
            copies.append((stat.st_atime_ns, stat.st_size, path))
            total += stat.st_size
        if total <= self.max_bytes:
            return total
        goal, removed = int(self.max_bytes * _LOW_WATER), 0
        for _, size, path in sorted(copies, key=lambda copy: copy[0]):
            if total <= goal:
                break
            path.unlink(missing_ok=True)
            total -= size
            removed += 1
        log.info("local cache copies over their %d byte bound: removed %d", self.max_bytes, removed)
        return total

    def size(self) -> int:
        """Bytes of every copy in the directory (a scan)."""
        total = 0
        for path in self._copies():
            try:
                total += path.stat().st_size
            except FileNotFoundError:
                pass
        return total

    def _copies(self):
        root = self.files.root
        if not root.is_dir():
            return
        for shard in root.glob("[0-9a-f][0-9a-f]/[0-9a-f][0-9a-f]"):
            for path in shard.iterdir():
                if not path.name.startswith(".") and not path.name.endswith(TEMP_SUFFIX):
                    yield path
