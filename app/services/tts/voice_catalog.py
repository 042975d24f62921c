"""`VoiceCatalog.all`: the voices of every usable provider, fetched in parallel, kept in memory for a
short TTL, and served from the last good copy for a while when a provider fails."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from app.errors import ApiError, UpstreamError
from app.services.tts.provider import SpeechProvider, Voice

log = logging.getLogger("app.tts.voices")


@dataclass
class _Copy:
    voices: list[Voice]
    fetched_at: float


class VoiceCatalog:
    def __init__(
        self,
        providers: dict[str, SpeechProvider],
        *,
        ttl_seconds: float,
        stale_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.providers = providers
        self.ttl_seconds = ttl_seconds
        self.stale_seconds = stale_seconds
        self.clock = clock
        self._copies: dict[str, _Copy] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=max(1, len(providers)), thread_name_prefix="voices")

    def all(self) -> dict[str, list[Voice]]:
        """{provider: [voice, ...]} for every configured provider. A provider that fails is served from
        its last good catalog if that is younger than the stale window, else UpstreamError naming it."""
        usable = [slug for slug, provider in self.providers.items() if provider.configured]
        now = self.clock()
        fresh = {
            slug: copy.voices
            for slug in usable
            if (copy := self._copies.get(slug)) and now - copy.fetched_at < self.ttl_seconds
        }
        futures = {slug: self._pool.submit(self.providers[slug].list_voices) for slug in usable if slug not in fresh}
        failures: list[str] = []
        for slug, future in futures.items():
            try:
                voices = future.result()
            except Exception as exc:  # noqa: BLE001 - any failure of one provider is handled the same way
                copy = self._copies.get(slug)
                reason = exc.message if isinstance(exc, ApiError) else type(exc).__name__
                if copy and now - copy.fetched_at < self.stale_seconds:
                    log.warning(
                        "voices of %s unavailable (%s): serving the copy from %.0f s ago",
                        slug,
                        reason,
                        now - copy.fetched_at,
                    )
                    fresh[slug] = copy.voices
                    continue
                failures.append(reason if slug in reason else f"{slug}: {reason}")
                continue
            with self._lock:
                self._copies[slug] = _Copy(voices, self.clock())
            fresh[slug] = voices
        if failures:
            raise UpstreamError("voice catalog unavailable: " + "; ".join(failures), code="provider_error")
        return {slug: fresh[slug] for slug in usable}

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
