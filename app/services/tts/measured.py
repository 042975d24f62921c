"""Provider calls counted and timed by outcome (`sayna_provider_requests_total`,
`sayna_provider_request_duration_seconds`): `ok`, our error code (a bounded set), `internal_error`, or for a
stream nobody read to its end, `abandoned`."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from app.errors import ApiError
from app.services.metrics.instruments import PROVIDER_DURATION, PROVIDER_REQUESTS
from app.services.tts.audio import Audio
from app.services.tts.audio_stream import AudioStream
from app.services.tts.provider import SpeechProvider
from app.services.tts.request import SpeechRequest


class ProviderCall:
    """One call, counted once: by its first outcome."""

    def __init__(self, provider: SpeechProvider):
        self.slug = provider.slug
        self._started = time.perf_counter()
        self._counted = False

    @contextmanager
    def failures_counted(self) -> Iterator[None]:
        try:
            yield
        except ApiError as exc:
            self.count(exc.code)
            raise
        except Exception:
            self.count("internal_error")
            raise

    def count(self, outcome: str) -> None:
        if self._counted:
            return
        self._counted = True
        PROVIDER_DURATION.labels(self.slug).observe(time.perf_counter() - self._started)
        PROVIDER_REQUESTS.labels(self.slug, outcome).inc()


def measured_synthesis(provider: SpeechProvider, request: SpeechRequest) -> Audio:
    """The provider's whole audio, verified, counted."""
    call = ProviderCall(provider)
    with call.failures_counted():
        result = provider.synthesize_checked(request)
    call.count("ok")
    return result


class MeasuredStream:
    """An opened provider stream (errors before any audio are raised here), counted when it ends."""

    def __init__(self, provider: SpeechProvider, request: SpeechRequest):
        self._call = ProviderCall(provider)
        with self._call.failures_counted():
            self.stream: AudioStream = provider.open_stream(request)
        self._chunks = iter(self.stream)

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        with self._call.failures_counted():
            try:
                return next(self._chunks)
            except StopIteration:
                self._call.count("ok")
                raise

    def close(self) -> None:
        self.stream.close()
        self._call.count("abandoned")
