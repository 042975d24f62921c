"""What the cache stores and hands out: bytes with their audio metadata, an entry's label and index row.

The cache knows nothing of speech synthesis: a key is an opaque string chosen by the caller, the bytes
are whatever the caller produced, and the metadata is what a hit needs to be answered.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

# File extensions by audio format, as the blobs are named in the store (and on disk under CACHE_PATH).
_EXTENSIONS = {"linear16": "pcm", "wav": "wav", "mp3": "mp3", "ogg": "ogg", "mulaw": "ulaw", "flac": "flac"}


def blob_name(key: str, audio_format: str) -> str:
    """The name of an entry's blob in the store: its key and its format's extension."""
    return f"{key}.{_EXTENSIONS.get(audio_format, audio_format)}"


@dataclass(frozen=True)
class EntryLabel:
    """What the index records about an entry besides its audio."""

    provider: str
    voice_id: str
    model: str


@dataclass(frozen=True)
class AudioMeta:
    """What a hit needs besides the bytes to be answered."""

    audio_format: str
    sample_rate: int
    duration_ms: int


class AudioLike(Protocol):
    """What a producer hands the cache: bytes and their metadata (the TTS `Audio` is one)."""

    @property
    def data(self) -> bytes: ...
    @property
    def audio_format(self) -> str: ...
    @property
    def sample_rate(self) -> int: ...
    @property
    def duration_ms(self) -> int: ...


@dataclass(frozen=True)
class Clip:
    """Bytes with their metadata, as the cache hands them back."""

    data: bytes
    audio_format: str
    sample_rate: int
    duration_ms: int

    @classmethod
    def of(cls, audio: AudioLike) -> Clip:
        return cls(audio.data, audio.audio_format, audio.sample_rate, audio.duration_ms)

    @property
    def meta(self) -> AudioMeta:
        return AudioMeta(self.audio_format, self.sample_rate, self.duration_ms)


@dataclass(frozen=True)
class CachedFile:
    """A verified hit on disk, as `open_file` hands it out with the open file."""

    path: str  # local file holding exactly the entry's verified bytes
    size: int
    checksum: str  # sha256 hex of the bytes (used as the ETag)
    created_at: float  # unix seconds the entry was stored (Last-Modified)
    audio_format: str
    sample_rate: int
    duration_ms: int


@dataclass(frozen=True)
class Row:
    """An index row, as the request path reads it."""

    key: str
    provider: str
    audio_format: str
    sample_rate: int
    size_bytes: int
    duration_ms: int
    checksum: str
    expires_at: float | None  # unix seconds
    created_at: float

    @property
    def blob(self) -> str:
        return blob_name(self.key, self.audio_format)

    def expired(self, now: float) -> bool:
        return self.expires_at is not None and self.expires_at <= now

    def described(self, path: str) -> CachedFile:
        return CachedFile(
            path, self.size_bytes, self.checksum, self.created_at, self.audio_format, self.sample_rate, self.duration_ms
        )
