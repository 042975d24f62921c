"""Maintenance of the cache, used by the CLI (`flask cache clear|prune|stats`) and by eviction: it walks
the whole index and the whole store, and is kept off the path of a request."""

from __future__ import annotations

import logging
from collections.abc import Callable

from app.services.cache.blobs import BlobStore
from app.services.cache.entry import blob_name
from app.services.cache.index import CacheIndex
from app.services.cache.local_copies import LocalCopies
from app.settings import CacheSettings

log = logging.getLogger("app.cache")

_STALE_FILE_SECONDS = 3600

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
        # not listed, and really absent (asked one by one: a listing is not the last word of every store)
        missing = [
            (k, f)
            for k, f, _ in rows
            if k not in expired_keys and blob_name(k, f) not in blobs and self.store.stat(blob_name(k, f)) is None
        ]
        self._drop(expired + missing)
        indexed = {blob_name(k, f) for k, f, _ in rows}
        orphans = 0
        # A blob is written just before its row: one without a row is left alone for the grace period (with
        # a shared store, its age is by the store's clock: the period also covers the hosts' clock skew).
        grace = self.settings.orphan_grace_seconds
        for name, modified in blobs.items():
            if name not in indexed and modified < now - grace:
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
        settings = self.settings
        if settings.shared:
            store = f"s3://{settings.s3_bucket}/{settings.s3_prefix}/"
            local = {
                "bytes": LocalCopies(settings.path, settings.local_max_bytes).size(),
                "max_bytes": settings.local_max_bytes,
            }
        else:
            store, local = str(settings.path), None
        return {
            "enabled": self.settings.enabled,
            "backend": settings.backend,
            "store": store,
            "path": str(self.settings.path),
            "local_copy": local,  # with a shared store: this host's copies under `path`
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
