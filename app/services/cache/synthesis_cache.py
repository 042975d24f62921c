"""The synthesis cache: blobs in a store (the local directory under CACHE_PATH, or an S3 bucket shared by
every host with a bounded local copy under CACHE_PATH), indexed in SQL (`cache_entries`). The facade the rest of the app uses; each job lives in its own module:
`index` (rows, hit counts, totals), `blobs`/`files` (the store), `flight` (single flight), `memo` (what
this process verified), `hits` (hit counts gathered in memory), `live` (this process's writers and their
followers), `pending` (the write side of a miss) and `maintenance` (clear, prune, stats, eviction).

- A hit is served only when the blob's sha256 matches the index; a corrupted or missing blob is dropped
  and the audio synthesized again. A local copy of a shared blob that fails the check is fetched again
  first; a store that cannot answer (S3 down) makes a miss that leaves the row alone. Of the hosts that
  find a blob gone, one drops its row (the delete names the row's checksum too).
- Entries expire after CACHE_TTL_SECONDS (0: never); the total size stays under CACHE_MAX_BYTES (0: no
  cap) by evicting the least recently used.
- Identical concurrent misses make one provider call (`begin`): in this process the others follow the
  leader's chunks as it writes them; other processes (other hosts, on PostgreSQL) wait for the key's lock,
  bounded by the synthesis deadline, then find the entry in the index, or lead if the leader aborted.
- A buffered miss answers as soon as the provider has: one writer thread per process commits the entry
  (fsyncs, blob, row) and only then lets the key's lock go, so nobody can miss the entry meanwhile.
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
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import BinaryIO

from sqlalchemy.exc import SQLAlchemyError

from app.db import Database
from app.errors import UpstreamError
from app.services.cache.blobs import BlobStore, BlobStoreUnavailable
from app.services.cache.entry import AudioLike, AudioMeta, CachedFile, Clip, EntryLabel, Row, blob_name
from app.services.cache.files import FileSignature, file_signature, signature
from app.services.cache.flight import KeyLocks, key_locks
from app.services.cache.hits import HitLog
from app.services.cache.index import CacheIndex
from app.services.cache.live import DONE, FAILED, WRITING, Flights, LiveFollower
from app.services.cache.maintenance import CacheMaintenance
from app.services.cache.memo import Hot, Memo
from app.services.cache.pending import CachedHit, PendingEntry
from app.services.cache.stores import blob_store
from app.services.metrics.instruments import CACHE_LOOKUPS, SINGLE_FLIGHT_WAIT_SECONDS, SINGLE_FLIGHT_WAITS
from app.settings import CacheSettings

log = logging.getLogger("app.cache")

_CAP_CHECK_SECONDS = 1.0
# With a shared store, how long this process trusts what it verified before asking the index again: another
# host's clear, eviction or replacement of an entry is seen here within this time.
SHARED_MEMO_SECONDS = 5.0
_UNAVAILABLE_LOG_SECONDS = 60.0  # during a store outage, one warning a minute per process


class SynthesisCache:
    def __init__(
        self,
        settings: CacheSettings,
        database: Database,
        clock: Callable[[], float] = time.time,
        wait_seconds: float = 30.0,
        locks: KeyLocks | None = None,
        store: BlobStore | None = None,
    ):
        self.settings = settings
        self.database = database
        self.clock = clock
        self.wait_seconds = wait_seconds  # the synthesis deadline: nobody waits longer for another's write
        self.index = CacheIndex(database)
        self.store: BlobStore = store or blob_store(settings)
        self.locks = locks or key_locks(database, settings.path / ".locks")
        self.flights = Flights()
        self.memo = Memo(max_age_seconds=SHARED_MEMO_SECONDS if settings.shared else None)
        self._unavailable_logged = 0.0
        self.hits = HitLog(self.index, clock)
        self.maintenance = CacheMaintenance(
            settings,
            self.index,
            self.store,
            clock,
            drop=self._drop,
            settle=self.settle,
            flush=self.flush,
            stale_locks=self.locks.remove_stale,
        )
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

    def get_or_synthesize(
        self, key: str, label: EntryLabel, produce: Callable[[], AudioLike], deadline: float | None = None
    ) -> tuple[Clip, bool]:
        """(audio, served from cache). `produce` runs at most once per key at a time (on every host sharing
        a PostgreSQL index); what it raises propagates (to the requests that followed it too) and nothing
        is cached. `deadline`: how long to wait for another request's synthesis (default `wait_seconds`)."""
        if not self.enabled:
            return Clip.of(produce()), False
        audio = self.lookup(key)
        if audio is not None:
            CACHE_LOOKUPS.labels("hit").inc()
            return audio, True
        outcome = self.begin(key, label, deadline=deadline)
        if isinstance(outcome, CachedHit):  # counted as a hit by `open_file`
            with outcome.file as handle:
                data = handle.read()
            entry = outcome.entry
            return Clip(data, entry.audio_format, entry.sample_rate, entry.duration_ms), True
        if isinstance(outcome, LiveFollower):
            data = b"".join(outcome)
            meta = outcome.meta
            assert meta is not None  # set before the last chunk is handed out
            return Clip(data, meta.audio_format, meta.sample_rate, meta.duration_ms), True
        try:
            audio = Clip.of(produce())
        except BaseException as exc:
            outcome.abort(exc if isinstance(exc, Exception) else None)
            raise
        outcome.write(audio.data)  # to the page cache and the followers: the fsyncs are the writer's
        self.commit_later(outcome, audio.meta)
        return audio, False

    def begin(
        self, key: str, label: EntryLabel, deadline: float | None = None
    ) -> CachedHit | LiveFollower | PendingEntry:
        """Take the key's single-flight lock to write its entry, or find who did:
        - `CachedHit`: someone committed it (maybe while we waited): serve its file, as `open_file` does;
        - `LiveFollower`: another request of this process is writing it: iterate to get its chunks;
        - `PendingEntry`: we lead and hold the lock: write, then commit or abort.
        Waiting (for another process's lock, or for this process's leader to get it) is bounded by
        `deadline` seconds (at most `wait_seconds`, the default): past it, UpstreamError. With the cache off, always a
        PendingEntry that stores nothing."""
        if not self.enabled:
            return PendingEntry(key, label, None, None, None)
        started = time.monotonic()
        limit = self.wait_seconds if deadline is None else min(deadline, self.wait_seconds)
        deadline_at = started + limit
        while True:
            flight, leading = self.flights.join_or_lead(key)
            if not leading:
                state = flight.decided(deadline_at)
                if state is None:
                    raise _waited_too_long(limit)
                if state in (WRITING, DONE, FAILED):
                    SINGLE_FLIGHT_WAITS.inc()
                    return LiveFollower(flight, deadline_at, started, self._served_by_follower)
                opened = self.open_file(key)  # the leader found the entry, or gave up: look again
                if opened is not None:
                    _count_wait(started)
                    return CachedHit(*opened)
                continue
            try:
                held = self.locks.acquire(key, max(0.0, deadline_at - time.monotonic()))
            except Exception:
                log.warning("could not lock cache key %s; serving it without storing", key, exc_info=True)
                flight.start()  # this process's followers still get the chunks
                CACHE_LOOKUPS.labels("miss").inc()
                return PendingEntry(key, label, flight, None, None)
            except BaseException:
                flight.leave()
                raise
            if held is None:
                flight.leave()
                raise _waited_too_long(limit)
            try:
                opened = self.open_file(key)  # the holder before us may have just committed it
            except BaseException:
                flight.leave()
                held.release()
                raise
            if opened is not None:
                flight.leave()
                held.release()
                if held.waited:
                    _count_wait(started)
                return CachedHit(*opened)
            if held.waited:
                _count_wait(started)
            flight.start()
            CACHE_LOOKUPS.labels("miss").inc()
            return PendingEntry(key, label, flight, held.release, self)

    def _served_by_follower(self, key: str) -> None:
        hot = self.memo.get(key)
        if hot is not None:  # the leader committed it (a hit count needs the row)
            self.hits.touch(key)
        CACHE_LOOKUPS.labels("hit").inc()

    def expiry(self, now: float) -> float | None:
        """When an entry stored `now` expires (for `PendingEntry`)."""
        return now + self.settings.ttl_seconds if self.settings.ttl_seconds else None

    def record(self, row: Row, label: EntryLabel, data: bytes | None) -> CachedFile:
        """Index and remember an entry whose blob is in the store (for `PendingEntry.commit`)."""
        self.index.insert(row, label)
        path = self.store.local_path(row.blob) or ""
        self.memo.put(Hot(row, data, signature(path) if path else None, path))
        self._enforce_cap_if_due(row.size_bytes)
        return row.described(path)

    def commit_later(self, pending: PendingEntry, meta: AudioMeta) -> None:
        """Commit a complete entry on the writer thread: the answer need not wait for its fsyncs, and the
        key stays locked (its followers waiting) until it is committed."""
        synthesized_at = self.clock()  # now, not when the writer gets to it
        pending.seal(meta)

        def commit() -> None:
            pending.commit(meta, synthesized_at)

        with self._writer_lock:
            if self._writer is None:
                self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cache-writer")
            writer = self._writer
        try:
            writer.submit(commit)
        except RuntimeError:  # the writer is shutting down: commit here
            commit()

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

    def lookup(self, key: str) -> Clip | None:
        hot = self.memo.get(key)
        if hot is not None:
            try:
                audio = self._serve_hot(hot)
            except BlobStoreUnavailable as exc:
                self._store_unavailable(exc)
                return None
            if audio is not None:
                self.hits.touch(key)
                return audio
            self.memo.pop(key)  # changed or removed by another process: ask the index
        row = self._read_row(key)
        if row is None:
            return None
        try:
            audio, problem, found = self._load(row)
        except BlobStoreUnavailable as exc:
            self._store_unavailable(exc)
            return None
        if audio is None:
            self._drop_found(row, problem)
            return None
        self.memo.put(self._hot(row, audio.data, found))
        self.hits.touch(key)
        return audio

    def open_file(self, key: str) -> tuple[BinaryIO, CachedFile] | None:
        """A hit as an open binary file (the caller closes it) and what it holds; None for a miss or with
        the cache off. Counts as a hit like `lookup`."""
        if not self.enabled:
            return None
        hot = self.memo.get(key)
        if hot is not None and hot.signature is not None and not hot.row.expired(self.clock()):
            handle = _open(hot.path)
            if handle is not None and file_signature(os.fstat(handle.fileno())) == hot.signature:
                return self._opened_hit(handle, hot)
            if handle is not None:
                handle.close()
            self.memo.pop(key)  # changed or removed by another process: ask the index
        row = self._read_row(key)
        if row is None:
            return None
        if row.expired(self.clock()):
            self._drop_found(row, "expired")
            return None
        try:
            handle, problem = self._open_verified(row)
        except BlobStoreUnavailable as exc:
            self._store_unavailable(exc)
            return None
        if handle is None:
            self._drop_found(row, problem)
            return None
        hot = Hot(row, None, _signature_of(handle), self.store.local_path(row.blob) or "")
        self.memo.put(hot)
        return self._opened_hit(handle, hot)

    def _open_verified(self, row: Row) -> tuple[BinaryIO | None, str]:
        """The blob, open at its start and checked against the row (the checksum of exactly the bytes this
        descriptor will serve, read in chunks: long audio), or why not. A local copy that fails the check
        is fetched again once."""
        for retry in (False, True):
            handle = self.store.open(row.blob)
            if handle is None:
                return None, "file missing"
            if _sha256(handle) == row.checksum:
                handle.seek(0)
                return handle, ""
            handle.close()
            if retry or not self.store.discard_local_copy(row.blob):
                break
        return None, "checksum mismatch (corrupted file)"

    def _opened_hit(self, handle: BinaryIO, hot: Hot) -> tuple[BinaryIO, CachedFile]:
        self.hits.touch(hot.row.key)
        CACHE_LOOKUPS.labels("hit").inc()
        return handle, hot.row.described(hot.path)

    def _serve_hot(self, hot: Hot) -> Clip | None:
        row = hot.row
        if row.expired(self.clock()):
            return None
        if hot.data is not None and hot.signature is not None and signature(hot.path) == hot.signature:
            return Clip(hot.data, row.audio_format, row.sample_rate, row.duration_ms)
        audio, _, found = self._load(row)
        if audio is not None:
            self.memo.put(self._hot(row, audio.data, found))
        return audio

    def _hot(self, row: Row, data: bytes, found: FileSignature | None) -> Hot:
        return Hot(row, data, found, self.store.local_path(row.blob) or "")

    def _load(self, row: Row) -> tuple[Clip | None, str, FileSignature | None]:
        """The entry's audio and the signature of its file, or why not (raises BlobStoreUnavailable). A
        local copy that fails the check is fetched again once."""
        if row.expired(self.clock()):
            return None, "expired", None
        for retry in (False, True):
            handle = self.store.open(row.blob)
            if handle is None:
                return None, "file missing", None
            with handle:
                data, found = handle.read(), _signature_of(handle)  # of exactly the file these bytes came from
            if hashlib.sha256(data).hexdigest() == row.checksum:
                return Clip(data, row.audio_format, row.sample_rate, row.duration_ms), "", found
            if retry or not self.store.discard_local_copy(row.blob):
                break
        return None, "checksum mismatch (corrupted file)", None

    def _read_row(self, key: str) -> Row | None:
        try:
            return self.index.read(key)
        except SQLAlchemyError:
            log.warning("cache index unreadable; serving without cache", exc_info=True)
            return None

    def _drop(self, entries: list[tuple[str, str]]) -> None:
        """Remove index rows, then blobs (a reader that still finds a blob checks it against the index)."""
        if not entries:
            return
        self.memo.pop(*(key for key, _ in entries))
        self.index.delete([key for key, _ in entries])
        for key, audio_format in entries:
            self.store.delete(blob_name(key, audio_format))

    def _drop_found(self, row: Row, problem: str = "broken") -> None:
        """Drop an entry this request found broken (blob gone, damaged, or expired), once: only while its
        row is still the one read (another host may have dropped it, or stored it again, meanwhile), and
        its blob only if this request removed the row. Best effort: the request goes on as a miss."""
        self.memo.pop(row.key)
        try:
            if not self.index.delete_row(row):
                return
            log.info("cache entry %s dropped: %s", row.key, problem)
            self.store.delete(row.blob)
        except (OSError, SQLAlchemyError):  # a blob left behind is an orphan for `prune`
            log.warning("could not drop cache entry %s", row.key, exc_info=True)

    def _store_unavailable(self, exc: BlobStoreUnavailable) -> None:
        """The store could not answer: the request goes on as a miss and the row stays."""
        now = time.monotonic()
        if now - self._unavailable_logged >= _UNAVAILABLE_LOG_SECONDS or not self._unavailable_logged:
            self._unavailable_logged = now
            log.warning("cache blob store unavailable, serving without cache: %s", exc)

    def flush(self) -> None:
        """Write the gathered hit counts and last-use times to the index."""
        self.hits.flush()

    # --- eviction and maintenance (in `maintenance`) -------------------------------------------------

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
        return self.maintenance.enforce_cap()

    def clear(self, provider: str | None = None) -> tuple[int, int]:
        return self.maintenance.clear(provider)

    def prune(self) -> dict[str, int]:
        return self.maintenance.prune()

    def stats(self) -> dict:
        return self.maintenance.stats()

    def totals(self) -> tuple[int, int]:
        """(entries, bytes) in the index: one cheap query, for metrics."""
        return self.index.totals()

    def close(self) -> None:
        with self._writer_lock:
            writer, self._writer = self._writer, None
        if writer is not None:
            writer.shutdown(wait=True)
        self.flush()
        self.locks.close()
        self.store.close()


def _waited_too_long(seconds: float) -> UpstreamError:
    return UpstreamError(
        f"another request has been synthesizing this prompt for over {seconds:g} s", code="provider_timeout"
    )


def _count_wait(started: float) -> None:
    SINGLE_FLIGHT_WAITS.inc()
    SINGLE_FLIGHT_WAIT_SECONDS.observe(time.monotonic() - started)


def _signature_of(handle: BinaryIO) -> FileSignature | None:
    """The signature of an open local file; None for a stream that is not one (nothing to compare later)."""
    try:
        return file_signature(os.fstat(handle.fileno()))
    except (AttributeError, OSError, io.UnsupportedOperation):
        return None


def _sha256(handle: BinaryIO) -> str:
    digest = hashlib.sha256()
    while chunk := handle.read(1 << 20):
        digest.update(chunk)
    return digest.hexdigest()


def _open(path: str) -> BinaryIO | None:
    try:
        return open(path, "rb")
    except FileNotFoundError:
        return None
