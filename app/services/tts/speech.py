"""`SpeechService.speak`: validate a speech order, apply defaults and pronunciations, and serve it from
the synthesis cache or the provider."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from app.errors import BadRequest
from app.services.cache import AudioMeta, CachedFile, CachedHit, EntryLabel, LiveFollower, SynthesisCache
from app.services.tts import audio
from app.services.tts.audio import Audio, UnsupportedAudio
from app.services.tts.keys import synthesis_key
from app.services.tts.measured import MeasuredStream, measured_synthesis
from app.services.tts.provider import SpeechProvider
from app.services.tts.registry import canonical_slug
from app.services.tts.request import SpeechOrder, SpeechRequest, TextTooLong, apply_pronunciations
from app.services.tts.speech_stream import CachingChunks, FollowedChunks, StreamedSpeech


@dataclass(frozen=True)
class PreparedSpeech:
    """A validated, resolved request and its cache key: everything `deliver` needs."""

    provider: SpeechProvider
    request: SpeechRequest
    cache_key: str


@dataclass(frozen=True)
class SpeechResult:
    audio: Audio
    request: SpeechRequest
    cached: bool
    cache_key: str


@dataclass(frozen=True)
class CachedSpeech:
    """A cache hit as an open file, for answers that send the audio itself: whoever sends `file` closes it."""

    file: BinaryIO
    entry: CachedFile
    request: SpeechRequest
    cache_key: str


class SpeechService:
    def __init__(
        self,
        default_provider: str,
        providers: dict[str, SpeechProvider],
        cache: SynthesisCache,
    ):
        self.default_provider = default_provider
        self.providers = providers
        self.cache = cache

    def resolve(self, order: SpeechOrder) -> tuple[SpeechProvider, SpeechRequest]:
        """The provider and the fully resolved request, or BadRequest naming what is wrong."""
        if not _speakable(order.text):
            raise BadRequest("Text cannot be empty", code="empty_text")
        slug = canonical_slug(order.provider or self.default_provider)
        provider = self.providers.get(slug)
        if provider is None:
            raise BadRequest(
                f"Unsupported provider: {slug} (expected one of {', '.join(self.providers)})",
                code="unsupported_provider",
            )
        provider.check_auth(order.auth)
        try:
            audio_format = audio.canonical_format(order.audio_format or audio.DEFAULT_FORMAT)
            sample_rate = order.sample_rate or audio.default_rate(audio_format)
            audio.check_rate(audio_format, sample_rate)
        except UnsupportedAudio as exc:
            raise BadRequest(str(exc), code="unsupported_audio_format") from None
        voice_id, model = provider.resolve_voice(order.voice_id or None, order.model or None)
        limit = provider.text_limit(model)
        try:
            text = apply_pronunciations(order.text, order.pronunciations, limit)
        except TextTooLong as exc:
            raise provider.text_too_long(exc.length, limit, model) from None
        request = SpeechRequest(
            text=text,
            provider=slug,
            voice_id=voice_id,
            model=model,
            audio_format=audio_format,
            sample_rate=sample_rate,
            speaking_rate=1.0 if order.speaking_rate is None else float(order.speaking_rate),
            voice_settings=dict(order.voice_settings or {}),
            auth=dict(order.auth),
            connect_timeout=order.connect_timeout,
            request_timeout=order.request_timeout,
        )
        provider.check(request)
        return provider, request

    def prepare(self, order: SpeechOrder) -> PreparedSpeech:
        provider, request = self.resolve(order)
        return PreparedSpeech(provider, request, synthesis_key(request))

    def deliver(self, prepared: PreparedSpeech) -> SpeechResult:
        """The audio from the cache, or from the provider (once per key at a time) and then cached."""
        request = prepared.request
        label = EntryLabel(provider=request.provider, voice_id=request.voice_id, model=request.model)
        clip, cached = self.cache.get_or_synthesize(
            prepared.cache_key,
            label,
            lambda: measured_synthesis(prepared.provider, request),
            deadline=request.request_timeout,  # a request may shorten the wait for another's synthesis
        )
        result = Audio(clip.data, clip.audio_format, clip.sample_rate, clip.duration_ms)
        return SpeechResult(result, request, cached, prepared.cache_key)

    def deliver_file(self, prepared: PreparedSpeech) -> CachedSpeech | SpeechResult:
        """A hit as the cached file, opened (never read here); a miss as `deliver` answers it."""
        return self.cached_file(prepared) or self.deliver(prepared)

    def deliver_stream(self, prepared: PreparedSpeech) -> CachedSpeech | SpeechResult | StreamedSpeech:
        """A hit as its cached file; a miss as the provider speaks it (once per key at a time, across the
        fleet), answered from its first chunk, so errors before any audio are raised here. A synthesis known
        whole at once (a buffered provider or conversion) is answered whole, with its length and checksum."""
        hit = self.cached_file(prepared)
        if hit is not None:
            return hit
        request, key = prepared.request, prepared.cache_key
        content_type = audio.CONTENT_TYPES[request.audio_format]
        label = EntryLabel(provider=request.provider, voice_id=request.voice_id, model=request.model)
        # waiting for another's synthesis is bounded like our own (the cache caps it at TTS_REQUEST_TIMEOUT_SECONDS)
        began = self.cache.begin(key, label, deadline=request.request_timeout)
        if isinstance(began, CachedHit):
            return CachedSpeech(began.file, began.entry, request, key)
        if isinstance(began, LiveFollower):
            clip = began.whole()  # the leader already has it all: answered whole, with its length and ETag
            if clip is not None:
                return SpeechResult(
                    Audio(clip.data, clip.audio_format, clip.sample_rate, clip.duration_ms), request, True, key
                )
            followed = iter(began)
            first = _first_chunk(followed)
            return StreamedSpeech(FollowedChunks(first, followed), content_type, request, True, key)
        pending = began  # we lead (or the cache is off): the entry is ours to fill, then commit or abort
        try:
            stream = MeasuredStream(prepared.provider, request)
            first = _first_chunk(stream)
            pending.write(first)
            if stream.stream.whole is None:
                chunks = CachingChunks(first, stream, pending, self.cache.commit_later)
                return StreamedSpeech(chunks, content_type, request, False, key)
            for chunk in stream:  # the end of a whole answer: counted, nothing more to write
                pending.write(chunk)
            result = stream.stream.audio()
            self.cache.commit_later(pending, AudioMeta(result.audio_format, result.sample_rate, result.duration_ms))
        except Exception as exc:
            pending.abort(exc)
            raise
        return SpeechResult(result, request, False, key)

    def cached_file(self, prepared: PreparedSpeech) -> CachedSpeech | None:
        """The cached file of a hit, opened (never read here), or None on a miss."""
        opened = self.cache.open_file(prepared.cache_key)
        if opened is None:
            return None
        return CachedSpeech(opened[0], opened[1], prepared.request, prepared.cache_key)

    def speak(self, order: SpeechOrder) -> SpeechResult:
        return self.deliver(self.prepare(order))

    def close(self) -> None:
        for provider in self.providers.values():
            provider.close()


def _speakable(text: str | None) -> bool:
    """Whether `text` has anything to say: not only whitespace and control or format characters (which no
    voice speaks: espeak answers them with no audio at all, which would be a provider error)."""
    return any(not char.isspace() and unicodedata.category(char)[0] != "C" for char in text or "")


def _first_chunk(chunks: Iterator[bytes]) -> bytes:
    """The first audio of a stream (a stream that ends without any failed its end check and raised)."""
    first = next(chunks, None)
    if first is None:
        raise RuntimeError("a speech stream ended without audio")
    return first
