"""Maintenance of the cache, used by the CLI (`flask cache clear|prune|stats`) and by eviction: it walks
the whole index and the whole store, and is kept off the path of a request."""

from __future__ import annotations

import logging
from collections.abc import Callable

from app.services.cache.blobs import BlobStore
from app.services.cache.entry import blob_name
from app.services.cache.index import CacheIndex
from app.settings import CacheSettings

log = logging.getLogger("app.cache")

_STALE_FILE_SECONDS = 3600
_ORPHAN_GRACE_SECONDS = 60  # a blob is written just before its index row: do not race a writer

Drop = Callable[[list[tuple[str, str]]], None]  # (key, audio format) of entries to remove, row first


class CacheMaintenance:
    def __init__(
        self,
        settings: CacheSettings,
        index: CacheIndex,
        store: BlobStore,
        clock: Callable[[], float],
        drop: Drop,
        settle: Callable[[], None],
        flush: Callable[[], None],
        stale_locks: Callable[[float], int],
    ):
        self.settings = settings
        self.index = index
        self.store = store
        self.clock = clock
        self._drop = drop
        self._settle = settle
        self._flush = flush
        self._stale_locks = stale_locks

    def enforce_cap(self) -> tuple[int, int]:
        """Evict least recently used entries until the total size is within CACHE_MAX_BYTES.
        Returns (entries evicted, bytes freed)."""
        cap = self.settings.max_bytes
        if not cap:
            return 0, 0
        self._flush()  # last uses gathered in memory count
        victims = self.index.over_cap(cap)
        self._drop([(key, audio_format) for key, audio_format, _ in victims])
        freed = sum(size for _, _, size in victims)
        if victims:
            log.info("cache over its %d byte cap: evicted %d entries (%d bytes)", cap, len(victims), freed)
        return len(victims), freed

    def clear(self, provider: str | None = None) -> tuple[int, int]:
        """Remove every entry, or those of one provider. Returns (entries, bytes)."""
        self._settle()
        rows = self.index.entries(provider)
        self._drop([(key, audio_format) for key, audio_format, _ in rows])
        if provider is None:
            for name, _ in self.store.names():  # blobs whose index row was lost
                self.store.delete(name)
        return len(rows), sum(size for _, _, size in rows)

    def prune(self) -> dict[str, int]:
        """Expired entries, entries whose blob is gone, blobs without an entry, leftovers of crashed
        writes, and whatever is over the size cap."""
        self._settle()
        now = self.clock()
        rows = self.index.expiries()  # before listing the blobs: a row's blob was written before it
        blobs = dict(self.store.names())
        expired = [(k, f) for k, f, expires in rows if expires is not None and expires <= now]
        expired_keys = {k for k, _ in expired}
        missing = [(k, f) for k, f, _ in rows if k not in expired_keys and blob_name(k, f) not in blobs]
        self._drop(expired + missing)
        indexed = {blob_name(k, f) for k, f, _ in rows}
        orphans = 0
        for name, modified in blobs.items():
            if name not in indexed and modified < now - _ORPHAN_GRACE_SECONDS:
                self.store.delete(name)
                orphans += 1
        evicted, freed = self.enforce_cap()
        return {
            "expired": len(expired),
            "missing_files": len(missing),
            "orphan_files": orphans,
            "evicted": evicted,
            "evicted_bytes": freed,
            "temp_files": self.store.remove_stale_temp_files(_STALE_FILE_SECONDS),
            "lock_files": self._stale_locks(_STALE_FILE_SECONDS),
        }

    def stats(self) -> dict:
        self._settle()
        summary = self.index.summary(self.clock())
        return {
            "enabled": self.settings.enabled,
            "path": str(self.settings.path),
            "entries": summary["entries"],
            "bytes": summary["bytes"],
            "hits": summary["hits"],
            "expired": summary["expired"],
            "max_bytes": self.settings.max_bytes,
            "ttl_seconds": self.settings.ttl_seconds,
            "oldest": summary["oldest"],
            "newest": summary["newest"],
            "providers": summary["providers"],
        }
