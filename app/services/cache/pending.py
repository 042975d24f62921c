"""The write side of a miss: the leader's `PendingEntry` (a temp file in the cache directory, published to
the followers chunk by chunk as it is written) and the other outcomes of `SynthesisCache.begin`.

Nothing is ever half-written into the store or the index: the bytes go to a temp file, which is fsynced
and published into the store atomically, and only then is the index row written. A crash leaves at most
a temp file (removed by `prune`) or a blob without a row (removed by `prune` after a grace period).
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Protocol

from sqlalchemy.exc import SQLAlchemyError

from app.errors import UpstreamError
from app.services.cache.blobs import BlobStore
from app.services.cache.entry import AudioMeta, CachedFile, EntryLabel, Row, blob_name
from app.services.cache.flight import Release
from app.services.cache.live import Flight
from app.services.cache.memo import MAX_ENTRY_BYTES

log = logging.getLogger("app.cache")


@dataclass(frozen=True)
class CachedHit:
    """Someone committed the entry (maybe while we waited): serve `file` (the caller closes it), as
    `open_file` hands it out."""

    file: BinaryIO
    entry: CachedFile


class Storage(Protocol):
    """Where a committed entry goes (the cache): its store, its clock, and the index row and memo."""

    store: BlobStore
    clock: Callable[[], float]

    def expiry(self, now: float) -> float | None: ...

    def record(self, row: Row, label: EntryLabel, data: bytes | None) -> CachedFile:
        """Write the index row (the blob is in the store) and remember the entry; `data` when at hand."""
        ...


class PendingEntry:
    """We lead: we hold the key's lock. `write` chunks, then `commit` or `abort` (leaving a `with` block
    without committing aborts). Any thread may commit or abort, once."""

    def __init__(
        self,
        key: str,
        label: EntryLabel,
        flight: Flight | None,
        release: Release | None,
        storage: Storage | None,
    ):
        self.key = key
        self.label = label
        self._flight = flight
        self._release = release
        self._storage = storage  # None: nothing is stored (the cache is off, or could not lock the key)
        self._temp: Path | None = None
        self._handle: BinaryIO | None = None
        self._digest = hashlib.sha256()
        self._size = 0
        self._storable = storage is not None
        self._ended = False

    @property
    def size(self) -> int:
        return self._size

    def write(self, chunk: bytes) -> None:
        """Append to the temp file and publish to the followers. A cache that cannot write must not fail
        the request: the chunk still reaches the followers, and nothing will be stored."""
        if self._ended:
            raise RuntimeError("this entry was already committed or aborted")
        if not chunk:
            return
        if self._storable:
            try:
                if self._handle is None:
                    assert self._storage is not None
                    self._temp = self._storage.store.temp_path(self.key)
                    self._handle = open(self._temp, "wb")
                self._handle.write(chunk)
            except OSError:
                log.warning("could not write cache entry %s; it will not be stored", self.key, exc_info=True)
                self._discard_temp()
                self._storable = False
        self._digest.update(chunk)
        self._size += len(chunk)
        if self._flight is not None:
            self._flight.publish(chunk)

    def seal(self, meta: AudioMeta) -> None:
        """Nothing more will be written: followers arriving from now on may take the whole audio at once."""
        if self._flight is not None:
            self._flight.seal(meta)

    def commit(self, meta: AudioMeta, stored_at: float | None = None) -> CachedFile | None:
        """fsync, publish into the store atomically, write the index row and the memo, then let the lock
        go. The committed entry, or None when nothing could be stored (logged; nothing half-written).
        `stored_at`: the entry's creation time when it is not now (a commit deferred to a writer thread)."""
        if self._ended:
            raise RuntimeError("this entry was already committed or aborted")
        self._ended = True
        entry = None
        try:
            entry = self._store_entry(meta, stored_at)
        finally:
            if self._flight is not None:
                self._flight.finish(entry, meta)
            self._let_go()
        return entry

    def _store_entry(self, meta: AudioMeta, stored_at: float | None) -> CachedFile | None:
        if not self._storable or self._handle is None or self._temp is None:
            self._discard_temp()
            return None
        storage = self._storage
        assert storage is not None
        name = blob_name(self.key, meta.audio_format)
        try:
            self._handle.flush()
            os.fsync(self._handle.fileno())
            self._handle.close()
            self._handle = None
            storage.store.put_file(name, self._temp)  # consumes the temp file
            self._temp = None
            now = storage.clock() if stored_at is None else stored_at
            row = Row(
                self.key,
                self.label.provider,
                meta.audio_format,
                meta.sample_rate,
                self._size,
                meta.duration_ms,
                self._digest.hexdigest(),
                storage.expiry(now),
                now,
            )
            small = self._flight is not None and self._size <= MAX_ENTRY_BYTES
            data = b"".join(self._flight.chunks) if small and self._flight is not None else None
            return storage.record(row, self.label, data)
        except (OSError, SQLAlchemyError):
            log.warning("could not store cache entry %s", self.key, exc_info=True)
            self._discard_temp()
            return None

    def abort(self, error: BaseException | None = None) -> None:
        """Remove the temp file, hand `error` to the followers, let the lock go. Nothing is stored."""
        if self._ended:
            return
        self._ended = True
        self._discard_temp()
        if self._flight is not None:
            self._flight.fail(error or UpstreamError("the synthesis of this prompt was abandoned"))
        self._let_go()

    def _discard_temp(self) -> None:
        if self._handle is not None:
            try:
                self._handle.close()
            except OSError:
                pass
            self._handle = None
        if self._temp is not None:
            self._temp.unlink(missing_ok=True)
            self._temp = None

    def _let_go(self) -> None:
        release, self._release = self._release, None
        if release is not None:
            release()

    def __enter__(self) -> PendingEntry:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if not self._ended:
            self.abort(error if isinstance(error, Exception) else None)
