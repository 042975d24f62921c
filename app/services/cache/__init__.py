"""The SQL-indexed on-disk synthesis cache."""

from __future__ import annotations

from app.services.cache.keys import synthesis_key
from app.services.cache.synthesis_cache import EntryLabel, SynthesisCache

__all__ = ["EntryLabel", "SynthesisCache", "synthesis_key"]
