"""A synthesis as it arrives: the provider's audio in chunks, already in the asked format and rate, checked
on the way (the container's head on the first bytes, the whole audio at the end) exactly as a buffered
answer is checked, so a consumer that relays the chunks learns at the end, at the latest, that what it
relayed was not usable audio.

The stream keeps the chunks it yielded: `audio()` is the whole `Audio` a buffered synthesis gives, which
the cache stores and the end check needs anyway.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Protocol

from app.errors import UpstreamError
from app.services.tts import audio
from app.services.tts.audio import Audio, BrokenAudio
from app.services.tts.stream_converters import STREAMABLE, convert_pcm


def unusable(provider: str, exc: BrokenAudio) -> UpstreamError:
    """What a provider's answer that is not the asked audio becomes, for a stream or a buffered call."""
    return UpstreamError(f"{provider} answered with unusable audio: {exc}", code="provider_error")


class AudioStream:
    """One synthesis, iterated once: `chunks` (an iterable the provider layer reads from the network,
    raising our errors) and the `release` that frees what it holds (the connection); or, `buffered`, the
    complete audio (`whole`), known before the first chunk."""

    def __init__(
        self,
        provider: str,
        audio_format: str,
        sample_rate: int,
        *,
        chunks: Iterable[bytes],
        release: Callable[[], None] | None = None,
    ):
        self.provider = provider
        self.audio_format = audio_format
        self.sample_rate = sample_rate
        self.content_type = audio.CONTENT_TYPES[audio_format]
        self.whole: bytes | None = None
        self._chunks = chunks
        self._release = release
        self._started = False
        self._closed = False
        self._audio: Audio | None = None

    @classmethod
    def buffered(cls, provider: str, result: Audio) -> AudioStream:
        """A stream of audio already complete and verified: one chunk, `whole` set, `audio()` is `result`."""
        stream = cls(provider, result.audio_format, result.sample_rate, chunks=(result.data,))
        stream.whole = result.data
        stream._audio = result
        return stream

    def __iter__(self) -> Iterator[bytes]:
        if self._started:
            raise RuntimeError("an AudioStream is iterated once")
        self._started = True
        try:
            yield from self._checked()
        finally:
            self.close()

    def _checked(self) -> Iterator[bytes]:
        if self.whole is not None:
            yield self.whole
            return
        parts: list[bytes] = []
        held: bytes | None = b""  # the first bytes, until the container's head can be judged
        try:
            for chunk in self._chunks:
                if not chunk:
                    continue
                if held is not None:
                    held += chunk
                    if not audio.head_is_complete(held, self.audio_format, self.sample_rate):
                        continue
                    chunk, held = held, None
                parts.append(chunk)
                yield chunk
            if held:  # a body shorter than a container's head: judged whole before any of it goes out
                parts.append(held)
            result = audio.measured(b"".join(parts), self.audio_format, self.sample_rate)
            audio.verify(result, self.audio_format, self.sample_rate)
        except BrokenAudio as exc:
            raise unusable(self.provider, exc) from None
        if held:
            yield held
        self._audio = result

    def audio(self) -> Audio:
        """The whole audio, once the stream was iterated to its end."""
        if self._audio is None:
            raise RuntimeError("the stream was not iterated to its end")
        return self._audio

    def close(self) -> None:
        """Release the connection (idempotent; mid-stream it abandons the rest of the audio)."""
        if self._closed:
            return
        self._closed = True
        if self._release is not None:
            self._release()

    def __enter__(self) -> AudioStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Body(Protocol):
    """An audio body on the wire (`http.AudioAnswer`)."""

    @property
    def content_length(self) -> int | None: ...

    def chunks(self) -> Iterator[bytes]: ...

    def read(self) -> bytes: ...

    def close(self) -> None: ...


def stream_of(provider: str, body: Body, audio_format: str, rate: int, pcm_rate: int | None = None) -> AudioStream:
    """The stream of a provider's audio body: as it arrives when it is `audio_format` at `rate` already
    (`pcm_rate` None); converted as it arrives from raw PCM at `pcm_rate` where the format can be encoded
    as a stream; else read in full and converted (`whole` set)."""
    if pcm_rate is None:
        return AudioStream(provider, audio_format, rate, chunks=body.chunks(), release=body.close)
    if audio_format in STREAMABLE:
        chunks = convert_pcm(body.chunks(), pcm_rate, audio_format, rate, body.content_length)
        return AudioStream(provider, audio_format, rate, chunks=chunks, release=body.close)
    try:
        result = audio.from_pcm(body.read(), pcm_rate, audio_format, rate)
        audio.verify(result, audio_format, rate)
    except BrokenAudio as exc:
        raise unusable(provider, exc) from None
    return AudioStream.buffered(provider, result)
