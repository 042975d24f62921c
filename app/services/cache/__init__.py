"""The SQL-indexed on-disk synthesis cache."""

from __future__ import annotations

from app.services.cache.keys import synthesis_key
from app.services.cache.synthesis_cache import CachedFile, EntryLabel, SynthesisCache

__all__ = ["CachedFile", "EntryLabel", "SynthesisCache", "synthesis_key"]
