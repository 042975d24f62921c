"""The synthesis cache: audio files under CACHE_PATH, indexed in SQL (`cache_entries`).

- A hit is served only when the file's sha256 matches the index; a corrupted or missing file is dropped
  and the audio synthesized again.
- Entries expire after CACHE_TTL_SECONDS (0: never); the total size stays under CACHE_MAX_BYTES (0: no
  cap) by evicting the least recently used.
- Identical concurrent misses make one provider call: the others wait for the key's single-flight lock,
  then find the entry in the index.
- A miss answers as soon as the provider has: one writer thread per process stores the file and its
  row (fsyncs included) and only then lets the key's lock go, so nobody can miss the entry meanwhile.
- Hits do not write to the database one by one: hit counts and last-use times are gathered in memory and
  written at most once a second.
- Each process keeps recently served entries in memory (bounded), with the signature (inode, mtime,
  size) of the file they were verified from: a hit then costs one stat() instead of an index read, a
  file read and a checksum. A file replaced, rewritten or removed by anyone changes or loses its
  signature, and the entry is verified again from the index and the disk.
- `open_file` hands a hit out as an open file (served with sendfile, never read into Python): the file is
  opened first, then its descriptor's signature compared with the verified one, so a file replaced or
  removed meanwhile is never served.
"""

from __future__ import annotations

import atexit
import hashlib
import io
import logging
import os
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, BinaryIO, cast

from sqlalchemy import Table, bindparam, delete, func, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from app.db import Database
from app.db.models import CacheEntry
from app.services.cache.files import AudioFiles, FileSignature, file_signature
from app.services.cache.flight import SingleFlight
from app.services.metrics.instruments import CACHE_LOOKUPS
from app.services.tts.audio import FILE_EXTENSIONS, Audio
from app.settings import CacheSettings

log = logging.getLogger("app.cache")

_TOUCH_FLUSH_SECONDS = 1.0
_MEMO_ENTRIES = 4096
_MEMO_BYTES = 64 << 20  # audio kept in memory per process
_MEMO_MAX_ENTRY_BYTES = 4 << 20
_CAP_CHECK_SECONDS = 1.0
_STALE_FILE_SECONDS = 3600
_ORPHAN_GRACE_SECONDS = 60  # a file is written just before its index row: do not race a writer
_TABLE = cast(Table, CacheEntry.__table__)
_ROW_QUERY = select(
    _TABLE.c.key,
    _TABLE.c.provider,
    _TABLE.c.audio_format,
    _TABLE.c.sample_rate,
    _TABLE.c.size_bytes,
    _TABLE.c.duration_ms,
    _TABLE.c.checksum,
    _TABLE.c.expires_at,
    _TABLE.c.created_at,
).where(_TABLE.c.key == bindparam("key"))
_RECORD_HITS = (
    _TABLE.update()
    .where(_TABLE.c.key == bindparam("k"))
    .values(hits=_TABLE.c.hits + bindparam("n"), last_used_at=bindparam("t"))
)


@dataclass(frozen=True)
class EntryLabel:
    """What the index records about an entry besides its audio."""

    provider: str
    voice_id: str
    model: str


@dataclass(frozen=True)
class _Row:
    key: str
    provider: str
    audio_format: str
    sample_rate: int
    size_bytes: int
    duration_ms: int
    checksum: str
    expires_at: float | None  # unix seconds
    created_at: float


@dataclass(frozen=True)
class CachedFile:
    """A verified hit on disk, as `open_file` hands it out with the open file."""

    path: str  # local file holding exactly the entry's verified bytes
    size: int
    checksum: str  # sha256 hex of the bytes (used as the ETag)
    created_at: float  # unix seconds the entry was stored (Last-Modified)
    audio_format: str
    sample_rate: int
    duration_ms: int


@dataclass(frozen=True)
class _Hot:
    """An entry this process verified: its row, and its bytes with the signature of their file."""

    row: _Row
    data: bytes | None
    signature: FileSignature | None
    path: str = ""  # kept as a string: building the Path on every hit cost more than the stat()


class SynthesisCache:
    def __init__(self, settings: CacheSettings, database: Database, clock: Callable[[], float] = time.time):
        self.settings = settings
        self.database = database
        self.clock = clock
        self.files = AudioFiles(settings.path)
        self.flight = SingleFlight(settings.path / ".locks")
        self._memo: OrderedDict[str, _Hot] = OrderedDict()
        self._memo_bytes = 0
        self._memo_lock = threading.Lock()
        self._touches: dict[str, tuple[int, float]] = {}
        self._touch_lock = threading.Lock()
        self._last_flush = clock()
        self._last_cap_check = 0.0
        self._bytes_since_cap_check = 0
        self._writer: ThreadPoolExecutor | None = None  # created on first use: after gunicorn forks
        self._writer_lock = threading.Lock()
        # gunicorn workers exit without closing the app's services: finish the writes and record the hits.
        close = weakref.WeakMethod(self.close)
        atexit.register(lambda: (method := close()) and method())

    @property
    def enabled(self) -> bool:
        return self.settings.enabled

    # --- serving -----------------------------------------------------------------------------------

    def get_or_synthesize(self, key: str, label: EntryLabel, produce: Callable[[], Audio]) -> tuple[Audio, bool]:
        """(audio, served from cache). `produce` runs at most once per key at a time on this host; what it
        raises propagates and nothing is cached."""
        if not self.enabled:
            return produce(), False
        audio = self.lookup(key)
        if audio is not None:
            CACHE_LOOKUPS.labels("hit").inc()
            return audio, True
        release = self.flight.acquire(key)
        try:
            stored = self.lookup(key)  # the holder before us may have just stored it
            audio = produce() if stored is None else stored
        except BaseException:
            release()
            raise
        if stored is not None:
            release()
            CACHE_LOOKUPS.labels("hit").inc()
            return stored, True
        self._write_later(key, label, audio, release)
        CACHE_LOOKUPS.labels("miss").inc()
        return audio, False

    def _write_later(self, key: str, label: EntryLabel, audio: Audio, release: Callable[[], None]) -> None:
        synthesized_at = self.clock()  # now, not when the writer gets to it

        def write() -> None:
            try:
                self._store(key, label, audio, synthesized_at)
            finally:
                release()
            self._enforce_cap_if_due(len(audio.data))

        with self._writer_lock:
            if self._writer is None:
                self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cache-writer")
            writer = self._writer
        try:
            writer.submit(write)
        except RuntimeError:  # the writer is shutting down: write here
            write()

    def settle(self) -> None:
        """Wait for the writes in flight, then record the gathered hits: the index is then up to date."""
        with self._writer_lock:
            writer = self._writer
        if writer is not None:
            try:
                writer.submit(lambda: None).result()  # one writer thread: every earlier write is done
            except RuntimeError:
                pass
        self.flush()

    def lookup(self, key: str) -> Audio | None:
        hot = self._memo_get(key)
        if hot is not None:
            audio = self._serve_hot(hot)
            if audio is not None:
                self._touch(key)
                return audio
            self._memo_pop(key)  # changed or removed by another process: ask the index
        row = self._read_row(key)
        if row is None:
            return None
        audio, problem, signature = self._load(row)
        if audio is None:
            log.info("cache entry %s dropped: %s", key, problem)
            self._drop([(row.key, row.audio_format)])
            return None
        self._memo_put(self._hot(row, audio.data, signature))
        self._touch(key)
        return audio

    def open_file(self, key: str) -> tuple[BinaryIO, CachedFile] | None:
        """A hit as an open binary file (the caller closes it) and what it holds; None for a miss or with
        the cache off. Counts as a hit like `lookup`."""
        if not self.enabled:
            return None
        hot = self._memo_get(key)
        if hot is not None and hot.signature is not None and not self._expired(hot.row):
            handle = _open(hot.path)
            if handle is not None and file_signature(os.fstat(handle.fileno())) == hot.signature:
                return self._opened_hit(handle, hot)
            if handle is not None:
                handle.close()
            self._memo_pop(key)  # changed or removed by another process: ask the index
        row = self._read_row(key)
        if row is None:
            return None
        path = str(self.files.path(row.key, FILE_EXTENSIONS[row.audio_format]))
        handle = None if self._expired(row) else _open(path)
        if handle is None:
            log.info("cache entry %s dropped: %s", key, "expired" if self._expired(row) else "file missing")
            self._drop([(row.key, row.audio_format)])
            return None
        # the checksum of exactly the bytes this descriptor will serve, read in chunks (long audio)
        if hashlib.file_digest(handle, "sha256").hexdigest() != row.checksum:
            handle.close()
            log.info("cache entry %s dropped: checksum mismatch (corrupted file)", key)
            self._drop([(row.key, row.audio_format)])
            return None
        handle.seek(0)
        hot = _Hot(row, None, file_signature(os.fstat(handle.fileno())), path)
        self._memo_put(hot)
        return self._opened_hit(handle, hot)

    def _opened_hit(self, handle: io.BufferedReader, hot: _Hot) -> tuple[BinaryIO, CachedFile]:
        self._touch(hot.row.key)
        CACHE_LOOKUPS.labels("hit").inc()
        row = hot.row
        entry = CachedFile(
            hot.path, row.size_bytes, row.checksum, row.created_at, row.audio_format, row.sample_rate, row.duration_ms
        )
        return handle, entry

    def _expired(self, row: _Row) -> bool:
        return row.expires_at is not None and row.expires_at <= self.clock()

    def _serve_hot(self, hot: _Hot) -> Audio | None:
        row = hot.row
        if row.expires_at is not None and row.expires_at <= self.clock():
            return None
        if hot.data is not None and self.files.signature(hot.path) == hot.signature:
            return Audio(hot.data, row.audio_format, row.sample_rate, row.duration_ms)
        audio, _, signature = self._load(row)
        if audio is not None:
            self._memo_put(self._hot(row, audio.data, signature))
        return audio

    def _hot(self, row: _Row, data: bytes, signature: FileSignature | None) -> _Hot:
        return _Hot(row, data, signature, str(self.files.path(row.key, FILE_EXTENSIONS[row.audio_format])))

    def _load(self, row: _Row) -> tuple[Audio | None, str, FileSignature | None]:
        if row.expires_at is not None and row.expires_at <= self.clock():
            return None, "expired", None
        found = self.files.read(row.key, FILE_EXTENSIONS[row.audio_format])
        if found is None:
            return None, "file missing", None
        data, signature = found
        if hashlib.sha256(data).hexdigest() != row.checksum:
            return None, "checksum mismatch (corrupted file)", None
        return Audio(data, row.audio_format, row.sample_rate, row.duration_ms), "", signature

    def _read_row(self, key: str) -> _Row | None:
        # Core, not the ORM: this read is on the path of every miss, and a session costs twice as much.
        try:
            with self.database.engine.connect() as connection:
                entry = connection.execute(_ROW_QUERY, {"key": key}).first()
                return _row(entry) if entry is not None else None
        except SQLAlchemyError:
            log.warning("cache index unreadable; serving without cache", exc_info=True)
            return None

    def _store(self, key: str, label: EntryLabel, audio: Audio, now: float) -> None:
        """Best effort: a cache that cannot write must not fail the request that produced the audio."""
        if not audio.data:
            return
        row = _Row(
            key,
            label.provider,
            audio.audio_format,
            audio.sample_rate,
            len(audio.data),
            audio.duration_ms,
            hashlib.sha256(audio.data).hexdigest(),
            now + self.settings.ttl_seconds if self.settings.ttl_seconds else None,
            now,
        )
        try:
            path = self.files.write(key, FILE_EXTENSIONS[audio.audio_format], audio.data)
            stat = path.stat()
            entry = CacheEntry(
                key=key,
                provider=label.provider,
                voice_id=label.voice_id[:255],
                model=label.model[:255],
                audio_format=row.audio_format,
                sample_rate=row.sample_rate,
                size_bytes=row.size_bytes,
                duration_ms=row.duration_ms,
                checksum=row.checksum,
                created_at=_datetime(now),
                last_used_at=_datetime(now),
                hits=0,
                expires_at=_datetime(row.expires_at) if row.expires_at is not None else None,
            )
            try:
                with self.database.session() as session:
                    session.add(entry)  # under the key's lock, after a miss: normally no row exists
            except IntegrityError:  # a row appeared meanwhile (e.g. written by an older version): replace it
                with self.database.session() as session:
                    session.merge(entry)
        except (OSError, SQLAlchemyError):
            log.warning("could not store cache entry %s", key, exc_info=True)
            return
        self._memo_put(_Hot(row, audio.data, (stat.st_ino, stat.st_mtime_ns, stat.st_size), str(path)))

    # --- in-process memo of index rows ---------------------------------------------------------------

    def _memo_get(self, key: str) -> _Hot | None:
        with self._memo_lock:
            return self._memo.get(key)

    def _memo_put(self, hot: _Hot) -> None:
        if hot.data is not None and len(hot.data) > _MEMO_MAX_ENTRY_BYTES:
            hot = _Hot(hot.row, None, hot.signature, hot.path)  # the signature still serves `open_file`
        with self._memo_lock:
            old = self._memo.pop(hot.row.key, None)
            self._memo_bytes -= len(old.data) if old and old.data else 0
            self._memo[hot.row.key] = hot
            self._memo_bytes += len(hot.data) if hot.data else 0
            while len(self._memo) > _MEMO_ENTRIES or self._memo_bytes > _MEMO_BYTES:
                _, evicted = self._memo.popitem(last=False)
                self._memo_bytes -= len(evicted.data) if evicted.data else 0

    def _memo_pop(self, *keys: str) -> None:
        with self._memo_lock:
            for key in keys:
                old = self._memo.pop(key, None)
                self._memo_bytes -= len(old.data) if old and old.data else 0

    # --- usage bookkeeping ---------------------------------------------------------------------------

    def _touch(self, key: str) -> None:
        now = self.clock()
        with self._touch_lock:
            count, _ = self._touches.get(key, (0, 0.0))
            self._touches[key] = (count + 1, now)
            due = now - self._last_flush >= _TOUCH_FLUSH_SECONDS
        if due:
            self.flush()

    def flush(self) -> None:
        """Write the gathered hit counts and last-use times to the index."""
        with self._touch_lock:
            pending, self._touches = self._touches, {}
            self._last_flush = self.clock()
        if not pending:
            return
        # Rows are updated in key order: two workers flushing overlapping keys then take their row locks
        # in the same order and wait for each other instead of deadlocking (on PostgreSQL, arrival order
        # deadlocked and lost a fifth of the counts under load).
        try:
            with self.database.session() as session:
                session.connection().execute(
                    _RECORD_HITS,
                    [{"k": key, "n": count, "t": _datetime(used)} for key, (count, used) in sorted(pending.items())],
                )
        except SQLAlchemyError:
            log.warning("could not record %d cache hits; keeping them for the next flush", len(pending), exc_info=True)
            with self._touch_lock:
                for key, (count, used) in pending.items():
                    newer_count, newer_used = self._touches.get(key, (0, 0.0))
                    self._touches[key] = (count + newer_count, max(used, newer_used))

    # --- eviction and maintenance --------------------------------------------------------------------

    def _enforce_cap_if_due(self, stored_bytes: int) -> None:
        cap = self.settings.max_bytes
        if not cap:
            return
        self._bytes_since_cap_check += stored_bytes
        now = self.clock()
        if self._bytes_since_cap_check < cap // 100 and now - self._last_cap_check < _CAP_CHECK_SECONDS:
            return
        self._bytes_since_cap_check, self._last_cap_check = 0, now
        try:
            self.enforce_cap()
        except SQLAlchemyError:
            log.warning("cache size check failed", exc_info=True)

    def enforce_cap(self) -> tuple[int, int]:
        """Evict least recently used entries until the total size is within CACHE_MAX_BYTES.
        Returns (entries evicted, bytes freed)."""
        cap = self.settings.max_bytes
        if not cap:
            return 0, 0
        self.flush()
        with self.database.session() as session:
            total = session.execute(select(func.coalesce(func.sum(CacheEntry.size_bytes), 0))).scalar_one()
            if total <= cap:
                return 0, 0
            victims, freed = [], 0
            rows = session.execute(
                select(CacheEntry.key, CacheEntry.audio_format, CacheEntry.size_bytes).order_by(
                    CacheEntry.last_used_at, CacheEntry.created_at
                )
            )
            for key, audio_format, size in rows:
                if total - freed <= cap:
                    break
                victims.append((key, audio_format))
                freed += size
        self._drop(victims)
        if victims:
            log.info("cache over its %d byte cap: evicted %d entries (%d bytes)", cap, len(victims), freed)
        return len(victims), freed

    def _drop(self, entries: list[tuple[str, str]]) -> None:
        """Remove index rows, then files (a reader that still finds a file checks it against the index)."""
        if not entries:
            return
        keys = [key for key, _ in entries]
        self._memo_pop(*keys)
        with self.database.session() as session:
            for start in range(0, len(keys), 500):
                session.execute(delete(CacheEntry).where(CacheEntry.key.in_(keys[start : start + 500])))
        for key, audio_format in entries:
            self.files.delete(key, FILE_EXTENSIONS.get(audio_format, audio_format))

    def clear(self, provider: str | None = None) -> tuple[int, int]:
        """Remove every entry, or those of one provider. Returns (entries, bytes)."""
        self.settle()
        query = select(CacheEntry.key, CacheEntry.audio_format, CacheEntry.size_bytes)
        if provider:
            query = query.where(CacheEntry.provider == provider)
        with self.database.session() as session:
            rows = session.execute(query).all()
        self._drop([(key, audio_format) for key, audio_format, _ in rows])
        if provider is None:
            for path in self.files.audio_files():  # files whose index row was lost
                path.unlink(missing_ok=True)
        return len(rows), sum(size for _, _, size in rows)

    def prune(self) -> dict[str, int]:
        """Expired entries, entries whose file is gone, files without an entry, leftovers of crashed
        writes, and whatever is over the size cap."""
        self.settle()
        now = self.clock()
        with self.database.session() as session:
            rows = session.execute(select(CacheEntry.key, CacheEntry.audio_format, CacheEntry.expires_at)).all()
        expired = [(k, f) for k, f, expires in rows if expires is not None and _timestamp(expires) <= now]
        expired_keys = {k for k, _ in expired}
        missing = [
            (k, f)
            for k, f, _ in rows
            if k not in expired_keys and not self.files.path(k, FILE_EXTENSIONS.get(f, f)).is_file()
        ]
        self._drop(expired + missing)
        indexed = {k for k, _, _ in rows}
        orphans = 0
        for path in self.files.audio_files():
            if path.name.split(".")[0] not in indexed and path.stat().st_mtime < now - _ORPHAN_GRACE_SECONDS:
                path.unlink(missing_ok=True)
                orphans += 1
        evicted, freed = self.enforce_cap()
        return {
            "expired": len(expired),
            "missing_files": len(missing),
            "orphan_files": orphans,
            "evicted": evicted,
            "evicted_bytes": freed,
            "temp_files": self.files.remove_stale_temp_files(_STALE_FILE_SECONDS),
            "lock_files": self.flight.remove_stale_lock_files(_STALE_FILE_SECONDS),
        }

    def totals(self) -> tuple[int, int]:
        """(entries, bytes) in the index: one cheap query, for metrics."""
        with self.database.session() as session:
            entries, size = session.execute(
                select(func.count(), func.coalesce(func.sum(CacheEntry.size_bytes), 0))
            ).one()
        return int(entries), int(size)

    def stats(self) -> dict:
        self.settle()
        now = _datetime(self.clock())
        with self.database.session() as session:
            per_provider = session.execute(
                select(
                    CacheEntry.provider,
                    func.count(),
                    func.coalesce(func.sum(CacheEntry.size_bytes), 0),
                    func.coalesce(func.sum(CacheEntry.hits), 0),
                )
                .group_by(CacheEntry.provider)
                .order_by(CacheEntry.provider)
            ).all()
            expired = session.execute(
                select(func.count()).select_from(CacheEntry).where(CacheEntry.expires_at <= now)
            ).scalar_one()
            oldest, newest = session.execute(
                select(func.min(CacheEntry.created_at), func.max(CacheEntry.created_at))
            ).one()
        return {
            "enabled": self.enabled,
            "path": str(self.settings.path),
            "entries": sum(count for _, count, _, _ in per_provider),
            "bytes": int(sum(size for _, _, size, _ in per_provider)),
            "hits": int(sum(hits for _, _, _, hits in per_provider)),
            "expired": expired,
            "max_bytes": self.settings.max_bytes,
            "ttl_seconds": self.settings.ttl_seconds,
            "oldest": _iso(oldest),
            "newest": _iso(newest),
            "providers": {
                provider: {"entries": count, "bytes": int(size), "hits": int(hits)}
                for provider, count, size, hits in per_provider
            },
        }

    def close(self) -> None:
        with self._writer_lock:
            writer, self._writer = self._writer, None
        if writer is not None:
            writer.shutdown(wait=True)
        self.flush()


def _row(entry: Any) -> _Row:  # a CacheEntry, or a Core row with the same columns
    return _Row(
        entry.key,
        entry.provider,
        entry.audio_format,
        entry.sample_rate,
        entry.size_bytes,
        entry.duration_ms,
        entry.checksum,
        _timestamp(entry.expires_at) if entry.expires_at is not None else None,
        _timestamp(entry.created_at),
    )


def _open(path: str) -> io.BufferedReader | None:
    try:
        return open(path, "rb")
    except FileNotFoundError:
        return None


def _datetime(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


def _timestamp(value: datetime) -> float:
    # SQLite hands back naive datetimes; every value we write is UTC.
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()


def _iso(value: datetime | None) -> str | None:
    return None if value is None else (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
