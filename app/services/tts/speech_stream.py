"""A cache miss answered while the provider speaks: its chunks go to the caller as they arrive and into the
cache's pending entry, which is committed only when the whole audio arrived and passed the same checks as
a buffered answer. A caller who hangs up does not waste the synthesis: the rest is read into the cache
(within the provider's deadline) when the answer is closed."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from app.errors import ApiError
from app.services.cache import AudioMeta, PendingEntry
from app.services.tts.audio_stream import AudioStream
from app.services.tts.measured import MeasuredStream
from app.services.tts.request import SpeechRequest

log = logging.getLogger("app.tts.speech")


class SpeechChunks:
    """The audio of a streamed answer: iterate it once, then close it (the WSGI server does both)."""

    def __iter__(self) -> Iterator[bytes]:
        raise NotImplementedError

    def close(self) -> None:  # noqa: B027 - nothing to release by default
        pass


@dataclass(frozen=True)
class StreamedSpeech:
    """A miss whose audio is still arriving (its length and checksum are not known yet). The first chunk
    has arrived: errors before any audio were raised instead."""

    chunks: SpeechChunks
    content_type: str
    request: SpeechRequest
    cached: bool  # another request's synthesis, followed as it is written
    cache_key: str


class FollowedChunks(SpeechChunks):
    """Another request's synthesis in this process, relayed as it is written (the cache's live entry)."""

    def __init__(self, first: bytes, rest: Iterator[bytes]):
        self._first, self._rest = first, rest

    def __iter__(self) -> Iterator[bytes]:
        yield self._first
        yield from self._rest


class CachingChunks(SpeechChunks):
    """The leader's chunks to its caller, each also written to the pending entry, committed at the end."""

    def __init__(
        self,
        first: bytes,
        stream: MeasuredStream,
        pending: PendingEntry,
        commit: Callable[[PendingEntry, AudioMeta], None],
    ):
        self._first, self._stream, self._pending, self._commit = first, stream, pending, commit
        self._ended = False

    def __iter__(self) -> Iterator[bytes]:
        yield self._first
        yield from self._rest()

    def _rest(self) -> Iterator[bytes]:
        try:
            for chunk in self._stream:
                self._pending.write(chunk)
                yield chunk
        except Exception as exc:  # not GeneratorExit: a suspended generator is closed after `close` drained it
            self._ended = True
            self._pending.abort(exc)
            raise
        self._ended = True
        self._commit(self._pending, _meta(self._stream.stream))

    def close(self) -> None:
        """After the last chunk, nothing to do; before it (the caller hung up), read the rest into the cache."""
        if not self._ended:
            try:
                for _ in self._rest():
                    pass
            except ApiError as exc:
                log.warning("abandoned speech stream failed; nothing cached: %s", exc.message)
            except Exception:
                log.exception("abandoned speech stream failed; nothing cached")
        self._stream.close()


def _meta(stream: AudioStream) -> AudioMeta:
    audio = stream.audio()
    return AudioMeta(audio.audio_format, audio.sample_rate, audio.duration_ms)
