"""A provider stream is counted once, when it ends, by how it ended (`sayna_provider_requests_total`)."""

from __future__ import annotations

import pytest

from app.errors import UpstreamError
from app.services.metrics.instruments import REGISTRY
from app.services.tts.audio_stream import AudioStream
from app.services.tts.measured import MeasuredStream
from app.services.tts.provider import SpeechProvider
from app.services.tts.request import SpeechRequest

PCM = b"\x01\x00" * 4800


class StreamingProvider(SpeechProvider):
    slug = "measured-test"

    def __init__(self, chunks):
        self.chunks = chunks

    def synthesize(self, request):
        raise NotImplementedError

    def list_voices(self):
        return []

    def open_stream(self, request):
        return AudioStream(self.slug, "linear16", 24_000, chunks=self.chunks())


def _count(outcome: str) -> float:
    labels = {"provider": StreamingProvider.slug, "outcome": outcome}
    return REGISTRY.get_sample_value("sayna_provider_requests_total", labels) or 0.0


def _request() -> SpeechRequest:
    return SpeechRequest(
        text="Hi", provider=StreamingProvider.slug, voice_id="v", model="m", audio_format="linear16", sample_rate=24_000
    )


def test_a_stream_read_to_its_end_is_counted_ok_once():
    ok, abandoned = _count("ok"), _count("abandoned")
    stream = MeasuredStream(StreamingProvider(lambda: iter([PCM[:4800], PCM[4800:]])), _request())
    assert b"".join(stream) == PCM
    stream.close()
    assert (_count("ok"), _count("abandoned")) == (ok + 1, abandoned)


def test_a_stream_left_before_its_end_is_counted_abandoned():
    before = _count("abandoned")
    stream = MeasuredStream(StreamingProvider(lambda: iter([PCM[:4800], PCM[4800:]])), _request())
    next(stream)
    stream.close()
    assert _count("abandoned") == before + 1


def test_a_stream_failing_midway_is_counted_by_its_error_code():
    def broken():
        yield PCM[:4800]
        raise UpstreamError("cut", code="provider_error")

    before = _count("provider_error")
    stream = MeasuredStream(StreamingProvider(broken), _request())
    with pytest.raises(UpstreamError):
        b"".join(stream)
    stream.close()
    assert _count("provider_error") == before + 1
