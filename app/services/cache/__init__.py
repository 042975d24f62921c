"""The synthesis cache: bytes and their audio metadata under opaque keys, blobs in a store, indexed in SQL."""

from __future__ import annotations

from app.services.cache.entry import AudioMeta, CachedFile, Clip, EntryLabel
from app.services.cache.live import LiveFollower
from app.services.cache.pending import CachedHit, PendingEntry
from app.services.cache.synthesis_cache import SynthesisCache

__all__ = [
    "AudioMeta",
    "CachedFile",
    "CachedHit",
    "Clip",
    "EntryLabel",
    "LiveFollower",
    "PendingEntry",
    "SynthesisCache",
]
