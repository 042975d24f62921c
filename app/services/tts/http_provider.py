"""The providers whose synthesis is one HTTP call answering the audio, or raw PCM for us to convert: each
says how to ask (`ask`); `synthesize` reads the answer in full, `open_stream` relays it as it arrives."""

from __future__ import annotations

from abc import abstractmethod

from app.services.tts import audio
from app.services.tts.audio import Audio
from app.services.tts.audio_stream import AudioStream, stream_of
from app.services.tts.http import AudioAnswer
from app.services.tts.provider import SpeechProvider
from app.services.tts.request import SpeechRequest


class HttpSpeechProvider(SpeechProvider):
    @abstractmethod
    def ask(self, request: SpeechRequest, *, streaming: bool) -> tuple[AudioAnswer, int | None]:
        """The provider's 200 audio answer (any other answer raised as its error), and the rate of the raw
        PCM it was asked for instead of a format it cannot produce itself (None: the asked audio).
        `streaming`: the answer will be relayed as it arrives (a provider may have an endpoint for that)."""

    def synthesize(self, request: SpeechRequest) -> Audio:
        answer, pcm_rate = self.ask(request, streaming=False)
        return audio.as_asked(answer.read(), request.audio_format, request.sample_rate, pcm_rate)

    def open_stream(self, request: SpeechRequest) -> AudioStream:
        answer, pcm_rate = self.ask(request, streaming=True)
        return stream_of(self.slug, answer, request.audio_format, request.sample_rate, pcm_rate)
